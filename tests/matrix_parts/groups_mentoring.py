"""Peer-mentor matching in the matrix. The peer mentor persona keeps a mentor profile (they already support the
member); a second peer mentor, who supports nobody, has one too. The other member has asked for a peer mentor:
only they and the staff who may match them (here the org admin: nobody else supports them) may read the note
they wrote."""

from __future__ import annotations

from django.urls import reverse

from alongside.accounts.models import Role
from alongside.groups import mentoring
from alongside.testing.factories import make_staff
from tests.matrix_parts.common import MEMBERS, Route, only

REQUEST_NOTE = "Matrix mentor note: nights after my brother's funeral 6402"
# People who may open the queue (perhaps empty): org admins, clinicians and case managers anywhere.
QUEUE_HOLDERS = {
    "clinician", "case_manager", "clinician_no_consent", "ended_clinician", "org_admin", "other_org_clinician",
    "other_org_admin",
}  # fmt: skip


def seed(w) -> None:
    p = w.people
    org = w.organisation
    mentoring.save_mentor_profile(
        p["peer_mentor"], org, languages="English, spanish", lived_experience=["alcohol", "grief"],
        availability=["weekday_evenings"], gender="woman", capacity=5, accepting=True, about="Ten years sober",
    )  # fmt: skip
    second = make_staff(org, Role.PEER_MENTOR, display_name="Second Mentor Rowan")
    mentoring.save_mentor_profile(
        second, org, languages="Spanish", lived_experience=["grief"], availability=["weekends"], capacity=3,
        accepting=True,
    )  # fmt: skip
    w.extra["second_mentor"] = second
    w.extra["mentor_request"] = mentoring.ask_for_mentor(
        p["other_member"], org, languages="Spanish", lived_experience=["grief"], availability=["weekends"],
        note=REQUEST_NOTE,
    )  # fmt: skip
    w.extra.setdefault("secrets", {})[REQUEST_NOTE] = {"org_admin", "other_member"}


def _request_pk(w) -> int:
    return w.extra["mentor_request"].pk


def web_routes() -> dict:
    return {
        "groups:mentor_profile": Route(
            "get", lambda w: reverse("groups:mentor_profile"), only({"peer_mentor"}, otherwise=403)
        ),
        "groups:ask_for_mentor": Route("get", lambda w: reverse("groups:ask_for_mentor"), only(MEMBERS, otherwise=403)),
        # Someone else's request is not found; staff have no requests of their own.
        "groups:withdraw_mentor_request": Route(
            "post",
            lambda w: reverse("groups:withdraw_mentor_request", args=[_request_pk(w)]),
            only({"other_member"}, outcome="redirect", otherwise=403) | {"member": 404},
        ),
        "groups:mentor_requests": Route(
            "get", lambda w: reverse("groups:mentor_requests"), only(QUEUE_HOLDERS, otherwise=403)
        ),
        "groups:mentor_request": Route(
            "get", lambda w: reverse("groups:mentor_request", args=[_request_pk(w)]), only({"org_admin"})
        ),
        "groups:approve_mentor_match": Route(
            "post",
            lambda w: reverse("groups:approve_mentor_match", args=[_request_pk(w)]),
            only({"org_admin"}, outcome="redirect"),
            data=lambda w: {"mentor": w.extra["second_mentor"].pk},
        ),
    }


def api_routes() -> dict:
    return {
        # The other member already has an open request in the organisation.
        ("post", "/api/v1/mentor-requests"): Route(
            "post",
            "/api/v1/mentor-requests",
            only(MEMBERS, outcome=201, otherwise=403, anonymous=401) | {"other_member": 422},
            data={"lived_experience": ["grief"], "languages": "English"},
            headers={"Idempotency-Key": "matrix-mentor-1"},
        ),
        ("get", "/api/v1/mentor-requests/mine"): Route(
            "get", "/api/v1/mentor-requests/mine", only(MEMBERS, otherwise=403, anonymous=401)
        ),
        ("get", "/api/v1/mentor-requests"): Route(
            "get", "/api/v1/mentor-requests", only(QUEUE_HOLDERS, otherwise=403, anonymous=401)
        ),
        ("get", "/api/v1/mentor-requests/{request_id}/suggestions"): Route(
            "get",
            lambda w: f"/api/v1/mentor-requests/{_request_pk(w)}/suggestions",
            only({"org_admin"}, anonymous=401),
        ),
        ("post", "/api/v1/mentor-requests/{request_id}/match"): Route(
            "post",
            lambda w: f"/api/v1/mentor-requests/{_request_pk(w)}/match",
            only({"org_admin"}, anonymous=401),
            data=lambda w: {"mentor_id": w.extra["second_mentor"].pk},
        ),
    }
