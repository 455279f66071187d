"""Early warning in Chromium: check-ins drift from a member's usual; their clinician finds the alert, reads the
evidence (with its chart and the member's own plan), acknowledges and resolves it; the member sees what was
shared on their behalf. axe-core on every page."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from alongside.accounts import two_factor
from alongside.accounts.models import Role
from alongside.care import plan
from alongside.core.worker import Worker
from alongside.monitoring import checkins
from alongside.signals.models import Alert, AlertStatus
from alongside.testing.factories import PASSWORD, make_member, make_staff, support
from tests.browser.helpers import assert_accessible, sign_in


def test_a_clinician_acknowledges_and_resolves_an_alert_with_its_evidence(live_server, open_page, organisation):
    member = make_member(organisation, display_name="Robin")
    clinician = make_staff(organisation, Role.CLINICIAN, display_name="Dr. Ines Alvarez")
    support(clinician, member, organisation, Role.CLINICIAN)
    plan.save_plan(member, by=member, content={"coping_strategies": ["Call my sister"]}, based_on=0)
    zone = ZoneInfo(member.time_zone)
    today = timezone.now().astimezone(zone).date()
    for offset in range(45, 0, -1):
        low = offset <= 5
        mood, anxiety = (2, 8) if low else (7 + offset % 2, 3 - offset % 2)
        moment = datetime.combine(today - timedelta(days=offset), time(20), tzinfo=zone)
        checkins.record(member, mood=mood, anxiety=anxiety, recorded_at=moment)
    Worker().work()  # the worker announces the check-ins to the early-warning engine
    alert = Alert.objects.get(member=member)

    device = TOTPDevice.objects.create(user=clinician, name="phone", confirmed=True)
    page = open_page()
    sign_in(page, live_server.url, clinician.email, PASSWORD)
    page.get_by_label("Code").fill(two_factor.current_code(device))
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("link", name="1 open alert").click()
    assert_accessible(page, "alert-list")
    page.get_by_role("link", name="Robin").click()
    page.get_by_role("heading", name="Why").wait_for()
    assert page.locator("figure.chart svg[role=img]").count() >= 1
    page.get_by_text("Call my sister").wait_for()
    assert_accessible(page, "alert-detail")

    page.get_by_role("button", name="Acknowledge: I am on it").click()
    page.get_by_text("Acknowledged by Dr. Ines Alvarez").wait_for()
    page.get_by_role("button", name="Resolve alert").click()
    page.get_by_text("Choose what happened").first.wait_for()  # nothing chosen: the form says so, keeps the page
    assert_accessible(page, "alert-resolve-error")
    page.get_by_label("Reached the member").check()
    page.get_by_label("Note (for the care team)").fill("Spoke on the phone; plan reviewed together.")
    page.get_by_role("button", name="Resolve alert").click()
    page.get_by_text("Alert resolved.").wait_for()
    assert_accessible(page, "alert-resolved")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED and alert.outcome == "reached"

    member_page = open_page()
    sign_in(member_page, live_server.url, member.email, PASSWORD)
    member_page.get_by_role("link", name="Alerts shared on my behalf").click()
    member_page.get_by_text("Dr. Ines Alvarez").first.wait_for()
    assert_accessible(member_page, "my-alerts")
