"""Group meetings in the API: a group's meetings, RSVPs, and attendance (facilitators). Facilitators' notes are
never in the API. Everything outside the group answers 404."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils import timezone
from ninja import Query, Router, Schema

from alongside.accounts.api import require_scope
from alongside.core.idempotency import once_per_key, problem_from
from alongside.groups import access, meetings
from alongside.groups.models import Rsvp, RsvpAnswer

router = Router()

NOT_FOUND = {"detail": "Not found.", "fields": []}


class Problem(Schema):
    detail: str
    fields: list[str] = []


class RsvpCounts(Schema):
    going: int
    maybe: int
    not_going: int


class MeetingOut(Schema):
    id: int
    series_id: int
    title: str
    start: datetime
    end: datetime
    time_zone: str
    status: str
    cancel_reason: str
    my_answer: str | None
    counts: RsvpCounts | None  # facilitators only
    attendance_taken: bool


class RsvpIn(Schema):
    answer: str


class RsvpOut(Schema):
    meeting_id: int
    answer: str
    answered_at: datetime


class AttendanceIn(Schema):
    attended: list[int]


class AttendanceRowOut(Schema):
    person_id: int
    attended: bool


class AttendanceOut(Schema):
    meeting_id: int
    rows: list[AttendanceRowOut]


@router.get(
    "/groups/{group_id}/meetings",
    response={200: list[MeetingOut], 404: Problem},
    summary="A group's meetings: the last 30 days and what is to come (its members, facilitators, moderators)",
)
def list_meetings(request, group_id: int, limit: int = Query(100, ge=1, le=500)):
    require_scope(request, "read")
    group = access.group_or_404(request.user, group_id)
    since = timezone.now() - timedelta(days=30)
    rows = list(meetings.group_meetings(group).filter(start__gte=since).order_by("start", "pk")[:limit])
    answers = dict(Rsvp.objects.filter(meeting__in=rows, person=request.user).values_list("meeting", "answer"))
    facilitates = access.is_facilitator(request.user, group)
    counts = meetings.rsvp_counts(rows) if facilitates else {}
    return [
        MeetingOut(
            id=meeting.pk,
            series_id=meeting.series_id,
            title=meeting.series.title,
            start=meeting.start,
            end=meeting.end,
            time_zone=meeting.series.time_zone,
            status=meeting.status,
            cancel_reason=meeting.cancel_reason,
            my_answer=answers.get(meeting.pk),
            counts=RsvpCounts(**counts.get(meeting.pk, dict.fromkeys(RsvpAnswer.values, 0))) if facilitates else None,
            attendance_taken=meeting.attendance_taken_at is not None,
        )
        for meeting in rows
    ]


@router.post(
    "/groups/meetings/{meeting_id}/rsvp",
    response={200: RsvpOut, 400: Problem, 404: Problem, 409: Problem, 422: Problem},
    summary="Say whether I will come to a meeting still to come (send an Idempotency-Key header)",
    description="`answer` is one of going, maybe, not_going. Answering again changes the answer.",
)
def rsvp(request, meeting_id: int, payload: RsvpIn):
    require_scope(request, "write")
    meeting = meetings.meeting_or_404(request.user, meeting_id)

    def create():
        try:
            answered = meetings.rsvp(request.user, meeting, payload.answer, request=request)
        except DjangoValidationError as error:
            return 422, problem_from(error)
        except PermissionDenied:
            return 404, NOT_FOUND
        body = RsvpOut(meeting_id=meeting.pk, answer=answered.answer, answered_at=answered.answered_at)
        return 200, body.model_dump(mode="json")

    return once_per_key(request, create)


@router.post(
    "/groups/meetings/{meeting_id}/attendance",
    response={200: AttendanceOut, 400: Problem, 404: Problem, 409: Problem, 422: Problem},
    summary="Record who came to a meeting (the group's facilitators; send an Idempotency-Key header)",
    description="`attended` lists the ids of the members who came; every other active member is recorded as "
    "absent. Recording again replaces the answers.",
)
def attendance(request, meeting_id: int, payload: AttendanceIn):
    require_scope(request, "write")
    meeting = meetings.meeting_or_404(request.user, meeting_id)
    if not meetings.may_run(request.user, meeting):
        raise Http404

    def create():
        try:
            rows = meetings.record_attendance(meeting, by=request.user, attended=set(payload.attended), request=request)
        except DjangoValidationError as error:
            return 422, problem_from(error)
        except PermissionDenied:
            return 404, NOT_FOUND
        out = AttendanceOut(
            meeting_id=meeting.pk,
            rows=[AttendanceRowOut(person_id=row.person_id, attended=row.attended) for row in rows],
        )
        return 200, out.model_dump(mode="json")

    return once_per_key(request, create)
