"""Early-warning state and alerts: each member's detector state (one row, updated in place), and alerts with
their evidence (firings), the people told, and what the team did."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alongside.core.crypto import EncryptedTextField


class DetectorState(models.Model):
    """A member's detector state as of their last check-in (`signals.detectors.State`, one row of floats)."""

    member = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="detector_state"
    )
    layout = models.PositiveSmallIntegerField(default=0)
    data = models.BinaryField(default=b"")
    # The local day being collected, and the moment it ends on the member's clock: the worker closes it then.
    pending_day = models.DateField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Data arrived for a day already closed (an offline check-in synced late, an import): rebuild from history.
    stale = models.BooleanField(default=False, db_index=True)
    # Whether one of the member's programs runs the experimental critical-slowing-down detector: read from the
    # programs when the day closes or the state is rebuilt, so a check-in need not ask.
    csd = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"detector state of {self.member_id}"


class Severity(models.TextChoices):
    URGENT = "urgent", _("Urgent")
    HIGH = "high", _("High")
    WATCH = "watch", _("Watch")


SEVERITY_RANK = {Severity.WATCH: 0, Severity.HIGH: 1, Severity.URGENT: 2}


class AlertStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


class Outcome(models.TextChoices):
    REACHED = "reached", _("Reached the member")
    FALSE_ALARM = "false_alarm", _("False alarm")
    CRISIS_SERVICES = "crisis_services", _("Escalated to crisis services")
    OTHER = "other", _("Other")


class Alert(models.Model):
    """One episode for one member: the first firing opens it, related firings join it until it is resolved."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alerts")
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    status = models.CharField(_("status"), max_length=15, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    opened_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    outcome_note = EncryptedTextField(_("note"), blank=True)
    # Escalation: how many steps have been taken, and when the next is due while nobody has acknowledged.
    escalation_level = models.PositiveSmallIntegerField(default=0)
    escalate_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["member", "status"], name="alert_member_status")]

    def __str__(self) -> str:
        return f"{self.get_severity_display()} alert for {self.member} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status != AlertStatus.RESOLVED


class Firing(models.Model):
    """One detector firing: the rule, the data it saw, and the baseline; the alert's evidence."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="firings")
    detector = models.CharField(max_length=30)  # safety, questionnaire, baseline, warning_signs, ...
    rule = models.CharField(max_length=40)  # e.g. cusum:distress, phq9:caseness, struggling
    # The consent category it comes from ("safety" means the relationship's safety-alert choice).
    category = models.CharField(max_length=20)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    day = models.DateField()  # the member's local day the data belong to
    fired_at = models.DateTimeField(default=timezone.now)
    evidence = models.JSONField(default=dict)
    # One firing per cause: a retried check-in, a worker sweep or a rebuild never adds it twice.
    source_key = models.CharField(max_length=120, unique=True)

    class Meta:
        ordering = ["fired_at", "id"]

    def __str__(self) -> str:
        return f"{self.rule} for alert {self.alert_id}"


class AlertRecipient(models.Model):
    """Someone the alert was shared with, in which relationship, at which escalation step."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="recipients")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    relationship = models.ForeignKey(
        "care.CareRelationship", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # 0: told when it opened (or when a firing they may see joined it); 1, 2: escalation steps.
    level = models.PositiveSmallIntegerField(default=0)
    told_at = models.DateTimeField(default=timezone.now)
    # An org admin is told that an alert waits, never what it says.
    without_detail = models.BooleanField(default=False)

    class Meta:
        ordering = ["told_at", "id"]
        constraints = [models.UniqueConstraint(fields=["alert", "person", "level"], name="alert_recipient_unique")]

    def __str__(self) -> str:
        return f"{self.person} told of alert {self.alert_id}"
