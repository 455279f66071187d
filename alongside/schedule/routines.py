"""The member's daily routine: items, check-offs, streaks and habit strength."""

from __future__ import annotations

from datetime import date

from alongside.schedule.models import RoutineItem, RoutineSchedule


def is_due_on(item: RoutineItem, day: date) -> bool:
    """Whether the item is expected on this day (N-times-a-week items may be done any day)."""
    if item.schedule == RoutineSchedule.WEEKDAYS:
        return day.weekday() in (item.weekdays or [])
    return True
