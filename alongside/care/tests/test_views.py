import pytest
from django.urls import reverse

from alongside.accounts.models import Role
from alongside.audit.models import AuditAction, AuditEvent
from alongside.care import policy
from alongside.care.models import Category
from alongside.testing.factories import make_member, make_staff

pytestmark = pytest.mark.django_db


def test_staff_read_of_a_member_record_is_audited_and_shown_to_the_member(client_for, staff, member, relationship):
    response = client_for(staff).get(reverse("web:member_record", args=[member.pk]))
    assert response.status_code == 200
    event = AuditEvent.objects.get(action=AuditAction.VIEW, category="profile")
    assert (event.actor, event.member, event.category, event.actor_roles) == (staff, member, "profile", "clinician")
    assert event.ip_address == "127.0.0.1"
    page = client_for(member).get(reverse("care:access_log")).content.decode()
    assert "Test Clinician" in page and "Clinician" in page


def test_member_record_is_404_without_a_relationship_and_not_audited(client_for, staff, member, outsider):
    for person in (staff, outsider, make_member(member.org_roles.first().organisation)):
        assert client_for(person).get(reverse("web:member_record", args=[member.pk])).status_code == 404
    assert client_for(staff).get(reverse("web:member_record", args=[999999])).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditAction.VIEW).exists()


def test_member_record_shows_only_shared_categories(client_for, staff, member, relationship):
    from alongside.care import actions

    actions.set_sharing(member=member, relationship=relationship, categories=["journal"], safety_alerts=False)
    page = client_for(staff).get(reverse("web:member_record", args=[member.pk])).content.decode()
    assert (
        'data-category="journal">\n        <span>Journal entries I choose to share</span>\n        <span><strong>'
        in page
    )
    assert page.count("Shared with you") == 1


def test_member_changes_sharing_through_the_page(client_for, staff, member, relationship):
    client = client_for(member)
    page = client.get(reverse("care:sharing")).content.decode()
    assert "Test Clinician" in page
    prefix = f"r{relationship.pk}"
    response = client.post(
        reverse("care:update_sharing", args=[relationship.pk]),
        {f"{prefix}-categories": ["engagement", "goals"]},
    )
    assert response.status_code == 302
    assert not policy.can(staff, "view", member, Category.CHECKINS)
    assert policy.can(staff, "view", member, Category.GOALS)
    relationship.refresh_from_db()
    assert relationship.safety_alerts is False


def test_sharing_with_htmx_returns_just_the_card(client_for, member, relationship):
    prefix = f"r{relationship.pk}"
    response = client_for(member).post(
        reverse("care:update_sharing", args=[relationship.pk]),
        {f"{prefix}-categories": ["goals"], f"{prefix}-safety_alerts": "on"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith("<section") and "<html" not in body
    assert "Saved." in body


def test_bad_sharing_input_rerenders_with_an_error_and_changes_nothing(client_for, staff, member, relationship):
    prefix = f"r{relationship.pk}"
    response = client_for(member).post(
        reverse("care:update_sharing", args=[relationship.pk]), {f"{prefix}-categories": ["diagnosis"]}
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert policy.can(staff, "view", member, Category.CHECKINS)


def test_nobody_else_can_change_a_members_sharing(client_for, staff, member, relationship, organisation):
    other_member = make_member(organisation)
    for person in (staff, other_member):
        response = client_for(person).post(reverse("care:update_sharing", args=[relationship.pk]), {})
        assert response.status_code in (403, 404)
    assert policy.can(staff, "view", member, Category.CHECKINS)


def test_org_admin_adds_and_ends_a_supporter(client_for, organisation, member):
    admin = make_staff(organisation, Role.ORG_ADMIN)
    peer = make_staff(organisation, Role.PEER_MENTOR, display_name="Pat Peer")
    client = client_for(admin)
    url = reverse("care:org_members", args=[organisation.slug])
    response = client.post(url, {"member": member.pk, "staff": peer.pk, "role": "peer_mentor"})
    assert response.status_code == 302
    assert policy.can(peer, "view", member, Category.GOALS)
    relationship = peer.supporting.get()
    assert "Pat Peer" in client.get(url).content.decode()
    client.post(reverse("care:end_supporter", args=[organisation.slug, relationship.pk]))
    assert not policy.can(peer, "view", member, Category.GOALS)
    assert AuditEvent.objects.filter(action=AuditAction.CARE_TEAM_CHANGE).count() == 2


def test_org_admin_cannot_give_a_role_the_person_does_not_hold(client_for, organisation, member):
    admin = make_staff(organisation, Role.ORG_ADMIN)
    peer = make_staff(organisation, Role.PEER_MENTOR)
    response = client_for(admin).post(
        reverse("care:org_members", args=[organisation.slug]),
        {"member": member.pk, "staff": peer.pk, "role": "clinician"},
    )
    assert response.status_code == 400
    assert "does not hold that role" in response.content.decode()
    assert not peer.supporting.exists()


def test_org_pages_are_404_for_other_organisations_admins(client_for, organisation, other_organisation):
    foreign_admin = make_staff(other_organisation, Role.ORG_ADMIN)
    for name in ("care:org_members", "org:audit_log"):
        assert client_for(foreign_admin).get(reverse(name, args=[organisation.slug])).status_code == 404


def test_org_audit_log_search(client_for, organisation, staff, member, relationship, other_organisation):
    admin = make_staff(organisation, Role.ORG_ADMIN)
    client_for(staff).get(reverse("web:member_record", args=[member.pk]))
    foreign = make_member(other_organisation, display_name="Foreign Person")
    from alongside.testing.factories import support

    foreign_clinician = make_staff(other_organisation)
    support(foreign_clinician, foreign, other_organisation)
    client_for(foreign_clinician).get(reverse("web:member_record", args=[foreign.pk]))
    url = reverse("org:audit_log", args=[organisation.slug])
    page = client_for(admin).get(url, {"action": "view"}).content.decode()
    assert staff.email in page and "Test Member" in page
    assert "Foreign Person" not in page
    bad = client_for(admin).get(url, {"since": "2026-05-02", "until": "2026-05-01"})
    assert bad.status_code == 400 and "before the start date" in bad.content.decode()


def test_api_writes_need_the_csrf_token(member, relationship):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    response = client.put(
        f"/api/v1/me/sharing/{relationship.pk}",
        '{"categories": [], "safety_alerts": false}',
        content_type="application/json",
    )
    assert response.status_code == 403
    assert policy.can(relationship.staff, "view", member, Category.CHECKINS)


def test_api_names_the_bad_field(client_for, member, relationship):
    response = client_for(member).put(
        f"/api/v1/me/sharing/{relationship.pk}", '{"categories": "goals"}', content_type="application/json"
    )
    assert response.status_code == 422
    body = response.json()
    assert "payload.categories" in body["fields"] and "payload.safety_alerts" in body["fields"]
    unknown = client_for(member).put(
        f"/api/v1/me/sharing/{relationship.pk}",
        '{"categories": ["diagnosis"], "safety_alerts": true}',
        content_type="application/json",
    )
    assert unknown.status_code == 422
    assert unknown.json()["fields"] == ["categories"]
    assert policy.can(relationship.staff, "view", member, Category.CHECKINS)


def test_the_api_describes_the_refusals_it_gives(client_for, member, staff, relationship, outsider):
    from alongside.api import api

    paths = api.get_openapi_schema()["paths"]
    asked = [
        (client_for(staff), "get", "/api/v1/me/sharing", "/api/v1/me/sharing", 403),
        (client_for(staff), "get", "/api/v1/me/access", "/api/v1/me/access", 403),
        (client_for(member), "get", f"/api/v1/members/{outsider.pk}", "/api/v1/members/{member_id}", 404),
        (client_for(staff), "get", f"/api/v1/members/{outsider.pk}/notes", "/api/v1/members/{member_id}/notes", 404),
    ]
    for client, method, url, path, status in asked:
        assert getattr(client, method)(url).status_code == status, url
        assert status in paths[path][method]["responses"], path
    response = client_for(member).put(
        f"/api/v1/me/sharing/{relationship.pk + 1000}",
        {"categories": [], "safety_alerts": False},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert 404 in paths["/api/v1/me/sharing/{relationship_id}"]["put"]["responses"]
