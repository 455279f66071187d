"""What an appointment goes through: a short checklist of agenda items (go through the plan, review goals), set
per appointment or series and ticked per occurrence by the staff member who runs it.

Items are registered by key. The schedule app registers those that are a simple tick; an app above it
registers an item that has a page of its own, where the item is worked through and ticked (the goals app's
goal review: `goals/review.py`). An appointment keeps the keys it was given; an item no longer registered is
left out when shown."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alongside.care import policy
from alongside.care.models import Category
from alongside.schedule.models import AppointmentKind, ChecklistTick, Occurrence, OccurrenceStatus


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label: str | Promise
    # What the member reads about it before the appointment.
    for_member: str | Promise
    # A URL name taking the occurrence's id, where the item is worked through and ticked; None for a plain tick.
    page: str | None = None


_ITEMS: dict[str, ChecklistItem] = {}

# New appointments of each kind start with these (those registered); whoever schedules one may change them.
DEFAULTS_BY_KIND: dict[str, tuple[str, ...]] = {
    AppointmentKind.THERAPY: ("goal_review", "plan_review"),
    AppointmentKind.MEDICATION_REVIEW: ("medication",),
    AppointmentKind.CASE_MANAGEMENT: ("goal_review", "plan_review"),
    AppointmentKind.PEER_COACHING: ("goal_review",),
    AppointmentKind.GROUP: (),
    AppointmentKind.OTHER: (),
}

# Ticked only by the staff member running the appointment, and only when it can have happened or is happening.
TICKABLE_STATUSES = (
    OccurrenceStatus.SCHEDULED,
    OccurrenceStatus.CONFIRMED,
    OccurrenceStatus.RESCHEDULE_REQUESTED,
    OccurrenceStatus.RESCHEDULED,
    OccurrenceStatus.ATTENDED,
)


def register(item: ChecklistItem) -> None:
    _ITEMS[item.key] = item


def registered() -> list[ChecklistItem]:
    return list(_ITEMS.values())


def item(key: str) -> ChecklistItem | None:
    return _ITEMS.get(key)


def defaults_for(kind: str) -> list[str]:
    return [key for key in DEFAULTS_BY_KIND.get(kind, ()) if key in _ITEMS]


def clean_keys(keys) -> list[str]:
    """The keys given, each once and in the registry's order; an unknown key is refused by name."""
    keys = list(keys or ())
    unknown = [key for key in keys if key not in _ITEMS]
    if unknown:
        raise ValidationError({"checklist": _("Choose items of the agenda offered.")})
    return [key for key in _ITEMS if key in keys]


@dataclass
class ChecklistLine:
    item: ChecklistItem
    tick: ChecklistTick | None
    url: str | None

    @property
    def done(self) -> bool:
        return self.tick is not None


def lines_for(occurrence: Occurrence) -> list[ChecklistLine]:
    """The occurrence's checklist, each item with its tick (if done) and its page."""
    keys = [key for key in occurrence.appointment.checklist if key in _ITEMS]
    if not keys:
        return []
    ticks = {tick.key: tick for tick in occurrence.checklist_ticks.select_related("done_by")}
    return [
        ChecklistLine(
            item=_ITEMS[key],
            tick=ticks.get(key),
            url=reverse(_ITEMS[key].page, args=[occurrence.pk]) if _ITEMS[key].page else None,
        )
        for key in keys
    ]


def may_tick(person, occurrence: Occurrence) -> bool:
    from alongside.schedule import series

    return occurrence.status in TICKABLE_STATUSES and series.may_manage(person, occurrence.appointment)


def tick(occurrence: Occurrence, key: str, *, by, done: bool = True, request=None) -> ChecklistTick | None:
    """Mark one item of the occurrence's checklist done (or not done again). Only the staff member running it (or
    a co-author of the member's appointments) may; an item not on this appointment's checklist is refused."""
    if not may_tick(by, occurrence):
        raise PermissionDenied
    if key not in occurrence.appointment.checklist or key not in _ITEMS:
        raise ValidationError({"checklist": _("That is not on this appointment's agenda.")})
    with transaction.atomic():
        if done:
            row, created = ChecklistTick.objects.get_or_create(
                occurrence=occurrence, key=key, defaults={"done_by": by, "done_at": timezone.now()}
            )
        else:
            row, created = None, ChecklistTick.objects.filter(occurrence=occurrence, key=key).delete()[0] > 0
        if created:
            appointment = occurrence.appointment
            policy.record_staff_change(
                request, by, appointment.member, Category.APPOINTMENTS,
                f"{'ticked' if done else 'unticked'} {key} at occurrence {occurrence.pk}",
                organisation=appointment.organisation,
            )  # fmt: skip
    return row


register(
    ChecklistItem(
        key="plan_review",
        label=gettext_lazy("Go through the aftercare and safety plan"),
        for_member=gettext_lazy("You will look at your aftercare and safety plan together: what still fits."),
    )
)
register(
    ChecklistItem(
        key="medication",
        label=gettext_lazy("Talk about medication"),
        for_member=gettext_lazy("You will talk about your medication: how it is going, and any side effects."),
    )
)
