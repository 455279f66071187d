"""The early-warning engine listens here for new data from the apps below it. A receiver that fails is logged
and repaired from the stored rows: check-ins by rebuilding the member's state, a safety event by the worker's
sweep; neither failure ever reaches the member."""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import receiver

from alongside.care.safety import safety_event_recorded
from alongside.groups.meetings import meeting_attendance_recorded
from alongside.monitoring.events import checkins_recorded, checkins_waiting, response_recorded
from alongside.schedule.models import OccurrenceStatus
from alongside.schedule.series import attendance_recorded
from alongside.signals import engine
from alongside.signals.models import DetectorState

log = logging.getLogger(__name__)


def _by_member(checkins) -> dict:
    by_member: dict = {}
    for checkin in checkins:
        by_member.setdefault(checkin.member, []).append(checkin)  # people compare by their key
    return by_member


@receiver(checkins_waiting, dispatch_uid="signals_checkins_waiting")
def plan_checkins(sender, checkins, **kwargs):
    """On SQLite, the batch's fold worked out before the worker takes the write lock (`checkins` below writes it)."""
    return engine.plan_fold(_by_member(checkins))


@receiver(checkins_recorded, dispatch_uid="signals_checkins")
def checkins(sender, checkins, prepared=None, **kwargs):
    """A worker's batch, folded into the members' states together: as planned before the write lock when it was
    (and no state changed since), otherwise afresh. If that fails, member by member, each in a savepoint of its
    own, so one member's failure is theirs alone (their state is rebuilt later)."""
    by_member = _by_member(checkins)
    plan = (prepared or {}).get(plan_checkins)
    try:
        with transaction.atomic():
            if plan is None or engine.apply_fold(plan) is None:
                engine.fold_checkins(by_member)
        return
    except Exception:
        log.exception("early-warning update for a batch of check-ins failed; trying member by member")
    for member, member_checkins in by_member.items():
        try:
            with transaction.atomic():
                engine.on_checkins(member, member_checkins)
        except Exception:
            log.exception("early-warning update for member %s failed; their state will be rebuilt", member.pk)
            DetectorState.objects.update_or_create(member=member, defaults={"stale": True})


@receiver(response_recorded, dispatch_uid="signals_response")
def response(sender, response, **kwargs):
    engine.on_response(response)


@receiver(safety_event_recorded, dispatch_uid="signals_safety_event")
def safety_event(sender, event, **kwargs):
    engine.on_safety_event(event)


@receiver(attendance_recorded, dispatch_uid="signals_attendance")
def attendance(sender, occurrence, **kwargs):
    if occurrence.status == OccurrenceStatus.MISSED:
        engine.on_missed_appointment(occurrence)


@receiver(meeting_attendance_recorded, dispatch_uid="signals_meeting_attendance")
def meeting_attendance(sender, meeting, rows, **kwargs):
    for row in rows:
        if not row.attended:
            engine.on_missed_group_meeting(row)
