"""Groups and memberships (groups/membership.py, access.py, cards.py): who may make, join, run and moderate a
group, capacity, requests, removal and muting, and what each change leaves in the audit log and inboxes."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from alongside.accounts.models import Role
from alongside.audit.models import AuditEvent
from alongside.groups import access, cards, membership
from alongside.groups.models import Membership, MembershipRole, MembershipStatus
from alongside.notify.models import Notification
from alongside.testing.factories import make_member, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def facilitator(organisation):
    return make_staff(organisation, Role.FACILITATOR, display_name="Fran Facilitator")


@pytest.fixture
def admin(organisation):
    return make_staff(organisation, Role.ORG_ADMIN, display_name="Ada Admin")


@pytest.fixture
def teammate(organisation):
    """Another member of the same organisation."""
    return make_member(organisation, display_name="Tess Teammate")


def make_group(by, organisation, **fields):
    values = {"name": "Evening circle", "purpose": "Support after work", "format": "online"}
    values |= {"video_url": "https://video.example/evening"} | fields
    return membership.create_group(by=by, organisation=organisation, **values)


def audit_details(group):
    return list(
        AuditEvent.objects.filter(organisation=group.organisation, category="groups")
        .order_by("pk")
        .values_list("detail", flat=True)
    )


def inbox_titles(person):
    return list(Notification.objects.filter(recipient=person).order_by("pk").values_list("title", flat=True))


# Making and changing groups -------------------------------------------------------------------------------------


def test_a_facilitator_who_makes_a_group_facilitates_it_and_it_is_audited(organisation, facilitator):
    group = make_group(facilitator, organisation)
    assert access.is_facilitator(facilitator, group)
    assert access.can_manage(facilitator, group)
    assert audit_details(group) == [f"created group {group.pk}"]
    event = AuditEvent.objects.get(detail=f"created group {group.pk}")
    assert event.actor == facilitator


def test_an_org_admin_makes_a_group_without_joining_it(organisation, admin):
    group = make_group(admin, organisation)
    assert not group.memberships.exists()
    assert access.can_manage(admin, group)
    assert not access.can_see_inside(admin, group)


def test_members_and_outsiders_cannot_make_groups(organisation, member, outsider, staff):
    for person in (member, outsider, staff):
        with pytest.raises(PermissionDenied):
            make_group(person, organisation)


@pytest.mark.parametrize(
    ("fields", "wrong"),
    [
        ({"name": "  "}, "name"),
        ({"purpose": ""}, "purpose"),
        ({"format": "in_person", "video_url": ""}, "address"),
        ({"format": "online", "video_url": ""}, "video_url"),
        ({"video_url": "http://video.example/plain"}, "video_url"),
        ({"capacity": 0}, "capacity"),
        ({"access": "secret"}, "access"),
    ],
)
def test_wrong_group_details_are_named(organisation, facilitator, fields, wrong):
    with pytest.raises(ValidationError) as caught:
        make_group(facilitator, organisation, **fields)
    assert wrong in caught.value.message_dict


def test_only_managers_change_or_archive_a_group(organisation, facilitator, admin, member, teammate):
    group = make_group(facilitator, organisation)
    membership.join(member, group)
    with pytest.raises(PermissionDenied):
        membership.update_group(group, by=member, name="Taken over")
    with pytest.raises(PermissionDenied):
        membership.archive_group(group, by=teammate)
    membership.update_group(group, by=admin, name="Evening circle (Tuesdays)")
    group.refresh_from_db()
    assert group.name == "Evening circle (Tuesdays)"
    membership.archive_group(group, by=facilitator)
    assert not access.directory(member).exists()
    assert not access.can_see_inside(member, group)
    assert audit_details(group)[-2:] == [f"changed group {group.pk}: name", f"archived group {group.pk}"]


# Joining, capacity, leaving -------------------------------------------------------------------------------------


def test_joining_an_open_group_twice_makes_one_membership_and_one_audit_row(organisation, facilitator, member):
    group = make_group(facilitator, organisation)
    first = membership.join(member, group)
    again = membership.join(member, group)
    assert first.pk == again.pk
    assert first.status == MembershipStatus.ACTIVE
    assert access.can_see_inside(member, group)
    joined = AuditEvent.objects.filter(member=member, detail="joined")
    assert joined.count() == 1
    assert joined.get().category == "groups"


def test_a_full_group_refuses_members_but_not_facilitators(organisation, facilitator, member, teammate):
    group = make_group(facilitator, organisation, capacity=1)
    assert cards.places_left(group) == membership.places_left(group) == 1
    membership.join(member, group)
    assert membership.places_left(group) == 0
    with pytest.raises(ValidationError) as caught:
        membership.join(teammate, group)
    assert caught.value.message_dict == {"group": ["This group is full."]}
    assert not Membership.objects.filter(person=teammate).exists()
    other_facilitator = make_staff(organisation, Role.FACILITATOR)
    membership.add_person(group, other_facilitator, by=facilitator, role=MembershipRole.FACILITATOR)
    with pytest.raises(ValidationError):
        membership.add_person(group, teammate, by=facilitator)
    # Leaving frees the place.
    membership.leave(member, group)
    assert membership.places_left(group) == 1
    assert membership.join(teammate, group).status == MembershipStatus.ACTIVE


def test_staff_outsiders_and_unlisted_groups_cannot_be_joined(organisation, facilitator, staff, outsider, member):
    listed = make_group(facilitator, organisation)
    unlisted = make_group(facilitator, organisation, name="Quiet room", listed=False)
    for person, group in ((staff, listed), (outsider, listed), (member, unlisted)):
        with pytest.raises(PermissionDenied):
            membership.join(person, group)


def test_leaving_ends_the_membership_and_rejoining_works(organisation, facilitator, member):
    group = make_group(facilitator, organisation)
    membership.join(member, group)
    left = membership.leave(member, group)
    assert left.status == MembershipStatus.LEFT and left.ended_at is not None
    assert not access.can_see_inside(member, group)
    with pytest.raises(ValidationError) as caught:
        membership.leave(member, group)
    assert "group" in caught.value.message_dict
    assert membership.join(member, group).status == MembershipStatus.ACTIVE
    assert audit_details(group)[-3:] == ["joined", "left", "joined"]


# Closed groups: requests ------------------------------------------------------------------------------------


def test_asking_to_join_tells_the_facilitator_and_approval_tells_the_member(organisation, facilitator, admin, member):
    group = make_group(facilitator, organisation, access="closed")
    request = membership.join(member, group)
    assert request.status == MembershipStatus.REQUESTED
    assert not access.can_see_inside(member, group)
    told = Notification.objects.get(recipient=facilitator)
    assert told.title == "Someone asked to join Evening circle"
    assert told.link == f"/groups/{group.pk}/requests/"
    # Asking again is no new request and tells nobody again.
    assert membership.join(member, group).pk == request.pk
    assert Notification.objects.filter(recipient=facilitator).count() == 1

    with pytest.raises(PermissionDenied):
        membership.decide(request, by=member, approve=True)
    approved = membership.decide(request, by=admin, approve=True)
    assert approved.status == MembershipStatus.ACTIVE and approved.decided_by == admin
    assert access.can_see_inside(member, group)
    assert inbox_titles(member) == ["You are now a member of Evening circle"]
    with pytest.raises(ValidationError):
        membership.decide(approved, by=facilitator, approve=False)
    assert audit_details(group)[-2:] == ["asked to join", "approved request"]


def test_a_declined_request_keeps_its_reason_and_may_be_asked_again(organisation, facilitator, member):
    group = make_group(facilitator, organisation, access="closed")
    request = membership.join(member, group)
    with pytest.raises(ValidationError) as caught:
        membership.decide(request, by=facilitator, approve=False, reason="x" * 301)
    assert "reason" in caught.value.message_dict
    declined = membership.decide(request, by=facilitator, approve=False, reason="The group is for carers")
    assert declined.status == MembershipStatus.DECLINED
    assert declined.reason == "The group is for carers"
    assert inbox_titles(member) == ["Your request to join Evening circle was declined"]
    assert membership.join(member, group).status == MembershipStatus.REQUESTED


def test_a_request_cannot_be_approved_into_a_full_group(organisation, facilitator, member, teammate):
    group = make_group(facilitator, organisation, access="closed", capacity=1)
    membership.add_person(group, teammate, by=facilitator)
    request = membership.join(member, group)
    with pytest.raises(ValidationError) as caught:
        membership.decide(request, by=facilitator, approve=True)
    assert "membership" in caught.value.message_dict
    request.refresh_from_db()
    assert request.status == MembershipStatus.REQUESTED


# Adding people -----------------------------------------------------------------------------------------------


def test_managers_add_members_of_their_organisation_only(organisation, facilitator, member, outsider, staff):
    group = make_group(facilitator, organisation, listed=False)
    added = membership.add_person(group, member, by=facilitator)
    assert added.status == MembershipStatus.ACTIVE
    assert inbox_titles(member) == ["You were added to Evening circle"]
    # Adding again changes nothing and tells nobody again.
    assert membership.add_person(group, member, by=facilitator).pk == added.pk
    assert inbox_titles(member) == ["You were added to Evening circle"]
    assert audit_details(group).count("added as member") == 1
    with pytest.raises(ValidationError) as caught:
        membership.add_person(group, outsider, by=facilitator)
    assert "person" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        membership.add_person(group, staff, by=facilitator, role=MembershipRole.FACILITATOR)
    assert "person" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        membership.add_person(group, member, by=facilitator, role="boss")
    assert "role" in caught.value.message_dict
    with pytest.raises(PermissionDenied):
        membership.add_person(group, staff, by=member)


def test_members_lists_facilitators_first(organisation, facilitator, member):
    group = make_group(facilitator, organisation)
    membership.join(member, group)
    # A member whose name sorts before the facilitator's still comes after them.
    early = make_member(organisation, display_name="Aaron Early")
    membership.join(early, group)
    assert [row.person for row in membership.members(group)] == [facilitator, early, member]
    assert cards.facilitators(group) == [facilitator]


# Moderation ----------------------------------------------------------------------------------------------------


@pytest.fixture
def moderator(organisation):
    return make_staff(organisation, Role.MODERATOR, display_name="Mo Moderator")


def test_a_muted_member_is_told_reads_on_and_is_unmuted(organisation, facilitator, moderator, member):
    group = make_group(facilitator, organisation)
    row = membership.join(member, group)
    muted = membership.mute(row, by=moderator, days=3, reason="Keep to the guidelines")
    assert muted.is_muted()
    assert muted.muted_until > timezone.now() + timedelta(days=2)
    assert inbox_titles(member) == ["A moderator paused your posting in Evening circle"]
    assert "Keep to the guidelines" in membership.muted_message(muted)
    assert access.can_see_inside(member, group)
    event = AuditEvent.objects.get(detail__startswith="muted")
    assert (event.actor, event.member, event.category) == (moderator, member, "groups")
    unmuted = membership.unmute(row, by=facilitator)
    assert not unmuted.is_muted() and membership.muted_message(unmuted) == ""
    assert audit_details(group)[-1] == "unmuted"


@pytest.mark.parametrize(
    ("days", "reason", "wrong"),
    [(0, "Reason", "days"), (91, "Reason", "days"), ("soon", "Reason", "days"), (3, "  ", "reason")],
)
def test_a_mute_needs_sensible_days_and_a_reason(organisation, facilitator, member, days, reason, wrong):
    group = make_group(facilitator, organisation)
    row = membership.join(member, group)
    with pytest.raises(ValidationError) as caught:
        membership.mute(row, by=facilitator, days=days, reason=reason)
    assert wrong in caught.value.message_dict
    row.refresh_from_db()
    assert not row.is_muted()


def test_members_and_admins_do_not_moderate_and_nobody_moderates_themselves(
    organisation, facilitator, admin, member, teammate
):
    group = make_group(facilitator, organisation)
    row = membership.join(member, group)
    membership.join(teammate, group)
    for person in (teammate, admin):
        with pytest.raises(PermissionDenied):
            membership.remove(row, by=person, reason="No")
    own = group.memberships.get(person=facilitator)
    with pytest.raises(ValidationError):
        membership.mute(own, by=facilitator, days=1, reason="Testing")


def test_a_removed_member_is_told_why_and_cannot_rejoin_by_themselves(organisation, facilitator, member):
    group = make_group(facilitator, organisation)
    row = membership.join(member, group)
    removed = membership.remove(row, by=facilitator, reason="Repeatedly unkind")
    assert removed.status == MembershipStatus.REMOVED and removed.reason == "Repeatedly unkind"
    assert not access.can_see_inside(member, group)
    assert inbox_titles(member) == ["You were removed from Evening circle"]
    with pytest.raises(ValidationError) as caught:
        membership.join(member, group)
    assert caught.value.message_dict == {"group": ["You were removed from this group. Talk to its facilitator."]}
    with pytest.raises(ValidationError):
        membership.remove(removed, by=facilitator, reason="Again")
    # A facilitator may bring them back.
    assert membership.add_person(group, member, by=facilitator).status == MembershipStatus.ACTIVE
    assert audit_details(group)[-2:] == ["removed: Repeatedly unkind", "added as member"]


# Who knows of which group ------------------------------------------------------------------------------------


def test_an_unlisted_group_is_known_only_inside_and_to_its_admins(
    organisation, facilitator, admin, moderator, member, teammate, outsider
):
    listed = make_group(facilitator, organisation)
    unlisted = make_group(facilitator, organisation, name="Quiet room", listed=False)
    membership.add_person(unlisted, member, by=facilitator)
    assert set(access.directory(teammate)) == {listed}
    assert set(access.directory(member)) == {listed, unlisted}
    assert set(access.directory(admin)) == {listed, unlisted}
    assert set(access.groups_inside(moderator)) == {listed, unlisted}
    assert not access.directory(outsider).exists()
    assert not access.can_see_inside(teammate, unlisted)
    assert not access.can_see_inside(admin, unlisted)


def test_directory_cards_say_what_each_person_may_do(organisation, facilitator, admin, member, teammate, outsider):
    group = make_group(facilitator, organisation, capacity=2, access="closed")
    membership.add_person(group, member, by=facilitator)
    membership.join(teammate, group)
    (for_member,) = cards.directory_cards(member)
    assert (for_member.my_status, for_member.inside, for_member.can_manage) == ("active", True, False)
    assert for_member.places_left == 1 and not for_member.full and for_member.asks
    (for_teammate,) = cards.directory_cards(teammate)
    assert (for_teammate.my_status, for_teammate.inside, for_teammate.can_join) == ("requested", False, True)
    (for_admin,) = cards.directory_cards(admin)
    assert (for_admin.can_manage, for_admin.can_join, for_admin.inside) == (True, False, False)
    (for_facilitator,) = cards.directory_cards(facilitator)
    assert for_facilitator.can_manage and for_facilitator.my_role == MembershipRole.FACILITATOR
    assert cards.directory_cards(outsider) == []
    assert [row.group for row in cards.my_memberships(teammate)] == [group]
    membership.leave(teammate, group)
    assert not cards.my_memberships(teammate).exists()
