"""What imports leave behind: one row per import run (counts and row-level errors, never the file) and one per
imported row, keyed by the row's fingerprint, so importing the same file again creates nothing twice.

FHIR export, data downloads, deletion and backups store nothing of their own here: they read the other apps'
records, and every one of them is written to the audit log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ImportSource(models.TextChoices):
    DAYLIO = "daylio", _("Daylio (CSV export)")
    EMOODS = "emoods", _("eMoods (CSV export)")
    CSV = "csv", _("CSV or TSV with my own columns")


class ImportRun(models.Model):
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_runs")
    source = models.CharField(_("from"), max_length=10, choices=ImportSource.choices)
    file_name = models.CharField(max_length=255, blank=True)
    # SHA-256 of the file's bytes: the same file again is recognised, and its rows are already keyed.
    file_sha256 = models.CharField(max_length=64)
    # The settings the rows were read with (mapping, date format, time zone), so a run can be explained.
    options = models.JSONField(default=dict, blank=True)
    dry_run = models.BooleanField(default=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_read = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    # Rows an earlier run of the same data already stored.
    already_there = models.PositiveIntegerField(default=0)
    # Row-level problems, at most a few hundred kept: [{"line": 12, "field": "mood", "message": "..."}].
    errors = models.JSONField(default=list, blank=True)
    error_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.source} import for {self.member_id}"


class ImportedRow(models.Model):
    """One stored row of an import. `fingerprint` is a SHA-256 of the source and the row's normalised values, so
    the same row from the same export (or a later, longer export of the same diary) maps to the same key."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="rows")
    fingerprint = models.CharField(max_length=64)
    checkin = models.ForeignKey("monitoring.CheckIn", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    journal_entry = models.ForeignKey(
        "monitoring.JournalEntry", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "fingerprint"], name="imported_row_once")]

    def __str__(self) -> str:
        return f"imported row {self.fingerprint[:12]}"


class AccountDeletion(models.Model):
    """A member deleted their account and their program must keep some clinical records for a while: the
    tombstone person row stays (no name, no e-mail, no way to sign in) so that those records keep their owner,
    until `purge_after`, when the worker erases them and the tombstone (`interop.rights.purge_due`)."""

    person = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    deleted_at = models.DateTimeField(default=timezone.now)
    purge_after = models.DateTimeField(db_index=True)
    retention_days = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("deleted account")
        verbose_name_plural = _("deleted accounts")

    def __str__(self) -> str:
        return f"deleted account {self.person_id}"
