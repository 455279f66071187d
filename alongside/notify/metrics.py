"""The outbox's and the reminders' gauges on /metrics: how much waits and for how long (counts and ages only)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Min

from alongside.core.metrics import Reading, age_seconds, database_readings
from alongside.notify.models import Delivery, DeliveryStatus
from alongside.schedule.models import Reminder


@database_readings("notify: outbox")
def outbox_readings(now: datetime) -> list[Reading]:
    # Due and waiting for a worker; deliveries held back (quiet hours, a snooze, a retry's backoff) are not late.
    waiting = Delivery.objects.filter(status=DeliveryStatus.PENDING, due_at__lte=now).aggregate(
        count=Count("pk"), oldest=Min("due_at")
    )
    dead = Delivery.objects.filter(status=DeliveryStatus.DEAD).count()
    return [
        Reading(
            "alongside_outbox_deliveries_waiting",
            "Deliveries due and not yet taken by a worker.",
            waiting["count"],
        ),
        Reading(
            "alongside_outbox_oldest_waiting_age_seconds",
            "How long the longest-waiting due delivery has been due (0 when none waits).",
            age_seconds(now, waiting["oldest"]),
        ),
        Reading("alongside_outbox_deliveries_dead", "Deliveries given up after their last attempt.", dead),
    ]


@database_readings("notify: reminders")
def reminder_readings(now: datetime) -> list[Reading]:
    due = Reminder.objects.filter(sent_at__isnull=True, due_at__lte=now).aggregate(
        count=Count("pk"), oldest=Min("due_at")
    )
    return [
        Reading("alongside_reminders_due", "Reminders due and not yet sent.", due["count"]),
        Reading(
            "alongside_reminders_oldest_due_age_seconds",
            "How long the oldest unsent reminder has been due (0 when none is).",
            age_seconds(now, due["oldest"]),
        ),
    ]
