"""Safety events: recorded the moment they happen, then routed to the supporters the member has chosen to
receive safety alerts. The event is stored first, in its own transaction; `safety_event_recorded` is sent once
it is committed, and the notify app turns it into an urgent alert for each of those supporters (and its
worker sweeps for any event whose alerts are missing, so a failure there loses nothing)."""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.dispatch import Signal

from alongside.care.models import Category, SafetyEvent, SafetyKind

log = logging.getLogger(__name__)

# Sent after a safety event is committed, with `event`. Receivers must not raise into the caller: the member's
# crisis screen comes first.
safety_event_recorded = Signal()


def _announce(event: SafetyEvent) -> None:
    def send():
        for _receiver, response in safety_event_recorded.send_robust(sender=SafetyEvent, event=event):
            if isinstance(response, Exception):
                log.error("routing safety event %s failed (the worker will retry): %r", event.pk, response)

    transaction.on_commit(send)


def record_safety_event(member, kind: SafetyKind | str, *, source: str = "", team_asked: bool = False) -> SafetyEvent:
    """Store the event in its own transaction so that it survives even if the caller's later work fails."""
    with transaction.atomic():
        event = SafetyEvent.objects.create(member=member, kind=SafetyKind(kind), source=source, team_asked=team_asked)
    # Logged without any of the member's words: enough for operators to see that the path ran.
    log.warning("safety event %s for member %s (%s)", event.pk, member.pk, event.kind)
    _announce(event)
    return event


def record_struggling(member, *, ask_team: bool, client_key: str = "") -> SafetyEvent:
    """The member pressed "I'm struggling" (ask_team False) or asked their team to reach out (True).

    A device sends a key with each press; the same key sent again (an offline retry) returns the event
    already stored instead of a second one. Each press is on the member's timeline; asking the team is the
    urgent kind that alerts route at once."""
    client_key = (client_key or "").strip()[:80]
    if client_key:
        existing = SafetyEvent.objects.filter(member=member, client_key=client_key).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            event = SafetyEvent.objects.create(
                member=member,
                kind=SafetyKind.STRUGGLING,
                source="asked the team to reach out" if ask_team else "pressed I'm struggling",
                team_asked=ask_team,
                client_key=client_key,
            )
    except IntegrityError:
        # The same key arrived twice at once: the other request stored it.
        return SafetyEvent.objects.get(member=member, client_key=client_key)
    asked = ", team asked" if ask_team else ""
    log.warning("safety event %s for member %s (%s%s)", event.pk, member.pk, event.kind, asked)
    _announce(event)
    return event


def safety_recipients(member):
    """Supporters who get this member's safety alerts (the member chose them on "Who sees what"), in a
    relationship that is active and a role they still hold."""
    from alongside.care.policy import live_team

    return live_team(member).filter(safety_alerts=True).select_related("staff")


def events_visible_to(person, member):
    """A supporter sees a member's safety events while they receive that member's safety alerts (crisis language
    in the journal only if the member also shares their journal with them, in a group post only if they share
    their group activity)."""
    from alongside.care.policy import live_relationships

    if person.pk == member.pk:
        return SafetyEvent.objects.filter(member=member)
    chosen = live_relationships(person).filter(member=member, safety_alerts=True)
    if not chosen.exists():
        return SafetyEvent.objects.none()
    events = SafetyEvent.objects.filter(member=member)
    # Crisis language comes from the journal: only for supporters the member also shares their journal with.
    if not chosen.filter(consent_grants__category=Category.JOURNAL).exists():
        events = events.exclude(kind=SafetyKind.CRISIS_LANGUAGE)
    if not chosen.filter(consent_grants__category=Category.GROUPS).exists():
        events = events.exclude(kind=SafetyKind.CRISIS_LANGUAGE_POST)
    return events
