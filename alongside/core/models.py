from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkerHeartbeat(models.Model):
    """One row per running `alongside worker` process, touched every few seconds while it runs.

    /healthz reports the age of the newest beat; a clean shutdown deletes the row, a crashed worker's row
    simply grows old.
    """

    worker_id = models.CharField(_("worker"), max_length=200, unique=True)  # host:pid
    started_at = models.DateTimeField(_("started at"))
    last_beat_at = models.DateTimeField(_("last heartbeat"), db_index=True)

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self) -> str:
        return self.worker_id


class RateLimitCounter(models.Model):
    """Requests counted per key in fixed time windows (see alongside/core/ratelimit.py)."""

    key = models.CharField(max_length=200)
    window_start = models.DateTimeField(db_index=True)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window_start"], name="ratelimit_key_window")]

    def __str__(self) -> str:
        return f"{self.key} @ {self.window_start:%Y-%m-%d %H:%M}: {self.count}"


class IdempotencyRecord(models.Model):
    """The answer to a create request, kept under the client's Idempotency-Key so that a retry gets the same
    answer instead of a second copy (see alongside/core/idempotency.py)."""

    # Indexed by the unique constraint on the person and the key, which begins with the person.
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+", db_index=False)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # method, path and body of the first request
    status = models.PositiveSmallIntegerField()
    # The answer's JSON encrypted at rest, as a Fernet token kept as a JSON string: an answer may carry a
    # check-in's note or a journal entry's text (`idempotency.seal` and `opened`).
    body = models.JSONField()
    # The id of what the create made, when the answer was sealed before the id was known (a check-in stored with
    # one statement); it becomes the answer's "id" when the answer is opened.
    created_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
