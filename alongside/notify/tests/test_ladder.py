"""The accountability ladder over days of silence, with time travel: each step once, in order, only to people
the member shares engagement with, and back to the bottom the moment the member checks in."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from alongside.accounts.models import Role
from alongside.care import actions as care_actions
from alongside.care.models import OutreachTask, OutreachTaskStatus
from alongside.monitoring import checkins
from alongside.notify import ladder
from alongside.notify.models import LadderEvent, Notification, NotificationKind
from alongside.programs import actions as program_actions
from alongside.testing.factories import make_staff, support

START = datetime(2027, 2, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def team(organisation, member):
    with time_machine.travel(START, tick=False):
        admin = make_staff(organisation, Role.ORG_ADMIN)
        program = program_actions.create_program(by=admin, organisation=organisation, name="Aftercare")
        program_actions.enrol(by=admin, program=program, member=member)
        people = {
            role: make_staff(organisation, role) for role in (Role.PEER_MENTOR, Role.CASE_MANAGER, Role.CLINICIAN)
        }
        relationships = {role: support(person, member, organisation, role) for role, person in people.items()}
        # Peer mentors see engagement by default; clinicians and case managers too.
        checkins.record(member, mood=6)
    return people, relationships


def steps_taken(member):
    return list(LadderEvent.objects.filter(member=member).order_by("step").values_list("action", flat=True))


def test_the_ladder_climbs_one_step_at_a_time_and_each_step_once(member, team):
    people, _relationships = team
    expected = ["remind_member", "nudge_member", "notify_peer", "task_care_team", "notify_clinician"]
    for hours, steps in ((23, 0), (25, 1), (49, 2), (73, 3), (121, 4), (169, 5)):
        with time_machine.travel(START + timedelta(hours=hours), tick=False):
            ladder.evaluate()
            ladder.evaluate()  # running twice (or in two workers) changes nothing
        assert steps_taken(member) == expected[:steps]
    assert Notification.objects.filter(recipient=member, kind=NotificationKind.NUDGE).count() == 2
    assert Notification.objects.filter(recipient=people[Role.PEER_MENTOR], kind=NotificationKind.CARE_TEAM).count() == 1
    task = OutreachTask.objects.get(member=member)
    assert task.owner == people[Role.CASE_MANAGER] and task.status == OutreachTaskStatus.OPEN
    assert Notification.objects.filter(recipient=people[Role.CLINICIAN], kind=NotificationKind.CARE_TEAM).count() == 1


def test_a_check_in_resets_the_ladder_and_closes_its_task(member, team):
    for hours in (25, 49, 73, 121):
        with time_machine.travel(START + timedelta(hours=hours), tick=False):
            ladder.evaluate()
    assert len(steps_taken(member)) == 4
    with time_machine.travel(START + timedelta(hours=122), tick=False):
        checkins.record(member, mood=5)
        ladder.evaluate()
    assert OutreachTask.objects.get(member=member).status == OutreachTaskStatus.DONE
    with time_machine.travel(START + timedelta(hours=122 + 23), tick=False):
        ladder.evaluate()
    assert LadderEvent.objects.filter(member=member).count() == 4  # nothing new within the period
    with time_machine.travel(START + timedelta(hours=122 + 25), tick=False):
        ladder.evaluate()
    newest = LadderEvent.objects.filter(member=member).order_by("-at").first()
    assert (newest.step, newest.action) == (0, "remind_member")  # back at the bottom


def test_supporters_hear_of_it_only_with_the_members_consent(member, team):
    people, relationships = team
    with time_machine.travel(START + timedelta(hours=1), tick=False):
        care_actions.set_sharing(
            member=member, relationship=relationships[Role.PEER_MENTOR], categories=["goals"], safety_alerts=False
        )
    with time_machine.travel(START + timedelta(hours=73), tick=False):
        ladder.evaluate()
    assert steps_taken(member)[2] == "notify_peer"
    assert not Notification.objects.filter(recipient=people[Role.PEER_MENTOR]).exists()
    assert LadderEvent.objects.get(member=member, step=2).detail == "nobody consented to hear of it"


def test_program_settings_choose_the_steps(member, team, organisation):
    from alongside.programs.models import Enrolment

    program = Enrolment.objects.get(member=member).program
    program.settings = program.settings | {"ladder": [{"after_hours": 12, "action": "notify_clinician"}]}
    program.save()
    with time_machine.travel(START + timedelta(hours=13), tick=False):
        ladder.evaluate()
    assert steps_taken(member) == ["notify_clinician"]


def test_checkin_reminders_at_the_members_local_times_once_and_not_after_a_check_in(member, team):
    from zoneinfo import ZoneInfo

    from alongside.notify import reminders
    from alongside.notify.models import NotificationPreferences

    member.time_zone = "America/New_York"
    member.save()
    NotificationPreferences.objects.create(person=member, quiet_hours=False, checkin_times=["19:30"])
    zone = ZoneInfo("America/New_York")
    at = datetime(2027, 3, 14, 19, 31, tzinfo=zone)  # the day the clocks go forward
    assert reminders.checkin_reminders(now=at) == 1
    assert reminders.checkin_reminders(now=at + timedelta(minutes=5)) == 0  # once
    assert reminders.checkin_reminders(now=datetime(2027, 3, 14, 18, 0, tzinfo=zone)) == 0  # not before
    with time_machine.travel(datetime(2027, 3, 15, 12, 0, tzinfo=zone), tick=False):
        checkins.record(member, mood=7)
    assert reminders.checkin_reminders(now=datetime(2027, 3, 15, 19, 31, tzinfo=zone)) == 0  # checked in today
    NotificationPreferences.objects.filter(person=member).update(checkin_times=[])
    assert reminders.checkin_reminders(now=datetime(2027, 3, 16, 19, 31, tzinfo=zone)) == 0  # turned off
    reminder = Notification.objects.get(recipient=member, kind=NotificationKind.CHECKIN_REMINDER)
    assert reminder.deliveries.first().due_at == datetime(2027, 3, 14, 19, 30, tzinfo=zone)


def test_questionnaire_reminders_when_a_window_opens_and_before_it_closes(member, organisation):
    from alongside.notify import reminders

    with time_machine.travel(START, tick=False):
        admin = make_staff(organisation, Role.ORG_ADMIN)
        program = program_actions.create_program(by=admin, organisation=organisation, name="Assessed")
        program.settings = program.settings | {"assessment_every_days": {"phq9": 14}}
        program.save()
        program_actions.enrol(by=admin, program=program, member=member, discharge_date=START.date())
    assert reminders.questionnaire_reminders(now=START + timedelta(hours=2)) == 1
    assert reminders.questionnaire_reminders(now=START + timedelta(hours=3)) == 0
    assert reminders.questionnaire_reminders(now=START + timedelta(hours=60)) == 1  # closes within a day
    titles = set(
        Notification.objects.filter(recipient=member, kind=NotificationKind.QUESTIONNAIRE).values_list(
            "title", flat=True
        )
    )
    assert titles == {"A questionnaire is ready for you", "A questionnaire closes soon"}


def test_a_long_silence_first_seen_sends_the_member_one_message_and_the_team_every_step(member, team):
    people, _relationships = team
    with time_machine.travel(START + timedelta(days=30), tick=False):
        ladder.evaluate()
    assert Notification.objects.filter(recipient=member, kind=NotificationKind.NUDGE).count() == 1
    assert LadderEvent.objects.filter(member=member).count() == 5
    assert LadderEvent.objects.get(member=member, step=0).detail.startswith("skipped")
    assert OutreachTask.objects.filter(member=member, owner=people[Role.CASE_MANAGER]).exists()


def test_a_member_who_joined_with_old_check_ins_is_quiet_since_the_last_one(member, organisation):
    with time_machine.travel(START - timedelta(days=10), tick=False):
        checkins.record(member, mood=4)
    with time_machine.travel(START, tick=False):
        admin = make_staff(organisation, Role.ORG_ADMIN)
        program = program_actions.create_program(by=admin, organisation=organisation, name="Late")
        program_actions.enrol(by=admin, program=program, member=member)
    with time_machine.travel(START + timedelta(hours=1), tick=False):
        assert ladder.evaluate() >= 1
