"""The notify app's work in the worker: sending due deliveries, and turning due reminders into notifications."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alongside.core.worker import every, work_source
from alongside.notify import dispatch, ladder, reminders
from alongside.notify.models import NotificationKind
from alongside.notify.outbox import notify_many
from alongside.schedule.models import Reminder


@work_source("notify: send due deliveries", batch=dispatch.BATCH)
def send_due(worker_id: str) -> int:
    return dispatch.run(worker_id)


@every(timedelta(seconds=30), "notify: due reminders into the outbox")
def reminders_to_outbox(limit: int = 2000) -> int:
    """Due reminders become notifications, a batch at a time, each keyed by its reminder (so a retry or a
    second worker adds nothing) and marked done in the same transaction."""
    made = 0
    while True:
        with transaction.atomic():
            done = _reminder_batch(limit)
        made += done
        if done < limit:
            return made


def _reminder_batch(limit: int) -> int:
    """One batch, inside the caller's transaction. On PostgreSQL the rows are locked and other workers skip
    them, so two workers take different batches."""
    now = timezone.now()
    rows = Reminder.objects.filter(sent_at__isnull=True, due_at__lte=now).order_by("due_at", "pk")
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True, of=("self",))
    # Of the person only what the outbox reads (their clock, for quiet hours): thousands of whole people per batch
    # cost more to load than the rest of the batch.
    rows = rows.select_related("person").only("occurrence_id", "due_at", "person__id", "person__time_zone")
    batch = list(rows[:limit])
    if not batch:
        return 0
    items = []
    for reminder in batch:
        if reminder.occurrence_id:
            kind, title = NotificationKind.APPOINTMENT_REMINDER, _("An appointment is coming up")
            link = f"/appointments/{reminder.occurrence_id}/"
        else:
            kind, title, link = NotificationKind.ROUTINE_REMINDER, _("A reminder from your routine"), "/me/routine/"
        items.append({"recipient": reminder.person, "kind": kind, "title": title, "link": link,
                      "source_key": f"reminder:{reminder.pk}", "at": reminder.due_at})  # fmt: skip
    notify_many(items)
    Reminder.objects.filter(pk__in=[reminder.pk for reminder in batch]).update(sent_at=now)
    return len(batch)


@every(timedelta(minutes=5), "notify: accountability ladder")
def accountability_ladder() -> int:
    return ladder.evaluate()


@every(timedelta(minutes=5), "notify: check-in reminders")
def checkin_reminders() -> int:
    return reminders.checkin_reminders()


@every(timedelta(hours=1), "notify: questionnaire reminders")
def questionnaire_reminders() -> int:
    return reminders.questionnaire_reminders()
