"""The import page's form: the source, the file, and how to read it (column and mood mappings, date format,
time zone), written one `NAME=VALUE` a line as on the command line."""

from __future__ import annotations

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from alongside.interop.models import ImportSource
from alongside.interop.readers import CSV_FIELDS, FileProblem, Options, mood_map_from, parse_pairs


class ImportForm(forms.Form):
    source = forms.ChoiceField(label=_("Where the file comes from"), choices=ImportSource.choices,
                               widget=forms.RadioSelect, initial=ImportSource.DAYLIO)  # fmt: skip
    file = forms.FileField(label=_("The exported file (CSV or TSV)"), required=False)
    mood_map = forms.CharField(
        label=_("Daylio moods (one LABEL=VALUE a line, 0 to 10)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Only for moods you renamed in Daylio; rad 9, good 7, meh 5, bad 3 and awful 1 are known."),
    )
    mapping = forms.CharField(
        label=_("Columns (one FIELD=COLUMN a line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=format_lazy(_("For your own CSV: fields are {fields}."), fields=", ".join(CSV_FIELDS)),
    )
    date_format = forms.CharField(label=_("Date format (for example %d/%m/%Y %H:%M)"), required=False, max_length=60)
    tz = forms.CharField(label=_("Time zone of the file's times (empty: mine)"), required=False, max_length=64)
    run = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def options(self) -> Options:
        """The reading options, or the form's errors beside the field at fault (raises FileProblem)."""
        data = self.cleaned_data
        try:
            return Options(
                mapping=parse_pairs(data["mapping"].splitlines(), what="mapping"),
                mood_map=mood_map_from(parse_pairs(data["mood_map"].splitlines(), what="mood_map")),
                date_format=data["date_format"].strip(),
                tz=data["tz"].strip(),
                delimiter="\t" if getattr(data.get("file"), "name", "").lower().endswith(".tsv") else "",
            )
        except FileProblem as problem:
            self.add_error(problem.field if problem.field in self.fields else None, problem.message)
            raise
