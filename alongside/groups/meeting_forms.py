"""Forms of the meeting pages. They read what was typed; the rules are in `groups/meetings.py`."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from alongside.groups.models import RsvpAnswer
from alongside.schedule.forms import WEEKDAY_CODES, RepeatChoice


class MeetingSeriesForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120, help_text=_("What reminders and members' calendars say."))
    time_zone = forms.CharField(label=_("Time zone"), max_length=64, help_text=_("Where the group meets."))
    start_date = forms.DateField(label=_("First date"), widget=forms.DateInput(attrs={"type": "date"}))
    start_time = forms.TimeField(label=_("Starts"), widget=forms.TimeInput(attrs={"type": "time"}))
    duration_minutes = forms.IntegerField(label=_("Length in minutes"), min_value=1, initial=90)
    repeat = forms.ChoiceField(
        label=_("Repeats"),
        choices=[
            (RepeatChoice.NONE, _("Does not repeat")),
            (RepeatChoice.WEEKLY, _("Every week")),
            (RepeatChoice.FORTNIGHTLY, _("Every two weeks")),
            (RepeatChoice.MONTHLY, _("Every month on the same weekday (e.g. the second Tuesday)")),
            (RepeatChoice.CUSTOM, _("Custom rule (RFC 5545)")),
        ],
        initial=RepeatChoice.WEEKLY,
    )
    count = forms.IntegerField(label=_("How many times"), required=False, min_value=1)
    until = forms.DateField(label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    custom_rule = forms.CharField(
        label=_("Custom rule"), max_length=300, required=False, help_text=_("For example FREQ=WEEKLY;BYDAY=TU")
    )

    def clean(self):
        data = super().clean()
        if data.get("count") and data.get("until"):
            self.add_error("until", _("Give how many times or an end date, not both."))
        if data.get("repeat") == RepeatChoice.CUSTOM and not (data.get("custom_rule") or "").strip():
            self.add_error("custom_rule", _("Write the rule, or choose another repeat."))
        return data

    def rule(self) -> str:
        """The RFC 5545 RRULE for what was chosen ("" for a single meeting)."""
        data = self.cleaned_data
        repeat = data.get("repeat")
        if repeat == RepeatChoice.NONE:
            return ""
        if repeat == RepeatChoice.CUSTOM:
            return data["custom_rule"].strip()
        if repeat == RepeatChoice.WEEKLY:
            rule = "FREQ=WEEKLY"
        elif repeat == RepeatChoice.FORTNIGHTLY:
            rule = "FREQ=WEEKLY;INTERVAL=2"
        else:
            day = data["start_date"]
            nth = (day.day - 1) // 7 + 1
            rule = f"FREQ=MONTHLY;BYDAY={'-1' if nth == 5 else nth}{WEEKDAY_CODES[day.weekday()]}"
        if data.get("count"):
            rule += f";COUNT={data['count']}"
        elif data.get("until"):
            rule += f";UNTIL={data['until']:%Y%m%d}T235959"
        return rule


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
