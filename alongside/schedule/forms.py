from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from alongside.schedule import checklist as agenda
from alongside.schedule.models import AppointmentKind, LocationKind

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


class RepeatChoice:
    NONE, WEEKLY, FORTNIGHTLY, MONTHLY, CUSTOM = "none", "weekly", "fortnightly", "monthly", "custom"


class RepeatForm(forms.Form):
    """How a series repeats, as people choose it (a few common patterns, or an RFC 5545 rule written out), turned
    into one RRULE by `rule()`. Appointments and group meetings both use it; their own fields come first."""

    repeat = forms.ChoiceField(
        label=_("Repeats"),
        choices=[
            (RepeatChoice.NONE, _("Does not repeat")),
            (RepeatChoice.WEEKLY, _("Every week")),
            (RepeatChoice.FORTNIGHTLY, _("Every two weeks")),
            (RepeatChoice.MONTHLY, _("Every month on the same weekday (e.g. the second Tuesday)")),
            (RepeatChoice.CUSTOM, _("Custom rule (RFC 5545)")),
        ],
        initial=RepeatChoice.NONE,
    )
    count = forms.IntegerField(label=_("How many times"), required=False, min_value=1)
    until = forms.DateField(label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    custom_rule = forms.CharField(
        label=_("Custom rule"),
        max_length=300,
        required=False,
        help_text=_("For example FREQ=WEEKLY;BYDAY=MO,TH;COUNT=8"),
    )
    REPEAT_FIELDS = ("repeat", "count", "until", "custom_rule")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields([name for name in self.fields if name not in self.REPEAT_FIELDS] + list(self.REPEAT_FIELDS))

    def clean(self):
        data = super().clean()
        if data.get("count") and data.get("until"):
            self.add_error("until", _("Give how many times or an end date, not both."))
        if data.get("repeat") == RepeatChoice.CUSTOM and not (data.get("custom_rule") or "").strip():
            self.add_error("custom_rule", _("Write the rule, or choose another repeat."))
        return data

    def rule(self) -> str:
        """The RFC 5545 RRULE for what was chosen ("" when it does not repeat)."""
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
            # A fifth weekday does not happen every month: "the last" does.
            rule = f"FREQ=MONTHLY;BYDAY={'-1' if nth == 5 else nth}{WEEKDAY_CODES[day.weekday()]}"
        if data.get("count"):
            rule += f";COUNT={data['count']}"
        elif data.get("until"):
            rule += f";UNTIL={data['until']:%Y%m%d}T235959"
        return rule


class AppointmentForm(RepeatForm):
    title = forms.CharField(
        label=_("Title"), max_length=120, help_text=_("What reminders say. Keep clinical detail out of it.")
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=AppointmentKind.choices)
    staff = forms.ChoiceField(label=_("With"), required=False)
    location_kind = forms.ChoiceField(
        label=_("Where"), choices=LocationKind.choices, widget=forms.RadioSelect, initial=LocationKind.IN_PERSON
    )
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    video_url = forms.CharField(
        label=_("Video link"),
        max_length=500,
        required=False,
        help_text=_("Shown only to the people in the appointment."),
    )
    time_zone = forms.CharField(label=_("Time zone"), max_length=64)
    start_date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    start_time = forms.TimeField(label=_("Starts"), widget=forms.TimeInput(attrs={"type": "time"}))
    end_time = forms.TimeField(label=_("Ends"), widget=forms.TimeInput(attrs={"type": "time"}))

    def __init__(self, *args, staff_choices=(), with_agenda: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if with_agenda:
            # The care team sets what each appointment goes through; the defaults are those of a therapy session.
            self.fields["checklist"] = forms.MultipleChoiceField(
                label=_("On the agenda"),
                required=False,
                choices=[(item.key, item.label) for item in agenda.registered()],
                initial=agenda.defaults_for(AppointmentKind.THERAPY),
                widget=forms.CheckboxSelectMultiple,
                help_text=_("Ticked at each appointment by the person running it. The member sees the agenda."),
            )
            self.order_fields(
                [name for name in self.fields if name not in self.REPEAT_FIELDS] + list(self.REPEAT_FIELDS)
            )
        self.staff_people = {str(person.pk): person for person in staff_choices}
        self.fields["staff"].choices = [("", _("Nobody from the care team"))] + [
            (str(person.pk), person.display_name) for person in staff_choices
        ]

    def clean_staff(self):
        return self.staff_people.get(self.cleaned_data.get("staff") or "")

    def clean(self):
        data = super().clean()
        start, end = data.get("start_time"), data.get("end_time")
        if start and end:
            minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
            if minutes <= 0:
                self.add_error("end_time", _("The end must be after the start."))
            data["duration_minutes"] = minutes
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False, widget=forms.TextInput())


class MoveForm(forms.Form):
    new_date = forms.DateField(label=_("New date"), widget=forms.DateInput(attrs={"type": "date"}))
    new_time = forms.TimeField(label=_("New start time"), widget=forms.TimeInput(attrs={"type": "time"}))
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)
