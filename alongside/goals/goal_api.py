"""Goals in the API: a member's own goals (and, with `member_id`, a supporter's view of a member who shares
goals with them), progress, milestones, encouragement and suggestions. Every rule is in `goals.py`."""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from alongside.accounts.api import require_scope
from alongside.care import policy
from alongside.care.models import Category
from alongside.core.idempotency import once_per_key, problem_from
from alongside.goals import goals
from alongside.goals.models import Goal

router = Router(tags=["goals"])


class Problem(Schema):
    detail: str
    fields: list[str] = []


class MilestoneIn(Schema):
    title: str
    due_date: date | None = None


class MilestoneOut(Schema):
    id: int
    title: str
    due_date: date | None
    achieved_at: datetime | None


class GoalIn(Schema):
    title: str = ""
    why: str = ""
    area: str = ""
    target: str = ""
    target_date: date | None = None
    milestones: list[MilestoneIn] = []


class GoalPatch(Schema):
    title: str | None = None
    why: str | None = None
    area: str | None = None
    target: str | None = None
    target_date: date | None = None
    status: str | None = Field(None, description="active, paused, achieved or let_go")


class GoalOut(Schema):
    id: int
    member_id: int
    title: str
    why: str
    area: str
    target: str
    target_date: date | None
    status: str
    achieved_at: datetime | None
    suggested: bool
    created_at: datetime
    milestones: list[MilestoneOut]


class ProgressIn(Schema):
    note: str = ""
    percent: int | None = None


class ProgressOut(Schema):
    id: int
    goal_id: int
    note: str
    percent: int | None
    created_at: datetime


class EncouragementIn(Schema):
    kind: str
    text: str = ""
    milestone_id: int | None = None


class EncouragementOut(Schema):
    id: int | None = Field(None, description="Empty when a repeated reaction took the first one back")
    goal_id: int
    kind: str
    text: str = ""
    removed: bool = False


def _goal_out(goal: Goal) -> dict:
    return GoalOut(
        id=goal.pk, member_id=goal.member_id, title=goal.title, why=goal.why, area=goal.area, target=goal.target,
        target_date=goal.target_date, status=goal.status, achieved_at=goal.achieved_at,
        suggested=goal.suggested_by_id is not None, created_at=goal.created_at,
        milestones=[
            MilestoneOut(id=m.pk, title=m.title, due_date=m.due_date, achieved_at=m.achieved_at)
            for m in goal.milestones.all()
        ],
    ).model_dump(mode="json")  # fmt: skip


def _problem(status: int, error: ValidationError) -> JsonResponse:
    return JsonResponse(problem_from(error), status=status)


def _seen_goal(request, goal_id) -> Goal:
    """The goal if the person may see it (a supporter's read is audited); 404 otherwise."""
    goal = goals.visible_goal(request.user, goal_id)
    if goal is None:
        raise Http404
    policy.record_reads(request, goal.member, [(Category.GOALS.value, f"goal {goal.pk}", None)])
    return goal


def _own_goal(request, goal_id) -> Goal:
    """The person's own goal; 403 for a supporter who sees it, 404 for anyone else."""
    goal = goals.visible_goal(request.user, goal_id)
    if goal is None:
        raise Http404
    if goal.member_id != request.user.pk:
        raise HttpError(403, _("Only the member changes their goal."))
    return goal


def _milestones(items: list[MilestoneIn]) -> list[tuple[str, date | None]]:
    return [(item.title, item.due_date) for item in items]


@router.get(
    "/goals",
    response={200: list[GoalOut], 404: Problem},
    summary="My goals, or (member_id) a member's who shares them with me",
)
def list_goals(request, member_id: int | None = None):
    require_scope(request, "read")
    if member_id is None or member_id == request.user.pk:
        return [_goal_out(goal) for goal in goals.goals_of(request.user)]
    member = policy.open_member_record(request, member_id, Category.GOALS, detail="goals")
    return [_goal_out(goal) for goal in goals.goals_of(member)]


@router.post(
    "/goals",
    response={201: GoalOut, 400: Problem, 403: Problem, 409: Problem, 422: Problem},
    summary="Set myself a goal (members; send an Idempotency-Key header)",
)
def create_goal(request, payload: GoalIn):
    require_scope(request, "write")
    if not request.user.is_member:
        return JsonResponse({"detail": _("Only members set goals."), "fields": []}, status=403)
    key = request.headers.get("Idempotency-Key", "").strip()[:80]

    def create():
        try:
            goal = goals.create_goal(
                request.user, title=payload.title, why=payload.why, area=payload.area, target=payload.target,
                target_date=payload.target_date, milestones=_milestones(payload.milestones), client_key=key,
                request=request,
            )  # fmt: skip
        except ValidationError as error:
            return 422, problem_from(error)
        return 201, _goal_out(goal)

    return once_per_key(request, create)


@router.get("/goals/{goal_id}", response={200: GoalOut, 404: Problem}, summary="One goal")
def get_goal(request, goal_id: int):
    require_scope(request, "read")
    return Status(200, _goal_out(_seen_goal(request, goal_id)))


@router.patch(
    "/goals/{goal_id}",
    response={200: GoalOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Change my goal (what it says, or its status)",
)
def patch_goal(request, goal_id: int, payload: GoalPatch):
    require_scope(request, "write")
    goal = _own_goal(request, goal_id)
    changes = payload.dict(exclude_unset=True)
    status = changes.pop("status", None)
    try:
        if changes:
            goals.update_goal(goal, by=request.user, request=request, **changes)
        if status is not None:
            goals.set_status(goal, status, request.user, request=request)
    except ValidationError as error:
        return _problem(422, error)
    return Status(200, _goal_out(goal))


@router.post(
    "/goals/{goal_id}/progress",
    response={201: ProgressOut, 400: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem},
    summary="Note progress on my goal (send an Idempotency-Key header)",
)
def log_progress(request, goal_id: int, payload: ProgressIn):
    require_scope(request, "write")
    goal = _own_goal(request, goal_id)

    def create():
        try:
            update = goals.log_progress(
                goal, note=payload.note, percent=payload.percent, by=request.user, request=request
            )
        except ValidationError as error:
            return 422, problem_from(error)
        body = ProgressOut(
            id=update.pk, goal_id=goal.pk, note=update.note, percent=update.percent, created_at=update.created_at
        )
        return 201, body.model_dump(mode="json")

    return once_per_key(request, create)


@router.post(
    "/goals/{goal_id}/milestones/{milestone_id}/achieve",
    response={200: MilestoneOut, 403: Problem, 404: Problem},
    summary="Mark a milestone of my goal reached (or, with ?achieved=false, not reached)",
)
def achieve_milestone(request, goal_id: int, milestone_id: int, achieved: bool = True):
    require_scope(request, "write")
    goal = _own_goal(request, goal_id)
    milestone = goal.milestones.filter(pk=milestone_id).first()
    if milestone is None:
        raise Http404
    milestone.goal = goal
    goals.achieve_milestone(milestone, by=request.user, achieved=achieved, request=request)
    return Status(
        200,
        MilestoneOut(
            id=milestone.pk, title=milestone.title, due_date=milestone.due_date, achieved_at=milestone.achieved_at
        ),
    )


@router.post(
    "/goals/{goal_id}/encouragements",
    response={200: EncouragementOut, 201: EncouragementOut, 400: Problem, 403: Problem, 404: Problem, 409: Problem,
              422: Problem},
    summary="Encourage a member on their goal (supporters who see it; send an Idempotency-Key header)",
)  # fmt: skip
def encourage(request, goal_id: int, payload: EncouragementIn):
    require_scope(request, "write")
    goal = _seen_goal(request, goal_id)
    if goal.member_id == request.user.pk:
        return JsonResponse({"detail": _("Your supporters encourage you here."), "fields": []}, status=403)
    milestone = None
    if payload.milestone_id is not None:
        milestone = goal.milestones.filter(pk=payload.milestone_id).first()
        if milestone is None:
            return JsonResponse(
                {"detail": _("No such milestone on this goal."), "fields": ["milestone_id"]}, status=422
            )

    def create():
        try:
            done = goals.encourage(
                by=request.user, goal=goal, kind=payload.kind, text=payload.text, milestone=milestone, request=request
            )
        except ValidationError as error:
            return 422, problem_from(error)
        if done is None:
            return 200, EncouragementOut(goal_id=goal.pk, kind=payload.kind, removed=True).model_dump(mode="json")
        body = EncouragementOut(id=done.pk, goal_id=goal.pk, kind=done.kind, text=done.text)
        return 201, body.model_dump(mode="json")

    return once_per_key(request, create)


@router.post(
    "/members/{member_id}/goal-suggestions",
    response={201: GoalOut, 400: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem},
    summary="Suggest a goal to a member (their clinician, case manager or peer mentor; send an Idempotency-Key)",
)
def suggest_goal(request, member_id: int, payload: GoalIn):
    require_scope(request, "write")
    if member_id == request.user.pk:
        return JsonResponse({"detail": _("Set your own goals under /goals."), "fields": []}, status=403)
    member = policy.visible_member_or_404(request.user, member_id, Category.GOALS)
    if not goals.may_suggest(request.user, member):
        raise Http404

    def create():
        try:
            goal = goals.suggest_goal(
                by=request.user, member=member, title=payload.title, why=payload.why, area=payload.area,
                target=payload.target, target_date=payload.target_date, milestones=_milestones(payload.milestones),
                request=request,
            )  # fmt: skip
        except ValidationError as error:
            return 422, problem_from(error)
        return 201, _goal_out(goal)

    return once_per_key(request, create)
