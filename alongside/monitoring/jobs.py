"""The monitoring app's work in the worker: announcing stored check-ins to the apps above."""

from __future__ import annotations

from alongside.core.worker import work_source
from alongside.monitoring import checkins


@work_source("monitoring: announce stored check-ins", batch=checkins.ANNOUNCE_BATCH)
def announce_checkins(worker_id: str) -> int:
    return checkins.announce_waiting()
