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
    DeliveryStatus,
    InboxMessage,
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
    NotificationKind.GROUP_MEETING: [Channel.INBOX, Channel.EMAIL],
    NotificationKind.GROUP_ACTIVITY: [Channel.INBOX],
    NotificationKind.MODERATION: [Channel.INBOX, Channel.EMAIL],
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


def _deliveries(notification: Notification, channels: list[str], due: datetime, now: datetime):
    """The notification's delivery rows, and its inbox message when the in-app delivery is due already.

    An in-app delivery is only a row in the person's inbox, so when nothing makes it wait (quiet hours, a snooze)
    it is delivered in the transaction that makes it, already marked sent: there is nothing to hand to the
    worker, nothing that can fail outside the database, and the person sees it at once."""
    deliveries, messages = [], []
    for channel in channels:
        key = f"n{notification.pk}-{channel}"
        if channel == Channel.INBOX and due <= now:
            deliveries.append(
                Delivery(notification_id=notification.pk, channel=channel, key=key, due_at=due,
                         status=DeliveryStatus.SENT, sent_at=now, attempts=1)
            )  # fmt: skip
            messages.append(
                InboxMessage(recipient_id=notification.recipient_id, notification_id=notification.pk,
                             delivery_key=key, created_at=now)
            )  # fmt: skip
        else:
            deliveries.append(Delivery(notification_id=notification.pk, channel=channel, key=key, due_at=due))
    return deliveries, messages


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
    organisation=None,
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
    # Snoozed: non-urgent deliveries wait for the end of the snooze (and of the quiet hours it ends in).
    start = max(at, preferences.snoozed_until) if preferences.snoozed_until else at
    due = at if urgent else after_quiet_hours(start, preferences, recipient.time_zone)
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                recipient=recipient, kind=kind, urgent=urgent, title=title[:120], body=body[:500], link=link,
                source_key=source_key, organisation=organisation,
            )  # fmt: skip
            deliveries, messages = _deliveries(notification, channels, due, timezone.now())
            Delivery.objects.bulk_create(deliveries)
            InboxMessage.objects.bulk_create(messages)
    except IntegrityError:
        return Notification.objects.get(source_key=source_key)
    return notification


def notify_many(items: list[dict]) -> int:
    """`notify` for a batch (the worker turning thousands of due reminders into notifications at once): the
    same rules, in a few statements. Each item has the keyword arguments of `notify` and `recipient`. Sources
    already in the outbox are skipped; returns how many notifications were added."""
    keys = [item["source_key"] for item in items]
    known = set(Notification.objects.filter(source_key__in=keys).values_list("source_key", flat=True))
    items = [item for item in items if item["source_key"] not in known]
    if not items:
        return 0
    people = {item["recipient"].pk for item in items}
    preferences = {p.person_id: p for p in NotificationPreferences.objects.filter(person__in=people)}
    planned = []
    for item in items:
        recipient = item["recipient"]
        prefs = preferences.get(recipient.pk) or NotificationPreferences(person=recipient)
        channels = channels_for(recipient, item["kind"], prefs)
        if not channels:
            continue
        at = item.get("at") or timezone.now()
        urgent = item.get("urgent", False)
        start = max(at, prefs.snoozed_until) if prefs.snoozed_until else at
        due = at if urgent else after_quiet_hours(start, prefs, recipient.time_zone)
        notification = Notification(
            recipient=recipient, kind=item["kind"], urgent=urgent, title=item["title"][:120],
            body=item.get("body", "")[:500], link=item.get("link", ""), source_key=item["source_key"],
            organisation=item.get("organisation"),
        )  # fmt: skip
        planned.append((notification, channels, due))
    try:
        with transaction.atomic():
            created = Notification.objects.bulk_create([notification for notification, _c, _d in planned])
            if any(notification.pk is None for notification in created):  # a backend that returns no ids
                by_key = dict(
                    Notification.objects.filter(source_key__in=[n.source_key for n in created]).values_list(
                        "source_key", "pk"
                    )
                )
                for notification in created:
                    notification.pk = by_key[notification.source_key]
            now = timezone.now()
            deliveries, messages = [], []
            for notification, channels, due in planned:
                more_deliveries, more_messages = _deliveries(notification, channels, due, now)
                deliveries += more_deliveries
                messages += more_messages
            Delivery.objects.bulk_create(deliveries)
            InboxMessage.objects.bulk_create(messages)
    except IntegrityError:
        # Another worker added some of the same sources meanwhile: fall back to one at a time (each is safe).
        return sum(
            Notification.objects.filter(source_key=item["source_key"]).exists() is False and notify(**item) is not None
            for item in items
        )
    return len(planned)
