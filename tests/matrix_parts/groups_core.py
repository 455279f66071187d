"""Peer support groups in the matrix: a listed online group the member belongs to (with the facilitator who
supports them), which the other member of the organisation does not. Its video link, address and name are
inside knowledge; the matrix checks that nobody else's response contains them."""

from __future__ import annotations

from alongside.groups import membership
from tests.matrix_parts.common import only  # noqa: F401 (rows use it)

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


def web_routes() -> dict:
    return {}


def api_routes() -> dict:
    return {}
