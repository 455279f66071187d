from datetime import UTC, date, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from alongside.accounts import actions as account_actions
from alongside.accounts.models import Role
from alongside.audit.models import AuditAction, AuditEvent
from alongside.care import actions as care_actions
from alongside.care.network import network_for
from alongside.programs import actions as program_actions
from alongside.programs.models import Transition
from alongside.testing.factories import make_staff, support

pytestmark = pytest.mark.django_db

NOTE = "Talked through the weekend plan with her; sister has a copy."


@pytest.fixture
def admin(organisation):
    return make_staff(organisation, Role.ORG_ADMIN, display_name="Org Admin")


@pytest.fixture
def program(admin, organisation):
    return program_actions.create_program(by=admin, organisation=organisation, name="Riverside Aftercare")


@pytest.fixture
def enrolment(admin, program, member):
    return program_actions.enrol(by=admin, program=program, member=member)


def member_today(member):
    return timezone.localdate(timezone=ZoneInfo(member.time_zone))


def transition_url(member):
    return reverse("care:record_transition", args=[member.pk])


def transition_post(enrolment, **changes):
    prefix = f"t{enrolment.pk}"
    data = {
        "enrolment": enrolment.pk,
        f"{prefix}-kind": "discharge",
        f"{prefix}-to_phase": "",
        f"{prefix}-effective_date": member_today(enrolment.member).isoformat(),
        f"{prefix}-note": "",
    }
    data.update({f"{prefix}-{key}": value for key, value in changes.items()})
    return data


# The member's own page


def test_the_member_sees_their_team_with_how_to_reach_them(client_for, member, staff, relationship, organisation):
    account_actions.set_contact_details(staff, "Call or text 555 0101,\nweekdays 9 to 5.")
    peer = make_staff(organisation, Role.PEER_MENTOR, display_name="Pat Peer")
    support(peer, member, organisation, Role.PEER_MENTOR)
    page = client_for(member).get(reverse("care:network"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "<h1>My care network</h1>" in body
    assert "Test Clinician" in body and "Clinician · Riverside Test Program" in body
    assert "Call or text 555 0101,\nweekdays 9 to 5." in body
    assert "Pat Peer" in body and "Peer mentor" in body and "Not given yet" in body


def test_contact_details_are_shown_as_text_not_html(client_for, member, staff, relationship):
    account_actions.set_contact_details(staff, '<script>alert("x")</script><a href="https://evil.example">call</a>')
    body = client_for(member).get(reverse("care:network")).content.decode()
    assert "<script>alert" not in body and '<a href="https://evil.example">' not in body
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in body


def test_the_member_sees_their_phase_and_days_since_discharge(client_for, member, staff, relationship, enrolment):
    ten_days_ago = member_today(member) - timedelta(days=10)
    program_actions.record_transition(
        by=staff, enrolment=enrolment, kind="discharge", effective_date=ten_days_ago, note=NOTE
    )
    program_actions.record_transition(
        by=staff,
        enrolment=enrolment,
        kind="step_down",
        to_phase=enrolment.program.phases.get(name="Step-down"),
        effective_date=member_today(member),
    )
    body = client_for(member).get(reverse("care:network")).content.decode()
    assert '<ol aria-label="Phases of Riverside Aftercare">' in body
    assert '<li aria-current="step"><strong>Step-down</strong>' in body
    assert body.count('aria-current="step"') == 1
    assert f"You were discharged from treatment on {ten_days_ago:%-d %B %Y}: 10 days ago." in body
    assert "Discharge from treatment" in body and "Intensive to Step-down" in body
    assert "sister" not in body  # the care team's note is not on the member's page


def test_days_since_discharge_count_in_the_members_time_zone(member, enrolment):
    enrolment.discharge_date = date(2024, 3, 1)
    enrolment.save()
    # 11:00 UTC on 10 March: already 11 March on Kiritimati (UTC+14), still 10 March in New York.
    with mock.patch("django.utils.timezone.now", return_value=datetime(2024, 3, 10, 11, 0, tzinfo=UTC)):
        assert network_for(member)["enrolments"][0].days_since_discharge == 9
        member.time_zone = "Pacific/Kiritimati"
        assert network_for(member)["enrolments"][0].days_since_discharge == 10
    status = network_for(member, today=date(2024, 2, 20))["enrolments"][0]
    assert (status.days_since_discharge, status.days_until_discharge) == (None, 10)


def test_the_network_page_is_for_members_only(client_for, staff):
    assert client_for(staff).get(reverse("care:network")).status_code == 403


def test_the_member_sees_no_note_and_an_empty_page_reads_well(client_for, member):
    body = client_for(member).get(reverse("care:network")).content.decode()
    assert "Nobody is supporting you in Alongside yet." in body and "You are not in a program yet." in body


# Recording a transition


def test_a_consented_clinician_records_a_discharge(client_for, staff, member, relationship, enrolment):
    client = client_for(staff)
    page = client.get(transition_url(member))
    assert page.status_code == 200
    body = page.content.decode()
    assert "<legend>Checklist</legend>" in body and "Aftercare plan reviewed and agreed with the member" in body
    labels = program_actions.transition_checklist(enrolment.program)
    day = member_today(member) - timedelta(days=2)
    response = client.post(
        transition_url(member),
        transition_post(enrolment, effective_date=day.isoformat(), checklist_done=labels[:2], note=NOTE),
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("web:member_record", args=[member.pk])
    enrolment.refresh_from_db()
    assert enrolment.discharge_date == day
    transition = Transition.objects.get()
    assert [item["done"] for item in transition.checklist] == [True, True, False, False, False, False]
    assert [item["label"] for item in transition.checklist] == labels
    change = AuditEvent.objects.get(action=AuditAction.CHANGE, member=member)
    assert change.category == "plan" and change.actor == staff and "sister" not in change.detail
    # Opening the form was audited as a read of the plan.
    assert AuditEvent.objects.filter(action=AuditAction.VIEW, member=member, category="plan").exists()


def test_a_consented_clinician_records_a_step_down_and_sees_it_with_the_note(
    client_for, staff, member, relationship, enrolment
):
    step_down = enrolment.program.phases.get(name="Step-down")
    client = client_for(staff)
    response = client.post(
        transition_url(member), transition_post(enrolment, kind="step_down", to_phase=step_down.pk, note=NOTE)
    )
    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert enrolment.phase == step_down
    body = client.get(transition_url(member)).content.decode()
    assert "Now in Step-down." in body and "Intensive to Step-down" in body
    assert "Checklist: 0 of 6 done" in body and "sister has a copy" in body


def test_the_summary_partial_shows_notes_only_when_asked(staff, member, enrolment):
    program_actions.record_transition(
        by=staff, enrolment=enrolment, kind="discharge", effective_date=member_today(member), note=NOTE
    )
    context = network_for(member)
    assert "sister has a copy" not in render_to_string("care/network_summary.html", context)
    assert "sister has a copy" in render_to_string("care/network_summary.html", {**context, "show_notes": True})


@pytest.mark.parametrize("who", ["peer_mentor", "withdrawn_plan", "outsider", "org_admin", "the_member", "ended"])
def test_others_get_404_and_nothing_is_recorded(
    client_for, who, staff, member, relationship, enrolment, outsider, admin
):
    organisation = enrolment.program.organisation
    if who == "peer_mentor":
        person = make_staff(organisation, Role.PEER_MENTOR)
        peer = support(person, member, organisation, Role.PEER_MENTOR)
        # Even with the plan shared, a peer mentor does not change it.
        care_actions.set_sharing(member=member, relationship=peer, categories=["plan"], safety_alerts=False)
    elif who == "withdrawn_plan":
        person = staff
        care_actions.set_sharing(member=member, relationship=relationship, categories=["checkins"], safety_alerts=True)
    elif who == "outsider":
        person = outsider
    elif who == "org_admin":
        person = admin
    elif who == "the_member":
        person = member
    else:
        person = staff
        care_actions.end_relationship(by=member, relationship=relationship)
    client = client_for(person)
    assert client.get(transition_url(member)).status_code == 404
    response = client.post(transition_url(member), transition_post(enrolment, note=NOTE))
    assert response.status_code == 404
    if person != member:
        assert "Test Member" not in response.content.decode()
    assert not Transition.objects.exists()
    enrolment.refresh_from_db()
    assert enrolment.discharge_date is None


def test_only_programs_of_the_relationships_organisation_are_offered(
    client_for, staff, member, relationship, enrolment, other_organisation
):
    account_actions.grant_role(member, other_organisation, Role.MEMBER)
    other_admin = make_staff(other_organisation, Role.ORG_ADMIN)
    elsewhere = program_actions.create_program(by=other_admin, organisation=other_organisation, name="Harbour Program")
    foreign = program_actions.enrol(by=other_admin, program=elsewhere, member=member)
    client = client_for(staff)
    body = client.get(transition_url(member)).content.decode()
    assert "Riverside Aftercare" in body and "Harbour Program" not in body
    response = client.post(transition_url(member), transition_post(foreign))
    assert response.status_code == 400
    assert "Choose one of the member&#x27;s programs." in response.content.decode()
    assert not Transition.objects.exists()


def test_bad_input_is_shown_with_messages_and_keeps_what_was_typed(
    client_for, staff, member, relationship, enrolment, admin, organisation
):
    other = program_actions.create_program(by=admin, organisation=organisation, name="Family program")
    client = client_for(staff)
    url = transition_url(member)
    response = client.post(
        url, transition_post(enrolment, kind="phase", to_phase=other.phases.last().pk, note="Kept as typed")
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Choose a phase of this program." in body and "Nothing was recorded" in body
    assert "Kept as typed</textarea>" in body

    long_ago = (member_today(member) - timedelta(days=400)).isoformat()
    response = client.post(url, transition_post(enrolment, effective_date=long_ago, note="Still here"))
    assert response.status_code == 400
    body = response.content.decode()
    assert "That date is more than a year ago." in body
    assert f'value="{long_ago}"' in body and "Still here</textarea>" in body

    response = client.post(url, transition_post(enrolment, note="x" * 2001))
    assert response.status_code == 400
    assert "at most 2000 characters" in response.content.decode()

    response = client.post(url, transition_post(enrolment, kind="step_down"))
    assert response.status_code == 400
    assert "Choose the phase they move to." in response.content.decode()
    assert not Transition.objects.exists()


# The supporter's own contact details


def test_staff_set_how_and_when_to_reach_them(client_for, staff, member, relationship):
    client = client_for(staff)
    security = client.get(reverse("accounts:security")).content.decode()
    assert reverse("accounts:contact_details") in security
    url = reverse("accounts:contact_details")
    assert client.get(url).status_code == 200
    response = client.post(url, {"contact_details": "  Text 555 0101, weekdays  "})
    assert response.status_code == 302
    staff.refresh_from_db()
    assert staff.contact_details == "Text 555 0101, weekdays"
    response = client.post(url, {"contact_details": "x" * 301})
    assert response.status_code == 400
    assert "at most 300 characters" in response.content.decode()
    staff.refresh_from_db()
    assert staff.contact_details == "Text 555 0101, weekdays"
    assert "Text 555 0101, weekdays" in client_for(member).get(reverse("care:network")).content.decode()


def test_members_are_not_offered_contact_details_on_the_security_page(client_for, member):
    body = client_for(member).get(reverse("accounts:security")).content.decode()
    assert reverse("accounts:contact_details") not in body


def test_the_domain_refuses_overlong_contact_details(staff):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        account_actions.set_contact_details(staff, "x" * 301)
    assert "under 300 characters" in caught.value.message_dict["contact_details"][0]
