"""Peer-mentor matching through its pages and the API: a member, their clinician, the org admin, a clinician of
another member and an outsider."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from alongside.accounts.models import Role
from alongside.audit.models import AuditAction, AuditEvent
from alongside.care.models import CareRelationship, Category
from alongside.groups import mentoring
from alongside.groups.models import MentorProfile, MentorRequest, MentorRequestStatus
from alongside.testing import factories

NOTE = "Only mornings: night shifts 7713"


@pytest.fixture
def admin(organisation):
    return factories.make_staff(organisation, Role.ORG_ADMIN, display_name="Org Admin")


@pytest.fixture
def rosa(organisation):
    person = factories.make_staff(organisation, Role.PEER_MENTOR, display_name="Rosa Mentor")
    mentoring.save_mentor_profile(
        person, organisation, languages="Spanish", lived_experience=["grief"], availability=["weekday_mornings"],
        capacity=2, accepting=True, about="Lost my father in recovery",
    )  # fmt: skip
    return person


@pytest.fixture
def waiting(organisation, member):
    return mentoring.ask_for_mentor(
        member, organisation, languages="spanish", lived_experience=["grief"], availability=["weekday_mornings"],
        note=NOTE,
    )  # fmt: skip


def api_post(client, url, body, **headers):
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers)


def test_a_peer_mentor_saves_their_profile_on_the_page(organisation, client_for, staff):
    person = factories.make_staff(organisation, Role.PEER_MENTOR)
    client = client_for(person)
    assert client.get(reverse("groups:mentor_profile")).status_code == 200
    response = client.post(
        reverse("groups:mentor_profile"),
        {"languages": " english ,Spanish", "lived_experience": ["grief"], "availability": ["weekends"],
         "gender": "", "capacity": "4", "accepting": "on", "about": "Hello"},
    )  # fmt: skip
    assert response.status_code == 302
    profile = MentorProfile.objects.get(person=person)
    assert (profile.languages, profile.capacity, profile.accepting) == (["English", "Spanish"], 4, True)
    bad = client.post(
        reverse("groups:mentor_profile"), {"languages": "English", "lived_experience": ["aliens"], "capacity": "4"}
    )
    assert bad.status_code == 400
    assert "lived_experience" in bad.context["form"].errors
    assert client_for(staff).get(reverse("groups:mentor_profile")).status_code == 403


def test_a_member_asks_sees_the_status_and_withdraws(organisation, member, client_for):
    client = client_for(member)
    page = client.get(reverse("groups:ask_for_mentor"))
    assert page.status_code == 200 and page.context["form"]["gender_preference"].value() == ""
    bad = client.post(reverse("groups:ask_for_mentor"), {"lived_experience": ["aliens"]})
    assert bad.status_code == 400 and "lived_experience" in bad.context["form"].errors
    assert not MentorRequest.objects.exists()
    sent = client.post(
        reverse("groups:ask_for_mentor"),
        {"languages": "Spanish", "lived_experience": ["grief", "alcohol"], "gender_preference": "", "note": NOTE},
    )
    assert sent.status_code == 302
    mentor_request = MentorRequest.objects.get(member=member)
    assert mentor_request.lived_experience == ["alcohol", "grief"]
    page = client.get(reverse("groups:ask_for_mentor")).content.decode()
    assert "Waiting for a match" in page and "Withdraw my request" in page
    assert client.post(reverse("groups:withdraw_mentor_request", args=[mentor_request.pk])).status_code == 302
    mentor_request.refresh_from_db()
    assert mentor_request.status == MentorRequestStatus.WITHDRAWN


def test_nobody_else_withdraws_a_members_request(organisation, waiting, client_for, admin):
    other = factories.make_member(organisation)
    assert client_for(other).post(reverse("groups:withdraw_mentor_request", args=[waiting.pk])).status_code == 404
    assert client_for(admin).post(reverse("groups:withdraw_mentor_request", args=[waiting.pk])).status_code == 403
    waiting.refresh_from_db()
    assert waiting.status == MentorRequestStatus.OPEN


def test_the_queue_and_request_pages_show_only_what_each_person_may_see(
    organisation, member, staff, relationship, admin, outsider, rosa, waiting, client_for
):
    someone_elses = factories.make_staff(organisation, Role.CLINICIAN)
    factories.support(someone_elses, factories.make_member(organisation), organisation)
    url = reverse("groups:mentor_request", args=[waiting.pk])
    for person in (staff, admin):
        client = client_for(person)
        queue = client.get(reverse("groups:mentor_requests")).content.decode()
        assert member.display_name in queue and NOTE not in queue
        page = client.get(url)
        assert page.status_code == 200
        body = page.content.decode()
        assert NOTE in body and "Rosa Mentor" in body
        assert "speaks Spanish; shares: grief and loss; weekday mornings; 2 of 2 places free" in body
    reads = AuditEvent.objects.filter(action=AuditAction.VIEW, member=member, category=Category.GROUPS)
    assert {event.actor for event in reads} == {staff, admin}
    for person in (someone_elses, outsider, rosa):
        client = client_for(person)
        assert client.get(url).status_code == 404
        queue = client.get(reverse("groups:mentor_requests"))
        assert member.display_name not in queue.content.decode()
    assert client_for(member).get(reverse("groups:mentor_requests")).status_code == 403


def test_approving_on_the_page_and_the_member_then_sees_their_mentor(
    organisation, member, staff, relationship, rosa, waiting, client_for
):
    someone_elses = factories.make_staff(organisation, Role.CLINICIAN)
    factories.support(someone_elses, factories.make_member(organisation), organisation)
    approve = reverse("groups:approve_mentor_match", args=[waiting.pk])
    assert client_for(someone_elses).post(approve, {"mentor": rosa.pk}).status_code == 404
    refused = client_for(staff).post(approve, {"mentor": staff.pk})
    assert refused.status_code == 400 and "Choose a peer mentor of this organisation." in refused.content.decode()
    assert client_for(staff).post(approve, {"mentor": rosa.pk}).status_code == 302
    relationship = CareRelationship.objects.get(member=member, staff=rosa)
    assert relationship.shared_categories == {Category.ENGAGEMENT, Category.GOALS}
    page = client_for(member).get(reverse("groups:ask_for_mentor")).content.decode()
    assert "Your peer mentor: Rosa Mentor" in page
    assert "Whether I check in and attend" in page and "Goals and milestones" in page
    assert "Check-in answers" not in page
    assert reverse("care:sharing") in page


def test_the_api_for_members(organisation, member, staff, client_for):
    client = client_for(member)
    body = {"languages": "spanish, English", "lived_experience": ["grief"], "note": NOTE}
    first = api_post(client, "/api/v1/mentor-requests", body, **{"Idempotency-Key": "k1"})
    assert first.status_code == 201, first.content
    again = api_post(client, "/api/v1/mentor-requests", body, **{"Idempotency-Key": "k1"})
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert MentorRequest.objects.filter(member=member).count() == 1
    assert first.json()["languages"] == ["Spanish", "English"]
    second = api_post(client, "/api/v1/mentor-requests", body, **{"Idempotency-Key": "k2"})
    assert second.status_code == 422 and second.json()["fields"] == ["organisation"]
    mine = client.get("/api/v1/mentor-requests/mine").json()
    assert [item["status"] for item in mine] == ["open"] and mine[0]["note"] == NOTE
    assert api_post(client_for(staff), "/api/v1/mentor-requests", body, **{"Idempotency-Key": "k3"}).status_code == 403


def test_bad_input_to_the_api_names_the_field(organisation, member, other_organisation, client_for):
    client = client_for(member)
    bad = api_post(client, "/api/v1/mentor-requests", {"lived_experience": ["aliens"]}, **{"Idempotency-Key": "b1"})
    assert bad.status_code == 422 and bad.json()["fields"] == ["lived_experience"]
    no_key = api_post(client, "/api/v1/mentor-requests", {"lived_experience": ["grief"]})
    assert no_key.status_code == 400 and no_key.json()["fields"] == ["Idempotency-Key"]
    elsewhere = api_post(
        client, "/api/v1/mentor-requests", {"organisation_id": other_organisation.pk}, **{"Idempotency-Key": "b2"}
    )
    assert elsewhere.status_code == 422 and elsewhere.json()["fields"] == ["organisation_id"]
    assert not MentorRequest.objects.exists()


def test_the_api_for_approvers(organisation, member, staff, relationship, admin, rosa, waiting, client_for):
    someone_elses = factories.make_staff(organisation, Role.CLINICIAN)
    factories.support(someone_elses, factories.make_member(organisation), organisation)
    listed = client_for(admin).get("/api/v1/mentor-requests").json()
    assert [item["id"] for item in listed] == [waiting.pk]
    assert client_for(someone_elses).get("/api/v1/mentor-requests").json() == []
    assert client_for(rosa).get("/api/v1/mentor-requests").status_code == 403
    suggestions_url = f"/api/v1/mentor-requests/{waiting.pk}/suggestions"
    found = client_for(staff).get(suggestions_url).json()
    assert [(s["mentor_id"], s["score"], s["places_free"]) for s in found] == [(rosa.pk, 3, 2)]
    assert client_for(someone_elses).get(suggestions_url).status_code == 404
    match_url = f"/api/v1/mentor-requests/{waiting.pk}/match"
    assert api_post(client_for(someone_elses), match_url, {"mentor_id": rosa.pk}).status_code == 404
    refused = api_post(client_for(admin), match_url, {"mentor_id": admin.pk})
    assert refused.status_code == 422 and refused.json()["fields"] == ["mentor_id"]
    matched = api_post(client_for(admin), match_url, {"mentor_id": rosa.pk})
    assert matched.status_code == 200 and matched.json()["status"] == "matched"
    assert api_post(client_for(admin), match_url, {"mentor_id": rosa.pk}).status_code == 200  # a retry
    assert CareRelationship.objects.filter(member=member, staff=rosa).count() == 1
    mine = client_for(member).get("/api/v1/mentor-requests/mine").json()
    assert mine[0]["mentor"] == "Rosa Mentor" and mine[0]["mentor_sees"] == ["engagement", "goals"]
