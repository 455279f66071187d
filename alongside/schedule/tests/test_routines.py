"""The daily routine: items and their rules, check-offs, streaks, habit strength, reminders around
daylight-saving changes, and the member's pages."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.urls import reverse
from hypothesis import example, given, settings
from hypothesis import strategies as st

from alongside.care import plan
from alongside.schedule import reminders, routines, times
from alongside.schedule.models import Reminder, RoutineCheck, RoutineItem, RoutineSchedule
from alongside.testing.factories import make_member

NEW_YORK = ZoneInfo("America/New_York")  # the members' zone in the test factories


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12, 0), tzinfo=NEW_YORK)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def tick(member, item, *ticked: date) -> None:
    """Tick the days off as the member would have, on each of those days."""
    for day in ticked:
        routines.check(member, item, day, now=noon(day))


def errors_of(raised: pytest.ExceptionInfo) -> dict:
    return raised.value.message_dict


# Items -------------------------------------------------------------------------------------------------------


def test_add_item_keeps_what_the_schedule_needs(member):
    daily = routines.add_item(member, title="  A   walk ", schedule="daily", weekdays=[1], times_per_week=3)
    assert (daily.title, daily.schedule, daily.weekdays, daily.times_per_week) == ("A walk", "daily", [], None)
    chosen = routines.add_item(member, title="Gym", schedule="weekdays", weekdays=[4, 0, "2", 0])
    assert chosen.weekdays == [0, 2, 4]
    weekly = routines.add_item(member, title="Call a friend", schedule="times_per_week", times_per_week=2)
    assert weekly.times_per_week == 2 and weekly.weekdays == []
    assert [item.title for item in routines.active_items(member)] == ["A walk", "Gym", "Call a friend"]


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"title": "", "schedule": "daily"}, "title"),
        ({"title": "   ", "schedule": "daily"}, "title"),
        ({"title": "x" * 121, "schedule": "daily"}, "title"),
        ({"title": "Walk", "schedule": "hourly"}, "schedule"),
        ({"title": "Walk", "schedule": "weekdays", "weekdays": []}, "weekdays"),
        ({"title": "Walk", "schedule": "weekdays", "weekdays": [7]}, "weekdays"),
        ({"title": "Walk", "schedule": "weekdays", "weekdays": [-1, 2]}, "weekdays"),
        ({"title": "Walk", "schedule": "times_per_week"}, "times_per_week"),
        ({"title": "Walk", "schedule": "times_per_week", "times_per_week": 0}, "times_per_week"),
        ({"title": "Walk", "schedule": "times_per_week", "times_per_week": 8}, "times_per_week"),
        ({"title": "Walk", "schedule": "daily", "remind_at": "soon"}, "remind_at"),
    ],
)
def test_add_item_names_the_wrong_field(member, values, field):
    with pytest.raises(ValidationError) as raised:
        routines.add_item(member, **values)
    assert field in errors_of(raised)
    assert not RoutineItem.objects.filter(member=member).exists()


def test_a_title_of_120_characters_is_fine(member):
    assert len(routines.add_item(member, title="x" * 120, schedule="daily").title) == 120


def test_at_most_30_active_items(member):
    items = [routines.add_item(member, title=f"Item {n}", schedule="daily") for n in range(30)]
    with pytest.raises(ValidationError) as raised:
        routines.add_item(member, title="One more", schedule="daily")
    assert NON_FIELD_ERRORS in errors_of(raised)
    routines.archive_item(member, items[0])
    assert routines.add_item(member, title="One more", schedule="daily").title == "One more"


def test_update_and_archive(member, organisation):
    item = routines.add_item(member, title="Walk", schedule="daily")
    routines.update_item(member, item, title="Long walk", schedule="weekdays", weekdays=[5, 6])
    item.refresh_from_db()
    assert (item.title, item.schedule, item.weekdays) == ("Long walk", "weekdays", [5, 6])
    with pytest.raises(ValidationError) as raised:
        routines.update_item(member, item, title="Long walk", schedule="weekdays", weekdays=[])
    assert "weekdays" in errors_of(raised)
    other = make_member(organisation)
    with pytest.raises(PermissionDenied):
        routines.update_item(other, item, title="Mine now", schedule="daily")
    with pytest.raises(PermissionDenied):
        routines.archive_item(other, item)
    routines.archive_item(member, item)
    assert not routines.active_items(member).exists()
    with pytest.raises(ValidationError):
        routines.update_item(member, item, title="Again", schedule="daily")


def test_reminders_follow_the_item(member):
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    item = routines.add_item(member, title="Pills", schedule="daily", remind_at=time(20, 0), now=now)
    assert Reminder.objects.filter(routine_item=item).count() == 14
    routines.update_item(member, item, title="Pills", schedule="weekdays", weekdays=[0], remind_at=time(20, 0), now=now)
    due = Reminder.objects.filter(routine_item=item)
    assert [times.local(r.due_at, NEW_YORK).weekday() for r in due] == [0, 0]  # two Mondays in 14 days
    assert {times.local(r.due_at, NEW_YORK).time() for r in due} == {time(20, 0)}
    routines.archive_item(member, item, now=now)
    assert not Reminder.objects.filter(routine_item=item).exists()


def test_items_without_a_reminder_time_get_no_reminders(member):
    item = routines.add_item(member, title="Walk", schedule="daily")
    assert not Reminder.objects.filter(routine_item=item).exists()


# From the plan -------------------------------------------------------------------------------------------------


def test_add_from_plan_adds_the_missing_lines_once(member):
    plan.save_plan(member, by=member, content={"daily_maintenance": ["Walk", "Breakfast", "walk "]}, based_on=0)
    routines.add_item(member, title="WALK", schedule="weekdays", weekdays=[0])
    added = routines.add_from_plan(member)
    assert [(item.title, item.schedule, item.from_plan) for item in added] == [("Breakfast", "daily", True)]
    assert routines.add_from_plan(member) == []
    assert routines.plan_lines_to_add(member) == []
    assert sorted(routines.active_items(member).values_list("title", flat=True)) == ["Breakfast", "WALK"]


def test_add_from_plan_without_a_plan_adds_nothing(member):
    assert routines.add_from_plan(member) == []


def test_an_archived_plan_item_comes_back_from_the_plan(member):
    plan.save_plan(member, by=member, content={"daily_maintenance": ["Walk"]}, based_on=0)
    (walk,) = routines.add_from_plan(member)
    routines.archive_item(member, walk)
    assert [item.title for item in routines.add_from_plan(member)] == ["Walk"]


def test_long_plan_lines_are_shortened_and_the_limit_holds(member):
    lines = ["y" * 200, *[f"Line {n}" for n in range(35)]]
    plan.save_plan(member, by=member, content={"daily_maintenance": lines}, based_on=0)
    added = routines.add_from_plan(member)
    assert len(added) == routines.MAX_ACTIVE_ITEMS
    assert len(added[0].title) == 120 and added[0].title.endswith("…")
    assert len(routines.plan_lines_to_add(member)) == 6


# Check-offs ----------------------------------------------------------------------------------------------------


def test_check_and_uncheck_today_and_the_week_before(member):
    item = routines.add_item(member, title="Walk", schedule="daily")
    now = datetime(2026, 6, 10, 3, 0, tzinfo=UTC)  # still 9 June in New York
    today = date(2026, 6, 9)
    assert routines.local_today(member, now) == today
    routines.check(member, item, today, now=now)
    routines.check(member, item, today, now=now)  # twice is once
    routines.check(member, item, today - timedelta(days=7), now=now)
    assert sorted(routines.done_days(item)) == [today - timedelta(days=7), today]
    assert routines.uncheck(member, item, today, now=now) is True
    assert routines.uncheck(member, item, today, now=now) is False
    assert routines.done_days(item) == {today - timedelta(days=7)}


@pytest.mark.parametrize("offset", [1, -8])
def test_check_refuses_the_future_and_long_ago(member, offset):
    item = routines.add_item(member, title="Walk", schedule="daily")
    now = datetime(2026, 6, 10, 3, 0, tzinfo=UTC)
    day = date(2026, 6, 9) + timedelta(days=offset)
    for action in (routines.check, routines.uncheck):
        with pytest.raises(ValidationError) as raised:
            action(member, item, day, now=now)
        assert "day" in errors_of(raised)
    assert not RoutineCheck.objects.exists()


def test_only_the_member_checks_their_items(member, organisation, staff):
    item = routines.add_item(member, title="Walk", schedule="daily")
    today = routines.local_today(member)
    for person in (make_member(organisation), staff):
        with pytest.raises(PermissionDenied):
            routines.check(person, item, today)
        with pytest.raises(PermissionDenied):
            routines.uncheck(person, item, today)
    assert not RoutineCheck.objects.exists()


def test_archived_items_cannot_be_checked(member):
    item = routines.add_item(member, title="Walk", schedule="daily")
    routines.archive_item(member, item)
    with pytest.raises(ValidationError):
        routines.check(member, item, routines.local_today(member))


# Streaks and habit strength ------------------------------------------------------------------------------------


def test_daily_streak_across_a_missed_day(member):
    start = date(2026, 5, 1)
    item = routines.add_item(member, title="Walk", schedule="daily", now=noon(start))
    tick(member, item, *days(start, date(2026, 5, 4)), *days(date(2026, 5, 6), date(2026, 5, 9)))
    today = date(2026, 5, 10)
    assert routines.streak(item, today) == 4  # today is not done yet, and that does not break it
    assert routines.streak(item, date(2026, 5, 5)) == 4  # the missed day itself, before it was over
    assert routines.streak(item, date(2026, 5, 6)) == 1
    tick(member, item, today)
    assert routines.streak(item, today) == 5
    assert routines.streak(item, date(2026, 5, 12)) == 0  # yesterday was missed


def test_weekday_streak_counts_only_the_chosen_days(member):
    start = date(2026, 5, 4)  # a Monday
    item = routines.add_item(member, title="Gym", schedule="weekdays", weekdays=[0, 2, 4], now=noon(start))
    mondays_wednesdays_fridays = [day for day in days(start, date(2026, 5, 15)) if day.weekday() in (0, 2, 4)]
    tick(member, item, *mondays_wednesdays_fridays)
    assert routines.streak(item, date(2026, 5, 17)) == 6  # a Sunday: the weekend is not missed
    routines.uncheck(member, item, date(2026, 5, 13), now=noon(date(2026, 5, 17)))
    assert routines.streak(item, date(2026, 5, 17)) == 1


def test_times_a_week_streak(member):
    start = date(2026, 5, 4)  # a Monday
    item = routines.add_item(member, title="Swim", schedule="times_per_week", times_per_week=2, now=noon(start))
    tick(member, item, date(2026, 5, 4), date(2026, 5, 9))  # week 1: reached
    tick(member, item, date(2026, 5, 11), date(2026, 5, 12), date(2026, 5, 17))  # week 2: more than reached
    tick(member, item, date(2026, 5, 18))  # week 3, so far
    assert routines.streak(item, date(2026, 5, 20)) == 2  # this week is still open
    tick(member, item, date(2026, 5, 20))
    assert routines.streak(item, date(2026, 5, 20)) == 3
    assert routines.streak(item, date(2026, 5, 25)) == 3  # a new week has begun
    assert routines.streak(item, date(2026, 6, 1)) == 0  # last week had no swim


def test_habit_strength_weakens_on_a_missed_day_instead_of_resetting(member):
    start = date(2026, 5, 1)
    item = routines.add_item(member, title="Walk", schedule="daily", now=noon(start))
    tick(member, item, *days(start, date(2026, 5, 10)))  # ten days done
    after_ten = 1 - 0.9**10
    assert routines.habit_strength(item, date(2026, 5, 10)) == pytest.approx(after_ten)
    assert routines.habit_strength(item, date(2026, 5, 11)) == pytest.approx(after_ten)  # today still open
    assert routines.habit_strength(item, date(2026, 5, 12)) == pytest.approx(after_ten * 0.9)  # 11 May missed
    tick(member, item, date(2026, 5, 12))
    assert routines.habit_strength(item, date(2026, 5, 12)) == pytest.approx(after_ten * 0.9 * 0.9 + 0.1)
    assert routines.streak(item, date(2026, 5, 12)) == 1


def test_habit_strength_of_a_weekday_item_ignores_the_other_days(member):
    start = date(2026, 5, 4)  # a Monday
    item = routines.add_item(member, title="Gym", schedule="weekdays", weekdays=[0, 3], now=noon(start))
    tick(member, item, date(2026, 5, 4), date(2026, 5, 11), date(2026, 5, 14))  # Thursday 7 May missed
    # Due days so far: Mon 4 (done), Thu 7 (missed), Mon 11 (done), Thu 14 (done).
    expected = 0.0
    for x in (1, 0, 1, 1):
        expected = 0.9 * expected + 0.1 * x
    assert routines.habit_strength(item, date(2026, 5, 16)) == pytest.approx(expected)


def test_habit_strength_by_the_week(member):
    start = date(2026, 5, 4)  # a Monday
    item = routines.add_item(member, title="Swim", schedule="times_per_week", times_per_week=3, now=noon(start))
    tick(member, item, date(2026, 5, 4), date(2026, 5, 6), date(2026, 5, 8), date(2026, 5, 9))  # 4 of 3
    tick(member, item, date(2026, 5, 13))  # 1 of 3
    tick(member, item, date(2026, 5, 18), date(2026, 5, 19))  # this week, 2 of 3 so far
    week_one = 0.1 * 1
    week_two = week_one + 0.1 * (1 / 3 - week_one)
    assert routines.habit_strength(item, date(2026, 5, 20)) == pytest.approx(week_two)
    tick(member, item, date(2026, 5, 20))  # reached: this week counts now
    assert routines.habit_strength(item, date(2026, 5, 20)) == pytest.approx(week_two + 0.1 * (1 - week_two))


def test_today_for_lists_the_items_due_today_with_their_state(member):
    start = date(2026, 5, 4)  # a Monday
    walk = routines.add_item(member, title="Walk", schedule="daily", now=noon(start))
    routines.add_item(member, title="Gym", schedule="weekdays", weekdays=[1], now=noon(start))
    swim = routines.add_item(member, title="Swim", schedule="times_per_week", times_per_week=2, now=noon(start))
    tick(member, walk, start)
    tick(member, swim, start)
    listed = {status.item.title: status for status in routines.today_for(member, start)}
    assert set(listed) == {"Walk", "Swim"}  # the gym is on Tuesdays
    assert listed["Walk"].done and listed["Walk"].streak == 1
    assert listed["Walk"].strength_percent == 10
    assert listed["Swim"].week_count == 1 and not listed["Swim"].week_target_reached
    assert "doing it 2 times this week starts one" in listed["Swim"].streak_words
    assert listed["Walk"].streak_words == "1 day in a row" and listed["Walk"].strength_words == "just starting"
    grid = listed["Walk"].weeks
    assert len(grid) == 4 and grid[-1].monday == start
    assert [cell.state for cell in grid[-1].days] == ["done", *["later"] * 6]
    assert {cell.state for week in grid[:-1] for cell in week.days} == {"before"}


# Reminders around daylight-saving changes ----------------------------------------------------------------------


def test_a_reminder_in_the_skipped_hour_comes_once_when_the_clocks_jump(member):
    now = datetime(2027, 3, 13, 12, 0, tzinfo=UTC)  # the day before clocks go forward in New York
    item = routines.add_item(member, title="Pills", schedule="daily", remind_at=time(2, 30), now=now)
    due = reminders.routine_due_times(item, date(2027, 3, 14), 1)
    assert due == [datetime(2027, 3, 14, 7, 0, tzinfo=UTC)]
    assert times.local(due[0], NEW_YORK).time() == time(3, 0)
    stored = [r.due_at for r in Reminder.objects.filter(routine_item=item)]
    on_the_day = [moment for moment in stored if times.local(moment, NEW_YORK).date() == date(2027, 3, 14)]
    assert on_the_day == due
    later = [times.local(moment, NEW_YORK) for moment in stored if moment > due[0]]
    assert {moment.time() for moment in later} == {time(2, 30)}


def test_a_reminder_in_the_repeated_hour_comes_once(member):
    now = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)  # the day before clocks go back in New York
    item = routines.add_item(member, title="Pills", schedule="daily", remind_at=time(1, 30), now=now)
    due = reminders.routine_due_times(item, date(2026, 11, 1), 1)
    assert due == [datetime(2026, 11, 1, 5, 30, tzinfo=UTC)]  # the first 01:30, still on summer time
    stored = [r.due_at for r in Reminder.objects.filter(routine_item=item)]
    assert [moment for moment in stored if times.local(moment, NEW_YORK).date() == date(2026, 11, 1)] == due
    reminders.refresh_routine(item, now=now)  # refreshing again makes no second one
    assert Reminder.objects.filter(routine_item=item).count() == len(stored) == 13  # 31 October's has passed


ZONES = ["America/New_York", "Europe/London", "Australia/Sydney", "Australia/Lord_Howe", "Asia/Kolkata",
         "America/Santiago"]  # fmt: skip


def _wall_time_exists(day: date, clock: time, zone: ZoneInfo) -> bool:
    wall = datetime.combine(day, clock)
    return wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall


@settings(max_examples=300, deadline=None)
@given(
    zone_name=st.sampled_from(ZONES),
    first=st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31)),
    clock=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    weekdays=st.sets(st.integers(min_value=0, max_value=6), min_size=1),
    daily=st.booleans(),
)
# The half-hour jump of Lord Howe, Santiago's midnight jump, and London's repeated hour, always among the cases.
@example(zone_name="Australia/Lord_Howe", first=date(2026, 10, 1), clock=time(2, 15), weekdays={6}, daily=False)
@example(zone_name="America/Santiago", first=date(2026, 9, 5), clock=time(0, 30), weekdays={0}, daily=True)
@example(zone_name="Europe/London", first=date(2026, 10, 25), clock=time(1, 30), weekdays={6}, daily=True)
def test_one_reminder_per_due_day_at_the_chosen_wall_time(zone_name, first, clock, weekdays, daily):
    zone = ZoneInfo(zone_name)
    person = get_user_model()(time_zone=zone_name)
    schedule = RoutineSchedule.DAILY if daily else RoutineSchedule.WEEKDAYS
    item = RoutineItem(member=person, title="Pills", schedule=schedule, weekdays=sorted(weekdays), remind_at=clock)
    due = reminders.routine_due_times(item, first, 7)
    due_days = [day for day in days(first, first + timedelta(days=6)) if daily or day.weekday() in weekdays]
    assert [times.local(moment, zone).date() for moment in due] == due_days  # exactly one per due day
    for day, moment in zip(due_days, due, strict=True):
        wall = times.local(moment, zone).replace(tzinfo=None)
        if _wall_time_exists(day, clock, zone):
            assert wall == datetime.combine(day, clock)
        else:
            # The first instant after the gap: a second earlier the clocks still read before the chosen time.
            just_before = times.local(moment - timedelta(seconds=1), zone).replace(tzinfo=None)
            assert just_before < datetime.combine(day, clock) < wall
            assert (moment - timedelta(seconds=1)).astimezone(zone).utcoffset() != moment.astimezone(zone).utcoffset()


# Pages ---------------------------------------------------------------------------------------------------------


def test_routine_page_shows_today_with_escaped_titles(client_for, member):
    script = routines.add_item(member, title="<script>alert(1)</script>", schedule="daily")
    walk = routines.add_item(member, title="Walk", schedule="daily")
    routines.check(member, walk, routines.local_today(member))
    page = client_for(member).get(reverse("schedule:routine")).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Mark “Walk” not done" in page and "Mark “&lt;script&gt;alert(1)&lt;/script&gt;” done" in page
    assert 'hx-post="' + reverse("schedule:routine_check", args=[script.pk]) + '"' in page
    assert "1 day in a row" in page and "10%, just starting" in page
    assert '<table class="routine-grid">' in page and '<th scope="col">' in page and '<th scope="row">' in page


def test_one_tap_check_with_htmx_returns_only_the_row(client_for, member):
    walk = routines.add_item(member, title="Walk", schedule="daily")
    client = client_for(member)
    response = client.post(reverse("schedule:routine_check", args=[walk.pk]), headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith(f'<li class="card routine-item routine-item--done" id="routine-item-{walk.pk}"')
    assert body.rstrip().endswith("</li>") and "<html" not in body and "<main" not in body
    assert "Mark “Walk” not done" in body and "Done today" in body
    assert routines.done_days(walk) == {routines.local_today(member)}
    response = client.post(reverse("schedule:routine_uncheck", args=[walk.pk]), headers={"HX-Request": "true"})
    assert "Mark “Walk” done" in response.content.decode()
    assert routines.done_days(walk) == set()


def test_check_without_javascript_redirects_back(client_for, member):
    walk = routines.add_item(member, title="Walk", schedule="daily")
    client = client_for(member)
    response = client.post(reverse("schedule:routine_check", args=[walk.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("schedule:routine") + f"#routine-item-{walk.pk}"
    yesterday = routines.local_today(member) - timedelta(days=1)
    client.post(reverse("schedule:routine_check", args=[walk.pk]), {"day": yesterday.isoformat()})
    assert routines.done_days(walk) == {routines.local_today(member), yesterday}
    page = client.post(reverse("schedule:routine_uncheck", args=[walk.pk]), follow=True).content.decode()
    assert "Mark “Walk” done" in page
    assert routines.done_days(walk) == {yesterday}


def test_a_future_or_unreadable_day_is_refused_on_the_page(client_for, member):
    walk = routines.add_item(member, title="Walk", schedule="daily")
    client = client_for(member)
    tomorrow = (routines.local_today(member) + timedelta(days=1)).isoformat()
    page = client.post(reverse("schedule:routine_check", args=[walk.pk]), {"day": tomorrow}, follow=True)
    assert "That day has not come yet." in page.content.decode()
    row = client.post(
        reverse("schedule:routine_check", args=[walk.pk]), {"day": "someday"}, headers={"HX-Request": "true"}
    )
    assert "Give the day as a date" in row.content.decode() and row.content.decode().lstrip().startswith("<li")
    assert not RoutineCheck.objects.exists()


def test_another_members_item_is_not_found(client_for, member, organisation, staff):
    walk = routines.add_item(member, title="Walk", schedule="daily")
    other = client_for(make_member(organisation))
    assert other.get(reverse("schedule:routine_edit", args=[walk.pk])).status_code == 404
    for name in ("routine_check", "routine_uncheck", "routine_archive"):
        assert other.post(reverse(f"schedule:{name}", args=[walk.pk])).status_code == 404
        assert client_for(staff).post(reverse(f"schedule:{name}", args=[walk.pk])).status_code == 403
    assert (
        other.post(reverse("schedule:routine_check", args=[walk.pk]), headers={"HX-Request": "true"}).status_code == 404
    )
    assert not RoutineCheck.objects.exists()
    assert routines.active_items(member).count() == 1
    assert "Walk" not in other.get(reverse("schedule:routine")).content.decode()


def test_staff_cannot_open_the_routine_pages(client_for, staff):
    assert client_for(staff).get(reverse("schedule:routine")).status_code == 403
    assert client_for(staff).get(reverse("schedule:routine_new")).status_code == 403


def test_add_an_item_through_the_form(client_for, member):
    client = client_for(member)
    assert client.get(reverse("schedule:routine_new")).status_code == 200
    response = client.post(
        reverse("schedule:routine_new"),
        {"title": "Gym", "schedule": "weekdays", "weekdays": ["0", "3"], "times_per_week": "", "remind_at": "07:15"},
    )
    assert response.status_code == 302
    (item,) = routines.active_items(member)
    assert (item.title, item.weekdays, item.remind_at) == ("Gym", [0, 3], time(7, 15))


def test_bad_input_rerenders_the_form_with_messages(client_for, member):
    client = client_for(member)
    response = client.post(reverse("schedule:routine_new"), {"title": "", "schedule": "weekdays"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Please check the form." in page
    assert "Say what you will do." in page and "Choose at least one day of the week." in page
    response = client.post(reverse("schedule:routine_new"), {"title": "Swim", "schedule": "times_per_week"})
    assert "Give a number of times a week from 1 to 7." in response.content.decode()
    assert not RoutineItem.objects.exists()


def test_edit_and_archive_through_the_pages(client_for, member):
    walk = routines.add_item(member, title="Walk", schedule="daily")
    client = client_for(member)
    page = client.get(reverse("schedule:routine_edit", args=[walk.pk])).content.decode()
    assert 'value="Walk"' in page and "Take “Walk” out of my routine" in page
    response = client.post(
        reverse("schedule:routine_edit", args=[walk.pk]),
        {"title": "Swim", "schedule": "times_per_week", "times_per_week": "3"},
    )
    assert response.status_code == 302
    walk.refresh_from_db()
    assert (walk.title, walk.times_per_week) == ("Swim", 3)
    assert client.post(reverse("schedule:routine_archive", args=[walk.pk])).status_code == 302
    assert not routines.active_items(member).exists()
    assert f'id="routine-item-{walk.pk}"' not in client.get(reverse("schedule:routine")).content.decode()
    assert client.get(reverse("schedule:routine_edit", args=[walk.pk])).status_code == 404


def test_add_the_plans_daily_maintenance_from_the_page(client_for, member):
    plan.save_plan(member, by=member, content={"daily_maintenance": ["Walk", "Breakfast"]}, based_on=0)
    client = client_for(member)
    page = client.get(reverse("schedule:routine")).content.decode()
    assert "Add my plan's daily maintenance to my routine" in page
    response = client.post(reverse("schedule:routine_from_plan"), follow=True)
    body = response.content.decode()
    assert "2 items from your plan" in body
    assert "Add my plan's daily maintenance to my routine" not in body
    client.post(reverse("schedule:routine_from_plan"))
    assert sorted(routines.active_items(member).values_list("title", flat=True)) == ["Breakfast", "Walk"]


def test_member_home_links_to_the_routine(client_for, member):
    page = client_for(member).get(reverse("web:member_home")).content.decode()
    assert reverse("schedule:routine") in page
