"""Peer-mentor matching in the API: members ask for a mentor and follow their request; the staff who may match
them (org admins, the member's clinicians and case managers) list open requests, read suggestions and approve a
match. Everything is decided by `mentoring.py`."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from alongside.accounts.api import require_scope
from alongside.core.idempotency import once_per_key, problem_from
from alongside.groups import mentoring
from alongside.groups.models import MentorRequest, MentorRequestStatus

router = Router(tags=["peer mentors"])


class Problem(Schema):
    detail: str
    fields: list[str] = []


class MentorRequestIn(Schema):
    organisation_id: int | None = Field(None, description="Needed only by members of several organisations")
    languages: list[str] | str = Field([], description="A list, or one comma-separated string")
    lived_experience: list[str] = []
    availability: list[str] = []
    gender_preference: str = Field("", description="woman, man, non_binary, or empty for no preference")
    note: str = ""


class MyMentorRequestOut(Schema):
    id: int
    organisation_id: int
    organisation: str
    status: str
    created_at: datetime
    languages: list[str]
    lived_experience: list[str]
    availability: list[str]
    gender_preference: str
    note: str
    mentor: str | None = Field(None, description="Once matched, the peer mentor's name")
    matched_at: datetime | None = None
    mentor_sees: list[str] = Field([], description="What the mentor may see now (changed under /me/sharing)")


class QueuedRequestOut(Schema):
    id: int
    organisation_id: int
    member_id: int
    member: str
    status: str
    created_at: datetime
    mentor: str | None = None


class SuggestionOut(Schema):
    mentor_id: int
    name: str
    score: int
    places_free: int
    capacity: int
    languages: list[str]
    shared_experience: list[str]
    shared_times: list[str]
    why: str


class MatchIn(Schema):
    mentor_id: int


def _require_member(request) -> None:
    if not request.user.is_member:
        raise HttpError(403, _("Only members ask for a peer mentor."))


def _mine_out(mentor_request: MentorRequest) -> dict:
    relationship = mentor_request.relationship
    sees = []
    if mentor_request.status == MentorRequestStatus.MATCHED and relationship is not None and relationship.is_active():
        sees = sorted(relationship.shared_categories)
    return MyMentorRequestOut(
        id=mentor_request.pk,
        organisation_id=mentor_request.organisation_id,
        organisation=mentor_request.organisation.name,
        status=mentor_request.status,
        created_at=mentor_request.created_at,
        languages=mentor_request.languages,
        lived_experience=mentor_request.lived_experience,
        availability=mentor_request.availability,
        gender_preference=mentor_request.gender_preference,
        note=mentor_request.note,
        mentor=mentor_request.matched_mentor.display_name if mentor_request.matched_mentor else None,
        matched_at=mentor_request.matched_at,
        mentor_sees=sees,
    ).model_dump(mode="json")


def _queued_out(mentor_request: MentorRequest) -> QueuedRequestOut:
    return QueuedRequestOut(
        id=mentor_request.pk,
        organisation_id=mentor_request.organisation_id,
        member_id=mentor_request.member_id,
        member=mentor_request.member.display_name,
        status=mentor_request.status,
        created_at=mentor_request.created_at,
        mentor=mentor_request.matched_mentor.display_name if mentor_request.matched_mentor else None,
    )


@router.post(
    "/mentor-requests",
    response={201: MyMentorRequestOut, 400: Problem, 403: Problem, 409: Problem, 422: Problem},
    summary="Ask for a peer mentor (members; send an Idempotency-Key header)",
)
def create_mentor_request(request, payload: MentorRequestIn):
    require_scope(request, "write")
    _require_member(request)
    organisations = mentoring.member_organisations(request.user)
    if payload.organisation_id is not None:
        organisation = organisations.filter(pk=payload.organisation_id).first()
    else:
        organisation = organisations.first() if organisations.count() == 1 else None
    if organisation is None:
        return Status(
            422, {"detail": _("Name one of your organisations (organisation_id)."), "fields": ["organisation_id"]}
        )
    fields = payload.dict(exclude={"organisation_id"})

    def create():
        try:
            mentor_request = mentoring.ask_for_mentor(request.user, organisation, request=request, **fields)
        except DjangoValidationError as error:
            return 422, problem_from(error)
        return 201, _mine_out(mentor_request)

    return once_per_key(request, create)


@router.get(
    "/mentor-requests/mine",
    response={200: list[MyMentorRequestOut], 403: Problem},
    summary="My requests for a peer mentor",
)
def my_mentor_requests(request):
    require_scope(request, "read")
    _require_member(request)
    return [_mine_out(mentor_request) for mentor_request in mentoring.requests_of(request.user)]


@router.get(
    "/mentor-requests",
    response={200: list[QueuedRequestOut], 403: Problem},
    summary="Open requests I may match (org admins; the member's clinicians and case managers)",
)
def open_mentor_requests(request):
    require_scope(request, "read")
    if not mentoring.may_see_queue(request.user):
        raise HttpError(403, _("Only staff who match peer mentors have this list."))
    waiting = mentoring.requests_visible_to(request.user).filter(status=MentorRequestStatus.OPEN)
    return [_queued_out(mentor_request) for mentor_request in waiting.order_by("created_at", "pk")]


@router.get(
    "/mentor-requests/{request_id}/suggestions",
    response={200: list[SuggestionOut], 404: Problem},
    summary="Suggested mentors for an open request, best first, each with why",
)
def mentor_suggestions(request, request_id: int):
    require_scope(request, "read")
    mentor_request = mentoring.request_for_approver_or_404(request.user, request_id, http_request=request)
    return [
        SuggestionOut(
            mentor_id=suggestion.mentor.pk,
            name=suggestion.mentor.display_name,
            score=suggestion.score,
            places_free=suggestion.places_free,
            capacity=suggestion.profile.capacity,
            languages=suggestion.languages,
            shared_experience=suggestion.shared_experience,
            shared_times=suggestion.shared_times,
            why=suggestion.why,
        )
        for suggestion in mentoring.suggestions(mentor_request)
    ]


@router.post(
    "/mentor-requests/{request_id}/match",
    response={200: QueuedRequestOut, 404: Problem, 422: Problem},
    summary="Match a request with a mentor: starts the care relationship with the peer mentor's default sharing",
)
def match_mentor_request(request, request_id: int, payload: MatchIn):
    require_scope(request, "write")
    mentor_request = mentoring.request_for_approver_or_404(request.user, request_id)
    mentor = get_user_model().objects.filter(pk=payload.mentor_id).first()
    try:
        matched = mentoring.approve_match(mentor_request, by=request.user, mentor=mentor, request=request)
    except DjangoValidationError as error:
        problem = problem_from(error)
        problem["fields"] = ["mentor_id" if name == "mentor" else name for name in problem["fields"]]
        return Status(422, problem)
    except PermissionDenied:
        return Status(404, {"detail": _("Not found."), "fields": []})
    return _queued_out(MentorRequest.objects.select_related("member", "matched_mentor").get(pk=matched.pk))
