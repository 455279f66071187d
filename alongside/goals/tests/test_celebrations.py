"""Recovery milestones: celebrated at the program's days on the member's own clock, each once, in the inbox only;
streaks that break start again; goals and milestones achieved; a reminder for a milestone due tomorrow."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from alongside.accounts.models import Role
from alongside.goals import celebrations, jobs
from alongside.goals.models import Celebration, CelebrationKind, Goal, GoalStatus, Milestone
from alongside.monitoring.models import CheckIn
from alongside.notify.models import Notification, NotificationKind
from alongside.programs import actions as program_actions
from alongside.programs.models import Program, TransitionKind
from alongside.testing.factories import make_member, make_organisation, make_staff, support

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")
LOS_ANGELES = "America/Los_Angeles"  # UTC−8 in winter


@pytest.fixture
def org():
    return make_organisation("Celebration Test Program")


@pytest.fixture
def admin(org):
    return make_staff(org, Role.ORG_ADMIN)


@pytest.fixture
def program(org, admin):
    return program_actions.create_program(by=admin, organisation=org, name="Aftercare")


def _discharged(org, admin, program, on: date, time_zone: str = LOS_ANGELES):
    member = make_member(org, time_zone=time_zone)
    program_actions.enrol(by=admin, program=program, member=member, discharge_date=on)
    return member


def _checked_in(member, days):
    for day in days:
        CheckIn.objects.create(
            member=member, mood=6, local_date=day, recorded_at=datetime.combine(day, datetime.min.time(), tzinfo=UTC)
        )


def test_day_thirty_arrives_at_the_members_own_midnight(org, admin, program):
    member = _discharged(org, admin, program, date(2026, 1, 1))
    # 07:59 UTC on 31 January is still 30 January (day 29) in Los Angeles; 08:00 UTC is their midnight.
    assert celebrations.celebrate_recovery_days(datetime(2026, 1, 31, 7, 59, tzinfo=UTC)) == 0
    assert not Celebration.objects.filter(member=member).exists()
    assert celebrations.celebrate_recovery_days(datetime(2026, 1, 31, 8, 1, tzinfo=UTC)) == 1
    celebration = Celebration.objects.get(member=member)
    assert (celebration.kind, celebration.days) == (CelebrationKind.DAYS_SINCE_DISCHARGE, 30)
    notification = Notification.objects.get(recipient=member)
    assert notification.kind == NotificationKind.GOALS
    assert notification.title == "30 days since discharge — well done"


def test_each_celebration_happens_once_however_often_the_job_runs(org, admin, program):
    member = _discharged(org, admin, program, date(2026, 3, 1))
    moment = datetime(2026, 3, 8, 20, 0, tzinfo=UTC)
    assert celebrations.celebrate_recovery_days(moment) == 1
    assert celebrations.celebrate_recovery_days(moment) == 0
    assert celebrations.celebrate_recovery_days(moment + timedelta(days=1)) == 0  # the next day, within the grace
    assert Celebration.objects.filter(member=member).count() == 1
    assert Notification.objects.filter(recipient=member).count() == 1


def test_a_day_missed_by_the_worker_is_still_celebrated_but_not_the_distant_past(org, admin, program):
    late = _discharged(org, admin, program, date(2026, 3, 1))
    long_ago = _discharged(org, admin, program, date(2025, 12, 1))
    celebrations.celebrate_recovery_days(datetime(2026, 3, 10, 20, 0, tzinfo=UTC))  # day 9: day 7 two days late
    assert list(Celebration.objects.filter(member=late).values_list("days", flat=True)) == [7]
    assert not Celebration.objects.filter(member=long_ago).exists()  # day 99: 90 was long before


def test_program_configured_days(org, admin, program):
    settings = dict(program.settings, celebration_days=[10, 45])
    Program.objects.filter(pk=program.pk).update(settings=settings)
    member = _discharged(org, admin, program, date(2026, 3, 1))
    assert celebrations.celebrate_recovery_days(datetime(2026, 3, 8, 20, 0, tzinfo=UTC)) == 0  # day 7: not theirs
    assert celebrations.celebrate_recovery_days(datetime(2026, 3, 11, 20, 0, tzinfo=UTC)) == 1
    assert Celebration.objects.get(member=member).days == 10


def test_days_since_completing_the_program(org, admin, program):
    member = make_member(org, time_zone=LOS_ANGELES)
    enrolment = program_actions.enrol(by=admin, program=program, member=member)
    clinician = make_staff(org, Role.CLINICIAN)
    support(clinician, member, org, Role.CLINICIAN)
    program_actions.record_transition(
        by=clinician,
        enrolment=enrolment,
        kind=TransitionKind.GRADUATION,
        to_phase=program.phases.last(),
        effective_date=timezone.localdate(),
    )
    in_a_week = timezone.now() + timedelta(days=7, hours=12)
    assert celebrations.celebrate_recovery_days(in_a_week) >= 1
    assert Celebration.objects.filter(member=member, kind=CelebrationKind.DAYS_SINCE_COMPLETION, days=7).exists()


def test_check_in_streak_is_celebrated_and_a_broken_streak_starts_again(org):
    member = make_member(org, time_zone=LOS_ANGELES)
    first = date(2026, 4, 1)
    _checked_in(member, [first + timedelta(days=n) for n in range(7)])  # 1 to 7 April
    evening = datetime(2026, 4, 8, 4, 0, tzinfo=UTC)  # 7 April, 21:00 in Los Angeles
    assert celebrations.celebrate_recovery_days(evening) == 1
    assert celebrations.celebrate_recovery_days(evening) == 0
    streak = Celebration.objects.get(member=member, kind=CelebrationKind.CHECKIN_STREAK)
    assert streak.days == 7
    # A day without a check-in (8 April) breaks it: 9 to 15 April is a new streak of 7, celebrated again.
    restart = date(2026, 4, 9)
    _checked_in(member, [restart + timedelta(days=n) for n in range(7)])
    days = {restart + timedelta(days=n) for n in range(7)} | {first + timedelta(days=n) for n in range(7)}
    assert celebrations.streak_from(days, date(2026, 4, 12)) == (4, restart)
    assert celebrations.celebrate_recovery_days(datetime(2026, 4, 16, 4, 0, tzinfo=UTC)) == 1
    assert Celebration.objects.filter(member=member, kind=CelebrationKind.CHECKIN_STREAK).count() == 2


def test_streak_counts_until_today_ends_on_the_members_clock(org):
    days = {date(2026, 4, 1), date(2026, 4, 2)}
    assert celebrations.streak_from(days, date(2026, 4, 3)) == (2, date(2026, 4, 1))  # today not over yet
    assert celebrations.streak_from(days, date(2026, 4, 4)) == (0, None)  # yesterday missed


def test_goals_and_milestones_achieved_are_celebrated_once(org):
    member = make_member(org)
    goal = Goal.objects.create(member=member, title="Walk 5 km", area="health", status=GoalStatus.ACTIVE)
    milestone = Milestone.objects.create(goal=goal, title="Walk 2 km", achieved_at=timezone.now())
    assert celebrations.celebrate_goal(goal) is None  # not achieved yet
    first = celebrations.celebrate_milestone(milestone)
    assert first is not None and first.kind == CelebrationKind.MILESTONE_ACHIEVED
    assert celebrations.celebrate_milestone(milestone) is None
    goal.status, goal.achieved_at = GoalStatus.ACHIEVED, timezone.now()
    goal.save()
    assert celebrations.celebrate_goal(goal).goal == goal
    assert celebrations.celebrate_goal(goal) is None
    assert Celebration.objects.filter(member=member).count() == 2
    titles = set(Notification.objects.filter(recipient=member).values_list("title", flat=True))
    assert len(titles) == 2 and not any("Walk" in title for title in titles)  # no detail in the notification


def test_a_milestone_due_tomorrow_on_the_members_clock_is_reminded_once(org):
    member = make_member(org, time_zone=LOS_ANGELES)
    goal = Goal.objects.create(member=member, title="Apply to courses", area="education")
    due = Milestone.objects.create(goal=goal, title="Write a letter", due_date=date(2026, 5, 11))
    Milestone.objects.create(goal=goal, title="Later", due_date=date(2026, 5, 12))
    # 05:00 UTC on 11 May is still 10 May in Los Angeles: the first milestone is due tomorrow.
    moment = datetime(2026, 5, 11, 5, 0, tzinfo=UTC)
    assert celebrations.remind_due_milestones(moment) == 1
    assert celebrations.remind_due_milestones(moment) == 0
    reminder = Notification.objects.get(recipient=member)
    assert reminder.source_key == f"milestone_due:{due.pk}:2026-05-11"


def test_the_worker_runs_the_jobs(org, admin, program):
    from alongside.core.worker import PERIODIC_JOBS

    assert "goals: celebrate recovery milestones" in PERIODIC_JOBS
    assert "goals: milestones due tomorrow" in PERIODIC_JOBS
    member = _discharged(org, admin, program, timezone.localdate() - timedelta(days=8))
    jobs.celebrate_recovery_days()
    jobs.celebrate_recovery_days()
    assert Celebration.objects.filter(member=member, days=7).count() == 1


def test_many_members_due_cost_a_fixed_number_of_queries(org, admin, program, django_assert_max_num_queries):
    for _ in range(3):
        _discharged(org, admin, program, date(2026, 3, 1))
    with django_assert_max_num_queries(12) as counted:
        celebrations.due_day_counts(datetime(2026, 3, 8, 20, 0, tzinfo=UTC))
    few = len(counted.captured_queries)
    for _ in range(10):
        _discharged(org, admin, program, date(2026, 3, 1))
    with django_assert_max_num_queries(few):
        assert len(celebrations.due_day_counts(datetime(2026, 3, 8, 20, 0, tzinfo=UTC))) == 13


def test_a_celebration_another_worker_stored_meanwhile_is_not_announced_twice(org, monkeypatch):
    member = make_member(org)
    due = celebrations.Due(member.pk, CelebrationKind.CHECKIN_STREAK, 7, f"checkin_streak:{member.pk}:2026-04-01:7")
    # The other worker stores it between this worker's look and its insert.
    monkeypatch.setattr(celebrations, "celebrated_keys", lambda keys: set())
    Celebration.objects.create(
        member=member, kind=due.kind, days=7, key=due.key, created_at=timezone.now() - timedelta(seconds=1)
    )
    assert celebrations.celebrate_due([due]) == 0
    assert Celebration.objects.filter(member=member).count() == 1
    assert not Notification.objects.filter(recipient=member).exists()
