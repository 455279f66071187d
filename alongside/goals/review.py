"""Goal review, an item of an appointment's agenda (schedule/checklist.py): at the appointment the staff member
running it goes through the member's open goals with them and records it (which goals, how far along each was,
what was agreed). Recording the review ticks the agenda item. The member sees their goals on the same page
before the appointment, and the review after it.

Only someone the member shares goals with may see or record a review; a reviewer who may not see the goals is
told so on the page and cannot tick the item."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from alongside.care import policy
from alongside.care.models import Category
from alongside.goals.goals import MAX_NOTE, _audit, _check_text
from alongside.goals.models import OPEN_STATUSES, Goal, GoalReview
from alongside.schedule import checklist as agenda
from alongside.schedule import series
from alongside.schedule.models import Occurrence

ITEM_KEY = "goal_review"


@dataclass
class GoalLine:
    """One open goal as the review shows it."""

    goal: Goal
    percent: int | None
    milestones_reached: int
    milestones: int
    next_milestone: object | None

    def snapshot(self) -> dict:
        return {
            "goal": self.goal.pk,
            "title": self.goal.title,
            "status": self.goal.status,
            "percent": self.percent,
            "milestones_reached": self.milestones_reached,
            "milestones": self.milestones,
        }


def open_goal_lines(member) -> list[GoalLine]:
    """The member's open goals (working on or paused), oldest first, each with its latest progress and
    milestones, in three queries."""
    goals = list(
        Goal.objects.filter(member=member, status__in=OPEN_STATUSES)
        .prefetch_related("milestones", "progress")
        .order_by("created_at", "pk")
    )
    lines = []
    for goal in goals:
        milestones = list(goal.milestones.all())
        percents = [update.percent for update in goal.progress.all() if update.percent is not None]
        lines.append(
            GoalLine(
                goal=goal,
                percent=percents[0] if percents else None,
                milestones_reached=sum(1 for m in milestones if m.achieved_at),
                milestones=len(milestones),
                next_milestone=next((m for m in milestones if not m.achieved_at), None),
            )
        )
    return lines


def on_agenda(occurrence: Occurrence) -> bool:
    return ITEM_KEY in occurrence.appointment.checklist


def occurrence_to_review(person, occurrence_pk) -> Occurrence | None:
    """The occurrence if the person may see the appointment and its agenda holds a goal review; else None (the
    page and the API answer 404, as for one that does not exist)."""
    occurrence = (
        Occurrence.objects.select_related("appointment__member", "appointment__staff").filter(pk=occurrence_pk).first()
    )
    if occurrence is None or not series.may_view(person, occurrence.appointment) or not on_agenda(occurrence):
        return None
    return occurrence


def may_review(person, occurrence: Occurrence) -> bool:
    """The staff member running the appointment (or a co-author of the member's appointments) who sees the
    member's goals, while the appointment's agenda holds a goal review."""
    member = occurrence.appointment.member
    return (
        on_agenda(occurrence)
        and agenda.may_tick(person, occurrence)
        and policy.can(person, policy.Action.VIEW, member, Category.GOALS)
    )


def review_of(occurrence: Occurrence) -> GoalReview | None:
    return GoalReview.objects.filter(occurrence=occurrence).select_related("reviewed_by").first()


def record_review(occurrence: Occurrence, *, by, note: str = "", request=None) -> GoalReview:
    """Record (or, again, update) the goal review at this appointment: the open goals as they stand now, the
    note, and the agenda item ticked. Raises PermissionDenied for anyone who may not, ValidationError naming
    `note` for a note too long."""
    if not may_review(by, occurrence):
        raise PermissionDenied
    member = occurrence.appointment.member
    errors: dict = {}
    note = _check_text(errors, "note", note, MAX_NOTE)
    if errors:
        raise ValidationError(errors)
    lines = open_goal_lines(member)
    with transaction.atomic():
        review, created = GoalReview.objects.update_or_create(
            occurrence=occurrence,
            defaults={
                "member": member,
                "reviewed_by": by,
                "reviewed_at": timezone.now(),
                "snapshot": [line.snapshot() for line in lines],
                "note": note,
            },
        )
        review.goals.set([line.goal for line in lines])
        agenda.tick(occurrence, ITEM_KEY, by=by, request=request)
        _audit(
            by,
            member,
            f"{'reviewed' if created else 'updated the review of'} goals at occurrence {occurrence.pk}",
            request,
        )
    return review


def latest_review_of_goal(goal: Goal) -> GoalReview | None:
    return goal.reviews.select_related("reviewed_by", "occurrence").order_by("-reviewed_at", "-pk").first()


agenda.register(
    agenda.ChecklistItem(
        key=ITEM_KEY,
        label=gettext_lazy("Review goals"),
        for_member=gettext_lazy("You will go through your goals together: what went well, and what comes next."),
        page="goals:review",
    )
)
