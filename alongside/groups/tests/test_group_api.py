"""Groups in the JSON API: the same rules as the pages (an insider sees the inside, everyone else of the
organisation the card, other organisations nothing), and errors that name the field."""

from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from alongside.accounts import tokens
from alongside.accounts.models import Role
from alongside.api import api
from alongside.groups import discussion, meetings, membership, profiles
from alongside.groups.models import MembershipStatus
from alongside.testing.factories import make_member, make_staff

pytestmark = pytest.mark.django_db

VIDEO = "https://video.example/api-inside-9912"
ADDRESS = "3 Inside Row"


@pytest.fixture
def facilitator(organisation):
    return make_staff(organisation, Role.FACILITATOR, display_name="Fran Facilitator")


@pytest.fixture
def teammate(organisation):
    return make_member(organisation, display_name="Tess Teammate")


@pytest.fixture
def group(organisation, facilitator, member):
    group = membership.create_group(
        by=facilitator, organisation=organisation, name="Harbour circle", purpose="Early recovery",
        format="hybrid", address=ADDRESS, video_url=VIDEO, capacity=2,
    )  # fmt: skip
    membership.join(member, group)
    return group


@pytest.fixture
def unlisted(organisation, facilitator, member):
    group = membership.create_group(
        by=facilitator, organisation=organisation, name="Lantern room", purpose="By invitation",
        format="online", video_url="https://video.example/lantern", listed=False,
    )  # fmt: skip
    membership.add_person(group, member, by=facilitator)
    return group


def test_the_list_has_my_groups_and_cards_without_the_inside(client_for, group, unlisted, member, teammate):
    mine = client_for(member).get("/api/v1/groups").json()
    assert {row["name"] for row in mine["mine"]} == {"Harbour circle", "Lantern room"}
    theirs = client_for(teammate).get("/api/v1/groups")
    assert theirs.status_code == 200
    data = theirs.json()
    assert data["mine"] == []
    (card,) = data["directory"]
    assert card["name"] == "Harbour circle" and card["places_left"] == 1 and card["can_join"]
    assert card["my_status"] == "" and not card["can_manage"]
    assert VIDEO not in theirs.content.decode() and ADDRESS not in theirs.content.decode()


def test_the_list_of_another_organisation_has_none_of_ours(client_for, group, unlisted, outsider):
    data = client_for(outsider).get("/api/v1/groups").json()
    assert data == {"mine": [], "directory": []}


def test_one_group_is_for_those_inside(client_for, group, member, facilitator, teammate, outsider):
    url = f"/api/v1/groups/{group.pk}"
    data = client_for(member).get(url).json()
    assert (data["video_url"], data["address"], data["my_status"]) == (VIDEO, ADDRESS, "active")
    assert data["facilitators"] == ["Fran Facilitator"] and data["next_meetings"] == []
    assert client_for(facilitator).get(url).json()["my_role"] == "facilitator"
    for person in (teammate, outsider):
        response = client_for(person).get(url)
        assert response.status_code == 404
        assert VIDEO not in response.content.decode()
    assert client_for(member).get("/api/v1/groups/999999").status_code == 404


def test_a_muted_member_sees_until_when(client_for, group, member, facilitator):
    row = group.memberships.get(person=member)
    membership.mute(row, by=facilitator, days=2, reason="Calm")
    assert client_for(member).get(f"/api/v1/groups/{group.pk}").json()["muted_until"] is not None


def test_joining_is_idempotent_and_leaving_says_when_there_is_nothing_to_leave(client_for, group, teammate):
    client = client_for(teammate)
    first = client.post(f"/api/v1/groups/{group.pk}/join")
    assert first.status_code == 200
    assert first.json() == {"group_id": group.pk, "status": "active", "role": "member"}
    assert client.post(f"/api/v1/groups/{group.pk}/join").json() == first.json()
    assert group.memberships.filter(person=teammate).count() == 1
    left = client.post(f"/api/v1/groups/{group.pk}/leave")
    assert left.status_code == 200 and left.json()["status"] == "left"
    again = client.post(f"/api/v1/groups/{group.pk}/leave")
    assert again.status_code == 422
    assert again.json()["fields"] == ["group"]


def test_a_full_group_and_a_removal_are_named_errors(client_for, organisation, group, member, teammate, facilitator):
    membership.join(make_member(organisation), group)
    full = client_for(teammate).post(f"/api/v1/groups/{group.pk}/join")
    assert full.status_code == 422
    assert full.json() == {"detail": "This group is full.", "fields": ["group"]}
    membership.remove(group.memberships.get(person=member), by=facilitator, reason="Unkind")
    removed = client_for(member).post(f"/api/v1/groups/{group.pk}/join")
    assert removed.status_code == 422 and removed.json()["fields"] == ["group"]
    assert group.memberships.get(person=member).status == MembershipStatus.REMOVED


def test_staff_may_not_join_and_unlisted_groups_are_not_found(client_for, group, unlisted, staff, teammate, outsider):
    refused = client_for(staff).post(f"/api/v1/groups/{group.pk}/join")
    assert refused.status_code == 403 and refused.json()["fields"] == []
    assert client_for(teammate).post(f"/api/v1/groups/{unlisted.pk}/join").status_code == 404
    assert client_for(outsider).post(f"/api/v1/groups/{group.pk}/join").status_code == 404
    assert not unlisted.memberships.filter(person=teammate).exists()


def test_a_read_only_token_cannot_join(client, group, teammate):
    _token, raw = tokens.issue(teammate, name="phone", scopes=["read"])
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/groups", headers=headers).status_code == 200
    assert client.post(f"/api/v1/groups/{group.pk}/join", headers=headers).status_code == 403
    assert not group.memberships.filter(person=teammate).exists()


def test_signed_out_callers_are_asked_to_sign_in(client, group):
    assert client.get("/api/v1/groups").status_code == 401
    assert client.post(f"/api/v1/groups/{group.pk}/join").status_code == 401


def test_a_groups_next_meetings_are_described_as_they_are_sent(client_for, group, member, facilitator):
    start = timezone.now().astimezone(ZoneInfo("America/New_York")).date() + timedelta(days=2)
    meetings.schedule_meetings(
        by=facilitator, group=group, title="Evening circle", time_zone="America/New_York", start_date=start,
        start_time=time(18, 0), duration_minutes=60, rrule="FREQ=WEEKLY;COUNT=2",
    )  # fmt: skip
    sent = client_for(member).get(f"/api/v1/groups/{group.pk}").json()["next_meetings"][0]
    schemas = api.get_openapi_schema()["components"]["schemas"]
    described = schemas["GroupOut"]["properties"]["next_meetings"]["items"]["$ref"].rsplit("/", 1)[1]
    assert set(schemas[described]["required"]) == set(sent)


def test_the_api_describes_the_refusals_it_gives(client_for, group, member, teammate, staff):
    profiles.save_profile(member, group.organisation, pseudonym="Quiet Heron", accept_guidelines=True)
    thread = discussion.start_thread(member, group.organisation, group, title="Evenings", body="Hard week")
    paths = api.get_openapi_schema()["paths"]
    asked = [
        (teammate, f"/api/v1/groups/{group.pk}/meetings", "/api/v1/groups/{group_id}/meetings", 404),
        (teammate, f"/api/v1/groups/{group.pk}/threads", "/api/v1/groups/{group_id}/threads", 404),
        (teammate, f"/api/v1/threads/{thread.thread_id}/posts", "/api/v1/threads/{thread_id}/posts", 404),
        (staff, "/api/v1/mentor-requests/999999/suggestions", "/api/v1/mentor-requests/{request_id}/suggestions", 404),
        (member, "/api/v1/mentor-requests", "/api/v1/mentor-requests", 403),
        (staff, "/api/v1/mentor-requests/mine", "/api/v1/mentor-requests/mine", 403),
    ]
    for person, url, path, status in asked:
        assert client_for(person).get(url).status_code == status, url
        assert status in paths[path]["get"]["responses"], path
