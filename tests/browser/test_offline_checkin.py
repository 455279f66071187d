"""A member checks in with no network; the check-in waits on the phone and arrives, once, when it is back."""

import pytest

from alongside.monitoring.models import CheckIn
from alongside.testing.factories import PASSWORD
from tests.browser.helpers import assert_accessible, network_cut, sign_in

# The check-ins kept on the phone for later: their moods, or (KEYS_ON_THE_DEVICE) their keys.
KEPT_ON_THE_DEVICE = """() => new Promise((resolve, reject) => {
  const opened = indexedDB.open("alongside-offline", 1);
  opened.onerror = () => reject(opened.error);
  opened.onsuccess = () => {
    const all = opened.result.transaction("checkins").objectStore("checkins").getAll();
    all.onsuccess = () => resolve(all.result.map((item) => item.%s));
  };
})"""
WAITING_ON_THE_DEVICE = KEPT_ON_THE_DEVICE % "payload.mood"
KEYS_ON_THE_DEVICE = KEPT_ON_THE_DEVICE % "key"


def test_offline_check_in_arrives_exactly_once_when_back_online(live_server, page, member):
    sign_in(page, live_server.url, member.email, PASSWORD)
    page.goto(live_server.url + "/me/checkin/")
    page.evaluate("navigator.serviceWorker.ready")  # installed, so pages work offline next time

    status = page.locator("#offline-status")
    with network_cut(page, live_server):
        page.get_by_role("group", name="How is your mood right now?").get_by_text("3", exact=True).click()
        page.get_by_role("button", name="Save check-in").first.click()
        status.filter(has_text="saved on this device").wait_for()
        assert_accessible(page, "offline-checkin-saved")
        assert page.evaluate(WAITING_ON_THE_DEVICE) == [3]

    page.evaluate("window.dispatchEvent(new Event('online'))")
    status.filter(has_text="Your saved check-in was sent.").wait_for()
    checkin = CheckIn.objects.get(member=member)
    assert (checkin.mood, checkin.source) == (3, "offline")

    # Coming back to the site sends nothing again: the queue on the phone is empty.
    page.goto(live_server.url + "/me/history/")
    page.wait_for_timeout(500)
    assert CheckIn.objects.filter(member=member).count() == 1


@pytest.mark.parametrize("gateway_answers", [None, 503], ids=["nothing answers", "a gateway answers 503"])
def test_check_in_that_does_not_get_through_is_kept_and_arrives_once(live_server, page, member, gateway_answers):
    """The phone believes it is online, so the form posts as usual, but the post does not get through: the
    check-in is kept on the phone instead of being lost to an error page, and arrives once when the connection
    returns."""
    sign_in(page, live_server.url, member.email, PASSWORD)
    page.goto(live_server.url + "/me/checkin/")
    page.evaluate("navigator.serviceWorker.ready")
    page.reload()  # now the service worker controls the page and keeps a copy

    status = page.locator("#offline-status")
    form_key = page.locator("form[data-offline-checkin] input[name=key]").input_value()
    assert form_key  # the page gives each form it shows its own key
    with network_cut(page, live_server, device_knows=False, gateway_answers=gateway_answers):
        page.get_by_role("group", name="How is your mood right now?").get_by_text("4", exact=True).click()
        page.get_by_role("button", name="Save check-in").first.click()
        status.filter(has_text="The network did not answer").wait_for()
        assert page.url == live_server.url + "/me/checkin/"
        assert_accessible(page, "checkin-kept-without-answer")
        assert page.evaluate(WAITING_ON_THE_DEVICE) == [4]
        # Kept with the form's key: had the post reached the server after all, the copy would not count twice.
        assert page.evaluate(KEYS_ON_THE_DEVICE) == [form_key]
        assert page.locator("form[data-offline-checkin] input[name=key]").input_value() not in ("", form_key)

    page.evaluate("window.dispatchEvent(new Event('online'))")
    status.filter(has_text="Your saved check-in was sent.").wait_for()
    checkin = CheckIn.objects.get(member=member)
    assert (checkin.mood, checkin.source) == (4, "offline")
    assert page.evaluate(WAITING_ON_THE_DEVICE) == []

    # With the network back, the service worker passes the form's answers through as they are: the form again
    # with its message when the mood is missing, the history page after a check-in.
    page.goto(live_server.url + "/me/checkin/")
    page.get_by_role("button", name="Save check-in").first.click()
    assert page.get_by_text("This field is required.").first.is_visible()
    # The browser reports the form's 400 answer on the console; here it is the answer expected.
    page.console_problems[:] = [problem for problem in page.console_problems if "status of 400" not in problem]
    page.get_by_role("group", name="How is your mood right now?").get_by_text("6", exact=True).click()
    page.get_by_role("button", name="Save check-in").first.click()
    page.wait_for_url("**/me/history/")
    assert page.get_by_text("Checked in. Thank you.").is_visible()
    page.wait_for_load_state("networkidle")  # the charts, drawn in requests of their own
    assert sorted(CheckIn.objects.filter(member=member).values_list("mood", flat=True)) == [4, 6]
    assert page.evaluate(WAITING_ON_THE_DEVICE) == []


def test_check_in_page_opens_offline_once_visited(live_server, page, member):
    sign_in(page, live_server.url, member.email, PASSWORD)
    page.goto(live_server.url + "/me/checkin/")
    page.evaluate("navigator.serviceWorker.ready")
    page.reload()  # now the service worker controls the page and keeps a copy
    with network_cut(page, live_server):
        page.goto(live_server.url + "/me/checkin/")
        assert page.get_by_role("heading", name="Check in").is_visible()
        page.goto(live_server.url + "/crisis/")
        assert page.get_by_role("link", name="If you are in immediate danger, call 911 now.").is_visible()
