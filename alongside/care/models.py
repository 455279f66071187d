"""Care relationships (which staff member supports which member, in which role, when) and the member's
consent: per relationship, which categories of their data that supporter may see."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alongside.accounts.models import Role
from alongside.core.crypto import EncryptedTextField


class Category(models.TextChoices):
    """Kinds of member data. Members share each one per supporter; `PROFILE` comes with any relationship."""

    PROFILE = "profile", _("Name, programs and care team")
    ENGAGEMENT = "engagement", _("Whether I check in and attend")
    CHECKINS = "checkins", _("Check-in answers")
    QUESTIONNAIRES = "questionnaires", _("Questionnaire results")
    JOURNAL = "journal", _("Journal entries I choose to share")
    PLAN = "plan", _("Aftercare and safety plan")
    APPOINTMENTS = "appointments", _("Appointments")
    GOALS = "goals", _("Goals and milestones")
    GROUPS = "groups", _("Group activity")


SHAREABLE_CATEGORIES = tuple(category for category in Category if category != Category.PROFILE)

# A relationship can be held in these roles (org admins manage; they do not support members).
SUPPORT_ROLES = (Role.CLINICIAN, Role.CASE_MANAGER, Role.PEER_MENTOR, Role.FACILITATOR)

# What a new supporter sees until the member changes it. The journal is never shared by default, and a
# peer mentor sees whether the member is engaged and their goals, not their scores.
DEFAULT_SHARING: dict[str, tuple[frozenset[Category], bool]] = {
    Role.CLINICIAN: (
        frozenset({Category.ENGAGEMENT, Category.CHECKINS, Category.QUESTIONNAIRES, Category.PLAN,
                   Category.APPOINTMENTS, Category.GOALS}),
        True,
    ),
    Role.CASE_MANAGER: (
        frozenset({Category.ENGAGEMENT, Category.CHECKINS, Category.QUESTIONNAIRES, Category.PLAN,
                   Category.APPOINTMENTS, Category.GOALS, Category.GROUPS}),
        True,
    ),
    Role.PEER_MENTOR: (frozenset({Category.ENGAGEMENT, Category.GOALS}), False),
    Role.FACILITATOR: (frozenset({Category.ENGAGEMENT, Category.GROUPS}), False),
}  # fmt: skip


class CareRelationshipQuerySet(models.QuerySet):
    def active(self, at=None):
        at = at or timezone.now()
        return self.filter(Q(started_at__lte=at), Q(ended_at__isnull=True) | Q(ended_at__gt=at))

    def care_team_of(self, member):
        """The member's current supporters, with what each may see, ready to show."""
        return (
            self.active()
            .filter(member=member)
            .select_related("staff", "organisation")
            .prefetch_related(models.Prefetch("consent_grants", queryset=ConsentGrant.objects.order_by("category")))
            .order_by("organisation__name", "staff__display_name")
        )


class CareRelationship(models.Model):
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.CASCADE,
        related_name="care_relationships",
        verbose_name=_("organisation"),
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="supported_by", verbose_name=_("member")
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="supporting", verbose_name=_("supporter")
    )
    role = models.CharField(_("role"), max_length=20, choices=[(role.value, role.label) for role in SUPPORT_ROLES])
    started_at = models.DateTimeField(_("from"), default=timezone.now)
    ended_at = models.DateTimeField(_("until"), null=True, blank=True)
    # Whether safety alerts (e.g. "I'm struggling", PHQ-9 item 9) reach this supporter.
    safety_alerts = models.BooleanField(_("gets safety alerts"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CareRelationshipQuerySet.as_manager()

    class Meta:
        verbose_name = _("care relationship")
        verbose_name_plural = _("care relationships")
        ordering = ["started_at", "id"]
        indexes = [models.Index(fields=["staff", "member"], name="care_staff_member")]

    def __str__(self) -> str:
        return f"{self.staff} supports {self.member} as {self.get_role_display()}"

    def is_active(self, at=None) -> bool:
        at = at or timezone.now()
        return self.started_at <= at and (self.ended_at is None or self.ended_at > at)

    @property
    def shared_categories(self) -> set[str]:
        return {grant.category for grant in self.consent_grants.all()}


class ConsentGrant(models.Model):
    """The member lets the supporter of `relationship` see `category`. No row, no access."""

    relationship = models.ForeignKey(CareRelationship, on_delete=models.CASCADE, related_name="consent_grants")
    category = models.CharField(_("category"), max_length=32, choices=Category.choices)
    granted_at = models.DateTimeField(_("granted at"), default=timezone.now)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [models.UniqueConstraint(fields=["relationship", "category"], name="consent_unique")]

    def __str__(self) -> str:
        return f"{self.relationship}: {self.category}"


class SafetyKind(models.TextChoices):
    PHQ9_ITEM9 = "phq9_item9", _("PHQ-9 question 9 answered above “Not at all”")
    STRUGGLING = "struggling", _("Pressed “I'm struggling”")
    CRISIS_LANGUAGE = "crisis_language", _("Crisis language in something they wrote")
    CRISIS_LANGUAGE_POST = "crisis_language_post", _("Crisis language in a group post")


class SafetyEvent(models.Model):
    """Something that means a member may be at risk. Stored first, always; routing to people (alerts,
    escalation) reads these rows, so no event can be lost between being noticed and being routed."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="safety_events")
    kind = models.CharField(max_length=30, choices=SafetyKind.choices)
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    # What raised it, e.g. "questionnaire response 41"; never the member's words.
    source = models.CharField(max_length=120, blank=True)
    # Whether the member asked for their team to reach out (the "I'm struggling" button offers it).
    team_asked = models.BooleanField(default=False)
    # The key a device sent with the event (an offline retry sends it again): one event per key.
    client_key = models.CharField(max_length=80, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-occurred_at"]
        verbose_name = _("safety event")
        verbose_name_plural = _("safety events")
        constraints = [
            models.UniqueConstraint(
                fields=["member", "client_key"], condition=~Q(client_key=""), name="safety_event_client_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.kind} {self.occurred_at:%Y-%m-%d %H:%M}"


class AftercarePlan(models.Model):
    """A member's aftercare and safety plan. Its content lives in versions; the newest is the plan."""

    member = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="aftercare_plan", verbose_name=_("member")
    )
    review_due = models.DateField(_("review due"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("aftercare plan")
        verbose_name_plural = _("aftercare plans")

    def __str__(self) -> str:
        return f"plan of {self.member}"


class PlanVersion(models.Model):
    """One save of a plan, never changed afterwards. The content (sections, see care/plan.py) is encrypted at
    rest: it holds a person's crisis plan, their contacts and their reasons for living."""

    plan = models.ForeignKey(AftercarePlan, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    content_json = EncryptedTextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("saved by")
    )
    saved_at = models.DateTimeField(_("saved"), default=timezone.now)

    class Meta:
        verbose_name = _("plan version")
        verbose_name_plural = _("plan versions")
        ordering = ["plan", "-number"]
        constraints = [models.UniqueConstraint(fields=["plan", "number"], name="plan_version_number")]

    def __str__(self) -> str:
        return f"{self.plan} v{self.number}"


class SignOffRole(models.TextChoices):
    MEMBER = "member", _("Member")
    CARE_TEAM = "care_team", _("Care team")


class PlanSignOff(models.Model):
    """Someone marked a version as agreed."""

    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="signoffs")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    as_role = models.CharField(max_length=20, choices=SignOffRole.choices)
    signed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["signed_at"]
        constraints = [models.UniqueConstraint(fields=["version", "person"], name="plan_signoff_once")]

    def __str__(self) -> str:
        return f"{self.version} agreed by {self.person}"


class Resource(models.Model):
    """An item in an organisation's educational resources library: a link or a text of its own."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="resources", verbose_name=_("organisation")
    )
    title = models.CharField(_("title"), max_length=200)
    summary = models.CharField(_("summary"), max_length=500, blank=True)
    url = models.URLField(_("link"), max_length=500, blank=True)
    body = models.TextField(_("text"), blank=True)
    topics = models.CharField(_("topics"), max_length=300, blank=True, help_text=_("Separated by commas."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("resource")
        verbose_name_plural = _("resources")
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    @property
    def topic_list(self) -> list[str]:
        return [topic.strip() for topic in self.topics.split(",") if topic.strip()]


class ResourceAssignment(models.Model):
    """A supporter added a resource to a member's plan; the member may mark it read."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="assignments")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="resources")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    assigned_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-assigned_at"]
        constraints = [models.UniqueConstraint(fields=["resource", "member"], name="resource_assigned_once")]

    def __str__(self) -> str:
        return f"{self.resource} for {self.member}"


class OutreachTaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")


class OutreachTask(models.Model):
    """Someone on the care team is to reach out to a member, by a date (e.g. after missed check-ins)."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="outreach_tasks")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="outreach_tasks")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="owned_outreach_tasks", verbose_name=_("owner")
    )
    reason = models.CharField(_("reason"), max_length=300)
    due_at = models.DateTimeField(_("due"))
    status = models.CharField(max_length=10, choices=OutreachTaskStatus.choices, default=OutreachTaskStatus.OPEN)
    # What opened it (e.g. "ladder:12:2026-11-20T08:00"): the same source never opens two tasks.
    source_key = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["status", "due_at"]
        constraints = [
            models.UniqueConstraint(fields=["source_key"], condition=~Q(source_key=""), name="outreach_task_source")
        ]

    def __str__(self) -> str:
        return f"reach out to {self.member} ({self.owner}) by {self.due_at:%Y-%m-%d}"


class ContactMethod(models.TextChoices):
    CALL = "call", _("Phone call")
    TEXT = "text", _("Text message")
    EMAIL = "email", _("E-mail")
    VISIT = "visit", _("Visit")


class ContactOutcome(models.TextChoices):
    REACHED = "reached", _("Reached them")
    VOICEMAIL = "voicemail", _("Left a voicemail")
    NO_ANSWER = "no_answer", _("No answer")


class OutreachContact(models.Model):
    """A supporter tried to reach a member: how, what happened, and what comes next."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="outreach_contacts")
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    task = models.ForeignKey(OutreachTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts")
    method = models.CharField(_("how"), max_length=10, choices=ContactMethod.choices)
    outcome = models.CharField(_("outcome"), max_length=10, choices=ContactOutcome.choices)
    note = EncryptedTextField(_("note"), blank=True)
    next_step = models.CharField(_("next step"), max_length=300, blank=True)
    contacted_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        ordering = ["-contacted_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.staff} → {self.member}: {self.method}, {self.outcome}"


class NoteKind(models.TextChoices):
    SESSION = "session", _("Session note")
    PHONE = "phone", _("Phone contact")
    RISK_REVIEW = "risk_review", _("Risk review")


class ClinicalNote(models.Model):
    """A clinician's or case manager's note about a member, for the care team of one organisation. The text is
    encrypted at rest. Notes are never edited: a correction is a new note that names the one it corrects."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="clinical_notes")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="clinical_notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=NoteKind.choices)
    text = EncryptedTextField(_("note"))
    # When what the note describes happened (a session, a call); the note itself is written at `written_at`.
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    written_at = models.DateTimeField(default=timezone.now)
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections", verbose_name=_("corrects")
    )

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [models.Index(fields=["member", "organisation", "-occurred_at"], name="clinical_note_member")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.member} by {self.author} ({self.occurred_at:%Y-%m-%d})"
