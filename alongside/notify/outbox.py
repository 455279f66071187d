"""Putting notifications in the outbox: one named function (`notify`), which decides the channels from the
person's preferences and when each delivery may go out (quiet hours in their own time zone)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone

from alongside.notify.models import (
    Channel,
    Delivery,
    Notification,
    NotificationKind,
    NotificationPreferences,
)
from alongside.schedule import times

# Channels each kind uses until the person chooses otherwise.
DEFAULT_CHANNELS: dict[str, list[str]] = {
    NotificationKind.CHECKIN_REMINDER: [Channel.INBOX],
    NotificationKind.APPOINTMENT_REMINDER: [Channel.INBOX, Channel.EMAIL],
    NotificationKind.ROUTINE_REMINDER: [Channel.INBOX],
    NotificationKind.QUESTIONNAIRE: [Channel.INBOX, Channel.EMAIL],
    NotificationKind.NUDGE: [Channel.INBOX, Channel.EMAIL],
    NotificationKind.CARE_TEAM: [Channel.INBOX, Channel.EMAIL],
    NotificationKind.SAFETY_ALERT: [Channel.INBOX, Channel.EMAIL, Channel.WEBHOOK],
}


def preferences_of(person) -> NotificationPreferences:
    preferences = NotificationPreferences.objects.filter(person=person).first()
    return preferences or NotificationPreferences(person=person)


def channels_for(person, kind: str, preferences: NotificationPreferences | None = None) -> list[str]:
    preferences = preferences or preferences_of(person)
    chosen = preferences.channels.get(kind)
    channels = list(DEFAULT_CHANNELS.get(kind, [Channel.INBOX]) if chosen is None else chosen)
    if kind == NotificationKind.SAFETY_ALERT and Channel.INBOX not in channels:
        channels.insert(0, Channel.INBOX)  # a safety alert is always in the inbox, whatever else is turned off
    return channels


def in_quiet_hours(local: time, start: time, end: time) -> bool:
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end  # across midnight, e.g. 21:00 to 08:00


def after_quiet_hours(moment: datetime, preferences: NotificationPreferences, zone: str) -> datetime:
    """`moment`, or the end of the person's quiet hours if it falls inside them (on their own clock)."""
    if not preferences.quiet_hours:
        return moment
    tz = ZoneInfo(zone)
    local = moment.astimezone(tz)
    if not in_quiet_hours(local.time(), preferences.quiet_start, preferences.quiet_end):
        return moment
    end_day = local.date()
    if preferences.quiet_start > preferences.quiet_end and local.time() >= preferences.quiet_start:
        end_day += timedelta(days=1)
    return times.at(end_day, preferences.quiet_end, zone)


def notify(
    recipient,
    *,
    kind: str,
    title: str,
    source_key: str,
    body: str = "",
    link: str = "",
    urgent: bool = False,
    at: datetime | None = None,
) -> Notification | None:
    """Put a notification in the outbox with a delivery per channel. The same `source_key` twice returns the
    first notification and adds nothing (so a retried job never notifies twice). Returns None when the
    person's preferences turn every channel off."""
    existing = Notification.objects.filter(source_key=source_key).first()
    if existing is not None:
        return existing
    preferences = preferences_of(recipient)
    channels = channels_for(recipient, kind, preferences)
    if not channels:
        return None
    at = at or timezone.now()
    due = at if urgent else after_quiet_hours(at, preferences, recipient.time_zone)
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                recipient=recipient, kind=kind, urgent=urgent, title=title[:120], body=body[:500], link=link,
                source_key=source_key,
            )  # fmt: skip
            Delivery.objects.bulk_create(
                [
                    Delivery(
                        notification=notification, channel=channel, key=f"n{notification.pk}-{channel}", due_at=due
                    )
                    for channel in channels
                ]
            )
    except IntegrityError:
        return Notification.objects.get(source_key=source_key)
    return notification
