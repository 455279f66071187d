"""Appointments (single or recurring series), their occurrences, reminder due times, calendar feeds, and the
member's daily routine.

Instants are stored in UTC; a series' rule is kept in its own named time zone as local wall-clock date and
time, so a weekly 18:00 appointment stays at 18:00 local across daylight-saving changes (schedule/times.py).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alongside.accounts.models import validate_time_zone


class AppointmentKind(models.TextChoices):
    THERAPY = "therapy", _("Therapy")
    MEDICATION_REVIEW = "medication_review", _("Medication review")
    CASE_MANAGEMENT = "case_management", _("Case management")
    PEER_COACHING = "peer_coaching", _("Peer coaching")
    GROUP = "group", _("Group")
    OTHER = "other", _("Other")


class LocationKind(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    ONLINE = "online", _("Online")


class Appointment(models.Model):
    """One appointment, or a series of them by an RFC 5545 recurrence rule."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="appointments", verbose_name=_("organisation")
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="appointments", verbose_name=_("member")
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="staff_appointments",
        verbose_name=_("with"),
    )
    kind = models.CharField(_("kind"), max_length=30, choices=AppointmentKind.choices)
    title = models.CharField(_("title"), max_length=120)
    location_kind = models.CharField(_("where"), max_length=20, choices=LocationKind.choices)
    address = models.CharField(_("address"), max_length=300, blank=True)
    # Shown only to the people in the appointment.
    video_url = models.URLField(_("video link"), max_length=500, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, validators=[validate_time_zone])
    # The first occurrence's local wall-clock start in `time_zone`; the rule repeats it.
    start_date = models.DateField(_("first date"))
    start_time = models.TimeField(_("start time"))
    duration_minutes = models.PositiveIntegerField(_("length in minutes"))
    # An RFC 5545 RRULE value ("FREQ=WEEKLY;INTERVAL=2;COUNT=10"); empty for a single appointment.
    rrule = models.CharField(_("repeats"), max_length=300, blank=True)
    # Raised on every change to the series, for calendar clients (RFC 5545 SEQUENCE).
    sequence = models.PositiveIntegerField(default=0)
    # What each appointment of the series goes through: keys of schedule/checklist.py items ("goal_review").
    checklist = models.JSONField(_("on the agenda"), default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # Occurrences are stored up to here; the worker extends open-ended series (schedule/series.py: extend).
    generated_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["start_date", "start_time", "pk"]

    def __str__(self) -> str:
        return f"{self.title} ({self.member})"

    @property
    def is_series(self) -> bool:
        return bool(self.rrule)


class OccurrenceStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    CONFIRMED = "confirmed", _("Confirmed")
    RESCHEDULE_REQUESTED = "reschedule_requested", _("Asked to reschedule")
    RESCHEDULED = "rescheduled", _("Moved")
    ATTENDED = "attended", _("Attended")
    MISSED = "missed", _("Missed")
    CANCELLED = "cancelled", _("Cancelled")


UPCOMING_STATUSES = (
    OccurrenceStatus.SCHEDULED,
    OccurrenceStatus.CONFIRMED,
    OccurrenceStatus.RESCHEDULE_REQUESTED,
    OccurrenceStatus.RESCHEDULED,
)


class Occurrence(models.Model):
    """One date of an appointment. `original_start` is where the rule put it (RFC 5545 RECURRENCE-ID) and never
    changes; `start` and `end` move when this one occurrence is rescheduled."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="occurrences")
    original_start = models.DateTimeField()
    start = models.DateTimeField(_("starts"), db_index=True)
    end = models.DateTimeField(_("ends"))
    status = models.CharField(
        _("status"), max_length=30, choices=OccurrenceStatus.choices, default=OccurrenceStatus.SCHEDULED
    )
    status_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    # Raised when this occurrence alone changes (RFC 5545 SEQUENCE of its RECURRENCE-ID override).
    sequence = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("occurrence")
        verbose_name_plural = _("occurrences")
        ordering = ["start", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["appointment", "original_start"], name="occurrence_once_per_instant")
        ]
        indexes = [models.Index(fields=["status", "start"], name="occurrence_status_start")]

    def __str__(self) -> str:
        return f"{self.appointment} at {self.start:%Y-%m-%d %H:%M} UTC ({self.status})"

    @property
    def is_moved(self) -> bool:
        return self.start != self.original_start

    @property
    def is_upcoming(self) -> bool:
        return self.status in UPCOMING_STATUSES and self.start > timezone.now()


class ChecklistTick(models.Model):
    """One item of an appointment's checklist, done at one occurrence (schedule/checklist.py)."""

    occurrence = models.ForeignKey(Occurrence, on_delete=models.CASCADE, related_name="checklist_ticks")
    key = models.CharField(max_length=40)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    done_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["occurrence", "key"], name="checklist_tick_once")]

    def __str__(self) -> str:
        return f"{self.key} at {self.occurrence_id}"


class Reminder(models.Model):
    """When someone is to be reminded of an occurrence or a routine item. The worker sends the due ones."""

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders")
    occurrence = models.ForeignKey(
        Occurrence, null=True, blank=True, on_delete=models.CASCADE, related_name="reminders"
    )
    routine_item = models.ForeignKey(
        "RoutineItem", null=True, blank=True, on_delete=models.CASCADE, related_name="reminders"
    )
    due_at = models.DateTimeField(db_index=True)
    # For an occurrence: minutes before it on the person's clock; for a routine item: 0.
    offset_minutes = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "occurrence", "offset_minutes", "due_at"],
                condition=models.Q(occurrence__isnull=False),
                name="reminder_once_per_occurrence_time",
            ),
            models.UniqueConstraint(
                fields=["person", "routine_item", "due_at"],
                condition=models.Q(routine_item__isnull=False),
                name="reminder_once_per_routine_instant",
            ),
        ]

    def __str__(self) -> str:
        return f"remind {self.person} at {self.due_at:%Y-%m-%d %H:%M} UTC"


DEFAULT_REMINDER_OFFSETS = [24 * 60, 60]


def default_reminder_offsets() -> list[int]:
    return list(DEFAULT_REMINDER_OFFSETS)


class SchedulePreferences(models.Model):
    person = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="schedule_preferences"
    )
    # Minutes before each appointment, on the person's own clock.
    reminder_offsets = models.JSONField(default=default_reminder_offsets)
    # Calendar feeds show "Appointment" unless the person chooses to show titles.
    feed_shows_titles = models.BooleanField(_("show appointment titles in my calendar feed"), default=False)

    def __str__(self) -> str:
        return f"schedule preferences of {self.person}"


class CalendarFeed(models.Model):
    """A secret iCalendar URL for one person. Only the token's SHA-256 is stored; revoked feeds answer 404."""

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"calendar feed of {self.person}"


class RoutineSchedule(models.TextChoices):
    DAILY = "daily", _("Every day")
    WEEKDAYS = "weekdays", _("On chosen days of the week")
    TIMES_PER_WEEK = "times_per_week", _("A number of times a week")


class RoutineItem(models.Model):
    """Something the member does as part of their daily maintenance (from their plan, or their own)."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="routine_items")
    title = models.CharField(_("what"), max_length=120)
    from_plan = models.BooleanField(default=False)
    schedule = models.CharField(
        _("how often"), max_length=20, choices=RoutineSchedule.choices, default=RoutineSchedule.DAILY
    )
    # Monday = 0 … Sunday = 6, for WEEKDAYS.
    weekdays = models.JSONField(default=list, blank=True)
    times_per_week = models.PositiveSmallIntegerField(null=True, blank=True)
    # An optional daily reminder at this local time (in the member's time zone).
    remind_at = models.TimeField(_("remind me at"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.title


class RoutineCheck(models.Model):
    """The member did a routine item on a day (their local date)."""

    item = models.ForeignKey(RoutineItem, on_delete=models.CASCADE, related_name="checks")
    local_date = models.DateField()
    checked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-local_date"]
        constraints = [models.UniqueConstraint(fields=["item", "local_date"], name="routine_check_once_a_day")]

    def __str__(self) -> str:
        return f"{self.item} on {self.local_date}"
