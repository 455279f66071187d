"""Peer support groups in the matrix: a listed online group the member belongs to (with the facilitator who
supports them), which the other member of the organisation does not. Its video link, address and name are
inside knowledge; the matrix checks that nobody else's response contains them."""

from __future__ import annotations

from django.urls import reverse

from alongside.groups import membership
from tests.matrix_parts.common import Route, expect, only

GROUP_NAME = "Hollyhock Circle 5521"
GROUP_VIDEO = "https://video.example/hollyhock-secret-5521"
GROUP_ADDRESS = "14 Quiet Lane 5521"
UNLISTED_NAME = "Unlisted Fern Group 8830"
# Inside the group: its members and facilitators, and the organisation's community moderator.
GROUP_INSIDERS = {"member", "facilitator", "moderator"}
# Know of the listed group (its card in the directory): everyone with a role in the organisation.
ORGANISATION = {
    "member", "other_member", "clinician", "case_manager", "peer_mentor", "facilitator", "moderator",
    "clinician_no_consent", "ended_clinician", "org_admin",
}  # fmt: skip


def seed(w) -> None:
    p = w.people
    group = membership.create_group(
        by=p["facilitator"], organisation=w.organisation, name=GROUP_NAME, purpose="Evenings in early recovery",
        topic="Early recovery", access="open", format="hybrid", address=GROUP_ADDRESS, video_url=GROUP_VIDEO,
    )  # fmt: skip
    membership.join(p["member"], group)
    unlisted = membership.create_group(
        by=p["facilitator"], organisation=w.organisation, name=UNLISTED_NAME, purpose="By invitation",
        access="closed", listed=False, format="online", video_url="https://video.example/fern",
    )  # fmt: skip
    membership.add_person(unlisted, p["member"], by=p["facilitator"])
    w.extra["group"] = group
    w.extra["unlisted_group"] = unlisted
    secrets = w.extra.setdefault("secrets", {})
    secrets[GROUP_VIDEO] = GROUP_INSIDERS
    secrets[GROUP_ADDRESS] = GROUP_INSIDERS
    secrets[UNLISTED_NAME] = GROUP_INSIDERS | {"org_admin"}
    secrets[GROUP_NAME] = ORGANISATION


# Who manages the listed group (its facilitator and the organisation's admin) and who moderates it.
MANAGERS = {"facilitator", "org_admin"}
MODERATORS = {"facilitator", "moderator"}
# The other organisation's people: for them the group does not exist.
OTHER_ORG = {"other_org_clinician", "other_org_admin"}


def _group(w) -> int:
    return w.extra["group"].pk


def _subject_membership(w) -> int:
    return w.extra["group"].memberships.get(person=w.people["member"]).pk


def web_routes() -> dict:
    # Everyone signed in has a directory (perhaps empty): cards of their organisation's listed groups only.
    return {
        "groups:directory": Route("get", lambda w: reverse("groups:directory"), expect(200, anonymous="login")),
        # Facilitators and org admins (of any organisation) make groups; nobody else may.
        "groups:new_group": Route(
            "get",
            lambda w: reverse("groups:new_group"),
            only({"facilitator", "org_admin", "other_org_admin"}, otherwise=403),
        ),
        # The inside (address, video link, meetings) only for its members, facilitators and moderators.
        "groups:group": Route("get", lambda w: reverse("groups:group", args=[_group(w)]), only(GROUP_INSIDERS)),
        "groups:edit_group": Route("get", lambda w: reverse("groups:edit_group", args=[_group(w)]), only(MANAGERS)),
        "groups:archive": Route(
            "post", lambda w: reverse("groups:archive", args=[_group(w)]), only(MANAGERS, outcome="redirect")
        ),
        # Members of the organisation join (the member is in already); staff may not (403); the group does not
        # exist for other organisations. A refusal comes back to the directory with its reason.
        "groups:join": Route(
            "post",
            lambda w: reverse("groups:join", args=[_group(w)]),
            only({"member", "other_member"}, outcome="redirect", otherwise=403) | {p: 404 for p in OTHER_ORG},
        ),
        "groups:leave": Route(
            "post",
            lambda w: reverse("groups:leave", args=[_group(w)]),
            only(ORGANISATION, outcome="redirect"),
        ),
        # Its insiders see who is in the group (by community name); those who manage it, by their own names.
        "groups:members": Route(
            "get", lambda w: reverse("groups:members", args=[_group(w)]), only(GROUP_INSIDERS | MANAGERS)
        ),
        "groups:add_person": Route(
            "post",
            lambda w: reverse("groups:add_person", args=[_group(w)]),
            only(MANAGERS, outcome="redirect"),
            data=lambda w: {"add-email": w.people["other_member"].email, "add-role": "member"},
        ),
        "groups:mute_member": Route(
            "post",
            lambda w: reverse("groups:mute_member", args=[_group(w), _subject_membership(w)]),
            only(MODERATORS, outcome="redirect"),
            data={"days": "3", "reason": "Keep to the guidelines"},
        ),
        "groups:unmute_member": Route(
            "post",
            lambda w: reverse("groups:unmute_member", args=[_group(w), _subject_membership(w)]),
            only(MODERATORS, outcome="redirect"),
        ),
        "groups:remove_member": Route(
            "post",
            lambda w: reverse("groups:remove_member", args=[_group(w), _subject_membership(w)]),
            only(MODERATORS, outcome="redirect"),
            data={"reason": "Repeatedly unkind"},
        ),
        "groups:requests": Route("get", lambda w: reverse("groups:requests", args=[_group(w)]), only(MANAGERS)),
        # The member's membership is no request: the managers are told so on the page (400); nobody else finds it.
        "groups:decide": Route(
            "post",
            lambda w: reverse("groups:decide", args=[_group(w), _subject_membership(w)]),
            only(MANAGERS, outcome=400),
            data={"decision": "approve"},
        ),
    }


def api_routes() -> dict:
    return {
        ("get", "/api/v1/groups"): Route("get", "/api/v1/groups", expect(200, anonymous=401)),
        ("get", "/api/v1/groups/{group_id}"): Route(
            "get", lambda w: f"/api/v1/groups/{_group(w)}", only(GROUP_INSIDERS, anonymous=401)
        ),
        ("post", "/api/v1/groups/{group_id}/join"): Route(
            "post",
            lambda w: f"/api/v1/groups/{_group(w)}/join",
            only({"member", "other_member"}, otherwise=403, anonymous=401) | {p: 404 for p in OTHER_ORG},
        ),
        # Only people in the group (the member, its facilitator) can leave it; others are told they are not in it.
        ("post", "/api/v1/groups/{group_id}/leave"): Route(
            "post",
            lambda w: f"/api/v1/groups/{_group(w)}/leave",
            only({"member", "facilitator"}, otherwise=422, anonymous=401) | {p: 404 for p in OTHER_ORG},
        ),
    }
