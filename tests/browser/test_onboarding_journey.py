"""From nothing to a member's first check-in: `alongside createorg` → the admin joins and sets up two-factor →
configures a program and a crisis line → invites a clinician → the clinician invites a member → the member
joins, sees the program's check-in fields and the organisation's crisis line, and checks in."""

from __future__ import annotations

import base64
import io
import re

from django.core import mail
from django.core.management import call_command
from django_otp.oath import TOTP

from alongside.monitoring.models import CheckIn
from tests.browser.helpers import assert_accessible

PASSWORD = "a calm and steady river"


def code_for(secret: str) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return f"{TOTP(key).token():06d}"


def last_link() -> str:
    return re.search(r"(http://\S+/accounts/invite/\S+/)", mail.outbox[-1].body).group(1)


def join(page, link: str, name: str) -> None:
    page.goto(link)
    assert_accessible(page)
    page.get_by_label("Your name in Alongside").fill(name)
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_label("Type the password again").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()


def set_up_two_factor(page, screenshot: str) -> None:
    assert page.get_by_role("heading", name="Set up two-factor sign-in").is_visible()
    assert_accessible(page, screenshot)
    secret = page.get_by_test_id("totp-secret").inner_text()
    page.get_by_label("Code from the app").fill(code_for(secret))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    assert page.get_by_role("heading", name="Keep these recovery codes safe").is_visible()
    assert len(page.locator(".codes li").all()) == 10
    page.get_by_role("link", name="I have saved them — continue").click()


def test_a_new_clinic_from_createorg_to_a_members_first_check_in(live_server, open_page, settings, db):
    settings.SITE_URL = live_server.url
    output = io.StringIO()
    call_command(
        "createorg",
        "Lakeside Recovery",
        "--country",
        "US",
        "--admin",
        "boss@lakeside.example",
        "--time-zone",
        "America/Chicago",
        stdout=output,
    )
    admin_link = re.search(r"(http://\S+/accounts/invite/\S+/)", output.getvalue()).group(1)

    # The admin joins, sets up two-factor, and configures a program and a crisis line.
    admin = open_page()
    join(admin, admin_link, "Robin Admin")
    set_up_two_factor(admin, "onboarding-admin-two-factor")
    assert admin.get_by_role("heading", name="Running Lakeside Recovery").is_visible()
    admin.get_by_role("link", name="Programs").click()
    admin.get_by_label("Name").fill("Evening aftercare")
    admin.get_by_role("button", name="Create program").click()
    admin.get_by_label("Cravings or urges").uncheck()
    admin.get_by_label("Default reminder times").fill("19:30")
    assert_accessible(admin, "onboarding-program-settings")
    admin.get_by_role("button", name="Save program").click()
    assert admin.get_by_text("Saved.").is_visible()

    admin.goto(live_server.url + "/org/lakeside-recovery/settings/")
    admin.get_by_role("group", name="Crisis line 2").get_by_label("Name").fill("Lakeside warm line")
    admin.get_by_role("group", name="Crisis line 2").get_by_label("Number to call").fill("+1 555 0199")
    assert_accessible(admin, "onboarding-organisation-settings")
    admin.get_by_role("button", name="Save settings").click()
    assert admin.get_by_text("Saved. The crisis page shows the new details now.").is_visible()

    admin.goto(live_server.url + "/org/lakeside-recovery/invite/")
    admin.get_by_label("E-mail address").fill("clinician@lakeside.example")
    admin.get_by_label("Role").select_option("clinician")
    admin.get_by_role("button", name="Send invitation").click()
    assert admin.get_by_text("Invitation sent to clinician@lakeside.example.").is_visible()

    # The clinician joins and invites a member into the program.
    clinician = open_page()
    join(clinician, last_link(), "Dr. Sam Okoro")
    set_up_two_factor(clinician, "onboarding-clinician-two-factor")
    clinician.get_by_role("link", name="Invite a member to Lakeside Recovery").click()
    clinician.get_by_label("E-mail address").fill("ash@lakeside.example")
    clinician.get_by_label("Program").select_option(label="Evening aftercare")
    assert_accessible(clinician, "onboarding-clinician-invites")
    clinician.get_by_role("button", name="Send invitation").click()
    assert clinician.get_by_text("Invitation sent to ash@lakeside.example.").is_visible()

    # The member joins, sees the program's fields and the crisis line, and checks in.
    member = open_page()
    join(member, last_link(), "Ash")
    assert member.get_by_role("heading", name="Hello, Ash").is_visible()
    assert member.get_by_text("Evening aftercare").is_visible()
    member.get_by_role("link", name="Need help now?").first.click()
    assert member.get_by_role("link", name="Call +1 555 0199").get_attribute("href") == "tel:+15550199"
    assert_accessible(member, "onboarding-member-crisis")
    member.go_back()
    member.get_by_role("link", name="Check in", exact=True).click()
    member.get_by_text("Add more (optional)").click()
    assert member.get_by_role("group", name="Anxiety (0 none, 10 extreme)").is_visible()
    assert member.get_by_text("Cravings or urges").count() == 0  # the program turned it off
    assert_accessible(member, "onboarding-member-checkin")
    member.get_by_role("group", name="How is your mood right now?").get_by_text("6", exact=True).click()
    member.get_by_role("button", name="Save check-in").first.click()
    assert member.get_by_text("Checked in. Thank you.").is_visible()
    assert CheckIn.objects.get(member__email="ash@lakeside.example").mood == 6
    assert_accessible(member, "onboarding-member-history")
