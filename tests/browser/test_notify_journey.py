"""Notifications in Chromium: the member reads a message in their inbox (htmx swaps it and the header's count),
sees their choices, and an org admin tries a given-up delivery again. axe-core on every page."""

from __future__ import annotations

from django_otp.plugins.otp_totp.models import TOTPDevice

from alongside.accounts import two_factor
from alongside.accounts.models import Role
from alongside.notify import dispatch, inbox, outbox
from alongside.notify.models import Delivery, DeliveryStatus, NotificationKind
from alongside.testing.factories import PASSWORD, make_member, make_staff
from tests.browser.helpers import assert_accessible, sign_in


def test_inbox_preferences_and_dead_letters(live_server, open_page, organisation):
    member = make_member(organisation, display_name="Robin")
    inbox.save_preferences(member, quiet_hours=False)
    for number, title in enumerate(("Time for a check-in?", "A reminder from your routine")):
        outbox.notify(member, kind=NotificationKind.NUDGE, title=title, link="/me/", source_key=f"journey:{number}")
    dispatch.run("journey")
    Delivery.objects.filter(channel="email").update(status=DeliveryStatus.DEAD, attempts=8, last_error="SMTP: 550")

    page = open_page()
    sign_in(page, live_server.url, member.email, PASSWORD)
    page.get_by_role("link", name="Inbox, 2 unread").click()
    assert_accessible(page, "notify-inbox")
    page.get_by_role("button", name="Mark as read “Time for a check-in?”").click()
    page.get_by_role("link", name="Inbox, 1 unread").wait_for()
    assert page.get_by_role("button", name="Mark as read “Time for a check-in?”").count() == 0
    assert_accessible(page, "notify-inbox-read")

    page.get_by_role("link", name="Choose how and when you are notified").click()
    assert_accessible(page, "notify-preferences")
    page.get_by_role("button", name="Snooze everything non-urgent for 1 day").click()
    page.get_by_text("Non-urgent notifications are snoozed until").first.wait_for()
    page.get_by_label("Time 2").fill("09:30")
    page.get_by_role("button", name="Save my choices").click()
    page.get_by_text("Your notification choices are saved.").wait_for()
    assert_accessible(page, "notify-preferences-saved")

    admin = make_staff(organisation, Role.ORG_ADMIN, display_name="Ada Admin")
    device = TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
    admin_page = open_page()
    sign_in(admin_page, live_server.url, admin.email, PASSWORD)
    admin_page.get_by_label("Code").fill(two_factor.current_code(device))
    admin_page.get_by_role("button", name="Continue").click()
    admin_page.get_by_role("link", name="Notifications that could not be sent").click()
    assert_accessible(admin_page, "notify-dead-letters")
    admin_page.get_by_role("button", name="Try again (E-mail to Robin)").first.click()
    admin_page.get_by_text("The delivery will be tried again in a moment.").wait_for()
    assert Delivery.objects.filter(status=DeliveryStatus.DEAD).count() == 1
