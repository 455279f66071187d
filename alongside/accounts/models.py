"""People, organisations and the roles people hold in them.

Every piece of member data belongs to one organisation. A person signs in once and may hold several roles,
in one organisation or several (a member may be in more than one program).
"""

from __future__ import annotations

import zoneinfo

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from alongside.core import crisis


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(value)s is not a known time zone name, e.g. Europe/London."), params={"value": value}
        )


def validate_country(value: str) -> None:
    if value not in crisis.COUNTRIES:
        raise ValidationError(_("Alongside has no crisis-line defaults for %(value)s yet."), params={"value": value})


class Role(models.TextChoices):
    MEMBER = "member", _("Member")
    CLINICIAN = "clinician", _("Clinician")
    CASE_MANAGER = "case_manager", _("Case manager")
    PEER_MENTOR = "peer_mentor", _("Peer mentor")
    FACILITATOR = "facilitator", _("Group facilitator")
    MODERATOR = "moderator", _("Community moderator")
    ORG_ADMIN = "org_admin", _("Organisation admin")


STAFF_ROLES = frozenset(role for role in Role if role != Role.MEMBER)
# Roles that may invite members and add members to their own caseload.
CARE_COORDINATOR_ROLES = (Role.CLINICIAN, Role.CASE_MANAGER)


class Organisation(models.Model):
    """A clinic or recovery program. All member data is scoped to one organisation."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    country = models.CharField(_("country"), max_length=2, validators=[validate_country])
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC", validators=[validate_time_zone])
    emergency_number = models.CharField(_("emergency number"), max_length=32)
    emergency_note = models.CharField(_("emergency note"), max_length=200, blank=True)
    # [{"name", "phone", "text", "note"}], shown on the crisis page in this order.
    crisis_lines = models.JSONField(_("crisis lines"), default=list, blank=True)
    support_contact = models.CharField(
        _("support contact"),
        max_length=200,
        blank=True,
        help_text=_("Where members and staff ask for help with Alongside."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> User:
        # E-mail addresses are matched without regard to case: people type them as they please.
        return self.get(email__iexact=normalise_email(username or ""))

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        user = self.model(email=normalise_email(email), **fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.update(is_staff=True, is_superuser=True)
        fields.setdefault("display_name", email.split("@")[0])
        return self.create_user(email, password, **fields)


def normalise_email(email: str) -> str:
    return email.strip().lower()


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in: a member, a staff member, or both.

    `is_staff` keeps Django's meaning (may use the platform operators' admin site); care-team roles are
    OrgRole rows.
    """

    # Stored lower-cased (see save), so the unique index is also case-insensitive.
    email = models.EmailField(_("e-mail address"), max_length=254, unique=True)
    # Members may choose a pseudonym; it is what other people see.
    display_name = models.CharField(_("display name"), max_length=80)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC", validators=[validate_time_zone])
    # For supporters: shown to the members they support on the care network page.
    contact_details = models.CharField(
        _("how and when to reach me"),
        max_length=300,
        blank=True,
        help_text=_("For example: “Call or text 555 0101, weekdays 9 to 5; messages answered within a day.”"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("platform operator"), default=False)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)
    # Part of every session's signature: raising it ends all of this person's sessions at once.
    session_generation = models.PositiveIntegerField(default=0, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")

    def __str__(self) -> str:
        return self.display_name or self.email

    def clean(self) -> None:
        super().clean()
        self.email = normalise_email(self.email)

    def save(self, *args, **kwargs) -> None:
        self.email = normalise_email(self.email)
        super().save(*args, **kwargs)

    def _get_session_auth_hash(self, secret=None) -> str:
        # Django signs sessions with the password hash; adding the generation lets "sign out everywhere"
        # (and deactivation) end every session without touching the password.
        return salted_hmac(
            "alongside.accounts.User.session",
            f"{self.password}:{self.session_generation}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def roles_in(self, organisation: Organisation) -> set[str]:
        return {grant.role for grant in self.org_roles.all() if grant.organisation_id == organisation.pk}

    @cached_property
    def role_set(self) -> set[str]:
        """Every role this person holds, in any organisation (for navigation, not for authorization).

        Read once per object, so once per request for the signed-in person; granting or removing a role
        through accounts.actions forgets it."""
        return {grant.role for grant in self.org_roles.all()}

    def forget_roles(self) -> None:
        self.__dict__.pop("role_set", None)

    @property
    def is_care_staff(self) -> bool:
        return bool(self.role_set & STAFF_ROLES)

    @property
    def is_member(self) -> bool:
        return Role.MEMBER in self.role_set


class OrgRole(models.Model):
    """A person holds a role in an organisation."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="org_roles", verbose_name=_("person"))
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="roles", verbose_name=_("organisation")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    granted_at = models.DateTimeField(_("granted at"), default=timezone.now)

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        constraints = [models.UniqueConstraint(fields=["user", "organisation", "role"], name="org_role_unique")]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} — {self.organisation}"


def admin_organisations(person) -> models.QuerySet[Organisation]:
    """Organisations in which the person is an org admin."""
    if person is None or not person.is_authenticated or not person.is_active:
        return Organisation.objects.none()
    return Organisation.objects.filter(roles__user=person, roles__role=Role.ORG_ADMIN).distinct()


def admin_organisation_or_404(person, slug: str) -> Organisation:
    """The organisation with this slug if the person is one of its admins; 404 for everyone else, so that
    other organisations' admin pages do not even show that they exist."""
    from django.http import Http404

    organisation = admin_organisations(person).filter(slug=slug).first()
    if organisation is None:
        raise Http404
    return organisation


def can_invite(person, organisation: Organisation, role: Role | str) -> bool:
    """Org admins invite anyone; clinicians and case managers invite members."""
    if person is None or not person.is_authenticated or not person.is_active:
        return False
    held = person.roles_in(organisation)
    if Role.ORG_ADMIN in held:
        return True
    return Role(role) == Role.MEMBER and bool(held & set(CARE_COORDINATOR_ROLES))


class Invitation(models.Model):
    """A one-time, expiring link to join an organisation in a role. Only a hash of the link's token is kept."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("e-mail address"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    # Empty when a platform operator invited an organisation's first admin from the command line.
    invited_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("invited by")
    )
    # When a clinician or case manager invites a member, they start supporting the member in this role.
    support_as = models.CharField(max_length=20, choices=Role.choices, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} → {self.get_role_display()} at {self.organisation}"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class SettingsVersion(models.Model):
    """Every saved change to an organisation's or a program's settings: the whole document after the change,
    and what changed (before and after) for people to read."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="settings_versions")
    subject = models.CharField(max_length=60)  # "organisation:<id>" or "program:<id>"
    number = models.PositiveIntegerField()
    data = models.JSONField()
    changes = models.JSONField(default=list)  # [{"field", "before", "after"}]
    changed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["subject", "-number"]
        constraints = [models.UniqueConstraint(fields=["subject", "number"], name="settings_version_unique")]

    def __str__(self) -> str:
        return f"{self.subject} v{self.number}"


class ApiToken(models.Model):
    """A personal access token for the JSON API (phone apps, scripts). Only its SHA-256 is stored; the token
    itself is shown once, when it is made."""

    SCOPES = ("read", "write")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=80)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)  # shown in lists so people can tell their tokens apart
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
