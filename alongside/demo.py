"""Demo data: a synthetic organisation with one person in every role, a cohort of members, and a second
organisation that the first must never see. Every address is fixed and documented in README.md.

Seeding is idempotent: running it again keeps what exists and adds what is missing.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from alongside.accounts import actions, two_factor
from alongside.accounts.models import Organisation, Role, User
from alongside.care import actions as care_actions
from alongside.care import plan, resources
from alongside.goals import goals, review
from alongside.goals.models import Goal
from alongside.groups import discussion, meetings, membership, mentoring, moderation, profiles
from alongside.groups.models import Group
from alongside.monitoring import synthetic
from alongside.monitoring.models import CheckIn, QuestionnaireResponse, SyntheticTruth
from alongside.programs import actions as program_actions
from alongside.programs.models import Enrolment, Program, TransitionKind
from alongside.schedule import checklist, routines, series
from alongside.schedule.models import Appointment, Occurrence, RoutineCheck, RoutineItem

DEMO_PASSWORD = "alongside-demo"  # noqa: S105 (documented demo credential, demo mode only)
DEMO_ORG_SLUG = "riverside"
OTHER_ORG_SLUG = "harbour-light"


@dataclass(frozen=True)
class DemoPerson:
    email: str
    display_name: str
    roles: tuple[Role, ...]
    organisation: str = DEMO_ORG_SLUG
    time_zone: str = "America/New_York"


STAFF = (
    DemoPerson("admin@demo.example", "Dana Okafor", (Role.ORG_ADMIN,)),
    DemoPerson("clinician@demo.example", "Dr. Maya Chen", (Role.CLINICIAN,)),
    DemoPerson("casemanager@demo.example", "Luis Ortega", (Role.CASE_MANAGER,)),
    DemoPerson("peer@demo.example", "Jordan Blake", (Role.PEER_MENTOR,)),
    DemoPerson("facilitator@demo.example", "Priya Natarajan", (Role.FACILITATOR,)),
    DemoPerson("moderator@demo.example", "Ren Ibarra", (Role.MODERATOR,)),
)
# Members choose how they are shown; several use a pseudonym.
MEMBERS = (
    DemoPerson("member@demo.example", "Sam R.", (Role.MEMBER,)),
    DemoPerson("riley@demo.example", "Riley", (Role.MEMBER,), time_zone="America/Chicago"),
    DemoPerson("alex@demo.example", "Alex M.", (Role.MEMBER,)),
    DemoPerson("morgan@demo.example", "Morgan", (Role.MEMBER,), time_zone="America/Los_Angeles"),
    DemoPerson("casey@demo.example", "Casey T.", (Role.MEMBER,)),
    DemoPerson("jamie@demo.example", "Sunflower", (Role.MEMBER,), time_zone="America/Denver"),
    DemoPerson("taylor@demo.example", "Taylor", (Role.MEMBER,)),
    DemoPerson("drew@demo.example", "Drew K.", (Role.MEMBER,), time_zone="America/Chicago"),
)
OTHER_ORGANISATION = (
    DemoPerson("admin@harbour.example", "Nia Hughes", (Role.ORG_ADMIN,), OTHER_ORG_SLUG, "Europe/London"),
    DemoPerson("clinician@harbour.example", "Dr. Owen Price", (Role.CLINICIAN,), OTHER_ORG_SLUG, "Europe/London"),
    DemoPerson("member@harbour.example", "Kit", (Role.MEMBER,), OTHER_ORG_SLUG, "Europe/London"),
)
# Who supports whom (staff e-mail, member e-mails, role).
CARE_TEAMS = (
    ("clinician@demo.example", ("member@demo.example", "riley@demo.example", "alex@demo.example",
                                "morgan@demo.example", "casey@demo.example"), Role.CLINICIAN),
    ("casemanager@demo.example", ("member@demo.example", "jamie@demo.example", "taylor@demo.example",
                                  "drew@demo.example"), Role.CASE_MANAGER),
    ("peer@demo.example", ("member@demo.example", "riley@demo.example", "drew@demo.example"), Role.PEER_MENTOR),
    ("clinician@harbour.example", ("member@harbour.example",), Role.CLINICIAN),
)  # fmt: skip
PLATFORM_OPERATOR = DemoPerson("operator@demo.example", "Platform operator", (), time_zone="UTC")


@dataclass
class Seeded:
    organisations: list[Organisation] = field(default_factory=list)
    people: list[DemoPerson] = field(default_factory=list)
    created: int = 0
    totp_secrets: dict[str, str] = field(default_factory=dict)
    synthetic: int = 0
    alerts: int = 0


@transaction.atomic
def seed(progress: Callable[[str], None] = lambda message: None) -> Seeded:
    result = Seeded()
    organisations = {
        DEMO_ORG_SLUG: _organisation("Riverside Recovery Collective", "US", "America/New_York", DEMO_ORG_SLUG),
        OTHER_ORG_SLUG: _organisation("Harbour Light Clinic", "GB", "Europe/London", OTHER_ORG_SLUG),
    }
    result.organisations = list(organisations.values())
    progress(f"organisations: {', '.join(o.name for o in result.organisations)}")

    everyone = (*STAFF, *MEMBERS, *OTHER_ORGANISATION)
    for person in everyone:
        user, created = _person(person)
        result.created += created
        for role in person.roles:
            actions.grant_role(user, organisations[person.organisation], role)
    operator, created = _person(PLATFORM_OPERATOR)
    result.created += created
    if not operator.is_superuser:
        operator.is_staff = operator.is_superuser = True
        operator.save(update_fields=["is_staff", "is_superuser"])
    result.people = [*everyone, PLATFORM_OPERATOR]
    for person in result.people:
        user = User.objects.get(email=person.email)
        if two_factor.required_for(user):
            result.totp_secrets[person.email] = two_factor.base32_secret(two_factor.give_demo_device(user))
    _care_teams(organisations)
    progress(f"people: {len(result.people)} accounts ({result.created} new)")
    _programs(organisations)
    _plans(organisations)
    progress("aftercare plans, resources and transitions")
    _appointments()
    _routine()
    progress("appointments and routines")
    result.synthetic = _histories(organisations[DEMO_ORG_SLUG], progress)
    result.alerts = _early_warning(progress)
    _team_records()
    progress("clinical notes and outreach")
    _groups(organisations[DEMO_ORG_SLUG])
    progress("peer support groups, meetings, discussions and peer-mentor matching")
    _goals()
    progress("goals, milestones and celebrations")
    return result


def _care_teams(organisations: dict[str, Organisation]) -> None:
    admins = {
        slug: organisation.roles.filter(role=Role.ORG_ADMIN).first() for slug, organisation in organisations.items()
    }
    for staff_email, member_emails, role in CARE_TEAMS:
        staff = User.objects.get(email=staff_email)
        organisation = staff.org_roles.get(role=role).organisation
        by = admins[organisation.slug].user
        for email in member_emails:
            care_actions.add_supporter(
                by=by,
                organisation=organisation,
                member=User.objects.get(email=email),
                staff=staff,
                role=role,
                started_at=timezone.now() - timedelta(days=HISTORY_DAYS),  # as long as the demo's history
            )


# Program per organisation (name, phases) and where each member is: (e-mail, phase, days since discharge).
PROGRAMS = {
    DEMO_ORG_SLUG: ("Intensive outpatient aftercare", ("Intensive", "Step-down", "Maintenance", "Graduated")),
    OTHER_ORG_SLUG: ("Community aftercare", ("Early recovery", "Maintenance")),
}
ENROLMENTS = (
    ("member@demo.example", "Step-down", 41), ("riley@demo.example", "Intensive", 12),
    ("alex@demo.example", "Maintenance", 160), ("morgan@demo.example", "Step-down", 58),
    ("casey@demo.example", "Intensive", 6), ("jamie@demo.example", "Maintenance", 230),
    ("taylor@demo.example", "Graduated", 400), ("drew@demo.example", "Step-down", 75),
    ("member@harbour.example", "Early recovery", 20),
)  # fmt: skip


def _programs(organisations: dict[str, Organisation]) -> None:
    programs, admins = {}, {}
    for slug, (name, phases) in PROGRAMS.items():
        organisation = organisations[slug]
        admins[slug] = organisation.roles.filter(role=Role.ORG_ADMIN).first().user
        program = Program.objects.filter(organisation=organisation, name=name).first()
        programs[slug] = program or program_actions.create_program(
            by=admins[slug], organisation=organisation, name=name, phases=phases
        )
    for email, phase_name, days in ENROLMENTS:
        member = User.objects.get(email=email)
        slug = member.org_roles.get(role=Role.MEMBER).organisation.slug
        program = programs[slug]
        program_actions.enrol(
            by=admins[slug],
            program=program,
            member=member,
            phase=program.phases.get(name=phase_name),
            discharge_date=timezone.localdate() - timedelta(days=days),
        )


CONTACT_DETAILS = {
    "clinician@demo.example": "Call or text 555 010 0150, weekdays 9 to 5. Messages are answered the same day.",
    "casemanager@demo.example": "555 010 0160, Monday to Thursday. Text first if you can.",
    "peer@demo.example": "Text 555 010 0170 any evening; I'm at the Thursday group every week.",
}
SAM_PLAN = {
    "wellness_toolbox": ["Morning walk by the river", "Calling my sister", "Guitar for twenty minutes"],
    "when_well": "I get up on time, answer messages, cook dinner and make bad jokes.",
    "daily_maintenance": ["Medication at 8", "Breakfast", "Check in on Alongside", "A 20-minute walk"],
    "some_days": ["Thursday peer group", "Tidy the flat"],
    "triggers": [
        {"item": "Arguments with my father", "response": "Leave the room and call my sister"},
        {"item": "Payday weekend", "response": "Plan the evening with someone sober"},
    ],
    "early_warning_signs": [
        {"item": "Skipping meals", "response": "Eat something small and tell my sister"},
        {"item": "Staying in bed", "response": "Open the curtains and walk round the block"},
        {"item": "Avoiding calls", "response": "Answer one message today"},
    ],
    "breaking_down": [{"item": "Two nights without sleep", "response": "Call Dr. Chen the same day"}],
    "crisis_signs": ["Talking about being a burden", "Giving things away"],
    "crisis_supporters": [{"name": "Jess (sister)", "phone": "555 010 0101", "note": "Stay with me, call Dr. Chen"}],
    "treatment_preferences": "Day hospital rather than admission if possible.",
    "crisis_helps": "A calm voice and a walk help. Being left alone does not.",
    "post_crisis": "A week of normal sleep, then back to the Thursday group.",
    "warning_signs": ["Feeling trapped", "Wanting to drink alone"],
    "coping_strategies": ["Box breathing for two minutes", "Cold water on my face", "Music in the headphones"],
    "distractions": [{"name": "The library café", "phone": "", "note": "open until 8"}],
    "help_contacts": [
        {"name": "Jess (sister)", "phone": "555 010 0101", "note": "evenings"},
        {"name": "Marcus (sponsor)", "phone": "555 010 0102", "note": "any time"},
    ],
    "professionals": [{"name": "Dr. Maya Chen", "phone": "555 010 0150", "note": "weekdays 9 to 5"}],
    "safe_environment": ["Medication kept in the lockbox", "No alcohol at home"],
    "reason_for_living": "My niece, and teaching her the guitar.",
    "counselling": ["Every other Tuesday with Dr. Chen"],
    "peer_support": ["Thursday evening recovery group"],
    "case_management": ["Monthly call with Luis"],
    "relapse_prevention": ["Keep the daily routine", "Say no to payday drinks"],
}
RESOURCES = (
    ("Noticing early warning signs", "How small changes in sleep, appetite and contact can signal a relapse.",
     "", "Early warning signs are small changes that come before a bigger setback.\n\nWrite down yours, and "
     "what you will do when you notice one.", "relapse prevention, warning signs"),
    ("Sleep and mood", "Why sleep matters in recovery, and a week-long sleep routine to try.", "",
     "Go to bed and get up at the same time every day, including weekends.", "sleep"),
    ("Talking with family about recovery", "Starting the conversation, and what to ask for.",
     "https://example.org/family-conversations", "", "family"),
)  # fmt: skip


def _plans(organisations: dict[str, Organisation]) -> None:
    """A co-written, agreed plan for Sam with resources and a recorded step-down; a first draft for Riley."""
    for email, text in CONTACT_DETAILS.items():
        actions.set_contact_details(User.objects.get(email=email), text)
    sam, riley = User.objects.get(email="member@demo.example"), User.objects.get(email="riley@demo.example")
    clinician = User.objects.get(email="clinician@demo.example")
    if plan.current_version(sam) is None:
        draft = {key: SAM_PLAN[key] for key in ("coping_strategies", "help_contacts", "early_warning_signs")}
        plan.save_plan(sam, by=sam, content=draft, based_on=0)
        version = plan.save_plan(sam, by=clinician, content=SAM_PLAN, based_on=1)
        plan.sign_off(version, by=sam)
        plan.sign_off(version, by=clinician)
    if plan.current_version(riley) is None:
        plan.save_plan(riley, by=riley, content={"coping_strategies": ["Call my brother", "Go for a run"]}, based_on=0)
    riverside = organisations[DEMO_ORG_SLUG]
    if not riverside.resources.exists():
        for title, summary, url, body, topics in RESOURCES:
            resources.save_resource(
                by=clinician, organisation=riverside, title=title, summary=summary, url=url, body=body, topics=topics
            )
        for resource in riverside.resources.order_by("title")[:2]:
            resources.assign(by=clinician, member=sam, resource=resource)
    enrolment = Enrolment.objects.current().filter(member=sam).select_related("program").first()
    if enrolment and not enrolment.transitions.exists():
        program_actions.record_transition(
            by=clinician,
            enrolment=enrolment,
            kind=TransitionKind.DISCHARGE,
            effective_date=enrolment.discharge_date,
            checklist_done=list(program_actions.transition_checklist(enrolment.program))[:4],
            note="Discharged from the intensive phase; follow-up booked.",
        )


def _appointments() -> None:
    """Sam's weekly therapy (one past date missed, the next confirmed), a fortnightly peer coaching series and
    a monthly medication review; Riley's weekly online therapy."""
    if Appointment.objects.filter(member__email__in=[person.email for person in MEMBERS]).exists():
        return
    sam, riley = User.objects.get(email="member@demo.example"), User.objects.get(email="riley@demo.example")
    clinician = User.objects.get(email="clinician@demo.example")
    manager = User.objects.get(email="casemanager@demo.example")
    today = timezone.localdate(timezone=ZoneInfo(sam.time_zone))
    tuesday = today - timedelta(days=today.weekday()) - timedelta(days=13)  # a Tuesday two weeks ago
    therapy = series.schedule_appointment(
        by=clinician, member=sam, staff=clinician, kind="therapy", title="Therapy with Dr. Chen",
        location_kind="in_person", address="Riverside Recovery Collective, 40 River Street, room 3",
        time_zone=sam.time_zone, start_date=tuesday, start_time=time(18, 0), duration_minutes=50,
        rrule="FREQ=WEEKLY;COUNT=26",
    )  # fmt: skip
    past = list(therapy.occurrences.filter(start__lt=timezone.now()).order_by("start"))
    if past:
        series.record_attendance(past[0], by=clinician, attended=True)
        series.record_attendance(past[-1], by=clinician, attended=False)
    upcoming = therapy.occurrences.filter(start__gt=timezone.now()).order_by("start").first()
    if upcoming:
        series.confirm(upcoming, by=sam)
    series.schedule_appointment(
        by=manager, member=sam, staff=manager, kind="case_management", title="Check-in call with Luis",
        location_kind="online", video_url="https://video.example/riverside/luis", time_zone=sam.time_zone,
        start_date=today + timedelta(days=2), start_time=time(10, 30), duration_minutes=30,
        rrule="FREQ=WEEKLY;INTERVAL=2",
    )  # fmt: skip
    series.schedule_appointment(
        by=clinician, member=sam, staff=clinician, kind="medication_review", title="Medication review",
        location_kind="in_person", address="Riverside clinic, 40 River Street", time_zone=sam.time_zone,
        start_date=today + timedelta(days=9), start_time=time(9, 0), duration_minutes=20,
        rrule="FREQ=MONTHLY;BYDAY=2TH;COUNT=6",
    )  # fmt: skip
    series.schedule_appointment(
        by=clinician, member=riley, staff=clinician, kind="therapy", title="Therapy",
        location_kind="online", video_url="https://video.example/riverside/riley", time_zone=riley.time_zone,
        start_date=today + timedelta(days=1), start_time=time(16, 0), duration_minutes=30,
        rrule="FREQ=WEEKLY;COUNT=12",
    )  # fmt: skip


def _routine() -> None:
    """Sam's routine: the plan's daily maintenance, with three weeks of mostly kept check-offs."""
    sam = User.objects.get(email="member@demo.example")
    if RoutineItem.objects.filter(member=sam).exists():
        return
    items = routines.add_from_plan(sam)
    today = routines.local_today(sam)
    for index, item in enumerate(items):
        for days_ago in range(1, 22):
            # Most days kept; each item has its own off days, so streaks and strengths differ.
            if (days_ago + index) % (5 + index) != 0:
                RoutineCheck.objects.get_or_create(item=item, local_date=today - timedelta(days=days_ago))
    for item in items:
        RoutineItem.objects.filter(pk=item.pk).update(created_at=timezone.now() - timedelta(days=21))


# Six months of realistic synthetic history: for the named demo members, and a cohort of members who fill the
# caseloads (their trajectories and turning points are stored as ground truth).
HISTORY_DAYS = 180
QUIET_MEMBER = "drew@demo.example"
LOW_WEEK_MEMBER = "morgan@demo.example"
# Morgan's last seven days, oldest first: mood, anxiety, hours of sleep.
LOW_WEEK = ((5, 5, 6.5), (4, 6, 6), (3, 7, 5.5), (3, 7, 5), (2, 8, 5), (3, 8, 4.5), (2, 8, 5))
SYNTHETIC_MEMBERS = 150


def _histories(organisation: Organisation, progress: Callable[[str], None]) -> int:
    named = [User.objects.get(email=person.email) for person in MEMBERS]
    if not CheckIn.objects.filter(member__in=named).exists():
        start = timezone.localdate(timezone=ZoneInfo(organisation.time_zone)) - timedelta(days=HISTORY_DAYS)
        cohort = synthetic.generate(
            len(named), HISTORY_DAYS, seed=2026, start_date=start, time_zone=[m.time_zone for m in named]
        )
        synthetic.load(cohort, named)
        # Drew has gone quiet for five days, so the accountability ladder has something to show: his peer
        # mentor hears of it and his case manager gets an outreach task when the worker starts.
        quiet = User.objects.get(email=QUIET_MEMBER)
        CheckIn.objects.filter(member=quiet, recorded_at__gte=timezone.now() - timedelta(days=5)).delete()
        _low_week(User.objects.get(email=LOW_WEEK_MEMBER))
        progress(f"history: {HISTORY_DAYS} days for {len(named)} named members")
    existing = SyntheticTruth.objects.filter(member__org_roles__organisation=organisation).count()
    missing = SYNTHETIC_MEMBERS + len(named) - existing
    if missing > 0:
        progress(f"cohort: {missing} synthetic members, {HISTORY_DAYS} days each…")
        call_command(
            "synthesize", organisation=organisation.slug, members=missing, days=HISTORY_DAYS, seed=7,
            program=PROGRAMS[organisation.slug][0], stdout=io.StringIO(),
        )  # fmt: skip
    return SyntheticTruth.objects.filter(member__org_roles__organisation=organisation).count()


def _low_week(member) -> None:
    """Morgan's last week has been hard: low mood, anxiety up, short nights; the early-warning engine notices."""
    zone = ZoneInfo(member.time_zone)
    today = timezone.now().astimezone(zone).date()
    CheckIn.objects.filter(member=member, local_date__gte=today - timedelta(days=7)).delete()
    rows = []
    for days_ago, (mood, anxiety, sleep) in zip(range(7, 0, -1), LOW_WEEK, strict=True):
        day = today - timedelta(days=days_ago)
        moment = datetime.combine(day, time(21, 10), tzinfo=zone)
        values = {"mood": mood, "anxiety": anxiety, "energy": max(mood - 1, 0), "sleep_hours": sleep}
        rows.append(CheckIn(member=member, recorded_at=moment, local_date=day, sleep_quality=3, **values))
    CheckIn.objects.bulk_create(rows)


def _early_warning(progress: Callable[[str], None]) -> int:
    """Detector state for everyone from their history; the named members' last three weeks raise alerts (the
    care team's alert list has real evidence to read). Firings are keyed, so seeding again adds nothing."""
    from alongside.signals import engine, rescan
    from alongside.signals.models import Alert

    rescan.rescan()
    since = timezone.now() - timedelta(days=21)
    for person in MEMBERS:
        member = User.objects.get(email=person.email)
        engine.rebuild(member, raise_days=21)
        for response in QuestionnaireResponse.objects.filter(member=member, completed_at__gte=since):
            engine.on_response(response)
    count = Alert.objects.filter(member__email__in=[person.email for person in MEMBERS]).count()
    progress(f"early warning: detector state rebuilt, {count} alerts for the named members")
    return count


# The care team's own records: (staff e-mail, member e-mail, kind, days ago, text).
NOTES = (
    ("clinician@demo.example", "morgan@demo.example", "session", 9,
     "Fortnightly session. Sleeping about six hours; work stress up since the reorganisation. Agreed to keep "
     "the evening walk and to check in daily."),
    ("clinician@demo.example", "morgan@demo.example", "risk_review", 2,
     "Reviewed the safety plan together after a hard week. No thoughts of self-harm; sister is the first "
     "contact. Next session brought forward to Friday."),
    ("clinician@demo.example", "member@demo.example", "session", 12,
     "Step-down going well. Using the breathing exercise before meetings; wants to add a Saturday group."),
    ("casemanager@demo.example", "drew@demo.example", "phone", 1,
     "Tried to reach Drew after five quiet days: voicemail. Will try again tomorrow morning."),
)  # fmt: skip


def _team_records() -> None:
    """A few clinical notes and an outreach contact, so the member record's timeline has the team's side."""
    from alongside.care import notes, outreach
    from alongside.care.models import ClinicalNote

    for staff_email, member_email, kind, days_ago, text in NOTES:
        staff, member = User.objects.get(email=staff_email), User.objects.get(email=member_email)
        if not ClinicalNote.objects.filter(member=member, author=staff, kind=kind).exists():
            notes.write_note(
                by=staff, member=member, kind=kind, text=text, occurred_at=timezone.now() - timedelta(days=days_ago)
            )
    drew = User.objects.get(email=QUIET_MEMBER)
    case_manager = User.objects.get(email="casemanager@demo.example")
    if not drew.outreach_contacts.exists():
        outreach.record_contact(
            by=case_manager, member=drew, method="call", outcome="voicemail", next_step="Call again in the morning"
        )


# Members' names in discussions (nobody else sees who they are).
PSEUDONYMS = {
    "member@demo.example": "Blue Heron",
    "riley@demo.example": "Riverstone",
    "alex@demo.example": "Quiet Oak",
    "casey@demo.example": "Morning Lark",
    "drew@demo.example": "Northwind",
}


def _groups(organisation: Organisation) -> None:
    """An open hybrid weekly circle with five weeks behind it (attendance taken, RSVPs for the next one; Drew
    missed the last two), a closed online family group with a request waiting, a group thread with replies, a
    community thread, a post reported as spam in the moderators' queue, Jordan's peer-mentor profile and
    Alex's request for a mentor."""
    if Group.objects.filter(organisation=organisation).exists():
        return
    person = {p.email: User.objects.get(email=p.email) for p in (*STAFF, *MEMBERS)}
    facilitator = person["facilitator@demo.example"]
    for email, pseudonym in PSEUDONYMS.items():
        profiles.save_profile(person[email], organisation, pseudonym=pseudonym, accept_guidelines=True)
    for email in ("facilitator@demo.example", "moderator@demo.example", "peer@demo.example"):
        profiles.save_profile(person[email], organisation, pseudonym="", accept_guidelines=True)
    circle = membership.create_group(
        by=facilitator, organisation=organisation, name="Evening Recovery Circle",
        purpose="A weekly circle for people in the first year after treatment: check in, share what helped, "
        "and leave with one thing to try this week.", topic="Early recovery", access="open", capacity=12,
        format="hybrid", address="Riverside Recovery Collective, 40 River Street, community room",
        video_url="https://video.example/riverside/evening-circle",
    )  # fmt: skip
    in_circle = ("member@demo.example", "riley@demo.example", "alex@demo.example", "casey@demo.example",
                 "drew@demo.example")  # fmt: skip
    for email in in_circle:
        membership.join(person[email], circle)
    zone = ZoneInfo(organisation.time_zone)
    today = timezone.localdate(timezone=zone)
    thursday = today - timedelta(days=(today.weekday() - 3) % 7) - timedelta(weeks=5)
    weekly = meetings.schedule_meetings(
        by=facilitator, group=circle, title="Evening circle", time_zone=organisation.time_zone,
        start_date=thursday, start_time=time(18, 30), duration_minutes=90, rrule="FREQ=WEEKLY",
    )  # fmt: skip
    past = list(weekly.meetings.filter(end__lt=timezone.now()).order_by("start"))
    for number, meeting in enumerate(past):
        came = {person[email].pk for email in in_circle}
        if number >= len(past) - 2:
            came.discard(person["drew@demo.example"].pk)
        if number == len(past) - 3:
            came.discard(person["casey@demo.example"].pk)
        meetings.record_attendance(meeting, by=facilitator, attended=came)
    upcoming = weekly.meetings.filter(start__gt=timezone.now()).order_by("start").first()
    if upcoming:
        for email, answer in (("member@demo.example", "going"), ("riley@demo.example", "going"),
                              ("alex@demo.example", "maybe"), ("casey@demo.example", "not_going")):  # fmt: skip
            meetings.rsvp(person[email], upcoming, answer)
    family = membership.create_group(
        by=facilitator, organisation=organisation, name="Family and Friends Night",
        purpose="For people in recovery and the people close to them: how to talk about relapse warning signs "
        "at home.", topic="Family", access="closed", capacity=20, format="online",
        video_url="https://video.example/riverside/family-night",
    )  # fmt: skip
    membership.join(person["member@demo.example"], family)  # closed: Sam asked and Priya said yes; Morgan waits
    membership.decide(family.memberships.get(person=person["member@demo.example"]), by=facilitator, approve=True)
    membership.join(person["morgan@demo.example"], family)
    meetings.schedule_meetings(
        by=facilitator, group=family, title="Family night", time_zone=organisation.time_zone,
        start_date=today + timedelta(days=6), start_time=time(19, 0), duration_minutes=60,
        rrule="FREQ=MONTHLY;BYDAY=1TU",
    )  # fmt: skip
    opening = discussion.start_thread(
        person["member@demo.example"], organisation, circle, title="First month after discharge",
        body="The evenings are the hardest part for me. What do you do between 6 and 9?",
    )  # fmt: skip
    discussion.reply(
        person["riley@demo.example"],
        opening.thread,
        body="I cook something slow and call my sister. Having a plan for the evening helps.",
    )
    discussion.reply(
        facilitator,
        opening.thread,
        body="Thank you for bringing this, Blue Heron. Let's make evenings our topic on Thursday.",
    )
    discussion.toggle_reaction(person["alex@demo.example"], opening, "me_too")
    discussion.toggle_reaction(person["casey@demo.example"], opening, "strength")
    sleep = discussion.start_thread(
        person["alex@demo.example"], organisation, None, title="What helps you sleep?",
        body="Week three without anything to help me sleep. Tips welcome:\n\n- no screens after 10\n- tea",
    )  # fmt: skip
    advert = discussion.reply(
        person["drew@demo.example"], sleep.thread, body="Selling my old bike, message me if you want it."
    )
    moderation.report(person["casey@demo.example"], advert, reason="spam", note="Not about sleep.")
    mentoring.save_mentor_profile(
        person["peer@demo.example"], organisation, languages="English, Spanish",
        lived_experience=["alcohol", "anxiety", "grief"], availability=["weekday_evenings", "weekends"],
        gender="", capacity=5, accepting=True, about="Eight years in recovery; I like walks and long talks.",
    )  # fmt: skip
    mentoring.ask_for_mentor(
        person["alex@demo.example"], organisation, languages="English", lived_experience=["alcohol"],
        availability=["weekday_evenings"], note="Someone who has been through early sobriety.",
    )  # fmt: skip


def _goals() -> None:
    """Sam's goals: a course application with a milestone reached (celebrated) and progress notes, encouraged by
    Jordan (peer mentor) and Dr. Chen; a walking goal achieved; a goal Dr. Chen suggested, waiting for Sam."""
    sam = User.objects.get(email="member@demo.example")
    if Goal.objects.filter(member=sam).exists():
        return
    clinician = User.objects.get(email="clinician@demo.example")
    peer = User.objects.get(email="peer@demo.example")
    today = goals.local_today(sam)
    course = goals.create_goal(
        sam, title="Apply to the evening carpentry course", area="education",
        why="I liked building things before, and evenings are when I need something to do.",
        target="Application sent", target_date=today + timedelta(days=60),
        milestones=[("Visit the college open day", today + timedelta(days=14)),
                    ("Ask Luis about a fee waiver", today + timedelta(days=21)),
                    ("Send the application", today + timedelta(days=50))],
    )  # fmt: skip
    goals.achieve_milestone(course.milestones.order_by("position").first(), by=sam)
    goals.log_progress(course, note="Went to the open day with my sister. The workshop smelled great.", percent=30,
                       by=sam)  # fmt: skip
    goals.encourage(by=peer, goal=course, kind="comment", text="That open day took courage. Proud of you!")
    goals.encourage(by=clinician, goal=course, kind="cheer")
    walking = goals.create_goal(
        sam, title="Walk by the river three times a week", area="health", target="Three walks a week for a month",
        milestones=[("First week of three walks", None)],
    )  # fmt: skip
    goals.achieve_milestone(walking.milestones.get(), by=sam)
    goals.set_status(walking, "achieved", by=sam)
    goals.suggest_goal(
        by=clinician, member=sam, title="Reconnect with one old friend", area="relationships",
        why="You mentioned missing Theo.",
    )  # fmt: skip
    # The therapy session Sam attended went through the goals and the plan on its agenda.
    attended = Occurrence.objects.filter(
        appointment__member=sam, appointment__kind="therapy", status="attended"
    ).first()
    if attended is not None:
        review.record_review(attended, by=clinician, note="Open day first; ask Luis about the fee waiver next.")
        checklist.tick(attended, "plan_review", by=clinician)


def _organisation(name: str, country: str, time_zone: str, slug: str) -> Organisation:
    existing = Organisation.objects.filter(slug=slug).first()
    return existing or actions.create_organisation(name, country, time_zone=time_zone, slug=slug)


def _person(person: DemoPerson) -> tuple[User, bool]:
    existing = User.objects.filter(email__iexact=person.email).first()
    if existing:
        return existing, False
    return actions.create_person(person.email, person.display_name, DEMO_PASSWORD, time_zone=person.time_zone), True


def banner(seeded: Seeded, *, base_url: str | None) -> str:
    lines = ["", "Alongside demo" + (f" is running at {base_url}/" if base_url else " data is ready."), ""]
    if base_url:
        lines += [
            f"  Sign in:       {base_url}/accounts/signin/",
            f"  Crisis page:   {base_url}/crisis/  (public, no sign-in)",
            f"  Health:        {base_url}/healthz",
            f"  Platform admin {base_url}/admin/",
            "",
        ]
    if seeded.synthetic:
        lines.append(f"{seeded.synthetic} members have six months of synthetic check-ins and questionnaires.")
        if seeded.alerts:
            lines.append(
                f"The early-warning engine raised {seeded.alerts} alerts from their recent weeks "
                "(Dr. Chen sees hers at /team/alerts/)."
            )
        lines.append("")
    lines.append(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for person in seeded.people:
        if person.roles:
            where = ", ".join(str(role.label) for role in person.roles) + f" ({person.organisation})"
        else:
            where = "platform operator (admin site)"
        secret = seeded.totp_secrets.get(person.email, "")
        lines.append(f"  {person.email:<28} {person.display_name:<18} {where:<36} {secret}".rstrip())
    lines += [
        "",
        "Staff sign in with a second factor. Add the key shown after their role to an authenticator app, or",
        "print the current code with:  .venv/bin/alongside totp EMAIL   (works in demo mode only)",
    ]
    if base_url:
        lines += ["", "Press Ctrl-C to stop."]
    return "\n".join(lines)
