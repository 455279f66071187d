"""Safety alerts: every safety event becomes an urgent notification for each supporter who receives the
member's safety alerts. Keyed by event and supporter, so the receiver and the worker's sweep never alert
twice, and an alert the receiver could not make is made by the sweep."""

from __future__ import annotations

from datetime import timedelta

from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from alongside.care import safety
from alongside.care.models import SafetyEvent, SafetyKind
from alongside.notify.models import Notification, NotificationKind
from alongside.notify.outbox import notify

SWEEP_BACK = timedelta(days=2)


def route(event: SafetyEvent) -> int:
    """Alert each safety-alert supporter of the member about this event; returns how many alerts are new."""
    made = 0
    urgent_kinds = (SafetyKind.PHQ9_ITEM9, SafetyKind.CRISIS_LANGUAGE)
    for relationship in safety.safety_recipients(event.member):
        key = f"safety:{event.pk}:{relationship.staff_id}"
        if Notification.objects.filter(source_key=key).exists():
            continue
        asked = event.team_asked
        title = (_("%(name)s asked their team to reach out") if asked else _("%(name)s may need support now")) % {
            "name": event.member.display_name
        }
        notify(
            relationship.staff, kind=NotificationKind.SAFETY_ALERT, title=title,
            link=reverse("web:member_record", args=[event.member_id]), source_key=key,
            urgent=asked or event.kind in urgent_kinds, at=event.occurred_at, organisation=relationship.organisation,
        )  # fmt: skip
        made += 1
    return made


@receiver(safety.safety_event_recorded, dispatch_uid="notify_route_safety_event")
def route_new_event(sender, event, **kwargs):
    route(event)


def sweep(now=None) -> int:
    """Route recent events again (idempotent): catches any whose routing failed when they were recorded."""
    now = now or timezone.now()
    made = 0
    for event in SafetyEvent.objects.filter(occurred_at__gte=now - SWEEP_BACK).select_related("member"):
        made += route(event)
    return made
