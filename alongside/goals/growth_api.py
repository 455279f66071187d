"""The growth summary and celebrations in the JSON API, for the member's own apps (same domain code as the page)."""

from __future__ import annotations

from datetime import date, datetime

from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from alongside.accounts.api import require_scope
from alongside.goals import celebrations, growth
from alongside.goals.models import Celebration

router = Router(tags=["goals"])


class Problem(Schema):
    detail: str
    fields: list[str] = []


class CelebrationOut(Schema):
    id: int
    kind: str
    days: int | None
    title: str
    goal_id: int | None
    milestone_id: int | None
    created_at: datetime
    seen_at: datetime | None


class AchievementOut(Schema):
    title: str
    goal_title: str
    achieved_at: datetime


class HelperOut(Schema):
    activity: str
    best_weeks_with_it: int
    best_weeks: int
    other_weeks_with_it: int
    other_weeks: int
    words: str


class HabitOut(Schema):
    title: str
    strength: float
    streak: int


class GrowthOut(Schema):
    today: date
    goals_active: int
    goals_achieved: int
    recent_achievements: list[AchievementOut]
    days_since_discharge: int | None
    days_since_completion: int | None
    checkin_streak: int | None
    unseen_celebrations: int
    habits: list[HabitOut]
    weeks_of_checkins: int
    what_helped: list[HelperOut]


def _require_member(request) -> None:
    if not request.user.is_member:
        raise HttpError(403, _("Only members have a growth summary."))


def _celebration_out(row: Celebration) -> CelebrationOut:
    return CelebrationOut(
        id=row.pk, kind=row.kind, days=row.days, title=celebrations.title_for(row.kind, row.days),
        goal_id=row.goal_id, milestone_id=row.milestone_id, created_at=row.created_at, seen_at=row.seen_at,
    )  # fmt: skip


@router.get("/growth", response={200: GrowthOut, 403: Problem}, summary="My growth summary")
def my_growth(request):
    require_scope(request, "read")
    _require_member(request)
    summary = growth.summary(request.user)
    helped = summary.what_helped
    return Status(
        200,
        GrowthOut(
            today=summary.today, goals_active=summary.goals_active, goals_achieved=summary.goals_achieved,
            recent_achievements=[
                AchievementOut(title=a.title, goal_title=a.goal_title, achieved_at=a.achieved_at)
                for a in summary.achievements
            ],
            days_since_discharge=summary.days_since_discharge, days_since_completion=summary.days_since_completion,
            checkin_streak=summary.checkin_streak, unseen_celebrations=len(summary.unseen),
            habits=[
                HabitOut(title=s.item.title, strength=round(s.strength, 3), streak=s.streak) for s in summary.routine
            ],
            weeks_of_checkins=helped.weeks,
            what_helped=[
                HelperOut(activity=h.label, best_weeks_with_it=h.best, best_weeks=h.best_weeks,
                          other_weeks_with_it=h.others, other_weeks=h.other_weeks, words=h.words)
                for h in helped.helpers
            ],
        ),
    )  # fmt: skip


@router.get("/celebrations", response={200: list[CelebrationOut], 403: Problem}, summary="My celebrations")
def my_celebrations(request):
    require_scope(request, "read")
    _require_member(request)
    return Status(200, [_celebration_out(row) for row in celebrations.visible_celebrations(request.user, limit=200)])


@router.post(
    "/celebrations/{celebration_id}/seen",
    response={200: CelebrationOut, 403: Problem, 404: Problem},
    summary="Mark one of my celebrations seen (again changes nothing)",
)
def mark_seen(request, celebration_id: int):
    require_scope(request, "write")
    _require_member(request)
    row = Celebration.objects.filter(member=request.user, pk=celebration_id).first()
    if row is None:
        return Status(404, {"detail": _("No such celebration."), "fields": ["celebration_id"]})
    celebrations.mark_seen(request.user, [row.pk])
    row.refresh_from_db()
    return Status(200, _celebration_out(row))
