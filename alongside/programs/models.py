"""Programs an organisation runs, their phases, and which members are enrolled in which phase."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alongside.core.crypto import EncryptedTextField
from alongside.programs.settings_schema import ProgramSettings

DEFAULT_PHASES = ("Intensive", "Step-down", "Maintenance", "Graduated")


def default_program_settings() -> dict:
    return ProgramSettings().model_dump()


class ProgramQuerySet(models.QuerySet):
    def current(self):
        return self.filter(archived_at__isnull=True)


class Program(models.Model):
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="programs", verbose_name=_("organisation")
    )
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    # One validated document (see settings_schema.ProgramSettings); every change is kept as a version.
    settings = models.JSONField(_("settings"), default=default_program_settings)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ProgramQuerySet.as_manager()

    class Meta:
        verbose_name = _("program")
        verbose_name_plural = _("programs")
        ordering = ["name"]
        constraints = [models.UniqueConstraint("organisation", Lower("name"), name="program_name_unique")]

    def __str__(self) -> str:
        return self.name

    @property
    def config(self) -> ProgramSettings:
        return ProgramSettings.model_validate(self.settings)


class Phase(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="phases")
    name = models.CharField(_("name"), max_length=80)
    position = models.PositiveSmallIntegerField(_("order"))

    class Meta:
        verbose_name = _("phase")
        verbose_name_plural = _("phases")
        ordering = ["program", "position"]
        constraints = [models.UniqueConstraint("program", Lower("name"), name="phase_name_unique")]

    def __str__(self) -> str:
        return self.name


class EnrolmentQuerySet(models.QuerySet):
    def current(self):
        return self.filter(ended_at__isnull=True)


class Enrolment(models.Model):
    """A member takes part in a program, in one of its phases."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="enrolments")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrolments")
    phase = models.ForeignKey(Phase, on_delete=models.PROTECT, null=True, blank=True, related_name="enrolments")
    # When treatment ended and aftercare began.
    discharge_date = models.DateField(_("discharged on"), null=True, blank=True)
    enrolled_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = EnrolmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        constraints = [
            models.UniqueConstraint(
                fields=["program", "member"], condition=Q(ended_at__isnull=True), name="enrolment_current_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.member} in {self.program}"


class ProgramInvitation(models.Model):
    """A member invited into a program is enrolled when they accept."""

    invitation = models.OneToOneField("accounts.Invitation", on_delete=models.CASCADE, related_name="program_link")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="invitations")

    def __str__(self) -> str:
        return f"{self.invitation} → {self.program}"


class TransitionKind(models.TextChoices):
    DISCHARGE = "discharge", _("Discharge from treatment")
    STEP_DOWN = "step_down", _("Step down")
    PHASE = "phase", _("Phase change")
    GRADUATION = "graduation", _("Graduation")


# What a care team checks before a member moves on; programs may add their own items.
DEFAULT_TRANSITION_CHECKLIST = (
    _("Aftercare plan reviewed and agreed with the member"),
    _("Follow-up appointment booked within seven days"),
    _("Crisis contacts and crisis line confirmed"),
    _("Medication plan and supply confirmed"),
    _("Peer support group offered"),
    _("Member knows how to check in and use “I'm struggling”"),
)


class Transition(models.Model):
    """A member moved on within a program (discharge, step-down, another phase), with the checklist the care
    team went through. Kept as history; the enrolment holds the current phase and discharge date."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="transitions")
    kind = models.CharField(_("kind"), max_length=20, choices=TransitionKind.choices)
    from_phase = models.ForeignKey(Phase, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to_phase = models.ForeignKey(Phase, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    effective_date = models.DateField(_("date"))
    # [{"label": ..., "done": bool}] in the order shown.
    checklist = models.JSONField(default=list)
    note = EncryptedTextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("transition")
        verbose_name_plural = _("transitions")
        ordering = ["-effective_date", "-recorded_at"]

    def __str__(self) -> str:
        return f"{self.enrolment}: {self.get_kind_display()} on {self.effective_date}"
