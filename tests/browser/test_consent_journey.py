"""A member changes what their clinician may see; the clinician's view changes at once; the member sees the
clinician's visit on "Who has seen my data"."""

from __future__ import annotations

from django_otp.plugins.otp_totp.models import TOTPDevice

from alongside.accounts import two_factor
from alongside.accounts.models import Role
from alongside.testing.factories import PASSWORD, make_member, make_staff, support
from tests.browser.helpers import assert_accessible, sign_in


def shared_status(page, category_label: str) -> str:
    row = page.locator(".section-status", has_text=category_label)
    return row.locator("span").nth(1).inner_text().strip()


def test_member_consent_changes_what_the_clinician_sees(live_server, open_page, organisation):
    member = make_member(organisation, display_name="Robin")
    clinician = make_staff(organisation, Role.CLINICIAN, display_name="Dr. Ada Rowe")
    support(clinician, member, organisation, Role.CLINICIAN)
    device = TOTPDevice.objects.create(user=clinician, name="phone", confirmed=True)

    staff_page = open_page()
    sign_in(staff_page, live_server.url, clinician.email, PASSWORD)
    assert "/accounts/two-factor/" in staff_page.url
    staff_page.get_by_label("Code").fill(two_factor.current_code(device))
    staff_page.get_by_role("button", name="Continue").click()
    staff_page.get_by_role("link", name="Robin").click()
    assert staff_page.get_by_role("heading", level=1).inner_text() == "Robin"
    assert shared_status(staff_page, "Check-in answers") == "Shared with you"
    assert shared_status(staff_page, "Journal entries I choose to share") == "Not shared"
    assert_accessible(staff_page, "consent-clinician-before")

    member_page = open_page()
    sign_in(member_page, live_server.url, member.email, PASSWORD)
    member_page.get_by_role("link", name="Who sees what").click()
    card = member_page.get_by_role("region", name="Dr. Ada Rowe")
    card.get_by_label("Check-in answers").uncheck()
    card.get_by_label("Journal entries I choose to share").check()
    assert_accessible(member_page, "consent-member-sharing")
    card.get_by_role("button", name="Save what Dr. Ada Rowe sees").click()
    saved = member_page.get_by_role("status").filter(has_text="Saved.")
    saved.wait_for()
    assert member_page.get_by_role("region", name="Dr. Ada Rowe").get_by_label("Check-in answers").is_checked() is False

    staff_page.reload()
    assert shared_status(staff_page, "Check-in answers") == "Not shared"
    assert shared_status(staff_page, "Journal entries I choose to share") == "Shared with you"

    member_page.goto(live_server.url + "/me/access/")
    log = member_page.get_by_role("table")
    assert log.get_by_text("Dr. Ada Rowe").first.is_visible()
    assert log.get_by_text("viewed: Name, programs and care team").first.is_visible()
    assert_accessible(member_page, "consent-member-access-log")
