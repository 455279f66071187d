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
