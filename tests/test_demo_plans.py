"""The demo's plans, resources and transitions: what a visitor clicks through first, seeded once."""

from alongside import demo
from alongside.accounts import actions
from alongside.accounts.models import User
from alongside.care import plan
from alongside.care.models import ResourceAssignment
from alongside.programs.models import Transition


def seed_people_and_plans():
    organisations = {
        demo.DEMO_ORG_SLUG: demo._organisation("Riverside Recovery Collective", "US", "America/New_York", "riverside"),
        demo.OTHER_ORG_SLUG: demo._organisation("Harbour Light Clinic", "GB", "Europe/London", "harbour-light"),
    }
    for person in (*demo.STAFF, *demo.MEMBERS, *demo.OTHER_ORGANISATION):
        user, _created = demo._person(person)
        for role in person.roles:
            actions.grant_role(user, organisations[person.organisation], role)
    demo._care_teams(organisations)
    demo._programs(organisations)
    demo._plans(organisations)
    demo._appointments()
    demo._routine()


def test_demo_plans_are_seeded_once(db):
    seed_people_and_plans()
    seed_people_and_plans()
    sam = User.objects.get(email="member@demo.example")
    version = plan.current_version(sam)
    assert version.number == 2 and plan.is_agreed(version)
    assert plan.content_of(version)["coping_strategies"][0] == "Box breathing for two minutes"
    assert plan.current_version(User.objects.get(email="riley@demo.example")).number == 1
    assert ResourceAssignment.objects.filter(member=sam).count() == 2
    assert Transition.objects.filter(enrolment__member=sam).count() == 1
    assert "555 010 0150" in User.objects.get(email="clinician@demo.example").contact_details


def test_demo_appointments_are_seeded_once(db):
    from alongside.schedule.models import Appointment, OccurrenceStatus

    seed_people_and_plans()
    seed_people_and_plans()
    sam = User.objects.get(email="member@demo.example")
    assert Appointment.objects.filter(member=sam).count() == 3
    statuses = set(Appointment.objects.get(member=sam, kind="therapy").occurrences.values_list("status", flat=True))
    assert {OccurrenceStatus.ATTENDED, OccurrenceStatus.MISSED, OccurrenceStatus.CONFIRMED} <= statuses


def test_demo_routine_comes_from_the_plan(db):
    from alongside.schedule import routines
    from alongside.schedule.models import RoutineItem

    seed_people_and_plans()
    seed_people_and_plans()
    sam = User.objects.get(email="member@demo.example")
    items = list(RoutineItem.objects.filter(member=sam))
    assert [item.title for item in items] == [
        "Medication at 8",
        "Breakfast",
        "Check in on Alongside",
        "A 20-minute walk",
    ]
    today = routines.local_today(sam)
    assert all(0 < routines.habit_strength(item, today) < 1 for item in items)
