"""The audit log: who did what to whose data, when, and from where. Rows are only ever added."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    VIEW = "view", _("viewed")
    CHANGE = "change", _("changed")
    CONSENT_CHANGE = "consent_change", _("changed sharing")
    CARE_TEAM_CHANGE = "care_team_change", _("changed the care team")
    SIGN_IN = "sign_in", _("signed in")
    SIGN_IN_FAILED = "sign_in_failed", _("failed to sign in")
    SIGN_OUT = "sign_out", _("signed out")
    SIGN_OUT_EVERYWHERE = "sign_out_everywhere", _("signed out everywhere")
    LOCKED_OUT = "locked_out", _("was locked out")
    PASSWORD_RESET = "password_reset", _("reset their password")
    TWO_FACTOR = "two_factor", _("changed two-factor sign-in")
    TOKEN = "token", _("changed an API token")
    INVITE = "invite", _("sent an invitation")
    INVITE_ACCEPTED = "invite_accepted", _("accepted an invitation")
    SETTINGS_CHANGE = "settings_change", _("changed settings")
    STAFF_CHANGE = "staff_change", _("changed a staff member's access")
    ENROLMENT_CHANGE = "enrolment_change", _("changed a program enrolment")
    EXPORT = "export", _("exported")
    DELETE = "delete", _("deleted")


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("the audit log is append-only")

    def delete(self):
        raise PermissionError("the audit log is append-only")


class AuditEvent(models.Model):
    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    # The actor and member are kept as labels too, so the record still reads after an account is erased.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("who"),
    )
    actor_label = models.CharField(_("who"), max_length=254, blank=True)
    actor_roles = models.CharField(_("in the role of"), max_length=120, blank=True)
    organisation = models.ForeignKey(
        "accounts.Organisation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("organisation"),
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("whose data"),
    )
    member_label = models.CharField(_("whose data"), max_length=254, blank=True)
    action = models.CharField(_("what"), max_length=32, choices=AuditAction.choices)
    category = models.CharField(_("which data"), max_length=32, blank=True)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(_("from"), null=True, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["member", "-at"], name="audit_member_at"),
            models.Index(fields=["organisation", "-at"], name="audit_org_at"),
            models.Index(fields=["actor", "-at"], name="audit_actor_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.member_label}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise PermissionError("the audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("the audit log is append-only")
