"""The early-warning engine listens here for new data from the apps below it. A receiver that fails is logged
and repaired from the stored rows: a check-in by the day-closing check (the state rebuilds), a safety event by
the worker's sweep; neither failure ever reaches the member."""

from __future__ import annotations

import logging

from django.dispatch import receiver

from alongside.care.safety import safety_event_recorded
from alongside.groups.meetings import meeting_attendance_recorded
from alongside.monitoring.events import checkin_recorded, response_recorded
from alongside.monitoring.models import TagKind
from alongside.schedule.models import OccurrenceStatus
from alongside.schedule.series import attendance_recorded
from alongside.signals import engine
from alongside.signals.models import DetectorState

log = logging.getLogger(__name__)


@receiver(checkin_recorded, dispatch_uid="signals_checkin")
def checkin(sender, checkin, **kwargs):
    signs = sum(1 for tag in getattr(checkin, "tag_list", ()) if tag.kind == TagKind.WARNING_SIGN)
    try:
        engine.on_checkin(checkin, warning_signs=signs)
    except Exception:
        log.exception("early-warning update for check-in %s failed; the member's state will be rebuilt", checkin.pk)
        DetectorState.objects.update_or_create(member=checkin.member, defaults={"stale": True})


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
