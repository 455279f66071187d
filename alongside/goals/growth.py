"""The growth summary: a member's goals, their celebrations, recovery day counts, WHO-5 wellbeing trend, routine
habit strength and "what helped" (activities that come up more often in their best weeks).

Read-only. The same summary serves the member's page, the API and their supporters' view; what a supporter sees
beyond goals and celebrations depends on the other categories the member shares with them (the view decides)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from alongside.goals import celebrations
from alongside.goals.models import Celebration, Goal, GoalStatus, Milestone
from alongside.monitoring import charts
from alongside.monitoring.models import CheckIn, QuestionnaireResponse, TagKind
from alongside.programs.models import Enrolment, Transition, TransitionKind
from alongside.schedule import routines

RECENT_DAYS = 90
# "What helped" needs this many weeks with check-ins, and looks back this far.
MIN_WEEKS = 4
HISTORY_WEEKS = 52
MAX_HELPERS = 5


@dataclass(frozen=True)
class Achievement:
    title: str
    goal_title: str  # the goal a milestone belongs to; empty for a goal
    achieved_at: datetime


@dataclass(frozen=True)
class Helper:
    """An activity that came up more often in the member's best weeks than in the others."""

    label: str
    best: int  # best weeks it came up in
    best_weeks: int
    others: int
    other_weeks: int

    @property
    def words(self) -> str:
        return _("%(label)s: on %(best)s of your %(best_weeks)s best weeks, %(others)s of %(other_weeks)s others") % {
            "label": self.label,
            "best": self.best,
            "best_weeks": self.best_weeks,
            "others": self.others,
            "other_weeks": self.other_weeks,
        }


@dataclass
class WhatHelped:
    weeks: int  # weeks with check-ins
    helpers: list[Helper] = field(default_factory=list)

    @property
    def enough_data(self) -> bool:
        return self.weeks >= MIN_WEEKS


@dataclass
class GrowthSummary:
    today: date
    goals_active: int
    goals_achieved: int
    achievements: list[Achievement]
    celebrations: list[Celebration]
    days_since_discharge: int | None
    days_since_completion: int | None
    checkin_streak: int | None = None
    who5_chart: str = ""
    routine: list = field(default_factory=list)
    what_helped: WhatHelped | None = None

    @property
    def unseen(self) -> list[Celebration]:
        return [c for c in self.celebrations if c.seen_at is None]

    @property
    def seen(self) -> list[Celebration]:
        return [c for c in self.celebrations if c.seen_at is not None]


def goal_counts(member) -> tuple[int, int]:
    rows = dict(
        Goal.objects.filter(member=member, status__in=[GoalStatus.ACTIVE, GoalStatus.ACHIEVED])
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    return rows.get(GoalStatus.ACTIVE, 0), rows.get(GoalStatus.ACHIEVED, 0)


def recent_achievements(member, now: datetime, limit: int = 10) -> list[Achievement]:
    since = now - timedelta(days=RECENT_DAYS)
    goals = [
        Achievement(goal.title, "", goal.achieved_at)
        for goal in Goal.objects.filter(member=member, status=GoalStatus.ACHIEVED, achieved_at__gte=since)
    ]
    milestones = [
        Achievement(m.title, m.goal.title, m.achieved_at)
        for m in Milestone.objects.filter(goal__member=member, achieved_at__gte=since).select_related("goal")
    ]
    return sorted(goals + milestones, key=lambda a: a.achieved_at, reverse=True)[:limit]


def recovery_days(member, today: date) -> tuple[int | None, int | None]:
    """Days since discharge (current enrolment) and since completing a program (latest graduation), on `today`."""
    discharged = (
        Enrolment.objects.current()
        .filter(member=member, discharge_date__lte=today)
        .order_by("-discharge_date")
        .values_list("discharge_date", flat=True)
        .first()
    )
    completed = (
        Transition.objects.filter(enrolment__member=member, kind=TransitionKind.GRADUATION, effective_date__lte=today)
        .order_by("-effective_date")
        .values_list("effective_date", flat=True)
        .first()
    )
    return (
        (today - discharged).days if discharged else None,
        (today - completed).days if completed else None,
    )


def checkin_streak(member, today: date) -> int:
    days = set(
        CheckIn.objects.filter(member=member, local_date__gte=today - timedelta(days=3660), local_date__lte=today)
        .values_list("local_date", flat=True)
        .distinct()
    )
    return celebrations.streak_from(days, today)[0]


def who5_chart(member) -> str:
    responses = QuestionnaireResponse.objects.filter(member=member, instrument="who5")
    points = charts.questionnaire_points(responses, "who5")
    if not points:
        return ""
    return charts.questionnaire_chart("who5", points, title=_("Wellbeing (WHO-5) over time"))


def what_helped(member, today: date) -> WhatHelped:
    """Activities that come up in more of the member's best weeks (the top quarter by mean mood) than of the rest.

    Explainable on purpose: counts of weeks, no model. Needs MIN_WEEKS weeks with check-ins."""
    since = routines.monday_of(today) - timedelta(weeks=HISTORY_WEEKS)
    checkins = CheckIn.objects.filter(member=member, local_date__gte=since, local_date__lte=today)
    moods: dict[date, list[int]] = {}
    for day, mood in checkins.values_list("local_date", "mood"):
        moods.setdefault(routines.monday_of(day), []).append(mood)
    result = WhatHelped(weeks=len(moods))
    if not result.enough_data:
        return result
    tags: dict[str, set[date]] = {}
    for day, label in checkins.filter(tags__kind=TagKind.ACTIVITY).values_list("local_date", "tags__label"):
        tags.setdefault(label, set()).add(routines.monday_of(day))
    means = {week: sum(values) / len(values) for week, values in moods.items()}
    ranked = sorted(means, key=lambda week: (-means[week], -week.toordinal()))
    best = set(ranked[: math.ceil(len(ranked) / 4)])
    others = set(ranked) - best
    helpers = []
    for label, weeks in tags.items():
        in_best, in_others = len(weeks & best), len(weeks & others)
        if in_best and in_best / len(best) > in_others / len(others):
            helpers.append(Helper(label, in_best, len(best), in_others, len(others)))
    helpers.sort(key=lambda h: (-(h.best / h.best_weeks - h.others / h.other_weeks), h.label.lower()))
    result.helpers = helpers[:MAX_HELPERS]
    return result


def summary(
    member,
    *,
    now: datetime | None = None,
    engagement: bool = True,
    questionnaires: bool = True,
    checkins: bool = True,
    routine: bool = True,
) -> GrowthSummary:
    """The member's growth summary. The flags leave out parts a supporter may not see (engagement: the check-in
    streak; questionnaires: WHO-5; check-ins: what helped; routine: habit strength)."""
    now = now or timezone.now()
    today = celebrations.local_today(member.time_zone, now)
    active, achieved = goal_counts(member)
    since_discharge, since_completion = recovery_days(member, today)
    result = GrowthSummary(
        today=today,
        goals_active=active,
        goals_achieved=achieved,
        achievements=recent_achievements(member, now),
        celebrations=list(celebrations.visible_celebrations(member)),
        days_since_discharge=since_discharge,
        days_since_completion=since_completion,
    )
    if engagement:
        result.checkin_streak = checkin_streak(member, today)
    if questionnaires:
        result.who5_chart = who5_chart(member)
    if checkins:
        result.what_helped = what_helped(member, today)
    if routine:
        result.routine = routines.statuses(member, today)
    return result
