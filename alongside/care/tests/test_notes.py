"""Clinical notes: kept by the member's clinicians and case managers within one organisation, encrypted at rest,
audited when read or written, never edited (a correction is a new note), and nowhere else to be seen."""

import json
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from alongside.accounts.models import OrgRole, Role
from alongside.audit.models import AuditAction, AuditEvent
from alongside.care import notes, policy
from alongside.care.models import ClinicalNote
from alongside.testing.factories import make_organisation, make_staff, signed_in_client, support

TEXT = "Talked about the <b>anniversary</b>; sleep is worse again"


@pytest.fixture
def team(member, organisation):
    """The member's clinician and case manager, a peer mentor, and the organisation's admin."""
    people = {
        "clinician": make_staff(organisation, Role.CLINICIAN, display_name="Dr Notes"),
        "case_manager": make_staff(organisation, Role.CASE_MANAGER),
        "peer_mentor": make_staff(organisation, Role.PEER_MENTOR),
        "org_admin": make_staff(organisation, Role.ORG_ADMIN),
    }
    for role in ("clinician", "case_manager", "peer_mentor"):
        support(people[role], member, organisation, Role(role))
    return people


def test_a_clinician_writes_a_note_that_the_case_manager_reads(member, team):
    client = signed_in_client(team["clinician"])
    url = reverse("care:member_notes", args=[member.pk])
    response = client.post(url, {"kind": "session", "text": TEXT, "day": "", "time": ""})
    assert response.status_code == 302
    note = ClinicalNote.objects.get(member=member)
    assert (note.author, note.kind, note.text) == (team["clinician"], "session", TEXT)
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM care_clinicalnote WHERE id = %s", [note.pk])
        assert "anniversary" not in cursor.fetchone()[0]
    assert AuditEvent.objects.filter(
        actor=team["clinician"], member=member, action=AuditAction.CHANGE, category=policy.NOTES
    ).exists()
    page = signed_in_client(team["case_manager"]).get(url).content.decode()
    assert "&lt;b&gt;anniversary&lt;/b&gt;" in page and "Dr Notes" in page
    read = AuditEvent.objects.get(actor=team["case_manager"], member=member, action=AuditAction.VIEW)
    assert read.category == policy.NOTES
    # The member sees in their access log that their notes were read.
    log = signed_in_client(member).get(reverse("care:access_log")).content.decode()
    assert "Clinical notes" in log


def test_nobody_else_reads_or_writes_notes(member, team, organisation, outsider):
    notes.write_note(by=team["clinician"], member=member, kind="risk_review", text=TEXT)
    url = reverse("care:member_notes", args=[member.pk])
    for person in (team["peer_mentor"], team["org_admin"], member, outsider):
        response = signed_in_client(person).get(url)
        assert response.status_code == 404 and "anniversary" not in response.content.decode()
        assert not notes.notes_for(person, member).exists()
        with pytest.raises(PermissionDenied):
            notes.write_note(by=person, member=member, kind="session", text="x")
    # The member's clinician in another organisation keeps their own notes, and never sees these.
    other = make_organisation("Other Clinic")
    elsewhere = make_staff(other, Role.CLINICIAN)
    OrgRole.objects.create(user=member, organisation=other, role=Role.MEMBER)
    support(elsewhere, member, other, Role.CLINICIAN)
    theirs = notes.write_note(by=elsewhere, member=member, kind="phone", text="Called from the other clinic")
    assert theirs.organisation == other
    assert list(notes.notes_for(elsewhere, member)) == [theirs]
    assert theirs not in notes.notes_for(team["clinician"], member)
    # An ended relationship ends access at once.
    relationship = policy.live_relationships(team["case_manager"]).get(member=member)
    relationship.ended_at = timezone.now()
    relationship.save()
    assert signed_in_client(team["case_manager"]).get(url).status_code == 404


def test_bad_input_re_renders_with_messages_and_saves_nothing(member, team):
    client = signed_in_client(team["clinician"])
    url = reverse("care:member_notes", args=[member.pk])
    response = client.post(url, {"kind": "gossip", "text": "  "})
    page = response.content.decode()
    assert response.status_code == 200 and "Select a valid choice" in page
    tomorrow = (timezone.localdate() + timedelta(days=2)).isoformat()
    response = client.post(url, {"kind": "phone", "text": "Will call", "day": tomorrow, "time": "10:00"})
    assert response.status_code == 200 and "cannot be in the future" in response.content.decode()
    assert "Will call" in response.content.decode()  # what was typed is kept
    assert not ClinicalNote.objects.exists()


def test_a_correction_is_a_new_note_that_names_the_first(member, team):
    first = notes.write_note(by=team["clinician"], member=member, kind="session", text="Dose 20 mg")
    client = signed_in_client(team["case_manager"])
    url = reverse("care:member_notes", args=[member.pk])
    response = client.post(url, {"kind": "session", "text": "Dose was 10 mg, not 20", "corrects": str(first.pk)})
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.text == "Dose 20 mg"  # never edited
    correction = ClinicalNote.objects.exclude(pk=first.pk).get()
    assert correction.corrects == first and correction.organisation == first.organisation
    assert "Corrects the note of" in client.get(url).content.decode()
    with pytest.raises(ValidationError) as error:
        notes.write_note(by=team["clinician"], member=member, kind="session", text="x", corrects=10**9)
    assert "corrects" in error.value.message_dict


def test_the_api_writes_once_per_key_and_names_bad_fields(member, team):
    client = signed_in_client(team["clinician"])
    url = f"/api/v1/members/{member.pk}/notes"
    body = {"kind": "phone", "text": "Reached them; <script>x</script> safe", "occurred_at": timezone.now().isoformat()}
    first = client.post(url, json.dumps(body), content_type="application/json", headers={"Idempotency-Key": "n-1"})
    again = client.post(url, json.dumps(body), content_type="application/json", headers={"Idempotency-Key": "n-1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert ClinicalNote.objects.filter(member=member).count() == 1
    bad = client.post(
        url,
        json.dumps({"kind": "phone", "text": ""}),
        content_type="application/json",
        headers={"Idempotency-Key": "n-2"},
    )
    assert bad.status_code == 422 and bad.json()["fields"] == ["text"]
    naive = client.post(
        url,
        json.dumps({"kind": "phone", "text": "x", "occurred_at": "2026-01-01T10:00:00"}),
        content_type="application/json",
        headers={"Idempotency-Key": "n-3"},
    )
    assert naive.status_code == 422 and naive.json()["fields"] == ["occurred_at"]
    listed = signed_in_client(team["case_manager"]).get(url)
    assert listed.status_code == 200
    assert [note["text"] for note in listed.json()] == [body["text"]]
    assert signed_in_client(team["peer_mentor"]).get(url).status_code == 404
