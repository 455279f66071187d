from datetime import datetime

from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from alongside.accounts.api import require_scope
from alongside.schedule import feeds

router = Router(tags=["appointments and routines"])


# Calendar feed -------------------------------------------------------------------------------------------
# Only the SHA-256 of a feed token is stored, so its URL can be given once: in the answer that makes it.
# Reading says whether a link is live and since when; making one (POST) replaces the old link and is the only
# answer with the URL. POST takes no Idempotency-Key: a stored answer would keep the secret, and a repeated
# POST only replaces the link again (the last answer's URL is the live one).


class CalendarFeedOut(Schema):
    url: str | None
    created_at: datetime


@router.get(
    "/calendar/feed",
    response={200: CalendarFeedOut, 404: dict},
    summary="Whether I have a calendar feed link (the URL itself is only in the answer that made it)",
    description="Answers 404 when there is no live link. A live link's URL is not shown again (`url` is null): "
    "Alongside keeps only a fingerprint of it. `POST /api/v1/calendar/feed` makes a new one.",
)
def calendar_feed(request):
    require_scope(request, "read")
    feed = feeds.live_feed(request.user)
    if feed is None:
        return Status(
            404, {"detail": _("You have no calendar link. Make one with POST /api/v1/calendar/feed."), "fields": []}
        )
    return {"url": None, "created_at": feed.created_at}


@router.post(
    "/calendar/feed",
    response={201: CalendarFeedOut},
    summary="Make my calendar feed link (replaces and turns off any earlier one); its URL is shown only here",
    description="The answer holds the secret iCalendar URL (RFC 5545) of the signed-in person's appointments, "
    "for calendar apps to subscribe to. It is shown only in this answer. Every call makes a new link and turns "
    "off the previous one, so a repeated call is harmless: the newest URL is the one that works.",
)
def new_calendar_feed(request, response: HttpResponse):
    require_scope(request, "write")
    feed, raw = feeds.issue_feed(request.user, request=request)
    response["Cache-Control"] = "no-store"
    url = request.build_absolute_uri(reverse("schedule:feed", args=[raw]))
    return Status(201, {"url": url, "created_at": feed.created_at})


@router.delete("/calendar/feed", response={204: None}, summary="Turn off my calendar feed link")
def revoke_calendar_feed(request):
    require_scope(request, "write")
    feeds.revoke_feeds(request.user, request=request)
    return Status(204, None)
