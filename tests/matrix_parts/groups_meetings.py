"""Group meetings in the matrix: a weekly series of the listed group (its facilitator is the matrix's facilitator),
whose last meeting has happened (the member missed it; the facilitator kept notes) and whose next is to come (the
member is going). Meetings are the group's inside; the notes are the facilitator's alone."""

from __future__ import annotations

from datetime import time, timedelta
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import timezone

from alongside.groups import meetings
from alongside.groups.models import RsvpAnswer
from tests.matrix_parts.common import Route, only

MEETING_NOTES = "Matrix meeting notes: R. spoke about relapse fears 6120"
INSIDERS = {"member", "facilitator", "moderator"}
IN_THE_GROUP = {"member", "facilitator"}


def seed(w) -> None:
    p = w.people
    group = w.extra["group"]
    # Six days ago and tomorrow, at 18:00 in New York: one meeting has happened, the next is to come.
    first = timezone.now().astimezone(ZoneInfo("America/New_York")).date() - timedelta(days=6)
    meeting_series = meetings.schedule_meetings(
        by=p["facilitator"], group=group, title="Evening circle", time_zone="America/New_York",
        start_date=first, start_time=time(18, 0), duration_minutes=90, rrule="FREQ=WEEKLY",
    )  # fmt: skip
    past, upcoming = meeting_series.meetings.order_by("start")[:2]
    meetings.record_attendance(past, by=p["facilitator"], attended=set())
    meetings.save_notes(past, by=p["facilitator"], text=MEETING_NOTES)
    meetings.rsvp(p["member"], upcoming, RsvpAnswer.GOING)
    w.extra["meeting_series"] = meeting_series
    w.extra["past_meeting"] = past
    w.extra["meeting"] = upcoming
    w.extra.setdefault("secrets", {})[MEETING_NOTES] = {"facilitator"}


def _group(w) -> int:
    return w.extra["group"].pk


def _past(w) -> int:
    return w.extra["past_meeting"].pk


def _next(w) -> int:
    return w.extra["meeting"].pk


def web_routes() -> dict:
    return {
        "groups:meetings": Route("get", lambda w: reverse("groups:meetings", args=[_group(w)]), only(INSIDERS)),
        "groups:new_meetings": Route(
            "get", lambda w: reverse("groups:new_meetings", args=[_group(w)]), only({"facilitator"})
        ),
        "groups:meeting": Route("get", lambda w: reverse("groups:meeting", args=[_past(w)]), only(INSIDERS)),
        "groups:rsvp": Route(
            "post",
            lambda w: reverse("groups:rsvp", args=[_next(w)]),
            only(IN_THE_GROUP, outcome="redirect"),
            data={"answer": "maybe"},
        ),
        "groups:attendance": Route(
            "post",
            lambda w: reverse("groups:attendance", args=[_past(w)]),
            only({"facilitator"}, outcome="redirect"),
            data=lambda w: {"attended": [w.people["member"].pk]},
        ),
        "groups:meeting_notes": Route(
            "post",
            lambda w: reverse("groups:meeting_notes", args=[_past(w)]),
            only({"facilitator"}, outcome="redirect"),
            data={"notes": "Short meeting"},
        ),
        "groups:cancel_meeting": Route(
            "post",
            lambda w: reverse("groups:cancel_meeting", args=[_next(w)]),
            only({"facilitator"}, outcome="redirect"),
            data={"reason": "The hall is closed"},
        ),
        "groups:end_meeting_series": Route(
            "post",
            lambda w: reverse("groups:end_meeting_series", args=[w.extra["meeting_series"].pk]),
            only({"facilitator"}, outcome="redirect"),
        ),
    }


def api_routes() -> dict:
    return {
        ("get", "/api/v1/groups/{group_id}/meetings"): Route(
            "get", lambda w: f"/api/v1/groups/{_group(w)}/meetings", only(INSIDERS, anonymous=401)
        ),
        ("post", "/api/v1/groups/meetings/{meeting_id}/rsvp"): Route(
            "post",
            lambda w: f"/api/v1/groups/meetings/{_next(w)}/rsvp",
            only(IN_THE_GROUP, anonymous=401),
            data={"answer": "going"},
            headers={"Idempotency-Key": "matrix-rsvp-1"},
        ),
        ("post", "/api/v1/groups/meetings/{meeting_id}/attendance"): Route(
            "post",
            lambda w: f"/api/v1/groups/meetings/{_past(w)}/attendance",
            only({"facilitator"}, anonymous=401),
            data=lambda w: {"attended": [w.people["member"].pk]},
            headers={"Idempotency-Key": "matrix-attendance-1"},
        ),
    }
