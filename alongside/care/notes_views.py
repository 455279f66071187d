"""A member's clinical notes, for their clinicians and case managers: the notes (each read audited) and the form
to write one."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alongside.care import notes
from alongside.care.models import NoteKind
from alongside.core.forms import add_domain_errors


class NoteForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=NoteKind.choices, widget=forms.RadioSelect)
    text = forms.CharField(
        label=gettext_lazy("Note"), max_length=notes.MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 6})
    )
    day = forms.DateField(
        label=gettext_lazy("Date (of the session or contact)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Leave empty for now."),
    )
    time = forms.TimeField(label=gettext_lazy("Time"), required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    corrects = forms.TypedChoiceField(label=gettext_lazy("Corrects an earlier note"), required=False, coerce=int)

    def __init__(self, *args, earlier=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["corrects"].choices = [("", gettext_lazy("No, a new note"))] + [
            (note.pk, f"{note.get_kind_display()}, {timezone.localtime(note.occurred_at):%Y-%m-%d %H:%M}")
            for note in earlier
        ]
        self.fields["corrects"].empty_value = None

    def occurred_at(self, zone: str) -> datetime | None:
        day, time = self.cleaned_data.get("day"), self.cleaned_data.get("time")
        if day is None:
            return None
        return datetime.combine(day, time or datetime.min.time(), tzinfo=ZoneInfo(zone))


@login_required
def member_notes(request, member_pk):
    member = notes.member_or_404(request.user, member_pk)
    readable = list(notes.notes_for(request.user, member)[:100])
    form = NoteForm(request.POST if request.method == "POST" else None, earlier=readable)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            notes.write_note(
                by=request.user,
                member=member,
                kind=data["kind"],
                text=data["text"],
                occurred_at=form.occurred_at(request.user.time_zone),
                corrects=data["corrects"],
                request=request,
            )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            add_domain_errors(form, error)
        else:
            messages.success(request, _("Note saved."))
            return redirect("care:member_notes", member_pk=member.pk)
    notes.record_read(request, member, readable)
    return render(request, "care/notes/member.html", {"member": member, "form": form, "notes": readable})
