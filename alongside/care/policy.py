"""The one authorization policy for member data.

Every view, API operation, export and template helper asks here, and lists of member data are filtered here
(never fetched first and checked afterwards):

- A member may see and change all of their own data.
- A supporter (clinician, case manager, peer mentor, facilitator) with an active care relationship sees a
  category of a member's data only while the member shares that category with that relationship. Clinicians
  and case managers may also change the shared plan and appointments.
- An org admin sees who the members of their organisation are and who supports them (PROFILE), nothing
  clinical, unless they also hold a care relationship.
- Nobody sees anything across organisations: relationships and admin rights are scoped to one organisation,
  and a supporter whose staff role in that organisation has been removed loses access at once.

Views answer 404, not 403, for a member the person may not see, so that existence does not leak.
"""

from __future__ import annotations

from enum import StrEnum

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from alongside.accounts.models import Organisation, OrgRole, Role, admin_organisations
from alongside.audit.log import record, record_many
from alongside.audit.models import AuditAction
from alongside.care.models import CareRelationship, Category, ConsentGrant

User = get_user_model()

CO_AUTHOR_ROLES = (Role.CLINICIAN, Role.CASE_MANAGER)
CO_AUTHORED_CATEGORIES = (Category.PLAN, Category.APPOINTMENTS)


class Action(StrEnum):
    VIEW = "view"
    CHANGE = "change"


def _signed_in(person) -> bool:
    return bool(person is not None and person.is_authenticated and person.is_active)


def _live() -> QuerySet[CareRelationship]:
    """Active relationships whose supporter still holds that role in that organisation."""
    still_holds_role = OrgRole.objects.filter(
        user=OuterRef("staff"), organisation=OuterRef("organisation"), role=OuterRef("role")
    )
    return CareRelationship.objects.active().filter(Exists(still_holds_role))


def live_relationships(person) -> QuerySet[CareRelationship]:
    """Active relationships in which `person` is the supporter and still holds that role in that organisation."""
    return _live().filter(staff=person)


def live_team(member) -> QuerySet[CareRelationship]:
    """The member's supporters, each in a relationship that is active and a role they still hold there."""
    return _live().filter(member=member)


def colleagues(person, member=None) -> QuerySet:
    """The people holding a staff role in an organisation where the person supports someone (the member, if
    given): whose outreach with a member the person sees. Staff roles only: an organisation's members are many."""
    relationships = live_relationships(person)
    if member is not None:
        relationships = relationships.filter(member=member)
    return (
        OrgRole.objects.filter(organisation__in=relationships.values("organisation"))
        .exclude(role=Role.MEMBER)
        .values("user")
    )


def is_org_admin(person, organisation: Organisation) -> bool:
    return admin_organisations(person).filter(pk=organisation.pk).exists()


def members_of(organisation: Organisation) -> QuerySet:
    return User.objects.filter(org_roles__organisation=organisation, org_roles__role=Role.MEMBER, is_active=True)


def _relationships_granting(person, action: Action, category: Category) -> QuerySet[CareRelationship]:
    relationships = live_relationships(person)
    if category == Category.PROFILE:
        return relationships
    relationships = relationships.filter(consent_grants__category=category)
    if action == Action.CHANGE:
        if category not in CO_AUTHORED_CATEGORIES:
            return relationships.none()
        relationships = relationships.filter(role__in=CO_AUTHOR_ROLES)
    return relationships


def members_visible_to(person, category: Category | str = Category.PROFILE, action: Action = Action.VIEW) -> QuerySet:
    """Members (other than the person) whose `category` data the person may see (or change)."""
    if not _signed_in(person):
        return User.objects.none()
    category, action = Category(category), Action(action)
    condition = Q(supported_by__in=_relationships_granting(person, action, category))
    if category == Category.PROFILE and action == Action.VIEW:
        condition |= Q(
            org_roles__role=Role.MEMBER, org_roles__organisation__in=admin_organisations(person).values("pk")
        )
    return User.objects.filter(condition, is_active=True).exclude(pk=person.pk).distinct()


def can(person, action: Action | str, member, category: Category | str) -> bool:
    if not _signed_in(person) or member is None:
        return False
    if person.pk == member.pk:
        return True
    return members_visible_to(person, category, action).filter(pk=member.pk).exists()


def categories_shared_with(person, member) -> set[str]:
    """The categories the member shares with the person, across all of the person's live relationships."""
    grants = ConsentGrant.objects.filter(relationship__in=live_relationships(person).filter(member=member))
    return set(grants.values_list("category", flat=True))


def visible_rows(queryset: QuerySet, person, category: Category | str, member_field: str = "member") -> QuerySet:
    """Narrow a queryset of member-owned rows to those the person may see: their own and consented ones."""
    if not _signed_in(person):
        return queryset.none()
    visible = members_visible_to(person, category).values("pk")
    return queryset.filter(Q(**{member_field: person}) | Q(**{f"{member_field}__in": visible}))


def relation_to(person, member) -> tuple[str, Organisation | None]:
    """How the person relates to the member, and in which organisation, for the audit log."""
    relationships = list(live_relationships(person).filter(member=member).select_related("organisation"))
    if relationships:
        roles = ",".join(sorted({relationship.role for relationship in relationships}))
        return roles, relationships[0].organisation
    shared = admin_organisations(person).filter(roles__user=member, roles__role=Role.MEMBER).first()
    return (Role.ORG_ADMIN.value, shared) if shared else ("", None)


def visible_member_or_404(person, member_pk, category: Category | str = Category.PROFILE, action: Action = Action.VIEW):
    """The member (or the person themselves) if the person may see (or change) that category; 404 otherwise.
    Writes nothing: a page that reads several parts records them together (`record_reads`)."""
    try:
        member_pk = int(member_pk)
    except (TypeError, ValueError):
        raise Http404 from None
    if _signed_in(person) and person.pk == member_pk:
        return person
    member = members_visible_to(person, category, action).filter(pk=member_pk).first()
    if member is None:
        raise Http404
    return member


def record_reads(request, member, reads: list[tuple[str, str, Organisation | None]], action: Action = Action.VIEW):
    """Write a staff member's reads of parts of a member's data, (category, detail, organisation or None for the
    one they relate to the member in), to the audit log in one insert. A member's own reads are not logged."""
    person = request.user
    if not reads or person.pk == member.pk:
        return
    roles, related = relation_to(person, member)
    record_many(
        AuditAction.VIEW if action == Action.VIEW else AuditAction.CHANGE,
        request=request,
        entries=[
            {
                "member": member,
                "organisation": organisation or related,
                "category": str(category),
                "detail": detail,
                "actor_roles": roles,
            }
            for category, detail, organisation in reads
        ],
    )


def open_member_record(request, member_pk, category: Category | str, *, action: Action = Action.VIEW, detail: str = ""):
    """The member a view is about, if the signed-in person may see (or change) that category; 404 otherwise.

    A staff read or change is written to the audit log, so the member can see who looked.
    """
    member = visible_member_or_404(request.user, member_pk, category, action)
    record_reads(request, member, [(Category(category).value, detail, None)], action)
    return member


def member_to_change(person, member_pk, category: Category | str):
    """The member (not the person themselves) whose `category` data the person is about to change, or 404.

    Writes nothing to the audit log: the domain function that makes the change records exactly what changed."""
    try:
        member_pk = int(member_pk)
    except (TypeError, ValueError):
        raise Http404 from None
    member = members_visible_to(person, category, Action.CHANGE).filter(pk=member_pk).first()
    if member is None:
        raise Http404
    return member


# Clinical notes are the care team's own record about a member, not data the member shares: they are kept and read
# by the member's clinicians and case managers, within the organisation the note belongs to. Peer mentors and
# facilitators record outreach instead; org admins see no notes.
NOTE_ROLES = CO_AUTHOR_ROLES
NOTES = "clinical_notes"  # the audit log's name for them


def note_organisations(person, member) -> QuerySet[Organisation]:
    """The organisations in which the person keeps clinical notes on the member (a live relationship as their
    clinician or case manager there)."""
    if not _signed_in(person) or member is None or person.pk == member.pk:
        return Organisation.objects.none()
    held = live_relationships(person).filter(member=member, role__in=NOTE_ROLES)
    return Organisation.objects.filter(pk__in=held.values("organisation"))


def can_manage_care_team(person, organisation: Organisation) -> bool:
    return is_org_admin(person, organisation)


def record_staff_change(request, by, member, category: Category | str, detail: str, *, organisation=None) -> None:
    """Write a supporter's change to a member's data to the audit log, as `open_member_record` writes a change
    (the member's own changes are theirs, not a staff access, and are not logged here)."""
    if by.pk == member.pk:
        return
    roles, related = relation_to(by, member)
    record(
        AuditAction.CHANGE,
        request=request,
        actor=by,
        member=member,
        organisation=related or organisation,
        category=Category(category),
        detail=detail,
        actor_roles=roles,
    )
