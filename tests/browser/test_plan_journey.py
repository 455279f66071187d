"""The aftercare and safety plan in Chromium: member and clinician co-edit it in two browsers, the stale save is
caught and shown, both agree to it, it prints on at most two pages, and "I'm struggling" works with the network
cut."""

from __future__ import annotations

import re

from django_otp.plugins.otp_totp.models import TOTPDevice

from alongside.accounts import two_factor
from alongside.accounts.models import Role
from alongside.care import plan
from alongside.care.models import SafetyEvent
from alongside.testing.factories import PASSWORD, make_member, make_staff, support
from tests.browser.helpers import SCREENSHOTS, assert_accessible, network_cut, sign_in

FULL_PLAN = {
    "wellness_toolbox": ["Morning walk with the dog", "Calling my sister", "Guitar for twenty minutes"],
    "when_well": "I get up on time, I answer messages, I cook and I laugh at bad jokes.",
    "daily_maintenance": ["Take medication at 8", "Eat breakfast", "Check in on Alongside", "Walk 20 minutes"],
    "some_days": ["Go to the Thursday group", "Clean the flat"],
    "triggers": [
        {"item": "Arguments with my father", "response": "Leave the room and call Sam"},
        {"item": "Payday weekend", "response": "Plan the evening with someone sober"},
    ],
    "early_warning_signs": [
        {"item": "Skipping meals", "response": "Eat something small and tell Sam"},
        {"item": "Staying in bed", "response": "Open the curtains and go for a short walk"},
        {"item": "Avoiding calls", "response": "Answer one message today"},
    ],
    "breaking_down": [{"item": "Not sleeping for two nights", "response": "Call my clinician the same day"}],
    "crisis_signs": ["Talking about being a burden", "Giving things away"],
    "crisis_supporters": [{"name": "Sam (sister)", "phone": "+1 555 010 0101", "note": "stay with me"}],
    "treatment_preferences": "Prefer the day hospital; no benzodiazepines.",
    "crisis_helps": "A calm voice and a walk helps; being left alone does not.",
    "post_crisis": "Sleeping normally for a week; back at the group.",
    "warning_signs": ["Feeling trapped", "Drinking alone"],
    "coping_strategies": ["Box breathing for two minutes", "Cold water on my face", "Music in the headphones"],
    "distractions": [{"name": "The library café", "phone": "", "note": "open till 8"}],
    "help_contacts": [
        {"name": "Sam (sister)", "phone": "+1 555 010 0101", "note": "evenings"},
        {"name": "Jo (sponsor)", "phone": "555 010 0102", "note": "any time"},
    ],
    "professionals": [{"name": "Dr. Ada Rowe", "phone": "555 010 0150", "note": "weekdays 9-5"}],
    "safe_environment": ["Medication kept by Sam", "No alcohol at home"],
    "reason_for_living": "My daughter, and seeing her grow up.",
    "counselling": ["Every other Tuesday with Dr. Rowe"],
    "peer_support": ["Thursday evening recovery group"],
    "case_management": ["Monthly call with the case manager"],
    "relapse_prevention": ["Keep the daily routine", "Say no to payday drinks"],
}


def clinician_page(open_page, base_url, clinician):
    device = TOTPDevice.objects.create(user=clinician, name="phone", confirmed=True)
    page = open_page()
    sign_in(page, base_url, clinician.email, PASSWORD)
    page.get_by_label("Code").fill(two_factor.current_code(device))
    page.get_by_role("button", name="Continue").click()
    return page


def test_member_and_clinician_co_edit_and_agree_the_plan(live_server, open_page, organisation):
    member = make_member(organisation, display_name="Robin")
    clinician = make_staff(organisation, Role.CLINICIAN, display_name="Dr. Ada Rowe")
    support(clinician, member, organisation, Role.CLINICIAN)

    member_page = open_page()
    sign_in(member_page, live_server.url, member.email, PASSWORD)
    member_page.get_by_role("link", name="My aftercare and safety plan").click()
    assert_accessible(member_page, "plan-empty")
    member_page.get_by_role("link", name="Start the plan").click()
    member_page.get_by_label("Things I can do on my own").fill("Box breathing\nCold water on my face")
    member_page.get_by_label("Name 1").first.wait_for()
    help_rows = member_page.get_by_role("group", name="People I can ask for help")
    help_rows.get_by_label("Name 1").fill("Sam (sister)")
    help_rows.get_by_label("Phone 1").fill("+1 555 010 0101")
    member_page.get_by_role("button", name="Save as a new version").click()
    member_page.get_by_text("Your changes are saved as a new version.").wait_for()
    assert_accessible(member_page, "plan-version-1")

    # Both open the editor on version 1.
    staff_page = clinician_page(open_page, live_server.url, clinician)
    staff_page.goto(f"{live_server.url}/team/members/{member.pk}/plan/edit/")
    assert_accessible(staff_page, "plan-clinician-editing")
    member_page.get_by_role("link", name="Edit the plan").click()

    # The clinician saves first.
    staff_page.get_by_label("After a crisis").fill("A week of normal sleep, then back to the group.")
    staff_page.get_by_role("button", name="Save as a new version").click()
    staff_page.get_by_text("Your changes are saved as a new version.").wait_for()

    # The member's save, started from version 1, is caught: shown what changed, with their own text kept.
    member_page.get_by_label("What I am like when I am well").fill("I cook and I laugh at bad jokes.")
    member_page.get_by_role("button", name="Save as a new version").click()
    alert = member_page.locator("#stale")
    alert.get_by_text("The plan changed while you were editing").wait_for()
    assert "A week of normal sleep" in alert.inner_text()
    assert member_page.get_by_label("What I am like when I am well").input_value() == "I cook and I laugh at bad jokes."
    assert_accessible(member_page, "plan-stale-save")
    assert plan.current_version(member).number == 2

    member_page.get_by_role("button", name="Save as a new version").click()
    member_page.get_by_text("Your changes are saved as a new version.").wait_for()
    content = plan.content_of(plan.current_version(member))
    assert content["post_crisis"].startswith("A week of normal sleep") and content["when_well"].startswith("I cook")

    # Sign-off: the member, then the clinician, agree to version 3.
    member_page.get_by_role("button", name="I agree with version 3").click()
    member_page.get_by_text("Agreed by Robin").wait_for()
    staff_page.goto(f"{live_server.url}/team/members/{member.pk}/plan/")
    staff_page.get_by_role("button", name="I agree with version 3").click()
    staff_page.get_by_text("This version is agreed by the member and the care team.").wait_for()
    assert_accessible(staff_page, "plan-agreed")

    member_page.get_by_role("link", name="Versions").click()
    member_page.get_by_role("link", name="What changed since version 2").click()
    assert "I cook and I laugh at bad jokes." in member_page.locator(".plan-changes").inner_text()
    assert_accessible(member_page, "plan-changes")


def test_the_printed_plan_fits_on_two_pages_and_the_card_renders(live_server, page, organisation):
    member = make_member(organisation, display_name="Robin")
    plan.save_plan(member, by=member, content=FULL_PLAN, based_on=0)
    sign_in(page, live_server.url, member.email, PASSWORD)
    page.goto(live_server.url + "/me/plan/print/")
    assert_accessible(page, "plan-print")
    page.emulate_media(media="print")
    page.screenshot(path=str(SCREENSHOTS / "plan-print-media.png"), full_page=True, caret="initial")
    for paper in ("A4", "Letter"):
        pdf = page.pdf(format=paper, print_background=True)
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        assert 1 <= pages <= 2, f"{paper}: {pages} pages"
    page.emulate_media(media="screen")
    page.goto(live_server.url + "/me/plan/card/")
    card = page.get_by_role("article", name="Wallet card")
    assert "Box breathing for two minutes" in card.inner_text() and "Sam (sister)" in card.inner_text()
    assert_accessible(page, "plan-wallet-card")


def test_im_struggling_works_with_the_network_cut(live_server, page, organisation):
    member = make_member(organisation, display_name="Robin")
    clinician = make_staff(organisation, Role.CLINICIAN, display_name="Dr. Ada Rowe")
    support(clinician, member, organisation, Role.CLINICIAN)
    plan.save_plan(member, by=member, content=FULL_PLAN, based_on=0)

    sign_in(page, live_server.url, member.email, PASSWORD)
    page.evaluate("navigator.serviceWorker.ready")
    page.reload()  # the worker now controls the page and keeps a copy of the struggling screen
    # (Polled from here: the page's CSP rightly refuses the string evaluation wait_for_function would use.)
    for _attempt in range(50):
        if page.evaluate("() => localStorage.getItem('alongside-struggling-warmed')"):
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError("the struggling screen was never kept on the device")

    with network_cut(page, live_server):
        page.get_by_role("button", name="I'm struggling").click()
        page.wait_for_url("**/me/struggling/")
        assert page.get_by_role("link", name="Call Sam (sister)").get_attribute("href") == "tel:+15550100101"
        assert page.get_by_text("Box breathing for two minutes").is_visible()
        assert page.get_by_role("link", name="If you are in immediate danger, call 911 now.").is_visible()
        page.locator("#struggling-status").filter(has_text="You are offline").wait_for()
        page.get_by_role("button", name="Ask my team to reach out").click()
        assert_accessible(page, "struggling-offline")
        # Both presses wait on the phone, each with its own key, for the network to return.
        kept = page.evaluate("() => JSON.parse(localStorage.getItem('alongside-struggling') || '[]')")
        assert [item["ask_team"] for item in kept] == [False, True]
        assert len({item["key"] for item in kept}) == 2

    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.locator("#struggling-status").filter(has_text="We asked Dr. Ada Rowe to reach out").wait_for()
    events = list(SafetyEvent.objects.filter(member=member).order_by("pk"))
    assert [event.team_asked for event in events] == [False, True]

    # Nothing is sent twice: loading the screen again finds the queue on the phone empty.
    page.goto(live_server.url + "/me/struggling/")
    page.wait_for_timeout(500)
    assert SafetyEvent.objects.filter(member=member).count() == 2
