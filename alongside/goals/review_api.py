"""Goal review at an appointment in the API: what the review page shows, and recording the review (the staff
member running the appointment). Every rule is in `review.py`."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from ninja import Router, Schema, Status

from alongside.accounts.api import require_scope
from alongside.care import policy
from alongside.care.models import Category
from alongside.core.idempotency import once_per_key, problem_from
from alongside.goals import review
from alongside.schedule.models import Occurrence

router = Router(tags=["goals"])


class Problem(Schema):
    detail: str
    fields: list[str] = []


class ReviewGoalOut(Schema):
    goal: int
    title: str
    status: str
    percent: int | None
    milestones_reached: int
    milestones: int


class ReviewIn(Schema):
    note: str = ""


class ReviewOut(Schema):
    occurrence_id: int
    reviewed_at: datetime
    reviewed_by: str | None
    note: str
    goals: list[ReviewGoalOut]


class GoalReviewPage(Schema):
    occurrence_id: int
    open_goals: list[ReviewGoalOut]
    review: ReviewOut | None
    may_review: bool


def _occurrence(request, occurrence_id: int) -> Occurrence:
    occurrence = review.occurrence_to_review(request.user, occurrence_id)
    if occurrence is None:
        raise Http404
    member = occurrence.appointment.member
    if request.user.pk != member.pk:
        # Goals are read only with their own consent; a supporter without it gets what an outsider gets.
        policy.open_member_record(
            request, member.pk, Category.GOALS, detail=f"goal review at occurrence {occurrence.pk}"
        )
    return occurrence


def _review_out(row) -> dict:
    return ReviewOut(
        occurrence_id=row.occurrence_id, reviewed_at=row.reviewed_at,
        reviewed_by=row.reviewed_by.display_name if row.reviewed_by else None, note=row.note,
        goals=[ReviewGoalOut(**item) for item in row.snapshot],
    ).model_dump(mode="json")  # fmt: skip


@router.get(
    "/appointments/{occurrence_id}/goal-review",
    response={200: GoalReviewPage, 404: Problem},
    summary="The goal review on an appointment's agenda: the member's open goals and the review, once recorded",
)
def get_goal_review(request, occurrence_id: int):
    require_scope(request, "read")
    occurrence = _occurrence(request, occurrence_id)
    row = review.review_of(occurrence)
    return Status(
        200,
        {
            "occurrence_id": occurrence.pk,
            "open_goals": [line.snapshot() for line in review.open_goal_lines(occurrence.appointment.member)],
            "review": _review_out(row) if row else None,
            "may_review": review.may_review(request.user, occurrence),
        },
    )


@router.post(
    "/appointments/{occurrence_id}/goal-review",
    response={201: ReviewOut, 400: Problem, 404: Problem, 409: Problem, 422: Problem},
    summary="Record the goal review at this appointment (the staff member running it; send an Idempotency-Key)",
)
def record_goal_review(request, occurrence_id: int, payload: ReviewIn):
    require_scope(request, "write")
    occurrence = _occurrence(request, occurrence_id)
    if not review.may_review(request.user, occurrence):
        raise Http404

    def create():
        try:
            row = review.record_review(occurrence, by=request.user, note=payload.note, request=request)
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            return 422, problem_from(error)
        return 201, _review_out(row)

    return once_per_key(request, create)
