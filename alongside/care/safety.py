"""Safety events: recorded the moment they happen, then shown to (and, once alerts exist, routed to) the
supporters the member has chosen to receive safety alerts."""

from __future__ import annotations

import logging

from django.db import transaction

from alongside.care.models import CareRelationship, SafetyEvent, SafetyKind

log = logging.getLogger(__name__)


def record_safety_event(member, kind: SafetyKind | str, *, source: str = "", team_asked: bool = False) -> SafetyEvent:
    """Store the event in its own transaction so that it survives even if the caller's later work fails."""
    with transaction.atomic():
        event = SafetyEvent.objects.create(member=member, kind=SafetyKind(kind), source=source, team_asked=team_asked)
    # Logged without any of the member's words: enough for operators to see that the path ran.
    log.warning("safety event %s for member %s (%s)", event.pk, member.pk, event.kind)
    return event


def safety_recipients(member):
    """Supporters who get this member's safety alerts (the member chose them on "Who sees what")."""
    return CareRelationship.objects.active().filter(member=member, safety_alerts=True).select_related("staff")


def events_visible_to(person, member):
    """A supporter sees a member's safety events while they receive that member's safety alerts."""
    from alongside.care.policy import live_relationships

    if person.pk == member.pk or live_relationships(person).filter(member=member, safety_alerts=True).exists():
        return SafetyEvent.objects.filter(member=member)
    return SafetyEvent.objects.none()
