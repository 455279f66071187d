"""Group meetings in a person's calendar feed (a source of `schedule.feeds`).

Each active member's and facilitator's feed has one VEVENT per meeting series of their live groups: its first
date and time on the series' own wall clock (TZID), its RRULE (UNTIL in UTC; an open-ended rule stops where
Alongside does; an ended series at its end), EXDATE for each cancelled date, and SEQUENCE = the series'. A single
meeting is a plain event (none once cancelled).

Privacy as for appointments: the summary is "Group meeting" and nothing else is said unless the person chose to
show titles in their feed; then the title and group, the address of a group that meets in person and its video
link (everyone in the feed is in the group). Every event is CLASS:PRIVATE.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
from django.db.models import Prefetch
from django.utils.translation import gettext as _

from alongside.groups.models import Meeting, MeetingSeries, MeetingStatus, Membership
from alongside.schedule import feeds, series, times

DOMAIN = feeds.DOMAIN


def _uid(meeting_series: MeetingSeries) -> str:
    return f"group-meeting-series-{meeting_series.pk}@{DOMAIN}"


def _zone_for(zone_name: str) -> ZoneInfo:
    """The series' zone when a VTIMEZONE can be written for it, else UTC."""
    return ZoneInfo(zone_name) if feeds.describable(zone_name) else ZoneInfo("UTC")


def _describe(event: icalendar.Event, meeting_series: MeetingSeries, reader: feeds.Reader) -> None:
    event.add("class", "PRIVATE")
    if not reader.shows_titles:
        event.add("summary", _("Group meeting"))
        return
    group = meeting_series.group
    event.add("summary", _("%(title)s (%(group)s)") % {"title": meeting_series.title, "group": group.name})
    lines = [group.get_format_display()]
    if group.meets_in_person and group.address:
        event.add("location", group.address)
    if group.meets_online and group.video_url:
        if not group.meets_in_person:
            event.add("location", group.video_url)
        event.add("url", group.video_url)
        lines.append(_("Online: %(link)s") % {"link": group.video_url})
    event.add("description", "\n".join(lines))


def _event(meeting_series: MeetingSeries, start: datetime, end: datetime) -> icalendar.Event:
    return feeds.make_event(_uid(meeting_series), meeting_series.created_at, meeting_series.sequence, start, end)


def series_components(meeting_series: MeetingSeries, reader: feeds.Reader) -> Iterator[icalendar.Event]:
    """The VEVENT of one series, for this reader. Expects `meeting_series.meetings` loaded."""
    zone = _zone_for(meeting_series.time_zone)
    meetings = list(meeting_series.meetings.all())
    duration = timedelta(minutes=meeting_series.duration_minutes)
    if not meeting_series.rrule:
        for meeting in meetings:
            if meeting.status != MeetingStatus.CANCELLED:
                event = _event(meeting_series, meeting.start.astimezone(zone), meeting.end.astimezone(zone))
                _describe(event, meeting_series, reader)
                yield event
        return
    if not any(meeting.status != MeetingStatus.CANCELLED for meeting in meetings):
        return  # nothing left to attend (every date cancelled, or the series ended before it began)
    first = series.first_start(
        meeting_series.rrule, meeting_series.start_date, meeting_series.start_time, meeting_series.time_zone
    )
    series_zone = ZoneInfo(meeting_series.time_zone)
    if zone != series_zone:  # written in UTC: the first instant, read there
        start = times.to_utc(first, series_zone)
        master = _event(meeting_series, start, start + duration)
    else:
        master = _event(meeting_series, first.replace(tzinfo=zone), (first + duration).replace(tzinfo=zone))
    _describe(master, meeting_series, reader)
    master.add("rrule", feeds.feed_rule(meeting_series.rrule, series_zone, ends_at=meeting_series.ended_at))
    by_original = {meeting.original_start: meeting for meeting in meetings}
    stored_until = meeting_series.generated_until
    excluded = []
    starts = series.rule_starts(
        meeting_series.rrule, meeting_series.start_date, meeting_series.start_time, meeting_series.time_zone
    )
    for count, local_start in enumerate(starts):
        if count >= series.MAX_OCCURRENCES:
            break
        instant = times.to_utc(local_start, series_zone)
        if stored_until is not None and instant > stored_until:
            break
        meeting = by_original.get(instant)
        if meeting is None or meeting.status == MeetingStatus.CANCELLED:
            excluded.append(local_start.replace(tzinfo=zone) if zone == series_zone else instant)
    if excluded:
        master.add("exdate", excluded)
    yield master


def meeting_events(reader: feeds.Reader) -> Iterator[icalendar.Event]:
    """The meetings of the live groups the person is an active member or facilitator of."""
    groups = Membership.objects.active().filter(person=reader.person, group__archived_at__isnull=True).values("group")
    rows = (
        MeetingSeries.objects.filter(group__in=groups)
        .select_related("group")
        .prefetch_related(Prefetch("meetings", queryset=Meeting.objects.order_by("original_start")))
        .order_by("pk")
    )
    for meeting_series in rows:
        yield from series_components(meeting_series, reader)


def register() -> None:
    feeds.add_source(meeting_events)
