"""The group pages: each one for a member inside the group, a teammate of the organisation outside it, staff, and
an outsider of another organisation. The data that could leak (address, video link, real names, unlisted groups)
is created first; the tests then assert who sees it."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from alongside.accounts import actions
from alongside.accounts.models import Role
from alongside.audit.models import AuditEvent
from alongside.groups import membership, profiles
from alongside.groups.models import Group, Meeting, MeetingSeries, MeetingStatus, MembershipStatus
from alongside.notify.models import Notification
from alongside.testing.factories import make_member, make_organisation, make_staff

pytestmark = pytest.mark.django_db

ADDRESS = "12 Hidden Street"
VIDEO = "https://video.example/inside-only-4410"


@pytest.fixture
def facilitator(organisation):
    return make_staff(organisation, Role.FACILITATOR, display_name="Fran Facilitator")


@pytest.fixture
def admin(organisation):
    return make_staff(organisation, Role.ORG_ADMIN, display_name="Ada Admin")


@pytest.fixture
def moderator(organisation):
    return make_staff(organisation, Role.MODERATOR, display_name="Mo Moderator")


@pytest.fixture
def teammate(organisation):
    return make_member(organisation, display_name="Tess Teammate")


@pytest.fixture
def group(organisation, facilitator, member):
    """A listed hybrid group with the member in it, under their community name."""
    group = membership.create_group(
        by=facilitator, organisation=organisation, name="Harbour circle", purpose="Early recovery, together",
        topic="Early recovery", format="hybrid", address=ADDRESS, video_url=VIDEO, capacity=5,
    )  # fmt: skip
    membership.join(member, group)
    profiles.save_profile(member, organisation, pseudonym="Blue Heron", accept_guidelines=True)
    return group


@pytest.fixture
def unlisted(organisation, facilitator, member):
    group = membership.create_group(
        by=facilitator, organisation=organisation, name="Lantern room", purpose="By invitation",
        format="online", video_url="https://video.example/lantern", listed=False,
    )  # fmt: skip
    membership.add_person(group, member, by=facilitator)
    return group


def body(response) -> str:
    return response.content.decode()


# The directory -------------------------------------------------------------------------------------------------


def test_the_directory_shows_cards_without_what_is_inside(client_for, group, unlisted, teammate, member):
    page = body(client_for(teammate).get(reverse("groups:directory")))
    assert "Harbour circle" in page and "Early recovery, together" in page and "4 places left" in page
    assert "Join Harbour circle" in page
    for inside in (ADDRESS, VIDEO, "Test Member", "Blue Heron", "Lantern room"):
        assert inside not in page
    assert "New group" not in page
    mine = body(client_for(member).get(reverse("groups:directory")))
    assert "Lantern room" in mine and "You are in this group" in mine
    assert ADDRESS not in mine and VIDEO not in mine


def test_the_directory_of_another_organisation_is_empty_of_ours(client_for, group, unlisted, outsider):
    page = body(client_for(outsider).get(reverse("groups:directory")))
    assert "Harbour circle" not in page and "Lantern room" not in page


def test_admins_see_unlisted_groups_by_name_with_a_manage_link(client_for, group, unlisted, admin):
    page = body(client_for(admin).get(reverse("groups:directory")))
    assert "Lantern room" in page
    assert reverse("groups:edit_group", args=[unlisted.pk]) in page
    assert "By invitation" not in page
    assert "New group" in page


def test_a_closed_group_asks_and_a_full_group_says_so(client_for, organisation, facilitator, group, teammate):
    membership.update_group(group, by=facilitator, capacity=1)
    membership.create_group(
        by=facilitator, organisation=organisation, name="Closed circle", purpose="Carers", access="closed",
        format="online", video_url="https://video.example/closed",
    )  # fmt: skip
    page = body(client_for(teammate).get(reverse("groups:directory")))
    assert "This group is full." in page and "Join Harbour circle" not in page
    assert "Ask to join Closed circle" in page


# Making and changing a group ---------------------------------------------------------------------------------


def group_form(**fields):
    values = {"name": "Morning walk", "purpose": "Walk and talk", "topic": "", "access": "open", "listed": "on"}
    return values | {"capacity": "", "format": "in_person", "address": "The park gate", "video_url": ""} | fields


def test_a_facilitator_makes_a_group_and_mistakes_come_back_named(client_for, facilitator, organisation):
    client = client_for(facilitator)
    assert client.get(reverse("groups:new_group")).status_code == 200
    refused = client.post(reverse("groups:new_group"), group_form(address=""))
    assert refused.status_code == 400
    assert "A group that meets in person needs an address." in body(refused)
    assert not Group.objects.exists()
    response = client.post(reverse("groups:new_group"), group_form())
    group = Group.objects.get()
    assert response["Location"] == reverse("groups:group", args=[group.pk])
    assert (group.organisation, group.address, group.listed) == (organisation, "The park gate", True)
    assert AuditEvent.objects.filter(actor=facilitator, detail=f"created group {group.pk}").exists()


def test_an_admin_of_two_organisations_chooses_where(client_for, organisation, admin):
    second = make_organisation("Second Program")
    actions.grant_role(admin, second, Role.ORG_ADMIN)
    client = client_for(admin)
    assert 'name="organisation"' in body(client.get(reverse("groups:new_group")))
    response = client.post(reverse("groups:new_group"), group_form(organisation=second.pk))
    group = Group.objects.get()
    assert group.organisation == second
    # The admin is not inside it, so they go on to its members.
    assert response["Location"] == reverse("groups:members", args=[group.pk])


def test_members_and_other_staff_cannot_make_groups(client_for, member, staff, moderator):
    for person in (member, staff, moderator):
        assert client_for(person).get(reverse("groups:new_group")).status_code == 403
        assert client_for(person).post(reverse("groups:new_group"), group_form()).status_code == 403
    assert not Group.objects.exists()


def test_editing_shows_the_address_and_link_only_to_the_facilitator(client_for, group, facilitator, admin, member):
    url = reverse("groups:edit_group", args=[group.pk])
    facilitating = body(client_for(facilitator).get(url))
    assert ADDRESS in facilitating and VIDEO in facilitating
    administering = client_for(admin).get(url)
    assert administering.status_code == 200
    assert ADDRESS not in body(administering) and VIDEO not in body(administering)
    assert client_for(member).get(url).status_code == 404
    # The admin's save leaves the address and link as they were.
    fields = group_form(name="Harbour circle (Thursdays)", format="hybrid", capacity="5")
    del fields["address"], fields["video_url"]
    assert client_for(admin).post(url, fields).status_code == 302
    group.refresh_from_db()
    assert (group.name, group.address, group.video_url) == ("Harbour circle (Thursdays)", ADDRESS, VIDEO)


def test_an_edit_with_a_mistake_comes_back_with_it(client_for, group, facilitator):
    url = reverse("groups:edit_group", args=[group.pk])
    response = client_for(facilitator).post(url, group_form(format="hybrid", address=ADDRESS, video_url="http://x"))
    assert response.status_code == 400
    assert "Video links must start with https://." in body(response)
    group.refresh_from_db()
    assert group.video_url == VIDEO


def test_archiving_takes_the_group_away(client_for, group, facilitator, member):
    assert client_for(member).post(reverse("groups:archive", args=[group.pk])).status_code == 404
    response = client_for(facilitator).post(reverse("groups:archive", args=[group.pk]))
    assert response["Location"] == reverse("groups:directory")
    assert client_for(member).get(reverse("groups:group", args=[group.pk])).status_code == 404
    assert "Harbour circle" not in body(client_for(member).get(reverse("groups:directory")))


# A group's page ----------------------------------------------------------------------------------------------


def add_meeting(group, start, *, status=MeetingStatus.SCHEDULED, title="Thursday meeting"):
    series = MeetingSeries.objects.create(
        group=group, title=title, time_zone="UTC", start_date=start.date(), start_time=start.time(),
        duration_minutes=60,
    )  # fmt: skip
    return Meeting.objects.create(
        series=series, original_start=start, start=start, end=start + timedelta(hours=1), status=status
    )


def test_the_group_page_is_for_those_inside(client_for, group, member, teammate, moderator, admin, outsider):
    url = reverse("groups:group", args=[group.pk])
    page = body(client_for(member).get(url))
    assert ADDRESS in page and VIDEO in page and "Fran Facilitator" in page
    assert reverse("groups:members", args=[group.pk]) in page
    assert reverse("groups:leave", args=[group.pk]) in page
    assert client_for(moderator).get(url).status_code == 200
    for person in (teammate, admin, outsider):
        assert client_for(person).get(url).status_code == 404


def test_the_group_page_lists_coming_meetings_on_the_viewers_clock(client_for, group, member):
    member.time_zone = "Asia/Tokyo"
    member.save(update_fields=["time_zone"])
    soon = timezone.now().replace(microsecond=0) + timedelta(days=2)
    start = datetime.combine(soon.date(), time(9, 30), tzinfo=ZoneInfo("UTC"))
    add_meeting(group, start, title="Coming meeting")
    add_meeting(group, start + timedelta(days=1), status=MeetingStatus.CANCELLED, title="Called off")
    add_meeting(group, start - timedelta(days=30), title="Long ago")
    page = body(client_for(member).get(reverse("groups:group", args=[group.pk])))
    assert "Coming meeting" in page and "Called off" not in page and "Long ago" not in page
    assert "18:30" in page  # 09:30 UTC is 18:30 in Tokyo


# Members -------------------------------------------------------------------------------------------------------


def test_members_see_each_other_by_community_name_only(client_for, group, member, teammate, moderator, organisation):
    membership.join(teammate, group)
    url = reverse("groups:members", args=[group.pk])
    for viewer in (teammate, moderator):
        page = body(client_for(viewer).get(url))
        assert "Blue Heron" in page and "Test Member" not in page
        # Without a community name of their own, a member is "A member", never their name.
        assert "Tess Teammate" not in page or viewer == teammate
    assert "Fran Facilitator" in body(client_for(teammate).get(url))


def test_managers_see_real_names_and_outsiders_nothing(client_for, group, facilitator, admin, teammate, outsider):
    url = reverse("groups:members", args=[group.pk])
    for manager in (facilitator, admin):
        page = body(client_for(manager).get(url))
        assert "Test Member" in page and "Blue Heron" in page
    for person in (teammate, outsider):
        assert client_for(person).get(url).status_code == 404


def test_a_facilitator_mutes_and_unmutes_and_the_member_is_told(client_for, group, facilitator, member):
    row = group.memberships.get(person=member)
    client = client_for(facilitator)
    refused = client.post(reverse("groups:mute_member", args=[group.pk, row.pk]), {"days": "3", "reason": ""})
    assert refused.status_code == 400 and "Reason (the member sees it)" in body(refused)
    response = client.post(reverse("groups:mute_member", args=[group.pk, row.pk]), {"days": "3", "reason": "Calm"})
    assert response["Location"] == reverse("groups:members", args=[group.pk])
    row.refresh_from_db()
    assert row.is_muted() and row.mute_reason == "Calm"
    assert Notification.objects.filter(recipient=member, title__startswith="A moderator paused").exists()
    assert "A moderator has paused your posting" in body(
        client_for(member).get(reverse("groups:group", args=[group.pk]))
    )
    client.post(reverse("groups:unmute_member", args=[group.pk, row.pk]))
    row.refresh_from_db()
    assert not row.is_muted()


def test_members_and_admins_cannot_moderate(client_for, group, member, teammate, admin):
    membership.join(teammate, group)
    row = group.memberships.get(person=member)
    for person in (teammate, admin):
        response = client_for(person).post(reverse("groups:remove_member", args=[group.pk, row.pk]), {"reason": "x"})
        assert response.status_code == 404
    row.refresh_from_db()
    assert row.status == MembershipStatus.ACTIVE


def test_a_removed_member_is_told_why_and_cannot_rejoin(client_for, group, moderator, member):
    row = group.memberships.get(person=member)
    client_for(moderator).post(reverse("groups:remove_member", args=[group.pk, row.pk]), {"reason": "Unkind posts"})
    row.refresh_from_db()
    assert row.status == MembershipStatus.REMOVED
    client = client_for(member)
    response = client.post(reverse("groups:join", args=[group.pk]), follow=True)
    assert "You were removed from this group. Talk to its facilitator." in body(response)
    row.refresh_from_db()
    assert row.status == MembershipStatus.REMOVED
    assert client.get(reverse("groups:group", args=[group.pk])).status_code == 404


def test_managers_add_people_by_email_or_from_the_list(client_for, group, facilitator, teammate, outsider):
    url = reverse("groups:add_person", args=[group.pk])
    client = client_for(facilitator)
    refused = client.post(url, {"add-email": outsider.email, "add-role": "member"})
    assert refused.status_code == 400
    assert "Only members of this organisation can join its groups." in body(refused)
    unknown = client.post(url, {"add-email": "nobody@example.org", "add-role": "member"})
    assert "Only members of this organisation can join its groups." in body(unknown)
    assert client.post(url, {"add-role": "member"}).status_code == 400
    response = client.post(url, {"add-email": teammate.email.upper(), "add-role": "member"})
    assert response.status_code == 302
    assert group.memberships.get(person=teammate).status == MembershipStatus.ACTIVE
    assert Notification.objects.filter(recipient=teammate, title="You were added to Harbour circle").exists()


def test_the_list_of_people_to_add_follows_the_care_policy(client_for, group, facilitator, admin, teammate):
    # The facilitator supports nobody, so no member is offered to them by name; the admin sees their members.
    page = body(client_for(facilitator).get(reverse("groups:members", args=[group.pk])))
    assert "Tess Teammate" not in page
    admin_page = body(client_for(admin).get(reverse("groups:members", args=[group.pk])))
    assert f'<option value="{teammate.pk}">Tess Teammate</option>' in admin_page
    response = client_for(admin).post(
        reverse("groups:add_person", args=[group.pk]), {"add-person": teammate.pk, "add-role": "member"}
    )
    assert response.status_code == 302
    assert group.memberships.get(person=teammate).status == MembershipStatus.ACTIVE


# Requests ----------------------------------------------------------------------------------------------------


@pytest.fixture
def closed(organisation, facilitator):
    return membership.create_group(
        by=facilitator, organisation=organisation, name="Closed circle", purpose="Carers", access="closed",
        format="online", video_url="https://video.example/closed",
    )  # fmt: skip


def test_asking_to_join_reaches_the_facilitator_who_approves(client_for, closed, facilitator, teammate):
    response = client_for(teammate).post(reverse("groups:join", args=[closed.pk]))
    assert response["Location"] == reverse("groups:directory")
    assert Notification.objects.filter(recipient=facilitator, title="Someone asked to join Closed circle").exists()
    requests_url = reverse("groups:requests", args=[closed.pk])
    assert client_for(teammate).get(requests_url).status_code == 404
    page = body(client_for(facilitator).get(requests_url))
    assert "Approve Tess Teammate" in page
    row = closed.memberships.get(person=teammate)
    client_for(facilitator).post(reverse("groups:decide", args=[closed.pk, row.pk]), {"decision": "approve"})
    row.refresh_from_db()
    assert row.status == MembershipStatus.ACTIVE
    assert Notification.objects.filter(recipient=teammate, title="You are now a member of Closed circle").exists()
    assert client_for(teammate).get(reverse("groups:group", args=[closed.pk])).status_code == 200


def test_a_decline_keeps_its_reason_and_a_second_decision_is_refused(client_for, closed, facilitator, teammate):
    row = membership.join(teammate, closed)
    url = reverse("groups:decide", args=[closed.pk, row.pk])
    client = client_for(facilitator)
    client.post(url, {"decision": "decline", "reason": "Only for carers"})
    row.refresh_from_db()
    assert (row.status, row.reason) == (MembershipStatus.DECLINED, "Only for carers")
    again = client.post(url, {"decision": "approve"})
    assert again.status_code == 400 and "This request was already decided." in body(again)
    assert client.post(url, {"decision": "maybe"}).status_code == 400


# Joining and leaving -----------------------------------------------------------------------------------------


def test_joining_and_leaving_an_open_group(client_for, group, teammate):
    client = client_for(teammate)
    response = client.post(reverse("groups:join", args=[group.pk]))
    assert response["Location"] == reverse("groups:group", args=[group.pk])
    assert client.get(reverse("groups:group", args=[group.pk])).status_code == 200
    response = client.post(reverse("groups:leave", args=[group.pk]), follow=True)
    assert "You left Harbour circle." in body(response)
    assert group.memberships.get(person=teammate).status == MembershipStatus.LEFT


def test_a_full_group_says_so_when_joined(client_for, facilitator, group, teammate):
    membership.update_group(group, by=facilitator, capacity=1)
    response = client_for(teammate).post(reverse("groups:join", args=[group.pk]), follow=True)
    assert "This group is full." in body(response)
    assert not group.memberships.filter(person=teammate).exists()


def test_staff_cannot_join_and_others_cannot_find_the_group(client_for, group, unlisted, staff, outsider, teammate):
    assert client_for(staff).post(reverse("groups:join", args=[group.pk])).status_code == 403
    assert client_for(outsider).post(reverse("groups:join", args=[group.pk])).status_code == 404
    assert client_for(teammate).post(reverse("groups:join", args=[unlisted.pk])).status_code == 404
    assert client_for(teammate).get(reverse("groups:group", args=[unlisted.pk])).status_code == 404


def test_signed_out_visitors_are_asked_to_sign_in(client, group):
    for url in (reverse("groups:directory"), reverse("groups:group", args=[group.pk])):
        assert client.get(url)["Location"].startswith(reverse("accounts:login"))
