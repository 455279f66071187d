"""Reminder due times, stored for the worker to send.

For an appointment occurrence, each person in it is reminded at each of their offsets (24 hours and 1 hour
before, unless they chose others) on their own clock: "24 hours before" a Tuesday 18:00 appointment is Monday
18:00 where they are, even across a daylight-saving change. A routine item with a reminder time is reminded
at that local time on each day it is due; the day the clocks skip that time it is reminded once, when they
jump (schedule/times.py). Changing or cancelling an occurrence replaces its reminders that have not been sent.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from alongside.care import policy
from alongside.schedule import times
from alongside.schedule.models import DEFAULT_REMINDER_OFFSETS, Occurrence, Reminder, SchedulePreferences


def offsets_for(person) -> list[int]:
    preferences = SchedulePreferences.objects.filter(person=person).first()
    return list(preferences.reminder_offsets) if preferences else list(DEFAULT_REMINDER_OFFSETS)


def due_before(start: datetime, minutes: int, zone: str) -> datetime:
    """`minutes` before `start` on the wall clock of `zone`."""
    wall = start.astimezone(ZoneInfo(zone)).replace(tzinfo=None) - timedelta(minutes=minutes)
    return times.to_utc(wall, zone)


def refresh(occurrence: Occurrence, *, now: datetime | None = None) -> list[Reminder]:
    """Replace the occurrence's unsent reminders with the ones its current time and status call for."""
    now = now or timezone.now()
    Reminder.objects.filter(occurrence=occurrence, sent_at__isnull=True).delete()
    # A reminder already sent for the old time does not stand in for one at the new time.
    if not occurrence.is_upcoming:
        return []
    appointment = occurrence.appointment
    people = [appointment.member]
    if appointment.staff is not None and (
        policy.live_relationships(appointment.staff)
        .filter(member_id=appointment.member_id, organisation_id=appointment.organisation_id)
        .exists()
    ):
        people.append(appointment.staff)  # a supporter who has left is no longer reminded
    made = []
    for person in people:
        for minutes in offsets_for(person):
            due = due_before(occurrence.start, minutes, person.time_zone)
            if due > now:
                made.append(Reminder(person=person, occurrence=occurrence, due_at=due, offset_minutes=minutes))
    return Reminder.objects.bulk_create(made, ignore_conflicts=True)


def routine_due_times(item, first_day: date, days: int) -> list[datetime]:
    """When a routine item with a reminder time is reminded over `days` days from `first_day` (its member's
    zone), one per day it is due."""
    from alongside.schedule import routines

    if item.remind_at is None:
        return []
    zone = item.member.time_zone
    return [
        times.at(day, item.remind_at, zone)
        for day in (first_day + timedelta(days=offset) for offset in range(days))
        if routines.is_due_on(item, day)
    ]


def refresh_routine(item, *, days: int = 14, now: datetime | None = None) -> list[Reminder]:
    """Replace the routine item's unsent reminders for the next `days` days."""
    now = now or timezone.now()
    Reminder.objects.filter(routine_item=item, sent_at__isnull=True).delete()
    if item.archived_at is not None:
        return []
    today = now.astimezone(ZoneInfo(item.member.time_zone)).date()
    due = [moment for moment in routine_due_times(item, today, days) if moment > now]
    return Reminder.objects.bulk_create(
        [Reminder(person=item.member, routine_item=item, due_at=moment) for moment in due], ignore_conflicts=True
    )
