"""Group meetings, their rules: scheduling through the schedule's recurrence code (daylight saving included),
RSVPs, attendance and the disengagement rule it feeds, the facilitators' notes, and reminders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from alongside.accounts.models import Role
from alongside.groups import meetings, membership
from alongside.groups.models import Attendance, Meeting, MeetingStatus, RsvpAnswer
from alongside.notify.models import Notification, NotificationKind
from alongside.schedule import preferences, series
from alongside.signals import explain
from alongside.signals.models import Alert, AlertRecipient, Firing
from alongside.testing.factories import make_member, make_staff, support

pytestmark = pytest.mark.django_db
NEW_YORK = ZoneInfo("America/New_York")


@dataclass
class Circle:
    organisation: object
    group: object
    facilitator: object
    member: object
    other: object  # a second member of the group
    outsider: object  # a member of the organisation, not in the group
    moderator: object


@pytest.fixture
def circle(organisation) -> Circle:
    facilitator = make_staff(organisation, Role.FACILITATOR, display_name="Fay Facilitator")
    group = membership.create_group(
        by=facilitator, organisation=organisation, name="Tuesday Circle", purpose="Support in early recovery",
        access="open", format="hybrid", address="1 Hall Street", video_url="https://video.example/circle",
    )  # fmt: skip
    member = make_member(organisation, display_name="Group Member")
    other = make_member(organisation, display_name="Second Member")
    membership.join(member, group)
    membership.join(other, group)
    return Circle(
        organisation=organisation,
        group=group,
        facilitator=facilitator,
        member=member,
        other=other,
        outsider=make_member(organisation, display_name="Not In Group"),
        moderator=make_staff(organisation, Role.MODERATOR),
    )


def weekly(circle, *, start_date, rrule="FREQ=WEEKLY;COUNT=4", start_time=time(18, 0), **kwargs):
    return meetings.schedule_meetings(
        by=circle.facilitator, group=circle.group, title="Evening circle", time_zone="America/New_York",
        start_date=start_date, start_time=start_time, duration_minutes=90, rrule=rrule, **kwargs,
    )  # fmt: skip


def past_meetings(circle, count=3):
    """A weekly series whose first `count` meetings have happened."""
    start = timezone.now().astimezone(NEW_YORK).date() - timedelta(days=7 * count - 1)
    return list(weekly(circle, start_date=start, rrule=f"FREQ=WEEKLY;COUNT={count + 1}").meetings.order_by("start"))


# Scheduling ----------------------------------------------------------------------------------------------


def test_a_weekly_meeting_keeps_its_local_time_across_a_daylight_saving_change(circle):
    # New York moves its clocks forward on 10 March 2030.
    meeting_series = weekly(circle, start_date=date(2030, 3, 1))
    stored = list(meeting_series.meetings.order_by("start"))
    assert len(stored) == 4
    assert {m.start.astimezone(NEW_YORK).time() for m in stored} == {time(18, 0)}
    assert [m.start.astimezone(UTC).hour for m in stored] == [23, 23, 22, 22]
    assert all(m.end - m.start == timedelta(minutes=90) for m in stored)
    assert all(m.original_start == m.start for m in stored)


def test_only_facilitators_schedule_and_rules_are_checked_as_for_appointments(circle):
    for person in (circle.member, circle.moderator, circle.outsider):
        with pytest.raises(PermissionDenied):
            meetings.schedule_meetings(
                by=person, group=circle.group, title="Mine", time_zone="America/New_York",
                start_date=date(2030, 3, 1), start_time=time(18), duration_minutes=60, rrule="FREQ=WEEKLY",
            )  # fmt: skip
    with pytest.raises(ValidationError) as too_many:
        weekly(circle, start_date=date(2030, 3, 1), rrule="FREQ=DAILY;COUNT=600")
    assert "rrule" in too_many.value.message_dict
    with pytest.raises(ValidationError) as hourly:
        weekly(circle, start_date=date(2030, 3, 1), rrule="FREQ=HOURLY")
    assert "rrule" in hourly.value.message_dict
    with pytest.raises(ValidationError) as bad:
        meetings.schedule_meetings(
            by=circle.facilitator, group=circle.group, title=" ", time_zone="Mars/Olympus",
            start_date=date(2030, 3, 1), start_time=time(18), duration_minutes=0,
        )  # fmt: skip
    assert {"title", "time_zone", "duration_minutes"} <= set(bad.value.message_dict)
    assert not Meeting.objects.exists()
    # A rule whose first date is not the chosen one starts on the rule's first date (1 March 2030 is a Friday).
    tuesdays = weekly(circle, start_date=date(2030, 3, 1), rrule="FREQ=WEEKLY;BYDAY=TU;COUNT=2")
    assert tuesdays.start_date == date(2030, 3, 5)
    assert tuesdays.meetings.order_by("start").first().start.astimezone(NEW_YORK).date() == date(2030, 3, 5)


def test_open_ended_series_are_stored_ahead_and_extended_by_the_worker(circle):
    today = timezone.now().astimezone(NEW_YORK).date()
    meeting_series = weekly(circle, start_date=today + timedelta(days=1), rrule="FREQ=WEEKLY")
    stored = meeting_series.meetings.count()
    assert 55 <= stored <= 58  # 400 days of weeks
    assert meetings.extend() == 0  # not due yet
    later = timezone.now() + timedelta(days=120)
    assert meetings.extend(now=later) > 0
    meeting_series.refresh_from_db()
    assert meeting_series.generated_until == later + series.HORIZON
    starts = list(meeting_series.meetings.values_list("original_start", flat=True))
    assert len(starts) == len(set(starts))
    # An ended series is not extended again, and its meetings still to come are gone.
    meetings.end_series(meeting_series, by=circle.facilitator)
    assert not meeting_series.meetings.filter(start__gt=timezone.now()).exists()
    assert meetings.extend(now=later + timedelta(days=200)) == 0


def test_cancelling_one_meeting_tells_the_members_and_leaves_the_rest(circle):
    meeting_series = weekly(circle, start_date=date(2030, 3, 1))
    first, second = meeting_series.meetings.order_by("start")[:2]
    with pytest.raises(PermissionDenied):
        meetings.cancel_meeting(first, by=circle.member, reason="Busy")
    with pytest.raises(ValidationError) as no_reason:
        meetings.cancel_meeting(first, by=circle.facilitator, reason="  ")
    assert "reason" in no_reason.value.message_dict
    meetings.cancel_meeting(first, by=circle.facilitator, reason="The hall is closed")
    first.refresh_from_db()
    second.refresh_from_db()
    meeting_series.refresh_from_db()
    assert first.status == MeetingStatus.CANCELLED and second.status == MeetingStatus.SCHEDULED
    assert meeting_series.sequence == 1
    told = Notification.objects.filter(kind=NotificationKind.GROUP_MEETING)
    assert set(told.values_list("recipient", flat=True)) == {circle.member.pk, circle.other.pk}
    assert "The hall is closed" in told.first().title
    with pytest.raises(ValidationError):
        meetings.cancel_meeting(first, by=circle.facilitator, reason="Again")


# RSVP ----------------------------------------------------------------------------------------------------


def test_rsvp_is_for_people_in_the_group_for_meetings_to_come_and_can_change(circle):
    upcoming = weekly(circle, start_date=date(2030, 3, 1)).meetings.order_by("start").first()
    meetings.rsvp(circle.member, upcoming, RsvpAnswer.GOING)
    meetings.rsvp(circle.member, upcoming, RsvpAnswer.NOT_GOING)  # changed their mind
    meetings.rsvp(circle.other, upcoming, RsvpAnswer.MAYBE)
    meetings.rsvp(circle.facilitator, upcoming, RsvpAnswer.GOING)
    assert meetings.answer_of(circle.member, upcoming) == RsvpAnswer.NOT_GOING
    assert meetings.rsvp_counts([upcoming])[upcoming.pk] == {"going": 1, "maybe": 1, "not_going": 1}
    for stranger in (circle.outsider, circle.moderator):
        with pytest.raises(PermissionDenied):
            meetings.rsvp(stranger, upcoming, RsvpAnswer.GOING)
    with pytest.raises(ValidationError) as wrong:
        meetings.rsvp(circle.member, upcoming, "perhaps")
    assert "answer" in wrong.value.message_dict
    # Someone who leaves no longer counts.
    membership.leave(circle.other, circle.group)
    assert meetings.rsvp_counts([upcoming])[upcoming.pk]["maybe"] == 0
    with pytest.raises(PermissionDenied):
        meetings.rsvp(circle.other, upcoming, RsvpAnswer.GOING)
    past = past_meetings(circle)[0]
    with pytest.raises(ValidationError):
        meetings.rsvp(circle.member, past, RsvpAnswer.GOING)
    meetings.cancel_meeting(upcoming, by=circle.facilitator, reason="Closed")
    with pytest.raises(ValidationError):
        meetings.rsvp(circle.member, upcoming, RsvpAnswer.GOING)


# Attendance --------------------------------------------------------------------------------------------


def test_attendance_is_one_row_per_active_member_after_the_start_and_corrections_replace(circle):
    happened, *_rest, to_come = past_meetings(circle)
    with pytest.raises(ValidationError):
        meetings.record_attendance(to_come, by=circle.facilitator, attended={circle.member.pk})
    with pytest.raises(PermissionDenied):
        meetings.record_attendance(happened, by=circle.member, attended={circle.member.pk})
    with pytest.raises(ValidationError) as stranger:
        meetings.record_attendance(happened, by=circle.facilitator, attended={circle.outsider.pk})
    assert "attended" in stranger.value.message_dict
    rows = meetings.record_attendance(happened, by=circle.facilitator, attended={circle.member.pk})
    assert {(row.person_id, row.attended) for row in rows} == {(circle.member.pk, True), (circle.other.pk, False)}
    first_ids = set(Attendance.objects.filter(meeting=happened).values_list("pk", flat=True))
    meetings.record_attendance(happened, by=circle.facilitator, attended={circle.other.pk})
    assert meetings.attendance_of(happened) == {circle.member.pk: False, circle.other.pk: True}
    assert set(Attendance.objects.filter(meeting=happened).values_list("pk", flat=True)) == first_ids
    happened.refresh_from_db()
    assert happened.attendance_taken_at is not None


def test_two_missed_group_meetings_within_30_days_raise_a_disengagement_alert(
    circle, django_capture_on_commit_callbacks
):
    peer = make_staff(circle.organisation, Role.PEER_MENTOR, display_name="Peer Sees Engagement")
    support(peer, circle.member, circle.organisation, Role.PEER_MENTOR)  # engagement and goals by default
    unrelated = make_staff(circle.organisation, Role.PEER_MENTOR)
    support(unrelated, circle.other, circle.organisation, Role.PEER_MENTOR)
    first, second, third, _to_come = past_meetings(circle)
    with django_capture_on_commit_callbacks(execute=True):
        meetings.record_attendance(first, by=circle.facilitator, attended={circle.other.pk})
    assert not Alert.objects.exists()  # one missed meeting is not a pattern
    with django_capture_on_commit_callbacks(execute=True):
        meetings.record_attendance(second, by=circle.facilitator, attended={circle.member.pk, circle.other.pk})
        meetings.record_attendance(third, by=circle.facilitator, attended={circle.other.pk})
    firing = Firing.objects.get(rule="missed_appointments")
    assert firing.category == "engagement" and firing.alert.member == circle.member
    assert len(firing.evidence["missed_group_meetings"]) == 2 and firing.evidence["missed_appointments"] == []
    assert firing.source_key == f"missed-meeting:{Attendance.objects.get(meeting=third, person=circle.member).pk}"
    assert AlertRecipient.objects.filter(alert=firing.alert, person=peer).exists()
    assert not Alert.objects.filter(member=circle.other).exists()
    assert explain.describe(firing) == "Missed 2 group meetings in 30 days."
    assert "group meetings" in explain.describe_for_member(firing)
    # Recording the same meeting again does not raise it twice.
    with django_capture_on_commit_callbacks(execute=True):
        meetings.record_attendance(third, by=circle.facilitator, attended=set())
    assert Firing.objects.filter(rule="missed_appointments").count() == 1


def test_a_missed_appointment_and_a_missed_group_meeting_count_together(circle, django_capture_on_commit_callbacks):
    clinician = make_staff(circle.organisation, Role.CLINICIAN)
    support(clinician, circle.member, circle.organisation, Role.CLINICIAN)
    appointment = series.schedule_appointment(
        by=clinician, member=circle.member, kind="therapy", title="Session", location_kind="in_person",
        address="2 Road", time_zone="America/New_York", start_date=timezone.localdate() - timedelta(days=10),
        start_time=time(10), duration_minutes=50,
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        series.record_attendance(appointment.occurrences.get(), by=clinician, attended=False)
    first, *_rest = past_meetings(circle, count=1)
    with django_capture_on_commit_callbacks(execute=True):
        meetings.record_attendance(first, by=circle.facilitator, attended=set())
    firing = Firing.objects.get(rule="missed_appointments")
    assert firing.category == "engagement"
    assert len(firing.evidence["missed_appointments"]) == 1 and len(firing.evidence["missed_group_meetings"]) == 1
    assert explain.describe(firing) == "Missed 1 appointments and 1 group meetings in 30 days."


# Notes ---------------------------------------------------------------------------------------------------


def test_notes_are_for_the_groups_facilitators_only(circle):
    meeting = past_meetings(circle, count=1)[0]
    for person in (circle.member, circle.moderator):
        with pytest.raises(PermissionDenied):
            meetings.save_notes(meeting, by=person, text="Not mine to write")
    meetings.save_notes(meeting, by=circle.facilitator, text="Quiet session; R. spoke first time")
    meeting.refresh_from_db()
    assert meetings.notes_for(circle.facilitator, meeting) == "Quiet session; R. spoke first time"
    for person in (circle.member, circle.other, circle.moderator, circle.outsider):
        assert meetings.notes_for(person, meeting) is None
    with pytest.raises(ValidationError):
        meetings.save_notes(meeting, by=circle.facilitator, text="x" * 10_001)


# Reminders -----------------------------------------------------------------------------------------------


def reminders_for(person):
    return list(
        Notification.objects.filter(recipient=person, kind=NotificationKind.GROUP_MEETING, source_key__contains=":")
        .exclude(source_key__startswith="group-meeting-cancelled")
        .order_by("pk")
        .values_list("source_key", flat=True)
    )


def test_reminders_follow_each_persons_clock_across_a_change_and_never_double(circle):
    # Sunday 10 March 2030, 18:00 in New York: the clocks went forward that morning, so "24 hours before" on
    # the member's clock (Saturday 18:00 EST, 23:00 UTC) is only 23 hours before the meeting (22:00 UTC).
    meeting_series = weekly(circle, start_date=date(2030, 3, 10), rrule="FREQ=WEEKLY;COUNT=2")
    meeting = meeting_series.meetings.order_by("start").first()
    assert meeting.start == datetime(2030, 3, 10, 22, 0, tzinfo=UTC)
    meetings.rsvp(circle.other, meeting, RsvpAnswer.NOT_GOING)
    meetings.send_reminders(now=datetime(2030, 3, 9, 22, 30, tzinfo=UTC))  # 24 real hours before: not yet
    assert reminders_for(circle.member) == []
    for minute in (0, 0, 30):  # the job runs again, and again later
        meetings.send_reminders(now=datetime(2030, 3, 9, 23, minute, tzinfo=UTC))
    assert reminders_for(circle.member) == [f"group-meeting:{meeting.pk}:{circle.member.pk}:1440"]
    meetings.send_reminders(now=datetime(2030, 3, 10, 21, 0, tzinfo=UTC))
    meetings.send_reminders(now=datetime(2030, 3, 10, 21, 30, tzinfo=UTC))
    assert reminders_for(circle.member) == [
        f"group-meeting:{meeting.pk}:{circle.member.pk}:1440",
        f"group-meeting:{meeting.pk}:{circle.member.pk}:60",
    ]
    assert reminders_for(circle.other) == []  # said they cannot come
    assert len(reminders_for(circle.facilitator)) == 2
    assert reminders_for(circle.outsider) == []
    title = Notification.objects.get(source_key=f"group-meeting:{meeting.pk}:{circle.member.pk}:60").title
    assert title == "Tuesday Circle meets in an hour"


def test_reminders_catch_up_but_never_after_the_start_nor_for_cancelled_meetings(circle):
    preferences.save_preferences(circle.other, feed_shows_titles=False, reminder_offsets=[180])
    first, second = weekly(circle, start_date=date(2030, 3, 1), rrule="FREQ=WEEKLY;COUNT=2").meetings.order_by("start")
    # The worker was down all day: thirty minutes before, only the latest due reminder is sent.
    meetings.send_reminders(now=first.start - timedelta(minutes=30))
    assert reminders_for(circle.member) == [f"group-meeting:{first.pk}:{circle.member.pk}:60"]
    assert reminders_for(circle.other) == [f"group-meeting:{first.pk}:{circle.other.pk}:180"]  # their own offset
    # Down until after it began: nothing at all.
    meetings.cancel_meeting(second, by=circle.facilitator, reason="Holiday")
    meetings.send_reminders(now=second.start - timedelta(minutes=30))
    assert all(str(second.pk) != key.split(":")[1] for key in reminders_for(circle.member))
    Notification.objects.all().delete()
    meetings.send_reminders(now=first.start + timedelta(minutes=1))
    assert reminders_for(circle.member) == []
