"""The growth page in a real browser: a new celebration shown as a card, the WHO-5 chart, no CSP refusals, and
axe-core finds nothing serious; the member's clinician sees the same summary."""

from __future__ import annotations

from django.utils import timezone

from alongside.goals.models import Celebration, CelebrationKind, Goal, GoalStatus
from alongside.monitoring import questionnaires
from alongside.testing.factories import PASSWORD
from tests.browser.helpers import assert_accessible, sign_in
from tests.browser.test_clinician_day import sign_in_with_code


def test_member_and_clinician_see_growth(live_server, open_page, member, staff, relationship):
    Goal.objects.create(
        member=member, title="Cook for friends", area="relationships", status=GoalStatus.ACHIEVED,
        achieved_at=timezone.now(),
    )  # fmt: skip
    Celebration.objects.create(member=member, kind=CelebrationKind.CHECKIN_STREAK, days=7, key="browser:streak")
    questionnaires.submit(member, "who5", {item: 3 for item in range(1, 6)})
    page = open_page()
    sign_in(page, live_server.url, member.email, PASSWORD)
    page.goto(f"{live_server.url}/me/growth/")
    assert page.get_by_role("heading", name="Something to celebrate").is_visible()
    assert page.get_by_role("heading", name="7 days in a row of checking in — well done").is_visible()
    assert page.locator("svg title").count() >= 1
    assert_accessible(page, "growth-member")
    clinician = open_page()
    sign_in_with_code(clinician, live_server.url, staff)
    clinician.goto(f"{live_server.url}/team/members/{member.pk}/growth/")
    assert clinician.get_by_text("Cook for friends").is_visible()
    assert_accessible(clinician, "growth-clinician")
