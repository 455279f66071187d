"""What members record about themselves: check-ins (and, in their own modules, journal entries and
questionnaire responses)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alongside.core.crypto import EncryptedTextField

SCALE = [MinValueValidator(0), MaxValueValidator(10)]


class TagKind(models.TextChoices):
    ACTIVITY = "activity", _("Activity")
    WARNING_SIGN = "warning_sign", _("Warning sign")


DEFAULT_ACTIVITIES = (
    "Walk", "Exercise", "Friends", "Family", "Work", "Support meeting", "Therapy", "Meditation", "Music",
    "Reading", "Cooking", "Outdoors",
)  # fmt: skip


class Tag(models.Model):
    """A member's own activity or warning-sign label; check-ins refer to these."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tags")
    kind = models.CharField(max_length=20, choices=TagKind.choices)
    label = models.CharField(_("label"), max_length=60)
    archived = models.BooleanField(default=False)

    class Meta:
        ordering = ["kind", "label"]
        constraints = [models.UniqueConstraint("member", "kind", Lower("label"), name="tag_label_unique")]

    def __str__(self) -> str:
        return self.label


class Medication(models.TextChoices):
    TAKEN = "taken", _("Taken")
    MISSED = "missed", _("Not taken")
    NOT_APPLICABLE = "na", _("Not applicable")


class CheckIn(models.Model):
    """One check-in. Mood alone is enough; several a day are fine, each with its own time."""

    # Indexed by the indexes below, which begin with the member: one of its own would only be written to.
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="checkins", db_index=False
    )
    recorded_at = models.DateTimeField(_("when"), default=timezone.now)
    # The member's calendar date where they were, so days line up with their life, not with UTC.
    local_date = models.DateField(_("day"))
    mood = models.PositiveSmallIntegerField(_("mood"), validators=SCALE)
    anxiety = models.PositiveSmallIntegerField(_("anxiety"), validators=SCALE, null=True, blank=True)
    energy = models.PositiveSmallIntegerField(_("energy"), validators=SCALE, null=True, blank=True)
    sleep_hours = models.DecimalField(
        _("hours of sleep"), max_digits=4, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(24)],
    )  # fmt: skip
    sleep_quality = models.PositiveSmallIntegerField(_("sleep quality"), validators=SCALE, null=True, blank=True)
    medication = models.CharField(_("medication"), max_length=10, choices=Medication.choices, blank=True)
    cravings = models.PositiveSmallIntegerField(_("cravings or urges"), validators=SCALE, null=True, blank=True)
    note = EncryptedTextField(_("note"), blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="checkins")
    source = models.CharField(max_length=20, default="web")  # web, api, offline, import, synthetic
    created_at = models.DateTimeField(auto_now_add=True)
    # Stored but not yet handed to the apps above (the early-warning engine): the worker announces such check-ins
    # in batches (`checkins.announce_waiting`), so the request that stores one does no more than store it.
    # Rows written in bulk with their consequences computed another way (seeding, rescans) are never waiting;
    # the database's own default says so for loaders that name no value.
    unannounced = models.BooleanField(default=False, db_default=False)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        indexes = [
            models.Index(fields=["member", "-recorded_at"], name="checkin_member_time"),
            models.Index(fields=["member", "local_date"], name="checkin_member_day"),
            # Only the few waiting rows: the worker's queue.
            models.Index(fields=["id"], condition=models.Q(unannounced=True), name="checkin_unannounced"),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.recorded_at:%Y-%m-%d %H:%M} mood {self.mood}"


class QuestionnaireResponse(models.Model):
    """One completed (or, if items were left out, unscored) questionnaire. Never changed afterwards: a
    correction is a new response that points at the one it corrects."""

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="questionnaire_responses"
    )
    instrument = models.CharField(_("questionnaire"), max_length=30)
    instrument_version = models.CharField(max_length=20)
    answers = models.JSONField()  # {"1": 0, "2": 3, ...}: item number to option score
    followup = models.CharField(max_length=60, blank=True)
    raw_score = models.PositiveSmallIntegerField(null=True, blank=True)
    total = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    band = models.CharField(_("band"), max_length=60, blank=True)
    complete = models.BooleanField(default=True)
    is_case = models.BooleanField(null=True, blank=True)
    safety_items = models.JSONField(default=list)
    assessment = models.ForeignKey(
        "monitoring.Assessment", null=True, blank=True, on_delete=models.SET_NULL, related_name="responses"
    )
    corrects = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections")
    completed_at = models.DateTimeField(default=timezone.now)
    local_date = models.DateField()
    source = models.CharField(max_length=20, default="web")

    class Meta:
        ordering = ["-completed_at", "-id"]
        indexes = [models.Index(fields=["member", "instrument", "-completed_at"], name="response_member_time")]

    def __str__(self) -> str:
        return f"{self.member} {self.instrument} {self.total}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("questionnaire responses are never changed; record a correction instead")
        super().save(*args, **kwargs)


class Assessment(models.Model):
    """A questionnaire due for a member within a window; it expires if the window closes unanswered."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assessments")
    instrument = models.CharField(max_length=30)
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    program = models.ForeignKey("programs.Program", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["opens_at"]
        constraints = [
            models.UniqueConstraint(fields=["member", "instrument", "opens_at"], name="assessment_window_unique")
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.instrument} {self.opens_at:%Y-%m-%d}"


class SyntheticTruth(models.Model):
    """For synthetic members only: the trajectory that generated their data and the day it turned, so the
    early-warning engine can be evaluated against what really happened."""

    member = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="synthetic_truth")
    trajectory = models.CharField(max_length=30)  # stable, gradual_relapse, sudden_crisis, disengagement, improving
    start_date = models.DateField()
    onset_day = models.PositiveSmallIntegerField(null=True, blank=True)  # days after start_date; None if none
    seed = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.member} {self.trajectory}"


class JournalEntry(models.Model):
    """A private journal entry. Its text is encrypted at rest; the member may share single entries with
    supporters they share their journal with."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="journal_entries")
    written_at = models.DateTimeField(_("written"), default=timezone.now)
    local_date = models.DateField()
    prompt = models.CharField(_("prompt"), max_length=200, blank=True)
    text = EncryptedTextField(_("entry"))
    shared_with = models.ManyToManyField("care.CareRelationship", blank=True, related_name="journal_entries")
    updated_at = models.DateTimeField(auto_now=True)
    source = models.CharField(max_length=20, default="web")

    class Meta:
        ordering = ["-written_at", "-id"]
        indexes = [models.Index(fields=["member", "-written_at"], name="journal_member_time")]

    def __str__(self) -> str:
        return f"{self.member} {self.written_at:%Y-%m-%d}"


class ProgramInstrument(models.Model):
    """A questionnaire a program adds to the built-in ones: its definition file, checked when it is added."""

    program = models.ForeignKey("programs.Program", on_delete=models.CASCADE, related_name="instruments")
    code = models.SlugField(max_length=30)
    name = models.CharField(max_length=80)
    definition = models.TextField()  # the JSON file as uploaded
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["program", "code"], name="program_instrument_code")]

    def __str__(self) -> str:
        return f"{self.name} ({self.program})"


class ChartDrawing(models.Model):
    """The last drawing of one of a member's charts, kept because drawing takes tens of milliseconds and the data
    behind a chart changes far less often than it is looked at. One row per member and chart: a new drawing
    replaces the old, and the rows go with the member. `digest` names everything the drawing was made from (see
    `chart_cache`), so a drawing is used only while its data is unchanged."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    slot = models.CharField(max_length=40)
    digest = models.CharField(max_length=64)
    svg = models.BinaryField()  # zlib-compressed
    drawn_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "slot"], name="chart_drawing_member_slot")]

    def __str__(self) -> str:
        return f"{self.member_id} {self.slot}"
