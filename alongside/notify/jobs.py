"""The notify app's work in the worker: sending due deliveries, and turning due reminders into notifications."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alongside.core.worker import every, work_source
from alongside.notify import dispatch, ladder, reminders
from alongside.notify.models import NotificationKind
from alongside.notify.outbox import notify
from alongside.schedule.models import Reminder


@work_source("notify: send due deliveries")
def send_due(worker_id: str) -> int:
    return dispatch.run(worker_id)


@every(timedelta(seconds=30), "notify: due reminders into the outbox")
def reminders_to_outbox(limit: int = 5000) -> int:
    """Each due reminder becomes one notification (keyed by the reminder, so a retry adds nothing)."""
    now = timezone.now()
    made = 0
    due = Reminder.objects.filter(sent_at__isnull=True, due_at__lte=now).select_related(
        "person", "occurrence__appointment", "routine_item"
    )[:limit]
    for reminder in due:
        with transaction.atomic():
            if reminder.occurrence_id:
                kind, title, link = (
                    NotificationKind.APPOINTMENT_REMINDER,
                    _("An appointment is coming up"),
                    f"/appointments/{reminder.occurrence_id}/",
                )
            else:
                kind, title, link = NotificationKind.ROUTINE_REMINDER, _("A reminder from your routine"), "/me/routine/"
            notify(
                reminder.person,
                kind=kind,
                title=title,
                link=link,
                source_key=f"reminder:{reminder.pk}",
                at=reminder.due_at,
            )
            Reminder.objects.filter(pk=reminder.pk).update(sent_at=now)
            made += 1
    return made


@every(timedelta(minutes=5), "notify: accountability ladder")
def accountability_ladder() -> int:
    return ladder.evaluate()


@every(timedelta(minutes=5), "notify: check-in reminders")
def checkin_reminders() -> int:
    return reminders.checkin_reminders()


@every(timedelta(hours=1), "notify: questionnaire reminders")
def questionnaire_reminders() -> int:
    return reminders.questionnaire_reminders()
