"""Recovery milestones Alongside celebrates with the member: days since discharge or completing the program, days
in a row of checking in (both at the program's celebration days), and goals and milestones achieved.

Each celebration happens once (its `key`), in the app only: a `Celebration` row and an inbox notification with
no clinical detail. Day counts are on the member's own clock. The worker (`jobs.py`) finds everyone due with one
query per kind of milestone; running it twice, or in two workers, adds nothing (keys are unique, and so are the
notifications' source keys)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from alongside.audit.log import record, record_many
from alongside.audit.models import AuditAction
from alongside.goals.models import Celebration, CelebrationKind, GoalStatus, Milestone
from alongside.monitoring.models import CheckIn
from alongside.notify.models import NotificationKind
from alongside.notify.outbox import notify, notify_many
from alongside.programs.models import Enrolment, Program, Transition, TransitionKind
from alongside.programs.settings_schema import DEFAULT_CELEBRATION_DAYS

# A day the worker missed (it was down, the member's day ended while it slept) is still celebrated this many days
# late; older ones are left alone, so turning the feature on does not celebrate everyone's past at once.
GRACE_DAYS = 3
CATEGORY = "goals"


def local_today(time_zone: str, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(ZoneInfo(time_zone)).date()


def celebration_days(settings: dict | None) -> list[int]:
    """A program's celebration days (programs saved before the setting existed use the defaults)."""
    days = (settings or {}).get("celebration_days")
    return sorted(set(days)) if days else list(DEFAULT_CELEBRATION_DAYS)


def title_for(kind: str, days: int | None = None) -> str:
    """What the member is told, in words with no clinical detail."""
    n = days or 0
    if kind == CelebrationKind.DAYS_SINCE_DISCHARGE:
        return ngettext("%(n)s day since discharge — well done", "%(n)s days since discharge — well done", n) % {"n": n}
    if kind == CelebrationKind.DAYS_SINCE_COMPLETION:
        return ngettext(
            "%(n)s day since completing your program — well done",
            "%(n)s days since completing your program — well done",
            n,
        ) % {"n": n}
    if kind == CelebrationKind.CHECKIN_STREAK:
        return ngettext(
            "%(n)s day in a row of checking in — well done", "%(n)s days in a row of checking in — well done", n
        ) % {"n": n}
    if kind == CelebrationKind.GOAL_ACHIEVED:
        return _("You achieved a goal — well done")
    return _("You reached a milestone on the way to your goal — well done")


@dataclass(frozen=True)
class Due:
    """A celebration the member has reached and that may not have happened yet."""

    member_id: int
    kind: str
    days: int
    key: str


def _candidate_dates(now: datetime, days: set[int]) -> set[date]:
    """Anchor dates (a discharge, a completion) that could be `n` days ago today (within the grace) on some clock:
    every member's today is within a day of today in UTC."""
    utc_today = now.astimezone(ZoneInfo("UTC")).date()
    return {
        utc_today + timedelta(days=shift - n - late)
        for shift in (-1, 0, 1)
        for n in days
        for late in range(GRACE_DAYS + 1)
    }


def _all_program_days() -> set[int]:
    days = set(DEFAULT_CELEBRATION_DAYS)
    for settings in Program.objects.values_list("settings", flat=True):
        days.update(celebration_days(settings))
    return days


def _reached(anchor: date, today: date, days: list[int]) -> list[int]:
    elapsed = (today - anchor).days
    return [n for n in days if n <= elapsed <= n + GRACE_DAYS]


def due_day_counts(now: datetime | None = None) -> list[Due]:
    """Everyone whose days since discharge or since completing their program reach a celebration day today (on
    their clock): one query per kind, whatever the number of members."""
    now = now or timezone.now()
    dates = _candidate_dates(now, _all_program_days())
    due: list[Due] = []
    discharges = (
        Enrolment.objects.current()
        .filter(discharge_date__in=dates, member__is_active=True)
        .values_list("member_id", "member__time_zone", "program__settings", "discharge_date")
    )
    for member_id, zone, settings, anchor in discharges:
        for n in _reached(anchor, local_today(zone, now), celebration_days(settings)):
            key = f"{CelebrationKind.DAYS_SINCE_DISCHARGE}:{member_id}:{anchor.isoformat()}:{n}"
            due.append(Due(member_id, CelebrationKind.DAYS_SINCE_DISCHARGE, n, key))
    completions = Transition.objects.filter(
        kind=TransitionKind.GRADUATION, effective_date__in=dates, enrolment__member__is_active=True
    ).values_list(
        "enrolment__member_id", "enrolment__member__time_zone", "enrolment__program__settings", "effective_date"
    )
    for member_id, zone, settings, anchor in completions:
        for n in _reached(anchor, local_today(zone, now), celebration_days(settings)):
            key = f"{CelebrationKind.DAYS_SINCE_COMPLETION}:{member_id}:{anchor.isoformat()}:{n}"
            due.append(Due(member_id, CelebrationKind.DAYS_SINCE_COMPLETION, n, key))
    return due


def streak_from(days: set[date], today: date) -> tuple[int, date | None]:
    """Days in a row with a check-in, ending today (or yesterday: today is not over yet), and the first of them."""
    end = today if today in days else today - timedelta(days=1)
    if end not in days:
        return 0, None
    start = end
    while start - timedelta(days=1) in days:
        start -= timedelta(days=1)
    return (end - start).days + 1, start


def due_streaks(now: datetime | None = None) -> list[Due]:
    """Everyone whose check-in streak reaches a celebration day: the recent check-in days of the members who checked
    in lately, in one query, then each member's program's days (one more query for all of them)."""
    now = now or timezone.now()
    utc_today = now.astimezone(ZoneInfo("UTC")).date()
    longest = max(_all_program_days())
    recent = CheckIn.objects.filter(member=OuterRef("member"), local_date__gte=utc_today - timedelta(days=2))
    rows = (
        CheckIn.objects.filter(local_date__gte=utc_today - timedelta(days=longest + GRACE_DAYS + 2))
        .filter(Exists(recent), member__is_active=True)
        .values_list("member_id", "local_date")
        .distinct()
    )
    days_of: dict[int, set[date]] = {}
    for member_id, day in rows:
        days_of.setdefault(member_id, set()).add(day)
    if not days_of:
        return []
    zones = dict(get_user_model().objects.filter(pk__in=days_of).values_list("pk", "time_zone"))
    programs: dict[int, dict] = {}
    enrolments = Enrolment.objects.current().filter(member__in=days_of).order_by("enrolled_at")
    for member_id, settings in enrolments.values_list("member_id", "program__settings"):
        programs.setdefault(member_id, settings)
    due = []
    for member_id, days in days_of.items():
        length, start = streak_from(days, local_today(zones[member_id], now))
        for n in celebration_days(programs.get(member_id)):
            if n <= length <= n + GRACE_DAYS:
                key = f"{CelebrationKind.CHECKIN_STREAK}:{member_id}:{start.isoformat()}:{n}"
                due.append(Due(member_id, CelebrationKind.CHECKIN_STREAK, n, key))
    return due


def celebrated_keys(keys: list[str]) -> set[str]:
    return set(Celebration.objects.filter(key__in=keys).values_list("key", flat=True))


def celebrate_due(due: list[Due], now: datetime | None = None) -> int:
    """Store the celebrations not yet made and tell each member in their inbox. Returns how many were new."""
    if not due:
        return 0
    now = now or timezone.now()
    known = celebrated_keys([item.key for item in due])
    fresh = list({item.key: item for item in due if item.key not in known}.values())
    if not fresh:
        return 0
    members = {
        person.pk: person
        for person in get_user_model()
        .objects.filter(pk__in={item.member_id for item in fresh})
        .only("id", "time_zone", "display_name")
    }
    link = reverse("goals:growth")
    with transaction.atomic():
        # A second worker may have stored some of them meanwhile: the unique key keeps one of each.
        Celebration.objects.bulk_create(
            [
                Celebration(member_id=item.member_id, kind=item.kind, days=item.days, key=item.key, created_at=now)
                for item in fresh
            ],
            ignore_conflicts=True,
        )
        # Ours are the rows stamped with this run's moment; a row another worker stored first is its to announce.
        mine = set(
            Celebration.objects.filter(key__in=[item.key for item in fresh], created_at=now).values_list(
                "key", flat=True
            )
        )
        fresh = [item for item in fresh if item.key in mine]
        notify_many(
            [
                {"recipient": members[item.member_id], "kind": NotificationKind.GOALS,
                 "title": title_for(item.kind, item.days), "link": link,
                 "source_key": f"celebration:{item.key}", "at": now}
                for item in fresh
            ]
        )  # fmt: skip
        record_many(
            AuditAction.CHANGE,
            request=None,
            entries=[
                {"member": members[item.member_id], "category": CATEGORY, "actor_label": "Alongside",
                 "detail": f"celebration: {item.kind} {item.days}"}
                for item in fresh
            ],
        )  # fmt: skip
    return len(fresh)


def celebrate_recovery_days(now: datetime | None = None) -> int:
    """The worker's job: every day count and streak that is due, celebrated once."""
    now = now or timezone.now()
    return celebrate_due(due_day_counts(now) + due_streaks(now), now)


def _celebrate_once(member, *, kind: str, key: str, goal=None, milestone=None) -> Celebration | None:
    try:
        with transaction.atomic():
            celebration = Celebration.objects.create(member=member, kind=kind, key=key, goal=goal, milestone=milestone)
    except IntegrityError:
        return None  # celebrated already
    notify(
        member,
        kind=NotificationKind.GOALS,
        title=title_for(kind),
        link=reverse("goals:growth"),
        source_key=f"celebration:{key}",
    )
    record(AuditAction.CHANGE, member=member, category=CATEGORY, actor_label="Alongside", detail=f"celebration: {kind}")
    return celebration


def celebrate_goal(goal, **_signal) -> Celebration | None:
    """Receiver of `goal_achieved`: celebrate an achieved goal once. None if it was celebrated already or is not
    achieved."""
    if goal.status != GoalStatus.ACHIEVED:
        return None
    return _celebrate_once(goal.member, kind=CelebrationKind.GOAL_ACHIEVED, key=f"goal:{goal.pk}", goal=goal)


def celebrate_milestone(milestone, **_signal) -> Celebration | None:
    """Receiver of `milestone_achieved`: celebrate a reached milestone once."""
    if milestone.achieved_at is None:
        return None
    return _celebrate_once(
        milestone.goal.member,
        kind=CelebrationKind.MILESTONE_ACHIEVED,
        key=f"milestone:{milestone.pk}",
        goal=milestone.goal,
        milestone=milestone,
    )


def remind_due_milestones(now: datetime | None = None) -> int:
    """A milestone of an active goal due tomorrow on the member's clock: one reminder (keyed by milestone and
    date, so moving the date reminds again). One query for everyone."""
    now = now or timezone.now()
    utc_today = now.astimezone(ZoneInfo("UTC")).date()
    milestones = (
        Milestone.objects.filter(
            achieved_at__isnull=True,
            goal__status=GoalStatus.ACTIVE,
            goal__member__is_active=True,
            due_date__in=[utc_today + timedelta(days=shift) for shift in (0, 1, 2)],
        )
        .select_related("goal__member")
        .only("id", "due_date", "goal__id", "goal__member__id", "goal__member__time_zone")
    )
    items = []
    for milestone in milestones:
        member = milestone.goal.member
        if milestone.due_date != local_today(member.time_zone, now) + timedelta(days=1):
            continue
        items.append({
            "recipient": member, "kind": NotificationKind.GOALS, "title": _("A milestone of your goal is due tomorrow"),
            "link": reverse("goals:growth"), "source_key": f"milestone_due:{milestone.pk}:{milestone.due_date}",
            "at": now,
        })  # fmt: skip
    return notify_many(items) if items else 0


def unseen_for_goal(goal) -> list[Celebration]:
    """New celebrations of this goal and its milestones, for the goal's page (the member sees them where they
    reached them)."""
    rows = list(
        Celebration.objects.filter(member_id=goal.member_id, goal=goal, seen_at__isnull=True).select_related(
            "goal", "milestone"
        )
    )
    for row in rows:
        row.title = title_for(row.kind, row.days)
    return rows


def mark_seen(member, celebration_ids=None, *, now: datetime | None = None) -> int:
    """The member has seen these celebrations (all unseen ones when `celebration_ids` is None). Only their own."""
    rows = Celebration.objects.filter(member=member, seen_at__isnull=True)
    if celebration_ids is not None:
        rows = rows.filter(pk__in=list(celebration_ids))
    changed = rows.update(seen_at=now or timezone.now())
    if changed:
        detail = f"celebrations seen: {changed}"
        record(AuditAction.CHANGE, actor=member, member=member, category=CATEGORY, detail=detail)
    return changed


def visible_celebrations(member, limit: int = 20) -> list[Celebration]:
    """The member's latest celebrations, newest first, each with its `title` in words (the goal or milestone is
    named on the card, never in the notification)."""
    rows = list(
        Celebration.objects.filter(member=member)
        .select_related("goal", "milestone")
        .order_by("-created_at", "-pk")[:limit]
    )
    for row in rows:
        row.title = title_for(row.kind, row.days)
    return rows
