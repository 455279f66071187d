import re

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from alongside.accounts import two_factor
from alongside.accounts.models import User
from alongside.audit.models import AuditAction, AuditEvent
from alongside.testing.factories import PASSWORD

pytestmark = pytest.mark.django_db


def sign_in(client, user, password=PASSWORD):
    return client.post(reverse("accounts:login"), {"username": user.email, "password": password})


def test_staff_must_set_up_two_factor_before_seeing_anything(client, staff, member, relationship):
    sign_in(client, staff)
    response = client.get(reverse("web:member_record", args=[member.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:two_factor") + "?next=/team/members/")
    setup = client.get(response["Location"])
    assert "Set up two-factor sign-in" in setup.content.decode() and "<svg" in setup.content.decode()
    device = TOTPDevice.objects.get(user=staff, confirmed=False)

    wrong = client.post(reverse("accounts:two_factor"), {"code": "000000"})
    assert wrong.status_code == 400 and "That code did not work" in wrong.content.decode()
    # django-otp now makes a guesser wait before the next try, even with a right code:
    throttled = client.post(reverse("accounts:two_factor"), {"code": two_factor.current_code(device)})
    assert "Wait a few seconds" in throttled.content.decode()
    device.refresh_from_db()
    device.throttle_reset()

    done = client.post(
        reverse("accounts:two_factor"),
        {"code": two_factor.current_code(device), "next": f"/team/members/{member.pk}/"},
    )
    codes = re.findall(r"<code>(\d{5}-\d{5})</code>", done.content.decode())
    assert len(codes) == 10
    assert client.get(reverse("web:member_record", args=[member.pk])).status_code == 200
    assert AuditEvent.objects.filter(actor=staff, action=AuditAction.TWO_FACTOR).exists()


def test_members_are_not_asked_for_a_second_factor(client, member):
    sign_in(client, member)
    assert client.get(reverse("web:member_home")).status_code == 200


def test_staff_with_a_device_verify_with_a_code_or_a_recovery_code_once(staff):
    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    codes = two_factor.new_recovery_codes(staff)

    client = Client()
    sign_in(client, staff)
    page = client.get(reverse("accounts:two_factor"))
    assert "One more step" in page.content.decode()
    assert client.post(reverse("accounts:two_factor"), {"code": codes[0]}).status_code == 302
    assert client.get(reverse("web:staff_home")).status_code == 200

    again = Client()
    sign_in(again, staff)
    assert again.post(reverse("accounts:two_factor"), {"code": codes[0]}).status_code == 400  # used up
    device.refresh_from_db()
    device.throttle_reset()
    assert again.post(reverse("accounts:two_factor"), {"code": two_factor.current_code(device)}).status_code == 302


@pytest.mark.django_db(transaction=True)
def test_the_code_step_works_outside_a_test_transaction(staff):
    """As in production (autocommit, no transaction around the request): django-otp's locking read of the
    devices must happen inside a transaction, or PostgreSQL refuses it and the code step fails for everyone."""
    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    client = Client()
    sign_in(client, staff)
    answer = client.post(reverse("accounts:two_factor"), {"code": two_factor.current_code(device)})
    assert answer.status_code == 302
    assert client.get(reverse("web:staff_home")).status_code == 200


def test_api_paths_answer_json_before_the_second_factor(client, staff):
    sign_in(client, staff)
    response = client.get("/api/anything")
    assert response.status_code == 403
    assert response.json() == {"detail": "Two-factor sign-in is required."}


def test_repeated_failures_lock_sign_in(client, member, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = sign_in(client, member, "wrong password")
        assert response.status_code == 200
    assert sign_in(client, member, "wrong password").status_code == 429  # the last allowed failure locks
    typed = member.email
    member.email = member.email.upper()  # another spelling of the same address is the same account
    locked = sign_in(client, member, PASSWORD)  # even the right password is refused now
    assert locked.status_code == 429
    assert "Too many sign-in attempts" in locked.content.decode()
    assert client.get(reverse("web:member_home")).status_code == 302
    failures = AuditEvent.objects.filter(action=AuditAction.SIGN_IN_FAILED, actor_label=typed)
    assert failures.count() >= settings.AXES_FAILURE_LIMIT


def test_sign_in_and_out_are_audited(client, member):
    sign_in(client, member)
    client.post(reverse("accounts:logout"))
    actions = list(AuditEvent.objects.filter(actor=member).values_list("action", flat=True))
    assert AuditAction.SIGN_IN in actions and AuditAction.SIGN_OUT in actions


def test_sign_out_everywhere_ends_other_sessions(client_for, member):
    phone, laptop = client_for(member), client_for(member)
    assert laptop.get(reverse("web:member_home")).status_code == 200
    phone.post(reverse("accounts:sign_out_everywhere"))
    assert laptop.get(reverse("web:member_home")).status_code == 302
    assert phone.get(reverse("web:member_home")).status_code == 302


def test_password_reset_link_works_once(client, member):
    response = client.post(reverse("accounts:password_reset"), {"email": member.email.upper()})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", message.body).group(1)
    assert "check-in" not in message.body.lower()  # no clinical details in e-mail

    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    set_url = form_page.redirect_chain[-1][0]
    new_password = "a different long passphrase"
    done = client.post(set_url, {"new_password1": new_password, "new_password2": new_password})
    assert done.status_code == 302
    assert AuditEvent.objects.filter(actor=member, action=AuditAction.PASSWORD_RESET).exists()

    reused = Client().get(link, follow=True)
    assert "This link no longer works" in reused.content.decode()
    assert Client().login
    assert sign_in(Client(), member, PASSWORD).status_code == 200


def test_password_reset_does_not_reveal_accounts(client, db):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_sent")
    assert mail.outbox == []


def test_password_reset_is_rate_limited(client, member):
    for _ in range(3):
        assert client.post(reverse("accounts:password_reset"), {"email": member.email}).status_code == 302
    limited = client.post(reverse("accounts:password_reset"), {"email": member.email})
    assert limited.status_code == 429
    assert "Too many reset requests" in limited.content.decode()
    assert len(mail.outbox) == 3


def test_totp_command_is_refused_outside_demo_mode(staff, settings):
    settings.DEMO_MODE = False
    with pytest.raises(CommandError, match="only in demo mode"):
        call_command("totp", staff.email)


def test_totp_command_prints_the_demo_code(staff, settings, capsys):
    settings.DEMO_MODE = True
    device = two_factor.give_demo_device(staff)
    call_command("totp", staff.email)
    assert capsys.readouterr().out.strip() == two_factor.current_code(device)


def test_admin_site_is_for_platform_operators_past_their_second_factor(client_for, member, staff):
    operator = User.objects.create_superuser("operator@example.org", "operator pass phrase", display_name="Op")
    assert client_for(member).get("/admin/").status_code == 302  # to the admin sign-in: not an operator
    assert client_for(staff).get("/admin/").status_code == 302
    half_signed_in = client_for(operator, second_factor=False).get("/admin/")
    assert half_signed_in["Location"].startswith(reverse("accounts:two_factor"))
    assert client_for(operator).get("/admin/").status_code == 200


def test_tokens_are_made_listed_and_revoked_on_the_account_page(client_for, member):
    from alongside.accounts import tokens as token_domain

    client = client_for(member)
    made = client.post(reverse("accounts:new_token"), {"name": "My phone", "scopes": ["read", "write"]})
    raw = re.search(r'data-testid="new-token">(alg_[^<]+)<', made.content.decode()).group(1)
    page = client.get(reverse("accounts:security")).content.decode()
    assert "My phone" in page and raw not in page  # listed, never shown again
    token = token_domain.authenticate(raw)
    assert token is not None
    assert client.post(reverse("accounts:revoke_token", args=[token.pk])).status_code == 302
    assert token_domain.authenticate(raw) is None
    bad = client.post(reverse("accounts:new_token"), {"name": "", "scopes": ["admin"]})
    assert bad.status_code == 400


def test_nobody_revokes_someone_elses_token(client_for, member, organisation):
    from alongside.accounts import tokens as token_domain
    from alongside.testing.factories import make_member

    token, raw = token_domain.issue(member, name="phone", scopes=["read"])
    other = make_member(organisation)
    assert client_for(other).post(reverse("accounts:revoke_token", args=[token.pk])).status_code == 404
    assert token_domain.authenticate(raw) is not None
