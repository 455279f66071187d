from django import forms
from django.utils.translation import gettext_lazy as _

from alongside.programs.settings_schema import (
    ALERT_SEVERITIES,
    CHECKIN_FIELDS,
    EXPERIMENTAL_DETECTORS,
    INSTRUMENT_NAMES,
    INSTRUMENT_RANGES,
    LADDER_ACTIONS,
    MAX_RETENTION_DAYS,
)

LADDER_ROWS = 6
SEVERITY_LABELS = {"urgent": _("Urgent alerts"), "high": _("High alerts"), "watch": _("Watch alerts")}


class NewProgramForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)


class ProgramForm(forms.Form):
    """A program's settings as a form; the domain function validates the whole document once more."""

    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    phases = forms.CharField(
        label=_("Phases, in order"),
        help_text=_("One per line, e.g. Intensive, Step-down, Maintenance, Graduated."),
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    checkin_fields = forms.MultipleChoiceField(
        label=_("What members record when they check in"),
        help_text=_("Mood is always included."),
        choices=list(CHECKIN_FIELDS.items()),
        widget=forms.CheckboxSelectMultiple,
    )
    reminder_times = forms.CharField(
        label=_("Default reminder times"),
        required=False,
        help_text=_("24-hour times in the member's own time zone, separated by commas, e.g. 09:00, 20:00."),
    )

    transition_checklist = forms.CharField(
        label=_("Checklist for discharge and phase changes"),
        required=False,
        help_text=_("One item per line. The care team goes through it when a member moves on."),
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    goal_areas = forms.CharField(
        label=_("Areas of life for goals"),
        help_text=_("One per line as key: Name, e.g. health: Health. Keys are lower-case letters, digits and _."),
        widget=forms.Textarea(attrs={"rows": 9}),
    )
    celebration_days = forms.CharField(
        label=_("Days that are celebrated"),
        help_text=_("Days since discharge or completing the program, and days in a row of checking in, separated "
                    "by commas, e.g. 7, 30, 60, 90, 180, 365."),
    )  # fmt: skip
    clinical_record_retention_days = forms.IntegerField(
        label=_("Days to keep a deleted member's clinical records"),
        min_value=0,
        max_value=MAX_RETENTION_DAYS,
        help_text=_("When a member deletes their account, their clinical notes, safety events, questionnaire "
                    "responses, alerts and outreach contacts stay readable to their care team for this many days, "
                    "then are erased. 0 erases them at once. Set it to the period your law requires you to keep "
                    "records."),
    )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, name in INSTRUMENT_NAMES.items():
            self.fields[f"every_{key}"] = forms.IntegerField(
                label=_("Ask %(name)s every … days (0: never)") % {"name": name}, min_value=0, max_value=365
            )
        for key, name in INSTRUMENT_NAMES.items():
            low, high = INSTRUMENT_RANGES[key]
            self.fields[f"threshold_{key}"] = forms.IntegerField(
                label=_("%(name)s caseness threshold (%(low)s to %(high)s)") % {"name": name, "low": low, "high": high},
                min_value=low,
                max_value=high,
            )
        for row in range(1, LADDER_ROWS + 1):
            self.fields[f"ladder_{row}_hours"] = forms.IntegerField(
                label=_("Step %(n)s: after … hours without a check-in") % {"n": row}, required=False, min_value=1
            )
            self.fields[f"ladder_{row}_action"] = forms.ChoiceField(
                label=_("Step %(n)s: then") % {"n": row},
                required=False,
                choices=[("", "—"), *LADDER_ACTIONS.items()],
            )
        for severity in ALERT_SEVERITIES:
            self.fields[f"sla_{severity}"] = forms.IntegerField(
                label=_("%(kind)s: acknowledge within … minutes") % {"kind": SEVERITY_LABELS[severity]}, min_value=5
            )
        for key, label in EXPERIMENTAL_DETECTORS.items():
            self.fields[f"detector_{key}"] = forms.BooleanField(
                label=_("Experimental: %(what)s") % {"what": label}, required=False
            )

    @classmethod
    def initial_for(cls, program) -> dict:
        settings = program.settings
        initial = {
            "name": program.name,
            "description": program.description,
            "phases": "\n".join(program.phases.values_list("name", flat=True)),
            "checkin_fields": settings["checkin_fields"],
            "reminder_times": ", ".join(settings["reminder_times"]),
            "transition_checklist": "\n".join(program.config.transition_checklist),
            "goal_areas": "\n".join(f"{key}: {name}" for key, name in program.config.goal_areas.items()),
            "celebration_days": ", ".join(str(day) for day in program.config.celebration_days),
            "clinical_record_retention_days": program.config.clinical_record_retention_days,
        }
        for key in INSTRUMENT_NAMES:
            initial[f"every_{key}"] = settings["assessment_every_days"].get(key, 0)
            initial[f"threshold_{key}"] = settings["caseness_thresholds"].get(key)
        for row, step in enumerate(settings["ladder"], start=1):
            initial[f"ladder_{row}_hours"] = step["after_hours"]
            initial[f"ladder_{row}_action"] = step["action"]
        for severity in ALERT_SEVERITIES:
            initial[f"sla_{severity}"] = settings["alert_sla_minutes"][severity]
        for key in EXPERIMENTAL_DETECTORS:
            initial[f"detector_{key}"] = settings["experimental_detectors"].get(key, False)
        return initial

    def clean_goal_areas(self) -> dict[str, str]:
        areas: dict[str, str] = {}
        for line in self.cleaned_data["goal_areas"].splitlines():
            if not line.strip():
                continue
            key, colon, name = line.partition(":")
            if not colon:
                raise forms.ValidationError(
                    _("Write each area as key: Name (this line has no colon: %(line)s).") % {"line": line.strip()}
                )
            key = key.strip()
            if key in areas:
                raise forms.ValidationError(_("The key %(key)s is listed twice.") % {"key": key})
            areas[key] = name.strip()
        return areas

    def clean_celebration_days(self) -> list[int]:
        days = []
        for part in self.cleaned_data["celebration_days"].split(","):
            if not part.strip():
                continue
            if not part.strip().isdigit():
                raise forms.ValidationError(
                    _("Give whole numbers of days, separated by commas (not %(value)s).") % {"value": part.strip()}
                )
            days.append(int(part))
        if not days:
            raise forms.ValidationError(_("Give at least one day."))
        return days

    def clean(self):
        cleaned = super().clean()
        for row in range(1, LADDER_ROWS + 1):
            hours, action = cleaned.get(f"ladder_{row}_hours"), cleaned.get(f"ladder_{row}_action")
            if bool(hours) != bool(action):
                self.add_error(f"ladder_{row}_hours", _("Give both the hours and what happens, or neither."))
        return cleaned

    def phase_names(self) -> list[str]:
        # Blank lines are spacing, not phases.
        return [line.strip() for line in self.cleaned_data["phases"].splitlines() if line.strip()]

    def settings_document(self) -> dict:
        data = self.cleaned_data
        return {
            "checkin_fields": ["mood", *data["checkin_fields"]],
            "reminder_times": [time.strip() for time in data["reminder_times"].split(",") if time.strip()],
            "assessment_every_days": {key: data[f"every_{key}"] for key in INSTRUMENT_NAMES},
            "caseness_thresholds": {key: data[f"threshold_{key}"] for key in INSTRUMENT_NAMES},
            "ladder": [
                {"after_hours": data[f"ladder_{row}_hours"], "action": data[f"ladder_{row}_action"]}
                for row in range(1, LADDER_ROWS + 1)
                if data.get(f"ladder_{row}_hours")
            ],
            "alert_sla_minutes": {severity: data[f"sla_{severity}"] for severity in ALERT_SEVERITIES},
            "experimental_detectors": {key: data[f"detector_{key}"] for key in EXPERIMENTAL_DETECTORS},
            "transition_checklist": [
                line.strip() for line in data["transition_checklist"].splitlines() if line.strip()
            ],
            "goal_areas": data["goal_areas"],
            "celebration_days": data["celebration_days"],
            "clinical_record_retention_days": data["clinical_record_retention_days"],
        }

    # Which form field shows an error the domain reports for a settings key.
    ERROR_FIELDS = {
        "name": "name",
        "phases": "phases",
        "checkin_fields": "checkin_fields",
        "reminder_times": "reminder_times",
        "assessment_every_days": "every_phq9",
        "caseness_thresholds": "threshold_phq9",
        "ladder": "ladder_1_hours",
        "alert_sla_minutes": "sla_urgent",
        "experimental_detectors": None,
        "transition_checklist": "transition_checklist",
        "goal_areas": "goal_areas",
        "celebration_days": "celebration_days",
        "clinical_record_retention_days": "clinical_record_retention_days",
    }
