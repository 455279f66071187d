from django import forms
from django.utils.translation import gettext_lazy as _

from alongside.monitoring.models import Medication

SCALE_CHOICES = [(value, str(value)) for value in range(11)]


def scale(label, *, required: bool = False, help_text: str = "") -> forms.TypedChoiceField:
    """A 0 to 10 scale as a row of buttons to tap."""
    return forms.TypedChoiceField(
        label=label,
        help_text=help_text,
        choices=SCALE_CHOICES,
        coerce=int,
        required=required,
        empty_value=None,
        widget=forms.RadioSelect(attrs={"class": "scale"}),
    )


class CheckInForm(forms.Form):
    """Only the fields the member's program asks about are kept; mood is always there."""

    mood = scale(
        _("How is your mood right now?"), required=True, help_text=_("0 is the worst you have felt, 10 the best.")
    )
    anxiety = scale(_("Anxiety (0 none, 10 extreme)"))
    energy = scale(_("Energy (0 none, 10 plenty)"))
    sleep_hours = forms.DecimalField(
        label=_("Hours of sleep last night"),
        min_value=0,
        max_value=24,
        decimal_places=2,
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.5"}),
    )
    sleep_quality = scale(_("Sleep quality (0 awful, 10 great)"))
    medication = forms.ChoiceField(
        label=_("Medication today"),
        choices=[("", _("Skip")), *Medication.choices],
        required=False,
        widget=forms.RadioSelect,
    )
    cravings = scale(_("Cravings or urges (0 none, 10 overwhelming)"))
    warning_signs = forms.MultipleChoiceField(
        label=_("Any of your warning signs?"), required=False, widget=forms.CheckboxSelectMultiple
    )
    activities = forms.MultipleChoiceField(
        label=_("What did you do?"), required=False, widget=forms.CheckboxSelectMultiple
    )
    note = forms.CharField(
        label=_("A short note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, fields: list[str], activities, warning_signs, **kwargs):
        super().__init__(*args, **kwargs)
        for name in list(self.fields):
            if name not in fields:
                del self.fields[name]
        if "activities" in self.fields:
            self.fields["activities"].choices = [(tag.label, tag.label) for tag in activities]
        if "warning_signs" in self.fields:
            self.fields["warning_signs"].choices = [(tag.label, tag.label) for tag in warning_signs]
            if not warning_signs:
                del self.fields["warning_signs"]

    def more_fields(self):
        return [self[name] for name in self.fields if name != "mood"]


class QuestionnaireForm(forms.Form):
    """One radio group per item, worded exactly as the instrument file says."""

    def __init__(self, *args, instrument, **kwargs):
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        choices = [(option.score, option.label) for option in instrument.options]
        for item in instrument.items:
            self.fields[f"item_{item.number}"] = forms.TypedChoiceField(
                label=f"{item.number}. {item.text}",
                choices=choices,
                coerce=int,
                required=False,
                empty_value=None,
                widget=forms.RadioSelect,
            )

        if instrument.followup:
            self.fields["followup"] = forms.ChoiceField(
                label=instrument.followup.text,
                choices=[(option.label, option.label) for option in instrument.followup.options],
                required=False,
                widget=forms.RadioSelect,
            )

    def answers(self) -> dict[int, int]:
        return {
            item.number: self.cleaned_data[f"item_{item.number}"]
            for item in self.instrument.items
            if self.cleaned_data.get(f"item_{item.number}") is not None
        }


class JournalForm(forms.Form):
    prompt = forms.ChoiceField(label=_("A prompt, if it helps"), required=False)
    text = forms.CharField(label=_("Your entry"), widget=forms.Textarea(attrs={"rows": 10}), max_length=20_000)
    shared_with = forms.MultipleChoiceField(
        label=_("Share this entry with"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Entries are private unless you choose someone here."),
    )

    def __init__(self, *args, prompts, relationships, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["prompt"].choices = [("", _("No prompt")), *[(str(p), str(p)) for p in prompts]]
        from alongside.care.models import Category

        choices = []
        for relationship in relationships:
            label = f"{relationship.staff.display_name} ({relationship.get_role_display()})"
            if Category.JOURNAL not in relationship.shared_categories:
                label += " — " + str(_("first share your journal with them on “Who sees what”"))
            choices.append((str(relationship.pk), label))
        self.fields["shared_with"].choices = choices
        if not choices:
            del self.fields["shared_with"]


class JournalSearchForm(forms.Form):
    q = forms.CharField(label=_("Search your entries"), required=False, max_length=200)


class InstrumentUploadForm(forms.Form):
    file = forms.FileField(label=_("Definition file (JSON)"), required=False)
    text = forms.CharField(
        label=_("…or paste the definition"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("The same format as the built-in PHQ-9, GAD-7 and WHO-5 files."),
    )

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("file") and not (cleaned.get("text") or "").strip():
            raise forms.ValidationError(_("Choose a file or paste a definition."))
        return cleaned

    def definition(self) -> str:
        upload = self.cleaned_data.get("file")
        if upload:
            try:
                return upload.read(300_000).decode("utf-8")
            except UnicodeDecodeError:
                return "\ufffd"  # not text: the parser says so in words
        return self.cleaned_data["text"]
