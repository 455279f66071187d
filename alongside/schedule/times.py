"""Local wall-clock times to UTC instants, the way people expect around daylight-saving changes.

- A time that happens twice (the hour repeated when clocks go back) means its first happening, so a reminder
  at 01:30 on that night fires once.
- A time that does not happen (the hour skipped when clocks go forward) means the moment the clocks jump, so
  a daily 02:30 reminder fires once, at 03:00, on that day.
- Every other local time is unambiguous.

A series' rule is kept in local time (schedule.models.Appointment), so a weekly 18:00 appointment is 18:00
local on both sides of a change.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def _exists(local: datetime, zone: ZoneInfo) -> bool:
    aware = local.replace(tzinfo=zone)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == local


def to_utc(local: datetime, zone: ZoneInfo | str) -> datetime:
    """The UTC instant of a naive local wall-clock time in `zone` (see the module's rules)."""
    if isinstance(zone, str):
        zone = ZoneInfo(zone)
    local = local.replace(tzinfo=None)
    if _exists(local, zone):
        return local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    # Skipped by a change: the gap lies between the two readings of this wall time; find where it starts.
    low = local.replace(tzinfo=zone, fold=1).astimezone(UTC)  # read with the offset after the change
    high = local.replace(tzinfo=zone, fold=0).astimezone(UTC)  # read with the offset before it
    low, high = min(low, high), max(low, high)
    before = low.astimezone(zone).utcoffset()
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == before:
            low = middle
        else:
            high = middle
    # Changes happen on a whole second: the first whole second with the new offset.
    moment = high.replace(microsecond=0)
    return moment if moment.astimezone(zone).utcoffset() != before else moment + timedelta(seconds=1)


def at(day: date, clock: time, zone: ZoneInfo | str) -> datetime:
    return to_utc(datetime.combine(day, clock), zone)


def local(instant: datetime, zone: ZoneInfo | str) -> datetime:
    """A UTC instant as the local wall-clock time in `zone` (aware)."""
    return instant.astimezone(ZoneInfo(zone) if isinstance(zone, str) else zone)
