"""Who may see and do what in peer support groups: the one place the groups app asks.

- A group's inside (its members, meetings, address and video link, threads and posts) is seen by its active
  members and facilitators, and by the organisation's community moderators. Everyone else gets 404, so an
  unlisted group does not even show that it exists.
- A listed group's card (name, purpose, topic, format, places left) is in the directory of everyone who holds a
  role in its organisation; members of the organisation may join it (open) or ask to (closed).
- Facilitators of a group and the organisation's admins manage it (details, facilitators, requests).
- Moderation: a group's facilitators and the organisation's community moderators moderate its discussion; the
  organisation-wide community space is moderated by its moderators and facilitators.
- A member's group activity reaches their care team only through the care policy (category "groups").
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from alongside.accounts.models import Organisation, OrgRole, Role
from alongside.groups.models import Group, Membership, MembershipRole, MembershipStatus, Thread


def _signed_in(person) -> bool:
    return bool(person is not None and person.is_authenticated and person.is_active)


def organisations_of(person) -> QuerySet[Organisation]:
    """Organisations where the person holds any role (members and staff)."""
    if not _signed_in(person):
        return Organisation.objects.none()
    return Organisation.objects.filter(roles__user=person).distinct()


def holds(person, organisation, *roles: Role) -> bool:
    if not _signed_in(person):
        return False
    return OrgRole.objects.filter(user=person, organisation=organisation, role__in=roles).exists()


def membership_of(person, group: Group) -> Membership | None:
    if not _signed_in(person):
        return None
    return Membership.objects.filter(group=group, person=person).first()


def active_membership(person, group: Group) -> Membership | None:
    membership = membership_of(person, group)
    return membership if membership is not None and membership.status == MembershipStatus.ACTIVE else None


def is_facilitator(person, group: Group) -> bool:
    membership = active_membership(person, group)
    return membership is not None and membership.role == MembershipRole.FACILITATOR


def is_moderator(person, organisation) -> bool:
    return holds(person, organisation, Role.MODERATOR)


def groups_inside(person) -> QuerySet[Group]:
    """Live groups whose inside the person sees: theirs (as member or facilitator) and, for community
    moderators, all of their organisation's."""
    if not _signed_in(person):
        return Group.objects.none()
    mine = Membership.objects.filter(group=OuterRef("pk"), person=person, status=MembershipStatus.ACTIVE)
    moderated = OrgRole.objects.filter(user=person, role=Role.MODERATOR).values("organisation")
    return Group.objects.live().filter(Q(Exists(mine)) | Q(organisation__in=moderated))


def can_see_inside(person, group: Group) -> bool:
    return groups_inside(person).filter(pk=group.pk).exists()


def can_manage(person, group: Group) -> bool:
    """Change the group's details, appoint facilitators, decide requests, add people, archive it."""
    return is_facilitator(person, group) or holds(person, group.organisation, Role.ORG_ADMIN)


def can_create_group(person, organisation) -> bool:
    return holds(person, organisation, Role.ORG_ADMIN, Role.FACILITATOR)


def directory(person) -> QuerySet[Group]:
    """Groups the person may know of: listed live groups of their organisations, those they are inside, and for
    org admins every group of their organisations."""
    if not _signed_in(person):
        return Group.objects.none()
    administered = OrgRole.objects.filter(user=person, role=Role.ORG_ADMIN).values("organisation")
    condition = (
        Q(listed=True, organisation__in=organisations_of(person))
        | Q(pk__in=groups_inside(person).values("pk"))
        | Q(organisation__in=administered)
    )
    return Group.objects.live().filter(condition).distinct()


def may_join(person, group: Group) -> bool:
    """Members of the group's organisation may join a listed group (or ask to, when it is closed)."""
    return group.archived_at is None and group.listed and holds(person, group.organisation, Role.MEMBER)


def group_or_404(person, group_pk, *, inside: bool = True) -> Group:
    """The group if the person may see its inside (or, with inside=False, know of it); 404 otherwise."""
    try:
        group_pk = int(group_pk)
    except (TypeError, ValueError):
        raise Http404 from None
    rows = groups_inside(person) if inside else directory(person)
    group = rows.select_related("organisation").filter(pk=group_pk).first()
    if group is None:
        raise Http404
    return group


def managed_group_or_404(person, group_pk) -> Group:
    try:
        group_pk = int(group_pk)
    except (TypeError, ValueError):
        raise Http404 from None
    group = Group.objects.live().select_related("organisation").filter(pk=group_pk).first()
    if group is None or not can_manage(person, group):
        raise Http404
    return group


# Discussion ----------------------------------------------------------------------------------------------------


def can_read_space(person, organisation, group: Group | None) -> bool:
    """A group's threads: its inside. The community space: anyone holding a role in the organisation."""
    if group is not None:
        return can_see_inside(person, group)
    return holds(person, organisation, *Role)


def can_moderate(person, organisation, group: Group | None) -> bool:
    if is_moderator(person, organisation):
        return True
    if group is not None:
        return is_facilitator(person, group)
    return holds(person, organisation, Role.FACILITATOR)


def visible_threads(person) -> QuerySet[Thread]:
    """Threads the person may read: of groups they are inside and of their organisations' community spaces."""
    if not _signed_in(person):
        return Thread.objects.none()
    return Thread.objects.filter(
        Q(group__in=groups_inside(person)) | Q(group__isnull=True, organisation__in=organisations_of(person))
    )


def thread_or_404(person, thread_pk) -> Thread:
    try:
        thread_pk = int(thread_pk)
    except (TypeError, ValueError):
        raise Http404 from None
    thread = visible_threads(person).select_related("group", "organisation").filter(pk=thread_pk).first()
    if thread is None:
        raise Http404
    return thread


def moderates_anything(person) -> bool:
    """Community moderators, staff holding the facilitator role and facilitators of a group have a queue."""
    if not _signed_in(person):
        return False
    if OrgRole.objects.filter(user=person, role__in=[Role.MODERATOR, Role.FACILITATOR]).exists():
        return True
    return Membership.objects.filter(
        person=person, role=MembershipRole.FACILITATOR, status=MembershipStatus.ACTIVE
    ).exists()


def moderated_spaces(person) -> Q:
    """A filter on threads (prefix `thread__` for posts) for the spaces the person moderates."""
    if not _signed_in(person):
        return Q(pk__in=[])
    moderator_of = OrgRole.objects.filter(user=person, role=Role.MODERATOR).values("organisation")
    facilitator_in = OrgRole.objects.filter(user=person, role=Role.FACILITATOR).values("organisation")
    facilitated = Membership.objects.filter(
        person=person, role=MembershipRole.FACILITATOR, status=MembershipStatus.ACTIVE
    ).values("group")
    return (
        Q(organisation__in=moderator_of)
        | Q(group__isnull=True, organisation__in=facilitator_in)
        | Q(group__in=facilitated)
    )
