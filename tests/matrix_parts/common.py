"""The matrix's people and the shapes of its expectations, shared by the matrix and its parts."""

from __future__ import annotations

from dataclasses import dataclass, field

SUBJECT_NAME = "Mira Subject-7731"

PERSONAS = (
    "anonymous",
    "member",  # the member whose data is at stake
    "other_member",  # another member of the same organisation
    "clinician",  # supports the member, default sharing
    "case_manager",
    "peer_mentor",
    "facilitator",
    "moderator",  # the organisation's community moderator: supports nobody
    "clinician_no_consent",  # supports the member, who shares nothing with them
    "ended_clinician",  # supported the member until yesterday
    "org_admin",
    "other_org_clinician",
    "other_org_admin",
)
SUPPORTERS = ("clinician", "case_manager", "peer_mentor", "facilitator", "clinician_no_consent")
MAY_SEE_SUBJECT = {"member", *SUPPORTERS, "org_admin"}
STAFF = {*SUPPORTERS, "ended_clinician", "org_admin", "moderator", "other_org_clinician", "other_org_admin"}
MEMBERS = {"member", "other_member"}
SIGNED_IN = set(PERSONAS) - {"anonymous"}
NOTE_KEEPERS = {"clinician", "case_manager", "clinician_no_consent"}
NOTE_TEXT = "Matrix session note: slept badly after the anniversary"
LIBRARY_KEEPERS = {"org_admin", "clinician", "case_manager", "clinician_no_consent", "ended_clinician"}


# Outcomes: an HTTP status, "login" (redirected to sign in) or "redirect" (redirected elsewhere: done).
def expect(default, **overrides) -> dict[str, object]:
    table = {persona: default for persona in PERSONAS}
    table.update(overrides)
    return table


def only(allowed: set[str], outcome: object = 200, otherwise: object = 404, anonymous: object = "login") -> dict:
    table = {persona: (outcome if persona in allowed else otherwise) for persona in PERSONAS}
    table["anonymous"] = anonymous
    return table


@dataclass(frozen=True)
class Route:
    method: str
    url: object  # str or callable(world) -> str
    expected: dict
    data: object = None  # dict or callable(world) -> dict
    headers: dict = field(default_factory=dict)
