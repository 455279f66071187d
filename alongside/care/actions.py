"""The named writes for care teams and consent. Views, the API and the demo seed call these."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alongside.accounts.models import CARE_COORDINATOR_ROLES, Organisation, Role
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
    changes them. Org admins may add anyone; clinicians and case managers may add themselves."""
    role = Role(role)
    adding_self = by.pk == staff.pk and role in CARE_COORDINATOR_ROLES
    if not (policy.can_manage_care_team(by, organisation) or (adding_self and role in by.roles_in(organisation))):
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
