"""Forms of the goal pages. They check shapes only; every rule is in `goals.py`."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from alongside.goals.models import EncouragementKind

MILESTONE_ROWS = 5


class GoalForm(forms.Form):
    title = forms.CharField(label=_("My goal"), max_length=140)
    why = forms.CharField(label=_("Why it matters to me"), max_length=2000, required=False, widget=forms.Textarea)
    area = forms.ChoiceField(label=_("Area of life"))
    target = forms.CharField(label=_("How I will know"), max_length=200, required=False)
    target_date = forms.DateField(label=_("By when"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    client_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=80)

    def __init__(self, *args, areas: dict[str, str], milestone_rows: int = MILESTONE_ROWS, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("client_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = list(areas.items())
        self.milestone_rows = milestone_rows
        for row in range(milestone_rows):
            self.fields[f"milestone_{row}_title"] = forms.CharField(
                label=_("Milestone %(number)d") % {"number": row + 1}, max_length=140, required=False
            )
            self.fields[f"milestone_{row}_due"] = forms.DateField(
                label=_("Milestone %(number)d by when") % {"number": row + 1},
                required=False,
                widget=forms.DateInput(attrs={"type": "date"}),
            )

    def goal_fields(self) -> list:
        return [self[name] for name in ("title", "why", "area", "target", "target_date")]

    def milestone_fields(self) -> list:
        return [(self[f"milestone_{row}_title"], self[f"milestone_{row}_due"]) for row in range(self.milestone_rows)]

    def milestones(self) -> list[tuple[str, object]]:
        data = self.cleaned_data
        rows = [
            (data.get(f"milestone_{row}_title", ""), data.get(f"milestone_{row}_due"))
            for row in range(self.milestone_rows)
        ]
        return [(title, due) for title, due in rows if title]

    def goal_data(self) -> dict:
        data = self.cleaned_data
        return {name: data[name] for name in ("title", "why", "area", "target", "target_date")} | {
            "milestones": self.milestones()
        }


class ProgressForm(forms.Form):
    note = forms.CharField(label=_("What happened"), max_length=1000, required=False, widget=forms.Textarea)
    percent = forms.IntegerField(label=_("How far along (%)"), min_value=0, max_value=100, required=False)


class MilestoneForm(forms.Form):
    title = forms.CharField(label=_("New milestone"), max_length=140)
    due_date = forms.DateField(label=_("By when"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class EncourageForm(forms.Form):
    kind = forms.ChoiceField(label=_("Encouragement"), choices=EncouragementKind.choices)
    text = forms.CharField(label=_("A few words"), max_length=280, required=False)
