"""The header's inbox link: the signed-in person's unread count, counted (one small query) only when a page
shows it."""

from __future__ import annotations

from django.utils.functional import cached_property

from alongside.accounts import two_factor
from alongside.notify import inbox


class UnreadInbox:
    def __init__(self, person):
        self.person = person

    @cached_property
    def count(self) -> int:
        return inbox.unread_count(self.person)


def unread_inbox(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    if two_factor.required_for(user) and not user.is_verified():
        return {}  # nothing is reachable before the second factor
    return {"inbox_unread": UnreadInbox(user)}
