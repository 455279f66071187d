import json
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from alongside.accounts.models import Role
from alongside.audit.models import AuditEvent
from alongside.care import actions as care_actions
from alongside.goals import goals
from alongside.goals.models import Celebration, Goal, GoalStatus, Milestone
from alongside.notify.models import Notification, NotificationKind
from alongside.testing.factories import make_member, make_organisation, make_staff, support

WHY = "Because of my brother 4471"


def _goal(member, **kwargs):
    fields = {"title": "Walk daily", "why": WHY, "area": "health"} | kwargs
    return goals.create_goal(member, **fields)


def test_a_member_sees_their_goal_and_an_outsider_does_not(member, staff, relationship, outsider, client_for):
    goal = _goal(member)
    assert WHY in client_for(member).get(reverse("goals:goal", args=[goal.pk])).content.decode()
    page = client_for(staff).get(reverse("goals:member_goals", args=[member.pk]))
    assert page.status_code == 200 and WHY in page.content.decode()
    assert AuditEvent.objects.filter(actor=staff, member=member, category="goals", action="view").exists()
    assert client_for(outsider).get(reverse("goals:member_goals", args=[member.pk])).status_code == 404


def test_a_supporter_without_goals_consent_sees_nothing(member, staff, relationship, client_for):
    goal = _goal(member)
    care_actions.set_sharing(member=member, relationship=relationship, categories=[], safety_alerts=False)
    client = client_for(staff)
    assert client.get(reverse("goals:member_goals", args=[member.pk])).status_code == 404
    response = client.get(f"/api/v1/goals/{goal.pk}")
    assert response.status_code == 404 and WHY not in response.content.decode()
    listing = client.get(f"/api/v1/goals?member_id={member.pk}")
    assert listing.status_code == 404 and member.display_name not in listing.content.decode()


def test_bad_input_creates_nothing(member):
    yesterday = goals.local_today(member) - timedelta(days=1)
    with pytest.raises(ValidationError) as error:
        _goal(member, title="")
    assert "title" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        _goal(member, target_date=yesterday)
    assert "target_date" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        _goal(member, milestones=[("Step", None)] * 10_000)
    assert "milestones" in error.value.message_dict
    assert not Goal.objects.exists() and not Milestone.objects.exists()


def test_the_api_names_the_field_and_creates_once(member, client_for):
    client = client_for(member)
    body = {"title": "Cook", "area": "health", "milestones": [{"title": "Buy pans"}] * 10_000}
    bad = client.post(
        "/api/v1/goals", json.dumps(body), content_type="application/json", headers={"Idempotency-Key": "a"}
    )
    assert bad.status_code == 422 and bad.json()["fields"] == ["milestones"]
    good = {"title": "Cook", "area": "health", "milestones": [{"title": "Buy pans"}]}
    for _ in range(2):
        response = client.post(
            "/api/v1/goals", json.dumps(good), content_type="application/json", headers={"Idempotency-Key": "b"}
        )
        assert response.status_code == 201
    assert Goal.objects.filter(member=member).count() == 1


def test_a_suggestion_is_accepted_or_declined(member, staff, relationship):
    first = goals.suggest_goal(by=staff, member=member, title="Join a choir", area="community")
    assert first.status == GoalStatus.SUGGESTED
    note = Notification.objects.get(recipient=member, kind=NotificationKind.GOALS)
    assert note.title == "Your team suggested a goal"
    assert goals.answer_suggestion(first, accept=True, by=member).status == GoalStatus.ACTIVE
    second = goals.suggest_goal(by=staff, member=member, title="Evening class", area="education")
    assert goals.answer_suggestion(second, accept=False, by=member).status == GoalStatus.DECLINED
    assert AuditEvent.objects.filter(actor=staff, member=member, category="goals", action="change").count() == 2


def test_encouragement_notifies_without_its_text_and_reactions_toggle(member, staff, relationship, organisation):
    goal = _goal(member)
    goals.encourage(by=staff, goal=goal, kind="comment", text="So proud 9912")
    note = Notification.objects.get(recipient=member, kind=NotificationKind.GOALS)
    assert "9912" not in note.title
    assert goals.encourage(by=staff, goal=goal, kind="cheer") is not None
    assert goals.encourage(by=staff, goal=goal, kind="cheer") is None
    assert goal.encouragements.filter(kind="cheer").count() == 0
    facilitator = make_staff(organisation, Role.FACILITATOR)
    support(facilitator, member, organisation, Role.FACILITATOR)
    with pytest.raises(PermissionDenied):
        goals.encourage(by=facilitator, goal=goal, kind="cheer")


def test_achieving_stamps_the_time_and_progress_is_bounded(member):
    goal = _goal(member)
    with pytest.raises(ValidationError):
        goals.log_progress(goal, percent=101, by=member)
    goals.log_progress(goal, percent=40, by=member)
    assert goals.set_status(goal, GoalStatus.ACHIEVED, member).achieved_at is not None


@pytest.mark.django_db
def test_achieving_a_milestone_and_a_goal_is_celebrated_once_with_the_member(django_capture_on_commit_callbacks):
    organisation = make_organisation("Celebration House")
    member = make_member(organisation)
    with django_capture_on_commit_callbacks(execute=True):
        goal = goals.create_goal(
            member, title="Walk to the river", why="", area="health", target="", target_date=None,
            milestones=[("First walk", None)],
        )  # fmt: skip
    milestone = goal.milestones.get()
    # Reached, un-marked by mistake, reached again: celebrated once.
    for achieved in (True, False, True):
        with django_capture_on_commit_callbacks(execute=True):
            goals.achieve_milestone(milestone, by=member, achieved=achieved)
    with django_capture_on_commit_callbacks(execute=True):
        goals.set_status(goal, "achieved", by=member)
    kinds = sorted(Celebration.objects.filter(member=member).values_list("kind", flat=True))
    assert kinds == ["goal_achieved", "milestone_achieved"]


def test_the_goal_form_keeps_what_was_typed_and_names_each_problem(member, client_for):
    yesterday = goals.local_today(member) - timedelta(days=1)
    client = client_for(member)
    response = client.post(
        reverse("goals:goals"),
        {"title": "", "why": "Typed with care 3391", "area": "health", "target_date": yesterday.isoformat(),
         "milestone_0_title": "First step", "milestone_0_due": yesterday.isoformat()},
    )  # fmt: skip
    page = response.content.decode()
    assert response.status_code == 400
    assert "This field is required." in page
    assert "Typed with care 3391" in page and "First step" in page  # nothing lost
    assert not Goal.objects.exists()
    response = client.post(
        reverse("goals:goals"),
        {"title": "Run", "area": "health", "target_date": yesterday.isoformat(), "milestone_0_title": "Shoes"},
    )
    assert response.status_code == 400 and "Choose today or a later date." in response.content.decode()
    assert not Goal.objects.exists()
    escaped = client.post(reverse("goals:goals"), {"title": "<script>alert(1)</script>", "area": "nowhere"})
    assert escaped.status_code == 400 and "<script>alert(1)</script>" not in escaped.content.decode()


def test_a_member_has_at_most_a_hundred_open_goals(member, client_for):
    for number in range(goals.MAX_OPEN_GOALS):
        _goal(member, title=f"Goal {number}")
    client = client_for(member)
    response = client.post(reverse("goals:goals"), {"title": "One more", "area": "health"})
    assert response.status_code == 400 and "You have 100 open goals" in response.content.decode()
    api = client.post(
        "/api/v1/goals", json.dumps({"title": "One more", "area": "health"}), content_type="application/json",
        headers={"Idempotency-Key": "full"},
    )  # fmt: skip
    assert api.status_code == 422 and "100 open goals" in api.json()["detail"]
    assert Goal.objects.filter(member=member).count() == goals.MAX_OPEN_GOALS
    # Letting one go makes room.
    goals.set_status(Goal.objects.filter(member=member).first(), GoalStatus.LET_GO, member)
    assert client.post(reverse("goals:goals"), {"title": "One more", "area": "health"}).status_code == 302


def test_the_goals_of_a_member_i_may_not_see_are_a_described_404(client_for, member, outsider):
    from alongside.api import api

    goals.create_goal(member, title="Sleep by eleven", area="health")
    response = client_for(outsider).get(f"/api/v1/goals?member_id={member.pk}")
    assert response.status_code == 404 and "Sleep by eleven" not in response.content.decode()
    assert 404 in api.get_openapi_schema()["paths"]["/api/v1/goals"]["get"]["responses"]
