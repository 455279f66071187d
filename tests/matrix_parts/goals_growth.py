"""Growth in the matrix: the member has achieved a goal (its title is theirs to share) and has a celebration of
it. The growth summary is the member's; supporters see it only while the member shares goals with them."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from alongside.goals import celebrations
from alongside.goals.models import Goal, GoalStatus
from tests.matrix_parts.common import MEMBERS, Route, only

ACHIEVED_GOAL = "Growth matrix goal: repaint the kitchen 6620"
# The member, and the supporters who share "Goals and milestones" by default (clinician, case manager, peer mentor).
GOALS_SHARED = {"member", "clinician", "case_manager", "peer_mentor"}


def seed(w) -> None:
    subject = w.people["member"]
    goal = Goal.objects.create(
        member=subject, title=ACHIEVED_GOAL, area="housing", status=GoalStatus.ACHIEVED, achieved_at=timezone.now()
    )
    w.extra["celebration"] = celebrations.celebrate_goal(goal)
    w.extra.setdefault("secrets", {})[ACHIEVED_GOAL] = GOALS_SHARED


def _celebration(w) -> int:
    return w.extra["celebration"].pk


def web_routes() -> dict:
    return {
        "goals:growth": Route("get", lambda w: reverse("goals:growth"), only(MEMBERS, otherwise=403)),
        "goals:member_growth": Route(
            "get", lambda w: reverse("goals:member_growth", args=[w.people["member"].pk]), only(GOALS_SHARED)
        ),
    }


def api_routes() -> dict:
    return {
        ("get", "/api/v1/growth"): Route("get", "/api/v1/growth", only(MEMBERS, otherwise=403, anonymous=401)),
        ("get", "/api/v1/celebrations"): Route(
            "get", "/api/v1/celebrations", only(MEMBERS, otherwise=403, anonymous=401)
        ),
        ("post", "/api/v1/celebrations/{celebration_id}/seen"): Route(
            "post",
            lambda w: f"/api/v1/celebrations/{_celebration(w)}/seen",
            only({"member"}, otherwise=403, anonymous=401) | {"other_member": 404},
        ),
    }
