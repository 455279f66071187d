"""Forms of the meeting pages. They read what was typed; the rules are in `groups/meetings.py`."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from alongside.groups.models import RsvpAnswer
from alongside.schedule.forms import RepeatChoice, RepeatForm


class MeetingSeriesForm(RepeatForm):
    title = forms.CharField(label=_("Title"), max_length=120, help_text=_("What reminders and members' calendars say."))
    time_zone = forms.CharField(label=_("Time zone"), max_length=64, help_text=_("Where the group meets."))
    start_date = forms.DateField(label=_("First date"), widget=forms.DateInput(attrs={"type": "date"}))
    start_time = forms.TimeField(label=_("Starts"), widget=forms.TimeInput(attrs={"type": "time"}))
    duration_minutes = forms.IntegerField(label=_("Length in minutes"), min_value=1, initial=90)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["repeat"].initial = RepeatChoice.WEEKLY  # groups mostly meet every week


class RsvpForm(forms.Form):
    answer = forms.ChoiceField(label=_("Will you come?"), choices=RsvpAnswer.choices)


class AttendanceForm(forms.Form):
    attended = forms.MultipleChoiceField(
        label=_("Who came"), required=False, widget=forms.CheckboxSelectMultiple, choices=()
    )

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attended"].choices = [(str(person.pk), person.display_name) for person in people]


class NotesForm(forms.Form):
    notes = forms.CharField(
        label=_("What happened and what to follow up"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Only the group's facilitators read these. Members never see them."),
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (members are told)"), max_length=300, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
