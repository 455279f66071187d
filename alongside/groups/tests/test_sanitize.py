"""The sanitiser keeps a small set of tags and plain text's paragraphs, and removes everything that could run,
track or mislead."""

import pytest
from django.core.exceptions import ValidationError

from alongside.groups import sanitize


def test_script_and_style_are_removed_with_their_content():
    safe = sanitize.to_safe_html("<script>alert('hi')</script>Hello<style>p{color:red}</style>")
    assert safe == "<p>Hello</p>"


def test_event_handlers_are_stripped_and_the_tag_kept():
    safe = sanitize.to_safe_html('<b onclick="steal()" onmouseover="x()">bold</b>')
    assert safe == "<p><b>bold</b></p>"


def test_images_are_removed_so_no_tracking_pixel_loads():
    safe = sanitize.to_safe_html('Hi <img src="https://tracker.example/p.gif" onerror="alert(1)"> there')
    assert "img" not in safe and "tracker" not in safe and "onerror" not in safe
    assert "Hi" in safe and "there" in safe


def test_frames_are_removed():
    safe = sanitize.to_safe_html('<iframe src="https://evil.example/"></iframe>text')
    assert safe == "<p>text</p>"


@pytest.mark.parametrize(
    "href",
    ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html;base64,PHNjcmlwdD4=", "/relative", "vbscript:x"],
)
def test_only_web_and_mail_links_keep_their_address(href):
    safe = sanitize.to_safe_html(f'<a href="{href}">click</a>')
    assert "href" not in safe
    assert "click" in safe


def test_good_links_are_kept_and_marked_as_user_content():
    safe = sanitize.to_safe_html(
        '<a href="https://example.org/x" target="_top">site</a> <a href="mailto:a@b.org">m</a>'
    )
    assert '<a href="https://example.org/x" rel="nofollow noopener noreferrer ugc">site</a>' in safe
    assert '<a href="mailto:a@b.org" rel="nofollow noopener noreferrer ugc">m</a>' in safe
    assert "target" not in safe


def test_nested_allowed_tags_survive_and_unknown_ones_leave_their_text():
    safe = sanitize.to_safe_html("<b><i>very <em>much</em></i></b> <span class='x'><u>so</u></span>")
    assert safe == "<p><b><i>very <em>much</em></i></b> so</p>"


def test_unclosed_tags_are_closed():
    assert sanitize.to_safe_html("<b>open") == "<p><b>open</b></p>"


def test_plain_text_newlines_become_paragraphs_and_breaks():
    safe = sanitize.to_safe_html("First line\nsecond line\n\nNew paragraph")
    assert safe == "<p>First line<br>\nsecond line</p>\n<p>New paragraph</p>"


def test_lists_written_over_lines_stay_lists():
    safe = sanitize.to_safe_html("<ul>\n<li>one</li>\n<li>two</li>\n</ul>")
    assert "<br>" not in safe
    assert "<li>one</li>" in safe


def test_angle_brackets_and_ampersands_are_escaped():
    safe = sanitize.to_safe_html("1 < 2 & 3 > 2 <3")
    assert safe == "<p>1 &lt; 2 &amp; 3 &gt; 2 &lt;3</p>"
    assert sanitize.plain_text(safe) == "1 < 2 & 3 > 2 <3"


def test_plain_text_has_the_words_without_markup():
    safe = sanitize.to_safe_html("<b>Hello</b>\nthere\n\nfriend")
    assert sanitize.plain_text(safe) == "Hello\nthere\nfriend"


def test_empty_and_markup_only_text_is_refused():
    for text in ("", "   \n ", "<script>x</script>", "<img src=x>"):
        with pytest.raises(ValidationError) as error:
            sanitize.to_safe_html(text)
        assert "body" in error.value.message_dict


def test_overlong_text_is_refused():
    with pytest.raises(ValidationError) as error:
        sanitize.to_safe_html("a" * (sanitize.MAX_TEXT + 1))
    assert "body" in error.value.message_dict
    assert sanitize.to_safe_html("a" * sanitize.MAX_TEXT)
