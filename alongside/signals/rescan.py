"""Rebuilding every member's detector state from history, vectorised (`alongside signals rescan`).

Members are taken in blocks of consecutive ids. For each block, the check-in columns the detectors use are read
with one plain query (no model instances), turned into daily arrays with numpy, and every calendar day is closed
for the whole block at once. Each member's days are closed through their own yesterday (time zones differ by up
to a day), and today's check-ins become their pending day, exactly as the live path leaves it. Rescanning raises
no alerts: history is for the state, not for paging anyone.
"""

from __future__ import annotations

import time as clock
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from alongside.accounts.models import Role
from alongside.monitoring.models import CheckIn, Tag, TagKind
from alongside.programs.models import Enrolment
from alongside.schedule import times
from alongside.signals import batch, detectors
from alongside.signals.detectors import NEVER, SCALES, State
from alongside.signals.models import DetectorState

BLOCK = 5000


@dataclass(frozen=True)
class Rescanned:
    members: int
    checkins: int
    seconds: float
    read_seconds: float  # of which reading from the database


def _day_number(column: str) -> str:
    """SQL for a date column as its proleptic ordinal (date.toordinal()), so rows arrive as plain numbers."""
    if connection.vendor == "postgresql":
        return f"({column} - DATE '0001-01-01' + 1)"
    return f"CAST(julianday({column}) - 1721424.5 AS INTEGER)"


def fetch_block(first_id: int, last_id: int) -> tuple[list, list]:
    """The rows as the database driver gives them, all numbers: check-ins (member, day ordinal, scales...) and
    daily warning-sign counts (member, day ordinal, count)."""
    quote = connection.ops.quote_name
    table = quote(CheckIn._meta.db_table)
    cast = "::float8" if connection.vendor == "postgresql" else ""  # numeric sleep hours as floats, not Decimals
    columns = ", ".join(quote(name) + (cast if name == "sleep_hours" else "") for name in SCALES)
    member, local_date = quote("member_id"), quote("local_date")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {member}, {_day_number(local_date)}, {columns} FROM {table} "  # noqa: S608 (names from the model)
            f"WHERE {member} BETWEEN %s AND %s ORDER BY {member}, {local_date}",
            [first_id, last_id],
        )
        rows = cursor.fetchall()
        through = quote(CheckIn.tags.through._meta.db_table)
        tags = quote(Tag._meta.db_table)
        cursor.execute(
            f"SELECT c.{member}, {_day_number('c.' + local_date)}, COUNT(*) FROM {through} l "  # noqa: S608
            f"JOIN {tags} t ON t.{quote('id')} = l.{quote('tag_id')} "
            f"JOIN {table} c ON c.{quote('id')} = l.{quote('checkin_id')} "
            f"WHERE t.{quote('kind')} = %s AND c.{member} BETWEEN %s AND %s GROUP BY c.{member}, c.{local_date}",
            [TagKind.WARNING_SIGN.value, first_id, last_id],
        )
        signs = cursor.fetchall()
    return rows, signs


def read_block(first_id: int, last_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple]:
    """The check-in columns of members first_id…last_id as arrays: member ids, local days (ordinals), scales
    (k, 6) with NaN where not answered; and the daily warning-sign counts (member, day, count). One conversion
    of the whole block (None becomes NaN)."""
    rows, signs = fetch_block(first_id, last_id)
    table = np.array(rows, dtype=float).reshape(-1, 2 + len(SCALES))
    sign_table = np.array(signs, dtype=np.int64).reshape(-1, 3)
    return (
        table[:, 0].astype(np.int64),
        table[:, 1].astype(np.int64),
        table[:, 2:],
        (sign_table[:, 0], sign_table[:, 1], sign_table[:, 2].astype(float)),
    )


def _csd_members(ids) -> set[int]:
    enrolments = Enrolment.objects.current().filter(member_id__in=ids).select_related("program")
    return {e.member_id for e in enrolments if e.program.config.experimental_detectors.get("critical_slowing_down")}


def rescan_block(ids: np.ndarray, zones: list[str], now: datetime, p: detectors.Parameters = detectors.DEFAULT):
    """Rebuild and store the state of these members (ids ascending). Returns (check-ins read, read seconds)."""
    started = clock.perf_counter()
    member_ids, days, scales, (sign_member, sign_day, sign_count) = read_block(int(ids[0]), int(ids[-1]))
    read_seconds = clock.perf_counter() - started
    today = np.array([now.astimezone(ZoneInfo(zone)).date().toordinal() for zone in zones], dtype=np.int64)
    position = {int(member_id): row for row, member_id in enumerate(ids.tolist())}
    has_data = np.zeros(len(ids), dtype=bool)
    states: State | None = None
    if len(member_ids):
        row = np.array([position[int(m)] for m in member_ids], dtype=np.int64)
        has_data[np.unique(row)] = True
        first = int(days.min())
        last = int(max(days.max(), today.max()))
        span = last - first + 1
        sign_rows = np.array([position[int(m)] for m in sign_member], dtype=np.int64)
        data = batch.daily(len(ids), first, span, row, days - first, scales, np.zeros(len(row)))
        if len(sign_rows):
            np.add.at(data.signs, (sign_rows, sign_day - first), sign_count)
        csd_ids = _csd_members(ids.tolist())
        csd = np.array([int(member_id) in csd_ids for member_id in ids.tolist()])
        states = State(len(ids), p)
        first_data = np.full(len(ids), np.iinfo(np.int64).max)
        np.minimum.at(first_data, row, days)
        for offset in range(span):
            day = first + offset
            # Close the day for members whose own yesterday it is not past and whose history has begun.
            rows = (today > day) & (first_data <= day)
            if not rows.any():
                continue
            if rows.all():
                detectors.close_day(
                    states, day, data.values[:, offset], data.checkins[:, offset], data.signs[:, offset], csd=csd
                )
            else:
                subset = states.take(rows)
                detectors.close_day(
                    subset,
                    day,
                    data.values[rows, offset],
                    data.checkins[rows, offset],
                    data.signs[rows, offset],
                    csd=csd[rows],
                )
                states.matrix[rows] = subset.matrix
        # Today's check-ins are each member's pending day, as the live path keeps it.
        column = today - first
        inside = (column >= 0) & (column < span)
        detectors.clear_pending(states, slice(None), today)
        rows_today = np.flatnonzero(inside)
        todays = days == today[row]
        answered = ~np.isnan(scales[todays])
        np.add.at(states.acc_sum, row[todays], np.where(answered, scales[todays], 0.0))
        np.add.at(states.acc_n, row[todays], answered.astype(float))
        states.acc_checkins[rows_today] = data.checkins[rows_today, column[rows_today]]
        states.acc_signs[rows_today] = data.signs[rows_today, column[rows_today]]
    _store(ids, zones, has_data, states, csd if len(member_ids) else None)
    return len(member_ids), read_seconds


def _store(ids, zones, has_data, states: State | None, csd: np.ndarray | None = None) -> None:
    rows = []
    for index, member_id in enumerate(ids.tolist()):
        if not has_data[index]:
            continue
        pending = int(states.pending_day[index])
        pending_day = None if pending == NEVER else datetime.fromordinal(pending).date()
        closes_at = (
            times.at(pending_day + timedelta(days=1), datetime.min.time(), zones[index]) if pending_day else None
        )
        rows.append(
            DetectorState(
                member_id=member_id,
                layout=detectors.LAYOUT_VERSION,
                data=states.row_bytes(index),
                pending_day=pending_day,
                closes_at=closes_at,
                stale=False,
                csd=bool(csd[index]) if csd is not None else False,
            )
        )
    with transaction.atomic():
        DetectorState.objects.filter(member_id__in=ids.tolist()).delete()
        DetectorState.objects.bulk_create(rows, batch_size=1000)


def rescan(
    *, now: datetime | None = None, block: int = BLOCK, progress: Callable[[int, int, int], None] | None = None
) -> Rescanned:
    """Rebuild every member's state. `progress(members done, members, check-ins read)` after each block."""
    started = clock.perf_counter()
    now = now or timezone.now()
    User = get_user_model()
    people = list(
        User.objects.filter(org_roles__role=Role.MEMBER).distinct().order_by("pk").values_list("pk", "time_zone")
    )
    done = checkins = 0
    read_seconds = 0.0
    for start in range(0, len(people), block):
        chunk = people[start : start + block]
        ids = np.array([pk for pk, _zone in chunk], dtype=np.int64)
        read, seconds = rescan_block(ids, [zone for _pk, zone in chunk], now)
        checkins += read
        read_seconds += seconds
        done += len(chunk)
        if progress:
            progress(done, len(people), checkins)
    return Rescanned(
        members=len(people), checkins=checkins, seconds=clock.perf_counter() - started, read_seconds=read_seconds
    )


def bare_read(*, block: int = BLOCK) -> tuple[int, float]:
    """Only read the same columns with the same queries (the yardstick for rescan's speed)."""
    started = clock.perf_counter()
    User = get_user_model()
    ids = list(User.objects.filter(org_roles__role=Role.MEMBER).distinct().order_by("pk").values_list("pk", flat=True))
    rows = 0
    for start in range(0, len(ids), block):
        chunk = ids[start : start + block]
        checkins, _signs = fetch_block(chunk[0], chunk[-1])
        rows += len(checkins)
    return rows, clock.perf_counter() - started
