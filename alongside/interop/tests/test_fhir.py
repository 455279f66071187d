"""The FHIR export: a member's record round-trips into valid FHIR R4 resources that match the database, and each
viewer gets only what the member shares with them."""

from __future__ import annotations

import json
from datetime import UTC, time, timedelta
from decimal import Decimal

import pytest
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from alongside.accounts import tokens
from alongside.accounts.models import Role
from alongside.audit.models import AuditEvent
from alongside.care import actions as care_actions
from alongside.care import plan
from alongside.goals import goals
from alongside.goals.models import GoalStatus
from alongside.interop import fhir
from alongside.monitoring import checkins, questionnaires
from alongside.monitoring.models import CheckIn, QuestionnaireResponse
from alongside.schedule import series
from alongside.schedule.models import Occurrence
from alongside.testing.factories import make_staff, signed_in_client, support

CHECKIN_NOTE = "Checkin note only I should ever read 4471"
GOAL_TITLE = "Run a 5k with my brother 8821"
FHIR_JSON = "application/fhir+json"


@pytest.fixture
def record(member, staff, relationship, organisation):
    """A member with check-ins, PHQ-9/GAD-7/WHO-5 responses (one corrected), a plan, goals with milestones,
    appointments and a care team (a clinician and a peer mentor)."""
    now = timezone.now()
    full = checkins.record(
        member, mood=6, anxiety=3, energy=5, sleep_hours=Decimal("7.50"), sleep_quality=7, medication="taken",
        cravings=2, note=CHECKIN_NOTE, recorded_at=now - timedelta(days=2),
    )  # fmt: skip
    mood_only = checkins.record(member, mood=4, recorded_at=now - timedelta(days=1))
    first_phq, _event = questionnaires.submit(
        member, "phq9", {item: 1 for item in range(1, 10)} | {9: 0}, completed_at=now - timedelta(days=3)
    )
    phq, _event = questionnaires.submit(
        member, "phq9", {item: 2 for item in range(1, 10)} | {9: 0}, followup="Somewhat difficult", corrects=first_phq
    )
    gad, _event = questionnaires.submit(member, "gad7", {item: 2 for item in range(1, 8)})
    who, _event = questionnaires.submit(member, "who5", {item: 3 for item in range(1, 6)})
    plan.save_plan(
        member,
        by=member,
        content={
            "coping_strategies": ["A walk by the river"],
            "daily_maintenance": ["Take my morning tablets"],
            "reason_for_living": "My dog Biscuit",
            "help_contacts": [{"name": "Sam", "phone": "+1 555 010 0101"}],
        },
        based_on=0,
    )
    today = goals.local_today(member)
    goal = goals.create_goal(
        member, title=GOAL_TITLE, why="To feel strong", area="health", target="Finish the park run",
        target_date=today + timedelta(days=60),
        milestones=[("Run 1k", today + timedelta(days=7)), ("Run 3k", today + timedelta(days=30))],
    )  # fmt: skip
    goals.achieve_milestone(goal.milestones.order_by("position").first(), by=member)
    done = goals.create_goal(member, title="Sleep before midnight", area="health")
    goals.set_status(done, GoalStatus.ACHIEVED, by=member)
    appointment = series.schedule_appointment(
        by=staff, member=member, staff=staff, kind="therapy", title="Weekly therapy", location_kind="online",
        video_url="https://video.example/secret-room", time_zone="America/New_York",
        start_date=timezone.localdate() + timedelta(days=10), start_time=time(18, 0), duration_minutes=50,
        rrule="FREQ=WEEKLY;COUNT=3",
    )  # fmt: skip
    occurrences = list(appointment.occurrences.order_by("start"))
    series.cancel(occurrences[1], by=staff, reason="Clinic closed")
    series.confirm(occurrences[0], by=member)
    peer = make_staff(organisation, Role.PEER_MENTOR, display_name="Peer Pat")
    support(peer, member, organisation, Role.PEER_MENTOR)
    return {
        "checkins": [full, mood_only],
        "responses": {"first_phq": first_phq, "phq": phq, "gad": gad, "who": who},
        "goal": goal,
        "appointment": appointment,
        "peer": peer,
    }


def resources_of(bundle: dict, resource_type: str | None = None) -> list[dict]:
    return [
        entry["resource"]
        for entry in bundle["entry"]
        if resource_type is None or entry["resource"]["resourceType"] == resource_type
    ]


def by_id(bundle: dict) -> dict[str, dict]:
    return {entry["resource"]["id"]: entry["resource"] for entry in bundle["entry"]}


def references_in(value) -> list[str]:
    found = []
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "reference":
                found.append(inner)
            else:
                found.extend(references_in(inner))
    elif isinstance(value, list):
        for inner in value:
            found.extend(references_in(inner))
    return found


def test_a_members_own_export_is_valid_fhir_and_matches_the_database(member, record):
    bundle = fhir.patient_bundle(member, viewer=member)

    fhir.validate(bundle)
    for resource in resources_of(bundle):
        fhir.validate(resource)
    assert bundle["type"] == "searchset"
    assert bundle["total"] == len(bundle["entry"])
    full_urls = {entry["fullUrl"] for entry in bundle["entry"]}
    assert len(full_urls) == len(bundle["entry"])
    # Every reference points at a resource in the bundle.
    assert set(references_in(resources_of(bundle))) <= full_urls
    resources = by_id(bundle)

    patient = resources[str(member.pk)]
    assert patient["name"] == [{"text": "Test Member"}]

    team = resources_of(bundle, "CareTeam")[0]
    roles = sorted(p["role"][0]["coding"][0]["code"] for p in team["participant"])
    assert roles == ["clinician", "peer_mentor"]

    care_plan = resources_of(bundle, "CarePlan")[0]
    activities = [activity["detail"]["description"] for activity in care_plan["activity"]]
    assert activities == ["Take my morning tablets", "A walk by the river"]
    notes = "\n".join(note["text"] for note in care_plan["note"])
    assert "My dog Biscuit" in notes and "Sam, +1 555 010 0101" in notes

    # Goals: status, due date, milestones.
    goal = resources[f"goal-{record['goal'].pk}"]
    assert goal["lifecycleStatus"] == "active"
    assert goal["achievementStatus"]["coding"][0]["code"] == "in-progress"
    assert goal["description"]["text"] == GOAL_TITLE
    assert goal["target"][0]["dueDate"] == record["goal"].target_date.isoformat()
    assert [target["measure"]["text"] for target in goal["target"][1:]] == ["Milestone: Run 1k", "Milestone: Run 3k"]
    assert len(goal["outcomeCode"]) == 1 and "Run 1k" in goal["outcomeCode"][0]["text"]
    achieved = [g for g in resources_of(bundle, "Goal") if g["description"]["text"] == "Sleep before midnight"]
    assert achieved[0]["lifecycleStatus"] == "completed"
    assert achieved[0]["achievementStatus"]["coding"][0]["code"] == "achieved"

    # Appointments: one per occurrence, start and end in UTC, statuses mapped.
    appointments = resources_of(bundle, "Appointment")
    occurrences = list(Occurrence.objects.filter(appointment=record["appointment"]).order_by("start"))
    assert len(appointments) == len(occurrences) == 3
    for resource, occurrence in zip(appointments, occurrences, strict=True):
        assert resource["start"] == occurrence.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert resource["end"] == occurrence.end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert resource["minutesDuration"] == 50
    assert [a["status"] for a in appointments] == ["booked", "cancelled", "booked"]
    assert appointments[0]["participant"][0]["status"] == "accepted"
    assert appointments[1]["cancelationReason"] == {"text": "Clinic closed"}

    # Questionnaires, their responses and totals.
    questionnaires_out = {q["url"]: q for q in resources_of(bundle, "Questionnaire")}
    assert len(questionnaires_out) == 3
    assert [c["code"] for q in questionnaires_out.values() for c in q["code"]] == ["44249-1", "69737-5", "who5"]
    responses = resources_of(bundle, "QuestionnaireResponse")
    assert len(responses) == QuestionnaireResponse.objects.filter(member=member).count() == 4
    for response in responses:
        url, version = response["questionnaire"].split("|")
        assert url in questionnaires_out and questionnaires_out[url]["version"] == version
    phq = record["responses"]["phq"]
    phq_out = resources[f"qr-{phq.pk}"]
    assert phq_out["status"] == "completed"
    assert resources[f"qr-{record['responses']['first_phq'].pk}"]["status"] == "entered-in-error"
    first_item = phq_out["item"][0]["answer"][0]["valueCoding"]
    assert (first_item["system"], first_item["code"]) == ("http://loinc.org", "LA6570-1")
    assert first_item["extension"][0]["valueDecimal"] == 2
    assert phq_out["item"][-1] == {
        "linkId": "followup",
        "text": phq_out["item"][-1]["text"],
        "answer": [{"valueString": "Somewhat difficult"}],
    }
    totals = {
        o["code"]["coding"][0]["code"]: o
        for o in resources_of(bundle, "Observation")
        if o["id"].endswith("-total") and o["status"] == "final"
    }
    expected = {"44261-6": phq, "70274-6": record["responses"]["gad"], "who5-percentage": record["responses"]["who"]}
    assert set(totals) == set(expected)
    for code, response in expected.items():
        assert totals[code]["valueInteger"] == response.total
        assert totals[code]["derivedFrom"] == [{"reference": fhir.urn("QuestionnaireResponse", f"qr-{response.pk}")}]
        assert totals[code]["effectiveDateTime"] == fhir.instant(response.completed_at)
    assert (phq.total, record["responses"]["gad"].total, record["responses"]["who"].total) == (16, 14, 60)

    # Check-ins: one Observation per answered scale, in the project's code system.
    full, mood_only = record["checkins"]
    scales = [o for o in resources_of(bundle, "Observation") if o["id"].startswith("checkin-")]
    assert len(scales) == 7 + 1
    assert {o["code"]["coding"][0]["system"] for o in scales} == {fhir.CHECKIN_SYSTEM}
    assert resources[f"checkin-{full.pk}-mood"]["valueInteger"] == 6
    assert resources[f"checkin-{full.pk}-sleep-hours"]["valueQuantity"]["value"] == 7.5
    assert resources[f"checkin-{full.pk}-medication"]["valueCodeableConcept"]["coding"][0]["code"] == "taken"
    assert resources[f"checkin-{mood_only.pk}-mood"]["effectiveDateTime"] == fhir.instant(mood_only.recorded_at)

    # Free text the member wrote for themselves, and the video link, are never exported.
    text = json.dumps(bundle)
    assert CHECKIN_NOTE not in text
    assert "secret-room" not in text


def test_the_same_record_exports_to_the_same_identifiers(member, record):
    first = fhir.patient_bundle(member, viewer=member)
    again = fhir.patient_bundle(member, viewer=member)
    assert [e["fullUrl"] for e in first["entry"]] == [e["fullUrl"] for e in again["entry"]]


def types_in(bundle: dict) -> set[str]:
    return {resource["resourceType"] for resource in resources_of(bundle)}


def test_a_supporter_gets_only_what_the_member_shares(member, staff, relationship, record):
    peer_bundle = fhir.patient_bundle(member, viewer=record["peer"])  # shares engagement and goals
    assert types_in(peer_bundle) == {"Patient", "CareTeam", "Goal"}
    assert GOAL_TITLE in json.dumps(peer_bundle)

    care_actions.set_sharing(
        member=member, relationship=relationship, categories=["checkins", "plan"], safety_alerts=False
    )
    clinician_bundle = fhir.patient_bundle(member, viewer=staff)
    assert types_in(clinician_bundle) == {"Patient", "CareTeam", "CarePlan", "Observation"}
    assert not [o for o in resources_of(clinician_bundle, "Observation") if o["id"].endswith("-total")]
    assert GOAL_TITLE not in json.dumps(clinician_bundle)
    assert CHECKIN_NOTE not in json.dumps(clinician_bundle)


def test_an_org_admin_gets_who_the_member_is_and_nothing_clinical(member, organisation, record):
    admin = make_staff(organisation, Role.ORG_ADMIN)
    assert types_in(fhir.patient_bundle(member, viewer=admin)) == {"Patient", "CareTeam"}


def test_someone_who_may_not_see_the_member_gets_nothing(member, outsider, record):
    with pytest.raises(Http404):
        fhir.patient_bundle(member, viewer=outsider)


def test_the_bundle_takes_a_few_queries_however_long_the_record(member, record, django_assert_max_num_queries):
    for mood in range(10):
        checkins.record(member, mood=mood, anxiety=mood, recorded_at=timezone.now() - timedelta(hours=mood + 1))
    with django_assert_max_num_queries(10):
        bundle = fhir.patient_bundle(member, viewer=member)
    assert len([r for r in resources_of(bundle, "Observation") if r["id"].startswith("checkin-")]) == 8 + 20


# The endpoint ----------------------------------------------------------------------------------------------


def url_for(member) -> str:
    return reverse("interop:fhir_patient_everything", args=[member.pk])


def test_the_endpoint_answers_the_bundle_to_the_member(client_for, member, record):
    response = client_for(member).get(url_for(member))
    assert response.status_code == 200
    assert response["Content-Type"] == FHIR_JSON
    bundle = response.json()
    assert bundle["resourceType"] == "Bundle"
    assert "QuestionnaireResponse" in types_in(bundle)
    assert not AuditEvent.objects.filter(member=member, detail="FHIR export").exists()


def test_a_staff_export_is_audited_once_per_category(client_for, member, staff, record):
    response = client_for(staff).get(url_for(member))
    assert response.status_code == 200
    audited = AuditEvent.objects.filter(member=member, actor=staff, detail="FHIR export")
    assert sorted(audited.values_list("category", flat=True)) == sorted(
        ["profile", "plan", "goals", "appointments", "questionnaires", "checkins"]
    )


def test_staff_need_their_second_factor(member, staff, record):
    response = signed_in_client(staff, second_factor=False).get(url_for(member))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:two_factor"))


def test_someone_who_may_not_see_the_member_is_told_not_found(client, client_for, member, outsider, record):
    response = client_for(outsider).get(url_for(member))
    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"
    assert "Test Member" not in response.content.decode()
    # The same answer as for nobody at all.
    assert client_for(outsider).get(reverse("interop:fhir_patient_everything", args=[999999])).status_code == 404
    anonymous = client.get(url_for(member))
    assert anonymous.status_code == 401
    assert anonymous.json()["issue"][0]["code"] == "login"


def test_a_token_with_the_read_scope_exports(client, member, record):
    _token, raw = tokens.issue(member, name="phone", scopes=["read"])
    response = client.get(url_for(member), headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    assert response["Content-Type"] == FHIR_JSON
    assert response.json()["total"] > 1


def test_a_token_without_the_read_scope_is_refused(client, member, record):
    _token, raw = tokens.issue(member, name="writer", scopes=["write"])
    response = client.get(url_for(member), headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 403
    assert response.json()["resourceType"] == "OperationOutcome"
    assert GOAL_TITLE not in response.content.decode()


def test_a_wrong_or_revoked_token_is_refused(client, member, record):
    token, raw = tokens.issue(member, name="phone", scopes=["read"])
    tokens.revoke(token, by=member)
    for header in (f"Bearer {raw}", "Bearer alg_not-a-token", f"Basic {raw}"):
        response = client.get(url_for(member), headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_supporters_token_sees_what_their_session_would(client, member, staff, relationship, record):
    care_actions.set_sharing(member=member, relationship=relationship, categories=["goals"], safety_alerts=False)
    _token, raw = tokens.issue(staff, name="laptop", scopes=["read"])
    bundle = client.get(url_for(member), headers={"Authorization": f"Bearer {raw}"}).json()
    assert types_in(bundle) == {"Patient", "CareTeam", "Goal"}
    assert AuditEvent.objects.filter(member=member, actor=staff, detail="FHIR export").count() == 2


def test_only_get_is_answered(client_for, member, record):
    response = client_for(member).post(url_for(member))
    assert response.status_code == 405
    assert response.json()["resourceType"] == "OperationOutcome"


def test_check_ins_without_answers_to_a_scale_leave_it_out(member):
    checkin = checkins.record(member, mood=5, medication="")
    observations = fhir.checkin_observations(member, CheckIn.objects.get(pk=checkin.pk))
    assert [o["id"] for o in observations] == [f"checkin-{checkin.pk}-mood"]
