"""The notification preferences form. It collects what was chosen; notify/inbox.py decides what is valid, so
the rules and their messages live in one place."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from alongside.notify import inbox
from alongside.notify.models import Channel, NotificationKind, NotificationPreferences
from alongside.notify.outbox import channels_for

# Kinds that always use a channel, shown ticked and fixed.
FIXED_CHANNELS = {NotificationKind.SAFETY_ALERT: Channel.INBOX}
CHECKIN_FIELDS = [f"checkin_time_{number}" for number in range(1, inbox.MAX_CHECKIN_TIMES + 1)]


class CheckboxSelectMultipleWidget(forms.CheckboxSelectMultiple):
    """Checkboxes, one of which may be fixed: ticked and disabled (the form puts its value back). Named so that
    its `widget_type` is still "checkboxselectmultiple", which core/field.html draws as a fieldset."""

    def __init__(self, *args, fixed: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fixed = fixed

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        fixed = value == self.fixed
        option = super().create_option(name, value, label, selected or fixed, index, subindex, attrs)
        if fixed:
            option["attrs"]["disabled"] = True
        return option


def _time_input():
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class PreferencesForm(forms.Form):
    """One field per kind of notification (its channels), quiet hours and, for members, check-in times."""

    quiet_hours = forms.BooleanField(
        label=_("Hold notifications during quiet hours"),
        required=False,
        help_text=_("Urgent safety alerts to people on duty are never held."),
    )
    quiet_start = forms.TimeField(label=_("Quiet from"), required=False, widget=_time_input())
    quiet_end = forms.TimeField(label=_("Quiet until"), required=False, widget=_time_input())

    def __init__(self, *args, person, **kwargs):
        super().__init__(*args, **kwargs)
        self.person = person
        self.kinds = inbox.kinds_for(person)
        offered = inbox.channels_offered(person)
        for kind in self.kinds:
            fixed = FIXED_CHANNELS.get(kind)
            self.fields[kind] = forms.MultipleChoiceField(
                label=NotificationKind(kind).label,
                choices=[(channel, Channel(channel).label) for channel in offered],
                required=False,
                widget=CheckboxSelectMultipleWidget(fixed=fixed),
                help_text=_("Always in your inbox in Alongside; you choose the other ways.") if fixed else "",
            )
        self.checkin_times = person.is_member
        if self.checkin_times:
            for number, name in enumerate(CHECKIN_FIELDS, start=1):
                self.fields[name] = forms.CharField(
                    label=_("Time %(number)s") % {"number": number},
                    required=False,
                    max_length=8,
                    widget=forms.TimeInput(attrs={"type": "time"}),
                )

    @classmethod
    def initial_for(cls, person, preferences: NotificationPreferences) -> dict:
        initial = {
            "quiet_hours": preferences.quiet_hours,
            "quiet_start": preferences.quiet_start,
            "quiet_end": preferences.quiet_end,
        }
        for kind in inbox.kinds_for(person):
            initial[kind] = channels_for(person, kind, preferences)
        for name, value in zip(CHECKIN_FIELDS, inbox.current_checkin_times(person, preferences), strict=False):
            initial[name] = value
        return initial

    def channel_fields(self):
        return [self[kind] for kind in self.kinds]

    def checkin_fields(self):
        return [self[name] for name in CHECKIN_FIELDS] if self.checkin_times else []

    def clean(self):
        data = super().clean()
        for kind, channel in FIXED_CHANNELS.items():
            if kind in self.fields and channel not in data.get(kind, []):
                data[kind] = [channel, *data.get(kind, [])]  # a disabled checkbox is not sent
        return data

    def values(self) -> dict:
        data = self.cleaned_data
        values = {
            "channels": {kind: data.get(kind, []) for kind in self.kinds},
            "quiet_hours": data["quiet_hours"],
            "quiet_start": data["quiet_start"],
            "quiet_end": data["quiet_end"],
        }
        if self.checkin_times:
            values["checkin_times"] = [data[name].strip() for name in CHECKIN_FIELDS if data.get(name, "").strip()]
        return values
