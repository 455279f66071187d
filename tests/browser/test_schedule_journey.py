"""Appointments in Chromium: the member confirms one, the clinician marks a past one missed, and the member
cancels one date of a weekly series while the others stay as they were."""

from __future__ import annotations

from datetime import time, timedelta

from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from alongside.accounts import two_factor
from alongside.accounts.models import Role
from alongside.schedule import series
from alongside.schedule.models import OccurrenceStatus
from alongside.testing.factories import PASSWORD, make_member, make_staff, support
from tests.browser.helpers import assert_accessible, sign_in


def test_confirm_mark_missed_and_cancel_one_date_of_a_series(live_server, open_page, organisation):
    member = make_member(organisation, display_name="Robin", time_zone="America/New_York")
    clinician = make_staff(organisation, Role.CLINICIAN, display_name="Dr. Ada Rowe")
    support(clinician, member, organisation, Role.CLINICIAN)
    appointment = series.schedule_appointment(
        by=clinician, member=member, staff=clinician, kind="therapy", title="Weekly therapy",
        location_kind="in_person", address="12 River Street", time_zone="America/New_York",
        start_date=timezone.localdate() - timedelta(days=14), start_time=time(18, 0), duration_minutes=50,
        rrule="FREQ=WEEKLY;COUNT=6",
    )  # fmt: skip
    occurrences = list(appointment.occurrences.order_by("start"))
    past, upcoming, later = occurrences[0], occurrences[3], occurrences[4]
    untouched = {o.pk: (o.start, o.status) for o in occurrences if o.pk not in (past.pk, upcoming.pk, later.pk)}

    member_page = open_page()
    sign_in(member_page, live_server.url, member.email, PASSWORD)
    member_page.get_by_role("link", name="My appointments").click()
    assert_accessible(member_page, "schedule-member-week")
    member_page.goto(f"{live_server.url}/me/schedule/?view=month&date={timezone.localdate().isoformat()}")
    assert_accessible(member_page, "schedule-member-month")

    member_page.goto(f"{live_server.url}/appointments/{upcoming.pk}/")
    member_page.get_by_role("button", name="I will be there").click()
    member_page.get_by_text("You confirmed this appointment.").wait_for()
    assert_accessible(member_page, "schedule-confirmed")

    member_page.goto(f"{live_server.url}/appointments/{later.pk}/")
    member_page.get_by_text("Cancel this date").click()
    member_page.get_by_label("Reason (optional)").fill("Family visit")
    member_page.get_by_role("button", name="Cancel this appointment").click()
    member_page.get_by_text("The others in the series are unchanged.").wait_for()

    staff_page = open_page()
    device = TOTPDevice.objects.create(user=clinician, name="phone", confirmed=True)
    sign_in(staff_page, live_server.url, clinician.email, PASSWORD)
    staff_page.get_by_label("Code").fill(two_factor.current_code(device))
    staff_page.get_by_role("button", name="Continue").click()
    staff_page.get_by_role("link", name="Schedule across my caseload").click()
    assert_accessible(staff_page, "schedule-staff-week")
    staff_page.goto(f"{live_server.url}/appointments/{past.pk}/")
    staff_page.get_by_role("button", name="Missed").click()
    staff_page.get_by_text("Attendance recorded.").wait_for()
    assert_accessible(staff_page, "schedule-marked-missed")

    for occurrence in occurrences:
        occurrence.refresh_from_db()
    states = {o.pk: o for o in occurrences}
    assert states[upcoming.pk].status == OccurrenceStatus.CONFIRMED
    assert states[later.pk].status == OccurrenceStatus.CANCELLED and states[later.pk].reason == "Family visit"
    assert states[past.pk].status == OccurrenceStatus.MISSED
    assert {pk: (states[pk].start, states[pk].status) for pk in untouched} == untouched
