"""A member's record in and out, in a real browser: they import a Daylio export (previewed first, then
stored once), download everything (the zip holds their imported check-ins and the FHIR bundle), stop sharing
with everyone, and delete their account, after which they cannot sign in. axe-core runs on every page."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from alongside.accounts.models import Role, User
from alongside.care import policy
from alongside.care.models import Category
from alongside.monitoring.models import CheckIn
from alongside.testing.factories import PASSWORD, make_member, make_staff, support
from tests.browser.helpers import assert_accessible, sign_in

DAYLIO = b"""full_date,date,weekday,time,mood,activities,note_title,note
2026-10-03,3 October,Saturday,9:15 pm,good,"Friends | Walk",,"Dinner with Theo 5810"
2026-10-02,2 October,Friday,21:30,meh,"",,""
2026-10-01,1 October,Thursday,10:00 am,blah,"Walk",,""
"""


def test_import_download_stop_sharing_and_delete(live_server, open_page, organisation):
    member = make_member(organisation, display_name="Robin Vale")
    clinician = make_staff(organisation, Role.CLINICIAN)
    support(clinician, member, organisation, Role.CLINICIAN)
    page = open_page()
    sign_in(page, live_server.url, member.email, PASSWORD)

    # Import: a preview first, which stores nothing and names the bad row by its line.
    page.goto(f"{live_server.url}/me/history/")
    page.get_by_role("link", name="Import from another app or a CSV file").click()
    page.get_by_label("Daylio (CSV export)").check()
    page.get_by_label("The exported file (CSV or TSV)").set_input_files(
        {"name": "daylio_export.csv", "mimeType": "text/csv", "buffer": DAYLIO}
    )
    page.get_by_role("button", name="Show what would be imported").click()
    preview = page.get_by_role("region", name="What would be imported")
    assert "2 new check-ins" in preview.inner_text() and "Line 4" in preview.inner_text()
    assert page.get_by_role("table").is_visible()
    assert CheckIn.objects.filter(member=member).count() == 0
    assert_accessible(page, "import-preview")
    page.get_by_role("button", name="Import", exact=True).click()
    page.wait_for_url("**/me/history/")
    assert page.get_by_text("2 check-ins imported; 0 were already here.").is_visible()
    assert CheckIn.objects.filter(member=member, source="import").count() == 2

    # Download everything, from "Who sees what".
    page.goto(f"{live_server.url}/me/sharing/")
    page.get_by_role("link", name="Download your data, stop sharing with everyone, or delete your account").click()
    assert_accessible(page, "my-data")
    with page.expect_download() as waiting:
        page.get_by_role("link", name="Download my data").click()
    archive = zipfile.ZipFile(io.BytesIO(Path(waiting.value.path()).read_bytes()))
    assert {"README.txt", "alongside.json", "checkins.csv", "journal.csv", "fhir-bundle.json"} <= set(
        archive.namelist()
    )
    assert "Dinner with Theo 5810" in archive.read("journal.csv").decode("utf-8-sig")
    bundle = json.loads(archive.read("fhir-bundle.json"))
    moods = [
        entry["resource"]["valueInteger"] for entry in bundle["entry"]
        if entry["resource"]["resourceType"] == "Observation"
        and entry["resource"]["code"]["coding"][0]["code"] == "mood"
    ]  # fmt: skip
    assert sorted(moods) == [5, 7]  # "good" and "meh" on Daylio's scale

    # Stop sharing with everyone.
    assert policy.can(clinician, "view", member, Category.CHECKINS)
    page.get_by_role("button", name="Stop sharing everything").click()
    assert page.get_by_text("You share nothing with anyone at the moment.").is_visible()
    assert not policy.can(clinician, "view", member, Category.CHECKINS)

    # Delete: a wrong password is refused on the form and deletes nothing.
    page.get_by_label("Your password").fill("not my password")
    page.get_by_label("I understand that my account").check()
    page.get_by_role("button", name="Delete my account").click()
    assert page.get_by_text("password", exact=False).first.is_visible()
    assert User.objects.filter(pk=member.pk, is_active=True).exists()
    assert_accessible(page, "delete-refused")
    # Chromium reports the refused form (400) as a failed load in the console: the answer expected here.
    page.console_problems[:] = [p for p in page.console_problems if "status of 400" not in p]
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_label("I understand that my account").check()
    page.get_by_role("button", name="Delete my account").click()
    page.get_by_role("heading", name="Your account is deleted").wait_for()
    assert_accessible(page, "deleted")
    assert not User.objects.filter(email=member.email).exists()
    assert CheckIn.objects.filter(member_id=member.pk).count() == 0

    again = open_page()
    sign_in(again, live_server.url, member.email, PASSWORD)
    assert again.url.endswith("/accounts/signin/")
