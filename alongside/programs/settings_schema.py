"""What a program can configure, with defaults that work at once and checks that say what is wrong.

A program's settings are one validated document (stored as JSON, versioned on every change). Later features
read their part of it: monitoring the check-in fields and assessment schedule, notify the reminder times and
the accountability ladder, signals the caseness thresholds, alert SLAs and experimental detectors.
"""

from __future__ import annotations

import re
from typing import Annotated

from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ConfigDict, Field, field_validator

CHECKIN_FIELDS = {
    "mood": _("Mood"),
    "anxiety": _("Anxiety"),
    "energy": _("Energy"),
    "sleep_hours": _("Hours of sleep"),
    "sleep_quality": _("Sleep quality"),
    "medication": _("Medication taken"),
    "cravings": _("Cravings or urges"),
    "warning_signs": _("My warning signs"),
    "activities": _("Activities"),
    "note": _("A short note"),
}
REQUIRED_CHECKIN_FIELDS = ("mood",)

# Score ranges of the built-in instruments, for checking thresholds (WHO-5 as its percentage score).
INSTRUMENT_RANGES = {"phq9": (0, 27), "gad7": (0, 21), "who5": (0, 100)}
INSTRUMENT_NAMES = {"phq9": "PHQ-9", "gad7": "GAD-7", "who5": "WHO-5"}

LADDER_ACTIONS = {
    "remind_member": _("Remind the member"),
    "nudge_member": _("Send a gentle follow-up to the member"),
    "notify_peer": _("Tell their peer mentor"),
    "task_care_team": _("Create an outreach task for their case manager (or clinician)"),
    "notify_clinician": _("Tell their clinician"),
}
ALERT_SEVERITIES = ("urgent", "high", "watch")
EXPERIMENTAL_DETECTORS = {"critical_slowing_down": _("Rising variance and autocorrelation of negative affect")}

GOAL_AREAS = {
    "health": _("Health"),
    "relationships": _("Relationships"),
    "education": _("Education"),
    "work": _("Work"),
    "creative": _("Creative pursuits"),
    "community": _("Community"),
    "spiritual": _("Spiritual life"),
    "housing": _("Housing"),
    "finances": _("Finances"),
}
DEFAULT_CELEBRATION_DAYS = (7, 30, 60, 90, 180, 365)
GOAL_AREA_KEY = re.compile(r"^[a-z][a-z0-9_]{1,39}$")

TIME_OF_DAY = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

# The longest a program may keep a deleted member's clinical records: 30 years.
MAX_RETENTION_DAYS = 30 * 366

# A transition checklist's items are also the values of its checkboxes, so each must be distinct.
MAX_CHECKLIST_ITEMS = 30
MAX_CHECKLIST_ITEM = 200


class LadderStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    after_hours: Annotated[int, Field(ge=1, le=24 * 30)]
    action: str

    @field_validator("action")
    @classmethod
    def known_action(cls, value: str) -> str:
        if value not in LADDER_ACTIONS:
            raise ValueError(gettext("unknown step %(step)s") % {"step": value})
        return value


def _default_ladder() -> list[LadderStep]:
    return [
        LadderStep(after_hours=24, action="remind_member"),
        LadderStep(after_hours=48, action="nudge_member"),
        LadderStep(after_hours=72, action="notify_peer"),
        LadderStep(after_hours=120, action="task_care_team"),
        LadderStep(after_hours=168, action="notify_clinician"),
    ]


def default_transition_checklist() -> list[str]:
    """The default checklist as stored: the untranslated labels, which are translated when shown."""
    from alongside.programs.models import DEFAULT_TRANSITION_CHECKLIST  # models imports this module

    with translation.override(None):
        return [str(label) for label in DEFAULT_TRANSITION_CHECKLIST]


class ProgramSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    checkin_fields: list[str] = Field(default_factory=lambda: list(CHECKIN_FIELDS))
    reminder_times: list[str] = Field(default_factory=lambda: ["20:00"])
    # Days between assessments, per instrument; 0 turns an instrument off.
    assessment_every_days: dict[str, Annotated[int, Field(ge=0, le=365)]] = Field(
        default_factory=lambda: {"phq9": 14, "gad7": 14, "who5": 28}
    )
    # At or above (PHQ-9, GAD-7) or at or below (WHO-5) this score, a result counts as a case.
    caseness_thresholds: dict[str, int] = Field(default_factory=lambda: {"phq9": 10, "gad7": 10, "who5": 50})
    ladder: list[LadderStep] = Field(default_factory=_default_ladder)
    # Minutes within which someone must acknowledge an alert before it escalates.
    alert_sla_minutes: dict[str, Annotated[int, Field(ge=5, le=7 * 24 * 60)]] = Field(
        default_factory=lambda: {"urgent": 60, "high": 240, "watch": 1440}
    )
    experimental_detectors: dict[str, bool] = Field(
        default_factory=lambda: dict.fromkeys(EXPERIMENTAL_DETECTORS, False)
    )
    # What the care team goes through when a member is discharged or moves to another phase.
    transition_checklist: list[str] = Field(default_factory=default_transition_checklist)
    # The areas of life a member's goals belong to: key -> name shown (the program may rename, add or remove).
    goal_areas: dict[str, str] = Field(default_factory=lambda: {key: str(name) for key, name in GOAL_AREAS.items()})
    # Days since discharge (or completing the program) and days in a row of check-ins that are celebrated.
    celebration_days: list[Annotated[int, Field(ge=1, le=3650)]] = Field(
        default_factory=lambda: list(DEFAULT_CELEBRATION_DAYS)
    )
    # Days the program keeps a deleted member's clinical records (clinical notes, safety events, questionnaire
    # responses, alerts, outreach contacts) before they are purged; 0 keeps nothing. The default is 0 because
    # the law that obliges a program to keep records differs by country and service: keeping health data about
    # someone who asked to be forgotten needs a reason the organisation states by setting this number.
    clinical_record_retention_days: Annotated[int, Field(ge=0, le=MAX_RETENTION_DAYS)] = 0

    @field_validator("goal_areas")
    @classmethod
    def goal_areas_named(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError(gettext("give at least one goal area"))
        if len(value) > 30:
            raise ValueError(gettext("a program has at most 30 goal areas"))
        bad = [key for key in value if not GOAL_AREA_KEY.match(key)]
        if bad:
            raise ValueError(
                gettext("goal area keys are lower-case letters, digits and _: %(keys)s") % {"keys": ", ".join(bad)}
            )
        names = {key: " ".join(str(name).split()) for key, name in value.items()}
        if any(not name or len(name) > 60 for name in names.values()):
            raise ValueError(gettext("every goal area needs a name of at most 60 characters"))
        return names

    @field_validator("celebration_days")
    @classmethod
    def celebration_days_in_order(cls, value: list[int]) -> list[int]:
        return sorted(set(value))

    @field_validator("checkin_fields")
    @classmethod
    def known_fields(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in CHECKIN_FIELDS]
        if unknown:
            raise ValueError(gettext("unknown check-in fields: %(names)s") % {"names": ", ".join(unknown)})
        for required in REQUIRED_CHECKIN_FIELDS:
            if required not in value:
                raise ValueError(gettext("%(name)s is always part of a check-in") % {"name": CHECKIN_FIELDS[required]})
        return [name for name in CHECKIN_FIELDS if name in value]  # canonical order, no duplicates

    @field_validator("reminder_times")
    @classmethod
    def times_of_day(cls, value: list[str]) -> list[str]:
        bad = [time for time in value if not TIME_OF_DAY.match(time)]
        if bad:
            raise ValueError(gettext("not a time of day (HH:MM, 24-hour): %(times)s") % {"times": ", ".join(bad)})
        if len(set(value)) != len(value):
            raise ValueError(gettext("the same reminder time is listed twice"))
        return sorted(value)

    @field_validator("assessment_every_days", "caseness_thresholds")
    @classmethod
    def known_instruments(cls, value: dict) -> dict:
        unknown = [name for name in value if name not in INSTRUMENT_RANGES]
        if unknown:
            raise ValueError(gettext("unknown instruments: %(names)s") % {"names": ", ".join(unknown)})
        return value

    @field_validator("caseness_thresholds")
    @classmethod
    def thresholds_in_range(cls, value: dict[str, int]) -> dict[str, int]:
        for name, threshold in value.items():
            low, high = INSTRUMENT_RANGES[name]
            if not low <= threshold <= high:
                raise ValueError(
                    gettext("%(name)s threshold %(value)s is outside its range %(low)s to %(high)s")
                    % {"name": INSTRUMENT_NAMES[name], "value": threshold, "low": low, "high": high}
                )
        return value

    @field_validator("ladder")
    @classmethod
    def ladder_in_order(cls, value: list[LadderStep]) -> list[LadderStep]:
        hours = [step.after_hours for step in value]
        if hours != sorted(hours) or len(set(hours)) != len(hours):
            raise ValueError(gettext("ladder steps must come in order, each later than the one before"))
        return value

    @field_validator("alert_sla_minutes", mode="before")
    @classmethod
    def watch_was_routine(cls, value):
        # Settings saved before the lowest severity was named "watch" call it "routine".
        if isinstance(value, dict) and "routine" in value and "watch" not in value:
            value = {("watch" if key == "routine" else key): minutes for key, minutes in value.items()}
        return value

    @field_validator("alert_sla_minutes")
    @classmethod
    def known_severities(cls, value: dict[str, int]) -> dict[str, int]:
        missing = [severity for severity in ALERT_SEVERITIES if severity not in value]
        unknown = [severity for severity in value if severity not in ALERT_SEVERITIES]
        if missing or unknown:
            raise ValueError(gettext("give a time for each of %(names)s") % {"names": ", ".join(ALERT_SEVERITIES)})
        if not value["urgent"] <= value["high"] <= value["watch"]:
            raise ValueError(
                gettext("urgent alerts must be acknowledged no later than high ones, and high no later than watch ones")
            )
        return value

    @field_validator("experimental_detectors")
    @classmethod
    def known_detectors(cls, value: dict[str, bool]) -> dict[str, bool]:
        unknown = [name for name in value if name not in EXPERIMENTAL_DETECTORS]
        if unknown:
            raise ValueError(gettext("unknown detectors: %(names)s") % {"names": ", ".join(unknown)})
        return {**dict.fromkeys(EXPERIMENTAL_DETECTORS, False), **value}

    @field_validator("transition_checklist")
    @classmethod
    def checklist_items(cls, value: list[str]) -> list[str]:
        items = [" ".join(str(item).split()) for item in value]
        if any(not item for item in items):
            raise ValueError(gettext("every checklist item needs some words"))
        if len(items) > MAX_CHECKLIST_ITEMS:
            raise ValueError(gettext("a checklist has at most %(n)s items") % {"n": MAX_CHECKLIST_ITEMS})
        long = [item for item in items if len(item) > MAX_CHECKLIST_ITEM]
        if long:
            raise ValueError(gettext("keep each checklist item under %(n)s characters") % {"n": MAX_CHECKLIST_ITEM})
        lowered = [item.lower() for item in items]
        twice = sorted({item for item in items if lowered.count(item.lower()) > 1})
        if twice:
            raise ValueError(gettext("checklist items listed twice: %(items)s") % {"items": ", ".join(twice)})
        return items
