"""Peer-mentor matching: profiles, requests, suggestions and approving a match (the domain functions)."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from alongside.accounts.models import Role
from alongside.audit.models import AuditAction, AuditEvent
from alongside.care import actions as care_actions
from alongside.care.models import DEFAULT_SHARING, CareRelationship, Category
from alongside.groups import mentoring
from alongside.groups.models import MentorProfile, MentorRequest, MentorRequestStatus
from alongside.notify.models import Notification, NotificationKind
from alongside.testing import factories


def mentor(organisation, name, *, languages="Spanish", lived=("alcohol",), times=("weekday_evenings",), gender="",
           capacity=5, accepting=True):  # fmt: skip
    person = factories.make_staff(organisation, Role.PEER_MENTOR, display_name=name)
    mentoring.save_mentor_profile(
        person, organisation, languages=languages, lived_experience=list(lived), availability=list(times),
        gender=gender, capacity=capacity, accepting=accepting,
    )  # fmt: skip
    return person


def ask(member, organisation, **fields):
    defaults = {"languages": "spanish", "lived_experience": ["alcohol", "grief"], "availability": ["weekday_evenings"]}
    return mentoring.ask_for_mentor(member, organisation, **(defaults | fields))


@pytest.fixture
def admin(organisation):
    return factories.make_staff(organisation, Role.ORG_ADMIN, display_name="Org Admin")


def test_languages_are_trimmed_capitalised_and_kept_once():
    assert mentoring.normalise_languages("spanish,  English ,SPANISH,, sign  language") == [
        "Spanish",
        "English",
        "Sign language",
    ]
    with pytest.raises(ValidationError) as error:
        mentoring.normalise_languages("English; 42")
    assert set(error.value.message_dict) == {"languages"}


def test_a_peer_mentor_keeps_a_profile_and_others_may_not(organisation, staff):
    person = factories.make_staff(organisation, Role.PEER_MENTOR)
    profile = mentoring.save_mentor_profile(
        person, organisation, languages="english, Spanish", lived_experience=["grief", "alcohol"],
        availability=["weekends"], capacity="3", accepting=True, about="  In recovery since 2015  ",
    )  # fmt: skip
    assert profile.languages == ["English", "Spanish"]
    assert profile.lived_experience == ["alcohol", "grief"]  # in the choices' order
    assert profile.about == "In recovery since 2015"
    mentoring.save_mentor_profile(
        person, organisation, languages="", lived_experience=[], availability=[], capacity=2, accepting=False
    )
    assert MentorProfile.objects.filter(person=person).count() == 1
    assert not MentorProfile.objects.get(person=person).accepting
    assert AuditEvent.objects.filter(actor=person, category=Category.GROUPS).count() == 2
    with pytest.raises(PermissionDenied):
        mentoring.save_mentor_profile(
            staff, organisation, languages="", lived_experience=[], availability=[], capacity=2, accepting=True
        )


def test_bad_profile_input_names_each_field(organisation):
    person = factories.make_staff(organisation, Role.PEER_MENTOR)
    with pytest.raises(ValidationError) as error:
        mentoring.save_mentor_profile(
            person, organisation, languages="English", lived_experience=["alcohol", "aliens"],
            availability=["midnight"], gender="robot", capacity=-1, accepting=True,
        )  # fmt: skip
    assert set(error.value.message_dict) == {"lived_experience", "availability", "gender", "capacity"}
    assert not MentorProfile.objects.exists()


def test_a_member_asks_once_per_organisation_and_approvers_hear_of_it(organisation, member, staff, relationship, admin):
    other_clinician = factories.make_staff(organisation, Role.CLINICIAN)
    factories.support(other_clinician, factories.make_member(organisation), organisation)
    mentor_request = ask(member, organisation, note="Evenings are hardest", gender_preference="woman")
    assert mentor_request.languages == ["Spanish"]
    assert mentor_request.status == MentorRequestStatus.OPEN
    told = set(Notification.objects.filter(kind=NotificationKind.GROUP_ACTIVITY).values_list("recipient", flat=True))
    assert told == {staff.pk, admin.pk}  # not a clinician of someone else
    assert "Evenings" not in " ".join(Notification.objects.values_list("title", flat=True))
    with pytest.raises(ValidationError) as error:
        ask(member, organisation)
    assert set(error.value.message_dict) == {"organisation"}


def test_an_unknown_lived_experience_is_a_field_error(organisation, member):
    with pytest.raises(ValidationError) as error:
        ask(member, organisation, lived_experience=["alcohol", "aliens"], gender_preference="robot", note="x" * 501)
    assert set(error.value.message_dict) == {"lived_experience", "gender_preference", "note"}
    assert not MentorRequest.objects.exists()


def test_only_members_of_the_organisation_ask(organisation, other_organisation, member, staff):
    with pytest.raises(PermissionDenied):
        ask(member, other_organisation)
    with pytest.raises(PermissionDenied):
        ask(staff, organisation)


def test_suggestions_filter_and_rank_with_reasons(organisation, member):
    best = mentor(organisation, "Ana Best", languages="English, Spanish", lived=("alcohol", "grief"), gender="woman")
    second = mentor(organisation, "Bea Second", lived=("grief",), times=("weekends",), gender="woman")
    mentor(organisation, "Cat English", languages="English", gender="woman")
    mentor(organisation, "Dan Man", lived=("alcohol", "grief"), gender="man")
    mentor(organisation, "Eve Busy", gender="woman", accepting=False)
    full = mentor(organisation, "Fay Full", gender="woman", capacity=1)
    factories.support(full, factories.make_member(organisation), organisation, Role.PEER_MENTOR)
    supporting = mentor(organisation, "Gil Already", gender="woman")
    factories.support(supporting, member, organisation, Role.PEER_MENTOR)
    factories.make_staff(organisation, Role.PEER_MENTOR, display_name="Hal No Profile")
    factories.support(best, factories.make_member(organisation), organisation, Role.PEER_MENTOR)

    found = mentoring.suggestions(ask(member, organisation, gender_preference="woman"))
    assert [s.mentor for s in found] == [best, second]
    assert [s.score for s in found] == [5, 2]
    assert found[0].why == "speaks Spanish; shares: alcohol, grief and loss; weekday evenings; 4 of 5 places free"
    assert found[1].reasons == ["speaks Spanish", "shares: grief and loss", "5 of 5 places free"]


def test_without_languages_or_gender_preference_nobody_is_filtered_out_for_them(organisation, member):
    english = mentor(organisation, "Cat English", languages="English")
    man = mentor(organisation, "Dan Man", gender="man")
    silent = mentor(organisation, "Ida No Languages", languages="")
    found = [s.mentor for s in mentoring.suggestions(ask(member, organisation, languages="", lived_experience=[]))]
    assert set(found) == {english, man, silent}


def test_a_peer_mentor_who_lost_the_role_is_not_suggested(organisation, member, admin):
    gone = mentor(organisation, "Jo Gone")
    care_actions.set_staff_roles(by=admin, organisation=organisation, person=gone, roles=[Role.CLINICIAN])
    assert mentoring.suggestions(ask(member, organisation)) == []


def test_approving_creates_the_relationship_with_peer_mentor_sharing_and_tells_both(organisation, member, admin):
    chosen = mentor(organisation, "Ana Best")
    mentor_request = ask(member, organisation, note="Private preference note")
    matched = mentoring.approve_match(mentor_request, by=admin, mentor=chosen)
    assert matched.status == MentorRequestStatus.MATCHED
    assert (matched.matched_mentor, matched.matched_by) == (chosen, admin)
    relationship = CareRelationship.objects.get(member=member, staff=chosen)
    assert matched.relationship == relationship
    assert relationship.role == Role.PEER_MENTOR
    categories, safety_alerts = DEFAULT_SHARING[Role.PEER_MENTOR]
    assert relationship.shared_categories == set(categories) == {Category.ENGAGEMENT, Category.GOALS}
    assert relationship.safety_alerts is safety_alerts
    notes = Notification.objects.filter(kind=NotificationKind.GROUP_ACTIVITY, source_key__startswith="mentor-match")
    assert {n.recipient for n in notes} == {member, chosen}
    assert all("Private" not in n.title + n.body for n in notes)
    assert AuditEvent.objects.filter(action=AuditAction.CARE_TEAM_CHANGE, member=member, actor=admin).exists()
    assert AuditEvent.objects.filter(
        action=AuditAction.CHANGE, category=Category.GROUPS, member=member, actor=admin, detail__startswith="matched"
    ).exists()
    assert mentoring.suggestions(matched) == []


def test_approving_twice_makes_one_relationship(organisation, member, admin):
    first, second = mentor(organisation, "Ana Best"), mentor(organisation, "Bea Second")
    mentor_request = ask(member, organisation)
    mentoring.approve_match(mentor_request, by=admin, mentor=first)
    again = mentoring.approve_match(mentor_request, by=admin, mentor=first)  # a second click
    assert again.matched_mentor == first
    with pytest.raises(ValidationError) as error:
        mentoring.approve_match(mentor_request, by=admin, mentor=second)
    assert set(error.value.message_dict) == {"request"}
    assert CareRelationship.objects.filter(member=member, role=Role.PEER_MENTOR).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_staff_approving_at_once_make_one_relationship():
    organisation = factories.make_organisation()
    member = factories.make_member(organisation)
    admins = [factories.make_staff(organisation, Role.ORG_ADMIN) for _ in range(2)]
    mentors = [mentor(organisation, f"Mentor {n}") for n in range(2)]
    mentor_request = ask(member, organisation)
    start = threading.Barrier(2)
    outcomes = []

    def approve(by, chosen):
        try:
            start.wait()
            mentoring.approve_match(MentorRequest.objects.get(pk=mentor_request.pk), by=by, mentor=chosen)
            outcomes.append("matched")
        except ValidationError as error:
            outcomes.append(sorted(error.message_dict))
        except Exception as error:  # shown in the assertion below
            outcomes.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=pair) for pair in zip(admins, mentors, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=str) == [["request"], "matched"]
    assert CareRelationship.objects.filter(member=member, role=Role.PEER_MENTOR).count() == 1
    assert MentorRequest.objects.get(pk=mentor_request.pk).relationship is not None


@pytest.mark.parametrize("problem", ["full", "not_accepting", "not_a_peer_mentor", "already_supporting", "no_profile"])
def test_approving_refuses_a_mentor_who_cannot_take_the_member(organisation, member, admin, problem):
    chosen = mentor(organisation, "Kim", capacity=1, accepting=problem != "not_accepting")
    if problem == "full":
        factories.support(chosen, factories.make_member(organisation), organisation, Role.PEER_MENTOR)
    elif problem == "not_a_peer_mentor":
        chosen = factories.make_staff(organisation, Role.CLINICIAN)
    elif problem == "already_supporting":
        factories.support(chosen, member, organisation, Role.PEER_MENTOR)
    elif problem == "no_profile":
        chosen = factories.make_staff(organisation, Role.PEER_MENTOR)
    mentor_request = ask(member, organisation)
    with pytest.raises(ValidationError) as error:
        mentoring.approve_match(mentor_request, by=admin, mentor=chosen)
    assert set(error.value.message_dict) == {"mentor"}
    mentor_request.refresh_from_db()
    assert mentor_request.status == MentorRequestStatus.OPEN
    assert CareRelationship.objects.filter(member=member, staff=chosen, role=Role.PEER_MENTOR).count() == (
        1 if problem == "already_supporting" else 0
    )


def test_a_mentor_of_another_organisation_is_refused(organisation, other_organisation, member, admin):
    elsewhere = mentor(other_organisation, "Lee Elsewhere")
    with pytest.raises(ValidationError):
        mentoring.approve_match(ask(member, organisation), by=admin, mentor=elsewhere)


def test_who_may_see_and_approve(organisation, other_organisation, member, staff, relationship, admin):
    case_manager = factories.make_staff(organisation, Role.CASE_MANAGER)
    factories.support(case_manager, member, organisation, Role.CASE_MANAGER)
    someone_elses_clinician = factories.make_staff(organisation, Role.CLINICIAN)
    factories.support(someone_elses_clinician, factories.make_member(organisation), organisation)
    supporting_mentor = mentor(organisation, "Already Mentoring")
    factories.support(supporting_mentor, member, organisation, Role.PEER_MENTOR)
    outside_admin = factories.make_staff(other_organisation, Role.ORG_ADMIN)
    mentor_request = ask(member, organisation)

    for person in (staff, case_manager, admin):
        assert mentoring.may_approve(person, mentor_request)
        assert list(mentoring.requests_visible_to(person)) == [mentor_request]
    for person in (someone_elses_clinician, supporting_mentor, outside_admin, member):
        assert not mentoring.may_approve(person, mentor_request)
        assert not mentoring.requests_visible_to(person).exists()
    chosen = mentor(organisation, "New Mentor")
    with pytest.raises(PermissionDenied):
        mentoring.approve_match(mentor_request, by=someone_elses_clinician, mentor=chosen)
    # The member's own clinician may approve: the relationship starts, added by them.
    mentoring.approve_match(mentor_request, by=staff, mentor=chosen)
    assert CareRelationship.objects.get(member=member, staff=chosen).role == Role.PEER_MENTOR


def test_a_clinician_whose_relationship_ended_no_longer_approves(organisation, member, staff, relationship):
    mentor_request = ask(member, organisation)
    care_actions.end_relationship(by=member, relationship=relationship)
    assert not mentoring.may_approve(staff, mentor_request)
    with pytest.raises(PermissionDenied):
        mentoring.approve_match(mentor_request, by=staff, mentor=mentor(organisation, "Ana"))


def test_a_clinician_adds_a_peer_mentor_only_for_a_member_they_support(organisation, member, staff, relationship):
    """The care rule behind a clinician's approval: they may add a peer mentor to their own member's team, and
    nothing else of the kind."""
    chosen = mentor(organisation, "Ana")
    stranger = factories.make_member(organisation)
    with pytest.raises(PermissionDenied):
        care_actions.add_supporter(
            by=staff, organisation=organisation, member=stranger, staff=chosen, role=Role.PEER_MENTOR
        )
    with pytest.raises(PermissionDenied):
        care_actions.add_supporter(
            by=staff, organisation=organisation, member=member, staff=factories.make_staff(organisation),
            role=Role.CLINICIAN,
        )  # fmt: skip
    added = care_actions.add_supporter(
        by=staff, organisation=organisation, member=member, staff=chosen, role=Role.PEER_MENTOR
    )
    assert added.role == Role.PEER_MENTOR


def test_withdrawing(organisation, member, admin):
    mentor_request = ask(member, organisation)
    with pytest.raises(PermissionDenied):
        mentoring.withdraw(mentor_request, by=admin)
    mentoring.withdraw(mentor_request, by=member)
    mentor_request.refresh_from_db()
    assert mentor_request.status == MentorRequestStatus.WITHDRAWN
    assert mentoring.suggestions(mentor_request) == []
    with pytest.raises(ValidationError):
        mentoring.withdraw(mentor_request, by=member)
    with pytest.raises(ValidationError):
        mentoring.approve_match(mentor_request, by=admin, mentor=mentor(organisation, "Ana"))
    assert ask(member, organisation).status == MentorRequestStatus.OPEN  # they may ask again
