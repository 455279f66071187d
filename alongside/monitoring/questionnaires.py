"""Questionnaires: when each is due for a member, and recording a response (with the safety rule)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alongside.care.models import SafetyEvent, SafetyKind
from alongside.care.safety import record_safety_event
from alongside.monitoring import events, instruments, program_instruments
from alongside.monitoring.models import Assessment, QuestionnaireResponse
from alongside.programs.models import Enrolment

log = logging.getLogger(__name__)

# How long a due questionnaire stays open before it expires unanswered.
WINDOW = timedelta(days=3)


@dataclass(frozen=True)
class Schedule:
    instrument: str
    every_days: int
    anchor: date  # the discharge date (or the day they joined the program)
    program_id: int


def schedules_for(member) -> dict[str, Schedule]:
    """Per instrument, the most frequent schedule among the member's current programs."""
    chosen: dict[str, Schedule] = {}
    enrolments = Enrolment.objects.current().filter(member=member, program__archived_at__isnull=True)
    for enrolment in enrolments.select_related("program"):
        anchor = (
            enrolment.discharge_date or timezone.localtime(enrolment.enrolled_at, ZoneInfo(member.time_zone)).date()
        )
        for code, every in enrolment.program.settings.get("assessment_every_days", {}).items():
            if every and (code not in chosen or every < chosen[code].every_days):
                chosen[code] = Schedule(code, every, anchor, enrolment.program_id)
    return chosen


def caseness_threshold(member, code: str) -> int | None:
    for enrolment in Enrolment.objects.current().filter(member=member).select_related("program"):
        threshold = enrolment.program.settings.get("caseness_thresholds", {}).get(code)
        if threshold is not None:
            return threshold
    return None


def _window_start(schedule: Schedule, today: date) -> date:
    if today < schedule.anchor:
        return schedule.anchor
    periods = (today - schedule.anchor).days // schedule.every_days
    return schedule.anchor + timedelta(days=periods * schedule.every_days)


def current_assessments(member, now: datetime | None = None) -> list[Assessment]:
    """The assessment window of each scheduled questionnaire that is open now (created on first look)."""
    now = now or timezone.now()
    zone = ZoneInfo(member.time_zone)
    today = now.astimezone(zone).date()
    open_now = []
    for schedule in schedules_for(member).values():
        start = _window_start(schedule, today)
        opens_at = datetime.combine(start, time.min, tzinfo=zone)
        closes_at = opens_at + WINDOW
        if opens_at <= now < closes_at:
            assessment, _created = Assessment.objects.get_or_create(
                member=member,
                instrument=schedule.instrument,
                opens_at=opens_at,
                defaults={"closes_at": closes_at, "program_id": schedule.program_id},
            )
            open_now.append(assessment)
    return open_now


def due(member, now: datetime | None = None) -> list[Assessment]:
    """Open windows the member has not answered yet, soonest to close first."""
    waiting = [a for a in current_assessments(member, now) if not a.responses.exists()]
    return sorted(waiting, key=lambda assessment: assessment.closes_at)


def expired(member, now: datetime | None = None):
    """Windows that closed without an answer (the early-warning engine counts these as missed)."""
    now = now or timezone.now()
    return Assessment.objects.filter(member=member, closes_at__lte=now, responses__isnull=True)


def submit(
    member,
    code: str,
    answers: dict,
    *,
    followup: str = "",
    completed_at: datetime | None = None,
    corrects: QuestionnaireResponse | None = None,
    source: str = "web",
) -> tuple[QuestionnaireResponse, SafetyEvent | None]:
    """Score and store a response. A safety answer is recorded as a safety event in the same transaction; if
    storing fails, the safety event is still recorded on its own before the error goes on."""
    instrument = program_instruments.for_member(member).get(code)
    if instrument is None:
        raise ValidationError({"instrument": _("Unknown questionnaire %(code)s.") % {"code": code}})
    try:
        answers = {int(item): int(value) for item, value in answers.items()}
        score = instruments.score(instrument, answers, caseness_threshold=caseness_threshold(member, code))
    except (TypeError, ValueError) as error:
        raise ValidationError({"answers": str(error)}) from None
    if followup and instrument.followup and followup not in [option.label for option in instrument.followup.options]:
        raise ValidationError({"followup": _("Choose one of the listed answers.")})
    now = timezone.now()
    completed_at = completed_at or now
    if timezone.is_naive(completed_at) or completed_at > now + timedelta(minutes=5):
        raise ValidationError({"completed_at": _("Give a time that is not in the future, with its time zone.")})
    if corrects is not None and (corrects.member_id != member.pk or corrects.instrument != code):
        raise ValidationError(
            {"corrects": _("A correction must be for one of your own %(name)s answers.") % {"name": instrument.name}}
        )
    assessment = next((a for a in current_assessments(member, completed_at) if a.instrument == code), None)
    try:
        with transaction.atomic():
            response = QuestionnaireResponse.objects.create(
                member=member,
                instrument=code,
                instrument_version=instrument.version,
                answers={str(item): value for item, value in sorted(answers.items())},
                followup=followup,
                raw_score=score.raw,
                total=score.total,
                band=score.band or "",
                complete=score.complete,
                is_case=score.is_case,
                safety_items=score.safety_items,
                assessment=assessment,
                corrects=corrects,
                completed_at=completed_at,
                local_date=completed_at.astimezone(ZoneInfo(member.time_zone)).date(),
                source=source,
            )
            event = None
            if score.safety_items:
                event = record_safety_event(
                    member, SafetyKind.PHQ9_ITEM9, source=f"questionnaire response {response.pk}"
                )
    except Exception:
        if score.safety_items:
            log.exception("storing a questionnaire response failed; recording its safety event on its own")
            record_safety_event(member, SafetyKind.PHQ9_ITEM9, source=f"{code} response that failed to store")
        raise
    events.announce(events.response_recorded, response=response)
    return response, event
