import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from alongside.accounts.models import Role
from alongside.monitoring import questionnaires
from alongside.monitoring.models import ProgramInstrument
from alongside.programs import actions as program_actions
from alongside.testing.factories import make_member, make_staff

pytestmark = pytest.mark.django_db


def sleep_scale() -> dict:
    return {
        "code": "sleep3",
        "name": "Three sleep questions",
        "version": "1",
        "citation": "Written by the program team for internal use.",
        "licence": "Internal use.",
        "stem": "Over the last week:",
        "options": [{"label": "Never", "score": 0}, {"label": "Sometimes", "score": 1}, {"label": "Often", "score": 2}],
        "items": [
            {"number": 1, "text": "I had trouble falling asleep"},
            {"number": 2, "text": "I woke up during the night"},
            {"number": 3, "text": "I felt tired in the morning"},
        ],
        "followup": None,
        "scoring": {"method": "sum", "multiplier": 1},
        "total": {"min": 0, "max": 6},
        "bands": [{"min": 0, "max": 2, "label": "few problems"}, {"min": 3, "max": 6, "label": "many problems"}],
        "caseness": {"threshold": 3, "direction": "at_or_above"},
        "safety_rules": [],
        "reliable_change": {"threshold": 2, "better": "lower", "basis": "program choice"},
        "codes": {
            "system": "https://alongside.example/fhir/CodeSystem/instruments",
            "panel": "sleep3",
            "total": "sleep3-total",
        },
        "notes": [],
    }


@pytest.fixture
def setup(organisation, member):
    admin = make_staff(organisation, Role.ORG_ADMIN)
    program = program_actions.create_program(by=admin, organisation=organisation, name="Sleep program")
    program_actions.enrol(by=admin, program=program, member=member)
    return admin, program


def test_a_program_adds_its_own_questionnaire_and_its_members_answer_it(client_for, setup, member, organisation):
    admin, program = setup
    url = reverse("monitoring:program_instruments", args=[organisation.slug, program.pk])
    upload = SimpleUploadedFile("sleep3.json", json.dumps(sleep_scale()).encode(), content_type="application/json")
    assert client_for(admin).post(url, {"file": upload}).status_code == 302
    assert ProgramInstrument.objects.get(program=program).name == "Three sleep questions"
    page = client_for(member).get(reverse("monitoring:questionnaires")).content.decode()
    assert "Three sleep questions" in page
    response, _event = questionnaires.submit(member, "sleep3", {1: 2, 2: 1, 3: 1})
    assert (response.total, response.band, response.is_case) == (4, "many problems", True)
    outsider = make_member(organisation)
    with pytest.raises(Exception, match="Unknown questionnaire"):
        questionnaires.submit(outsider, "sleep3", {1: 0, 2: 0, 3: 0})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"bands": [{"min": 0, "max": 2, "label": "few"}, {"min": 4, "max": 6, "label": "many"}]}, "uncovered"),
        ({"code": "phq9"}, "built-in questionnaire"),
        ({"items": []}, "item"),
        ({"scoring": {"method": "median", "multiplier": 1}}, "median"),
        # The code and name are stored in columns of 30 and 80 characters, and the code is part of URLs.
        ({"code": "sleep" * 7}, "1 to 30 letters"),
        ({"code": "sleep three"}, "1 to 30 letters"),
        ({"name": "Sleep " * 15}, "longer than 80"),
    ],
)
def test_invalid_definitions_are_refused_with_a_clear_message(client_for, setup, organisation, change, message):
    admin, program = setup
    url = reverse("monitoring:program_instruments", args=[organisation.slug, program.pk])
    response = client_for(admin).post(url, {"text": json.dumps({**sleep_scale(), **change})})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ProgramInstrument.objects.exists()


def test_not_json_and_empty_uploads(client_for, setup, organisation):
    admin, program = setup
    url = reverse("monitoring:program_instruments", args=[organisation.slug, program.pk])
    broken = client_for(admin).post(url, {"text": '{"code": "x",'})
    assert broken.status_code == 400 and "not valid JSON" in broken.content.decode()
    empty = client_for(admin).post(url, {})
    assert empty.status_code == 400 and "Choose a file or paste a definition." in empty.content.decode()


def test_only_the_organisations_admins_add_questionnaires(client_for, setup, organisation, other_organisation, staff):
    _admin, program = setup
    url = reverse("monitoring:program_instruments", args=[organisation.slug, program.pk])
    for person in (staff, make_staff(other_organisation, Role.ORG_ADMIN)):
        assert client_for(person).post(url, {"text": json.dumps(sleep_scale())}).status_code == 404
    assert not ProgramInstrument.objects.exists()
