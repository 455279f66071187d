"""Peer support groups: their members and facilitators, recurring meetings with RSVPs and attendance, a moderated
discussion space (each group's, and one for the whole organisation), and peer-mentor matching.

Instants are stored in UTC; a meeting series keeps its rule in its own time zone as local wall-clock date and
time, expanded by the schedule app's recurrence code, so a weekly 18:00 meeting stays at 18:00 across
daylight-saving changes.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alongside.accounts.models import validate_time_zone
from alongside.core.crypto import EncryptedTextField


class GroupAccess(models.TextChoices):
    OPEN = "open", _("Open: anyone in the organisation may join")
    CLOSED = "closed", _("Closed: people ask to join and a facilitator approves")


class GroupFormat(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    ONLINE = "online", _("Online")
    HYBRID = "hybrid", _("In person and online")


class GroupQuerySet(models.QuerySet):
    def live(self):
        return self.filter(archived_at__isnull=True)


class Group(models.Model):
    """A peer support group of one organisation."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="peer_groups", verbose_name=_("organisation")
    )
    name = models.CharField(_("name"), max_length=120)
    purpose = models.TextField(_("purpose"), max_length=2000)
    topic = models.CharField(_("topic"), max_length=80, blank=True)
    access = models.CharField(_("joining"), max_length=10, choices=GroupAccess.choices, default=GroupAccess.OPEN)
    # Listed groups appear (name, purpose, topic, format, places left) in the organisation's directory; an
    # unlisted group is known only to its members and facilitators, who add people themselves.
    listed = models.BooleanField(_("listed in the group directory"), default=True)
    # Most active members at once (facilitators not counted); empty for no limit.
    capacity = models.PositiveIntegerField(_("places"), null=True, blank=True)
    format = models.CharField(_("where it meets"), max_length=10, choices=GroupFormat.choices)
    # Shown only to the group's members and facilitators.
    address = models.CharField(_("address"), max_length=300, blank=True)
    video_url = models.URLField(_("video link"), max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = GroupQuerySet.as_manager()

    class Meta:
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def meets_in_person(self) -> bool:
        return self.format in (GroupFormat.IN_PERSON, GroupFormat.HYBRID)

    @property
    def meets_online(self) -> bool:
        return self.format in (GroupFormat.ONLINE, GroupFormat.HYBRID)


class MembershipRole(models.TextChoices):
    MEMBER = "member", _("Member")
    FACILITATOR = "facilitator", _("Facilitator")


class MembershipStatus(models.TextChoices):
    REQUESTED = "requested", _("Asked to join")
    ACTIVE = "active", _("Member")
    DECLINED = "declined", _("Request declined")
    LEFT = "left", _("Left")
    REMOVED = "removed", _("Removed")


class MembershipQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=MembershipStatus.ACTIVE)


class Membership(models.Model):
    """A person's place in a group: one row per person and group, whose status follows them in and out."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_memberships")
    role = models.CharField(_("role"), max_length=12, choices=MembershipRole.choices, default=MembershipRole.MEMBER)
    status = models.CharField(_("status"), max_length=12, choices=MembershipStatus.choices)
    requested_at = models.DateTimeField(null=True, blank=True)
    joined_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Why a request was declined or a member removed (shown to them).
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    # A muted member reads but cannot post until then.
    muted_until = models.DateTimeField(null=True, blank=True)
    mute_reason = models.CharField(_("reason"), max_length=300, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("group membership")
        verbose_name_plural = _("group memberships")
        ordering = ["group", "role", "pk"]
        constraints = [models.UniqueConstraint(fields=["group", "person"], name="membership_once_per_group")]
        indexes = [models.Index(fields=["person", "status"], name="membership_person_status")]

    def __str__(self) -> str:
        return f"{self.person} in {self.group} ({self.status})"

    @property
    def is_facilitator(self) -> bool:
        return self.role == MembershipRole.FACILITATOR

    def is_muted(self, at=None) -> bool:
        return self.muted_until is not None and self.muted_until > (at or timezone.now())


class CommunityProfile(models.Model):
    """How a person appears in their organisation's discussions (a pseudonym of their choosing), and when they
    accepted the community guidelines, which they must before their first post."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="community_profiles")
    pseudonym = models.CharField(_("display name in discussions"), max_length=40)
    guidelines_version = models.PositiveSmallIntegerField(null=True, blank=True)
    guidelines_accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "person"], name="community_profile_once"),
            models.UniqueConstraint("organisation", Lower("pseudonym"), name="community_pseudonym_unique"),
        ]

    def __str__(self) -> str:
        return self.pseudonym


class MeetingSeries(models.Model):
    """A group's meeting, once or recurring by an RFC 5545 rule on a local wall-clock start in a named zone."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="meeting_series")
    title = models.CharField(_("title"), max_length=120)
    time_zone = models.CharField(_("time zone"), max_length=64, validators=[validate_time_zone])
    start_date = models.DateField(_("first date"))
    start_time = models.TimeField(_("start time"))
    duration_minutes = models.PositiveIntegerField(_("length in minutes"))
    rrule = models.CharField(_("repeats"), max_length=300, blank=True)
    # Raised on every change, for calendar clients (RFC 5545 SEQUENCE).
    sequence = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # Meetings are stored up to here; the worker extends open-ended series.
    generated_until = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("meeting series")
        verbose_name_plural = _("meeting series")
        ordering = ["start_date", "start_time", "pk"]

    def __str__(self) -> str:
        return f"{self.title} ({self.group})"


class MeetingStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    CANCELLED = "cancelled", _("Cancelled")


class Meeting(models.Model):
    """One date of a meeting series. `original_start` is where the rule put it and never changes."""

    series = models.ForeignKey(MeetingSeries, on_delete=models.CASCADE, related_name="meetings")
    original_start = models.DateTimeField()
    start = models.DateTimeField(_("starts"), db_index=True)
    end = models.DateTimeField(_("ends"))
    status = models.CharField(
        _("status"), max_length=12, choices=MeetingStatus.choices, default=MeetingStatus.SCHEDULED
    )
    cancel_reason = models.CharField(_("reason"), max_length=300, blank=True)
    sequence = models.PositiveIntegerField(default=0)
    # The facilitators' own notes of the meeting: never shown to members; encrypted at rest.
    notes = EncryptedTextField(blank=True)
    notes_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    notes_at = models.DateTimeField(null=True, blank=True)
    attendance_taken_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["start", "pk"]
        constraints = [models.UniqueConstraint(fields=["series", "original_start"], name="meeting_once_per_instant")]

    def __str__(self) -> str:
        return f"{self.series} at {self.start:%Y-%m-%d %H:%M} UTC"

    @property
    def is_over(self) -> bool:
        return self.end <= timezone.now()


class RsvpAnswer(models.TextChoices):
    GOING = "going", _("Going")
    MAYBE = "maybe", _("Maybe")
    NOT_GOING = "not_going", _("Can't make it")


class Rsvp(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="rsvps")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_rsvps")
    answer = models.CharField(_("answer"), max_length=12, choices=RsvpAnswer.choices)
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "person"], name="rsvp_once_per_meeting")]

    def __str__(self) -> str:
        return f"{self.person}: {self.answer} for {self.meeting}"


class Attendance(models.Model):
    """Whether a member came to a meeting, as the facilitator recorded it. Missed meetings feed the
    early-warning engine's disengagement rule."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_attendance")
    attended = models.BooleanField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "person"], name="attendance_once_per_meeting")]
        indexes = [models.Index(fields=["person", "attended"], name="attendance_person")]

    def __str__(self) -> str:
        return f"{self.person} {'came to' if self.attended else 'missed'} {self.meeting}"


class Thread(models.Model):
    """A discussion in a group, or (no group) in the organisation's community space."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.CASCADE, related_name="threads")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_threads")
    title = models.CharField(_("title"), max_length=140)
    created_at = models.DateTimeField(default=timezone.now)
    last_post_at = models.DateTimeField(default=timezone.now, db_index=True)
    locked_at = models.DateTimeField(null=True, blank=True)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lock_reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("thread")
        verbose_name_plural = _("threads")
        ordering = ["-last_post_at", "-pk"]
        indexes = [models.Index(fields=["organisation", "group", "-last_post_at"], name="thread_space_recent")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None


class Post(models.Model):
    """A thread's opening post or a reply. `body_html` is the author's text after sanitising (safe to show)."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="posts")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_posts")
    body_html = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    hidden_reason = models.CharField(_("reason"), max_length=300, blank=True)
    # Words of crisis were found in it (the author was shown the crisis screen; moderators were told).
    crisis = models.BooleanField(default=False)
    # The key a client sent (a retry sends it again): one post per author and key.
    client_key = models.CharField(max_length=80, blank=True)

    class Meta:
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "client_key"], condition=~Q(client_key=""), name="post_client_key"
            )
        ]
        indexes = [models.Index(fields=["author", "created_at"], name="post_author_recent")]

    def __str__(self) -> str:
        return f"post {self.pk} in {self.thread}"

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None


class ReactionKind(models.TextChoices):
    ME_TOO = "me_too", _("Me too")
    THANK_YOU = "thank_you", _("Thank you")
    SENDING_STRENGTH = "strength", _("Sending strength")


class Reaction(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reactions")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=ReactionKind.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "person", "kind"], name="reaction_once")]

    def __str__(self) -> str:
        return f"{self.kind} on {self.post_id}"


class ReportReason(models.TextChoices):
    HARMFUL = "harmful", _("Harmful or triggering content")
    HARASSMENT = "harassment", _("Harassment or disrespect")
    PRIVACY = "privacy", _("Shares someone's private information")
    SPAM = "spam", _("Spam or advertising")
    WORRIED = "worried", _("I'm worried about the person who wrote it")
    CRISIS_LANGUAGE = "crisis_language", _("Words of crisis (found by Alongside)")
    OTHER = "other", _("Something else")


class ReportStatus(models.TextChoices):
    OPEN = "open", _("Waiting for a moderator")
    HIDDEN = "hidden", _("Post hidden")
    KEPT = "kept", _("Post kept")


class Report(models.Model):
    """An item in the moderators' queue: a member reported a post, or Alongside found crisis language in one
    (no reporter; urgent)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=20, choices=ReportReason.choices)
    note = models.CharField(_("anything moderators should know"), max_length=500, blank=True)
    urgent = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=ReportStatus.choices, default=ReportStatus.OPEN)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-urgent", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "reporter"], condition=Q(reporter__isnull=False), name="report_once_per_reporter"
            )
        ]
        indexes = [models.Index(fields=["status", "-urgent", "created_at"], name="report_queue")]

    def __str__(self) -> str:
        return f"report {self.pk} on post {self.post_id} ({self.status})"


# Peer-mentor matching ------------------------------------------------------------------------------------------


class LivedExperience(models.TextChoices):
    ALCOHOL = "alcohol", _("Alcohol")
    OPIOIDS = "opioids", _("Opioids")
    STIMULANTS = "stimulants", _("Stimulants")
    OTHER_SUBSTANCES = "other_substances", _("Other substances")
    GAMBLING = "gambling", _("Gambling")
    DEPRESSION = "depression", _("Depression")
    ANXIETY = "anxiety", _("Anxiety")
    BIPOLAR = "bipolar", _("Bipolar disorder")
    PSYCHOSIS = "psychosis", _("Psychosis")
    EATING = "eating", _("Eating disorders")
    TRAUMA = "trauma", _("Trauma")
    SELF_HARM = "self_harm", _("Self-harm")
    GRIEF = "grief", _("Grief and loss")
    LGBTQ = "lgbtq", _("LGBTQ+ experience")
    PARENTING = "parenting", _("Parenting in recovery")
    VETERANS = "veterans", _("Military service")


class Availability(models.TextChoices):
    WEEKDAY_MORNINGS = "weekday_mornings", _("Weekday mornings")
    WEEKDAY_AFTERNOONS = "weekday_afternoons", _("Weekday afternoons")
    WEEKDAY_EVENINGS = "weekday_evenings", _("Weekday evenings")
    WEEKENDS = "weekends", _("Weekends")


class Gender(models.TextChoices):
    WOMAN = "woman", _("Woman")
    MAN = "man", _("Man")
    NON_BINARY = "non_binary", _("Non-binary")


class MentorProfile(models.Model):
    """What a peer mentor offers: languages, the lived experience they share, when they are available, and how
    many people they can mentor at once."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentor_profiles")
    languages = models.JSONField(_("languages"), default=list, blank=True)
    lived_experience = models.JSONField(_("lived experience"), default=list, blank=True)
    availability = models.JSONField(_("availability"), default=list, blank=True)
    gender = models.CharField(_("gender"), max_length=12, choices=Gender.choices, blank=True)
    capacity = models.PositiveSmallIntegerField(_("people I can mentor at once"), default=5)
    accepting = models.BooleanField(_("taking on new people"), default=True)
    about = models.CharField(_("about me"), max_length=500, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "person"], name="mentor_profile_once")]

    def __str__(self) -> str:
        return f"mentor profile of {self.person}"


class MentorRequestStatus(models.TextChoices):
    OPEN = "open", _("Waiting for a match")
    MATCHED = "matched", _("Matched")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class MentorRequest(models.Model):
    """A member asks for a peer mentor, with their preferences. Staff approve a match, which creates the care
    relationship (with the peer mentor's default sharing)."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentor_requests")
    languages = models.JSONField(_("languages"), default=list, blank=True)
    lived_experience = models.JSONField(_("lived experience"), default=list, blank=True)
    availability = models.JSONField(_("availability"), default=list, blank=True)
    # Empty: no preference.
    gender_preference = models.CharField(
        _("I would prefer a mentor who is"), max_length=12, choices=Gender.choices, blank=True
    )
    note = models.CharField(_("anything else"), max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=MentorRequestStatus.choices, default=MentorRequestStatus.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    matched_mentor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    matched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    matched_at = models.DateTimeField(null=True, blank=True)
    relationship = models.ForeignKey(
        "care.CareRelationship", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "member"], condition=Q(status="open"), name="mentor_request_one_open"
            )
        ]

    def __str__(self) -> str:
        return f"mentor request of {self.member} ({self.status})"
