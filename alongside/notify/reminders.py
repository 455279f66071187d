"""Reminders made here rather than in the schedule: check-in reminders at the member's chosen local times
(their own, else their program's), and questionnaires that have opened or close within a day. Each is keyed
(member, day, time or window), so a job that runs twice, or in two workers, reminds once."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from alongside.accounts.models import User
from alongside.monitoring import questionnaires
from alongside.monitoring.models import Assessment, CheckIn
from alongside.notify.models import Notification, NotificationKind, NotificationPreferences
from alongside.notify.outbox import notify
from alongside.programs.models import Enrolment
from alongside.schedule import times

# A reminder time counts as due for this long after it: a worker that was down a few minutes still sends it,
# one that was down all evening does not send a stale "time to check in".
LATE_BY_AT_MOST = timedelta(minutes=30)
CLOSING_SOON = timedelta(hours=24)


def checkin_times(member, preferences: NotificationPreferences | None) -> list[time]:
    if preferences is not None:
        chosen = preferences.checkin_times
    else:
        enrolment = Enrolment.objects.current().filter(member=member).select_related("program").first()
        chosen = enrolment.program.config.reminder_times if enrolment else []
    return [time.fromisoformat(value) for value in chosen]


def checkin_reminders(now: datetime | None = None) -> int:
    """Remind members who have not checked in today, at each of their reminder times that just passed."""
    now = now or timezone.now()
    made = 0
    members = User.objects.filter(
        pk__in=Enrolment.objects.current().filter(program__archived_at__isnull=True).values("member"), is_active=True
    )
    preferences = {p.person_id: p for p in NotificationPreferences.objects.filter(person__in=members)}
    for member in members.iterator():
        zone = ZoneInfo(member.time_zone)
        today = now.astimezone(zone).date()
        for clock in checkin_times(member, preferences.get(member.pk)):
            due = times.at(today, clock, zone)
            if not due <= now < due + LATE_BY_AT_MOST:
                continue
            if CheckIn.objects.filter(member=member, local_date=today).exists():
                continue
            source = f"checkin:{member.pk}:{today}:{clock:%H%M}"
            if Notification.objects.filter(source_key=source).exists():
                continue
            title = _("Time for a check-in? It takes two taps.")
            link = reverse("monitoring:checkin")
            sent = notify(
                member, kind=NotificationKind.CHECKIN_REMINDER, title=title, link=link, source_key=source, at=due
            )
            made += sent is not None
    return made


def questionnaire_reminders(now: datetime | None = None) -> int:
    """A questionnaire window that has opened, and one that closes within a day unanswered."""
    now = now or timezone.now()
    made = 0
    members = User.objects.filter(pk__in=Enrolment.objects.current().values("member"), is_active=True)
    for member in members.iterator():
        for assessment in questionnaires.due(member, now):
            made += _remind(member, assessment, "open", _("A questionnaire is ready for you"), now)
            if assessment.closes_at - now <= CLOSING_SOON:
                made += _remind(member, assessment, "closing", _("A questionnaire closes soon"), now)
    return made


def _remind(member, assessment: Assessment, what: str, title: str, now: datetime) -> int:
    source = f"questionnaire:{assessment.pk}:{what}"
    if Notification.objects.filter(source_key=source).exists():
        return 0
    link = reverse("monitoring:questionnaires")
    return bool(notify(member, kind=NotificationKind.QUESTIONNAIRE, title=title, link=link, source_key=source, at=now))
