"""Outreach: supporters record contacts (audited, note encrypted), tasks close, outsiders find nothing."""

from datetime import timedelta

from django.db import connection
from django.urls import reverse
from django.utils import timezone

from alongside.audit.models import AuditEvent
from alongside.care import outreach
from alongside.care.models import OutreachContact, OutreachTask, OutreachTaskStatus


def test_a_supporter_records_a_contact_that_closes_the_task(member, staff, relationship, organisation, client_for):
    task = outreach.open_task(
        organisation=organisation, member=member, owner=staff, reason="No check-in for 5 days",
        due_at=timezone.now() + timedelta(days=1), source_key="ladder:test",
    )  # fmt: skip
    assert outreach.open_task(organisation=organisation, member=member, owner=staff, reason="again",
                              due_at=timezone.now(), source_key="ladder:test") == task  # fmt: skip
    client = client_for(staff)
    page = client.get(reverse("care:member_outreach", args=[member.pk])).content.decode()
    assert "No check-in for 5 days" in page
    response = client.post(
        reverse("care:member_outreach", args=[member.pk]),
        {"method": "call", "outcome": "reached", "note": "Feeling low, <b>agreed</b> to come Thursday",
         "next_step": "Check on Thursday", "task": str(task.pk), "done": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    contact = OutreachContact.objects.get(member=member)
    assert (contact.staff, contact.method, contact.outcome, contact.task) == (staff, "call", "reached", task)
    task.refresh_from_db()
    assert task.status == OutreachTaskStatus.DONE
    with connection.cursor() as cursor:
        cursor.execute("SELECT note FROM care_outreachcontact WHERE id = %s", [contact.pk])
        assert "Thursday" not in cursor.fetchone()[0]
    assert AuditEvent.objects.filter(actor=staff, member=member, detail__startswith="recorded outreach").exists()
    log = client.get(reverse("care:member_outreach", args=[member.pk])).content.decode()
    assert "&lt;b&gt;agreed&lt;/b&gt;" in log


def test_bad_input_re_renders_and_outsiders_find_nothing(member, staff, relationship, outsider, client_for):
    response = client_for(staff).post(reverse("care:member_outreach", args=[member.pk]), {"method": "pigeon"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not OutreachContact.objects.exists()
    assert client_for(outsider).get(reverse("care:member_outreach", args=[member.pk])).status_code == 404
    assert client_for(member).get(reverse("care:member_outreach", args=[member.pk])).status_code == 404


def test_my_outreach_tasks_lists_only_mine(member, staff, relationship, organisation, client_for):
    from alongside.accounts.models import Role
    from alongside.testing.factories import make_staff

    other = make_staff(organisation, Role.CASE_MANAGER)
    outreach.open_task(organisation=organisation, member=member, owner=other, reason="Someone else's",
                       due_at=timezone.now())  # fmt: skip
    outreach.open_task(organisation=organisation, member=member, owner=staff, reason="Mine", due_at=timezone.now())
    page = client_for(staff).get(reverse("care:my_outreach")).content.decode()
    assert "Mine" in page and "Someone else" not in page
    assert OutreachTask.objects.count() == 2


def test_outreach_of_another_organisation_stays_there(
    member, staff, relationship, organisation, other_organisation, client_for
):
    from alongside.accounts import actions
    from alongside.accounts.models import Role
    from alongside.testing.factories import make_staff, support

    actions.grant_role(member, other_organisation, Role.MEMBER)
    other_clinician = make_staff(other_organisation, Role.CLINICIAN)
    support(other_clinician, member, other_organisation, Role.CLINICIAN)
    outreach.record_contact(by=other_clinician, member=member, method="call", outcome="reached", note="Harbour note")
    outreach.open_task(organisation=other_organisation, member=member, owner=other_clinician, reason="Harbour task",
                       due_at=timezone.now())  # fmt: skip
    page = client_for(staff).get(reverse("care:member_outreach", args=[member.pk])).content.decode()
    assert "Harbour note" not in page and "Harbour task" not in page
