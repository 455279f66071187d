"""A member answers the PHQ-9 with question 9 above "Not at all" and sees the crisis screen at once."""

from alongside.accounts.models import Role
from alongside.care.models import SafetyEvent
from alongside.testing.factories import PASSWORD, make_staff, support
from tests.browser.helpers import assert_accessible, sign_in


def test_phq9_item_9_positive_shows_the_crisis_screen_at_once(live_server, page, organisation, member):
    clinician = make_staff(organisation, Role.CLINICIAN, display_name="Dr. Lee Park")
    support(clinician, member, organisation, Role.CLINICIAN)
    sign_in(page, live_server.url, member.email, PASSWORD)
    page.goto(live_server.url + "/me/questionnaires/")
    page.get_by_role("link", name="PHQ-9").click()
    assert page.get_by_text("Over the last 2 weeks, how often have you been bothered").is_visible()
    assert_accessible(page, "phq9-form")
    for number in range(1, 9):
        page.get_by_role("group", name=f"{number}.").get_by_label("Not at all").check()
    item_9 = page.get_by_role("group", name="9. Thoughts that you would be better off dead")
    item_9.get_by_label("Several days").check()
    page.get_by_role("button", name="Submit answers").click()

    assert page.url.endswith("/crisis/?after=questionnaire")
    assert page.get_by_role("alert").filter(has_text="Thank you for answering honestly").is_visible()
    assert page.get_by_text("We have let Dr. Lee Park know").is_visible()
    emergency = page.get_by_role("link", name="If you are in immediate danger, call 911 now.")
    assert emergency.get_attribute("href") == "tel:911"
    assert page.get_by_role("link", name="Call 988").is_visible()
    assert_accessible(page, "phq9-crisis-screen")
    assert SafetyEvent.objects.filter(member=member).count() == 1
