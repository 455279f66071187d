"""Groups in the JSON API: the directory (cards and the person's own groups), a group's inside for the people
inside it, and joining and leaving. Same rules and domain functions as the pages: groups the person may not see
answer 404, and errors name the field they concern."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from alongside.accounts.api import require_scope
from alongside.core.idempotency import problem_from
from alongside.groups import access, cards, membership

router = Router(tags=["groups"])


class Problem(Schema):
    detail: str
    fields: list[str] = []


class CardOut(Schema):
    id: int
    organisation: str
    name: str
    purpose: str
    topic: str
    format: str = Field(..., description="in_person, online or hybrid")
    access: str = Field(..., description="open (join at once) or closed (ask to join)")
    listed: bool
    places_left: int | None = Field(None, description="Empty when there is no limit")
    my_status: str = Field(..., description="requested, active, declined, left, removed, or empty")
    can_join: bool
    can_manage: bool


class MyGroupOut(Schema):
    group_id: int
    name: str
    status: str
    role: str


class DirectoryOut(Schema):
    mine: list[MyGroupOut]
    directory: list[CardOut]


class NextMeetingOut(Schema):
    # Not `MeetingOut`: the description names each schema once, and the meetings list has its own.
    id: int
    title: str
    start: datetime
    end: datetime


class GroupOut(Schema):
    id: int
    organisation: str
    name: str
    purpose: str
    topic: str
    format: str
    access: str
    listed: bool
    places_left: int | None
    address: str
    video_url: str
    facilitators: list[str]
    next_meetings: list[NextMeetingOut]
    my_status: str
    my_role: str
    muted_until: datetime | None


class MembershipOut(Schema):
    group_id: int
    status: str
    role: str


def _card_out(card: cards.Card) -> CardOut:
    group = card.group
    return CardOut(
        id=group.pk, organisation=group.organisation.name, name=group.name, purpose=group.purpose,
        topic=group.topic, format=group.format, access=group.access, listed=group.listed,
        places_left=card.places_left, my_status=card.my_status, can_join=card.can_join, can_manage=card.can_manage,
    )  # fmt: skip


def _membership_out(row) -> MembershipOut:
    return MembershipOut(group_id=row.group_id, status=row.status, role=row.role)


@router.get("/groups", response=DirectoryOut, summary="The groups I am in or waiting for, and the ones I may know of")
def list_groups(request):
    require_scope(request, "read")
    mine = [
        MyGroupOut(group_id=row.group_id, name=row.group.name, status=row.status, role=row.role)
        for row in cards.my_memberships(request.user)
    ]
    return DirectoryOut(mine=mine, directory=[_card_out(card) for card in cards.directory_cards(request.user)])


@router.get(
    "/groups/{group_id}",
    response={200: GroupOut, 404: Problem},
    summary="A group's inside (address, video link, facilitators, next meetings): for the people inside it",
)
def get_group(request, group_id: int):
    require_scope(request, "read")
    group = access.group_or_404(request.user, group_id)
    mine = access.membership_of(request.user, group)
    active = mine is not None and mine.status == "active"
    return Status(
        200,
        GroupOut(
            id=group.pk, organisation=group.organisation.name, name=group.name, purpose=group.purpose,
            topic=group.topic, format=group.format, access=group.access, listed=group.listed,
            places_left=cards.places_left(group), address=group.address, video_url=group.video_url,
            facilitators=[person.display_name for person in cards.facilitators(group)],
            next_meetings=[
                NextMeetingOut(id=meeting.pk, title=meeting.series.title, start=meeting.start, end=meeting.end)
                for meeting in cards.next_meetings(group)
            ],
            my_status=mine.status if mine else "", my_role=mine.role if active else "",
            muted_until=mine.muted_until if active and mine.is_muted() else None,
        ),
    )  # fmt: skip


@router.post(
    "/groups/{group_id}/join",
    response={200: MembershipOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Join an open group or ask to join a closed one (again changes nothing)",
)
def join_group(request, group_id: int):
    require_scope(request, "write")
    group = access.group_or_404(request.user, group_id, inside=False)
    try:
        row = membership.join(request.user, group, request=request)
    except PermissionDenied:
        return Status(403, {"detail": _("Only members of the organisation can join its listed groups."), "fields": []})
    except ValidationError as error:
        return Status(422, problem_from(error))
    return Status(200, _membership_out(row))


@router.post(
    "/groups/{group_id}/leave",
    response={200: MembershipOut, 404: Problem, 422: Problem},
    summary="Leave a group, or withdraw a request to join it",
)
def leave_group(request, group_id: int):
    require_scope(request, "write")
    group = access.group_or_404(request.user, group_id, inside=False)
    try:
        row = membership.leave(request.user, group, request=request)
    except ValidationError as error:
        return Status(422, problem_from(error))
    return Status(200, _membership_out(row))
