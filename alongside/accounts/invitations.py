"""Invitations: an org admin invites staff, a clinician or case manager invites a member.

The link carries a random token; the database keeps only its SHA-256, so a leaked database cannot be used to
join. A link works once, until it expires or is withdrawn.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from alongside.accounts.models import (
    CARE_COORDINATOR_ROLES,
    Invitation,
    Organisation,
    Role,
    User,
    can_invite,
    normalise_email,
)
from alongside.accounts.signals import invitation_accepted
from alongside.audit.log import record
from alongside.audit.models import AuditAction

VALID_FOR = timedelta(days=7)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class InvitationLink:
    invitation: Invitation
    url: str


@transaction.atomic
def invite(
    *, by: User | None, organisation: Organisation, email: str, role: Role | str, request=None
) -> InvitationLink:
    """Invite someone into an organisation. `by=None` is the platform operator at the command line
    (`alongside createorg`), who may invite an organisation's first admin."""
    role = Role(role)
    if by is not None and not can_invite(by, organisation, role):
        raise PermissionDenied
    email = normalise_email(email)
    existing = User.objects.filter(email=email).first()
    if existing and role in existing.roles_in(organisation):
        raise ValidationError({"email": _("This person already has that role in %(org)s.") % {"org": organisation}})
    # A new invitation replaces any earlier pending one for the same address and role.
    Invitation.objects.filter(
        organisation=organisation, email=email, role=role, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    token = secrets.token_urlsafe(32)
    held = by.roles_in(organisation) if by else set()
    support_as = next((r for r in CARE_COORDINATOR_ROLES if r in held), "") if role == Role.MEMBER else ""
    invitation = Invitation.objects.create(
        organisation=organisation,
        email=email,
        role=role,
        invited_by=by,
        support_as=support_as,
        token_hash=_hash(token),
        expires_at=timezone.now() + VALID_FOR,
    )
    url = settings.SITE_URL + reverse("accounts:accept_invitation", args=[token])
    context = {"invitation": invitation, "url": url, "days": VALID_FOR.days}
    # The message names the organisation and the inviter, nothing about health.
    send_mail(
        subject=_("You are invited to %(org)s on Alongside") % {"org": organisation.name},
        message=render_to_string("accounts/email/invitation.txt", context),
        from_email=None,
        recipient_list=[email],
    )
    record(
        AuditAction.INVITE,
        actor=by,
        request=request,
        organisation=organisation,
        detail=f"invited {email} as {role.label}" + ("" if by else " (platform operator)"),
    )
    return InvitationLink(invitation, url)


class InvitationProblem(Exception):
    """Why a link cannot be used; the message is for the person holding it."""

    def __init__(self, message: str, *, status: int):
        super().__init__(message)
        self.status = status


def find(token: str) -> Invitation:
    invitation = Invitation.objects.select_related("organisation", "invited_by").filter(token_hash=_hash(token)).first()
    if invitation is None:
        raise InvitationProblem(
            _("This invitation link is not valid. Check that you copied the whole link."), status=404
        )
    if invitation.accepted_at:
        raise InvitationProblem(_("This invitation has already been used. Sign in instead."), status=410)
    inviter = invitation.invited_by or _("your organisation")
    if invitation.revoked_at:
        raise InvitationProblem(
            _("This invitation was withdrawn. Ask %(name)s for a new one.") % {"name": inviter}, status=410
        )
    if invitation.expires_at <= timezone.now():
        raise InvitationProblem(
            _("This invitation expired on %(date)s. Ask %(name)s to send a new one.")
            % {"date": timezone.localtime(invitation.expires_at).strftime("%d %B %Y"), "name": inviter},
            status=410,
        )
    return invitation


@transaction.atomic
def accept(token: str, *, user: User | None = None, display_name: str = "", password: str = "", request=None) -> User:
    """Use the link: as a new person (display name and password) or, signed in, as the invited person."""
    invitation = find(token)
    # Lock the row so that two clicks at once cannot both use it.
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at:
        raise InvitationProblem(_("This invitation has already been used. Sign in instead."), status=410)
    if user is None:
        if User.objects.filter(email=invitation.email).exists():
            raise InvitationProblem(_("An account with this e-mail address exists. Sign in to accept."), status=409)
        candidate = User(
            email=invitation.email, display_name=display_name.strip(), time_zone=invitation.organisation.time_zone
        )
        if not candidate.display_name:
            raise ValidationError({"display_name": _("Choose a name to show to others.")})
        password_validation.validate_password(password, candidate)
        user = User.objects.create_user(
            invitation.email, password, display_name=candidate.display_name, time_zone=candidate.time_zone
        )
    elif normalise_email(user.email) != invitation.email:
        raise InvitationProblem(
            _("This invitation is for %(email)s. Sign out, then open the link again.") % {"email": invitation.email},
            status=403,
        )
    from alongside.accounts.actions import grant_role

    grant_role(user, invitation.organisation, invitation.role)
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    record(
        AuditAction.INVITE_ACCEPTED,
        actor=user,
        request=request,
        organisation=invitation.organisation,
        detail=f"joined as {invitation.get_role_display()}",
    )
    invitation_accepted.send(sender=Invitation, invitation=invitation, user=user, request=request)
    return user


def withdraw(*, by: User, invitation: Invitation) -> None:
    if not (by.pk == invitation.invited_by_id or Role.ORG_ADMIN in by.roles_in(invitation.organisation)):
        raise PermissionDenied
    if invitation.is_pending:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
