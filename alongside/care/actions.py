"""The named writes for care teams and consent. Views, the API and the demo seed call these."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alongside.accounts.models import CARE_COORDINATOR_ROLES, Organisation, OrgRole, Role
from alongside.audit.log import record
from alongside.audit.models import AuditAction
from alongside.care import policy
from alongside.care.models import (
    DEFAULT_SHARING,
    SHAREABLE_CATEGORIES,
    SUPPORT_ROLES,
    CareRelationship,
    Category,
    ConsentGrant,
)


@transaction.atomic
def add_supporter(
    *, by, organisation: Organisation, member, staff, role: Role | str, request=None, started_at=None
) -> CareRelationship:
    """`staff` starts supporting `member` in `role`, sharing the role's default categories until the member
    changes them. Org admins may add anyone; clinicians and case managers may add themselves, and a peer mentor
    to a member they support there (peer-mentor matching)."""
    role = Role(role)
    adding_self = by.pk == staff.pk and role in CARE_COORDINATOR_ROLES
    adding_mentor = (
        role == Role.PEER_MENTOR
        and policy.live_relationships(by)
        .filter(member=member, organisation=organisation, role__in=CARE_COORDINATOR_ROLES)
        .exists()
    )
    if not (
        policy.can_manage_care_team(by, organisation)
        or (adding_self and role in by.roles_in(organisation))
        or adding_mentor
    ):
        raise PermissionDenied
    if role not in SUPPORT_ROLES:
        raise ValidationError({"role": _("Choose a supporting role.")})
    if Role.MEMBER not in member.roles_in(organisation):
        raise ValidationError({"member": _("This person is not a member of the organisation.")})
    if role not in staff.roles_in(organisation):
        raise ValidationError({"staff": _("This person does not hold that role in the organisation.")})
    existing = policy.live_relationships(staff).filter(member=member, role=role, organisation=organisation).first()
    if existing:
        return existing
    categories, safety_alerts = DEFAULT_SHARING[role]
    relationship = CareRelationship.objects.create(
        organisation=organisation,
        member=member,
        staff=staff,
        role=role,
        started_at=started_at or timezone.now(),
        safety_alerts=safety_alerts,
    )
    ConsentGrant.objects.bulk_create(ConsentGrant(relationship=relationship, category=c) for c in sorted(categories))
    record(
        AuditAction.CARE_TEAM_CHANGE,
        actor=by,
        request=request,
        member=member,
        organisation=organisation,
        detail=f"added {staff.display_name} as {role.label}",
    )
    return relationship


@transaction.atomic
def end_relationship(*, by, relationship: CareRelationship, request=None) -> CareRelationship:
    """End a relationship now: the supporter loses access at once. The member, an org admin or the supporter
    may end it."""
    allowed = by.pk in (relationship.member_id, relationship.staff_id) or policy.can_manage_care_team(
        by, relationship.organisation
    )
    if not allowed:
        raise PermissionDenied
    if relationship.ended_at is None or relationship.ended_at > timezone.now():
        relationship.ended_at = timezone.now()
        relationship.save(update_fields=["ended_at"])
        record(
            AuditAction.CARE_TEAM_CHANGE,
            actor=by,
            request=request,
            member=relationship.member,
            organisation=relationship.organisation,
            detail=f"ended {relationship.staff.display_name} as {relationship.get_role_display()}",
        )
    return relationship


@transaction.atomic
def set_sharing(
    *, member, relationship: CareRelationship, categories: Iterable[str], safety_alerts: bool, request=None
) -> CareRelationship:
    """The member decides what this supporter sees. Takes effect at once: the policy reads these rows."""
    if member.pk != relationship.member_id:
        raise PermissionDenied
    if not relationship.is_active():
        raise ValidationError(_("This supporter no longer supports you, so there is nothing to share."))
    wanted = {Category(category) for category in categories}
    if not wanted <= set(SHAREABLE_CATEGORIES):
        raise ValidationError({"categories": _("Choose from the listed kinds of information.")})
    # Lock the relationship so that two saves at once cannot interleave their grant changes.
    relationship = CareRelationship.objects.select_for_update().get(pk=relationship.pk)
    before = relationship.shared_categories
    ConsentGrant.objects.filter(relationship=relationship).exclude(category__in=wanted).delete()
    ConsentGrant.objects.bulk_create(
        [ConsentGrant(relationship=relationship, category=c) for c in sorted(wanted - before)]
    )
    changes = [f"+{c}" for c in sorted(wanted - before)] + [f"-{c}" for c in sorted(before - wanted)]
    if relationship.safety_alerts != safety_alerts:
        relationship.safety_alerts = safety_alerts
        relationship.save(update_fields=["safety_alerts"])
        changes.append("safety alerts " + ("on" if safety_alerts else "off"))
    if changes:
        record(
            AuditAction.CONSENT_CHANGE,
            actor=member,
            request=request,
            member=member,
            organisation=relationship.organisation,
            detail=f"{relationship.staff.display_name} ({relationship.role}): {' '.join(changes)}",
        )
    return relationship


def caseload(staff, organisation: Organisation):
    return policy.live_relationships(staff).filter(organisation=organisation)


@transaction.atomic
def reassign_caseload(*, by, organisation: Organisation, from_staff, to_staff, request=None) -> int:
    """Hand every member `from_staff` supports in this organisation to `to_staff`, in the same roles.

    The new relationship starts with what the member chose to share with the previous supporter in that role
    (never more), and the old one ends now. Returns how many relationships moved.
    """
    if not policy.can_manage_care_team(by, organisation):
        raise PermissionDenied
    moving = list(caseload(from_staff, organisation).select_related("member").prefetch_related("consent_grants"))
    if not moving:
        return 0
    if to_staff is None or to_staff.pk == from_staff.pk:
        raise ValidationError({"successor": _("Choose who takes over their members.")})
    missing = sorted({r.get_role_display() for r in moving if r.role not in to_staff.roles_in(organisation)})
    if missing:
        raise ValidationError(
            {
                "successor": _("%(name)s would need these roles first: %(roles)s")
                % {"name": to_staff.display_name, "roles": ", ".join(str(role) for role in missing)}
            }
        )
    for relationship in moving:
        successor = (
            policy.live_relationships(to_staff).filter(member=relationship.member, role=relationship.role).first()
        )
        if successor is None:
            successor = CareRelationship.objects.create(
                organisation=organisation,
                member=relationship.member,
                staff=to_staff,
                role=relationship.role,
                safety_alerts=relationship.safety_alerts,
            )
            ConsentGrant.objects.bulk_create(
                ConsentGrant(relationship=successor, category=category) for category in relationship.shared_categories
            )
        relationship.ended_at = timezone.now()
        relationship.save(update_fields=["ended_at"])
        record(
            AuditAction.CARE_TEAM_CHANGE,
            actor=by,
            request=request,
            member=relationship.member,
            organisation=organisation,
            detail=f"{relationship.get_role_display()}: {from_staff.display_name} → {to_staff.display_name}",
        )
    return len(moving)


@transaction.atomic
def set_staff_roles(*, by, organisation: Organisation, person, roles: Iterable[str], request=None) -> set[str]:
    """Give a person exactly these staff roles in the organisation. A role they support members in can only
    be removed after their caseload in that role has moved to someone else."""
    if not policy.can_manage_care_team(by, organisation):
        raise PermissionDenied
    wanted = {Role(role) for role in roles}
    if Role.MEMBER in wanted:
        raise ValidationError({"roles": _("Members join through an invitation, not as staff.")})
    held = person.roles_in(organisation) - {Role.MEMBER}
    dropping = held - wanted
    busy = sorted({r.get_role_display() for r in caseload(person, organisation) if r.role in dropping})
    if busy:
        raise ValidationError(
            {
                "roles": _("Move their members to someone else before removing: %(roles)s")
                % {"roles": ", ".join(str(role) for role in busy)}
            }
        )
    if (
        Role.ORG_ADMIN in dropping
        and not OrgRole.objects.filter(organisation=organisation, role=Role.ORG_ADMIN, user__is_active=True)
        .exclude(user=person)
        .exists()
    ):
        raise ValidationError({"roles": _("An organisation needs at least one admin.")})
    OrgRole.objects.filter(user=person, organisation=organisation, role__in=dropping).delete()
    for role in wanted - held:
        OrgRole.objects.create(user=person, organisation=organisation, role=role)
    person.forget_roles()
    if dropping or wanted - held:
        changes = [f"+{role}" for role in sorted(wanted - held)] + [f"-{role}" for role in sorted(dropping)]
        record(
            AuditAction.STAFF_CHANGE,
            actor=by,
            request=request,
            organisation=organisation,
            detail=f"{person.email}: {' '.join(changes)}",
        )
    return {str(role) for role in wanted}


@transaction.atomic
def deactivate_staff(*, by, organisation: Organisation, person, successor=None, request=None) -> None:
    """Take away a person's staff access in this organisation at once: their members go to `successor`, their
    staff roles end, every session of theirs ends, and an account left with no role anywhere is closed."""
    if not policy.can_manage_care_team(by, organisation):
        raise PermissionDenied
    reassign_caseload(by=by, organisation=organisation, from_staff=person, to_staff=successor, request=request)
    set_staff_roles(by=by, organisation=organisation, person=person, roles=[], request=request)
    from alongside.accounts.actions import end_all_sessions

    end_all_sessions(person)
    if not OrgRole.objects.filter(user=person).exists() and not person.is_staff:
        type(person).objects.filter(pk=person.pk).update(is_active=False)
    record(
        AuditAction.STAFF_CHANGE,
        actor=by,
        request=request,
        organisation=organisation,
        detail=f"deactivated {person.email}",
    )
