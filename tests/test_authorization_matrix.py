"""Every URL pattern and every API operation, against every kind of person, with the expected answer.

The routes are collected from the URL resolver and the OpenAPI schema: a new route without a row here fails
`test_every_route_is_in_the_matrix`. The fixture creates the data that could leak (a member with a care team,
consent, audit entries and a pending invitation) before asserting who may reach it; and any response to a
person who may not see the member must not contain the member's name.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import time, timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from alongside.accounts import invitations, tokens
from alongside.accounts.models import Role
from alongside.api import api
from alongside.care import actions as care_actions
from alongside.care import notes, plan, policy, resources
from alongside.monitoring import checkins, journal, questionnaires
from alongside.notify import dispatch, outbox
from alongside.notify.models import Delivery, DeliveryStatus, InboxMessage, NotificationKind
from alongside.programs import actions as program_actions
from alongside.schedule import feeds, series
from alongside.schedule import routines as schedule_routines
from alongside.signals import alerts
from alongside.testing.factories import make_member, make_organisation, make_staff, signed_in_client, support
from tests import matrix_parts
from tests.matrix_parts.common import (
    LIBRARY_KEEPERS,
    MAY_SEE_SUBJECT,
    MEMBERS,
    NOTE_KEEPERS,
    NOTE_TEXT,
    PERSONAS,
    SIGNED_IN,
    STAFF,
    SUBJECT_NAME,
    SUPPORTERS,
    Route,
    expect,
    only,
)


@dataclass
class World:
    people: dict = field(default_factory=dict)
    organisation: object = None
    other_organisation: object = None
    relationship: object = None
    invitation: object = None
    program: object = None
    token: object = None
    response: object = None
    entry: object = None
    occurrence: object = None
    resource: object = None
    assignment: object = None
    routine_item: object = None
    inbox_message: object = None
    dead_delivery: object = None
    alert: object = None
    # What the parts in tests/matrix_parts/ add (a group, its meeting, a thread, a post, a mentor request …).
    extra: dict = field(default_factory=dict)


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker) -> World:
    """The world, built once for the module inside a transaction that is rolled back at its end. Each test runs
    in a savepoint of its own inside it (pytest-django's), so what one test changes the next never sees."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


@pytest.fixture
def world(shared_world, db) -> World:
    # A copy, so that a model instance one test changes in memory is not the next test's.
    return copy.deepcopy(shared_world)


def build_world() -> World:
    w = World()
    w.organisation = make_organisation("Matrix Program")
    w.other_organisation = make_organisation("Other Program", country="GB", time_zone="Europe/London")
    org, other = w.organisation, w.other_organisation
    p = w.people
    p["member"] = make_member(org, display_name=SUBJECT_NAME)
    p["other_member"] = make_member(org, display_name="Other Member")
    p["clinician"] = make_staff(org, Role.CLINICIAN, display_name="Clinician With Consent")
    p["case_manager"] = make_staff(org, Role.CASE_MANAGER)
    p["peer_mentor"] = make_staff(org, Role.PEER_MENTOR)
    p["facilitator"] = make_staff(org, Role.FACILITATOR)
    p["clinician_no_consent"] = make_staff(org, Role.CLINICIAN)
    p["ended_clinician"] = make_staff(org, Role.CLINICIAN)
    p["org_admin"] = make_staff(org, Role.ORG_ADMIN)
    p["moderator"] = make_staff(org, Role.MODERATOR)
    p["other_org_clinician"] = make_staff(other, Role.CLINICIAN)
    p["other_org_admin"] = make_staff(other, Role.ORG_ADMIN)
    subject = p["member"]
    w.relationship = support(p["clinician"], subject, org, Role.CLINICIAN)
    for role in ("case_manager", "peer_mentor", "facilitator"):
        support(p[role], subject, org, Role(role))
    bare = support(p["clinician_no_consent"], subject, org, Role.CLINICIAN)
    care_actions.set_sharing(member=subject, relationship=bare, categories=[], safety_alerts=False)
    ended = support(p["ended_clinician"], subject, org, Role.CLINICIAN)
    care_actions.end_relationship(by=subject, relationship=ended)
    # Someone else's view of the member is in the audit log; an invitation is pending.
    support(p["other_org_clinician"], make_member(other), other, Role.CLINICIAN)
    w.token, _raw = tokens.issue(subject, name="phone", scopes=["read", "write"])
    checkins.record(subject, mood=3, note="A private note about a hard day")
    care_actions.set_sharing(
        member=subject,
        relationship=w.relationship,
        categories=[*w.relationship.shared_categories, "journal"],
        safety_alerts=True,
    )
    w.entry = journal.write(subject, text="Shared with my clinician only", shared_with=[w.relationship.pk])
    journal.write(subject, text="Nobody else reads this")
    w.occurrence = series.schedule_appointment(
        by=p["clinician"], member=subject, staff=p["clinician"], kind="therapy", title="Weekly therapy",
        location_kind="online", video_url="https://video.example/matrix", time_zone="America/New_York",
        start_date=timezone.localdate() + timedelta(days=10), start_time=time(18, 0), duration_minutes=50,
        rrule="FREQ=WEEKLY;COUNT=4",
    ).occurrences.first()  # fmt: skip
    # The member has a calendar feed link (its URL is secret; the matrix asks with a wrong one).
    feeds.issue_feed(subject)
    plan.save_plan(
        subject, by=subject, content={"coping_strategies": ["A walk"], "reason_for_living": "Sky"}, based_on=0
    )
    w.response, _event = questionnaires.submit(subject, "phq9", {item: 2 for item in range(1, 9)} | {9: 0})
    w.program = program_actions.create_program(by=p["org_admin"], organisation=org, name="Aftercare")
    program_actions.enrol(by=p["org_admin"], program=w.program, member=subject)
    program_actions.create_program(by=p["other_org_admin"], organisation=other, name="Other aftercare")
    w.invitation = invitations.invite(
        by=p["clinician"], organisation=org, email="pending@example.org", role=Role.MEMBER
    ).invitation
    # A resource from the library is on the member's plan.
    w.resource = resources.save_resource(
        by=p["org_admin"], organisation=org, title="Sleep and recovery", url="https://example.org/sleep"
    )
    w.assignment = resources.assign(by=p["clinician"], member=subject, resource=w.resource)
    # An item of the member's daily routine, ticked off today.
    w.routine_item = schedule_routines.add_item(subject, title="Morning walk", schedule="daily")
    schedule_routines.check(subject, w.routine_item, schedule_routines.local_today(subject))
    # A message in the member's inbox, and an e-mail to them that was given up on.
    notification = outbox.notify(
        subject, kind=NotificationKind.NUDGE, title="Check in?", source_key="matrix:nudge", urgent=True
    )
    dispatch.run("matrix-worker")
    w.inbox_message = InboxMessage.objects.get(notification=notification)
    w.dead_delivery = notification.deliveries.get(channel="email")
    Delivery.objects.filter(pk=w.dead_delivery.pk).update(status=DeliveryStatus.DEAD, last_error="SMTP: refused")
    # A clinician's session note.
    notes.write_note(by=p["clinician"], member=subject, kind="session", text=NOTE_TEXT)
    # An early-warning alert from check-in data: for supporters the member shares check-ins with.
    w.alert = alerts.raise_firing(
        subject, detector="baseline", rule="cusum:distress", category="checkins", severity="watch",
        day=timezone.localdate(), evidence={"statistic": 9.1, "limit": 8.0}, source_key="matrix:alert",
    ).alert  # fmt: skip
    for part in matrix_parts.PARTS:
        part.seed(w)
    return w


def client_as(world: World, persona: str) -> Client:
    return Client() if persona == "anonymous" else signed_in_client(world.people[persona])


def subject_pk(w: World) -> int:
    return w.people["member"].pk


WEB_ROUTES: dict[str, Route] = {
    "core:healthz": Route("get", lambda w: reverse("core:healthz"), expect(200)),
    "core:ping": Route("get", lambda w: reverse("core:ping"), expect(200)),
    # The test client comes from 127.0.0.1, which may scrape; other addresses and the token are tested in
    # alongside/core/tests/test_metrics.py. Nobody's name may appear in it, which run_route checks.
    "core:metrics": Route("get", lambda w: reverse("core:metrics"), expect(200)),
    "api_docs": Route("get", lambda w: reverse("api_docs"), expect("redirect")),
    "web:home": Route("get", lambda w: reverse("web:home"), expect("redirect", anonymous="login")),
    "web:member_home": Route("get", lambda w: reverse("web:member_home"), only(MEMBERS, otherwise=403)),
    "web:staff_home": Route("get", lambda w: reverse("web:staff_home"), only(STAFF, otherwise=403)),
    # Everyone on staff has a caseload (perhaps empty); only the member's supporters' lists name them.
    "web:caseload": Route("get", lambda w: reverse("web:caseload"), only(STAFF, otherwise=403)),
    # Aggregates only, for the organisation's admins.
    "web:outcomes": Route("get", lambda w: reverse("web:outcomes", args=[w.organisation.slug]), only({"org_admin"})),
    "web:crisis": Route("get", lambda w: reverse("web:crisis"), expect(200)),
    "web:service_worker": Route("get", lambda w: reverse("web:service_worker"), expect(200)),
    "accounts:login": Route("get", lambda w: reverse("accounts:login"), expect("redirect", anonymous=200)),
    "accounts:logout": Route("post", lambda w: reverse("accounts:logout"), expect("login")),
    "accounts:sign_out_everywhere": Route("post", lambda w: reverse("accounts:sign_out_everywhere"), expect("login")),
    # Staff are already past their second factor here; members may choose to set one up.
    "accounts:two_factor": Route(
        "get", lambda w: reverse("accounts:two_factor"), only(MEMBERS, otherwise="redirect") | {"anonymous": "login"}
    ),
    "accounts:time_zone": Route("get", lambda w: reverse("accounts:time_zone"), expect(200, anonymous="login")),
    "accounts:security": Route("get", lambda w: reverse("accounts:security"), expect(200, anonymous="login")),
    "accounts:contact_details": Route(
        "get", lambda w: reverse("accounts:contact_details"), expect(200, anonymous="login")
    ),
    "accounts:new_recovery_codes": Route(
        "post", lambda w: reverse("accounts:new_recovery_codes"), only(STAFF, otherwise="redirect")
    ),
    "accounts:new_token": Route(
        "post",
        lambda w: reverse("accounts:new_token"),
        expect(200, anonymous="login"),
        data={"name": "x", "scopes": ["read"]},
    ),
    "accounts:revoke_token": Route(
        "post",
        lambda w: reverse("accounts:revoke_token", args=[w.token.pk]),
        only({"member"}, outcome="redirect"),
    ),
    "accounts:password_reset": Route("get", lambda w: reverse("accounts:password_reset"), expect(200)),
    "accounts:password_reset_sent": Route("get", lambda w: reverse("accounts:password_reset_sent"), expect(200)),
    "accounts:password_reset_confirm": Route(
        "get", lambda w: reverse("accounts:password_reset_confirm", args=["MQ", "bad-token"]), expect(200)
    ),
    "accounts:password_reset_done": Route("get", lambda w: reverse("accounts:password_reset_done"), expect(200)),
    "accounts:accept_invitation": Route(
        "get", lambda w: reverse("accounts:accept_invitation", args=["not-a-real-token"]), expect(404)
    ),
    "monitoring:checkin": Route("get", lambda w: reverse("monitoring:checkin"), only(MEMBERS, otherwise=403)),
    "monitoring:history": Route("get", lambda w: reverse("monitoring:history"), only(MEMBERS, otherwise=403)),
    "monitoring:history_chart": Route(
        "get", lambda w: reverse("monitoring:history_chart", args=["heatmap"]), only(MEMBERS, otherwise=403)
    ),
    "monitoring:journal": Route("get", lambda w: reverse("monitoring:journal"), only(MEMBERS, otherwise=403)),
    "monitoring:journal_new": Route("get", lambda w: reverse("monitoring:journal_new"), only(MEMBERS, otherwise=403)),
    "monitoring:journal_edit": Route(
        "get",
        lambda w: reverse("monitoring:journal_edit", args=[w.entry.pk]),
        only({"member"}, otherwise=403) | {"other_member": 404},
    ),
    "monitoring:journal_delete": Route(
        "post",
        lambda w: reverse("monitoring:journal_delete", args=[w.entry.pk]),
        only({"member"}, outcome="redirect", otherwise=403) | {"other_member": 404},
    ),
    "monitoring:program_instruments": Route(
        "get",
        lambda w: reverse("monitoring:program_instruments", args=[w.organisation.slug, w.program.pk]),
        only({"org_admin"}),
    ),
    "monitoring:questionnaires": Route(
        "get", lambda w: reverse("monitoring:questionnaires"), only(MEMBERS, otherwise=403)
    ),
    "monitoring:answer_questionnaire": Route(
        "get", lambda w: reverse("monitoring:answer_questionnaire", args=["phq9"]), only(MEMBERS, otherwise=403)
    ),
    # Someone else's result is not found, not forbidden.
    "monitoring:questionnaire_result": Route(
        "get",
        lambda w: reverse("monitoring:questionnaire_result", args=[w.response.pk]),
        only({"member"}, otherwise=403) | {"other_member": 404},
    ),
    "care:sharing": Route("get", lambda w: reverse("care:sharing"), only(MEMBERS, otherwise=403)),
    "care:update_sharing": Route(
        "post",
        lambda w: reverse("care:update_sharing", args=[w.relationship.pk]),
        only({"member"}, outcome="redirect", otherwise=403) | {"other_member": 404},
        data=lambda w: {f"r{w.relationship.pk}-categories": ["goals"]},
    ),
    "care:access_log": Route("get", lambda w: reverse("care:access_log"), only(MEMBERS, otherwise=403)),
    "care:network": Route("get", lambda w: reverse("care:network"), only(MEMBERS, otherwise=403)),
    # Recording a transition takes a clinician's or case manager's relationship and the member's plan consent.
    "care:record_transition": Route(
        "get",
        lambda w: reverse("care:record_transition", args=[subject_pk(w)]),
        only({"clinician", "case_manager"}),
    ),
    "web:member_record": Route(
        "get",
        lambda w: reverse("web:member_record", args=[subject_pk(w)]),
        only({*SUPPORTERS, "org_admin"}),
    ),
    # The charts of the record: the profile opens the page; each chart follows the member's sharing.
    "web:member_charts": Route(
        "get",
        lambda w: reverse("web:member_charts", args=[subject_pk(w)]),
        only({*SUPPORTERS, "org_admin"}),
    ),
    # One chart follows the category it shows: the check-in calendar is engagement, which every supporter with
    # the default consent sees.
    "web:member_chart": Route(
        "get",
        lambda w: reverse("web:member_chart", args=[subject_pk(w), "heatmap"]),
        only(set(SUPPORTERS) - {"clinician_no_consent"}),
    ),
    "schedule:mine": Route("get", lambda w: reverse("schedule:mine"), only(MEMBERS, otherwise=403)),
    "schedule:new_mine": Route("get", lambda w: reverse("schedule:new_mine"), only(MEMBERS, otherwise=403)),
    "schedule:staff": Route("get", lambda w: reverse("schedule:staff"), only(STAFF, otherwise=403)),
    # Clinicians and case managers schedule for members who share their appointments with them.
    "schedule:new_for_member": Route(
        "get",
        lambda w: reverse("schedule:new_for_member", args=[subject_pk(w)]),
        only({"clinician", "case_manager"}),
    ),
    "schedule:occurrence": Route(
        "get",
        lambda w: reverse("schedule:occurrence", args=[w.occurrence.pk]),
        only({"member", "clinician", "case_manager"}),
    ),
    "schedule:confirm": Route(
        "post", lambda w: reverse("schedule:confirm", args=[w.occurrence.pk]), only({"member"}, outcome="redirect")
    ),
    "schedule:cancel": Route(
        "post",
        lambda w: reverse("schedule:cancel", args=[w.occurrence.pk]),
        only({"member", "clinician", "case_manager"}, outcome="redirect"),
    ),
    "schedule:request_reschedule": Route(
        "post",
        lambda w: reverse("schedule:request_reschedule", args=[w.occurrence.pk]),
        only({"member"}, outcome="redirect"),
        data={"reason": "Work shift"},
    ),
    "schedule:move": Route(
        "post",
        lambda w: reverse("schedule:move", args=[w.occurrence.pk]),
        only({"clinician", "case_manager"}, outcome="redirect"),
        data=lambda w: {"new_date": (timezone.localdate() + timedelta(days=12)).isoformat(), "new_time": "09:00"},
    ),
    # Before the appointment has started, attendance is refused with the reason on the page.
    "schedule:attendance": Route(
        "post",
        lambda w: reverse("schedule:attendance", args=[w.occurrence.pk]),
        only({"clinician", "case_manager"}),
        data={"attended": "0"},
    ),
    # The staff member running the appointment (or a co-author of the member's appointments) ticks its agenda.
    "schedule:tick": Route(
        "post",
        lambda w: reverse("schedule:tick", args=[w.occurrence.pk, "plan_review"]),
        only({"clinician", "case_manager"}, outcome="redirect"),
        data={"done": "1"},
    ),
    # Any live supporter keeps the outreach log, within what the member shares about engagement.
    "care:member_outreach": Route(
        "get",
        lambda w: reverse("care:member_outreach", args=[subject_pk(w)]),
        only({"clinician", "case_manager", "peer_mentor", "facilitator"}),
    ),
    # Clinical notes are the care team's record: the member's clinicians and case managers keep them.
    "care:member_notes": Route(
        "get",
        lambda w: reverse("care:member_notes", args=[subject_pk(w)]),
        only(NOTE_KEEPERS),
    ),
    "care:my_outreach": Route("get", lambda w: reverse("care:my_outreach"), only(STAFF, otherwise=403)),
    "notify:webhooks": Route(
        "get", lambda w: reverse("notify:webhooks", args=[w.organisation.slug]), only({"org_admin"})
    ),
    "notify:webhook_off": Route(
        "post", lambda w: reverse("notify:webhook_off", args=[w.organisation.slug, 999999]), only(set(), otherwise=404)
    ),
    # Everyone gets crisis lines here (members also their plan's steps); nobody is asked to sign in first.
    "web:struggling": Route("get", lambda w: reverse("web:struggling"), expect(200)),
    **{
        f"plan:{name}": Route("get", lambda w, name=name, args=args: reverse(f"plan:{name}", args=args), expected)
        for name, args, expected in (
            ("mine", [], only(MEMBERS, otherwise=403)),
            ("edit_mine", [], only(MEMBERS, otherwise=403)),
            ("history_mine", [], only(MEMBERS, otherwise=403)),
            # The other member has no plan, so no version 1 and nothing to compare.
            ("version_mine", [1], only({"member"}, otherwise=403) | {"other_member": 404}),
            ("diff_mine", [], only({"member"}, otherwise=403) | {"other_member": 404}),
            ("print_mine", [], only(MEMBERS, otherwise=403)),
            ("card_mine", [], only(MEMBERS, otherwise=403)),
        )
    },
    "plan:sign_mine": Route(
        "post",
        lambda w: reverse("plan:sign_mine"),
        only(MEMBERS, outcome="redirect", otherwise=403),
        data={"version": "1"},
    ),
    "plan:review_mine": Route(
        "post",
        lambda w: reverse("plan:review_mine"),
        only(MEMBERS, outcome="redirect", otherwise=403),
        data={"review_due": "2027-01-15"},
    ),
    # A supporter reads the plan only while the member shares it with them; only clinicians and case
    # managers co-author it. The member reaches their own plan through /me/plan/.
    **{
        f"plan:{name}": Route(
            "get",
            lambda w, name=name, extra=extra: reverse(f"plan:{name}", args=[subject_pk(w), *extra]),
            only({"clinician", "case_manager"}),
        )
        for name, extra in (
            ("view", []),
            ("edit", []),
            ("history", []),
            ("version", [1]),
            ("diff", []),
            ("print", []),
            ("card", []),
        )
    },
    "plan:sign": Route(
        "post",
        lambda w: reverse("plan:sign", args=[subject_pk(w)]),
        only({"clinician", "case_manager"}, outcome="redirect"),
        data={"version": "1"},
    ),
    "plan:review": Route(
        "post",
        lambda w: reverse("plan:review", args=[subject_pk(w)]),
        only({"clinician", "case_manager"}, outcome="redirect"),
        data={"review_due": "2027-01-15"},
    ),
    "care:org_members": Route(
        "get", lambda w: reverse("care:org_members", args=[w.organisation.slug]), only({"org_admin"})
    ),
    "care:end_supporter": Route(
        "post",
        lambda w: reverse("care:end_supporter", args=[w.organisation.slug, w.relationship.pk]),
        only({"org_admin"}, outcome="redirect"),
    ),
    "org:audit_log": Route("get", lambda w: reverse("org:audit_log", args=[w.organisation.slug]), only({"org_admin"})),
    "org:settings": Route("get", lambda w: reverse("org:settings", args=[w.organisation.slug]), only({"org_admin"})),
    "programs:list": Route("get", lambda w: reverse("programs:list", args=[w.organisation.slug]), only({"org_admin"})),
    "programs:edit": Route(
        "get", lambda w: reverse("programs:edit", args=[w.organisation.slug, w.program.pk]), only({"org_admin"})
    ),
    "programs:archive": Route(
        "post",
        lambda w: reverse("programs:archive", args=[w.organisation.slug, w.program.pk]),
        only({"org_admin"}, outcome="redirect"),
    ),
    # Refused for everyone: the program has members. The org admin is told so on the program list.
    "programs:delete": Route(
        "post",
        lambda w: reverse("programs:delete", args=[w.organisation.slug, w.program.pk]),
        only({"org_admin"}, outcome="redirect"),
    ),
    "care:roster_entry": Route(
        "get", lambda w: reverse("care:roster_entry", args=[w.organisation.slug, subject_pk(w)]), only({"org_admin"})
    ),
    "care:staff_list": Route(
        "get", lambda w: reverse("care:staff_list", args=[w.organisation.slug]), only({"org_admin"})
    ),
    "care:staff_manage": Route(
        "get",
        lambda w: reverse("care:staff_manage", args=[w.organisation.slug, w.people["facilitator"].pk]),
        only({"org_admin"}),
    ),
    "care:invite": Route(
        "get",
        lambda w: reverse("care:invite", args=[w.organisation.slug]),
        only({"org_admin", "clinician", "case_manager", "clinician_no_consent", "ended_clinician"}),
    ),
    "care:withdraw_invitation": Route(
        "post",
        lambda w: reverse("care:withdraw_invitation", args=[w.organisation.slug, w.invitation.pk]),
        only({"org_admin", "clinician"}, outcome="redirect"),
    ),
    # The resources library is kept by the organisation's admins, clinicians and case managers.
    "care:resource_library": Route(
        "get", lambda w: reverse("care:resource_library", args=[w.organisation.slug]), only(LIBRARY_KEEPERS)
    ),
    "care:resource_new": Route(
        "get", lambda w: reverse("care:resource_new", args=[w.organisation.slug]), only(LIBRARY_KEEPERS)
    ),
    "care:resource_edit": Route(
        "get",
        lambda w: reverse("care:resource_edit", args=[w.organisation.slug, w.resource.pk]),
        only(LIBRARY_KEEPERS),
    ),
    "care:resource_archive": Route(
        "post",
        lambda w: reverse("care:resource_archive", args=[w.organisation.slug, w.resource.pk]),
        only(LIBRARY_KEEPERS, outcome="redirect"),
    ),
    "care:my_resources": Route("get", lambda w: reverse("care:my_resources"), only(MEMBERS, otherwise=403)),
    "care:my_resource": Route(
        "get",
        lambda w: reverse("care:my_resource", args=[w.assignment.pk]),
        only({"member"}, otherwise=403) | {"other_member": 404},
    ),
    "care:resource_mark_read": Route(
        "post",
        lambda w: reverse("care:resource_mark_read", args=[w.assignment.pk]),
        only({"member"}, outcome="redirect", otherwise=403) | {"other_member": 404},
    ),
    # Changing the plan's resources takes the member's plan consent and a co-authoring role.
    "care:resource_assign": Route(
        "post",
        lambda w: reverse("care:resource_assign", args=[subject_pk(w)]),
        only({"clinician", "case_manager"}, outcome="redirect"),
        data=lambda w: {"resource": w.resource.pk},
    ),
    "care:resource_unassign": Route(
        "post",
        lambda w: reverse("care:resource_unassign", args=[subject_pk(w), w.assignment.pk]),
        only({"clinician", "case_manager"}, outcome="redirect"),
    ),
    # The daily routine is the member's own; another member's item is not found.
    "schedule:routine": Route("get", lambda w: reverse("schedule:routine"), only(MEMBERS, otherwise=403)),
    "schedule:routine_new": Route("get", lambda w: reverse("schedule:routine_new"), only(MEMBERS, otherwise=403)),
    "schedule:routine_from_plan": Route(
        "post", lambda w: reverse("schedule:routine_from_plan"), only(MEMBERS, outcome="redirect", otherwise=403)
    ),
    "schedule:routine_edit": Route(
        "get",
        lambda w: reverse("schedule:routine_edit", args=[w.routine_item.pk]),
        only({"member"}, otherwise=403) | {"other_member": 404},
    ),
    **{
        f"schedule:{name}": Route(
            "post",
            lambda w, name=name: reverse(f"schedule:{name}", args=[w.routine_item.pk]),
            only({"member"}, outcome="redirect", otherwise=403) | {"other_member": 404},
        )
        for name in ("routine_archive", "routine_check", "routine_uncheck")
    },
    # Calendar feeds: a wrong token finds nobody, whoever asks; the settings are each person's own; one
    # appointment as .ics for the people who may see the appointment.
    "schedule:feed": Route("get", lambda w: reverse("schedule:feed", args=["alf_not-a-real-token"]), expect(404)),
    "schedule:calendar_settings": Route(
        "get", lambda w: reverse("schedule:calendar_settings"), expect(200, anonymous="login")
    ),
    "schedule:calendar_new_link": Route(
        "post", lambda w: reverse("schedule:calendar_new_link"), expect(200, anonymous="login")
    ),
    "schedule:calendar_revoke": Route(
        "post", lambda w: reverse("schedule:calendar_revoke"), expect("redirect", anonymous="login")
    ),
    "schedule:occurrence_ics": Route(
        "get",
        lambda w: reverse("schedule:occurrence_ics", args=[w.occurrence.pk]),
        only({"member", "clinician", "case_manager"}),
    ),
    # Notifications: each person's own inbox and choices; another person's message is not found. The
    # deliveries given up on are for the organisation's admins.
    # Alerts: the care team's pages show only alerts whose data the member shares with them.
    "signals:alerts": Route("get", lambda w: reverse("signals:alerts"), only(STAFF, otherwise=403)),
    "signals:on_call": Route("get", lambda w: reverse("signals:on_call"), only(STAFF, otherwise=403)),
    "signals:alert": Route(
        "get", lambda w: reverse("signals:alert", args=[w.alert.pk]), only({"clinician", "case_manager"})
    ),
    "signals:acknowledge": Route(
        "post",
        lambda w: reverse("signals:acknowledge", args=[w.alert.pk]),
        only({"clinician", "case_manager"}, outcome="redirect"),
    ),
    "signals:resolve": Route(
        "post",
        lambda w: reverse("signals:resolve", args=[w.alert.pk]),
        only({"clinician", "case_manager"}, outcome="redirect"),
        data={"outcome": "reached"},
    ),
    "signals:my_alerts": Route("get", lambda w: reverse("signals:my_alerts"), only(MEMBERS, otherwise=403)),
    "notify:inbox": Route("get", lambda w: reverse("notify:inbox"), expect(200, anonymous="login")),
    "notify:unread_count": Route("get", lambda w: reverse("notify:unread_count"), expect(200, anonymous="login")),
    "notify:read_all": Route("post", lambda w: reverse("notify:read_all"), expect("redirect", anonymous="login")),
    "notify:read": Route(
        "post", lambda w: reverse("notify:read", args=[w.inbox_message.pk]), only({"member"}, outcome="redirect")
    ),
    "notify:preferences": Route("get", lambda w: reverse("notify:preferences"), expect(200, anonymous="login")),
    "notify:dead_letters": Route(
        "get", lambda w: reverse("notify:dead_letters", args=[w.organisation.slug]), only({"org_admin"})
    ),
    "notify:retry": Route(
        "post",
        lambda w: reverse("notify:retry", args=[w.organisation.slug, w.dead_delivery.pk]),
        only({"org_admin"}, outcome="redirect"),
    ),
}

API_ROUTES: dict[tuple[str, str], Route] = {
    # Only the member has a calendar link; its URL is shown only when made (POST), which replaces it.
    ("get", "/api/v1/calendar/feed"): Route("get", "/api/v1/calendar/feed", only({"member"}, anonymous=401)),
    ("post", "/api/v1/calendar/feed"): Route("post", "/api/v1/calendar/feed", expect(201, anonymous=401)),
    ("delete", "/api/v1/calendar/feed"): Route("delete", "/api/v1/calendar/feed", expect(204, anonymous=401)),
    ("get", "/api/v1/me"): Route("get", "/api/v1/me", expect(200, anonymous=401)),
    ("post", "/api/v1/tokens"): Route(
        "post", "/api/v1/tokens", expect(401), data=lambda w: {"email": w.people["member"].email, "password": "wrong"}
    ),
    ("get", "/api/v1/tokens"): Route("get", "/api/v1/tokens", expect(200, anonymous=401)),
    ("delete", "/api/v1/tokens/{token_id}"): Route(
        "delete", lambda w: f"/api/v1/tokens/{w.token.pk}", only({"member"}, outcome=204, anonymous=401)
    ),
    ("post", "/api/v1/checkins"): Route(
        "post",
        "/api/v1/checkins",
        only(MEMBERS, outcome=201, otherwise=403, anonymous=401),
        data={"mood": 6},
        headers={"Idempotency-Key": "matrix-key-1"},
    ),
    ("get", "/api/v1/checkins"): Route("get", "/api/v1/checkins", expect(200, anonymous=401)),
    ("get", "/api/v1/members/{member_id}/notes"): Route(
        "get", lambda w: f"/api/v1/members/{subject_pk(w)}/notes", only(NOTE_KEEPERS, anonymous=401)
    ),
    ("post", "/api/v1/members/{member_id}/notes"): Route(
        "post",
        lambda w: f"/api/v1/members/{subject_pk(w)}/notes",
        only(NOTE_KEEPERS, outcome=201, anonymous=401),
        data={"kind": "phone", "text": "Called; doing better"},
        headers={"Idempotency-Key": "matrix-note-1"},
    ),
    ("post", "/api/v1/questionnaire-responses"): Route(
        "post",
        "/api/v1/questionnaire-responses",
        only(MEMBERS, outcome=201, otherwise=403, anonymous=401),
        data={"instrument": "who5", "answers": {"1": 3, "2": 3, "3": 3, "4": 3, "5": 3}},
        headers={"Idempotency-Key": "matrix-q-1"},
    ),
    ("get", "/api/v1/questionnaire-responses"): Route(
        "get", "/api/v1/questionnaire-responses", expect(200, anonymous=401)
    ),
    ("get", "/api/v1/questionnaires/due"): Route(
        "get", "/api/v1/questionnaires/due", only(MEMBERS, otherwise=403, anonymous=401)
    ),
    ("post", "/api/v1/journal"): Route(
        "post",
        "/api/v1/journal",
        only(MEMBERS, outcome=201, otherwise=403, anonymous=401),
        data={"text": "An entry from the matrix"},
        headers={"Idempotency-Key": "matrix-j-1"},
    ),
    ("get", "/api/v1/journal"): Route("get", "/api/v1/journal", expect(200, anonymous=401)),
    ("get", "/api/v1/tags"): Route("get", "/api/v1/tags", only(MEMBERS, otherwise=403, anonymous=401)),
    ("get", "/api/v1/me/sharing"): Route("get", "/api/v1/me/sharing", only(MEMBERS, otherwise=403, anonymous=401)),
    ("put", "/api/v1/me/sharing/{relationship_id}"): Route(
        "put",
        lambda w: f"/api/v1/me/sharing/{w.relationship.pk}",
        only({"member"}, otherwise=403, anonymous=401) | {"other_member": 404},
        data={"categories": ["goals"], "safety_alerts": True},
    ),
    ("get", "/api/v1/me/access"): Route("get", "/api/v1/me/access", only(MEMBERS, otherwise=403, anonymous=401)),
    ("get", "/api/v1/plan"): Route("get", "/api/v1/plan", only(MEMBERS, otherwise=403, anonymous=401)),
    # The other member's plan is still at version 0, so their save from version 1 is stale.
    ("put", "/api/v1/plan"): Route(
        "put",
        "/api/v1/plan",
        only({"member"}, otherwise=403, anonymous=401) | {"other_member": 409},
        data={"content": {"post_crisis": "Rest"}, "version": 1},
    ),
    ("post", "/api/v1/struggling"): Route(
        "post",
        "/api/v1/struggling",
        only(MEMBERS, outcome=201, otherwise=403, anonymous=401),
        data={"ask_team": False},
        headers={"Idempotency-Key": "matrix-s-1"},
    ),
    ("get", "/api/v1/alerts"): Route("get", "/api/v1/alerts", expect(200, anonymous=401)),
    ("get", "/api/v1/alerts/{alert_id}"): Route(
        "get", lambda w: f"/api/v1/alerts/{w.alert.pk}", only({"member", "clinician", "case_manager"}, anonymous=401)
    ),
    ("post", "/api/v1/alerts/{alert_id}/acknowledge"): Route(
        "post", lambda w: f"/api/v1/alerts/{w.alert.pk}/acknowledge", only({"clinician", "case_manager"}, anonymous=401)
    ),
    ("post", "/api/v1/alerts/{alert_id}/resolve"): Route(
        "post",
        lambda w: f"/api/v1/alerts/{w.alert.pk}/resolve",
        only({"clinician", "case_manager"}, anonymous=401),
        data={"outcome": "reached"},
    ),
    ("get", "/api/v1/members"): Route("get", "/api/v1/members", expect(200, anonymous=401)),
    ("get", "/api/v1/members/{member_id}"): Route(
        "get", lambda w: f"/api/v1/members/{subject_pk(w)}", only({*SUPPORTERS, "org_admin"}, anonymous=401)
    ),
}

for _part in matrix_parts.PARTS:
    WEB_ROUTES.update(_part.web_routes())
    API_ROUTES.update(_part.api_routes())

# Served by libraries and checked elsewhere: Django's admin (platform operators), the API's own docs.
NOT_IN_MATRIX_PREFIXES = ("admin:", "api:")


def all_url_names() -> set[str]:
    names = set()

    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern):
                # An unnamed route could not be listed here, so every route must have a name.
                assert pattern.name or namespace.startswith(NOT_IN_MATRIX_PREFIXES), f"unnamed route {pattern}"
                names.add(f"{namespace}{pattern.name}")

    walk(get_resolver().url_patterns)
    return {name for name in names if not name.startswith(NOT_IN_MATRIX_PREFIXES)}


def all_api_operations() -> set[tuple[str, str]]:
    schema = api.get_openapi_schema()
    return {(method, path) for path, operations in schema["paths"].items() for method in operations}


def test_every_route_is_in_the_matrix():
    assert all_url_names() == set(WEB_ROUTES), "add each new URL pattern to WEB_ROUTES with its expectations"
    assert all_api_operations() == set(API_ROUTES), "add each new API operation to API_ROUTES"


def outcome_of(response) -> object:
    if response.status_code in (301, 302):
        return "login" if response["Location"].startswith(reverse("accounts:login")) else "redirect"
    return response.status_code


def run_route(world: World, route: Route, *, json_body: bool) -> list[str]:
    problems = []
    for persona in PERSONAS:
        # Each person's request runs in a savepoint that is rolled back, so one person's write (ending a
        # relationship, withdrawing the invitation) does not change what the next person finds.
        with transaction.atomic():
            client = client_as(world, persona)
            url = route.url(world) if callable(route.url) else route.url
            data = route.data(world) if callable(route.data) else route.data
            if json_body:
                response = getattr(client, route.method)(
                    url, json.dumps(data) if data else None, content_type="application/json", headers=route.headers
                )
            else:
                response = getattr(client, route.method)(url, data or {})
            got, wanted = outcome_of(response), route.expected[persona]
            if got != wanted:
                problems.append(f"{persona}: expected {wanted}, got {got}")
            body = response.content.decode(errors="replace")
            if persona not in MAY_SEE_SUBJECT and SUBJECT_NAME in body:
                problems.append(f"{persona}: response names the member they may not see")
            if persona not in NOTE_KEEPERS and NOTE_TEXT in body:
                problems.append(f"{persona}: response shows a clinical note")
            for secret, insiders in world.extra.get("secrets", {}).items():
                if persona not in insiders and secret in body:
                    problems.append(f"{persona}: response shows {secret!r}, which only {sorted(insiders)} may see")
            transaction.set_rollback(True)
    return problems


@pytest.mark.parametrize("name", sorted(WEB_ROUTES))
def test_web_route(world, name):
    problems = run_route(world, WEB_ROUTES[name], json_body=False)
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("operation", sorted(API_ROUTES), ids=lambda op: f"{op[0].upper()} {op[1]}")
def test_api_operation(world, operation):
    problems = run_route(world, API_ROUTES[operation], json_body=True)
    assert not problems, f"{operation}:\n  " + "\n  ".join(problems)


def test_consent_decides_what_the_record_says_is_shared(world):
    url = f"/api/v1/members/{world.people['member'].pk}"
    shared = {
        persona: client_as(world, persona).get(url).json()["shared_with_you"]
        for persona in ("clinician", "case_manager", "peer_mentor", "clinician_no_consent", "org_admin")
    }
    assert "checkins" in shared["case_manager"] and "journal" not in shared["case_manager"]  # the defaults
    assert "journal" in shared["clinician"]  # the member chose to share it
    assert shared["peer_mentor"] == ["engagement", "goals"]
    assert shared["clinician_no_consent"] == []
    assert shared["org_admin"] == []


def test_member_lists_only_show_visible_members(world):
    for persona in SIGNED_IN:
        names = [row["display_name"] for row in client_as(world, persona).get("/api/v1/members").json()]
        assert (SUBJECT_NAME in names) == (persona in MAY_SEE_SUBJECT - {"member"}), persona


def test_staff_reads_are_audited_and_visible_to_the_member(world):
    client_as(world, "clinician").get(reverse("web:member_record", args=[world.people["member"].pk]))
    client_as(world, "peer_mentor").get(f"/api/v1/members/{world.people['member'].pk}")
    rows = client_as(world, "member").get("/api/v1/me/access").json()
    readers = {(row["who"], row["action"], row["category"]) for row in rows if row["action"] == "view"}
    assert ("Clinician With Consent", "view", "profile") in readers
    assert any(who == world.people["peer_mentor"].display_name for who, _a, _c in readers)
    assert client_as(world, "other_member").get("/api/v1/me/access").json() == []


def test_the_policy_agrees_with_the_pages(world):
    subject = world.people["member"]
    for persona in SIGNED_IN - {"member"}:
        may_open = policy.can(world.people[persona], "view", subject, "profile")
        assert may_open == (persona in MAY_SEE_SUBJECT), persona


def test_a_members_checkins_follow_their_consent(world):
    """The data that could leak: a check-in with a private note. Only supporters the member shares check-ins
    with may read it; the member's journal-free defaults keep it from peer mentors and facilitators."""
    url = f"/api/v1/checkins?member_id={world.people['member'].pk}"
    may_read = {"member", "clinician", "case_manager"}
    for persona in SIGNED_IN:
        response = client_as(world, persona).get(url)
        if persona in may_read:
            assert response.status_code == 200, persona
            assert response.json()[0]["note"] == "A private note about a hard day"
        else:
            assert response.status_code == 404, persona
            assert "private note" not in response.content.decode()


def test_a_members_questionnaire_results_follow_their_consent(world):
    url = f"/api/v1/questionnaire-responses?member_id={world.people['member'].pk}"
    may_read = {"member", "clinician", "case_manager"}
    for persona in SIGNED_IN:
        response = client_as(world, persona).get(url)
        if persona in may_read:
            assert response.json()[0]["total"] == 16, persona
        else:
            assert response.status_code == 404, persona


def test_journal_entries_reach_only_the_chosen_supporter(world):
    url = f"/api/v1/journal?member_id={world.people['member'].pk}"
    for persona in SIGNED_IN - {"member"}:
        response = client_as(world, persona).get(url)
        body = response.content.decode()
        assert "Nobody else reads this" not in body, persona
        if persona == "clinician":
            assert [entry["text"] for entry in response.json()] == ["Shared with my clinician only"]
        else:
            assert response.status_code == 404 and "Shared with my clinician" not in body, persona


# The world is shared by the module's tests: a change one test makes must be gone for the next (in file order).
def test_the_shared_world_can_be_changed_by_one_test(world):
    from alongside.monitoring.models import JournalEntry

    JournalEntry.objects.filter(member=world.people["member"]).delete()
    world.people["member"].display_name = "Changed in memory"
    assert not JournalEntry.objects.filter(member=world.people["member"]).exists()


def test_and_the_next_test_sees_the_world_as_it_was_built(world):
    from alongside.monitoring.models import JournalEntry

    assert JournalEntry.objects.filter(member=world.people["member"]).count() == 2
    assert world.people["member"].display_name == SUBJECT_NAME
