"""Program outcomes for an organisation's admins: aggregates only, with small cells suppressed.

What is counted, for one program (every member ever enrolled in it), as of a day:

- **enrolled**: members currently enrolled; **active**: of them, those with a check-in in the last 30 days;
  **check-in adherence**: the median share of the last 30 days on which a currently enrolled member checked in.
- **retention** at 30, 90, 180 and 365 days after discharge: of the members discharged at least that long ago,
  the share who checked in during the 14 days up to that day (still using their aftercare).
- **questionnaire change** (PHQ-9, GAD-7): each member's first complete result in Alongside against their
  latest; the mean change and the shares reliably improved, reliably deteriorated and in reliable recovery
  (reliably improved and no longer a case), by the NHS Talking Therapies reliable change (6 and 4 points).
- **time to acknowledge** the alerts opened in the last 90 days (median minutes), and how many wait.
- **appointment attendance** in the last 90 days: attended of attended and missed.
- **group meeting attendance** in the last 90 days, in the organisation's groups: meetings attended of those
  whose attendance was recorded (cancelled meetings left out).

**Small cells**: a count of 1 to 4 people is never shown, nor a share whose count or complement (the people
it leaves out) is 1 to 4, nor a median or mean over fewer than 5 people. What is held back says so.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from alongside.groups.models import Attendance, MeetingStatus
from alongside.monitoring import instruments
from alongside.monitoring.models import CheckIn, QuestionnaireResponse
from alongside.programs.models import Enrolment, Program
from alongside.schedule.models import Occurrence, OccurrenceStatus
from alongside.signals.models import Alert

SMALL_CELL = 5
ACTIVE_DAYS = 30
RETENTION_DAYS = (30, 90, 180, 365)
RETENTION_WINDOW = 14
RECENT = timedelta(days=90)
CHANGE_INSTRUMENTS = ("phq9", "gad7")


def _small(count: int) -> bool:
    return 0 < count < SMALL_CELL


@dataclass(frozen=True)
class Share:
    """`count` of `of` people, or held back (None) when either would point at fewer than 5 people."""

    count: int | None
    of: int | None
    left_out_small: bool = False  # held back because those it leaves out are 1 to 4 ("all but a few")

    @classmethod
    def of_people(cls, count: int, of: int) -> Share:
        if _small(of):
            return cls(None, None)
        if _small(count):
            return cls(None, of)
        if _small(of - count):
            return cls(None, of, left_out_small=True)
        return cls(count, of)

    @property
    def percent(self) -> float | None:
        return None if self.count is None or not self.of else round(100 * self.count / self.of, 1)


@dataclass(frozen=True)
class Change:
    instrument: str
    name: str
    members: int | None  # with a first and a latest result (None: fewer than 5)
    mean_change: float | None
    improved: Share
    deteriorated: Share
    recovered: Share  # of those who were a case at first


@dataclass(frozen=True)
class Outcomes:
    program: Program
    as_of: date
    enrolled: int | None
    active: Share
    adherence_median: float | None  # percent of days
    retention: list[tuple[int, Share]]
    changes: list[Change]
    alerts: int | None
    acknowledge_median_minutes: float | None
    unacknowledged: int | None
    attendance: Share
    group_attendance: Share


def _count(value: int) -> int | None:
    return None if _small(value) else value


def outcomes_for(program: Program, *, now: datetime | None = None) -> Outcomes:
    now = now or timezone.now()
    today = timezone.localdate(now)
    enrolments = Enrolment.objects.filter(program=program)
    members = enrolments.values("member")
    current = list(enrolments.current().values_list("member_id", flat=True).distinct())

    since = today - timedelta(days=ACTIVE_DAYS - 1)
    days_by_member = dict(
        CheckIn.objects.filter(member__in=current, local_date__gte=since, local_date__lte=today)
        .values("member")
        .annotate(days=Count("local_date", distinct=True))
        .values_list("member", "days")
    )
    active = Share.of_people(len(days_by_member), len(current))
    adherence = None
    if len(current) >= SMALL_CELL:
        adherence = round(100 * statistics.median(days_by_member.get(m, 0) for m in current) / ACTIVE_DAYS, 1)

    retention = []
    for days in RETENTION_DAYS:
        eligible = enrolments.filter(discharge_date__isnull=False, discharge_date__lte=today - timedelta(days=days))
        rows = list(eligible.values_list("member_id", "discharge_date"))
        retained = _retained(rows, days)
        retention.append((days, Share.of_people(retained, len(rows))))

    changes = [_change(code, program) for code in CHANGE_INSTRUMENTS]

    alerts = list(
        Alert.objects.filter(member__in=members, opened_at__gte=now - RECENT).values_list(
            "member_id", "opened_at", "acknowledged_at"
        )
    )
    alerted = {member for member, _opened, _acknowledged in alerts}
    waits = [(acknowledged - opened).total_seconds() / 60 for _m, opened, acknowledged in alerts if acknowledged]
    acknowledged_by = {member for member, _opened, acknowledged in alerts if acknowledged}
    median_wait = None
    if len(acknowledged_by) >= SMALL_CELL and waits:
        median_wait = round(statistics.median(waits), 1)
    waiting = sum(1 for *_rest, acknowledged in alerts if acknowledged is None)

    visits = list(
        Occurrence.objects.filter(
            appointment__member__in=members,
            start__gte=now - RECENT,
            start__lte=now,
            status__in=(OccurrenceStatus.ATTENDED, OccurrenceStatus.MISSED),
        ).values_list("appointment__member_id", "status")
    )
    visitors = {member for member, _status in visits}
    attended = sum(1 for _member, status in visits if status == OccurrenceStatus.ATTENDED)
    attendance = Share.of_people(attended, len(visits)) if len(visitors) >= SMALL_CELL else Share(None, None)

    group_attendance = _group_attendance(program, members, now)

    return Outcomes(
        program=program,
        as_of=today,
        enrolled=_count(len(current)),
        active=active,
        adherence_median=adherence,
        retention=retention,
        changes=changes,
        alerts=_count(len(alerts)) if len(alerted) >= SMALL_CELL else None,
        acknowledge_median_minutes=median_wait,
        unacknowledged=_count(waiting) if len(alerted) >= SMALL_CELL else None,
        attendance=attendance,
        group_attendance=group_attendance,
    )


def _group_attendance(program: Program, members, now: datetime) -> Share:
    """Group meetings attended of those recorded for the program's members, over the last 90 days (one query).
    Held back unless at least 5 people are counted."""
    rows = list(
        Attendance.objects.filter(
            person__in=members,
            meeting__series__group__organisation=program.organisation_id,
            meeting__start__gte=now - RECENT,
            meeting__start__lte=now,
        )
        .exclude(meeting__status=MeetingStatus.CANCELLED)
        .values_list("person_id", "attended")
    )
    people = {person for person, _attended in rows}
    if len(people) < SMALL_CELL:
        return Share(None, None)
    return Share.of_people(sum(1 for _person, attended in rows if attended), len(rows))


def _retained(rows: list[tuple[int, date]], days: int) -> int:
    """How many of these (member, discharge date) checked in during the RETENTION_WINDOW days up to day `days`
    after their discharge. One query: each member's check-in days within the widest window, then matched."""
    if not rows:
        return 0
    windows = {}
    for member, discharged in rows:
        end = discharged + timedelta(days=days)
        windows[member] = (end - timedelta(days=RETENTION_WINDOW - 1), end)
    first = min(start for start, _end in windows.values())
    last = max(end for _start, end in windows.values())
    # Only the days that matter: one check-in day per member inside its own window is enough.
    found = set()
    for member, day in (
        CheckIn.objects.filter(member__in=list(windows), local_date__gte=first, local_date__lte=last)
        .values_list("member", "local_date")
        .distinct()
        .iterator(chunk_size=5000)
    ):
        start, end = windows[member]
        if start <= day <= end:
            found.add(member)
    return len(found)


def _change(code: str, program: Program) -> Change:
    instrument = instruments.get(code)
    in_program = Enrolment.objects.filter(program=program, member=OuterRef("member"))
    results = (
        QuestionnaireResponse.objects.filter(instrument=code, complete=True, total__isnull=False)
        .filter(Exists(in_program))
        .order_by("member_id", "completed_at")
        .values_list("member_id", "total", "is_case")
    )
    first: dict[int, tuple[int, bool]] = {}
    latest: dict[int, tuple[int, bool]] = {}
    count: dict[int, int] = {}
    for member, total, is_case in results.iterator(chunk_size=5000):
        first.setdefault(member, (total, bool(is_case)))
        latest[member] = (total, bool(is_case))
        count[member] = count.get(member, 0) + 1
    pairs = [(first[m], latest[m]) for m in first if count[m] >= 2]
    improved = deteriorated = recovered = cases = 0
    changes = []
    for (before, was_case), (after, is_case) in pairs:
        verdict = instruments.reliable_change(instrument, before, after)
        changes.append(after - before)
        improved += verdict == instruments.IMPROVED
        deteriorated += verdict == instruments.DETERIORATED
        if was_case:
            cases += 1
            recovered += verdict == instruments.IMPROVED and not is_case
    n = len(pairs)
    enough = n >= SMALL_CELL
    return Change(
        instrument=code,
        name=instrument.name,
        members=_count(n),
        mean_change=round(statistics.fmean(changes), 1) if enough else None,
        improved=Share.of_people(improved, n),
        deteriorated=Share.of_people(deteriorated, n),
        recovered=Share.of_people(recovered, cases),
    )
