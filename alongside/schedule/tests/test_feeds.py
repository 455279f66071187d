"""Calendar feeds (RFC 5545): what a calendar client expands them to, what they say and do not say, who reaches
them, and a real client (khal) importing one."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alongside.accounts import tokens
from alongside.audit.models import AuditEvent
from alongside.schedule import feeds, preferences, series
from alongside.schedule.models import CalendarFeed, OccurrenceStatus, Reminder, SchedulePreferences
from alongside.testing.factories import make_member

NEW_YORK = ZoneInfo("America/New_York")
TITLE = "Therapy with Dr. Rowe"
VIDEO = "https://video.example/room-4471"


def spring_forward(year: int) -> date:
    """The second Sunday of March: New York's clocks go forward (02:00 becomes 03:00)."""
    first = date(year, 3, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7)


# Six Tuesdays at 18:00 in New York, the change falling between the third and the fourth (2027: from 23 Feb).
CHANGE = spring_forward(timezone.now().date().year + 1)
FIRST_TUESDAY = CHANGE - timedelta(days=19)
assert FIRST_TUESDAY.weekday() == 1


def weekly(member, *, by=None, staff=None, rule="FREQ=WEEKLY;COUNT=6", first=FIRST_TUESDAY, at=time(18, 0), **extra):
    return series.schedule_appointment(
        by=by or member, member=member, staff=staff, kind="therapy", title=TITLE, location_kind="online",
        video_url=VIDEO, time_zone="America/New_York", start_date=first, start_time=at, duration_minutes=50,
        rrule=rule, **extra,
    )  # fmt: skip


def parse(body: bytes) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(body)


def expand(body: bytes, start: date | None = None, end: date | None = None) -> list[tuple[datetime, datetime]]:
    """Every instance a calendar client shows, as (start, end) in UTC, in order."""
    start = start or timezone.now().date() - timedelta(days=400)
    end = end or timezone.now().date() + timedelta(days=4000)
    events = recurring_ical_events.of(parse(body)).between(start, end)
    return sorted((e["DTSTART"].dt.astimezone(UTC), e["DTEND"].dt.astimezone(UTC)) for e in events)


def stored(appointment) -> list[tuple[datetime, datetime]]:
    rows = appointment.occurrences.exclude(status=OccurrenceStatus.CANCELLED)
    return sorted((o.start, o.end) for o in rows)


def events_of(body: bytes) -> list[icalendar.Event]:
    return list(parse(body).walk("VEVENT"))


def feed_url(raw: str) -> str:
    return reverse("schedule:feed", args=[raw])


@pytest.fixture
def series_with_changes(member, staff, relationship):
    """The clinician's weekly series with the member across the change; the second cancelled, the fourth
    (the first after the change) moved to the Wednesday at 10:00."""
    appointment = weekly(member, by=staff, staff=staff)
    occurrences = list(appointment.occurrences.order_by("original_start"))
    series.cancel(occurrences[1], by=member, reason="Visiting my sister")
    series.move(occurrences[3], by=staff, new_date=occurrences[3].start.astimezone(NEW_YORK).date() + timedelta(1),
                new_time=time(10, 0), reason="Clinic closed")  # fmt: skip
    appointment.refresh_from_db()
    return appointment


# What a client expands a feed to -------------------------------------------------------------------------


def test_feed_expands_to_exactly_the_expected_instants(member, series_with_changes):
    body = feeds.calendar_for(member)
    tuesdays = [FIRST_TUESDAY + timedelta(weeks=week) for week in range(6)]
    at_1800 = [datetime.combine(day, time(18, 0), tzinfo=NEW_YORK) for day in tuesdays]
    moved = datetime.combine(tuesdays[3] + timedelta(days=1), time(10, 0), tzinfo=NEW_YORK)
    expected = sorted([*(at_1800[i] for i in (0, 2, 4, 5)), moved])
    instances = recurring_ical_events.of(parse(body)).between(FIRST_TUESDAY - timedelta(days=1), CHANGE + timedelta(60))
    starts = sorted(event["DTSTART"].dt for event in instances)
    assert [start.astimezone(UTC) for start in starts] == [moment.astimezone(UTC) for moment in expected]
    # Every remaining one at 18:00 New York time on both sides of the change; the moved one at its new time.
    local = [start.astimezone(NEW_YORK) for start in starts]
    assert [(moment.date(), moment.time()) for moment in local] == [(m.date(), m.time()) for m in expected]
    assert {moment.utcoffset() for moment in local} == {timedelta(hours=-5), timedelta(hours=-4)}
    ends = sorted(event["DTEND"].dt - event["DTSTART"].dt for event in instances)
    assert set(ends) == {timedelta(minutes=50)}
    assert expand(body) == stored(series_with_changes)


def test_feed_is_a_master_with_rule_exdate_and_an_override(member, series_with_changes):
    calendar = parse(feeds.calendar_for(member))
    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"] == feeds.PRODID
    assert str(calendar["X-WR-CALNAME"])
    assert [zone["TZID"] for zone in calendar.walk("VTIMEZONE")] == ["America/New_York"]
    master, override = calendar.walk("VEVENT")
    uid = f"appointment-{series_with_changes.pk}@alongside"
    assert master["UID"] == override["UID"] == uid
    assert master["DTSTART"].params["TZID"] == "America/New_York"
    assert master.decoded("DTSTART") == datetime.combine(FIRST_TUESDAY, time(18, 0), tzinfo=NEW_YORK)
    assert master["RRULE"].to_ical() == b"FREQ=WEEKLY;COUNT=6"
    exdates = [when.dt for when in master["EXDATE"].dts]
    assert exdates == [datetime.combine(FIRST_TUESDAY + timedelta(weeks=1), time(18, 0), tzinfo=NEW_YORK)]
    assert override.decoded("RECURRENCE-ID") == datetime.combine(CHANGE + timedelta(days=2), time(18), tzinfo=NEW_YORK)
    assert master["SEQUENCE"] == series_with_changes.sequence == 1  # the cancellation changed its EXDATEs
    moved = series_with_changes.occurrences.get(status=OccurrenceStatus.RESCHEDULED)
    assert override["SEQUENCE"] == series_with_changes.sequence + moved.sequence
    assert "DTSTAMP" in master and "DTSTAMP" in override


def test_uids_and_content_are_stable_across_fetches(member, series_with_changes):
    first, second = feeds.calendar_for(member), feeds.calendar_for(member)
    assert [e["UID"] for e in events_of(first)] == [e["UID"] for e in events_of(second)]
    assert first == second  # so the feed's ETag is stable too


def test_sequence_rises_with_every_change(member, staff, series_with_changes):
    def sequences():
        return {(e["UID"], e.get("RECURRENCE-ID") and e.decoded("RECURRENCE-ID")): e["SEQUENCE"]
                for e in events_of(feeds.calendar_for(member))}  # fmt: skip

    before = sequences()
    fifth = series_with_changes.occurrences.order_by("original_start")[4]
    series.cancel(fifth, by=staff)
    after_cancel = sequences()
    master_key = next(key for key in before if key[1] is None)
    assert after_cancel[master_key] > before[master_key]
    moved = series_with_changes.occurrences.get(status=OccurrenceStatus.RESCHEDULED)
    series.move(moved, by=staff, new_date=moved.start.astimezone(NEW_YORK).date(), new_time=time(11, 0))
    after_move = sequences()
    override_key = next(key for key in before if key[1] is not None)
    assert after_move[override_key] > after_cancel[override_key] > before[override_key]
    assert all(value >= after_move[master_key] for value in after_move.values())


def test_a_time_the_clocks_skip_is_where_alongside_puts_it(member):
    """A daily 02:30 across the spring-forward night: that day it is at 03:00 (schedule/times.py), and the feed
    says so with an override, so the client agrees."""
    appointment = weekly(member, rule="FREQ=DAILY;COUNT=4", first=CHANGE - timedelta(days=1), at=time(2, 30))
    body = feeds.calendar_for(member)
    assert expand(body) == stored(appointment)
    local = [start.astimezone(NEW_YORK).time() for start, _end in expand(body)]
    assert local == [time(2, 30), time(3, 0), time(2, 30), time(2, 30)]


def test_until_and_open_ended_rules_expand_to_the_stored_occurrences(member):
    bounded = weekly(member, rule="FREQ=WEEKLY;UNTIL=" + (FIRST_TUESDAY + timedelta(weeks=8)).strftime("%Y%m%d"))
    open_ended = weekly(member, rule="FREQ=MONTHLY;INTERVAL=2", at=time(9, 15))
    body = feeds.calendar_for(member)
    rows = expand(body)
    for appointment in (bounded, open_ended):
        assert set(stored(appointment)) <= set(rows)
    assert len(rows) == len(stored(bounded)) + len(stored(open_ended)) + sum(
        1 for start, _end in rows if start > open_ended.generated_until
    )
    rules = {e["UID"]: e["RRULE"].to_ical().decode() for e in events_of(body)}
    assert rules[f"appointment-{bounded.pk}@alongside"].startswith("FREQ=WEEKLY;UNTIL=")
    assert rules[f"appointment-{bounded.pk}@alongside"].endswith("Z")  # RFC 5545: UTC with a zoned DTSTART
    assert f"COUNT={series.MAX_OCCURRENCES}" in rules[f"appointment-{open_ended.pk}@alongside"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    zone=st.sampled_from(["America/New_York", "Europe/London", "Australia/Lord_Howe", "America/Santiago"]),
    first=st.dates(
        min_value=timezone.now().date() + timedelta(days=2), max_value=timezone.now().date() + timedelta(days=700)
    ),
    clock=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    rule=st.sampled_from(["FREQ=DAILY;COUNT=9", "FREQ=WEEKLY;COUNT=12", "FREQ=MONTHLY;COUNT=5", ""]),
)
def test_any_series_expands_to_exactly_its_stored_occurrences(member, zone, first, clock, rule):
    appointment = series.schedule_appointment(
        by=member, member=member, kind="other", title="x", location_kind="in_person", address="1 Main St",
        time_zone=zone, start_date=first, start_time=clock, duration_minutes=45, rrule=rule,
    )  # fmt: skip
    single = feeds.Reader(person=member, shows_titles=False)
    body = feeds._calendar(feeds.appointment_components(appointment, single), "test")
    assert expand(body) == stored(appointment)


# What a feed says ------------------------------------------------------------------------------------------


def test_titles_are_hidden_by_default_and_shown_after_opting_in(member, staff, series_with_changes):
    body = feeds.calendar_for(member)
    assert {str(e["SUMMARY"]) for e in events_of(body)} == {"Appointment"}
    for secret in (TITLE, VIDEO, "Therapy", "Visiting my sister", "Clinic closed", "Cancelled", "Moved"):
        assert secret.encode() not in body
    assert all("LOCATION" not in e and "DESCRIPTION" not in e for e in events_of(body))
    assert all(e["CLASS"] == "PRIVATE" for e in events_of(body))
    staff_body = feeds.calendar_for(staff)
    assert {str(e["SUMMARY"]) for e in events_of(staff_body)} == {"Appointment"}
    assert member.display_name.encode() not in staff_body

    preferences.save_preferences(member, feed_shows_titles=True, reminder_offsets=[60])
    shown = events_of(feeds.calendar_for(member))
    assert {str(e["SUMMARY"]) for e in shown} == {TITLE}
    assert {str(e["LOCATION"]) for e in shown} == {VIDEO}  # the member is in the appointment
    preferences.save_preferences(staff, feed_shows_titles=True, reminder_offsets=[60])
    staff_events = events_of(feeds.calendar_for(staff))
    assert all(member.display_name in str(e["SUMMARY"]) for e in staff_events)
    assert "Visiting my sister" not in str(feeds.calendar_for(staff))


def test_an_address_is_shown_only_with_titles(member):
    series.schedule_appointment(
        by=member, member=member, kind="medication_review", title="Meds check", location_kind="in_person",
        address="12 Harbour Road", time_zone="America/New_York", start_date=FIRST_TUESDAY, start_time=time(9),
        duration_minutes=30,
    )  # fmt: skip
    assert b"Harbour" not in feeds.calendar_for(member)
    assert b"Medication review" not in feeds.calendar_for(member)
    preferences.save_preferences(member, feed_shows_titles=True, reminder_offsets=[])
    (event,) = events_of(feeds.calendar_for(member))
    assert str(event["LOCATION"]) == "12 Harbour Road"
    assert str(event["SUMMARY"]) == "Meds check"
    assert "RRULE" not in event


def test_another_persons_appointments_are_not_in_the_feed(member, organisation, series_with_changes):
    other = make_member(organisation)
    theirs = weekly(other)
    mine = {str(e["UID"]) for e in events_of(feeds.calendar_for(member))}
    assert f"appointment-{theirs.pk}@alongside" not in mine
    assert {str(e["UID"]) for e in events_of(feeds.calendar_for(other))} == {f"appointment-{theirs.pk}@alongside"}


def test_the_staff_member_sees_their_appointments_in_their_own_feed(member, staff, series_with_changes):
    body = feeds.calendar_for(staff)
    assert expand(body) == stored(series_with_changes)


# Links and who reaches them ------------------------------------------------------------------------------


def test_feed_url_answers_with_the_calendar(member, series_with_changes):
    _feed, raw = feeds.issue_feed(member)
    assert raw.startswith("alf_") and len(raw) > 40
    assert CalendarFeed.objects.get(person=member).token_hash != raw
    response = Client().get(feed_url(raw))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "private, max-age=300"
    assert not response.cookies
    assert expand(response.content) == stored(series_with_changes)
    again = Client().get(feed_url(raw), headers={"If-None-Match": response["ETag"]})
    assert again.status_code == 304


def test_wrong_and_revoked_tokens_answer_404(member, series_with_changes):
    _feed, raw = feeds.issue_feed(member)
    for wrong in ("alf_nope", raw[:-1] + ("A" if raw[-1] != "A" else "B"), "nothing", raw.replace("alf_", "alg_")):
        assert Client().get(feed_url(wrong)).status_code == 404
    feeds.revoke_feeds(member)
    assert Client().get(feed_url(raw)).status_code == 404
    assert feeds.person_for_token(raw) is None


def test_a_new_link_revokes_the_old(member):
    _first, old = feeds.issue_feed(member)
    _second, new = feeds.issue_feed(member)
    assert feeds.person_for_token(old) is None
    assert feeds.person_for_token(new) == member
    assert CalendarFeed.objects.filter(person=member, revoked_at__isnull=True).count() == 1
    assert Client().get(feed_url(old)).status_code == 404
    assert Client().get(feed_url(new)).status_code == 200


def test_a_deactivated_persons_feed_answers_404(member):
    _feed, raw = feeds.issue_feed(member)
    member.is_active = False
    member.save(update_fields=["is_active"])
    assert Client().get(feed_url(raw)).status_code == 404


def test_the_settings_page_shows_the_link_once(member, client_for):
    client = client_for(member)
    page = client.get(reverse("schedule:calendar_settings"))
    assert page.status_code == 200
    assert "Create my calendar link" in page.content.decode()
    made = client.post(reverse("schedule:calendar_new_link"))
    assert made.status_code == 200
    assert "no-store" in made["Cache-Control"]
    url = made.context["new_url"]
    assert url.startswith("http://testserver/calendar/alf_") and url.endswith(".ics")
    assert url in made.content.decode()
    raw = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert feeds.person_for_token(raw) == member
    later = client.get(reverse("schedule:calendar_settings")).content.decode()
    assert raw not in later and "Make a new link" in later and "Turn off my calendar link" in later
    replaced = client.post(reverse("schedule:calendar_new_link")).context["new_url"]
    assert replaced != url and feeds.person_for_token(raw) is None
    assert client.post(reverse("schedule:calendar_revoke")).status_code == 302
    assert feeds.live_feed(member) is None
    assert AuditEvent.objects.filter(actor=member, detail__contains="calendar feed").count() == 3


def test_saving_preferences_refreshes_reminders(member, client_for, series_with_changes):
    client = client_for(member)
    upcoming = series_with_changes.occurrences.exclude(status=OccurrenceStatus.CANCELLED)
    response = client.post(
        reverse("schedule:calendar_settings"), {"feed_shows_titles": "on", "reminder_offsets": ["15", "2880"]}
    )
    assert response.status_code == 302
    saved = SchedulePreferences.objects.get(person=member)
    assert saved.feed_shows_titles and saved.reminder_offsets == [2880, 15]
    offsets = set(
        Reminder.objects.filter(person=member, occurrence__in=upcoming).values_list("offset_minutes", flat=True)
    )
    assert offsets == {15, 2880}
    form = client.get(reverse("schedule:calendar_settings")).context["form"]
    assert form.initial == {"feed_shows_titles": True, "reminder_offsets": [2880, 15]}


def test_bad_preferences_are_refused_with_a_message(member, client_for):
    client = client_for(member)
    too_many = client.post(reverse("schedule:calendar_settings"), {"reminder_offsets": ["15", "60", "180", "1440"]})
    assert too_many.status_code == 400
    assert "at most 3" in too_many.content.decode()
    unknown = client.post(reverse("schedule:calendar_settings"), {"reminder_offsets": ["7"]})
    assert unknown.status_code == 400
    assert not SchedulePreferences.objects.filter(person=member).exists()


# One appointment as a file ---------------------------------------------------------------------------------


def test_a_participant_downloads_one_appointment(
    member, staff, outsider, organisation, client_for, series_with_changes
):
    moved = series_with_changes.occurrences.get(status=OccurrenceStatus.RESCHEDULED)
    url = reverse("schedule:occurrence_ics", args=[moved.pk])
    for person in (member, staff):
        response = client_for(person).get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "text/calendar; charset=utf-8"
        assert response["Content-Disposition"].startswith('attachment; filename="appointment-')
        (event,) = events_of(response.content)
        assert (event.decoded("DTSTART"), event.decoded("DTEND")) == (moved.start, moved.end)
        assert str(event["SUMMARY"]) == "Appointment"
        assert TITLE.encode() not in response.content
    for stranger in (outsider, make_member(organisation)):
        assert client_for(stranger).get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to sign in


def test_a_cancelled_occurrence_downloads_as_cancelled(member, client_for, series_with_changes):
    cancelled = series_with_changes.occurrences.get(status=OccurrenceStatus.CANCELLED)
    response = client_for(member).get(reverse("schedule:occurrence_ics", args=[cancelled.pk]))
    (event,) = events_of(response.content)
    assert event["STATUS"] == "CANCELLED"


# The API ---------------------------------------------------------------------------------------------------


def test_api_makes_the_link_once_and_then_only_says_it_exists(member, series_with_changes):
    client = Client()
    _token, read_write = tokens.issue(member, name="phone", scopes=["read", "write"])
    _token, read_only = tokens.issue(member, name="reader", scopes=["read"])
    auth = {"Authorization": f"Bearer {read_write}"}
    missing = client.get("/api/v1/calendar/feed", headers=auth)
    assert missing.status_code == 404
    assert missing.json()["fields"] == []
    refused = client.post("/api/v1/calendar/feed", headers={"Authorization": f"Bearer {read_only}"})
    assert refused.status_code == 403
    made = client.post("/api/v1/calendar/feed", headers=auth)
    assert made.status_code == 201
    assert made["Cache-Control"] == "no-store"
    url = made.json()["url"]
    assert url.startswith("http://testserver/calendar/alf_")
    assert expand(client.get(url.removeprefix("http://testserver")).content) == stored(series_with_changes)
    shown = client.get("/api/v1/calendar/feed", headers={"Authorization": f"Bearer {read_only}"}).json()
    assert shown["url"] is None and shown["created_at"]
    assert client.delete("/api/v1/calendar/feed", headers=auth).status_code == 204
    assert client.get(url.removeprefix("http://testserver")).status_code == 404
    assert client.get("/api/v1/calendar/feed", headers=auth).status_code == 404


# A real calendar client ------------------------------------------------------------------------------------


KHAL = shutil.which("khal") or "/usr/bin/khal"


def test_khal_imports_the_feed(member, series_with_changes, tmp_path):
    assert os.path.exists(KHAL), "khal is not installed: run `make test` (scripts/install-test-deps installs it)"
    vdir = tmp_path / "calendars" / "appointments"
    vdir.mkdir(parents=True)
    config = tmp_path / "khal.conf"
    config.write_text(
        textwrap.dedent(f"""\
        [calendars]
        [[appointments]]
        path = {vdir}
        type = calendar

        [locale]
        timeformat = %H:%M
        dateformat = %Y-%m-%d
        longdateformat = %Y-%m-%d
        datetimeformat = %Y-%m-%d %H:%M
        longdatetimeformat = %Y-%m-%d %H:%M
        local_timezone = America/New_York
        default_timezone = America/New_York

        [sqlite]
        path = {tmp_path / "khal.db"}
        """)
    )
    feed_file = tmp_path / "feed.ics"
    feed_file.write_bytes(feeds.calendar_for(member))
    home = str(tmp_path)
    environment = {**os.environ, "HOME": home, "XDG_CONFIG_HOME": home, "XDG_DATA_HOME": home,
                   "TZ": "America/New_York", "LC_ALL": "C.UTF-8"}  # fmt: skip

    def khal(*arguments):
        done = subprocess.run([KHAL, "-c", str(config), *arguments], env=environment, capture_output=True, text=True,
                              timeout=60, check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    khal("import", "--batch", "-a", "appointments", str(feed_file))
    # One event in the vdir: the series with its exception and its moved occurrence.
    (stored_file,) = vdir.glob("*.ics")
    kept = stored_file.read_text()
    assert f"appointment-{series_with_changes.pk}@alongside" in kept
    assert "RECURRENCE-ID" in kept and "EXDATE" in kept
    listed = khal(
        "list", "--format", "{start} {end} {title}", "--day-format", "",
        (FIRST_TUESDAY - timedelta(days=1)).isoformat(), (FIRST_TUESDAY + timedelta(days=50)).isoformat(),
    )  # fmt: skip
    lines = sorted({line.strip() for line in listed.splitlines() if line.strip()})
    tuesdays = [FIRST_TUESDAY + timedelta(weeks=week) for week in range(6)]
    moved_day = tuesdays[3] + timedelta(days=1)
    expected = sorted(
        [f"{tuesdays[i]:%Y-%m-%d} 18:00 {tuesdays[i]:%Y-%m-%d} 18:50 Appointment" for i in (0, 2, 4, 5)]
        + [f"{moved_day:%Y-%m-%d} 10:00 {moved_day:%Y-%m-%d} 10:50 Appointment"]
    )
    assert lines == expected
