"""What people change about their notifications, each change one named function: reading inbox messages,
choosing channels, quiet hours, check-in reminder times and snoozing; and, for an organisation's admins,
trying a given-up delivery again.

Views, the API and tests call these; the rules and their messages live here, so a page and an app refuse the
same things with the same words. Errors are `ValidationError`s naming the field they concern (a kind's value
for its channels).
"""

from __future__ import annotations

import re
from copy import copy
from datetime import datetime, time, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from alongside.accounts.models import Organisation, admin_organisations
from alongside.audit.log import record
from alongside.audit.models import AuditAction
from alongside.notify.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    InboxMessage,
    NotificationKind,
    NotificationPreferences,
)
from alongside.notify.outbox import after_quiet_hours
from alongside.notify.reminders import checkin_times as reminder_times_for

MAX_CHECKIN_TIMES = 4
# Channels only care staff may choose: the organisation's gateway is for people on duty.
STAFF_ONLY_CHANNELS = frozenset({Channel.WEBHOOK})
# Kinds that only concern people who support members.
STAFF_KINDS = (NotificationKind.CARE_TEAM, NotificationKind.SAFETY_ALERT, NotificationKind.MODERATION)
SNOOZES = {"day": timedelta(days=1), "week": timedelta(days=7)}
LONGEST_SNOOZE = timedelta(days=31)
_HH_MM = re.compile(r"\d{2}:\d{2}")


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()  # "leave this preference as it is"


# The inbox


def unread_count(person) -> int:
    return InboxMessage.objects.filter(recipient=person, read_at__isnull=True).count()


def mark_read(person, message: InboxMessage) -> InboxMessage:
    """Mark one of the person's own messages read (reading it twice keeps the first time)."""
    if message.recipient_id != person.pk:
        raise PermissionDenied
    if message.read_at is None:
        now = timezone.now()
        InboxMessage.objects.filter(pk=message.pk, read_at__isnull=True).update(read_at=now)
        message.read_at = now
    return message


def mark_all_read(person) -> int:
    """Mark every unread message of the person read; returns how many there were."""
    return InboxMessage.objects.filter(recipient=person, read_at__isnull=True).update(read_at=timezone.now())


# Preferences


def kinds_for(person) -> list[str]:
    """The kinds of notification that concern this person (staff kinds only for care staff)."""
    staff = person.is_care_staff
    return [kind for kind in NotificationKind.values if staff or kind not in STAFF_KINDS]


def channels_offered(person) -> list[str]:
    return [channel for channel in Channel.values if person.is_care_staff or channel not in STAFF_ONLY_CHANNELS]


def _clean_channels(person, channels: dict) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    offered = channels_offered(person)
    cleaned = {}
    if not isinstance(channels, dict):
        raise ValidationError({"channels": _("Give the channels for each kind of notification.")})
    for kind, chosen in channels.items():
        if kind not in NotificationKind.values:
            errors.setdefault("channels", []).append(_("“%(kind)s” is not a kind of notification.") % {"kind": kind})
            continue
        chosen = list(chosen or [])
        unknown = [channel for channel in chosen if channel not in Channel.values]
        if unknown:
            errors.setdefault(kind, []).append(
                _("“%(channel)s” is not a way Alongside sends notifications.") % {"channel": unknown[0]}
            )
            continue
        refused = [channel for channel in chosen if channel not in offered]
        if refused:
            errors.setdefault(kind, []).append(
                _("%(channel)s is only for care staff.") % {"channel": Channel(refused[0]).label}
            )
            continue
        if kind == NotificationKind.SAFETY_ALERT and Channel.INBOX not in chosen:
            errors.setdefault(kind, []).append(
                _("Safety alerts always reach your inbox in Alongside; you may turn the other ways on or off.")
            )
            continue
        cleaned[kind] = [channel for channel in Channel.values if channel in chosen]  # in order, once each
    if errors:
        raise ValidationError(errors)
    return cleaned


def current_checkin_times(person, preferences: NotificationPreferences) -> list[str]:
    """The person's check-in reminder times: their own once they have saved any preference, their program's
    until then (as the reminders job reads them)."""
    return [f"{clock:%H:%M}" for clock in reminder_times_for(person, preferences if preferences.pk else None)]


def _clean_checkin_times(values) -> list[str]:
    if isinstance(values, str) or not isinstance(values, list | tuple):
        raise ValidationError({"checkin_times": _("Give check-in reminder times as a list, e.g. 08:30.")})
    times = []
    for value in values:
        value = str(value).strip()
        try:
            if not _HH_MM.fullmatch(value):
                raise ValueError
            time.fromisoformat(value)
        except ValueError:
            raise ValidationError(
                {
                    "checkin_times": _("“%(value)s” is not a time of day. Use hours and minutes, e.g. 08:30.")
                    % {"value": value}
                }
            ) from None
        if value not in times:
            times.append(value)
    if len(times) > MAX_CHECKIN_TIMES:
        raise ValidationError(
            {"checkin_times": _("Choose at most %(max)s check-in reminder times.") % {"max": MAX_CHECKIN_TIMES}}
        )
    return sorted(times)


def _clean_snooze(value: datetime | None, now: datetime) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or timezone.is_naive(value):
        raise ValidationError({"snoozed_until": _("Give the end of the snooze as a date and time with its zone.")})
    if value <= now:
        return None  # a snooze that has already ended is no snooze
    if value > now + LONGEST_SNOOZE:
        raise ValidationError({"snoozed_until": _("Snooze for at most a month.")})
    return value


@transaction.atomic
def save_preferences(
    person,
    *,
    channels: dict | _Keep = KEEP,
    quiet_hours: bool | _Keep = KEEP,
    quiet_start: time | _Keep | None = KEEP,
    quiet_end: time | _Keep | None = KEEP,
    checkin_times: list[str] | _Keep = KEEP,
    snoozed_until: datetime | _Keep | None = KEEP,
) -> NotificationPreferences:
    """Save the person's notification preferences. Anything not given (KEEP) stays as it is.

    `channels` maps kinds to the channels they use; kinds not in it keep what they had (or the defaults).
    `snoozed_until`: non-urgent notifications wait until then (None stops snoozing). Starting a snooze also
    holds back non-urgent deliveries already waiting; stopping it early lets those it held go now.
    """
    now = timezone.now()
    preferences = NotificationPreferences.objects.select_for_update().filter(person=person).first()
    if preferences is None:
        preferences = NotificationPreferences(person=person)
        # Saving any preference makes the stored times the ones that count: start from the program's.
        preferences.checkin_times = current_checkin_times(person, preferences)
    before = copy(preferences)
    errors: dict[str, list[str]] = {}

    def collect(step):
        try:
            return step()
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                errors.setdefault(field, []).extend(messages)
            return KEEP

    if channels is not KEEP:
        cleaned = collect(lambda: _clean_channels(person, channels))
        if cleaned is not KEEP:
            preferences.channels = {**preferences.channels, **cleaned}
    if quiet_hours is not KEEP:
        preferences.quiet_hours = bool(quiet_hours)
    for field, value in (("quiet_start", quiet_start), ("quiet_end", quiet_end)):
        if value is KEEP:
            continue
        if value is None:
            if preferences.quiet_hours:
                errors.setdefault(field, []).append(_("Give a time, e.g. 21:00."))
            continue
        if not isinstance(value, time):
            errors.setdefault(field, []).append(_("Give a time, e.g. 21:00."))
            continue
        setattr(preferences, field, value.replace(second=0, microsecond=0, tzinfo=None))
    if (
        preferences.quiet_hours
        and "quiet_start" not in errors
        and "quiet_end" not in errors
        and preferences.quiet_start == preferences.quiet_end
    ):
        errors.setdefault("quiet_end", []).append(_("Quiet hours need to end at a different time than they start."))
    if checkin_times is not KEEP:
        cleaned = collect(lambda: _clean_checkin_times(checkin_times))
        if cleaned is not KEEP:
            preferences.checkin_times = cleaned
    if snoozed_until is not KEEP:
        cleaned = collect(lambda: _clean_snooze(snoozed_until, now))
        if cleaned is not KEEP:
            preferences.snoozed_until = cleaned
    if errors:
        raise ValidationError(errors)
    preferences.save()
    if snoozed_until is not KEEP:
        _hold_or_release(person, before, preferences, now)
    return preferences


def snooze(person, length: str) -> NotificationPreferences:
    """Snooze everything non-urgent for a day or a week from now."""
    if length not in SNOOZES:
        raise ValidationError({"snoozed_until": _("Snooze for a day or a week.")})
    return save_preferences(person, snoozed_until=timezone.now() + SNOOZES[length])


def stop_snoozing(person) -> NotificationPreferences:
    return save_preferences(person, snoozed_until=None)


def _hold_or_release(person, before: NotificationPreferences, after: NotificationPreferences, now) -> None:
    """Move the person's waiting non-urgent deliveries to fit the new snooze. Held ones are due exactly when
    `outbox.notify` would have made them due: the end of the snooze, or of the quiet hours it ends in."""
    zone = person.time_zone
    waiting = Delivery.objects.filter(
        notification__recipient=person, notification__urgent=False, status=DeliveryStatus.PENDING
    )
    old_end = before.snoozed_until if before.snoozed_until and before.snoozed_until > now else None
    new_end = after.snoozed_until
    if old_end and (new_end is None or new_end < old_end):
        held_until = after_quiet_hours(old_end, before, zone)
        release_at = after_quiet_hours(new_end or now, after, zone)
        waiting.filter(due_at__gte=old_end, due_at__lte=held_until).update(due_at=release_at)
    if new_end:
        waiting.filter(due_at__lt=new_end).update(due_at=after_quiet_hours(new_end, after, zone))


# Dead letters, for the organisation's admins


def dead_letters(organisation: Organisation) -> QuerySet[Delivery]:
    """Deliveries given up on whose recipient belongs to the organisation, most recently failed first."""
    return (
        Delivery.objects.filter(
            status=DeliveryStatus.DEAD, notification__recipient__org_roles__organisation=organisation
        )
        .distinct()
        .select_related("notification__recipient")
        .order_by("-due_at", "-pk")
    )


@transaction.atomic
def retry_dead(delivery: Delivery, by, *, organisation: Organisation | None = None, request=None) -> Delivery:
    """An admin of an organisation the recipient belongs to sends a dead delivery again: waiting, due now,
    with its attempts counted from zero. Audited without any member data (the delivery's key only)."""
    allowed = admin_organisations(by).filter(roles__user_id=delivery.notification.recipient_id)
    if organisation is not None:
        allowed = allowed.filter(pk=organisation.pk)
    organisation = allowed.first()
    if organisation is None:
        raise PermissionDenied
    now = timezone.now()
    changed = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.DEAD).update(
        status=DeliveryStatus.PENDING, due_at=now, attempts=0, claimed_by="", lease_until=None, last_error=""
    )
    if not changed:
        raise ValidationError(_("This delivery is no longer given up: it is being sent or was sent."))
    record(
        AuditAction.CHANGE,
        actor=by,
        request=request,
        organisation=organisation,
        detail=f"retried a given-up {delivery.channel} delivery ({delivery.key})",
    )
    delivery.refresh_from_db()
    return delivery
