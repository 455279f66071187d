import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from alongside.accounts import invitations
from alongside.accounts.models import Invitation, Role, User
from alongside.audit.models import AuditAction, AuditEvent
from alongside.care import policy
from alongside.care.models import Category
from alongside.testing.factories import make_member, make_staff

pytestmark = pytest.mark.django_db


def link_in_last_mail() -> str:
    return re.search(r"http://127\.0\.0\.1:8000(/accounts/invite/\S+/)", mail.outbox[-1].body).group(1)


def test_clinician_invites_a_member_who_joins_with_a_pseudonym(client_for, organisation, staff):
    response = client_for(staff).post(
        reverse("care:invite", args=[organisation.slug]), {"email": "New.Person@Example.org", "role": "member"}
    )
    assert response.status_code == 200
    assert mail.outbox[-1].to == ["new.person@example.org"]
    assert "Test Clinician invited you to join" in mail.outbox[-1].body
    link = link_in_last_mail()

    visitor = Client()
    page = visitor.get(link)
    assert "Join Riverside Test Program" in page.content.decode()
    joined = visitor.post(
        link, {"display_name": "Blue Heron", "password1": "quiet river morning", "password2": "quiet river morning"}
    )
    assert joined.status_code == 302
    newcomer = User.objects.get(email="new.person@example.org")
    assert newcomer.display_name == "Blue Heron"
    assert newcomer.roles_in(organisation) == {"member"}
    assert visitor.get(reverse("web:member_home")).status_code == 200
    # The inviting clinician now supports the new member, with the clinician's default sharing.
    assert policy.can(staff, "view", newcomer, Category.CHECKINS)
    assert AuditEvent.objects.filter(action=AuditAction.INVITE_ACCEPTED, actor=newcomer).exists()


def test_a_used_link_says_so(client_for, organisation, staff):
    link = invitations.invite(by=staff, organisation=organisation, email="once@example.org", role=Role.MEMBER).url
    path = link.removeprefix("http://127.0.0.1:8000")
    data = {"display_name": "Once", "password1": "quiet river morning", "password2": "quiet river morning"}
    assert Client().post(path, data).status_code == 302
    again = Client().post(path, data)
    assert again.status_code == 410
    assert "already been used" in again.content.decode()
    assert User.objects.filter(email="once@example.org").count() == 1


def test_an_expired_link_names_the_date_and_the_inviter(organisation, staff):
    link = invitations.invite(by=staff, organisation=organisation, email="late@example.org", role=Role.MEMBER)
    Invitation.objects.filter(pk=link.invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    page = Client().get(link.url.removeprefix("http://127.0.0.1:8000"))
    assert page.status_code == 410
    assert "This invitation expired on" in page.content.decode()
    assert "Ask Test Clinician to send a new one" in page.content.decode()


def test_unknown_and_withdrawn_links(client_for, organisation, staff):
    assert Client().get(reverse("accounts:accept_invitation", args=["not-a-token"])).status_code == 404
    link = invitations.invite(by=staff, organisation=organisation, email="w@example.org", role=Role.MEMBER)
    client_for(staff).post(reverse("care:withdraw_invitation", args=[organisation.slug, link.invitation.pk]))
    page = Client().get(link.url.removeprefix("http://127.0.0.1:8000"))
    assert page.status_code == 410 and "withdrawn" in page.content.decode()


def test_bad_password_rerenders_and_creates_nothing(organisation, staff):
    link = invitations.invite(by=staff, organisation=organisation, email="weak@example.org", role=Role.MEMBER)
    path = link.url.removeprefix("http://127.0.0.1:8000")
    response = Client().post(path, {"display_name": "<b>Weak</b>", "password1": "123", "password2": "123"})
    assert response.status_code == 400
    assert "too short" in response.content.decode()
    assert 'value="&lt;b&gt;Weak&lt;/b&gt;"' in response.content.decode()
    assert not User.objects.filter(email="weak@example.org").exists()
    assert Invitation.objects.get(pk=link.invitation.pk).accepted_at is None


def test_clinicians_invite_members_only_and_admins_invite_staff(client_for, organisation, staff):
    url = reverse("care:invite", args=[organisation.slug])
    refused = client_for(staff).post(url, {"email": "x@example.org", "role": "clinician"})
    assert refused.status_code == 400
    assert not Invitation.objects.exists()
    admin = make_staff(organisation, Role.ORG_ADMIN)
    assert client_for(admin).post(url, {"email": "x@example.org", "role": "clinician"}).status_code == 200
    assert Invitation.objects.get().role == "clinician"


def test_members_and_outsiders_cannot_invite(client_for, organisation, member, outsider):
    url = reverse("care:invite", args=[organisation.slug])
    assert client_for(member).get(url).status_code == 404
    assert client_for(outsider).get(url).status_code == 404


def test_an_existing_person_accepts_while_signed_in(client_for, organisation, other_organisation):
    person = make_member(other_organisation, email="both@example.org")
    admin = make_staff(organisation, Role.ORG_ADMIN)
    link = invitations.invite(by=admin, organisation=organisation, email="BOTH@example.org", role=Role.MEMBER)
    path = link.url.removeprefix("http://127.0.0.1:8000")
    anonymous = Client().get(path)
    assert "Sign in with it to accept" in anonymous.content.decode()
    client = client_for(person)
    assert client.post(path).status_code == 302
    assert person.roles_in(organisation) == {"member"}
    stranger = make_member(other_organisation)
    link = invitations.invite(by=admin, organisation=organisation, email="third@example.org", role=Role.MEMBER)
    User.objects.create_user("third@example.org", "pw-long-enough-1", display_name="Third")
    wrong_person = client_for(stranger).post(link.url.removeprefix("http://127.0.0.1:8000"))
    assert wrong_person.status_code == 403


def test_inviting_is_rate_limited(client_for, organisation, staff, monkeypatch):
    from alongside.core import ratelimit

    real_hit = ratelimit.hit
    monkeypatch.setattr(ratelimit, "hit", lambda *args, **kwargs: real_hit(*args, **{**kwargs, "limit": 2}))
    url = reverse("care:invite", args=[organisation.slug])
    client = client_for(staff)
    for number in range(2):
        assert client.post(url, {"email": f"p{number}@example.org", "role": "member"}).status_code == 200
    limited = client.post(url, {"email": "p3@example.org", "role": "member"})
    assert limited.status_code == 429
    assert Invitation.objects.count() == 2
