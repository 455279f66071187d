"""Org admins run their organisation: settings and crisis lines, staff and caseloads, the member roster."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from alongside.accounts.models import Invitation, Organisation, Role, SettingsVersion, User
from alongside.care import actions, policy
from alongside.care.models import Category
from alongside.programs import actions as program_actions
from alongside.programs.models import Enrolment, ProgramInvitation
from alongside.testing.factories import make_staff, support

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(organisation):
    return make_staff(organisation, Role.ORG_ADMIN, display_name="Org Admin")


def settings_post(organisation, **overrides):
    data = {
        "name": organisation.name,
        "country": organisation.country,
        "time_zone": organisation.time_zone,
        "emergency_number": organisation.emergency_number,
        "emergency_note": "",
        "support_contact": "",
        "lines-TOTAL_FORMS": "3",
        "lines-INITIAL_FORMS": "1",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "10",
        "lines-0-name": "988 Suicide & Crisis Lifeline",
        "lines-0-phone": "988",
        "lines-0-text": "988",
        "lines-0-note": "call or text",
    }
    data.update(overrides)
    return data


def test_admin_edits_crisis_lines_and_the_crisis_page_follows(client_for, admin, organisation, member):
    url = reverse("org:settings", args=[organisation.slug])
    response = client_for(admin).post(
        url, settings_post(organisation, **{"lines-1-name": "Riverside warm line", "lines-1-phone": "+1 555 0100"})
    )
    assert response.status_code == 302
    organisation.refresh_from_db()
    assert [line["name"] for line in organisation.crisis_lines] == [
        "988 Suicide & Crisis Lifeline",
        "Riverside warm line",
    ]
    crisis = client_for(member).get(reverse("web:crisis")).content.decode()
    assert 'href="tel:+15550100"' in crisis
    version = SettingsVersion.objects.get(subject=f"organisation:{organisation.pk}")
    assert version.changes[0]["field"] == "crisis_lines" and len(version.changes[0]["after"]) == 2


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"lines-1-name": "Warm line"}, "A crisis line needs a number to call or to text."),
        ({"lines-1-phone": "555"}, "Give this crisis line a name."),
        ({"time_zone": "Mars/Olympus"}, "is not a known time zone name"),
        ({"emergency_number": ""}, "This field is required."),
    ],
)
def test_bad_organisation_settings_rerender_and_save_nothing(client_for, admin, organisation, overrides, message):
    before = Organisation.objects.get(pk=organisation.pk)
    response = client_for(admin).post(
        reverse("org:settings", args=[organisation.slug]), settings_post(organisation, **overrides)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    after = Organisation.objects.get(pk=organisation.pk)
    assert (after.crisis_lines, after.time_zone, after.emergency_number) == (
        before.crisis_lines,
        before.time_zone,
        before.emergency_number,
    )
    assert not SettingsVersion.objects.exists()


def test_country_defaults_can_replace_the_crisis_lines(client_for, admin, organisation):
    client_for(admin).post(
        reverse("org:settings", args=[organisation.slug]),
        settings_post(organisation, country="GB", time_zone="Europe/London", use_country_defaults="on"),
    )
    organisation.refresh_from_db()
    assert organisation.emergency_number == "999"
    assert organisation.crisis_lines[0]["name"] == "Samaritans"


def test_deactivating_staff_moves_their_caseload_and_ends_their_sessions(
    client_for, admin, organisation, member, staff
):
    relationship = support(staff, member, organisation, Role.CLINICIAN)
    actions.set_sharing(member=member, relationship=relationship, categories=["goals"], safety_alerts=True)
    successor = make_staff(organisation, Role.CLINICIAN, display_name="Successor")
    leaving_session = client_for(staff)
    assert leaving_session.get(reverse("web:staff_home")).status_code == 200

    page = client_for(admin).get(reverse("care:staff_list", args=[organisation.slug])).content.decode()
    assert "Test Clinician" in page
    response = client_for(admin).post(
        reverse("care:staff_manage", args=[organisation.slug, staff.pk]),
        {"deactivate": "1", "successor": successor.pk, "confirm": "on"},
    )
    assert response.status_code == 302
    assert leaving_session.get(reverse("web:staff_home")).status_code == 302  # signed out at once
    staff.refresh_from_db()
    assert not staff.is_active and staff.roles_in(organisation) == set()
    assert not policy.can(staff, "view", member, Category.GOALS)
    # The successor sees what the member chose to share with the previous clinician, and no more.
    assert policy.categories_shared_with(successor, member) == {"goals"}


def test_deactivating_someone_with_members_asks_where_they_go(client_for, admin, organisation, member, staff):
    support(staff, member, organisation, Role.CLINICIAN)
    response = client_for(admin).post(
        reverse("care:staff_manage", args=[organisation.slug, staff.pk]), {"deactivate": "1", "confirm": "on"}
    )
    assert response.status_code == 400
    assert "Choose who takes over their members." in response.content.decode()
    staff.refresh_from_db()
    assert staff.is_active and staff.roles_in(organisation) == {"clinician"}


def test_roles_change_but_not_from_under_a_caseload(client_for, admin, organisation, member, staff):
    url = reverse("care:staff_manage", args=[organisation.slug, staff.pk])
    assert client_for(admin).post(url, {"save_roles": "1", "roles": ["clinician", "facilitator"]}).status_code == 302
    assert staff.roles_in(organisation) == {"clinician", "facilitator"}
    support(staff, member, organisation, Role.CLINICIAN)
    refused = client_for(admin).post(url, {"save_roles": "1", "roles": ["facilitator"]})
    assert refused.status_code == 400
    assert "Move their members to someone else before removing: Clinician" in refused.content.decode()
    assert "clinician" in staff.roles_in(organisation)


def test_the_last_admin_cannot_remove_themselves(admin, organisation):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="at least one admin"):
        actions.set_staff_roles(by=admin, organisation=organisation, person=admin, roles=[])


def test_member_invited_into_a_program_is_enrolled_on_joining(client_for, admin, organisation, staff):
    from django.core import mail
    from django.test import Client

    program = program_actions.create_program(by=admin, organisation=organisation, name="Aftercare")
    url = reverse("care:invite", args=[organisation.slug])
    missing = client_for(staff).post(url, {"email": "m@example.org", "role": "member"})
    assert missing.status_code == 400 and "Choose the program the member joins." in missing.content.decode()
    assert (
        client_for(staff).post(url, {"email": "m@example.org", "role": "member", "program": program.pk}).status_code
        == 200
    )
    assert ProgramInvitation.objects.get().program == program
    roster = client_for(admin).get(reverse("care:org_members", args=[organisation.slug])).content.decode()
    assert "m@example.org" in roster  # invited, not joined yet

    link = mail.outbox[-1].body.split("http://127.0.0.1:8000")[1].split()[0]
    Client().post(link, {"display_name": "Mo", "password1": "calm lake evening", "password2": "calm lake evening"})
    newcomer = User.objects.get(email="m@example.org")
    enrolment = Enrolment.objects.get(member=newcomer)
    assert enrolment.program == program and enrolment.phase.name == "Intensive"
    assert policy.can(staff, "view", newcomer, Category.CHECKINS)


def test_roster_entry_changes_phase_and_discharge_date(client_for, admin, organisation, member):
    program = program_actions.create_program(by=admin, organisation=organisation, name="Aftercare")
    enrolment = program_actions.enrol(by=admin, program=program, member=member)
    maintenance = program.phases.get(name="Maintenance")
    url = reverse("care:roster_entry", args=[organisation.slug, member.pk])
    response = client_for(admin).post(
        url,
        {
            f"save_{enrolment.pk}": "1",
            f"e{enrolment.pk}-phase": maintenance.pk,
            f"e{enrolment.pk}-discharge_date": "2026-10-01",
        },
    )
    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert enrolment.phase == maintenance and str(enrolment.discharge_date) == "2026-10-01"
    other_phase = program_actions.create_program(by=admin, organisation=organisation, name="Other").phases.first()
    bad = client_for(admin).post(url, {f"save_{enrolment.pk}": "1", f"e{enrolment.pk}-phase": other_phase.pk})
    assert bad.status_code == 400
    enrolment.refresh_from_db()
    assert enrolment.phase == maintenance


def test_createorg_and_orgs_commands(capsys, db):
    call_command(
        "createorg",
        "Lakeside Recovery",
        "--country",
        "IE",
        "--admin",
        "Boss@Lakeside.example",
        "--time-zone",
        "Europe/Dublin",
    )
    out = capsys.readouterr().out
    organisation = Organisation.objects.get(name="Lakeside Recovery")
    assert organisation.emergency_number == "112" and organisation.time_zone == "Europe/Dublin"
    invitation = Invitation.objects.get(organisation=organisation)
    assert invitation.role == Role.ORG_ADMIN and invitation.email == "boss@lakeside.example"
    assert "/accounts/invite/" in out
    call_command("orgs")
    listing = capsys.readouterr().out
    assert "lakeside-recovery" in listing and "IE" in listing


def test_createorg_refuses_unknown_countries(db):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="no crisis-line defaults for country 'XX'"):
        call_command("createorg", "Nowhere", "--country", "XX", "--admin", "a@example.org")
    assert not Organisation.objects.exists()
