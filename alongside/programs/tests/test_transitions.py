from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse

from alongside.accounts.models import Role
from alongside.audit.models import AuditAction, AuditEvent
from alongside.programs import actions
from alongside.programs.models import DEFAULT_TRANSITION_CHECKLIST, Enrolment, Transition, TransitionKind
from alongside.programs.settings_schema import ProgramSettings
from alongside.testing.factories import make_staff

pytestmark = pytest.mark.django_db

NOTE = "Spoke with her sister about the weekend; crisis plan copy at home."


@pytest.fixture
def admin(organisation):
    return make_staff(organisation, Role.ORG_ADMIN, display_name="Org Admin")


@pytest.fixture
def program(admin, organisation):
    return actions.create_program(by=admin, organisation=organisation, name="Intensive outpatient aftercare")


@pytest.fixture
def enrolment(admin, program, member):
    return actions.enrol(by=admin, program=program, member=member)


def phase(program, name):
    return program.phases.get(name=name)


def today_of(member):
    return actions.member_today(member)


def test_a_discharge_sets_the_date_and_keeps_the_whole_checklist(staff, member, enrolment):
    labels = actions.transition_checklist(enrolment.program)
    day = today_of(member) - timedelta(days=3)
    transition = actions.record_transition(
        by=staff,
        enrolment=enrolment,
        kind=TransitionKind.DISCHARGE,
        effective_date=day,
        checklist_done=[labels[0], labels[2]],
        note=NOTE,
    )
    enrolment.refresh_from_db()
    assert enrolment.discharge_date == day
    assert enrolment.phase.name == "Intensive"  # a discharge alone does not move the phase
    transition.refresh_from_db()
    assert transition.kind == "discharge" and transition.effective_date == day
    assert transition.from_phase.name == "Intensive" and transition.to_phase is None
    assert transition.checklist == [{"label": label, "done": label in (labels[0], labels[2])} for label in labels]
    assert len(transition.checklist) == len(DEFAULT_TRANSITION_CHECKLIST)
    assert transition.note == NOTE and transition.recorded_by == staff


def test_the_note_is_encrypted_at_rest_and_kept_out_of_the_audit_log(staff, member, enrolment):
    transition = actions.record_transition(
        by=staff, enrolment=enrolment, kind="discharge", effective_date=today_of(member), note=NOTE
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT note FROM {Transition._meta.db_table} WHERE id = %s", [transition.pk])  # noqa: S608
        (raw,) = cursor.fetchone()
    assert raw and "crisis plan" not in raw and "sister" not in raw
    event = AuditEvent.objects.get(action=AuditAction.CHANGE, member=member)
    assert (event.actor, event.category, event.organisation) == (staff, "plan", enrolment.program.organisation)
    assert event.actor_roles == "clinician"
    assert "discharge" in event.detail and "Intensive outpatient aftercare" in event.detail
    assert "sister" not in event.detail


def test_a_step_down_moves_the_phase(staff, member, enrolment, program):
    step_down = phase(program, "Step-down")
    transition = actions.record_transition(
        by=staff, enrolment=enrolment, kind="step_down", to_phase=step_down, effective_date=today_of(member)
    )
    enrolment.refresh_from_db()
    assert enrolment.phase == step_down and enrolment.discharge_date is None
    assert (transition.from_phase.name, transition.to_phase.name) == ("Intensive", "Step-down")
    assert all(item["done"] is False for item in transition.checklist)
    detail = AuditEvent.objects.get(action=AuditAction.CHANGE).detail
    assert "Intensive → Step-down" in detail and "0 of 6 done" in detail


def test_a_discharge_may_also_move_the_phase(staff, member, enrolment, program):
    actions.record_transition(
        by=staff,
        enrolment=enrolment,
        kind="discharge",
        to_phase=phase(program, "Step-down"),
        effective_date=today_of(member),
    )
    enrolment.refresh_from_db()
    assert enrolment.phase.name == "Step-down" and enrolment.discharge_date == today_of(member)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"kind": "step_down"}, "to_phase", "Choose the phase they move to"),
        ({"kind": "graduation"}, "to_phase", "Choose the phase they move to"),
        ({"kind": "holiday"}, "kind", "Choose what kind of move"),
        ({"days": -400}, "effective_date", "more than a year ago"),
        ({"days": 31}, "effective_date", "more than 30 days away"),
        ({"note": "x" * 2001}, "note", "under 2000 characters"),
        ({"checklist_done": ["Bought flowers"]}, "checklist", "checklist only"),
    ],
)
def test_bad_transitions_are_refused_and_change_nothing(staff, member, enrolment, change, field, message):
    arguments = {
        "by": staff,
        "enrolment": enrolment,
        "kind": change.get("kind", "discharge"),
        "effective_date": today_of(member) + timedelta(days=change.get("days", 0)),
        "note": change.get("note", ""),
        "checklist_done": change.get("checklist_done", []),
    }
    with pytest.raises(ValidationError) as caught:
        actions.record_transition(**arguments)
    assert message in " ".join(caught.value.message_dict[field])
    enrolment.refresh_from_db()
    assert enrolment.discharge_date is None and enrolment.phase.name == "Intensive"
    assert not Transition.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.CHANGE).exists()


def test_the_date_may_be_a_year_back_or_thirty_days_ahead(staff, member, enrolment):
    today = today_of(member)
    for day in (today - timedelta(days=364), today + timedelta(days=30)):
        actions.record_transition(by=staff, enrolment=enrolment, kind="discharge", effective_date=day)
        enrolment.refresh_from_db()
        assert enrolment.discharge_date == day


def test_a_phase_of_another_program_or_the_same_phase_is_refused(staff, member, admin, organisation, enrolment):
    other = actions.create_program(by=admin, organisation=organisation, name="Family program")
    with pytest.raises(ValidationError) as caught:
        actions.record_transition(
            by=staff,
            enrolment=enrolment,
            kind="phase",
            to_phase=other.phases.last(),
            effective_date=today_of(member),
        )
    assert "Choose a phase of this program." in caught.value.message_dict["to_phase"]
    with pytest.raises(ValidationError, match="already in Intensive"):
        actions.record_transition(
            by=staff, enrolment=enrolment, kind="phase", to_phase=enrolment.phase, effective_date=today_of(member)
        )
    assert not Transition.objects.exists()


def test_only_clinicians_and_case_managers_of_the_organisation_record(admin, member, enrolment, organisation, outsider):
    peer = make_staff(organisation, Role.PEER_MENTOR)
    for person in (admin, peer, outsider, member):
        with pytest.raises(PermissionDenied):
            actions.record_transition(by=person, enrolment=enrolment, kind="discharge", effective_date=today_of(member))
    case_manager = make_staff(organisation, Role.CASE_MANAGER)
    actions.record_transition(by=case_manager, enrolment=enrolment, kind="discharge", effective_date=today_of(member))
    assert Transition.objects.count() == 1


def test_an_ended_enrolment_takes_no_transition(staff, member, enrolment):
    Enrolment.objects.filter(pk=enrolment.pk).update(ended_at="2020-01-01T00:00:00Z")
    with pytest.raises(ValidationError, match="has ended"):
        actions.record_transition(by=staff, enrolment=enrolment, kind="discharge", effective_date=today_of(member))


def test_programs_start_with_the_default_checklist_and_may_have_their_own(admin, program, staff, member):
    assert program.config.transition_checklist == [str(label) for label in DEFAULT_TRANSITION_CHECKLIST]
    # Settings saved before the checklist existed still read, with the defaults.
    legacy = {key: value for key, value in program.settings.items() if key != "transition_checklist"}
    assert ProgramSettings.model_validate(legacy).transition_checklist == program.config.transition_checklist
    own = ["  Housing  checked ", "GP letter sent"]
    actions.update_program(
        by=admin,
        program=program,
        name=program.name,
        description="",
        phases=["Intensive", "Step-down"],
        settings={**program.settings, "transition_checklist": own},
    )
    program.refresh_from_db()
    assert actions.transition_checklist(program) == ["Housing checked", "GP letter sent"]
    enrolment = actions.enrol(by=admin, program=program, member=member)
    transition = actions.record_transition(
        by=staff,
        enrolment=enrolment,
        kind="discharge",
        effective_date=today_of(member),
        checklist_done=["GP letter sent"],
    )
    assert transition.checklist == [
        {"label": "Housing checked", "done": False},
        {"label": "GP letter sent", "done": True},
    ]


@pytest.mark.parametrize(
    ("checklist", "message"),
    [(["Housing", "housing"], "listed twice"), (["Housing", " "], "needs some words"), (["x" * 201], "under 200")],
)
def test_bad_checklists_are_refused(admin, program, checklist, message):
    with pytest.raises(ValidationError) as caught:
        actions.update_program(
            by=admin,
            program=program,
            name=program.name,
            description="",
            phases=["Intensive"],
            settings={**program.settings, "transition_checklist": checklist},
        )
    assert message in " ".join(caught.value.message_dict["transition_checklist"])


def test_the_program_form_edits_the_checklist(client_for, admin, program):
    url = reverse("programs:edit", args=[program.organisation.slug, program.pk])
    client = client_for(admin)
    form_data = {key: value for key, value in client.get(url).context["form"].initial.items() if value is not None}
    assert form_data["transition_checklist"].splitlines()[0] == "Aftercare plan reviewed and agreed with the member"
    form_data["transition_checklist"] = "Housing checked\n\nGP letter sent\n"
    assert client.post(url, form_data).status_code == 302
    program.refresh_from_db()
    assert program.settings["transition_checklist"] == ["Housing checked", "GP letter sent"]
    form_data["transition_checklist"] = "Housing\nhousing"
    response = client.post(url, form_data)
    assert response.status_code == 400 and "checklist items listed twice" in response.content.decode()
