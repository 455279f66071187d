"""Appointments and series: local time across daylight-saving changes, one occurrence changed without touching
the rest, reminder due times, who may do what, and bad input."""

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alongside.accounts import actions as account_actions
from alongside.accounts.models import Role
from alongside.audit.models import AuditEvent
from alongside.care import actions as care_actions
from alongside.schedule import reminders, series, times
from alongside.schedule.models import Occurrence, OccurrenceStatus, Reminder
from alongside.testing.factories import make_staff, support

ZONES = ["America/New_York", "Europe/London", "Australia/Sydney", "Australia/Lord_Howe", "Asia/Kolkata",
         "America/Santiago", "Pacific/Chatham"]  # fmt: skip
FUTURE = timezone.localdate() + timedelta(days=3)


def weekly(
    member, *, by=None, zone="America/New_York", first=FUTURE, at=time(18, 0), rule="FREQ=WEEKLY;COUNT=6", **extra
):
    return series.schedule_appointment(
        by=by or member, member=member, kind="therapy", title="Therapy with Dr. Rowe", location_kind="online",
        video_url="https://video.example/room", time_zone=zone, start_date=first, start_time=at,
        duration_minutes=50, rrule=rule, **extra,
    )  # fmt: skip


def local_times(appointment):
    zone = ZoneInfo(appointment.time_zone)
    return [(o.start.astimezone(zone).date(), o.start.astimezone(zone).time()) for o in appointment.occurrences.all()]


def test_a_weekly_1800_stays_at_1800_local_across_both_dst_changes(member):
    # 2027-03-14 (spring forward) and 2027-11-07 (fall back) in New York: every Tuesday from February to December.
    appointment = weekly(member, first=date(2027, 2, 2), rule="FREQ=WEEKLY;UNTIL=20271214T235959Z")
    seen = local_times(appointment)
    assert len(seen) == 46
    assert {clock for _day, clock in seen} == {time(18, 0)}
    assert all(later - earlier == timedelta(days=7) for (earlier, _), (later, _) in pairwise(seen))
    offsets = {o.start.astimezone(ZoneInfo("America/New_York")).utcoffset() for o in appointment.occurrences.all()}
    assert offsets == {timedelta(hours=-5), timedelta(hours=-4)}  # both sides of the changes, same wall time


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    zone=st.sampled_from(ZONES),
    first=st.dates(min_value=date(2027, 1, 1), max_value=date(2028, 12, 31)),
    clock=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    count=st.integers(min_value=1, max_value=60),
)
def test_every_occurrence_is_at_the_chosen_local_time_or_just_after_a_skipped_hour(member, zone, first, clock, count):
    appointment = weekly(member, zone=zone, first=first, at=clock, rule=f"FREQ=WEEKLY;COUNT={count}")
    occurrences = list(appointment.occurrences.all())
    assert len(occurrences) == count
    tz = ZoneInfo(zone)
    for week, occurrence in enumerate(occurrences):
        day = first + timedelta(weeks=week)
        wanted = datetime.combine(day, clock)
        got = occurrence.start.astimezone(tz)
        if wanted.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wanted:
            assert got.replace(tzinfo=None) == wanted  # an ordinary local time, or the first of a repeated one
            assert got.fold == 0 or got.replace(fold=0).astimezone(UTC) != occurrence.start
        else:
            # Skipped by the clocks: the moment they jumped, on the same day, after the chosen time.
            assert got.date() == day and got.replace(tzinfo=None) > wanted
            assert (got - timedelta(minutes=1)).astimezone(tz).utcoffset() != got.utcoffset()
    assert len({o.start for o in occurrences}) == count  # never twice


@pytest.mark.parametrize(
    ("day", "clock", "expected_local"),
    [
        (date(2027, 3, 14), time(2, 30), (date(2027, 3, 14), time(3, 0))),  # skipped: when the clocks jump
        (date(2027, 11, 7), time(1, 30), (date(2027, 11, 7), time(1, 30))),  # repeated: the first one
    ],
)
def test_local_times_around_the_changes(day, clock, expected_local):
    zone = ZoneInfo("America/New_York")
    instant = times.at(day, clock, zone)
    assert (instant.astimezone(zone).date(), instant.astimezone(zone).time()) == expected_local
    if day.month == 11:
        assert instant.astimezone(zone).utcoffset() == timedelta(hours=-4)  # before falling back


def test_cancelling_or_moving_one_occurrence_leaves_the_others_alone(member, staff, relationship):
    appointment = weekly(member, by=staff, staff=staff)
    before = {o.pk: (o.start, o.status) for o in appointment.occurrences.all()}
    second, third = list(appointment.occurrences.all())[1:3]
    series.cancel(second, by=member, reason="Away that week")
    new_day = third.start.astimezone(ZoneInfo("America/New_York")).date() + timedelta(days=1)
    series.move(third, by=staff, new_date=new_day, new_time=time(9, 30))
    after = {o.pk: (o.start, o.status) for o in appointment.occurrences.all()}
    for pk, state in before.items():
        if pk not in (second.pk, third.pk):
            assert after[pk] == state
    second.refresh_from_db()
    third.refresh_from_db()
    assert (second.status, second.reason, second.status_by) == (OccurrenceStatus.CANCELLED, "Away that week", member)
    assert third.status == OccurrenceStatus.RESCHEDULED and third.is_moved
    assert third.start.astimezone(ZoneInfo("America/New_York")).time() == time(9, 30)
    appointment.refresh_from_db()
    assert appointment.sequence == 1 and third.sequence == 1  # calendar clients see the changes


def test_reminders_follow_the_occurrence(member, staff, relationship):
    appointment = weekly(member, by=staff, staff=staff, rule="FREQ=WEEKLY;COUNT=2")
    first = appointment.occurrences.first()
    due = sorted(Reminder.objects.filter(occurrence=first).values_list("person_id", "offset_minutes"))
    assert due == sorted([(member.pk, 1440), (member.pk, 60), (staff.pk, 1440), (staff.pk, 60)])
    series.cancel(first, by=member)
    assert not Reminder.objects.filter(occurrence=first).exists()
    second = appointment.occurrences.last()
    series.move(second, by=staff, new_date=FUTURE + timedelta(days=10), new_time=time(8, 0))
    hour_before = Reminder.objects.get(occurrence=second, person=member, offset_minutes=60)
    assert hour_before.due_at == second.start - timedelta(hours=1)


def test_a_day_before_reminder_is_at_the_same_local_time_across_a_change():
    # Appointment Sunday 2027-03-14 18:00 New York, the day the clocks go forward at 02:00; "24 hours before"
    # is Saturday 18:00 local, 23 real hours earlier.
    start = times.at(date(2027, 3, 14), time(18, 0), "America/New_York")
    due = reminders.due_before(start, 24 * 60, "America/New_York")
    local = due.astimezone(ZoneInfo("America/New_York"))
    assert (local.date(), local.time()) == (date(2027, 3, 13), time(18, 0))
    assert start - due == timedelta(hours=23)


def test_reminders_use_each_persons_own_offsets(member, staff, relationship):
    from alongside.schedule.models import SchedulePreferences

    SchedulePreferences.objects.create(person=member, reminder_offsets=[180])
    appointment = weekly(member, by=staff, staff=staff, rule="FREQ=WEEKLY;COUNT=1")
    offsets = set(
        Reminder.objects.filter(person=member, occurrence__appointment=appointment).values_list(
            "offset_minutes", flat=True
        )
    )
    assert offsets == {180}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"rrule": "FREQ=SOMETIMES"}, "rrule"),
        ({"rrule": "FREQ=WEEKLY;BYDAY=XX"}, "rrule"),
        ({"rrule": "FREQ=DAILY;COUNT=10000"}, "rrule"),
        ({"rrule": "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30"}, "rrule"),
        # Each part once: calendar clients may read the first of two where Alongside reads the last.
        ({"rrule": "FREQ=WEEKLY;INTERVAL=1000000;INTERVAL=1"}, "rrule"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"title": "  "}, "title"),
        ({"location_kind": "online", "video_url": "http://insecure.example"}, "video_url"),
        ({"location_kind": "in_person", "address": ""}, "address"),
    ],
)
def test_bad_input_is_refused_with_the_field_named(member, changes, field):
    values = {
        "kind": "therapy", "title": "Therapy", "location_kind": "online", "video_url": "https://video.example/x",
        "address": "", "time_zone": "America/New_York", "start_date": FUTURE, "start_time": time(18, 0),
        "duration_minutes": 50, "rrule": "FREQ=WEEKLY;COUNT=4",
    } | changes  # fmt: skip
    with pytest.raises(ValidationError) as error:
        series.schedule_appointment(by=member, member=member, **values)
    assert field in error.value.message_dict
    assert not Occurrence.objects.exists()


def test_who_may_schedule(member, staff, relationship, outsider, organisation):
    with pytest.raises(PermissionDenied):
        weekly(member, by=outsider)
    care_actions.set_sharing(member=member, relationship=relationship, categories=["plan"], safety_alerts=True)
    with pytest.raises(PermissionDenied):
        weekly(member, by=staff)
    mentor = make_staff(organisation, Role.PEER_MENTOR)
    mentoring = support(mentor, member, organisation, Role.PEER_MENTOR)
    care_actions.set_sharing(member=member, relationship=mentoring, categories=["appointments"], safety_alerts=False)
    with pytest.raises(PermissionDenied):
        weekly(member, by=mentor)  # peer mentors see appointments but do not schedule them
    assert weekly(member).created_by == member


def test_attendance_only_after_the_start_and_missed_ones_are_queryable(member, staff, relationship):
    appointment = weekly(member, by=staff, staff=staff, rule="FREQ=WEEKLY;COUNT=2")
    first = appointment.occurrences.first()
    with pytest.raises(ValidationError):
        series.record_attendance(first, by=staff, attended=False)
    Occurrence.objects.filter(pk=first.pk).update(
        start=first.start - timedelta(days=30), end=first.end - timedelta(days=30)
    )
    first.refresh_from_db()
    series.record_attendance(first, by=staff, attended=False)
    with pytest.raises(PermissionDenied):
        series.record_attendance(first, by=member, attended=True)
    assert list(series.missed(member)) == [first]
    assert AuditEvent.objects.filter(actor=staff, member=member, detail__contains="as missed").exists()


def test_a_member_who_moves_keeps_the_same_local_times(member):
    appointment = weekly(member, first=FUTURE, at=time(18, 0))
    account_actions.set_time_zone(member, "Europe/London")
    appointment.refresh_from_db()
    assert appointment.time_zone == "Europe/London"
    assert {clock for _day, clock in local_times(appointment)} == {time(18, 0)}


def test_open_ended_series_are_stored_ahead_and_extended(member):
    appointment = weekly(member, rule="FREQ=WEEKLY")
    stored = appointment.occurrences.count()
    assert 55 <= stored <= 60  # about 400 days of weeks
    assert series.extend(now=appointment.generated_until - timedelta(days=100)) > 0
    assert appointment.occurrences.count() > stored
    assert series.extend(now=appointment.generated_until - timedelta(days=100)) == 0  # nothing twice


def test_a_monthly_nth_weekday_rule_starts_on_its_first_real_date(member):
    # Starting on 2027-06-01 (the first Tuesday) with "second Tuesday": the series begins 2027-06-08.
    appointment = weekly(member, first=date(2027, 6, 1), rule="FREQ=MONTHLY;BYDAY=2TU;COUNT=3")
    assert [d for d, _clock in local_times(appointment)] == [date(2027, 6, 8), date(2027, 7, 13), date(2027, 8, 10)]


# Pages ------------------------------------------------------------------------------------------------------


def test_member_confirms_with_htmx_and_sees_the_card(member, client_for):
    occurrence = weekly(member).occurrences.first()
    response = client_for(member).post(
        reverse("schedule:confirm", args=[occurrence.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="occurrence-card"' in body and "<html" not in body and "Confirmed" in body
    occurrence.refresh_from_db()
    assert occurrence.status == OccurrenceStatus.CONFIRMED


def test_video_link_only_for_people_in_the_appointment(member, staff, relationship, organisation, client_for):
    occurrence = weekly(member, by=staff, staff=staff).occurrences.first()
    manager = make_staff(organisation, Role.CASE_MANAGER)
    support(manager, member, organisation, Role.CASE_MANAGER)
    url = reverse("schedule:occurrence", args=[occurrence.pk])
    assert "https://video.example/room" in client_for(member).get(url).content.decode()
    assert "https://video.example/room" in client_for(staff).get(url).content.decode()
    page = client_for(manager).get(url)
    assert page.status_code == 200 and "https://video.example/room" not in page.content.decode()
    assert AuditEvent.objects.filter(actor=manager, member=member, category="appointments").exists()


def test_other_people_do_not_find_the_appointment(member, outsider, organisation, client_for):
    from alongside.testing.factories import make_member

    occurrence = weekly(member).occurrences.first()
    for person in (outsider, make_member(organisation)):
        client = client_for(person)
        assert client.get(reverse("schedule:occurrence", args=[occurrence.pk])).status_code == 404
        assert client.post(reverse("schedule:cancel", args=[occurrence.pk])).status_code == 404
    occurrence.refresh_from_db()
    assert occurrence.status == OccurrenceStatus.SCHEDULED


def test_the_form_refuses_an_end_before_the_start_and_keeps_the_input(member, client_for):
    response = client_for(member).post(
        reverse("schedule:new_mine"),
        {"title": "Group <b>night</b>", "kind": "group", "location_kind": "in_person", "address": "12 Main St",
         "time_zone": "America/New_York", "start_date": FUTURE.isoformat(), "start_time": "18:00", "end_time": "17:00",
         "repeat": "weekly", "count": "4"},
    )  # fmt: skip
    page = response.content.decode()
    assert response.status_code == 200 and "The end must be after the start." in page
    assert "Group &lt;b&gt;night&lt;/b&gt;" in page and "12 Main St" in page
    assert not Occurrence.objects.exists()


def test_the_week_and_month_views_show_the_members_own_appointments(member, client_for):
    occurrence = weekly(member).occurrences.first()
    local = occurrence.start.astimezone(ZoneInfo(member.time_zone)).date()
    client = client_for(member)
    week = client.get(reverse("schedule:mine") + f"?date={local.isoformat()}").content.decode()
    month = client.get(reverse("schedule:mine") + f"?view=month&date={local.isoformat()}").content.decode()
    assert "Therapy with Dr. Rowe" in week and "Therapy with Dr. Rowe" in month
    assert "18:00" in week and "18:00" in month  # on the member's clock, not in UTC


def test_staff_see_times_on_their_own_clock(member, staff, relationship, client_for):
    from alongside.accounts import actions

    actions.set_time_zone(staff, "Europe/London")
    occurrence = weekly(member, by=staff, staff=staff, first=date(2027, 1, 12)).occurrences.first()
    page = client_for(staff).get(reverse("schedule:occurrence", args=[occurrence.pk])).content.decode()
    assert "23:00" in page and "(Europe/London)" in page  # 18:00 in New York


def test_the_time_zone_page_moves_future_appointments_with_the_member(member, client_for):
    appointment = weekly(member)
    client = client_for(member)
    response = client.post(reverse("accounts:time_zone"), {"time_zone": "America/Chicago"})
    assert response.status_code == 302
    member.refresh_from_db()
    appointment.refresh_from_db()
    assert member.time_zone == appointment.time_zone == "America/Chicago"
    assert {clock for _day, clock in local_times(appointment)} == {time(18, 0)}
    refused = client.post(reverse("accounts:time_zone"), {"time_zone": "Mars/Base"})
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()


def test_the_worker_job_extends_series_and_refreshes_routine_reminders(member):
    from alongside.schedule import jobs, routines
    from alongside.schedule.models import RoutineItem

    appointment = weekly(member, rule="FREQ=WEEKLY")
    Occurrence.objects.filter(appointment=appointment, start__gt=timezone.now() + timedelta(days=60)).delete()
    appointment.generated_until = timezone.now() + timedelta(days=60)
    appointment.save()
    assert jobs.extend_series() > 0
    item = routines.add_item(member, title="Walk", schedule="daily", remind_at=time(7, 0))
    Reminder.objects.filter(routine_item=item).delete()
    assert jobs.refresh_routine_reminders() >= 13
    assert RoutineItem.objects.get(pk=item.pk).reminders.count() >= 13


def test_a_supporter_who_left_loses_the_appointment(member, staff, relationship, client_for):
    occurrence = weekly(member, by=staff, staff=staff).occurrences.first()
    care_actions.end_relationship(by=member, relationship=relationship)
    appointment = occurrence.appointment
    assert not series.may_view(staff, appointment) and not series.may_manage(staff, appointment)
    assert not series.visible_appointments(staff).exists()
    assert client_for(staff).get(reverse("schedule:occurrence", args=[occurrence.pk])).status_code == 404


def test_a_moved_occurrence_gets_new_reminders_even_if_the_old_ones_went_out(member, staff, relationship):
    occurrence = weekly(member, by=staff, staff=staff, rule="FREQ=WEEKLY;COUNT=1").occurrences.get()
    Reminder.objects.filter(occurrence=occurrence).update(sent_at=timezone.now())
    series.move(occurrence, by=staff, new_date=FUTURE + timedelta(days=7), new_time=time(18, 0))
    fresh = Reminder.objects.filter(occurrence=occurrence, sent_at__isnull=True, person=member)
    assert sorted(fresh.values_list("offset_minutes", flat=True)) == [60, 1440]


def test_moving_zone_then_extending_adds_no_copies_of_past_dates(member):
    appointment = weekly(member, first=FUTURE - timedelta(days=35), rule="FREQ=WEEKLY")
    before = appointment.occurrences.count()
    account_actions.set_time_zone(member, "Europe/London")
    appointment.refresh_from_db()
    series.extend(now=appointment.generated_until)  # well within the window: extends
    assert appointment.occurrences.count() > before
    starts = list(appointment.occurrences.values_list("original_start", flat=True))
    assert len(starts) == len(set(starts))
    zone = ZoneInfo("Europe/London")
    days = [o.start.astimezone(zone).date() for o in appointment.occurrences.filter(start__gt=timezone.now())]
    assert len(days) == len(set(days))  # one per week, not two


def test_far_away_dates_are_refused_not_a_server_error(member, client_for):
    client = client_for(member)
    assert client.get(reverse("schedule:mine") + "?date=9999-12-31").status_code == 200
    assert client.get(reverse("schedule:mine") + "?view=month&date=0001-01-01").status_code == 200
    with pytest.raises(ValidationError):
        weekly(member, first=date(9999, 12, 31), rule="")


@pytest.mark.parametrize("rule", ["FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31;COUNT=3"])
def test_a_rule_that_never_happens_is_refused(member, rule):
    with pytest.raises(ValidationError) as error:
        weekly(member, rule=rule)
    assert "never happens" in str(error.value)
    assert series._never_happens(series._rule_parts(rule))  # found before dateutil searches the calendar


def test_a_series_starting_on_29_february(member):
    appointment = weekly(member, first=date(2028, 2, 29), at=time(0, 0), rule="FREQ=YEARLY;COUNT=2")
    assert [d for d, _clock in local_times(appointment)] == [date(2028, 2, 29), date(2032, 2, 29)]


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("", "Once"),
        ("FREQ=WEEKLY", "Every week"),
        ("FREQ=WEEKLY;INTERVAL=2;COUNT=10", "Every 2 weeks"),
        ("FREQ=WEEKLY;BYDAY=MO,WE", "Every week on Monday, Wednesday"),
        ("FREQ=MONTHLY;BYDAY=1TU", "Every month on the first Tuesday"),
        ("FREQ=MONTHLY;BYDAY=-1FR", "Every month on the last Friday"),
        # Beyond these words the rule is shown as written rather than described wrongly.
        ("FREQ=MONTHLY;BYMONTHDAY=3", "FREQ=MONTHLY;BYMONTHDAY=3"),
        ("FREQ=MONTHLY;BYDAY=2XX", "FREQ=MONTHLY;BYDAY=2XX"),
    ],
)
def test_rules_in_words(rule, words):
    assert series.rule_in_words(rule) == words
