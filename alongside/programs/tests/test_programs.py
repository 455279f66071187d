import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from alongside.accounts.models import Role, SettingsVersion
from alongside.audit.models import AuditAction, AuditEvent
from alongside.programs import actions
from alongside.programs.models import Program
from alongside.programs.settings_schema import ProgramSettings
from alongside.testing.factories import make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(organisation):
    return make_staff(organisation, Role.ORG_ADMIN, display_name="Org Admin")


@pytest.fixture
def program(admin, organisation):
    return actions.create_program(by=admin, organisation=organisation, name="Intensive outpatient aftercare")


def settings_with(**changes) -> dict:
    return {**ProgramSettings().model_dump(), **changes}


def test_a_new_program_works_at_once_with_defaults(program):
    assert list(program.phases.values_list("name", flat=True)) == ["Intensive", "Step-down", "Maintenance", "Graduated"]
    config = program.config
    assert config.checkin_fields[0] == "mood" and "cravings" in config.checkin_fields
    assert config.caseness_thresholds == {"phq9": 10, "gad7": 10, "who5": 50}
    assert [step.after_hours for step in config.ladder] == [24, 48, 72, 120, 168]
    assert config.experimental_detectors == {"critical_slowing_down": False}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"caseness_thresholds": {"phq9": 28, "gad7": 10, "who5": 50}},
            "caseness_thresholds",
            "outside its range 0 to 27",
        ),
        (
            {"ladder": [{"after_hours": 48, "action": "remind_member"}, {"after_hours": 24, "action": "notify_peer"}]},
            "ladder",
            "must come in order",
        ),
        ({"reminder_times": ["25:00"]}, "reminder_times", "not a time of day"),
        ({"checkin_fields": ["sleep_hours"]}, "checkin_fields", "Mood is always part of a check-in"),
        ({"alert_sla_minutes": {"urgent": 600, "high": 60, "watch": 1440}}, "alert_sla_minutes", "urgent alerts"),
    ],
)
def test_bad_settings_are_refused_with_a_clear_message_and_nothing_saved(admin, program, changes, field, message):
    before = Program.objects.get(pk=program.pk).settings
    with pytest.raises(ValidationError) as caught:
        actions.update_program(
            by=admin, program=program, name="Renamed", description="", phases=["One"], settings=settings_with(**changes)
        )
    assert field in caught.value.message_dict
    assert message in " ".join(caught.value.message_dict[field])
    program.refresh_from_db()
    assert program.name == "Intensive outpatient aftercare"
    assert program.settings == before
    assert program.phases.count() == 4


@pytest.mark.parametrize("phases", [[], ["Intensive", " "], ["Intensive", "intensive"]])
def test_empty_or_duplicate_phase_names_are_refused(admin, program, phases):
    with pytest.raises(ValidationError) as caught:
        actions.update_program(
            by=admin, program=program, name=program.name, description="", phases=phases, settings=program.settings
        )
    assert "phases" in caught.value.message_dict


def test_phases_keep_their_members_when_reordered_and_cannot_vanish_under_them(admin, program, organisation, member):
    enrolment = actions.enrol(by=admin, program=program, member=member)
    intensive = enrolment.phase
    actions.update_program(
        by=admin,
        program=program,
        name=program.name,
        description="",
        phases=["Maintenance", "Intensive", "Graduated"],
        settings=program.settings,
    )
    enrolment.refresh_from_db()
    assert enrolment.phase == intensive and enrolment.phase.position == 2
    with pytest.raises(ValidationError, match="Move members out of these phases first: Intensive"):
        actions.update_program(
            by=admin,
            program=program,
            name=program.name,
            description="",
            phases=["Graduated"],
            settings=program.settings,
        )


def test_every_change_is_versioned_with_before_and_after(admin, program):
    actions.update_program(
        by=admin,
        program=program,
        name=program.name,
        description="For people leaving the IOP",
        phases=["Intensive", "Step-down", "Maintenance", "Graduated"],
        settings=settings_with(caseness_thresholds={"phq9": 10, "gad7": 8, "who5": 50}),
    )
    latest = SettingsVersion.objects.filter(subject=f"program:{program.pk}").first()
    assert latest.number == 2 and latest.changed_by == admin
    changed = {change["field"]: (change["before"], change["after"]) for change in latest.changes}
    assert changed["caseness_thresholds"][0]["gad7"] == 10 and changed["caseness_thresholds"][1]["gad7"] == 8
    assert changed["description"] == ("", "For people leaving the IOP")
    assert AuditEvent.objects.filter(action=AuditAction.SETTINGS_CHANGE, actor=admin).count() == 2


def test_a_program_with_members_is_archived_not_deleted(admin, program, member):
    actions.enrol(by=admin, program=program, member=member)
    with pytest.raises(ValidationError, match="can only be archived"):
        actions.delete_program(by=admin, program=program)
    actions.archive_program(by=admin, program=program)
    assert Program.objects.get(pk=program.pk).archived_at is not None
    empty = actions.create_program(by=admin, organisation=program.organisation, name="Never used")
    actions.delete_program(by=admin, program=empty)
    assert not Program.objects.filter(pk=empty.pk).exists()


def test_only_the_organisations_admins_change_programs(program, staff, other_organisation):
    from django.core.exceptions import PermissionDenied

    foreign_admin = make_staff(other_organisation, Role.ORG_ADMIN)
    for person in (staff, foreign_admin):
        with pytest.raises(PermissionDenied):
            actions.archive_program(by=person, program=program)


def test_program_form_shows_errors_next_to_the_field_and_keeps_input(client_for, admin, program):
    url = reverse("programs:edit", args=[program.organisation.slug, program.pk])
    client = client_for(admin)
    page = client.get(url)
    form_data = {key: value for key, value in page.context["form"].initial.items() if value is not None}
    form_data.update({"checkin_fields": ["anxiety"], "threshold_gad7": "22", "reminder_times": "08:00, 7pm"})
    form_data.update({"ladder_2_hours": "10", "ladder_2_action": ""})
    response = client.post(url, form_data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "Ensure this value is less than or equal to 21" in body
    assert "Give both the hours and what happens, or neither." in body
    assert 'value="08:00, 7pm"' in body
    program.refresh_from_db()
    assert program.settings["caseness_thresholds"]["gad7"] == 10


def test_program_form_saves_a_valid_change(client_for, admin, program):
    url = reverse("programs:edit", args=[program.organisation.slug, program.pk])
    client = client_for(admin)
    form_data = {key: value for key, value in client.get(url).context["form"].initial.items() if value is not None}
    form_data.update(
        {
            "checkin_fields": ["sleep_hours", "medication"],
            "reminder_times": "20:30, 09:00",
            "phases": "Early\nLater\n\n",
        }
    )
    assert client.post(url, form_data).status_code == 302
    program.refresh_from_db()
    assert program.settings["checkin_fields"] == ["mood", "sleep_hours", "medication"]
    assert program.settings["reminder_times"] == ["09:00", "20:30"]
    assert list(program.phases.values_list("name", flat=True)) == ["Early", "Later"]
