"""Forms of the discussion pages. They only shape the input; the rules are in `discussion`, `moderation` and
`profiles`, whose errors the views show on these forms (`add_domain_errors`)."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from alongside.groups import discussion, moderation, sanitize
from alongside.groups.models import ReactionKind

BODY_HELP = _(
    "Plain text: leave a blank line between paragraphs. You may use <b>bold</b>, <i>italic</i>, links, lists "
    "and <blockquote>quotes</blockquote>."
)


def _new_key() -> str:
    # Sent with the form, so a double click or a resent form stores the post once.
    return uuid.uuid4().hex


class _PostForm(forms.Form):
    body = forms.CharField(
        label=_("Your message"),
        help_text=BODY_HELP,
        max_length=sanitize.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=80)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("key", _new_key())


class ThreadForm(_PostForm):
    title = forms.CharField(label=_("Title"), max_length=discussion.MAX_TITLE)
    field_order = ["title", "body", "key"]


class ReplyForm(_PostForm):
    body = forms.CharField(
        label=_("Your reply"),
        help_text=BODY_HELP,
        max_length=sanitize.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 5}),
    )


class ProfileForm(forms.Form):
    pseudonym = forms.CharField(
        label=_("Your name in discussions"),
        help_text=_("Members appear under this name, never their own. Choose one that does not give you away."),
        max_length=40,
        required=False,
    )
    accept_guidelines = forms.BooleanField(label=_("I have read the community guidelines and will follow them"),
                                           required=False)  # fmt: skip
    next = forms.CharField(widget=forms.HiddenInput, required=False)


class ReportForm(forms.Form):
    reason = forms.ChoiceField(label=_("What is wrong with it?"), choices=moderation.READER_REASONS,
                               widget=forms.RadioSelect)  # fmt: skip
    note = forms.CharField(
        label=_("Anything moderators should know (optional)"),
        required=False,
        max_length=moderation.MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason (the author sees it)"), max_length=moderation.MAX_REASON)


class ReactionForm(forms.Form):
    kind = forms.ChoiceField(choices=ReactionKind.choices)
