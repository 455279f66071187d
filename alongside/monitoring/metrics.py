"""Monitoring's gauges on /metrics: check-ins stored and not yet announced to the early-warning engine."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Min

from alongside.core.metrics import Reading, age_seconds, database_readings
from alongside.monitoring.models import CheckIn


@database_readings("monitoring: check-ins waiting")
def waiting_readings(now: datetime) -> list[Reading]:
    waiting = CheckIn.objects.filter(unannounced=True).aggregate(count=Count("pk"), oldest=Min("created_at"))
    return [
        Reading(
            "alongside_checkins_unannounced",
            "Check-ins stored and not yet announced to the early-warning engine by a worker.",
            waiting["count"],
        ),
        Reading(
            "alongside_checkins_oldest_unannounced_age_seconds",
            "How long the longest-waiting unannounced check-in has waited (0 when none waits).",
            age_seconds(now, waiting["oldest"]),
        ),
    ]
