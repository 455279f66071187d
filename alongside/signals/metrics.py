"""Early-warning gauges on /metrics: open alerts by severity and how long the oldest has waited for someone to
acknowledge it (counts and ages only)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Min

from alongside.core.metrics import Reading, age_seconds, database_readings
from alongside.signals.models import Alert, AlertStatus, Severity


@database_readings("signals: alerts")
def alert_readings(now: datetime) -> list[Reading]:
    counts = dict(
        Alert.objects.exclude(status=AlertStatus.RESOLVED)
        .values_list("severity")
        .annotate(count=Count("pk"))
        .order_by()
        .values_list("severity", "count")
    )
    oldest = Alert.objects.filter(status=AlertStatus.OPEN).aggregate(oldest=Min("opened_at"))["oldest"]
    # Every severity, zero included, so a series does not vanish when its last alert is resolved.
    readings = [
        Reading(
            "alongside_alerts_open",
            "Alerts not yet resolved (acknowledged or not), by severity.",
            counts.get(severity.value, 0),
            {"severity": severity.value},
        )
        for severity in Severity
    ]
    readings.append(
        Reading(
            "alongside_alert_oldest_unacknowledged_age_seconds",
            "How long the oldest alert nobody has acknowledged has been open (0 when there is none).",
            age_seconds(now, oldest),
        )
    )
    return readings
