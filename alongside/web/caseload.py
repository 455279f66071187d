"""A supporter's caseload: the members they support, sorted by need, each with what the member lets them see.

`caseload_for(person)` answers with a fixed number of queries whatever the caseload's size: one per kind of
fact, each for all the caseload's members at once and each limited to the members who share that fact's
category with the person (`care.policy`). Sorting is by need: the most severe open alert first, then the
steepest fall in mood (the last 7 days against the 21 before), then name.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, Max, OuterRef, Q, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alongside.accounts.models import Role
from alongside.audit.log import record_many
from alongside.audit.models import AuditAction
from alongside.care import policy
from alongside.care.models import AftercarePlan, Category, ConsentGrant, OutreachContact
from alongside.monitoring.models import Assessment, CheckIn, QuestionnaireResponse
from alongside.notify.models import LadderEvent
from alongside.programs.models import Enrolment
from alongside.schedule.models import Occurrence, OccurrenceStatus
from alongside.signals.alerts import alerts_visible_to
from alongside.signals.models import SEVERITY_RANK, AlertStatus

User = get_user_model()

SPARK_DAYS = 28
RECENT_DAYS = 7  # the trend compares these last days with the rest of the spark window
LOOKBACK = timedelta(days=30)  # missed appointments and expired assessments this recent are flagged


@dataclass(frozen=True)
class Flag:
    code: str
    label: str


# Each flag is worked out only for the members who share its category (`caseload_for`): an open alert by its
# firings' own categories, missed check-ins and the ladder by engagement, questionnaires by questionnaire
# results, a missed appointment by appointments, the plan review by the plan.
FLAGS = {
    flag.code: flag
    for flag in (
        Flag("alert", _("Open alert")),
        Flag("missed_checkins", _("Missed check-ins")),
        Flag("ladder", _("Quiet: the team was told")),
        Flag("assessment_due", _("Questionnaire due")),
        Flag("assessment_expired", _("Questionnaire expired")),
        Flag("appointment_missed", _("Appointment missed")),
        Flag("plan_review", _("Plan review due")),
    )
}
MEMBER_STEPS = ("remind_member", "nudge_member")  # the ladder's steps that only remind the member
MISSED_CHECKIN_DAYS = 3  # no check-in for this many days, after checking in within the spark window


@dataclass(frozen=True)
class MemberRef:
    """What a caseload row needs of a member: their id, name and time zone (no model instance per row)."""

    pk: int
    display_name: str
    time_zone: str


@dataclass
class Row:
    member: MemberRef
    organisation: int | None = None  # id of the first relationship's organisation (for the audit log)
    roles: list[str] = field(default_factory=list)
    role_codes: set[str] = field(default_factory=set)
    organisations: list[str] = field(default_factory=list)
    phases: list[str] = field(default_factory=list)
    shared: set[str] = field(default_factory=set)
    severity: str = ""  # the most severe open alert the person may see
    open_alerts: int = 0
    flags: list[Flag] = field(default_factory=list)
    last_checkin: datetime | None = None
    last_contact: datetime | None = None
    mood: list[float | None] = field(default_factory=list)  # daily means, oldest first, SPARK_DAYS long
    trend: float | None = None  # mean mood of the last RECENT_DAYS minus that of the days before

    @property
    def need(self) -> tuple:
        severity = SEVERITY_RANK.get(self.severity, -1) if self.severity else -1
        trend = self.trend if self.trend is not None else 0.0
        return (-severity, trend, -len(self.flags), self.member.display_name.casefold())


def caseload_for(person, *, now: datetime | None = None) -> list[Row]:
    """Every member the person supports (live relationships), sorted by need."""
    now = now or timezone.now()
    relationships = list(
        policy.live_relationships(person)
        .order_by("member_id")
        .values_list(
            "pk", "member_id", "member__display_name", "member__time_zone", "role", "organisation_id",
            "organisation__name",
        )
    )  # fmt: skip
    role_names = dict(Role.choices)
    rows: dict[int, Row] = {}
    for _pk, member_id, name, zone, role, organisation_id, organisation in relationships:
        row = rows.setdefault(member_id, Row(member=MemberRef(member_id, name, zone), organisation=organisation_id))
        row.role_codes.add(role)
        if str(role_names[role]) not in row.roles:
            row.roles.append(str(role_names[role]))
        if organisation not in row.organisations:
            row.organisations.append(organisation)
    if not rows:
        return []
    grants = ConsentGrant.objects.filter(relationship__in=[r[0] for r in relationships]).values_list(
        "relationship__member_id", "category"
    )
    for member_id, category in grants:
        rows[member_id].shared.add(category)
    sharing = defaultdict(list)
    for member_id, row in rows.items():
        for category in row.shared:
            sharing[category].append(member_id)

    organisations = {r[5] for r in relationships}
    enrolments = Enrolment.objects.current().filter(member__in=list(rows), program__organisation__in=organisations)
    for member_id, phase in enrolments.values_list("member_id", "phase__name"):
        if phase and phase not in rows[member_id].phases:
            rows[member_id].phases.append(phase)

    open_alerts = (
        alerts_visible_to(person)
        .filter(member__in=list(rows))
        .exclude(status=AlertStatus.RESOLVED)
        .values_list("member_id", "severity")
    )
    for member_id, severity in open_alerts:
        row = rows[member_id]
        row.open_alerts += 1
        if not row.severity or SEVERITY_RANK[severity] > SEVERITY_RANK[row.severity]:
            row.severity = severity

    engagement = sharing[Category.ENGAGEMENT.value]
    # The newest check-in of each member by one index lookup each (member, newest first), not an aggregate over
    # all their history.
    newest = CheckIn.objects.filter(member=OuterRef("pk")).order_by("-recorded_at").values("recorded_at")[:1]
    last_checkins = dict(
        User.objects.filter(pk__in=engagement).annotate(last=Subquery(newest)).values_list("pk", "last")
    )
    colleagues = policy.colleagues(person)
    last_contacts = dict(
        OutreachContact.objects.filter(member__in=engagement, staff__in=colleagues)
        .values("member")
        .annotate(last=Max("contacted_at"))
        .values_list("member", "last")
    )
    # The ladder has reached the care team (past the member's own reminders) in the member's current quiet spell,
    # which began at their last check-in.
    ladder = defaultdict(list)
    team_steps = LadderEvent.objects.filter(member__in=engagement, at__gte=now - LOOKBACK).exclude(
        action__in=MEMBER_STEPS
    )
    for member_id, spell_start in team_steps.values_list("member_id", "spell_start"):
        ladder[member_id].append(spell_start)
    for member_id in engagement:
        row = rows[member_id]
        row.last_checkin = last_checkins.get(member_id)
        row.last_contact = last_contacts.get(member_id)
        quiet = now - row.last_checkin if row.last_checkin is not None else None
        # Missed lately, after checking in within the spark window (a long silence is the ladder's to show).
        if quiet is not None and timedelta(days=MISSED_CHECKIN_DAYS) <= quiet <= timedelta(days=SPARK_DAYS):
            row.flags.append(FLAGS["missed_checkins"])
        if any(row.last_checkin is None or spell >= row.last_checkin for spell in ladder.get(member_id, ())):
            row.flags.append(FLAGS["ladder"])

    _trend(rows, sharing[Category.CHECKINS.value], now)
    _assessments(rows, sharing[Category.QUESTIONNAIRES.value], now)
    missed = (
        Occurrence.objects.filter(
            appointment__member__in=sharing[Category.APPOINTMENTS.value],
            status=OccurrenceStatus.MISSED,
            start__gte=now - LOOKBACK,
            start__lte=now,
        )
        .values_list("appointment__member_id", flat=True)
        .distinct()
    )
    for member_id in missed:
        rows[member_id].flags.append(FLAGS["appointment_missed"])
    due_reviews = AftercarePlan.objects.filter(
        member__in=sharing[Category.PLAN.value], review_due__lte=timezone.localdate(now)
    ).values_list("member_id", flat=True)
    for member_id in due_reviews:
        rows[member_id].flags.append(FLAGS["plan_review"])
    for row in rows.values():
        if row.open_alerts:
            row.flags.insert(0, FLAGS["alert"])
    return sorted(rows.values(), key=lambda row: row.need)


def _local_today(member, now: datetime) -> date:
    return now.astimezone(ZoneInfo(member.time_zone)).date()


def _trend(rows: dict[int, Row], members: list[int], now: datetime) -> None:
    """Each member's mean mood over the last RECENT_DAYS days of their own calendar against the days before in
    the spark window (over check-ins), from one aggregate per member: what sorting needs of every row."""
    if not members:
        return
    by_today: dict[date, list[int]] = defaultdict(list)
    for member_id in members:
        by_today[_local_today(rows[member_id].member, now)].append(member_id)
    # Members' calendars differ by a day or so across time zones: one condition per distinct "today".
    recent = Q()
    window = Q()
    for today, ids in by_today.items():
        recent |= Q(member__in=ids, local_date__gt=today - timedelta(days=RECENT_DAYS), local_date__lte=today)
        window |= Q(member__in=ids, local_date__gt=today - timedelta(days=SPARK_DAYS), local_date__lte=today)
    sums = (
        CheckIn.objects.filter(window, mood__isnull=False)
        .values("member")
        .annotate(
            recent_total=Sum("mood", filter=recent),
            recent_days=Count("local_date", filter=recent, distinct=True),
            recent_n=Count("mood", filter=recent),
            total=Sum("mood"),
            days=Count("local_date", distinct=True),
            n=Count("mood"),
        )
        .values_list("member", "recent_total", "recent_days", "recent_n", "total", "days", "n")
    )
    for member_id, recent_total, recent_days, recent_n, total, days, n in sums:
        before_days, before_n = days - recent_days, n - recent_n
        if recent_days >= 2 and before_days >= 3:
            before_mean = (total - (recent_total or 0)) / before_n
            rows[member_id].trend = round((recent_total or 0) / recent_n - before_mean, 1)


def mood_lines(rows: list[Row], now: datetime | None = None) -> None:
    """Daily mood means of the spark window (each member's own calendar) for these rows (a page of them), for
    those who share check-in answers: one query."""
    now = now or timezone.now()
    members = [row for row in rows if Category.CHECKINS.value in row.shared]
    if not members:
        return
    earliest = min(_local_today(row.member, now) for row in members) - timedelta(days=SPARK_DAYS - 1)
    rows_by_id = {row.member.pk: row for row in members}
    # Sums and counts (whole numbers) rather than AVG, which PostgreSQL answers as NUMERIC (a Decimal per row).
    daily = (
        CheckIn.objects.filter(member__in=list(rows_by_id), local_date__gte=earliest, mood__isnull=False)
        .values("member", "local_date")
        .annotate(total=Sum("mood"), count=Count("mood"))
        .values_list("member", "local_date", "total", "count")
    )
    by_member: dict[int, dict[date, float]] = defaultdict(dict)
    for member_id, day, total, count in daily:
        by_member[member_id][day] = total / count
    for member_id, row in rows_by_id.items():
        today = _local_today(row.member, now)
        days = [today - timedelta(days=SPARK_DAYS - 1 - offset) for offset in range(SPARK_DAYS)]
        row.mood = [by_member[member_id].get(day) for day in days]


def _assessments(rows: dict[int, Row], members: list[int], now: datetime) -> None:
    """Questionnaires whose window is open and unanswered (due), or closed unanswered lately (expired)."""
    if not members:
        return
    answered = QuestionnaireResponse.objects.filter(
        member=OuterRef("member"),
        instrument=OuterRef("instrument"),
        complete=True,
        completed_at__gte=OuterRef("opens_at"),
        completed_at__lte=OuterRef("closes_at"),
    )
    windows = (
        Assessment.objects.filter(member__in=members, opens_at__lte=now, closes_at__gte=now - LOOKBACK)
        .annotate(answered=Exists(answered))
        .filter(answered=False)
        .values_list("member_id", "closes_at")
    )
    for member_id, closes_at in windows:
        flag = FLAGS["assessment_due"] if closes_at >= now else FLAGS["assessment_expired"]
        if flag not in rows[member_id].flags:
            rows[member_id].flags.append(flag)


def filter_rows(rows: list[Row], *, query: str = "", flag: str = "", phase: str = "") -> list[Row]:
    query = query.strip().casefold()
    return [
        row
        for row in rows
        if (not query or query in row.member.display_name.casefold())
        and (not flag or any(f.code == flag for f in row.flags))
        and (not phase or phase in row.phases)
    ]


def record_reads(request, rows: list[Row]) -> None:
    """The caseload shows each listed member's shared facts: one audit entry per member shown, in one insert."""
    record_many(
        AuditAction.VIEW,
        request=request,
        entries=[
            {
                "member": row.member,
                "organisation": row.organisation,
                "category": Category.PROFILE.value,
                "detail": "caseload" + (": " + ", ".join(sorted(row.shared)) if row.shared else ""),
                "actor_roles": ",".join(sorted(row.role_codes)),
            }
            for row in rows
        ],
    )
