"""The member's data rights: the archive holds all of their data and nobody else's; deleting the account leaves no
trace of them in any table (the kept clinical records and their tombstone until the purge, then nothing);
withdrawing consent stops all sharing at once."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import models
from django.urls import reverse
from django.utils import timezone

from alongside.accounts import tokens
from alongside.accounts.models import Role
from alongside.audit.models import AuditAction, AuditEvent
from alongside.care import notes, outreach, policy, safety
from alongside.care.models import Category, ClinicalNote, ConsentGrant
from alongside.groups import discussion
from alongside.groups.models import Thread
from alongside.interop import fhir, rights
from alongside.interop.models import AccountDeletion, ImportRun
from alongside.monitoring import checkins, journal, questionnaires
from alongside.notify import outbox
from alongside.notify.models import Notification, NotificationKind
from alongside.programs import actions as program_actions
from alongside.testing.factories import PASSWORD, make_member, make_staff, signed_in_client, support
from tests.matrix_parts.common import NOTE_TEXT, SUBJECT_NAME
from tests.matrix_parts.goals_core import GOAL_WHY
from tests.matrix_parts.goals_growth import ACHIEVED_GOAL
from tests.matrix_parts.groups_discussion import GROUP_POST_TEXT, GROUP_THREAD_TITLE
from tests.test_authorization_matrix import build_world


@pytest.fixture
def world(db):
    """The matrix's world, built for each test: data in every app."""
    return build_world()


User = get_user_model()
pytestmark = pytest.mark.django_db

PSEUDONYM = "Matrix Heron"
MEMBER_TEXTS = [
    "A private note about a hard day",
    "Shared with my clinician only",
    "Nobody else reads this",
    GOAL_WHY,
    ACHIEVED_GOAL,
    GROUP_POST_TEXT,
    GROUP_THREAD_TITLE,
    "Offline check-in note 5521",
    "hana-diary-8812.csv",
    "My reply to a friend 8123",
]
KEPT_TEXTS = [NOTE_TEXT, "Outreach note: left a voicemail 3390"]


def _archive(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


# --- Download everything ------------------------------------------------------------------------------------


def test_the_archive_holds_the_members_data_decrypted_and_nobody_elses(member, staff, relationship, organisation):
    other = make_member(organisation, display_name="Someone Else")
    checkins.record(other, mood=2, note="Other member's note 1177")
    checkins.record(member, mood=4, note="My own note 2288")
    journal.write(member, text="Journal line 3399")
    questionnaires.submit(member, "phq9", {item: 1 for item in range(1, 10)})
    notes.write_note(by=staff, member=member, kind="session", text="Clinician's own note 4400")

    response = signed_in_client(member).get(reverse("interop:download"))

    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    files = _archive(b"".join(response.streaming_content) if response.streaming else response.content)
    assert set(files) >= {"README.txt", "alongside.json", "checkins.csv", "questionnaires.csv", "journal.csv"}
    data = json.loads(files["alongside.json"])
    assert [row["note"] for row in data["checkins"]] == ["My own note 2288"]
    assert data["journal"][0]["text"] == "Journal line 3399"
    assert data["questionnaire_responses"][0]["total"] == 9
    assert data["profile"]["person"]["email"] == member.email and "password" not in data["profile"]["person"]
    everything = b"".join(files.values()).decode("utf-8", "replace")
    assert "Other member's note 1177" not in everything and "Someone Else" not in everything
    assert "Clinician's own note 4400" not in everything
    rows = list(csv.DictReader(io.StringIO(files["checkins.csv"].decode("utf-8-sig"))))
    assert rows[0]["note"] == "My own note 2288" and rows[0]["mood"] == "4"
    assert "Journal line 3399" in files["journal.csv"].decode("utf-8-sig")
    assert "phq9" in files["questionnaires.csv"].decode("utf-8-sig")
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT, actor=member, member=member).count() == 1


def test_only_the_member_downloads_their_own_archive(member, staff, relationship, outsider, client):
    assert signed_in_client(staff).get(reverse("interop:download")).status_code == 403
    assert signed_in_client(staff).get(reverse("interop:my_data")).status_code == 403
    assert client.get(reverse("interop:download")).status_code == 302
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()


def test_the_api_answers_the_same_archive_to_the_member_alone(member, staff, relationship):
    checkins.record(member, mood=3, note="Via the API 6611")
    _token, raw = tokens.issue(member, name="phone", scopes=["read"])
    response = signed_in_client(member).get("/api/v1/me/export", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert "Via the API 6611" in _archive(response.content)["checkins.csv"].decode("utf-8-sig")
    forbidden = signed_in_client(staff).get("/api/v1/me/export")
    assert forbidden.status_code == 403 and forbidden.json()["detail"]
    from django.test import Client

    assert Client().get("/api/v1/me/export").status_code == 401


def test_the_archive_holds_the_fhir_bundle_of_the_record(member):
    questionnaires.submit(member, "phq9", {item: 1 for item in range(1, 10)})
    checkins.record(member, mood=6)
    buffer = io.BytesIO()
    names = rights.write_archive(member, buffer)
    files = _archive(buffer.getvalue())
    assert "fhir-bundle.json" in names and "fhir-bundle.json" in files["README.txt"].decode()
    bundle = json.loads(files["fhir-bundle.json"])
    assert bundle["resourceType"] == "Bundle"
    resources = [entry["resource"] for entry in bundle["entry"]]
    for resource in resources:
        fhir.validate(resource)
    totals = [
        r for r in resources if r["resourceType"] == "Observation" and r["code"]["coding"][0]["code"] == "44261-6"
    ]
    assert [total["valueInteger"] for total in totals] == [9]
    assert any(r["resourceType"] == "Patient" for r in resources)


# --- Withdraw consent ---------------------------------------------------------------------------------------


def test_withdrawing_consent_stops_all_sharing_and_tells_the_team(member, staff, relationship, organisation):
    mentor = make_staff(organisation, Role.PEER_MENTOR)
    support(mentor, member, organisation, Role.PEER_MENTOR)
    checkins.record(member, mood=2)
    assert policy.can(staff, "view", member, Category.CHECKINS)

    response = signed_in_client(member).post(reverse("interop:withdraw_consent"))

    assert response.status_code == 302
    assert not ConsentGrant.objects.filter(relationship__member=member).exists()
    assert not member.supported_by.filter(safety_alerts=True).exists()
    for supporter in (staff, mentor):
        assert not policy.can(supporter, "view", member, Category.CHECKINS)
        assert not policy.can(supporter, "view", member, Category.ENGAGEMENT)
        told = Notification.objects.get(recipient=supporter, kind=NotificationKind.CARE_TEAM)
        assert member.display_name in told.title
    assert AuditEvent.objects.filter(action=AuditAction.CONSENT_CHANGE, member=member).count() == 3
    # Nothing left to withdraw: nothing changes, nobody is told again.
    signed_in_client(member).post(reverse("interop:withdraw_consent"))
    assert Notification.objects.filter(kind=NotificationKind.CARE_TEAM).count() == 2


# --- Delete my account --------------------------------------------------------------------------------------


def test_a_wrong_password_deletes_nothing(member, relationship):
    checkins.record(member, mood=3, note="Still here 7001")
    response = signed_in_client(member).post(reverse("interop:delete_account"), {"password": "not it", "confirm": "on"})
    assert response.status_code == 400
    assert "That is not your password." in response.content.decode()
    member.refresh_from_db()
    assert member.is_active and member.checkins.count() == 1
    assert not AuditEvent.objects.filter(action=AuditAction.DELETE).exists()


def test_staff_cannot_delete_themselves_here(staff):
    with pytest.raises(Exception, match="admin"):
        rights.delete_account(staff, password=PASSWORD)
    staff.refresh_from_db()
    assert staff.is_active


def _set_retention(w, days: int) -> None:
    settings = dict(w.program.settings, clinical_record_retention_days=days)
    program_actions.update_program(
        by=w.people["org_admin"], program=w.program, name=w.program.name, description=w.program.description,
        phases=list(w.program.phases.values_list("name", flat=True)), settings=settings,
    )  # fmt: skip


def _add_more(w) -> None:
    """What the matrix's world lacks: an API check-in (its idempotency record), a struggling press (a safety
    event, an alert, the team's notifications), outreach, an import, a failed sign-in, a notification that names
    the member, an open session."""
    subject, clinician = w.people["member"], w.people["clinician"]
    _token, raw = tokens.issue(subject, name="second phone", scopes=["read", "write"])
    client = signed_in_client(subject)
    answer = client.post(
        "/api/v1/checkins", {"mood": 2, "note": "Offline check-in note 5521"}, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_IDEMPOTENCY_KEY="rights-1",
    )  # fmt: skip
    assert answer.status_code == 201, answer.content
    safety.record_struggling(subject, ask_team=True)
    outreach.record_contact(by=clinician, member=subject, method="call", outcome="voicemail", note=KEPT_TEXTS[1])
    community = w.extra["community_post"]
    w.extra["reply"] = discussion.reply(subject, community.thread, body="My reply to a friend 8123")
    ImportRun.objects.create(member=subject, source="daylio", file_name="hana-diary-8812.csv", file_sha256="0" * 64)
    outbox.notify(
        clinician, kind=NotificationKind.CARE_TEAM, title=f"Please reach out to {SUBJECT_NAME}", source_key="t:1"
    )
    from django.test import Client

    Client().post(reverse("accounts:login"), {"username": subject.email, "password": "wrong"})
    assert AccessAttempt.objects.filter(username=subject.email).exists()
    assert Session.objects.exists()


def _text_columns(model) -> list[models.Field]:
    return [
        field
        for field in model._meta.concrete_fields
        if not field.is_relation
        and (
            isinstance(field, models.CharField | models.TextField | models.JSONField)
            or "Encrypted" in type(field).__name__
        )
    ]


def scan(person_pk: int, texts: list[str]) -> tuple[list[str], list[str]]:
    """Every table: rows whose text or JSON columns (decrypted) contain any of `texts`, and rows with a foreign key
    to the person. Returns ("table.column #pk" for texts, "table.column #pk" for keys)."""
    lowered = [text.lower() for text in texts]
    found_text, found_keys = [], []
    for model in apps.get_models(include_auto_created=True):
        table = model._meta.db_table
        columns = _text_columns(model)
        keys = [f for f in model._meta.concrete_fields if f.is_relation and f.related_model is User]
        if model is User:
            found_keys += [
                f"{table}.id #{pk}" for pk in model._base_manager.filter(pk=person_pk).values_list("pk", flat=True)
            ]
        for field in keys:
            rows = model._base_manager.filter(**{field.attname: person_pk}).values_list("pk", flat=True)
            found_keys += [f"{table}.{field.column} #{pk}" for pk in rows]
        if not columns:
            continue
        for row in model._base_manager.only("pk", *(f.name for f in columns)).iterator():
            for field in columns:
                value = getattr(row, field.attname)
                value = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
                if value and any(text in value.lower() for text in lowered):
                    found_text.append(f"{table}.{field.column} #{row.pk}")
    for session in Session.objects.all():
        if str(session.get_decoded().get("_auth_user_id")) == str(person_pk):
            found_keys.append(f"django_session #{session.session_key}")
    return found_text, found_keys


def _personal(subject) -> list[str]:
    return [SUBJECT_NAME, subject.email, PSEUDONYM, *MEMBER_TEXTS]


def test_deleting_with_nothing_to_keep_leaves_no_trace_in_any_table(world):
    w = world
    subject, clinician = w.people["member"], w.people["clinician"]
    _add_more(w)
    personal, pk = _personal(subject), subject.pk
    before_text, before_keys = scan(pk, personal + KEPT_TEXTS)
    assert len(before_text) > 15 and len(before_keys) > 40  # the scan sees the data it must then not find

    response = signed_in_client(subject).post(
        reverse("interop:delete_account"), {"password": PASSWORD, "confirm": "on"}
    )

    assert response.status_code == 200 and "Your account is deleted" in response.content.decode()
    assert scan(pk, personal + KEPT_TEXTS) == ([], [])
    # Others' threads stay readable: the member's reply reads "[deleted]"; a thread only they wrote in is gone.
    reply, community = w.extra["reply"], w.extra["community_post"]
    reply.refresh_from_db()
    assert reply.body_html == rights.DELETED_POST and reply.author.email == rights.GHOST_EMAIL
    assert list(community.thread.posts.order_by("pk")) == [community, reply]
    assert not Thread.objects.filter(pk=w.extra["group_post"].thread_id).exists()
    # The care team is told, with the account's number and nothing else.
    told = Notification.objects.get(recipient=clinician, source_key=f"account-deleted:{pk}:{clinician.pk}")
    assert told.title == f"Deleted member #{pk} deleted their account" and "alert" not in told.body.lower()
    deletions = AuditEvent.objects.filter(action=AuditAction.DELETE)
    assert deletions.count() == 1 and deletions.get().detail == f"account {pk} deleted; clinical records kept 0 days"
    assert AuditEvent.objects.filter(member_label=f"Deleted member #{pk}").exists()


def test_kept_clinical_records_stay_with_a_tombstone_until_the_purge(world):
    w = world
    subject, clinician = w.people["member"], w.people["clinician"]
    _add_more(w)
    _set_retention(w, 30)
    personal, pk = _personal(subject), subject.pk

    deletion = rights.delete_account(subject, password=PASSWORD)

    assert deletion.retention_days == 30
    found_text, found_keys = scan(pk, personal)
    assert found_text == []
    kept_tables = {
        model._meta.db_table for model in (*rights.RETAINED_MODELS, *rights.ACCESS_MODELS, AccountDeletion, AuditEvent)
    }
    assert {key.split(".")[0] for key in found_keys} <= kept_tables | {"accounts_user"}
    tombstone = User.objects.get(pk=pk)
    assert tombstone.display_name == f"Deleted member #{pk}" and tombstone.email.endswith("@invalid")
    assert not tombstone.is_active and not tombstone.has_usable_password()
    assert not signed_in_client(clinician).get(reverse("web:member_record", args=[pk])).status_code >= 500
    # The care team still reads the kept records; the clinical note text is still there, decrypted.
    assert [note.text for note in notes.notes_for(clinician, tombstone)] == [NOTE_TEXT]
    assert ClinicalNote.objects.filter(member=tombstone).exists()
    assert subject.safety_events.exists() and subject.questionnaire_responses.exists()

    assert rights.purge_due(now=timezone.now() + timedelta(days=29)) == 0
    assert rights.purge_due(now=timezone.now() + timedelta(days=31)) == 1

    assert scan(pk, personal + KEPT_TEXTS) == ([], [])
    assert rights.purge_due(now=timezone.now() + timedelta(days=31)) == 0


def test_a_program_sets_how_long_clinical_records_are_kept(organisation):
    admin = make_staff(organisation, Role.ORG_ADMIN)
    program = program_actions.create_program(by=admin, organisation=organisation, name="Clinic")
    assert program.config.clinical_record_retention_days == 0
    url = reverse("programs:edit", args=[organisation.slug, program.pk])
    client = signed_in_client(admin)
    form = client.get(url).context["form"]
    data = {key: value for key, value in form.initial.items() if value is not None}
    bad = client.post(url, data | {"clinical_record_retention_days": "-1"})
    assert bad.status_code == 400 and bad.context["form"].errors["clinical_record_retention_days"]
    assert client.post(url, data | {"clinical_record_retention_days": "2555"}).status_code == 302
    program.refresh_from_db()
    assert program.settings["clinical_record_retention_days"] == 2555
    member = make_member(organisation)
    program_actions.enrol(by=admin, program=program, member=member)
    assert rights.retention_days_for(member) == 2555
    page = signed_in_client(member).get(reverse("interop:my_data")).content.decode()
    assert "for 2555 days after an account is deleted" in page and "clinical notes" in page


def test_the_worker_purges_deleted_accounts():
    from alongside.core.worker import PERIODIC_JOBS

    assert "interop: purge deleted accounts whose retention ended" in PERIODIC_JOBS
