"""A person's schedule preferences: when they are reminded, and whether their calendar feed shows titles."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alongside.schedule import reminders
from alongside.schedule.models import UPCOMING_STATUSES, Occurrence, SchedulePreferences

# The reminder offsets a person may choose from (minutes before an appointment), and how many at most.
REMINDER_CHOICES = (
    (15, gettext_lazy("15 minutes before")),
    (60, gettext_lazy("1 hour before")),
    (3 * 60, gettext_lazy("3 hours before")),
    (24 * 60, gettext_lazy("24 hours before")),
    (48 * 60, gettext_lazy("48 hours before")),
)
MAX_REMINDERS = 3


def preferences_of(person) -> SchedulePreferences:
    """The person's preferences (the defaults, unsaved, if they never chose)."""
    return SchedulePreferences.objects.filter(person=person).first() or SchedulePreferences(person=person)


def save_preferences(person, *, feed_shows_titles: bool, reminder_offsets: list[int]) -> SchedulePreferences:
    """Save the person's choices; when the reminder offsets changed, their upcoming appointments' reminders are
    made again. Raises ValidationError naming the field."""
    allowed = {minutes for minutes, _label in REMINDER_CHOICES}
    try:
        offsets = sorted({int(minutes) for minutes in reminder_offsets}, reverse=True)
    except (TypeError, ValueError):
        raise ValidationError({"reminder_offsets": _("Choose reminder times from the list.")}) from None
    if any(minutes not in allowed for minutes in offsets):
        raise ValidationError({"reminder_offsets": _("Choose reminder times from the list.")})
    if len(offsets) > MAX_REMINDERS:
        raise ValidationError({"reminder_offsets": _("Choose at most %(n)s reminder times.") % {"n": MAX_REMINDERS}})
    with transaction.atomic():
        preferences, _created = SchedulePreferences.objects.select_for_update().get_or_create(person=person)
        changed = sorted(preferences.reminder_offsets, reverse=True) != offsets
        preferences.feed_shows_titles = bool(feed_shows_titles)
        preferences.reminder_offsets = offsets
        preferences.save()
        if changed:
            upcoming = Occurrence.objects.filter(
                Q(appointment__member=person) | Q(appointment__staff=person),
                status__in=UPCOMING_STATUSES,
                start__gt=timezone.now(),
            ).select_related("appointment__member", "appointment__staff")
            for occurrence in upcoming:
                reminders.refresh(occurrence)
    return preferences
