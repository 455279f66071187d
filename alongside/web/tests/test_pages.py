import re

import pytest
from django.urls import reverse

from alongside.accounts.models import Role
from alongside.testing.factories import PASSWORD, make_person


def test_anonymous_home_goes_to_sign_in(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")


def test_member_and_staff_land_on_their_own_home(client_for, member, staff):
    assert client_for(member).get("/")["Location"] == reverse("web:member_home")
    assert client_for(staff).get("/")["Location"] == reverse("web:staff_home")


def test_member_home_names_only_their_programs(client_for, member, outsider, other_organisation):
    page = client_for(member).get(reverse("web:member_home")).content.decode()
    assert "Hello, Test Member" in page
    assert "Riverside Test Program" in page
    assert other_organisation.name not in page


def test_staff_home_lists_roles_per_organisation(client_for, staff, organisation):
    page = client_for(staff).get(reverse("web:staff_home")).content.decode()
    assert "Riverside Test Program" in page
    assert "Clinician" in page


def test_each_home_refuses_the_other_kind_of_person(client_for, member, staff):
    assert client_for(member).get(reverse("web:staff_home")).status_code == 403
    assert client_for(staff).get(reverse("web:member_home")).status_code == 403


def test_person_with_both_roles_sees_both_links(client_for, organisation):
    peer_in_recovery = make_person(organisation, Role.MEMBER, Role.PEER_MENTOR)
    page = client_for(peer_in_recovery).get(reverse("web:staff_home")).content.decode()
    assert f'href="{reverse("web:member_home")}"' in page
    assert f'href="{reverse("web:staff_home")}" aria-current="page"' in page


def test_public_crisis_page_shows_default_lines_with_tap_to_call(client, db):
    response = client.get(reverse("web:crisis"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "If you are in immediate danger, call 911 now." in page
    assert 'href="tel:911"' in page
    assert 'href="tel:988"' in page and 'href="sms:988"' in page
    assert "Alongside is not an emergency service" in page
    assert "public" in response["Cache-Control"]


def test_crisis_page_uses_the_signed_in_persons_organisation(client_for, outsider):
    response = client_for(outsider).get(reverse("web:crisis"))
    page = response.content.decode()
    assert "call 999 now" in page
    assert 'href="tel:116123"' in page
    assert "988" not in page
    assert "private" in response["Cache-Control"]


def test_crisis_lines_are_escaped(client_for, member, organisation):
    organisation.crisis_lines = [{"name": "<script>alert(1)</script>", "phone": "555", "text": "", "note": "<b>x"}]
    organisation.save()
    page = client_for(member).get(reverse("web:crisis")).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;x" in page


def test_sign_in_with_wrong_password_rerenders_with_the_email_kept(client, member):
    response = client.post(reverse("accounts:login"), {"username": member.email, "password": "wrong"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "do not match an account" in page
    assert f'value="{member.email}"' in page


def test_sign_in_ignores_email_case(client, member):
    response = client.post(reverse("accounts:login"), {"username": member.email.upper(), "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("web:member_home")).status_code == 200


def test_sign_out_needs_post(client_for, member):
    client = client_for(member)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert client.get(reverse("web:member_home")).status_code == 302


@pytest.mark.parametrize("url_name", ["web:crisis", "accounts:login", "web:member_home", "web:staff_home"])
def test_pages_carry_a_strict_csp_and_no_inline_script_or_style(client, client_for, member, staff, url_name):
    person = {"web:staff_home": staff, "web:member_home": member, "web:crisis": member}.get(url_name)
    response = (client_for(person) if person else client).get(reverse(url_name))
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    page = response.content.decode()
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert scripts, "htmx is served from this origin"
    assert all('src="/static/' in tag for tag in scripts)
    assert " style=" not in page
    assert response["X-Frame-Options"] == "DENY"


def test_htmx_is_served_from_the_package(client, db):
    page = client.get(reverse("accounts:login")).content.decode()
    src = re.search(r'<script src="([^"]+htmx[^"]+)"', page).group(1)
    response = client.get(src)
    assert response.status_code == 200
    assert b"htmx" in b"".join(response.streaming_content)
