import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from alongside.accounts.models import Role
from alongside.care import actions as care_actions
from alongside.care.models import SafetyEvent, SafetyKind
from alongside.monitoring import questionnaires
from alongside.monitoring.models import QuestionnaireResponse
from alongside.programs import actions as program_actions
from alongside.testing.factories import make_staff

pytestmark = pytest.mark.django_db

ALL_ZERO_PHQ9 = {item: 0 for item in range(1, 10)}


@pytest.fixture
def enrolled(member, organisation):
    """The member is in a program that asks PHQ-9 every 14 days from their discharge on 1 October 2026."""
    admin = make_staff(organisation, Role.ORG_ADMIN)
    program = program_actions.create_program(by=admin, organisation=organisation, name="Aftercare")
    program_actions.enrol(by=admin, program=program, member=member, discharge_date=date(2026, 10, 1))
    return member


def at(member, day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(member.time_zone))


def test_phq9_is_due_every_14_days_from_discharge_in_a_window_that_expires(enrolled):
    member = enrolled
    on_day_28 = at(member, date(2026, 10, 29))
    due = questionnaires.due(member, on_day_28)
    assert {a.instrument for a in due} >= {"phq9", "gad7"}
    phq9 = next(a for a in due if a.instrument == "phq9")
    assert phq9.opens_at == datetime(2026, 10, 29, tzinfo=ZoneInfo(member.time_zone))
    assert phq9.closes_at - phq9.opens_at == questionnaires.WINDOW
    # Three days later the window has closed unanswered: expired, and nothing is due until day 42.
    later = at(member, date(2026, 11, 2))
    assert "phq9" not in {a.instrument for a in questionnaires.due(member, later)}
    assert phq9 in questionnaires.expired(member, later)
    assert [a.instrument for a in questionnaires.due(member, at(member, date(2026, 11, 12)))].count("phq9") == 1


def test_answering_closes_the_window(enrolled):
    member = enrolled
    when = at(enrolled, date(2026, 10, 15), 9)
    response, event = questionnaires.submit(member, "phq9", ALL_ZERO_PHQ9, completed_at=when)
    assert event is None and response.assessment is not None
    assert "phq9" not in {a.instrument for a in questionnaires.due(member, when + timedelta(hours=1))}


def test_item_9_positive_records_a_safety_event_whatever_the_total(member):
    response, event = questionnaires.submit(member, "phq9", {**ALL_ZERO_PHQ9, 9: 1})
    assert response.total == 1 and response.band == "minimal"
    assert event.kind == SafetyKind.PHQ9_ITEM9 and event.source == f"questionnaire response {response.pk}"


def test_item_9_positive_counts_even_when_the_response_is_incomplete(member):
    response, event = questionnaires.submit(member, "phq9", {1: 2, 9: 3})
    assert not response.complete and response.total is None
    assert event is not None


def test_a_safety_event_survives_a_failure_to_store_the_response(member, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(QuestionnaireResponse.objects, "create", broken)
    with pytest.raises(RuntimeError):
        questionnaires.submit(member, "phq9", {**ALL_ZERO_PHQ9, 9: 2})
    assert SafetyEvent.objects.filter(member=member, kind=SafetyKind.PHQ9_ITEM9).count() == 1


def test_program_thresholds_decide_caseness(enrolled, organisation):
    program = enrolled.enrolments.get().program
    settings = {**program.settings, "caseness_thresholds": {"phq9": 10, "gad7": 8, "who5": 50}}
    admin = organisation.roles.get(role=Role.ORG_ADMIN).user
    program_actions.update_program(
        by=admin, program=program, name=program.name, description="", phases=["Intensive"], settings=settings
    )
    response, _ = questionnaires.submit(enrolled, "gad7", {1: 2, 2: 2, 3: 1, 4: 1, 5: 1, 6: 1, 7: 0})
    assert response.total == 8 and response.is_case is True


def test_responses_are_immutable_and_corrections_point_back(member):
    first, _ = questionnaires.submit(member, "who5", {1: 3, 2: 3, 3: 3, 4: 3, 5: 3})
    assert first.total == 60
    with pytest.raises(PermissionError):
        first.total = 10
        first.save()
    correction, _ = questionnaires.submit(member, "who5", {1: 3, 2: 3, 3: 3, 4: 3, 5: 4}, corrects=first)
    assert correction.corrects == first and correction.total == 64
    assert QuestionnaireResponse.objects.get(pk=first.pk).total == 60


@pytest.mark.parametrize(
    ("code", "answers", "field"),
    [("bdi", {1: 0}, "instrument"), ("phq9", {10: 1}, "answers"), ("phq9", {1: 4}, "answers")],
)
def test_bad_responses_are_refused(member, code, answers, field):
    with pytest.raises(ValidationError) as caught:
        questionnaires.submit(member, code, answers)
    assert field in caught.value.message_dict
    assert not QuestionnaireResponse.objects.exists()


def test_web_phq9_with_item_9_goes_straight_to_the_crisis_screen(client_for, member, organisation, staff):
    care_actions.add_supporter(by=staff, organisation=organisation, member=member, staff=staff, role="clinician")
    client = client_for(member)
    page = client.get(reverse("monitoring:answer_questionnaire", args=["phq9"])).content.decode()
    assert "Thoughts that you would be better off dead or of hurting yourself in some way" in page
    answers = {f"item_{item}": "0" for item in range(1, 10)} | {"item_9": "2"}
    response = client.post(reverse("monitoring:answer_questionnaire", args=["phq9"]), answers)
    assert response["Location"] == reverse("web:crisis") + "?after=questionnaire"
    crisis = client.get(response["Location"]).content.decode()
    assert "If you are in immediate danger, call 911 now." in crisis
    assert "We have let Test Clinician know" in crisis
    record = client_for(staff).get(reverse("web:member_record", args=[member.pk])).content.decode()
    assert "Safety events" in record and "PHQ-9 question 9" in record


def test_web_questionnaire_without_a_safety_answer_shows_the_result(client_for, member):
    client = client_for(member)
    answers = {f"item_{item}": "1" for item in range(1, 10)} | {"item_9": "0"}
    response = client.post(reverse("monitoring:answer_questionnaire", args=["phq9"]), answers, follow=True)
    body = response.content.decode()
    assert "<strong>8</strong> / 27 — mild" in body
    assert not SafetyEvent.objects.exists()


def test_api_response_with_idempotency_and_safety_flag(client_for, member):
    client = client_for(member)
    body = json.dumps({"instrument": "phq9", "answers": {str(i): 0 for i in range(1, 9)} | {"9": 1}})
    first = client.post(
        "/api/v1/questionnaire-responses", body, content_type="application/json", headers={"Idempotency-Key": "q-1"}
    )
    again = client.post(
        "/api/v1/questionnaire-responses", body, content_type="application/json", headers={"Idempotency-Key": "q-1"}
    )
    assert first.status_code == again.status_code == 201
    assert first.json()["safety_event"] is True and first.json() == again.json()
    assert QuestionnaireResponse.objects.count() == 1 and SafetyEvent.objects.count() == 1
    bad = client.post(
        "/api/v1/questionnaire-responses",
        json.dumps({"instrument": "phq9", "answers": {"1": 7}}),
        content_type="application/json",
        headers={"Idempotency-Key": "q-2"},
    )
    assert bad.status_code == 422 and bad.json()["fields"] == ["answers"]
