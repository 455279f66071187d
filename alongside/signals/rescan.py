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
from concurrent.futures import Future, ThreadPoolExecutor
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
# Rows converted to numbers at a time: a small chunk's array stays in the processor's cache (measured quickest).
CONVERTED = 4096


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
            # Check-ins still waiting for the worker are added when it announces them (engine.known_checkins).
            f"WHERE {member} BETWEEN %s AND %s AND NOT {quote('unannounced')} ORDER BY {member}, {local_date}",
            [first_id, last_id],
        )
        rows = cursor.fetchall()
        through = quote(CheckIn.tags.through._meta.db_table)
        tags = quote(Tag._meta.db_table)
        cursor.execute(
            f"SELECT c.{member}, {_day_number('c.' + local_date)}, COUNT(*) FROM {through} l "  # noqa: S608
            f"JOIN {tags} t ON t.{quote('id')} = l.{quote('tag_id')} "
            f"JOIN {table} c ON c.{quote('id')} = l.{quote('checkin_id')} "
            f"WHERE t.{quote('kind')} = %s AND c.{member} BETWEEN %s AND %s AND NOT c.{quote('unannounced')} "
            # A check-in's tags are its member's own: bounding them too lets PostgreSQL start from the block's
            # warning-sign tags and reach their links by index, instead of scanning every link.
            f"AND t.{member} BETWEEN %s AND %s GROUP BY c.{member}, c.{local_date}",
            [TagKind.WARNING_SIGN.value, first_id, last_id, first_id, last_id],
        )
        signs = cursor.fetchall()
    return rows, signs


def read_block(
    first_id: int, last_id: int, buffers: batch.Buffers | None = None, fetch: Callable = fetch_block
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple]:
    """The check-in columns of members first_id…last_id as arrays: member ids, local days (ordinals), scales
    (k, 6) with NaN where not answered; and the daily warning-sign counts (member, day, count). The rows are
    converted a chunk at a time (None becomes NaN) into one table (of `buffers`, when given: the scales are a
    view of it, valid until its next use)."""
    rows, signs = fetch(first_id, last_id)
    width = 2 + len(SCALES)
    table = (np.empty(len(rows) * width) if buffers is None else buffers.get("table", len(rows) * width)).reshape(
        -1, width
    )
    for start in range(0, len(rows), CONVERTED):
        table[start : start + CONVERTED] = np.array(rows[start : start + CONVERTED], dtype=float)
    del rows
    sign_table = np.array(signs, dtype=np.int64).reshape(-1, 3)
    return (
        table[:, 0].astype(np.int64),
        table[:, 1].astype(np.int64),
        table[:, 2:],
        (sign_table[:, 0], sign_table[:, 1], sign_table[:, 2].astype(float)),
    )


def _csd_members(ids: list[int]) -> set[int]:
    """Those of `ids` (ascending) whose current program runs the experimental critical-slowing-down detector.
    Asked by the range of ids (a list of thousands costs the ORM more than the query)."""
    enrolments = (
        Enrolment.objects.current().filter(member_id__gte=ids[0], member_id__lte=ids[-1]).select_related("program")
    )
    chosen = {e.member_id for e in enrolments if e.program.config.experimental_detectors.get("critical_slowing_down")}
    return chosen.intersection(ids)


def rescan_block(
    ids: np.ndarray,
    zones: list[str],
    now: datetime,
    p: detectors.Parameters = detectors.DEFAULT,
    buffers: batch.Buffers | None = None,
    database: _Database | None = None,
):
    """Rebuild and store the state of these members (ids ascending). Returns (check-ins read, read seconds).
    `buffers`: arrays to reuse from the block before; `database`: how rows are read and states written (by
    default here and now)."""
    buffers = buffers or batch.Buffers()
    database = database or _Database(background=False)
    started = clock.perf_counter()
    member_ids, days, scales, (sign_member, sign_day, sign_count) = read_block(
        int(ids[0]), int(ids[-1]), buffers, database.fetch
    )
    read_seconds = clock.perf_counter() - started
    today = np.array([now.astimezone(ZoneInfo(zone)).date().toordinal() for zone in zones], dtype=np.int64)
    # Each row's member: ids are ascending, so a position is a binary search (rows of anyone else in the id
    # range, who is not a member, are left out).
    row = _positions(ids, member_ids)
    if not (row >= 0).all():
        member_ids, days, scales, row = member_ids[row >= 0], days[row >= 0], scales[row >= 0], row[row >= 0]
    sign_rows = _positions(ids, sign_member)
    sign_rows, sign_day, sign_count = sign_rows[sign_rows >= 0], sign_day[sign_rows >= 0], sign_count[sign_rows >= 0]
    has_data = np.zeros(len(ids), dtype=bool)
    has_data[row] = True
    states: State | None = None
    csd = None
    if len(member_ids):
        first = int(days.min())
        last = int(max(days.max(), today.max()))
        span = last - first + 1
        data = batch.daily(len(ids), first, span, row, days - first, scales, np.zeros(len(row)), buffers=buffers)
        if len(sign_rows):
            np.add.at(data.signs, (sign_rows, sign_day - first), sign_count)
        csd_ids = _csd_members(ids.tolist())
        csd = np.array([int(member_id) in csd_ids for member_id in ids.tolist()])
        states = State.empty(len(ids), p, buffers.get("states", detectors.row_width(p) * len(ids)))
        for offset in range(span):
            day = first + offset
            # Close the day for members whose own yesterday it is not past. Members whose history has not begun
            # close it too, as a day without check-ins: that leaves an empty state as it was (nothing is
            # counted, nothing can fire), so every member closes every day of the block together, without
            # copying a subset of the states.
            rows = today > day
            if not rows.any():
                continue
            if rows.all():
                detectors.close_day(
                    states,
                    day,
                    data.values[:, offset],
                    data.checkins[:, offset],
                    data.signs[:, offset],
                    csd=csd,
                    series=data.series[:, offset],
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
                    series=data.series[rows, offset],
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
    database.written()  # the block before is written: its rows were slices of the buffer _rows fills now
    database.store(ids, _rows(ids, zones, has_data, states, csd, buffers))
    return len(member_ids), read_seconds


def _positions(ids: np.ndarray, member_ids: np.ndarray) -> np.ndarray:
    """The index of each of `member_ids` in `ids` (ascending), or -1 where it is not there."""
    position = np.minimum(np.searchsorted(ids, member_ids), len(ids) - 1)
    return np.where(ids[position] == member_ids, position, -1)


def _rows(ids, zones, has_data, states: State | None, csd: np.ndarray | None, buffers: batch.Buffers) -> list[tuple]:
    """The rows to store for the members with data, with the values the ORM would give them (`updated_at`: when
    the block is done)."""
    keep = np.flatnonzero(has_data)
    fields = [DetectorState._meta.get_field(name) for name in STORED]
    rows = []
    if len(keep):
        # The stored rows (little-endian floats, as State.row_bytes gives them) copied once into one array; each
        # member's row is a slice of its memory, not a copy.
        stored = buffers.get("stored", len(keep) * states.width).reshape(len(keep), states.width)
        if len(keep) == len(states):  # usually: a plain copy is quicker than taking rows of the matrix
            np.copyto(stored, states.matrix)
        else:
            stored[...] = states.matrix[keep]
        raw = memoryview(stored.astype("<f8", copy=False).reshape(-1)).cast("B")
        width = states.width * 8
        pending = states.pending_day[keep].astype(np.int64).tolist()
        flags = csd[keep].tolist() if csd is not None else [False] * len(keep)
        prepared = _Prepared(fields)
        updated = prepared("updated_at", timezone.now())
        for index, (position, day) in enumerate(zip(keep.tolist(), pending, strict=True)):
            zone = zones[position]
            if day == NEVER:
                pending_day = closes_at = None
            else:
                pending_day = prepared("pending_day", day)
                closes_at = prepared.closes_at(day, zone)
            rows.append(
                (
                    int(ids[position]),
                    detectors.LAYOUT_VERSION,
                    raw[index * width : (index + 1) * width],
                    pending_day,
                    closes_at,
                    False,
                    bool(flags[index]),
                    updated,
                )
            )
    return rows


def _replace(ids, rows: list[tuple]) -> None:
    """Replace the block's stored states: one DELETE, then the rows written with one prepared INSERT (COPY on
    PostgreSQL)."""
    quote = connection.ops.quote_name
    marks = ", ".join(["%s"] * len(ids))
    with transaction.atomic():
        with connection.cursor() as cursor:  # the ORM would spend longer on the list of ids than the database
            cursor.execute(
                f"DELETE FROM {quote(DetectorState._meta.db_table)} WHERE {quote('member_id')} IN ({marks})",  # noqa: S608
                ids.tolist(),
            )
        if rows:
            _insert([DetectorState._meta.get_field(name) for name in STORED], rows)


class _Database:
    """The rescan's reading and writing, in a background thread when `background`: the next block is read
    while this one's days are closed, and a block's states are written while the next is read and closed. The
    thread has a connection of its own and mostly waits for the database with the interpreter lock released
    (PostgreSQL works in a process of its own); the computing stays in the calling thread. Its reads and writes
    run one at a time, in order; each block's states are written in a transaction of their own, as in turn."""

    def __init__(self, background: bool) -> None:
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="rescan") if background else None
        self.reads: dict[tuple[int, int], Future] = {}
        self.writing: Future | None = None

    @staticmethod
    def background_possible() -> bool:
        """Where the database works in a process of its own (PostgreSQL), and not inside a transaction (another
        connection would not see its rows, nor be part of it). SQLite's work is this process's own: measured,
        the thread only competed with the day loop for the processor (docs/performance.md)."""
        return connection.vendor != "sqlite" and not connection.in_atomic_block

    def read_ahead(self, first_id: int, last_id: int) -> None:
        """Start reading a block that `fetch` will ask for."""
        if self.pool is not None:
            self.reads[first_id, last_id] = self.pool.submit(fetch_block, first_id, last_id)

    def fetch(self, first_id: int, last_id: int) -> tuple[list, list]:
        read = self.reads.pop((first_id, last_id), None)
        return fetch_block(first_id, last_id) if read is None else read.result()

    def store(self, ids, rows: list[tuple]) -> None:
        if self.pool is None:
            _replace(ids, rows)
        else:
            self.writing = self.pool.submit(_replace, ids, rows)

    def written(self) -> None:
        """Wait until the last block given to `store` is written (raising what went wrong there)."""
        if self.writing is not None:
            writing, self.writing = self.writing, None
            writing.result()

    def close(self) -> None:
        if self.pool is not None:
            try:
                self.written()
            finally:
                self.reads.clear()
                self.pool.submit(lambda: connection.close()).result()  # the thread's own connection
                self.pool.shutdown()


# The columns a rescan writes, in this order.
STORED = ("member", "layout", "data", "pending_day", "closes_at", "stale", "csd", "updated_at")


class _Prepared:
    """Database values of the few distinct dates and times a block stores, each converted once."""

    def __init__(self, fields) -> None:
        self.fields = {field.name: field for field in fields}
        self.cache: dict = {}

    def __call__(self, name: str, value):
        key = (name, value)
        if key not in self.cache:
            python = datetime.fromordinal(value).date() if name == "pending_day" else value
            self.cache[key] = self.fields[name].get_db_prep_save(python, connection)
        return self.cache[key]

    def closes_at(self, day: int, zone: str):
        """When the pending day ends on the member's clock, as the live path sets it."""
        key = ("closes_at", day, zone)
        if key not in self.cache:
            moment = times.at(datetime.fromordinal(day).date() + timedelta(days=1), datetime.min.time(), zone)
            self.cache[key] = self.fields["closes_at"].get_db_prep_save(moment, connection)
        return self.cache[key]


def _insert(fields, rows: list[tuple]) -> None:
    quote = connection.ops.quote_name
    table = quote(DetectorState._meta.db_table)
    columns = ", ".join(quote(field.column) for field in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY in binary: the 6 KB states go as they are, not as hex text.
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types([field.db_type(connection) for field in fields])
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)  # noqa: S608 (model names)


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
    buffers = batch.Buffers()
    database = _Database(background=_Database.background_possible())
    try:
        for start in range(0, len(people), block):
            chunk = people[start : start + block]
            ids = np.array([pk for pk, _zone in chunk], dtype=np.int64)
            following = people[start + block : start + 2 * block]
            if following:
                database.read_ahead(following[0][0], following[-1][0])
            read, seconds = rescan_block(ids, [zone for _pk, zone in chunk], now, buffers=buffers, database=database)
            checkins += read
            read_seconds += seconds
            done += len(chunk)
            if progress:
                progress(done, len(people), checkins)
    finally:
        database.close()
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
