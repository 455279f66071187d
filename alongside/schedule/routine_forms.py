"""The form of a routine item. It only collects what was typed; schedule/routines.py decides what is valid, so
the rules and their messages live in one place."""

from django import forms
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from alongside.schedule.models import RoutineItem, RoutineSchedule
from alongside.schedule.routines import MAX_TITLE


class RoutineItemForm(forms.Form):
    title = forms.CharField(
        label=_("What will you do?"),
        required=False,
        widget=forms.TextInput(attrs={"maxlength": MAX_TITLE, "autocomplete": "off"}),
        help_text=_("For example: a 20-minute walk, breakfast, take my medication."),
    )
    schedule = forms.ChoiceField(
        label=_("How often"), choices=RoutineSchedule.choices, initial=RoutineSchedule.DAILY, widget=forms.RadioSelect
    )
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Which days"),
        choices=sorted(WEEKDAYS.items()),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only for “On chosen days of the week”."),
    )
    times_per_week = forms.IntegerField(
        label=_("How many times a week"),
        required=False,
        widget=forms.NumberInput(attrs={"min": 1, "max": 7, "inputmode": "numeric"}),
        help_text=_("Only for “A number of times a week”: any days, Monday to Sunday."),
    )
    remind_at = forms.TimeField(
        label=_("Remind me at"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("Optional. A reminder at this time on each day it is due, where you are."),
    )

    @classmethod
    def initial_for(cls, item: RoutineItem) -> dict:
        return {
            "title": item.title,
            "schedule": item.schedule,
            "weekdays": list(item.weekdays or []),
            "times_per_week": item.times_per_week,
            "remind_at": item.remind_at,
        }

    def values(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "schedule": data["schedule"],
            "weekdays": data["weekdays"],
            "times_per_week": data["times_per_week"],
            "remind_at": data["remind_at"],
        }
