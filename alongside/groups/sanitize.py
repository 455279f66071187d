"""What people write in discussions, made safe to show: plain text with paragraphs and line breaks, plus a small
set of tags (bold, italic, links, lists, quotes, code). Everything else is stripped by nh3 with an allowlist:
scripts and styles with their content, event handlers, images (a tracking pixel would tell a stranger who read
the post and when), frames, and links other than http, https and mailto. Links are marked as user content that
search engines must not follow and that gets no access to the page that opened it.

The sanitised HTML is what is stored (`Post.body_html`) and the only thing a template shows unescaped."""

from __future__ import annotations

import html
import re

import nh3
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_TEXT = 10_000
# Sanitising can lengthen text (escaped characters, added rel attributes); this bounds what is stored.
MAX_HTML = 30_000
TAGS = frozenset({"b", "strong", "i", "em", "a", "ul", "ol", "li", "p", "br", "blockquote", "code"})
ATTRIBUTES = {"a": {"href"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener noreferrer ugc"
# Removed together with everything inside them, rather than leaving their text behind.
CONTENT_REMOVED = frozenset({"script", "style", "iframe", "object", "embed", "template", "noscript", "svg", "math"})
_BLOCK_TAG = re.compile(r"</?(?:p|ul|ol|li|blockquote)\b[^>]*>", re.IGNORECASE)
_ENDS_WITH_BLOCK_TAG = re.compile(r"</?(?:p|ul|ol|li|blockquote)\b[^>]*>$", re.IGNORECASE)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")


def _line_breaks(paragraph: str) -> str:
    """Single newlines become <br>, except beside the block tags a writer typed themselves (a list written over
    several lines is a list, not a list with breaks in it)."""
    lines = paragraph.split("\n")
    out = lines[0]
    for line in lines[1:]:
        before, after = out.rstrip(), line.lstrip()
        beside_block = _ENDS_WITH_BLOCK_TAG.search(before) or _BLOCK_TAG.match(after)
        out = f"{out}\n{line}" if beside_block else f"{out}<br>\n{line}"
    return out


def _paragraphs(text: str) -> str:
    blocks = [block.strip() for block in _PARAGRAPH_BREAK.split(text) if block.strip()]
    wrapped = []
    for block in blocks:
        body = _line_breaks(block)
        wrapped.append(body if _BLOCK_TAG.match(block) else f"<p>{body}</p>")
    return "\n".join(wrapped)


def clean(fragment: str) -> str:
    """HTML reduced to the allowlist (no paragraph handling): for text that is HTML already."""
    return nh3.clean(
        fragment,
        tags=set(TAGS),
        clean_content_tags=set(CONTENT_REMOVED),
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        url_relative="deny",
        link_rel=LINK_REL,
        strip_comments=True,
    )


def to_safe_html(text: str) -> str:
    """What someone wrote, as safe HTML: blank lines make paragraphs, newlines line breaks, allowed tags stay.
    Raises ValidationError (field "body") for empty or overlong text."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(text) > MAX_TEXT:
        raise ValidationError(
            {"body": _("Posts can be up to %(n)s characters. Split it into two.") % {"n": f"{MAX_TEXT:,}"}}
        )
    safe = clean(_paragraphs(text))
    if not plain_text(safe).strip():
        raise ValidationError({"body": _("Write something first.")})
    if len(safe) > MAX_HTML:
        raise ValidationError({"body": _("This post is too long once formatted. Shorten it a little.")})
    return safe


def plain_text(safe_html: str) -> str:
    """The words of sanitised HTML without its tags (for crisis language, previews and the API's text)."""
    flat = re.sub(r"\s*\n\s*", " ", safe_html or "")
    with_breaks = re.sub(r"\s*<(?:br|/p|/li|/blockquote)\b[^>]*>\s*", "\n", flat, flags=re.IGNORECASE)
    text = html.unescape(nh3.clean(with_breaks, tags=set(), clean_content_tags=set(CONTENT_REMOVED)))
    return re.sub(r"\n{2,}", "\n", text).strip()
