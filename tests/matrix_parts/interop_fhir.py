"""The FHIR export in the matrix: `GET /fhir/Patient/<id>/$everything` answers everyone who may see the member
(with what they may see) and 404 to everyone else. A goal's title is only for those the member shares goals with;
a check-in note is never in the export (the check-in pages and API show it to those who see check-in answers)."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from alongside.goals import goals
from alongside.monitoring import checkins
from tests.matrix_parts.common import MAY_SEE_SUBJECT, Route, only

FHIR_GOAL_TITLE = "Matrix FHIR goal: learn to swim 3307"
FHIR_CHECKIN_NOTE = "Matrix FHIR check-in note: argued with my landlord 5129"
# Those the member shares goals with, and check-in answers with (the default sharing of these roles).
GOAL_READERS = {"member", "clinician", "case_manager", "peer_mentor"}
CHECKIN_READERS = {"member", "clinician", "case_manager"}


def seed(w) -> None:
    subject = w.people["member"]
    goals.create_goal(subject, title=FHIR_GOAL_TITLE, area="health")
    # A day old, so that the world's own check-in stays the member's latest.
    checkins.record(subject, mood=5, note=FHIR_CHECKIN_NOTE, recorded_at=timezone.now() - timedelta(days=1))
    secrets = w.extra.setdefault("secrets", {})
    secrets[FHIR_GOAL_TITLE] = GOAL_READERS
    secrets[FHIR_CHECKIN_NOTE] = CHECKIN_READERS


def web_routes() -> dict:
    return {
        "interop:fhir_patient_everything": Route(
            "get",
            lambda w: reverse("interop:fhir_patient_everything", args=[w.people["member"].pk]),
            only(MAY_SEE_SUBJECT, anonymous=401),
        ),
    }


def api_routes() -> dict:
    return {}
