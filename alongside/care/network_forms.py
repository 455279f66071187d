"""The form a clinician or case manager fills in to record a transition (programs.actions.record_transition
checks it once more)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from alongside.programs.actions import MAX_TRANSITION_NOTE, transition_checklist
from alongside.programs.models import TransitionKind

# Which form field shows an error record_transition reports.
TRANSITION_ERROR_FIELDS = {
    "kind": "kind",
    "to_phase": "to_phase",
    "effective_date": "effective_date",
    "checklist": "checklist_done",
    "note": "note",
}


class TransitionForm(forms.Form):
    kind = forms.ChoiceField(label=_("What happens"), choices=TransitionKind.choices, widget=forms.RadioSelect)
    to_phase = forms.ModelChoiceField(
        label=_("Phase they move to"),
        queryset=None,
        required=False,
        empty_label=_("No change"),
        help_text=_("Needed for a step-down, a phase change or graduation."),
        error_messages={"invalid_choice": _("Choose a phase of this program.")},
    )
    effective_date = forms.DateField(
        label=_("Takes effect on"),
        help_text=_("For a discharge, the day treatment ended."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    checklist_done = forms.MultipleChoiceField(
        label=_("Checklist"),
        help_text=_("Tick what has been done. Every item is kept with the transition, ticked or not."),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(
        label=_("Note for the care team"),
        help_text=_("The member does not see this note."),
        required=False,
        max_length=MAX_TRANSITION_NOTE,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, enrolment, today, **kwargs):
        super().__init__(*args, prefix=f"t{enrolment.pk}", initial={"effective_date": today}, **kwargs)
        self.enrolment = enrolment
        self.fields["to_phase"].queryset = enrolment.program.phases.order_by("position")
        self.fields["checklist_done"].choices = [
            (label, gettext(label)) for label in transition_checklist(enrolment.program)
        ]
        if not self.fields["checklist_done"].choices:
            del self.fields["checklist_done"]
