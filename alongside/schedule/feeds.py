"""Calendar feeds (RFC 5545): a secret, revocable iCalendar URL per person, and single appointments as `.ics`.

The URL holds a token (`alf_…`) of which only the SHA-256 is stored, like personal access tokens
(accounts/tokens.py): it is shown once, when it is made, and a new one replaces the old. A wrong or revoked
token, or one of a person who was deactivated, finds nobody.

What a feed says:

- One master VEVENT per series, its UID stable (`appointment-<pk>@alongside`), its DTSTART and DTEND on the
  series' own wall clock (TZID, with the VTIMEZONE it needs), its RRULE (UNTIL in UTC; a rule without an
  end gets the COUNT Alongside stops at), EXDATE for each cancelled occurrence and SEQUENCE = the series'.
- For an occurrence that is not where the rule puts it (moved, or placed at the jump on a night the clocks
  skip its time), an override with the same UID, RECURRENCE-ID = where the rule put it, its own start, end
  and SEQUENCE (the series' plus its own, so it rises with either and is never below the master's).
- Stored occurrences the rule does not (or no longer) produce, e.g. past ones kept where they happened after
  the series followed its member to another zone, are events of their own; rule dates Alongside has no
  occurrence for are excluded. So a calendar client expands the feed to exactly Alongside's occurrences.

Privacy: the summary is "Appointment" and nothing else is said (no kind, place, link, notes, reasons or
status) unless the person chose to show titles in their feed (SchedulePreferences.feed_shows_titles). Then
the title is shown (to a supporter, with the member's display name), the address of an appointment in
person, and the video link, to the people in the appointment only. Every event is CLASS:PRIVATE.

Sources: a feed is made of the events every source in `SOURCES` gives for the person; appointments are the
first. Another app (group meetings) adds its own with `add_source`.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import icalendar
from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from alongside.audit.log import record
from alongside.audit.models import AuditAction
from alongside.schedule import series, times
from alongside.schedule.models import (
    Appointment,
    CalendarFeed,
    LocationKind,
    Occurrence,
    OccurrenceStatus,
    SchedulePreferences,
)

TOKEN_PREFIX = "alf_"  # noqa: S105 (a label that makes leaked feed links easy to recognise, not a secret)
PRODID = "-//Alongside//Calendar feed//EN"
DOMAIN = "alongside"
# Calendar clients are asked to fetch the feed again about this often.
REFRESH = timedelta(hours=1)
# VTIMEZONE components cover the events' dates with this much to spare.
ZONE_MARGIN = timedelta(days=366)


# Feed links ----------------------------------------------------------------------------------------------


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_feed(person, *, request=None) -> tuple[CalendarFeed, str]:
    """A new feed link for `person`, replacing (revoking) any earlier one; returns (feed, the raw token to show
    once)."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        _revoke(person)
        feed = CalendarFeed.objects.create(person=person, token_hash=_hash(raw))
        record(AuditAction.TOKEN, actor=person, request=request, detail=f"made calendar feed link {feed.pk}")
    return feed, raw


def _revoke(person) -> int:
    return CalendarFeed.objects.filter(person=person, revoked_at__isnull=True).update(revoked_at=timezone.now())


def revoke_feeds(person, *, request=None) -> int:
    """Turn off the person's feed link(s); returns how many were live."""
    with transaction.atomic():
        revoked = _revoke(person)
        if revoked:
            record(AuditAction.TOKEN, actor=person, request=request, detail="turned off calendar feed link")
    return revoked


def live_feed(person) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(person=person, revoked_at__isnull=True).order_by("-created_at").first()


def person_for_token(raw: str):
    """The person whose live feed link this is; None for a wrong or revoked token or a deactivated person."""
    if not raw or not isinstance(raw, str) or not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
        return None
    feed = CalendarFeed.objects.select_related("person").filter(token_hash=_hash(raw), revoked_at__isnull=True).first()
    if feed is None or not feed.person.is_active:
        return None
    return feed.person


# Who reads, and what they see ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Reader:
    """The person a calendar is made for, and what they chose to show in it."""

    person: object
    shows_titles: bool

    @classmethod
    def of(cls, person) -> Reader:
        preferences = SchedulePreferences.objects.filter(person=person).first()
        return cls(person=person, shows_titles=bool(preferences and preferences.feed_shows_titles))


# A source gives the events of a person's calendar (each a complete VEVENT with its own stable UID), and the
# time zones (names) their TZIDs use.
Source = Callable[[Reader], Iterable[icalendar.Event]]
SOURCES: list[Source] = []


def add_source(source: Source) -> Source:
    """Add a source of events to every person's feed (usable as a decorator)."""
    if source not in SOURCES:
        SOURCES.append(source)
    return source


# Building events ---------------------------------------------------------------------------------------


def _uid(appointment: Appointment) -> str:
    return f"appointment-{appointment.pk}@{DOMAIN}"


def _occurrence_uid(occurrence: Occurrence) -> str:
    return f"appointment-{occurrence.appointment_id}-occurrence-{occurrence.pk}@{DOMAIN}"


@cache
def describable(zone_name: str) -> bool:
    """Whether a VTIMEZONE can be written for this zone (else its events are written in UTC)."""
    try:
        icalendar.Timezone.from_tzid(zone_name, first_date=date(2000, 1, 1), last_date=date(2001, 1, 1))
    except ValueError:
        return False
    return True


def _describe(event: icalendar.Event, appointment: Appointment, reader: Reader) -> None:
    """Summary and, only if the reader chose to show titles, the title, place and link."""
    event.add("class", "PRIVATE")
    if not reader.shows_titles:
        event.add("summary", _("Appointment"))
        return
    if reader.person.pk == appointment.member_id:
        summary = appointment.title
    else:
        summary = _("%(title)s with %(name)s") % {"title": appointment.title, "name": appointment.member.display_name}
    event.add("summary", summary)
    lines = [appointment.get_kind_display()]
    if appointment.location_kind == LocationKind.IN_PERSON and appointment.address:
        event.add("location", appointment.address)
    elif appointment.location_kind == LocationKind.ONLINE:
        if reader.person.pk in (appointment.member_id, appointment.staff_id) and appointment.video_url:
            event.add("location", appointment.video_url)
            event.add("url", appointment.video_url)
            lines.append(_("Online: %(link)s") % {"link": appointment.video_url})
        else:
            lines.append(_("Online"))
    event.add("description", "\n".join(lines))


def make_event(uid: str, stamp: datetime, sequence: int, start: datetime, end: datetime) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("sequence", sequence)
    return event


def _revised(appointment: Appointment, occurrences: Iterable[Occurrence]) -> datetime:
    """When the series was last changed, as far as Alongside knows (its DTSTAMP)."""
    return max([appointment.created_at, *(o.status_at for o in occurrences if o.status_at)])


def feed_rule(rule: str, zone: ZoneInfo, *, ends_at: datetime | None = None) -> icalendar.vRecur:
    """A series' rule for calendar clients: UNTIL in UTC (RFC 5545, with a zoned DTSTART; a local UNTIL is read
    on the series' clock, to the end of the day when it is a date), a series ended early stops at `ends_at`, and
    a rule without an end stops where Alongside stops (series.MAX_OCCURRENCES)."""
    parts = dict(part.split("=", 1) for part in rule.upper().split(";") if "=" in part)
    until = parts.get("UNTIL")
    moment = None
    if until:
        digits = until.removesuffix("Z")
        digits = digits if "T" in digits else digits + "T235959"
        naive = datetime.strptime(digits + "+0000", "%Y%m%dT%H%M%S%z").replace(tzinfo=None)
        moment = naive.replace(tzinfo=UTC) if until.endswith("Z") else times.to_utc(naive, zone)
    if ends_at is not None:
        parts.pop("COUNT", None)
        moment = min(moment, ends_at) if moment else ends_at
    if moment is not None:
        parts["UNTIL"] = moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    elif "COUNT" not in parts:
        parts["COUNT"] = str(series.MAX_OCCURRENCES)
    return icalendar.vRecur.from_ical(";".join(f"{name}={value}" for name, value in parts.items()))


def _in_zone(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone)


def appointment_components(appointment: Appointment, reader: Reader) -> Iterator[icalendar.Event]:
    """The VEVENTs of one appointment or series, for this reader. Expects `appointment.occurrences` loaded."""
    occurrences = list(appointment.occurrences.all())
    if not describable(appointment.time_zone):
        yield from _standalone(appointment, occurrences, reader, ZoneInfo("UTC"), single=not appointment.rrule)
        return
    zone = ZoneInfo(appointment.time_zone)
    if not appointment.rrule:
        yield from _standalone(appointment, occurrences, reader, zone, single=True)
        return
    duration = timedelta(minutes=appointment.duration_minutes)
    first = datetime.combine(appointment.start_date, appointment.start_time)
    master = make_event(
        _uid(appointment),
        _revised(appointment, occurrences),
        appointment.sequence,
        first.replace(tzinfo=zone),
        (first + duration).replace(tzinfo=zone),
    )
    _describe(master, appointment, reader)
    master.add("rrule", feed_rule(appointment.rrule, zone))
    by_original = {occurrence.original_start: occurrence for occurrence in occurrences}
    # Occurrences are stored up to `generated_until` (a series stored whole has none).
    stored_until = appointment.generated_until
    excluded, overrides = [], []
    for count, local_start in enumerate(series.local_starts(appointment)):
        if count >= series.MAX_OCCURRENCES:
            break
        instant = times.to_utc(local_start, zone)
        if stored_until is not None and instant > stored_until:
            break  # not stored yet: the worker extends the series, the rule already says it
        # Where a calendar client puts this instance: the wall-clock time read in the zone (RFC 5545 3.3.5).
        rule_start = local_start.replace(tzinfo=zone)
        rule_end = (local_start + duration).replace(tzinfo=zone)
        occurrence = by_original.pop(instant, None)
        if occurrence is None or occurrence.status == OccurrenceStatus.CANCELLED:
            excluded.append(rule_start)
            continue
        if occurrence.start != rule_start or occurrence.end != rule_end:
            override = make_event(
                _uid(appointment),
                occurrence.status_at or appointment.created_at,
                appointment.sequence + occurrence.sequence,
                _in_zone(occurrence.start, zone),
                _in_zone(occurrence.end, zone),
            )
            override.add("recurrence-id", rule_start)
            _describe(override, appointment, reader)
            overrides.append(override)
    if excluded:
        master.add("exdate", excluded)
    yield master
    yield from overrides
    # Occurrences the rule does not place (any more): events of their own.
    yield from _standalone(appointment, by_original.values(), reader, zone)


def _standalone(
    appointment: Appointment, occurrences: Iterable[Occurrence], reader: Reader, zone: ZoneInfo, single=False
) -> Iterator[icalendar.Event]:
    for occurrence in occurrences:
        if occurrence.status == OccurrenceStatus.CANCELLED:
            continue
        yield occurrence_event(occurrence, reader, zone, uid=_uid(appointment) if single else None)


def occurrence_event(occurrence: Occurrence, reader: Reader, zone: ZoneInfo, *, uid: str | None = None):
    appointment = occurrence.appointment
    event = make_event(
        uid or _occurrence_uid(occurrence),
        occurrence.status_at or appointment.created_at,
        appointment.sequence + occurrence.sequence,
        _in_zone(occurrence.start, zone),
        _in_zone(occurrence.end, zone),
    )
    _describe(event, appointment, reader)
    return event


@add_source
def appointment_events(reader: Reader) -> Iterator[icalendar.Event]:
    """The appointments the person is in, as the member or as the staff member."""
    person = reader.person
    appointments = (
        Appointment.objects.filter(Q(member=person) | Q(staff=person))
        .select_related("member")
        .prefetch_related(Prefetch("occurrences", queryset=Occurrence.objects.order_by("original_start")))
        .order_by("pk")
    )
    for appointment in appointments:
        yield from appointment_components(appointment, reader)


# Calendars -----------------------------------------------------------------------------------------------


def _calendar(events: Iterable[icalendar.Event], name: str) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", icalendar.vDuration(REFRESH), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", icalendar.vDuration(REFRESH))
    events = list(events)
    for event in events:
        calendar.add_component(event)
    instants = [
        value.dt
        for event in events
        for name_ in ("dtstart", "dtend")
        if isinstance((value := event.get(name_)), icalendar.prop.vDDDTypes) and isinstance(value.dt, datetime)
    ]
    if instants:
        last = max(instants)
        for event in events:
            # A series runs on past its last stored occurrence: cover it too (at most MAX_OCCURRENCES weeks or
            # months; the margin below covers the rest of a year).
            rule = event.get("rrule")
            if rule:
                last = max(last, _rule_end(event, rule))
        calendar.add_missing_timezones(
            first_date=(min(instants) - ZONE_MARGIN).date(), last_date=(last + ZONE_MARGIN).date()
        )
        # VTIMEZONE components first, as some clients expect.
        calendar.subcomponents.sort(key=lambda component: component.name != "VTIMEZONE")
    return calendar.to_ical()


def _rule_end(event: icalendar.Event, rule: icalendar.vRecur) -> datetime:
    start = event.decoded("dtstart")
    if rule.get("UNTIL"):
        return rule["UNTIL"][0]
    frequency = rule["FREQ"][0]
    interval = int(rule.get("INTERVAL", [1])[0])
    count = int(rule.get("COUNT", [series.MAX_OCCURRENCES])[0])
    step = {"DAILY": 1, "WEEKLY": 7, "MONTHLY": 31, "YEARLY": 366}.get(frequency, 366)
    return start + timedelta(days=step * interval * count)


def calendar_for(person) -> bytes:
    """The person's whole feed: their appointments (as member and as staff), and whatever other sources add."""
    reader = Reader.of(person)
    events = [event for source in SOURCES for event in source(reader)]
    return _calendar(events, _("Alongside: appointments and group meetings"))


def single_event(occurrence: Occurrence, person) -> bytes:
    """One occurrence as an `.ics` file, for someone who may view the appointment (the caller checks), shown as
    their feed would show it. A cancelled one says so (STATUS:CANCELLED)."""
    appointment = occurrence.appointment
    zone = ZoneInfo(appointment.time_zone) if describable(appointment.time_zone) else ZoneInfo("UTC")
    uid = None if appointment.rrule else _uid(appointment)
    event = occurrence_event(occurrence, Reader.of(person), zone, uid=uid)
    if occurrence.status == OccurrenceStatus.CANCELLED:
        event.add("status", "CANCELLED")
    return _calendar([event], _("Alongside appointment"))


def filename(occurrence: Occurrence) -> str:
    local = times.local(occurrence.start, occurrence.appointment.time_zone)
    return f"appointment-{local:%Y-%m-%d-%H%M}.ics"
