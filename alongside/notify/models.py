"""The outbox: notifications, and one delivery row per channel that the worker claims, sends and records.

A notification says only that there is something to look at ("You have a new message in Alongside") and where;
never clinical detail. Each delivery has a key: the in-app inbox stores it with the message (so a second
attempt cannot add a second message), and an email carries a Message-ID made from it.
"""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alongside.core.crypto import EncryptedTextField


class NotificationKind(models.TextChoices):
    CHECKIN_REMINDER = "checkin_reminder", _("Check-in reminders")
    APPOINTMENT_REMINDER = "appointment_reminder", _("Appointment reminders")
    ROUTINE_REMINDER = "routine_reminder", _("Routine reminders")
    QUESTIONNAIRE = "questionnaire", _("Questionnaires coming due or about to close")
    NUDGE = "nudge", _("A nudge when I have not checked in for a while")
    CARE_TEAM = "care_team", _("Messages for the care team about the members I support")
    SAFETY_ALERT = "safety_alert", _("Safety alerts")
    GROUP_MEETING = "group_meeting", _("Group meeting reminders")
    GROUP_ACTIVITY = "group_activity", _("Replies, group requests and peer-mentor news")
    MODERATION = "moderation", _("Posts waiting for a moderator")
    GOALS = "goals", _("Goals: suggestions, encouragement, milestones and celebrations")


class Channel(models.TextChoices):
    INBOX = "inbox", _("In Alongside")
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("The organisation's message gateway")


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    # The organisation it is about, when the recipient works in several: only its gateways are used.
    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=30, choices=NotificationKind.choices)
    # Urgent notifications (safety alerts to on-call staff) ignore quiet hours.
    urgent = models.BooleanField(default=False)
    title = models.CharField(max_length=120)
    body = models.CharField(max_length=500, blank=True)
    link = models.CharField(max_length=300, blank=True)  # a path within Alongside
    # What made it (e.g. "reminder:42"): the same source never makes two notifications.
    source_key = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}: {self.title}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    DEAD = "dead", _("Given up")


class Delivery(models.Model):
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    key = models.CharField(max_length=80, unique=True)
    status = models.CharField(max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    # When it may next be tried (quiet hours and retries move it); indexed for the worker's claim.
    due_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_by = models.CharField(max_length=120, blank=True)
    # A claim ends here: a worker that died while sending leaves the row to be claimed again after it.
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "pk"]
        indexes = [models.Index(fields=["status", "due_at"], name="delivery_status_due")]
        verbose_name_plural = _("deliveries")

    def __str__(self) -> str:
        return f"{self.channel} {self.key} ({self.status})"


class InboxMessage(models.Model):
    """A notification in the person's in-app inbox. One per delivery key, so it can never appear twice."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inbox")
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="+")
    delivery_key = models.CharField(max_length=80, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="inbox_unread")]

    def __str__(self) -> str:
        return f"inbox {self.recipient_id}: {self.notification_id}"


def default_quiet_start() -> time:
    return time(21, 0)


def default_quiet_end() -> time:
    return time(8, 0)


class NotificationPreferences(models.Model):
    """Per person: which channels each kind uses (missing entries take the defaults) and quiet hours."""

    person = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    # {"checkin_reminder": ["inbox", "email"], ...}
    channels = models.JSONField(default=dict, blank=True)
    quiet_hours = models.BooleanField(_("quiet hours"), default=True)
    quiet_start = models.TimeField(_("quiet from"), default=default_quiet_start)
    quiet_end = models.TimeField(_("quiet until"), default=default_quiet_end)
    # Local times for check-in reminders ("HH:MM"); empty means no check-in reminders.
    checkin_times = models.JSONField(default=list, blank=True)
    snoozed_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"notification preferences of {self.person_id}"


class WebhookEndpoint(models.Model):
    """An organisation's SMS gateway or team chat: signed POSTs (HMAC-SHA256 of the body)."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500)
    secret = EncryptedTextField()
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"webhook of {self.organisation_id}"


class LadderEvent(models.Model):
    """A step of the accountability ladder taken for a member: on their timeline, once per step per quiet spell
    (a spell starts at their last check-in, so a check-in starts a new one and the ladder over)."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ladder_events")
    spell_start = models.DateTimeField()
    step = models.PositiveSmallIntegerField()
    action = models.CharField(max_length=30)
    at = models.DateTimeField(default=timezone.now)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["member", "spell_start", "step"], name="ladder_step_once_per_spell")
        ]

    def __str__(self) -> str:
        return f"ladder step {self.step} ({self.action}) for {self.member_id}"
