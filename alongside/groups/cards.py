"""What people see of groups, read once for the pages and the API: the directory's cards (never an address, a
link or who is in a group), a person's own groups, and the inside of a group (its facilitators and next
meetings). Who may see what is decided in groups/access.py; this module only reads."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from alongside.accounts.models import OrgRole, Role
from alongside.groups import access
from alongside.groups.models import Group, Meeting, MeetingStatus, Membership, MembershipRole, MembershipStatus

NEXT_MEETINGS = 5


@dataclass(frozen=True)
class Card:
    group: Group
    places_left: int | None
    my_status: str  # the person's membership status, "" if they never had one
    my_role: str
    can_join: bool  # may join (open) or ask to (closed)
    can_manage: bool
    inside: bool

    @property
    def full(self) -> bool:
        return self.places_left == 0

    @property
    def asks(self) -> bool:
        """Joining is by request (a closed group)."""
        return self.group.access == "closed"


def _with_places_taken(groups):
    taken = (
        Membership.objects.filter(group=OuterRef("pk"), status=MembershipStatus.ACTIVE, role=MembershipRole.MEMBER)
        .values("group")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return groups.annotate(places_taken=Coalesce(Subquery(taken, output_field=IntegerField()), 0))


def _places_left(group) -> int | None:
    if group.capacity is None:
        return None
    return max(group.capacity - group.places_taken, 0)


def directory_cards(person) -> list[Card]:
    """Every group the person may know of (access.directory), each with what the person may do there, in a
    fixed number of queries."""
    groups = list(_with_places_taken(access.directory(person).select_related("organisation")))
    if not groups:
        return []
    ids = [group.pk for group in groups]
    inside = set(access.groups_inside(person).filter(pk__in=ids).values_list("pk", flat=True))
    mine = {m.group_id: m for m in Membership.objects.filter(person=person, group__in=ids)}
    roles = set(OrgRole.objects.filter(user=person).values_list("organisation_id", "role"))
    cards = []
    for group in groups:
        membership = mine.get(group.pk)
        status = membership.status if membership else ""
        facilitates = (
            membership is not None and membership.status == MembershipStatus.ACTIVE and membership.is_facilitator
        )
        cards.append(
            Card(
                group=group,
                places_left=_places_left(group),
                my_status=status,
                my_role=membership.role if membership else "",
                can_join=group.listed and (group.organisation_id, Role.MEMBER) in roles,
                can_manage=facilitates or (group.organisation_id, Role.ORG_ADMIN) in roles,
                inside=group.pk in inside,
            )
        )
    return cards


def my_memberships(person):
    """The person's live groups and the requests they are waiting on."""
    return (
        Membership.objects.filter(
            person=person,
            group__archived_at__isnull=True,
            status__in=(MembershipStatus.ACTIVE, MembershipStatus.REQUESTED),
        )
        .select_related("group", "group__organisation")
        .order_by("status", "group__name", "group__pk")
    )


def places_left(group: Group) -> int | None:
    (counted,) = _with_places_taken(Group.objects.filter(pk=group.pk))
    return _places_left(counted)


def facilitators(group: Group) -> list:
    return [
        m.person
        for m in group.memberships.active()
        .filter(role=MembershipRole.FACILITATOR)
        .select_related("person")
        .order_by("person__display_name", "pk")
    ]


def next_meetings(group: Group, limit: int = NEXT_MEETINGS):
    """The group's meetings not yet over and not cancelled, soonest first."""
    return (
        Meeting.objects.filter(series__group=group, end__gt=timezone.now())
        .exclude(status=MeetingStatus.CANCELLED)
        .select_related("series")
        .order_by("start", "pk")[:limit]
    )
