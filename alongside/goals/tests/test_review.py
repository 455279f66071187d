"""Goal review on an appointment's agenda: the staff member running it records it, the member reads it, and
nobody without the member's goals consent sees the goals; the schedule's plain agenda items are ticked the same
way."""

import json
from datetime import time, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from alongside.audit.models import AuditEvent
from alongside.care import actions as care_actions
from alongside.goals import goals, review
from alongside.goals.models import GoalReview, GoalStatus
from alongside.schedule import checklist, series
from alongside.schedule.models import ChecklistTick, OccurrenceStatus
from alongside.testing.factories import make_staff, support

AGREED = "Agreed: two walks a week 5521"
GOAL_TITLE = "Finish the pottery course 8813"


def _appointment(member, staff, **extra):
    return series.schedule_appointment(
        by=staff, member=member, staff=staff, kind="therapy", title="Therapy", location_kind="online",
        video_url="https://video.example/room", time_zone=member.time_zone,
        start_date=timezone.localdate() + timedelta(days=2), start_time=time(10, 0), duration_minutes=50, **extra,
    )  # fmt: skip


@pytest.fixture
def occurrence(member, staff, relationship):
    return _appointment(member, staff).occurrences.get()


@pytest.fixture
def open_goal(member):
    goal = goals.create_goal(member, title=GOAL_TITLE, area="creative", milestones=[("Enrol", None), ("Bowl", None)])
    goals.log_progress(goal, by=member, percent=40, note="")
    goals.achieve_milestone(goal.milestones.first(), by=member)
    return goal


def test_a_therapy_appointment_has_goal_review_on_its_agenda_by_default(member, staff, relationship):
    appointment = _appointment(member, staff)
    assert appointment.checklist == ["goal_review", "plan_review"]
    chosen = _appointment(member, staff, checklist=["plan_review", "goal_review", "plan_review"])
    assert chosen.checklist == ["plan_review", "goal_review"]  # registry order, each once
    with pytest.raises(ValidationError) as error:
        _appointment(member, staff, checklist=["tarot"])
    assert "checklist" in error.value.message_dict


def test_the_staff_member_records_the_review_and_the_member_reads_it(member, staff, occurrence, open_goal, client_for):
    finished = goals.create_goal(member, title="Old goal", area="health")
    goals.set_status(finished, GoalStatus.LET_GO, member)
    staff_client = client_for(staff)
    page = staff_client.get(reverse("goals:review", args=[occurrence.pk]))
    assert page.status_code == 200 and GOAL_TITLE in page.content.decode() and "Old goal" not in page.content.decode()
    assert AuditEvent.objects.filter(actor=staff, member=member, category="goals", action="view").exists()

    response = staff_client.post(reverse("goals:review", args=[occurrence.pk]), {"note": AGREED})
    assert response.status_code == 302
    row = GoalReview.objects.get(occurrence=occurrence)
    assert row.reviewed_by == staff and row.note == AGREED
    assert list(row.goals.all()) == [open_goal]
    assert row.snapshot == [{"goal": open_goal.pk, "title": GOAL_TITLE, "status": "active", "percent": 40,
                             "milestones_reached": 1, "milestones": 2}]  # fmt: skip
    assert ChecklistTick.objects.filter(occurrence=occurrence, key="goal_review", done_by=staff).exists()
    assert AuditEvent.objects.filter(actor=staff, member=member, detail__contains="reviewed goals").exists()

    card = client_for(member).get(reverse("schedule:occurrence", args=[occurrence.pk])).content.decode()
    assert "Review goals" in card and "done" in card
    mine = client_for(member).get(reverse("goals:review", args=[occurrence.pk])).content.decode()
    assert AGREED in mine
    goal_page = client_for(member).get(reverse("goals:goal", args=[open_goal.pk])).content.decode()
    assert "Last reviewed at an appointment" in goal_page

    # Again: the same review is updated, not doubled.
    review.record_review(occurrence, by=staff, note="Changed")
    assert GoalReview.objects.get(occurrence=occurrence).note == "Changed"
    assert ChecklistTick.objects.filter(occurrence=occurrence).count() == 1


def test_without_the_goals_consent_the_reviewer_sees_no_goals_and_cannot_record(
    member, staff, relationship, occurrence, open_goal, client_for
):
    care_actions.set_sharing(member=member, relationship=relationship, categories=["appointments"], safety_alerts=False)
    staff_client = client_for(staff)
    page = staff_client.get(reverse("goals:review", args=[occurrence.pk]))
    assert page.status_code == 200
    assert GOAL_TITLE not in page.content.decode() and "does not share their goals" in page.content.decode()
    assert staff_client.post(reverse("goals:review", args=[occurrence.pk]), {"note": "x"}).status_code == 404
    api = staff_client.get(f"/api/v1/appointments/{occurrence.pk}/goal-review")
    assert api.status_code == 404 and GOAL_TITLE not in api.content.decode()
    with pytest.raises(PermissionDenied):
        review.record_review(occurrence, by=staff)
    assert not GoalReview.objects.exists() and not ChecklistTick.objects.exists()


def test_outsiders_and_the_member_cannot_record_and_outsiders_see_nothing(
    member, staff, occurrence, open_goal, outsider, organisation, client_for
):
    colleague = make_staff(organisation)  # same organisation, not in the member's care team
    for person in (outsider, colleague):
        client = client_for(person)
        page = client.get(reverse("goals:review", args=[occurrence.pk]))
        assert page.status_code == 404 and GOAL_TITLE not in page.content.decode()
        assert client.get(f"/api/v1/appointments/{occurrence.pk}/goal-review").status_code == 404
    member_client = client_for(member)
    assert member_client.post(reverse("goals:review", args=[occurrence.pk]), {"note": "x"}).status_code == 404
    assert not GoalReview.objects.exists()


def test_a_note_too_long_is_refused_on_the_form_and_nothing_is_stored(member, staff, occurrence, client_for):
    response = client_for(staff).post(reverse("goals:review", args=[occurrence.pk]), {"note": "x" * 1001})
    assert response.status_code == 400
    assert "at most 1000 characters" in response.content.decode().lower()
    assert not GoalReview.objects.exists() and not ChecklistTick.objects.exists()


def test_the_api_records_once_per_key_and_names_the_field(member, staff, occurrence, open_goal, client_for):
    client = client_for(staff)
    url = f"/api/v1/appointments/{occurrence.pk}/goal-review"
    bad = client.post(url, json.dumps({"note": "x" * 1001}), content_type="application/json",
                      headers={"Idempotency-Key": "r1"})  # fmt: skip
    assert bad.status_code == 422 and bad.json()["fields"] == ["note"]
    for _ in range(2):
        done = client.post(url, json.dumps({"note": AGREED}), content_type="application/json",
                           headers={"Idempotency-Key": "r2"})  # fmt: skip
        assert done.status_code == 201 and done.json()["goals"][0]["title"] == GOAL_TITLE
    assert GoalReview.objects.count() == 1
    seen = client_for(member).get(url).json()
    assert seen["review"]["note"] == AGREED and seen["may_review"] is False
    assert seen["open_goals"][0]["percent"] == 40


def test_plain_agenda_items_are_ticked_by_the_staff_member_only(member, staff, occurrence, client_for):
    url = reverse("schedule:tick", args=[occurrence.pk, "plan_review"])
    assert client_for(member).post(url, {"done": "1"}).status_code == 404
    assert client_for(staff).post(url, {"done": "1"}).status_code == 302
    tick = ChecklistTick.objects.get(occurrence=occurrence, key="plan_review")
    assert tick.done_by == staff
    client_for(staff).post(url, {"done": "0"})
    assert not ChecklistTick.objects.exists()
    # Not on this appointment's agenda: refused and shown on the card.
    refused = client_for(staff).post(reverse("schedule:tick", args=[occurrence.pk, "medication"]), {"done": "1"})
    assert refused.status_code == 200 and "not on this appointment" in refused.content.decode()
    assert not ChecklistTick.objects.exists()


def test_a_cancelled_appointment_cannot_be_ticked(member, staff, occurrence):
    series.cancel(occurrence, by=staff, reason="")
    occurrence.refresh_from_db()
    assert occurrence.status == OccurrenceStatus.CANCELLED
    with pytest.raises(PermissionDenied):
        checklist.tick(occurrence, "plan_review", by=staff)


def test_a_peer_mentor_running_peer_coaching_reviews_goals(member, organisation, client_for):
    mentor = make_staff(organisation, role="peer_mentor")
    support(mentor, member, organisation, role="peer_mentor")
    appointment = series.schedule_appointment(
        by=member, member=member, staff=mentor, kind="peer_coaching", title="Coffee", location_kind="in_person",
        address="Library", time_zone=member.time_zone, start_date=timezone.localdate() + timedelta(days=1),
        start_time=time(15, 0), duration_minutes=30,
    )  # fmt: skip
    assert appointment.checklist == ["goal_review"]
    occurrence = appointment.occurrences.get()
    assert review.may_review(mentor, occurrence)
    review.record_review(occurrence, by=mentor, note="")
    assert GoalReview.objects.get().reviewed_by == mentor
