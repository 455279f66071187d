"""A member's goals (why they matter, a measurable target and a timeframe, milestones, progress), what their
supporters say to encourage them, goals staff suggest, and the recovery milestones Alongside celebrates with them.

Everything here is the member's: supporters see it only with the "Goals and milestones" consent category."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class GoalStatus(models.TextChoices):
    SUGGESTED = "suggested", _("Suggested by my team")
    ACTIVE = "active", _("Working on it")
    ACHIEVED = "achieved", _("Achieved")
    PAUSED = "paused", _("Paused")
    LET_GO = "let_go", _("Let go")
    DECLINED = "declined", _("Declined")


# A member's own goals in these states are theirs to see and work on; suggestions wait for their answer.
OPEN_STATUSES = (GoalStatus.ACTIVE, GoalStatus.PAUSED)


class Goal(models.Model):
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="goals")
    title = models.CharField(_("goal"), max_length=140)
    why = models.TextField(_("why it matters to me"), max_length=2000, blank=True)
    # One of the member's program's goal areas (programs/settings_schema.py: goal_areas).
    area = models.CharField(_("area of life"), max_length=40)
    # What "done" looks like, in the member's words ("walk 5 km", "apply to 3 courses").
    target = models.CharField(_("how I will know"), max_length=200, blank=True)
    target_date = models.DateField(_("by when"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=GoalStatus.choices, default=GoalStatus.ACTIVE)
    status_changed_at = models.DateTimeField(default=timezone.now)
    achieved_at = models.DateTimeField(null=True, blank=True)
    # Staff who suggested it (the member accepts or declines), else empty.
    suggested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # The key a client sent (a retry sends it again): one goal per member and key.
    client_key = models.CharField(max_length=80, blank=True)

    class Meta:
        verbose_name = _("goal")
        verbose_name_plural = _("goals")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["member", "status"], name="goal_member_status")]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "client_key"], condition=~Q(client_key=""), name="goal_client_key"
            )
        ]

    def __str__(self) -> str:
        return self.title


class Milestone(models.Model):
    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("milestone"), max_length=140)
    due_date = models.DateField(_("by when"), null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    achieved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["goal", "position", "pk"]

    def __str__(self) -> str:
        return self.title


class ProgressUpdate(models.Model):
    """The member notes progress on a goal: a few words, and how far along they feel (0-100), if they like."""

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="progress")
    note = models.CharField(_("what happened"), max_length=1000, blank=True)
    percent = models.PositiveSmallIntegerField(_("how far along (%)"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"progress on {self.goal_id}"


class EncouragementKind(models.TextChoices):
    COMMENT = "comment", _("A few words")
    CHEER = "cheer", _("Cheering you on")
    PROUD = "proud", _("Proud of you")
    KEEP_GOING = "keep_going", _("Keep going")


class Encouragement(models.Model):
    """A supporter (with the member's consent to see goals) encourages them: a short comment or a reaction."""

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="encouragements")
    milestone = models.ForeignKey(Milestone, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=EncouragementKind.choices)
    text = models.CharField(_("message"), max_length=280, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} on {self.goal_id}"


class CelebrationKind(models.TextChoices):
    DAYS_SINCE_DISCHARGE = "since_discharge", _("Days since discharge")
    DAYS_SINCE_COMPLETION = "since_completion", _("Days since completing the program")
    CHECKIN_STREAK = "checkin_streak", _("Days in a row of checking in")
    GOAL_ACHIEVED = "goal_achieved", _("A goal achieved")
    MILESTONE_ACHIEVED = "milestone_achieved", _("A milestone reached")


class Celebration(models.Model):
    """A recovery milestone Alongside celebrates with the member (in the app only; others see it only with the
    member's consent to share goals). `key` makes each one happen once."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="celebrations")
    kind = models.CharField(max_length=20, choices=CelebrationKind.choices)
    # Days for the day counts and streaks; empty for goals and milestones.
    days = models.PositiveIntegerField(null=True, blank=True)
    goal = models.ForeignKey(Goal, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    milestone = models.ForeignKey(Milestone, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} for {self.member_id}"


class GoalReview(models.Model):
    """The member's goals gone through at one appointment (the "Review goals" item of its agenda): which goals,
    how far along each was then, and what was agreed, in a few words the member reads too."""

    occurrence = models.OneToOneField("schedule.Occurrence", on_delete=models.CASCADE, related_name="goal_review")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="goal_reviews")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(default=timezone.now)
    goals = models.ManyToManyField(Goal, related_name="reviews", blank=True)
    # [{"goal": id, "title": ..., "status": ..., "percent": 40 or None, "milestones_reached": 1, "milestones": 3}]
    snapshot = models.JSONField(default=list, blank=True)
    note = models.CharField(_("what we agreed"), max_length=1000, blank=True)

    class Meta:
        verbose_name = _("goal review")
        verbose_name_plural = _("goal reviews")
        ordering = ["-reviewed_at", "-pk"]

    def __str__(self) -> str:
        return f"goal review at {self.occurrence_id}"
