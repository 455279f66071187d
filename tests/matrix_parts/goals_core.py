"""Goals in the matrix: the member's goal with a milestone. Its "why" is for the member and the supporters
they share goals with (clinician, case manager and peer mentor by default); nobody else's response shows it."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse

from alongside.goals import goals, review
from tests.matrix_parts.common import Route, expect, only

GOAL_WHY = "Matrix goal reason: to walk my daughter to school 6612"
# Those the member shares goals with (the default sharing of these roles).
GOAL_READERS = {"member", "clinician", "case_manager", "peer_mentor"}
GOAL_SUPPORTERS = GOAL_READERS - {"member"}
REVIEW_NOTE = "Matrix review: agreed to walk twice a week 7714"
# Those who see the member's therapy appointment and their goals; the last two run it (the clinician is in it,
# the case manager co-authors the member's appointments).
REVIEWERS = {"member", "clinician", "case_manager"}


def seed(w) -> None:
    subject = w.people["member"]
    today = goals.local_today(subject)
    goal = goals.create_goal(
        subject, title="Walk to school", why=GOAL_WHY, area="health", target="Five mornings a week",
        target_date=today + timedelta(days=60), milestones=[("Walk once", today + timedelta(days=7))],
    )  # fmt: skip
    w.extra["goal"] = goal
    w.extra["milestone"] = goal.milestones.get()
    w.extra.setdefault("secrets", {})[GOAL_WHY] = GOAL_READERS
    # The goal review of the member's therapy appointment (on its agenda by default), recorded by the clinician
    # running it: for the member and those who see both the appointment and the goals.
    review.record_review(w.occurrence, by=w.people["clinician"], note=REVIEW_NOTE)
    w.extra["secrets"][REVIEW_NOTE] = REVIEWERS


def _goal(w) -> int:
    return w.extra["goal"].pk


def _member(w) -> int:
    return w.people["member"].pk


def _new_goal(w) -> dict:
    return {"title": "Read a book", "area": "health"}


MEMBERS_ONLY = {"member", "other_member"}


def web_routes() -> dict:
    own = only({"member"}, otherwise=403) | {"other_member": 404}
    own_post = only({"member"}, outcome="redirect", otherwise=403) | {"other_member": 404}
    return {
        "goals:goals": Route("get", lambda w: reverse("goals:goals"), only(MEMBERS_ONLY, otherwise=403)),
        "goals:goal": Route("get", lambda w: reverse("goals:goal", args=[_goal(w)]), own),
        "goals:goal_status": Route(
            "post", lambda w: reverse("goals:goal_status", args=[_goal(w)]), own_post, data={"status": "paused"}
        ),
        "goals:goal_progress": Route(
            "post", lambda w: reverse("goals:goal_progress", args=[_goal(w)]), own_post, data={"note": "A walk"}
        ),
        "goals:goal_add_milestone": Route(
            "post", lambda w: reverse("goals:goal_add_milestone", args=[_goal(w)]), own_post, data={"title": "Twice"}
        ),
        "goals:goal_achieve_milestone": Route(
            "post",
            lambda w: reverse("goals:goal_achieve_milestone", args=[_goal(w), w.extra["milestone"].pk]),
            own_post,
        ),
        # The goal is no suggestion: the member is told so and sent back to it.
        "goals:goal_answer": Route(
            "post", lambda w: reverse("goals:goal_answer", args=[_goal(w)]), own_post, data={"answer": "accept"}
        ),
        "goals:member_goals": Route(
            "get",
            lambda w: reverse("goals:member_goals", args=[_member(w)]),
            only(GOAL_SUPPORTERS) | {"member": "redirect"},
        ),
        "goals:goal_encourage": Route(
            "post",
            lambda w: reverse("goals:goal_encourage", args=[_member(w), _goal(w)]),
            only(GOAL_SUPPORTERS, outcome="redirect"),
            data={"kind": "cheer"},
        ),
        "goals:review": Route("get", lambda w: reverse("goals:review", args=[w.occurrence.pk]), only(REVIEWERS)),
        "goals:goal_suggest": Route(
            "post",
            lambda w: reverse("goals:goal_suggest", args=[_member(w)]),
            only(GOAL_SUPPORTERS, outcome="redirect"),
            data={"title": "Join a walking group", "area": "health"},
        ),
    }


def api_routes() -> dict:
    key = {"Idempotency-Key": "matrix-goal-1"}
    own = only({"member"}, otherwise=404, anonymous=401) | {p: 403 for p in GOAL_SUPPORTERS}
    return {
        ("get", "/api/v1/goals"): Route("get", "/api/v1/goals", expect(200, anonymous=401)),
        ("post", "/api/v1/goals"): Route(
            "post",
            "/api/v1/goals",
            only(MEMBERS_ONLY, outcome=201, otherwise=403, anonymous=401),
            data=_new_goal,
            headers=key,
        ),
        ("get", "/api/v1/goals/{goal_id}"): Route(
            "get", lambda w: f"/api/v1/goals/{_goal(w)}", only(GOAL_READERS, anonymous=401)
        ),
        ("patch", "/api/v1/goals/{goal_id}"): Route(
            "patch", lambda w: f"/api/v1/goals/{_goal(w)}", own, data={"status": "paused"}
        ),
        ("post", "/api/v1/goals/{goal_id}/progress"): Route(
            "post",
            lambda w: f"/api/v1/goals/{_goal(w)}/progress",
            own | {"member": 201},
            data={"percent": 20},
            headers=key,
        ),
        ("post", "/api/v1/goals/{goal_id}/milestones/{milestone_id}/achieve"): Route(
            "post", lambda w: f"/api/v1/goals/{_goal(w)}/milestones/{w.extra['milestone'].pk}/achieve", own
        ),
        ("post", "/api/v1/goals/{goal_id}/encouragements"): Route(
            "post",
            lambda w: f"/api/v1/goals/{_goal(w)}/encouragements",
            only(GOAL_SUPPORTERS, outcome=201, anonymous=401) | {"member": 403},
            data={"kind": "comment", "text": "Proud of you"},
            headers=key,
        ),
        ("get", "/api/v1/appointments/{occurrence_id}/goal-review"): Route(
            "get", lambda w: f"/api/v1/appointments/{w.occurrence.pk}/goal-review", only(REVIEWERS, anonymous=401)
        ),
        ("post", "/api/v1/appointments/{occurrence_id}/goal-review"): Route(
            "post",
            lambda w: f"/api/v1/appointments/{w.occurrence.pk}/goal-review",
            only(REVIEWERS - {"member"}, outcome=201, anonymous=401),
            data={"note": REVIEW_NOTE},
            headers={"Idempotency-Key": "matrix-review-1"},
        ),
        ("post", "/api/v1/members/{member_id}/goal-suggestions"): Route(
            "post",
            lambda w: f"/api/v1/members/{_member(w)}/goal-suggestions",
            only(GOAL_SUPPORTERS, outcome=201, anonymous=401) | {"member": 403},
            data=_new_goal,
            headers=key,
        ),
    }
