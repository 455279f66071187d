from datetime import timedelta

import pytest
from django.utils import timezone

from alongside.accounts.models import OrgRole, Role
from alongside.audit.models import AuditAction, AuditEvent
from alongside.care import actions, policy
from alongside.care.models import SHAREABLE_CATEGORIES, CareRelationship, Category
from alongside.testing.factories import make_member, make_staff, support

pytestmark = pytest.mark.django_db


def test_member_sees_all_of_their_own_data(member):
    for category in Category:
        assert policy.can(member, "view", member, category)
        assert policy.can(member, "change", member, category)


def test_clinician_defaults_share_scores_but_not_the_journal(staff, member, relationship):
    assert policy.can(staff, "view", member, Category.CHECKINS)
    assert policy.can(staff, "view", member, Category.QUESTIONNAIRES)
    assert not policy.can(staff, "view", member, Category.JOURNAL)
    assert relationship.safety_alerts


def test_peer_mentor_sees_engagement_and_goals_only(organisation, member):
    peer = make_staff(organisation, Role.PEER_MENTOR)
    support(peer, member, organisation, Role.PEER_MENTOR)
    visible = {category for category in Category if policy.can(peer, "view", member, category)}
    assert visible == {Category.PROFILE, Category.ENGAGEMENT, Category.GOALS}


def test_consent_change_takes_effect_at_once(staff, member, relationship):
    actions.set_sharing(member=member, relationship=relationship, categories=["journal"], safety_alerts=False)
    assert policy.can(staff, "view", member, Category.JOURNAL)
    assert not policy.can(staff, "view", member, Category.CHECKINS)
    assert list(policy.members_visible_to(staff, Category.CHECKINS)) == []
    event = AuditEvent.objects.get(action=AuditAction.CONSENT_CHANGE)
    assert event.actor == member and event.member == member
    assert "+journal" in event.detail and "-checkins" in event.detail and "safety alerts off" in event.detail


def test_staff_without_a_relationship_sees_nothing(organisation, member, staff):
    for category in Category:
        assert not policy.can(staff, "view", member, category)


def test_ended_or_future_relationship_gives_no_access(staff, member, relationship, organisation):
    actions.end_relationship(by=member, relationship=relationship)
    assert not policy.can(staff, "view", member, Category.PROFILE)
    later = make_staff(organisation, Role.CLINICIAN)
    support(later, member, organisation, started_at=timezone.now() + timedelta(days=3))
    assert not policy.can(later, "view", member, Category.CHECKINS)


def test_losing_the_staff_role_ends_access_immediately(staff, member, relationship):
    OrgRole.objects.filter(user=staff, role=Role.CLINICIAN).delete()
    assert not policy.can(staff, "view", member, Category.CHECKINS)


def test_deactivated_staff_sees_nothing(staff, member, relationship):
    staff.is_active = False
    staff.save()
    assert not policy.can(staff, "view", member, Category.PROFILE)


def test_org_admin_sees_profile_of_own_members_only(organisation, other_organisation, member):
    admin = make_staff(organisation, Role.ORG_ADMIN)
    foreign_member = make_member(other_organisation)
    assert policy.can(admin, "view", member, Category.PROFILE)
    assert not policy.can(admin, "view", member, Category.CHECKINS)
    assert not policy.can(admin, "view", foreign_member, Category.PROFILE)


def test_outsider_sees_nothing_even_with_the_same_role(outsider, member, relationship):
    for category in Category:
        assert not policy.can(outsider, "view", member, category)


def test_only_clinicians_and_case_managers_change_the_shared_plan(organisation, member, staff, relationship):
    peer = make_staff(organisation, Role.PEER_MENTOR)
    peer_relationship = support(peer, member, organisation, Role.PEER_MENTOR)
    actions.set_sharing(member=member, relationship=peer_relationship, categories=["plan"], safety_alerts=False)
    assert policy.can(peer, "view", member, Category.PLAN)
    assert not policy.can(peer, "change", member, Category.PLAN)
    assert policy.can(staff, "change", member, Category.PLAN)
    assert not policy.can(staff, "change", member, Category.CHECKINS)


def test_visible_rows_filters_querysets_by_consent(organisation, staff, member, relationship):
    other = make_member(organisation)
    rows = CareRelationship.objects.all()  # any member-owned rows will do
    assert set(policy.visible_rows(rows, staff, Category.CHECKINS)) == {relationship}
    assert set(policy.visible_rows(rows, other, Category.CHECKINS)) == set()
    actions.set_sharing(member=member, relationship=relationship, categories=[], safety_alerts=True)
    assert set(policy.visible_rows(rows, staff, Category.CHECKINS)) == set()


def test_only_the_member_changes_their_sharing(staff, member, relationship):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        actions.set_sharing(member=staff, relationship=relationship, categories=["journal"], safety_alerts=True)


def test_unknown_categories_are_refused(member, relationship):
    from django.core.exceptions import ValidationError

    with pytest.raises((ValidationError, ValueError)):
        actions.set_sharing(member=member, relationship=relationship, categories=["diagnosis"], safety_alerts=True)


def test_staff_cannot_add_themselves_across_organisations(other_organisation, outsider, member, organisation):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        actions.add_supporter(by=outsider, organisation=organisation, member=member, staff=outsider, role="clinician")


def test_every_shareable_category_has_a_label():
    assert all(str(category.label) for category in SHAREABLE_CATEGORIES)
