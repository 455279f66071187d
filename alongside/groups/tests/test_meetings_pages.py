"""Group meetings as people meet them: the pages (with and without htmx), the API, the calendar feed, and what the
care team's timeline and the program outcomes show of them."""

from __future__ import annotations

import json
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone

from alongside.accounts.models import Role
from alongside.care import actions as care_actions
from alongside.groups import meetings, membership
from alongside.groups.models import Attendance, Meeting, MeetingSeries, Post, RsvpAnswer, Thread
from alongside.notify.models import Notification
from alongside.programs import actions as program_actions
from alongside.schedule import feeds, preferences
from alongside.testing.factories import make_member, make_staff, signed_in_client, support
from alongside.web import outcomes

pytestmark = pytest.mark.django_db
NEW_YORK = ZoneInfo("America/New_York")
NOTES = "Facilitator notes: J. shared about the anniversary"
VIDEO = "https://video.example/circle-7719"


@pytest.fixture
def circle(organisation):
    facilitator = make_staff(organisation, Role.FACILITATOR, display_name="Fay Facilitator")
    group = membership.create_group(
        by=facilitator, organisation=organisation, name="Tuesday Circle", purpose="Support in early recovery",
        access="open", format="hybrid", address="1 Hall Street", video_url=VIDEO,
    )  # fmt: skip
    member = make_member(organisation, display_name="Group Member", time_zone="Europe/London")
    membership.join(member, group)
    return {
        "organisation": organisation,
        "group": group,
        "facilitator": facilitator,
        "member": member,
        "outsider": make_member(organisation, display_name="Not In Group"),
        "moderator": make_staff(organisation, Role.MODERATOR),
    }


def schedule(circle, start_date, rrule="FREQ=WEEKLY;COUNT=4") -> MeetingSeries:
    return meetings.schedule_meetings(
        by=circle["facilitator"], group=circle["group"], title="Evening circle", time_zone="America/New_York",
        start_date=start_date, start_time=time(18, 0), duration_minutes=90, rrule=rrule,
    )  # fmt: skip


def started(circle, count=2) -> list[Meeting]:
    start = timezone.now().astimezone(NEW_YORK).date() - timedelta(days=7 * count - 1)
    rows = schedule(circle, start, rrule=f"FREQ=WEEKLY;COUNT={count + 1}").meetings.order_by("start")
    return list(rows)


# Pages ---------------------------------------------------------------------------------------------------


def test_the_meetings_page_is_for_the_group_with_counts_for_facilitators(circle, outsider):
    meeting = schedule(circle, date(2030, 3, 1)).meetings.order_by("start").first()
    meetings.rsvp(circle["facilitator"], meeting, RsvpAnswer.GOING)
    url = reverse("groups:meetings", args=[circle["group"].pk])
    page = signed_in_client(circle["member"]).get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Evening circle" in body and 'name="answer" value="going"' in body
    assert "Going: 1" not in body  # counts are for facilitators
    # 18:00 in New York on 1 March 2030 is 23:00 in London, the member's clock.
    assert "23:00" in body
    facilitated = signed_in_client(circle["facilitator"]).get(url).content.decode()
    assert "Going: 1" in facilitated and reverse("groups:new_meetings", args=[circle["group"].pk]) in facilitated
    for stranger in (circle["outsider"], outsider):
        assert signed_in_client(stranger).get(url).status_code == 404
        assert signed_in_client(stranger).get(reverse("groups:meeting", args=[meeting.pk])).status_code == 404


def test_rsvp_with_htmx_swaps_the_buttons_and_without_it_reloads(circle):
    meeting = schedule(circle, date(2030, 3, 1)).meetings.order_by("start").first()
    client = signed_in_client(circle["member"])
    url = reverse("groups:rsvp", args=[meeting.pk])
    swapped = client.post(url, {"answer": "maybe"}, headers={"HX-Request": "true"})
    assert swapped.status_code == 200
    fragment = swapped.content.decode()
    assert f'id="rsvp-{meeting.pk}"' in fragment and "<html" not in fragment
    assert 'value="maybe" class="button" aria-pressed="true"' in fragment
    reloaded = client.post(url, {"answer": "not_going", "back": "list"})
    assert reloaded.status_code == 302
    assert reloaded["Location"] == reverse("groups:meetings", args=[circle["group"].pk])
    assert meetings.answer_of(circle["member"], meeting) == RsvpAnswer.NOT_GOING
    refused = client.post(url, {"answer": "sometimes"})
    assert refused.status_code == 200 and "Answer going, maybe or can" in refused.content.decode()
    assert signed_in_client(circle["moderator"]).post(url, {"answer": "going"}).status_code == 404


def test_a_facilitator_schedules_from_the_form_and_a_bad_rule_is_named(circle):
    url = reverse("groups:new_meetings", args=[circle["group"].pk])
    assert signed_in_client(circle["member"]).get(url).status_code == 404
    client = signed_in_client(circle["facilitator"])
    form = {
        "title": "Morning circle", "time_zone": "America/New_York", "start_date": "2030-03-05",
        "start_time": "09:30", "duration_minutes": "60", "repeat": "custom", "custom_rule": "FREQ=HOURLY",
    }  # fmt: skip
    refused = client.post(url, form)
    assert refused.status_code == 200 and "Repeat daily, weekly, monthly or yearly" in refused.content.decode()
    assert not MeetingSeries.objects.exists()
    done = client.post(url, form | {"repeat": "weekly", "count": "3", "custom_rule": ""})
    assert done.status_code == 302
    assert MeetingSeries.objects.get().meetings.count() == 3


def test_the_meeting_page_attendance_notes_and_cancelling(circle):
    happened, _second, to_come = started(circle)
    member_client = signed_in_client(circle["member"])
    facilitator_client = signed_in_client(circle["facilitator"])
    page = member_client.get(reverse("groups:meeting", args=[to_come.pk])).content.decode()
    assert VIDEO in page and "1 Hall Street" in page
    assert "Save attendance" not in page and "Facilitators&#x27; notes" not in page
    # Attendance: after the start, by a facilitator; anyone else gets 404.
    url = reverse("groups:attendance", args=[happened.pk])
    assert member_client.post(url, {"attended": [circle["member"].pk]}).status_code == 404
    assert facilitator_client.post(url, {"attended": [circle["member"].pk]}).status_code == 302
    assert Attendance.objects.get(meeting=happened, person=circle["member"]).attended is True
    early = facilitator_client.post(reverse("groups:attendance", args=[to_come.pk]), {})
    assert early.status_code == 200 and "once the meeting has started" in early.content.decode()
    # Notes: the facilitator writes and reads them; members and the moderator never see them.
    notes_url = reverse("groups:meeting_notes", args=[happened.pk])
    assert member_client.post(notes_url, {"notes": "mine"}).status_code == 404
    assert facilitator_client.post(notes_url, {"notes": NOTES}).status_code == 302
    meeting_url = reverse("groups:meeting", args=[happened.pk])
    assert NOTES in facilitator_client.get(meeting_url).content.decode()
    for person in (circle["member"], circle["moderator"]):
        assert NOTES not in signed_in_client(person).get(meeting_url).content.decode()
    # Cancelling: a reason is required; members are told.
    cancel_url = reverse("groups:cancel_meeting", args=[to_come.pk])
    assert member_client.post(cancel_url, {"reason": "no"}).status_code == 404
    assert "Give a reason" in facilitator_client.post(cancel_url, {"reason": ""}).content.decode()
    assert facilitator_client.post(cancel_url, {"reason": "Snow"}).status_code == 302
    assert Notification.objects.filter(recipient=circle["member"], title__contains="Snow").exists()


def test_ending_a_series_from_its_page(circle):
    meeting_series = schedule(circle, date(2030, 3, 1), rrule="FREQ=WEEKLY")
    url = reverse("groups:end_meeting_series", args=[meeting_series.pk])
    assert signed_in_client(circle["member"]).post(url).status_code == 404
    assert signed_in_client(circle["facilitator"]).post(url).status_code == 302
    meeting_series.refresh_from_db()
    assert meeting_series.ended_at is not None and not meeting_series.meetings.exists()


# API -----------------------------------------------------------------------------------------------------


def test_the_api_lists_meetings_takes_rsvps_once_per_key_and_attendance_from_facilitators(circle, outsider):
    happened, _second, to_come = started(circle)
    meetings.save_notes(happened, by=circle["facilitator"], text=NOTES)
    client = signed_in_client(circle["member"])
    listed = client.get(f"/api/v1/groups/{circle['group'].pk}/meetings")
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()] == [happened.pk, _second.pk, to_come.pk]
    assert listed.json()[0]["counts"] is None and NOTES not in listed.content.decode()
    assert signed_in_client(outsider).get(f"/api/v1/groups/{circle['group'].pk}/meetings").status_code == 404
    url = f"/api/v1/groups/meetings/{to_come.pk}/rsvp"
    body = json.dumps({"answer": "going"})
    assert client.post(url, body, content_type="application/json").status_code == 400  # no Idempotency-Key
    first = client.post(url, body, content_type="application/json", headers={"Idempotency-Key": "r-1"})
    again = client.post(url, body, content_type="application/json", headers={"Idempotency-Key": "r-1"})
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    wrong = client.post(
        url, json.dumps({"answer": "nah"}), content_type="application/json", headers={"Idempotency-Key": "r-2"}
    )
    assert wrong.status_code == 422 and wrong.json()["fields"] == ["answer"]
    facilitated = signed_in_client(circle["facilitator"]).get(f"/api/v1/groups/{circle['group'].pk}/meetings")
    assert facilitated.json()[-1]["counts"] == {"going": 1, "maybe": 0, "not_going": 0}
    attendance_url = f"/api/v1/groups/meetings/{happened.pk}/attendance"
    payload = json.dumps({"attended": []})
    denied = client.post(attendance_url, payload, content_type="application/json", headers={"Idempotency-Key": "a"})
    assert denied.status_code == 404
    recorded = signed_in_client(circle["facilitator"]).post(
        attendance_url, payload, content_type="application/json", headers={"Idempotency-Key": "a-1"}
    )
    assert recorded.status_code == 200
    assert recorded.json()["rows"] == [{"person_id": circle["member"].pk, "attended": False}]
    stranger = signed_in_client(circle["facilitator"]).post(
        attendance_url, json.dumps({"attended": [outsider.pk]}), content_type="application/json",
        headers={"Idempotency-Key": "a-2"},
    )  # fmt: skip
    assert stranger.status_code == 422 and stranger.json()["fields"] == ["attended"]


# Calendar feed -------------------------------------------------------------------------------------------


def events_of(person) -> list:
    calendar = icalendar.Calendar.from_ical(feeds.calendar_for(person))
    return [event for event in calendar.walk("VEVENT") if "group-meeting" in str(event["uid"])]


def test_the_feed_has_one_event_per_series_with_its_rule_and_cancelled_dates(circle):
    meeting_series = schedule(circle, date(2030, 3, 1))
    second = meeting_series.meetings.order_by("start")[1]
    meetings.cancel_meeting(second, by=circle["facilitator"], reason="Hall closed")
    (event,) = events_of(circle["member"])
    assert str(event["summary"]) == "Group meeting"
    assert "location" not in event and "url" not in event and "Evening circle" not in event.to_ical().decode()
    assert event.decoded("dtstart").tzinfo.key == "America/New_York"
    assert event.decoded("dtstart").hour == 18
    assert event["rrule"]["FREQ"] == ["WEEKLY"] and event["rrule"]["COUNT"] == [4]
    excluded = [value.dt for value in event["exdate"].dts]
    assert excluded == [second.start.astimezone(NEW_YORK)]
    assert event["sequence"] == 1
    preferences.save_preferences(circle["member"], feed_shows_titles=True, reminder_offsets=[60])
    (titled,) = events_of(circle["member"])
    assert str(titled["summary"]) == "Evening circle (Tuesday Circle)"
    assert str(titled["location"]) == "1 Hall Street" and str(titled["url"]) == VIDEO
    assert events_of(circle["outsider"]) == [] and events_of(circle["moderator"]) == []
    membership.leave(circle["member"], circle["group"])
    assert events_of(circle["member"]) == []


# The care team and outcomes ------------------------------------------------------------------------------


def test_the_timeline_shows_group_activity_only_with_the_groups_category(circle):
    member, group = circle["member"], circle["group"]
    happened, second, _to_come = started(circle)
    meetings.record_attendance(happened, by=circle["facilitator"], attended=set())
    meetings.record_attendance(second, by=circle["facilitator"], attended={member.pk})
    thread = Thread.objects.create(organisation=circle["organisation"], group=group, author=member, title="Week 2")
    Post.objects.create(thread=thread, author=member, body_html="<p>Private words 4471</p>")
    Post.objects.create(thread=thread, author=member, body_html="<p>Hidden words 8823</p>", hidden_at=timezone.now())
    case_manager = make_staff(circle["organisation"], Role.CASE_MANAGER)  # sees group activity by default
    relationship = support(case_manager, member, circle["organisation"], Role.CASE_MANAGER)
    clinician = make_staff(circle["organisation"], Role.CLINICIAN)  # does not
    support(clinician, member, circle["organisation"], Role.CLINICIAN)
    url = reverse("web:member_record", args=[member.pk])

    def timeline(person) -> str:
        page = signed_in_client(person).get(url).content.decode()
        return page[page.index('id="timeline-title"') :]

    shown = timeline(case_manager)
    assert "Group meeting: Tuesday Circle</strong> — missed" in shown
    assert "Group meeting: Tuesday Circle</strong> — attended" in shown
    assert "Posted in Tuesday Circle</strong> — 1 post" in shown
    assert "Private words" not in shown and "Hidden words" not in shown
    assert "Tuesday Circle" not in timeline(clinician)
    care_actions.set_sharing(
        member=member, relationship=relationship,
        categories=[c for c in relationship.shared_categories if c != "groups"], safety_alerts=True,
    )  # fmt: skip
    assert "Tuesday Circle" not in timeline(case_manager)


def test_an_unlisted_group_is_not_named_to_a_supporter_outside_it(circle):
    member = circle["member"]
    unlisted = membership.create_group(
        by=circle["facilitator"], organisation=circle["organisation"], name="Fern Room 3391", purpose="Invited",
        access="closed", listed=False, format="online", video_url="https://video.example/fern",
    )  # fmt: skip
    membership.add_person(unlisted, member, by=circle["facilitator"])
    start = timezone.now().astimezone(NEW_YORK).date() - timedelta(days=2)
    meeting = meetings.schedule_meetings(
        by=circle["facilitator"], group=unlisted, title="Fern", time_zone="America/New_York", start_date=start,
        start_time=time(9), duration_minutes=60,
    ).meetings.get()  # fmt: skip
    meetings.record_attendance(meeting, by=circle["facilitator"], attended={member.pk})
    case_manager = make_staff(circle["organisation"], Role.CASE_MANAGER)
    support(case_manager, member, circle["organisation"], Role.CASE_MANAGER)
    page = signed_in_client(case_manager).get(reverse("web:member_record", args=[member.pk])).content.decode()
    assert "Group meeting: an unlisted group" in page and "Fern Room 3391" not in page


def test_outcomes_report_group_attendance_and_hold_back_small_cells(circle):
    organisation = circle["organisation"]
    admin = make_staff(organisation, Role.ORG_ADMIN)
    program = program_actions.create_program(by=admin, organisation=organisation, name="Aftercare")
    people = [circle["member"], *(make_member(organisation) for _ in range(5))]
    for person in people:
        program_actions.enrol(by=admin, program=program, member=person)
    happened, second, _to_come = started(circle)
    meetings.record_attendance(happened, by=circle["facilitator"], attended={circle["member"].pk})
    assert outcomes.outcomes_for(program).group_attendance.count is None  # one person: held back
    for person in people[1:]:
        membership.join(person, circle["group"])
    meetings.record_attendance(happened, by=circle["facilitator"], attended={p.pk for p in people[:2]})
    meetings.record_attendance(second, by=circle["facilitator"], attended={p.pk for p in people[:4]})
    result = outcomes.outcomes_for(program).group_attendance
    assert (result.count, result.of) == (6, 12)
    # All but a few attending is held back too (the few could be named).
    meetings.record_attendance(happened, by=circle["facilitator"], attended={p.pk for p in people[:4]})
    meetings.record_attendance(second, by=circle["facilitator"], attended={p.pk for p in people})
    assert outcomes.outcomes_for(program).group_attendance.count is None
    page = signed_in_client(admin).get(reverse("web:outcomes", args=[organisation.slug])).content.decode()
    assert "Group meetings attended" in page
