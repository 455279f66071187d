"""Groups and who is in them: the one place that creates and changes groups and memberships.

Every change is in the audit log (category "groups"; the person it concerns as the member). People hear of
decisions about them in their inbox (never what was discussed)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from alongside.accounts.models import Role
from alongside.audit.log import record
from alongside.audit.models import AuditAction
from alongside.care.models import Category
from alongside.groups import access
from alongside.groups.models import (
    Group,
    GroupAccess,
    GroupFormat,
    Membership,
    MembershipRole,
    MembershipStatus,
)
from alongside.notify.models import NotificationKind
from alongside.notify.outbox import notify

GROUP_FIELDS = ("name", "purpose", "topic", "access", "listed", "capacity", "format", "address", "video_url")
MAX_MUTE = timedelta(days=90)


def _audit(request, by, group: Group, detail: str, *, member=None) -> None:
    record(
        AuditAction.CHANGE,
        actor=by,
        request=request,
        member=member,
        organisation=group.organisation,
        category=Category.GROUPS,
        detail=detail,
    )


def _clean(group: Group) -> None:
    """Check a group's fields together; raises ValidationError naming each wrong field."""
    errors = {}
    group.name = (group.name or "").strip()
    group.purpose = (group.purpose or "").strip()
    group.topic = (group.topic or "").strip()
    group.address = (group.address or "").strip()
    group.video_url = (group.video_url or "").strip()
    if not group.name:
        errors["name"] = _("Give the group a name.")
    if not group.purpose:
        errors["purpose"] = _("Say what the group is for, so people know whether it suits them.")
    if group.access not in GroupAccess.values:
        errors["access"] = _("Choose open or closed.")
    if group.format not in GroupFormat.values:
        errors["format"] = _("Choose in person, online, or both.")
    elif group.meets_in_person and not group.address:
        errors["address"] = _("A group that meets in person needs an address.")
    elif group.meets_online and not group.video_url:
        errors["video_url"] = _("A group that meets online needs a video link.")
    if group.video_url and not group.video_url.lower().startswith("https://"):
        errors["video_url"] = _("Video links must start with https://.")
    if group.capacity is not None and group.capacity < 1:
        errors["capacity"] = _("Places must be at least 1, or left empty for no limit.")
    try:
        group.full_clean(exclude=["organisation", "created_by"])
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, messages[0])
    if errors:
        raise ValidationError(errors)


def create_group(*, by, organisation, request=None, **fields) -> Group:
    """A facilitator or org admin creates a group. A facilitator who creates one facilitates it."""
    if not access.can_create_group(by, organisation):
        raise PermissionDenied
    unknown = set(fields) - set(GROUP_FIELDS)
    if unknown:
        raise TypeError(f"unknown group fields: {sorted(unknown)}")
    group = Group(organisation=organisation, created_by=by, **fields)
    _clean(group)
    with transaction.atomic():
        group.save()
        if access.holds(by, organisation, Role.FACILITATOR):
            Membership.objects.create(
                group=group, person=by, role=MembershipRole.FACILITATOR, status=MembershipStatus.ACTIVE,
                joined_at=timezone.now(), decided_by=by,
            )  # fmt: skip
        _audit(request, by, group, f"created group {group.pk}")
    return group


def update_group(group: Group, *, by, request=None, **fields) -> Group:
    if not access.can_manage(by, group):
        raise PermissionDenied
    for name, value in fields.items():
        if name not in GROUP_FIELDS:
            raise TypeError(f"unknown group field: {name}")
        setattr(group, name, value)
    _clean(group)
    with transaction.atomic():
        group.save()
        _audit(request, by, group, f"changed group {group.pk}: {', '.join(sorted(fields))}")
    return group


def archive_group(group: Group, *, by, request=None) -> Group:
    if not access.can_manage(by, group):
        raise PermissionDenied
    with transaction.atomic():
        group.archived_at = timezone.now()
        group.save(update_fields=["archived_at"])
        _audit(request, by, group, f"archived group {group.pk}")
    return group


def members(group: Group):
    """Active memberships, facilitators first, with the people."""
    # "facilitator" sorts before "member", so ascending order puts facilitators first.
    return group.memberships.active().select_related("person").order_by("role", "person__display_name")


def places_left(group: Group) -> int | None:
    if group.capacity is None:
        return None
    taken = group.memberships.active().filter(role=MembershipRole.MEMBER).count()
    return max(group.capacity - taken, 0)


def _tell(person, group: Group, title: str, key: str, *, link: str = "") -> None:
    notify(
        person, kind=NotificationKind.GROUP_ACTIVITY, title=title, source_key=key, organisation=group.organisation,
        link=link or reverse("groups:group", args=[group.pk]),
    )  # fmt: skip


def _facilitators(group: Group):
    return [m.person for m in members(group).filter(role=MembershipRole.FACILITATOR)]


def join(person, group: Group, *, request=None) -> Membership:
    """Join an open group, or ask to join a closed one. Joining again after leaving works the same way; someone
    removed from a group cannot rejoin by themselves."""
    if not access.may_join(person, group):
        raise PermissionDenied
    with transaction.atomic():
        locked = Group.objects.select_for_update().get(pk=group.pk)
        membership = Membership.objects.filter(group=locked, person=person).first()
        if membership is not None and membership.status in (MembershipStatus.ACTIVE, MembershipStatus.REQUESTED):
            return membership
        if membership is not None and membership.status == MembershipStatus.REMOVED:
            raise ValidationError({"group": _("You were removed from this group. Talk to its facilitator.")})
        now = timezone.now()
        opens = locked.access == GroupAccess.OPEN
        if opens and places_left(locked) == 0:
            raise ValidationError({"group": _("This group is full.")})
        membership = membership or Membership(group=locked, person=person)
        membership.role = MembershipRole.MEMBER
        membership.status = MembershipStatus.ACTIVE if opens else MembershipStatus.REQUESTED
        membership.requested_at = now
        membership.joined_at = now if opens else None
        membership.ended_at = None
        membership.reason = ""
        membership.decided_by = None
        try:
            with transaction.atomic():
                membership.save()
        except IntegrityError:  # a second click at the same moment
            return Membership.objects.get(group=locked, person=person)
        _audit(request, person, locked, "joined" if opens else "asked to join", member=person)
        if not opens:
            for facilitator in _facilitators(locked):
                _tell(
                    facilitator, locked, _("Someone asked to join %(group)s") % {"group": locked.name},
                    f"group-request:{membership.pk}:{now.timestamp()}:{facilitator.pk}",
                    link=reverse("groups:requests", args=[locked.pk]),
                )  # fmt: skip
    return membership


def decide(membership: Membership, *, by, approve: bool, reason: str = "", request=None) -> Membership:
    """A facilitator or org admin approves or declines a request to join."""
    group = membership.group
    if not access.can_manage(by, group):
        raise PermissionDenied
    if membership.status != MembershipStatus.REQUESTED:
        raise ValidationError({"membership": _("This request was already decided.")})
    reason = (reason or "").strip()
    if len(reason) > 300:
        raise ValidationError({"reason": _("Keep the reason under 300 characters.")})
    with transaction.atomic():
        Group.objects.select_for_update().get(pk=group.pk)
        if approve and places_left(group) == 0:
            raise ValidationError({"membership": _("The group is full. Raise its places first.")})
        now = timezone.now()
        membership.status = MembershipStatus.ACTIVE if approve else MembershipStatus.DECLINED
        membership.joined_at = now if approve else None
        membership.decided_by = by
        membership.reason = "" if approve else reason
        membership.save()
        _audit(request, by, group, "approved request" if approve else "declined request", member=membership.person)
        title = (
            _("You are now a member of %(group)s") if approve else _("Your request to join %(group)s was declined")
        ) % {"group": group.name}
        _tell(
            membership.person,
            group,
            title,
            f"group-decision:{membership.pk}:{now.timestamp()}",
            link=reverse("groups:group", args=[group.pk]) if approve else reverse("groups:directory"),
        )
    return membership


def add_person(group: Group, person, *, by, role: str = MembershipRole.MEMBER, request=None) -> Membership:
    """A facilitator or org admin adds someone of the organisation directly: a member (any group, unlisted ones
    included) or a facilitator (a staff member holding the facilitator role there)."""
    if not access.can_manage(by, group):
        raise PermissionDenied
    if role not in MembershipRole.values:
        raise ValidationError({"role": _("Choose member or facilitator.")})
    role = MembershipRole(role)
    if role == MembershipRole.FACILITATOR:
        if not access.holds(person, group.organisation, Role.FACILITATOR):
            raise ValidationError({"person": _("Only staff with the group facilitator role can facilitate.")})
    elif not access.holds(person, group.organisation, Role.MEMBER):
        raise ValidationError({"person": _("Only members of this organisation can join its groups.")})
    with transaction.atomic():
        Group.objects.select_for_update().get(pk=group.pk)
        membership = Membership.objects.filter(group=group, person=person).first() or Membership(
            group=group, person=person
        )
        if membership.status == MembershipStatus.ACTIVE and membership.role == role:
            return membership  # already there: nothing changes, nobody is told again
        # Anyone who becomes a member here takes a place (a facilitator made a member, too).
        if role == MembershipRole.MEMBER and places_left(group) == 0:
            raise ValidationError({"person": _("The group is full. Raise its places first.")})
        now = timezone.now()
        membership.role = role
        if membership.status != MembershipStatus.ACTIVE:
            membership.joined_at = now
        membership.status = MembershipStatus.ACTIVE
        membership.decided_by = by
        membership.ended_at = None
        membership.reason = ""
        membership.save()
        _audit(request, by, group, f"added as {role}", member=person)
        _tell(
            person,
            group,
            _("You were added to %(group)s") % {"group": group.name},
            f"group-added:{membership.pk}:{now.timestamp()}",
        )
    return membership


def leave(person, group: Group, *, request=None) -> Membership:
    membership = access.membership_of(person, group)
    if membership is None or membership.status not in (MembershipStatus.ACTIVE, MembershipStatus.REQUESTED):
        raise ValidationError({"group": _("You are not in this group.")})
    with transaction.atomic():
        membership.status = MembershipStatus.LEFT
        membership.ended_at = timezone.now()
        membership.save(update_fields=["status", "ended_at"])
        _audit(request, person, group, "left", member=person)
    return membership


def _moderated_membership(membership: Membership, by) -> None:
    if not access.can_moderate(by, membership.group.organisation, membership.group):
        raise PermissionDenied
    if membership.person_id == by.pk:
        raise ValidationError({"membership": _("You cannot do this to yourself.")})
    if membership.status != MembershipStatus.ACTIVE:
        raise ValidationError({"membership": _("They are not an active member of this group.")})


def _required_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give a reason; the member will see it.")})
    if len(reason) > 300:
        raise ValidationError({"reason": _("Keep the reason under 300 characters.")})
    return reason


def mute(membership: Membership, *, by, days: int, reason: str, request=None) -> Membership:
    """A moderator stops a member posting in the group for a number of days (they can still read)."""
    _moderated_membership(membership, by)
    reason = _required_reason(reason)
    try:
        days = int(days)
    except (TypeError, ValueError):
        raise ValidationError({"days": _("Give a whole number of days.")}) from None
    if not 1 <= days <= MAX_MUTE.days:
        raise ValidationError({"days": _("Mute for 1 to %(n)s days.") % {"n": MAX_MUTE.days}})
    group = membership.group
    with transaction.atomic():
        membership.muted_until = timezone.now() + timedelta(days=days)
        membership.mute_reason = reason
        membership.save(update_fields=["muted_until", "mute_reason"])
        _audit(request, by, group, f"muted for {days} days: {reason}", member=membership.person)
        _tell(
            membership.person,
            group,
            _("A moderator paused your posting in %(group)s") % {"group": group.name},
            f"group-muted:{membership.pk}:{membership.muted_until.timestamp()}",
        )
    return membership


def unmute(membership: Membership, *, by, request=None) -> Membership:
    _moderated_membership(membership, by)
    with transaction.atomic():
        membership.muted_until = None
        membership.mute_reason = ""
        membership.save(update_fields=["muted_until", "mute_reason"])
        _audit(request, by, membership.group, "unmuted", member=membership.person)
    return membership


def remove(membership: Membership, *, by, reason: str, request=None) -> Membership:
    """A moderator removes a member from the group, with a reason they are shown."""
    _moderated_membership(membership, by)
    reason = _required_reason(reason)
    group = membership.group
    with transaction.atomic():
        membership.status = MembershipStatus.REMOVED
        membership.ended_at = timezone.now()
        membership.reason = reason
        membership.decided_by = by
        membership.save(update_fields=["status", "ended_at", "reason", "decided_by"])
        _audit(request, by, group, f"removed: {reason}", member=membership.person)
        _tell(
            membership.person,
            group,
            _("You were removed from %(group)s") % {"group": group.name},
            f"group-removed:{membership.pk}:{membership.ended_at.timestamp()}",
            link=reverse("groups:directory"),
        )
    return membership


def muted_message(membership: Membership | None, at: datetime | None = None) -> str:
    """What a muted member is told when they try to post; empty when they may post."""
    if membership is None or not membership.is_muted(at):
        return ""
    return _("A moderator has paused your posting in this group until %(until)s. Reason: %(reason)s") % {
        "until": timezone.localtime(membership.muted_until).strftime("%Y-%m-%d %H:%M"),
        "reason": membership.mute_reason,
    }
