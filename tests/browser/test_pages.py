"""Pages served by the test live server: sign-in errors and the crisis lines of a signed-in person's
organisation."""

from __future__ import annotations

from alongside.testing.factories import PASSWORD
from tests.browser.helpers import assert_accessible, sign_in


def test_wrong_password_shows_a_clear_error_and_keeps_the_email(live_server, page, member):
    sign_in(page, live_server.url, member.email, "not the password")
    assert page.get_by_role("alert").inner_text().startswith("Please check the form.")
    assert "do not match an account" in page.content()
    assert page.get_by_label("E-mail address").input_value() == member.email
    assert_accessible(page, "signin-error")


def test_signed_in_member_sees_their_own_organisations_lines(live_server, page, other_organisation):
    from alongside.testing.factories import make_member

    kit = make_member(other_organisation, display_name="Kit")
    sign_in(page, live_server.url, kit.email, PASSWORD)
    page.get_by_role("link", name="Need help now?").first.click()
    assert page.get_by_role("link", name="If you are in immediate danger, call 999 now.").is_visible()
    assert page.get_by_role("link", name="Call 116 123").get_attribute("href") == "tel:116123"
    assert page.get_by_text("988").count() == 0
    assert_accessible(page, "crisis-member-gb")
