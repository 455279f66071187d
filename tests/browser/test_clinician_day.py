"""A clinician's day in Chromium: sign in with a second factor, see the caseload sorted by need, open the member
at the top, acknowledge their alert with its evidence, log a phone outreach and a session note, and find each on
the member's timeline. Then an org admin reads the program's outcomes and downloads them as CSV with small cells
held back. axe-core on every page."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from alongside.accounts import two_factor
from alongside.accounts.models import Role
from alongside.care.models import ClinicalNote, OutreachContact
from alongside.monitoring import checkins
from alongside.programs import actions as program_actions
from alongside.signals import alerts
from alongside.signals.models import AlertStatus
from alongside.testing.factories import PASSWORD, make_member, make_staff, support
from tests.browser.helpers import assert_accessible, sign_in


def sign_in_with_code(page, url, person) -> None:
    device = TOTPDevice.objects.create(user=person, name="phone", confirmed=True)
    sign_in(page, url, person.email, PASSWORD)
    page.get_by_label("Code").fill(two_factor.current_code(device))
    page.get_by_role("button", name="Continue").click()


def test_a_clinicians_day_and_the_programs_outcomes(live_server, open_page, organisation):
    clinician = make_staff(organisation, Role.CLINICIAN, display_name="Dr. Sam Okafor")
    admin = make_staff(organisation, Role.ORG_ADMIN, display_name="Admin Ada")
    program = program_actions.create_program(by=admin, organisation=organisation, name="Aftercare")
    members = {}
    for name in ("Quinn Steady", "Riley Urgent", "Avery Lower"):
        member = make_member(organisation, display_name=name)
        support(clinician, member, organisation, Role.CLINICIAN)
        program_actions.enrol(by=admin, program=program, member=member)
        members[name] = member
    zone = ZoneInfo("America/New_York")
    today = timezone.now().astimezone(zone).date()
    for offset in range(14, 0, -1):
        moment = datetime.combine(today - timedelta(days=offset), time(9), tzinfo=zone)
        checkins.record(members["Quinn Steady"], mood=6, recorded_at=moment)
        checkins.record(members["Avery Lower"], mood=7 if offset > 7 else 3, recorded_at=moment)
    alert = alerts.raise_firing(
        members["Riley Urgent"], detector="safety", rule="struggling_team_asked", category="safety",
        severity="urgent", day=today, evidence={}, source_key="day:riley",
    ).alert  # fmt: skip

    page = open_page()
    sign_in_with_code(page, live_server.url, clinician)
    page.get_by_role("link", name="Caseload, most in need first").click()
    page.get_by_role("heading", name="Caseload", exact=True).wait_for()
    assert_accessible(page, "caseload")
    names = page.locator(".caseload__name a").all_inner_texts()
    assert names == ["Riley Urgent", "Avery Lower", "Quinn Steady"]  # the urgent alert, then the falling mood
    page.get_by_label("Flag").select_option("alert")
    page.locator(".caseload__row").nth(1).wait_for(state="detached")  # the htmx swap leaves one member
    assert page.locator(".caseload__name a").all_inner_texts() == ["Riley Urgent"]
    assert_accessible(page, "caseload-filtered")

    page.get_by_role("link", name="Riley Urgent").click()
    page.get_by_role("heading", name="Riley Urgent").wait_for()
    page.locator("#member-charts figure svg[role=img]").first.wait_for()  # the charts arrive in a second request
    assert_accessible(page, "member-record")
    page.get_by_role("link", name="Opened").first.click()
    page.get_by_role("heading", name="Why").wait_for()  # the evidence
    page.get_by_role("button", name="Acknowledge: I am on it").click()
    page.get_by_text("Acknowledged by Dr. Sam Okafor").wait_for()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED

    page.goto(f"{live_server.url}/team/members/{members['Riley Urgent'].pk}/outreach/")
    page.get_by_label("Phone call").check()
    page.get_by_label("Reached them").check()
    page.get_by_label("Note (for the care team)").fill("Talked for twenty minutes; safe tonight.")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Contact recorded.").wait_for()
    assert_accessible(page, "outreach")
    page.get_by_role("link", name="Back to Riley Urgent").click()
    page.get_by_role("link", name="Clinical notes").click()
    page.get_by_label("Session note").check()
    page.get_by_label("Note", exact=True).fill("Reviewed the safety plan; sister will stay over.")
    page.get_by_role("button", name="Save note").click()
    page.get_by_text("Note saved.").wait_for()
    assert_accessible(page, "clinical-notes")
    page.get_by_role("link", name="Back to Riley Urgent").click()
    timeline = page.locator(".timeline")
    timeline.get_by_text("Reviewed the safety plan; sister will stay over.").wait_for()
    timeline.get_by_text("Phone call, Reached them").wait_for()
    timeline.get_by_text("Acknowledged").wait_for()
    assert OutreachContact.objects.filter(member=members["Riley Urgent"]).count() == 1
    assert ClinicalNote.objects.filter(member=members["Riley Urgent"]).count() == 1

    admin_page = open_page()
    sign_in_with_code(admin_page, live_server.url, admin)
    admin_page.get_by_role("link", name="Program outcomes").click()
    admin_page.get_by_role("heading", name="Measures").wait_for()
    assert "Riley" not in admin_page.content()
    assert_accessible(admin_page, "outcomes")
    with admin_page.expect_download() as download_info:
        admin_page.get_by_role("link", name="Download as CSV").click()
    rows = list(csv.reader(io.StringIO(Path(download_info.value.path()).read_text(encoding="utf-8"))))
    enrolled = next(row for row in rows if row[2] == "Members enrolled now")
    assert enrolled[3] == "fewer than 5: held back"  # three members: a small cell
