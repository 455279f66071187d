"""The growth page, its supporters' view and the API: goals summary, celebrations (new ones shown once), recovery
days, the WHO-5 chart, "what helped" from a constructed history, and who may see any of it."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from alongside.accounts.models import Role
from alongside.audit.models import AuditEvent
from alongside.care import actions as care_actions
from alongside.goals import growth
from alongside.goals.models import Celebration, CelebrationKind, Goal, GoalStatus
from alongside.monitoring import questionnaires
from alongside.monitoring.models import CheckIn, Tag, TagKind
from alongside.schedule import routines
from alongside.testing.factories import make_member, signed_in_client, support

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")
GOAL_TITLE = "Finish the pottery course 4417"


def _celebrate(member, key="matrix", days=30):
    return Celebration.objects.create(member=member, kind=CelebrationKind.DAYS_SINCE_DISCHARGE, days=days, key=key)


def _week_of_checkins(member, monday, mood, activities=()):
    tags = [Tag.objects.get_or_create(member=member, kind=TagKind.ACTIVITY, label=label)[0] for label in activities]
    for offset in (0, 2):
        day = monday + timedelta(days=offset)
        checkin = CheckIn.objects.create(
            member=member, mood=mood, local_date=day, recorded_at=datetime.combine(day, datetime.min.time(), tzinfo=UTC)
        )
        checkin.tags.set(tags)


def test_what_helped_counts_activities_of_the_best_weeks(member):
    today = routines.local_today(member)
    mondays = [routines.monday_of(today) - timedelta(weeks=n) for n in range(1, 9)]  # eight past weeks
    best, others = mondays[:2], mondays[2:]
    for monday in best:
        _week_of_checkins(member, monday, 9, ["Walk", "Music"] if monday == best[0] else ["Walk"])
    for index, monday in enumerate(others):
        _week_of_checkins(member, monday, 4, (["Walk"] if index == 0 else []) + (["Music"] if index < 3 else []))
    helped = growth.what_helped(member, today)
    assert helped.enough_data and helped.weeks == 8
    # Walk: both best weeks, 1 of 6 others. Music: 1 of 2 best weeks, 3 of 6 others (no more often): left out.
    assert [h.label for h in helped.helpers] == ["Walk"]
    assert helped.helpers[0].words == "Walk: on 2 of your 2 best weeks, 1 of 6 others"


def test_what_helped_needs_four_weeks(member, client_for):
    today = routines.local_today(member)
    for n in range(1, 4):
        _week_of_checkins(member, routines.monday_of(today) - timedelta(weeks=n), 8, ["Walk"])
    helped = growth.what_helped(member, today)
    assert not helped.enough_data and helped.helpers == []
    page = client_for(member).get(reverse("goals:growth")).content.decode()
    assert "There are 3 weeks of check-ins so far" in page


def test_growth_page_shows_goals_new_celebrations_once_and_a_who5_chart(member, client_for):
    Goal.objects.create(member=member, title="Sleep by eleven", area="health")
    Goal.objects.create(
        member=member, title=GOAL_TITLE, area="creative", status=GoalStatus.ACHIEVED, achieved_at=timezone.now()
    )
    celebration = _celebrate(member)
    questionnaires.submit(member, "who5", {item: 3 for item in range(1, 6)})
    client = client_for(member)
    page = client.get(reverse("goals:growth")).content.decode()
    assert "1 goal in progress" in page and "1 achieved" in page and GOAL_TITLE in page
    assert "Something to celebrate" in page and "30 days since discharge — well done" in page
    assert "<svg" in page and "<title" in page
    assert 'style="' not in page.split("<svg", 1)[1].split("</svg>", 1)[0]
    celebration.refresh_from_db()
    assert celebration.seen_at is not None
    again = client.get(reverse("goals:growth")).content.decode()
    assert "Something to celebrate" not in again and "30 days since discharge — well done" in again


def test_staff_see_the_growth_summary_only_with_goals_consent(member, staff, relationship, outsider, organisation):
    _celebrate(member)
    Goal.objects.create(member=member, title=GOAL_TITLE, area="creative")
    url = reverse("goals:member_growth", args=[member.pk])
    page = signed_in_client(staff).get(url)
    assert page.status_code == 200 and "30 days since discharge" in page.content.decode()
    assert AuditEvent.objects.filter(actor=staff, member=member, category="goals").exists()
    # Staff never mark the member's celebrations seen.
    assert Celebration.objects.get(member=member).seen_at is None
    assert signed_in_client(outsider).get(url).status_code == 404
    other = make_member(organisation)
    assert signed_in_client(other).get(url).status_code == 404
    care_actions.set_sharing(
        member=member,
        relationship=relationship,
        categories=[c for c in relationship.shared_categories if c != "goals"],
        safety_alerts=False,
    )
    assert signed_in_client(staff).get(url).status_code == 404


def test_a_peer_mentor_with_goals_sees_no_checkin_detail(member, organisation):
    from alongside.testing.factories import make_staff

    mentor = make_staff(organisation, Role.PEER_MENTOR)
    support(mentor, member, organisation, Role.PEER_MENTOR)
    today = routines.local_today(member)
    for n in range(1, 6):
        _week_of_checkins(member, routines.monday_of(today) - timedelta(weeks=n), 5 + n, ["Gardening 5512"])
    page = signed_in_client(mentor).get(reverse("goals:member_growth", args=[member.pk])).content.decode()
    assert "Gardening 5512" not in page and "What helped" not in page
    assert "days in a row of checking in" in page or "day in a row of checking in" in page  # engagement is shared


def test_api_growth_and_celebrations_are_the_members_own(member, organisation):
    celebration = _celebrate(member)
    other = make_member(organisation)
    theirs = _celebrate(other, key="other")
    client = signed_in_client(member)
    summary = client.get("/api/v1/growth").json()
    assert summary["unseen_celebrations"] == 1 and summary["goals_active"] == 0
    listed = client.get("/api/v1/celebrations").json()
    assert [row["id"] for row in listed] == [celebration.pk]
    assert listed[0]["title"] == "30 days since discharge — well done"
    seen = client.post(f"/api/v1/celebrations/{celebration.pk}/seen")
    assert seen.status_code == 200 and seen.json()["seen_at"]
    missing = client.post(f"/api/v1/celebrations/{theirs.pk}/seen")
    assert missing.status_code == 404 and missing.json()["fields"] == ["celebration_id"]
    theirs.refresh_from_db()
    assert theirs.seen_at is None


def test_api_growth_is_for_members(staff):
    assert signed_in_client(staff).get("/api/v1/growth").status_code == 403


def test_recovery_days_count_on_the_members_clock(member, organisation, client_for):
    from alongside.programs import actions as program_actions
    from alongside.testing.factories import make_staff

    admin = make_staff(organisation, Role.ORG_ADMIN)
    program = program_actions.create_program(by=admin, organisation=organisation, name="Aftercare")
    today = routines.local_today(member)
    program_actions.enrol(by=admin, program=program, member=member, discharge_date=today - timedelta(days=12))
    assert growth.summary(member).days_since_discharge == 12
    page = client_for(member).get(reverse("goals:growth")).content.decode()
    assert "12 days since discharge" in page
