"""What the worker repeats for the schedule. Each job may run twice, or in two worker processes, harmlessly."""

from __future__ import annotations

from datetime import timedelta

from alongside.core.worker import every
from alongside.schedule import reminders, series
from alongside.schedule.models import RoutineItem


@every(timedelta(hours=6), "schedule: extend open-ended series")
def extend_series() -> int:
    return series.extend()


@every(timedelta(hours=12), "schedule: routine reminders for the next two weeks")
def refresh_routine_reminders() -> int:
    made = 0
    items = RoutineItem.objects.filter(archived_at__isnull=True, remind_at__isnull=False).select_related("member")
    for item in items.iterator():
        made += len(reminders.refresh_routine(item))
    return made
