import json

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from alongside.care import actions as care_actions
from alongside.monitoring import journal
from alongside.monitoring.models import JournalEntry
from alongside.testing.factories import make_member

pytestmark = pytest.mark.django_db


def share_journal(member, relationship):
    care_actions.set_sharing(
        member=member,
        relationship=relationship,
        categories=[*relationship.shared_categories, "journal"],
        safety_alerts=relationship.safety_alerts,
    )


def test_entries_are_encrypted_at_rest_and_private_by_default(member, staff, relationship, client_for):
    entry = journal.write(member, text="I drove past the old bar tonight", prompt="What is on my mind right now?")
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM monitoring_journalentry WHERE id = %s", [entry.pk])
        raw = cursor.fetchone()[0]
    assert "bar" not in raw and raw.startswith("gAAAA")
    page = client_for(staff).get(reverse("web:member_record", args=[member.pk])).content.decode()
    assert "old bar" not in page


def test_sharing_one_entry_needs_journal_consent(member, staff, relationship):
    with pytest.raises(ValidationError) as caught:
        journal.write(member, text="For Dr. Test", shared_with=[relationship.pk])
    assert "shared_with" in caught.value.message_dict
    assert not JournalEntry.objects.exists()
    share_journal(member, relationship)
    entry = journal.write(member, text="For Dr. Test", shared_with=[relationship.pk])
    assert list(journal.shared_with_person(staff, member)) == [entry]


def test_supporter_sees_only_shared_entries_and_loses_them_with_consent(client_for, member, staff, relationship):
    share_journal(member, relationship)
    journal.write(member, text="Just for me")
    journal.write(member, text="I want Dr. Test to read this", shared_with=[relationship.pk])
    page = client_for(staff).get(reverse("web:member_record", args=[member.pk])).content.decode()
    assert "I want Dr. Test to read this" in page and "Just for me" not in page
    care_actions.set_sharing(member=member, relationship=relationship, categories=["checkins"], safety_alerts=True)
    page = client_for(staff).get(reverse("web:member_record", args=[member.pk])).content.decode()
    assert "I want Dr. Test to read this" not in page


def test_search_finds_own_entries_only(member, organisation):
    journal.write(member, text="Walked by the river with my sister")
    journal.write(member, text="Rough night, could not sleep")
    other = make_member(organisation)
    journal.write(other, text="The river was loud")
    assert [e.text for e in journal.search(member, "RIVER sister")] == ["Walked by the river with my sister"]
    assert len(journal.search(member, "")) == 2


def test_only_the_author_edits_or_deletes(member, organisation, client_for):
    entry = journal.write(member, text="Mine")
    other = make_member(organisation)
    assert client_for(other).get(reverse("monitoring:journal_edit", args=[entry.pk])).status_code == 404
    assert client_for(other).post(reverse("monitoring:journal_delete", args=[entry.pk])).status_code == 404
    assert JournalEntry.objects.filter(pk=entry.pk).exists()
    assert client_for(member).post(reverse("monitoring:journal_delete", args=[entry.pk])).status_code == 302
    assert not JournalEntry.objects.filter(pk=entry.pk).exists()


def test_web_journal_escapes_and_keeps_input_on_error(client_for, member):
    client = client_for(member)
    empty = client.post(reverse("monitoring:journal_new"), {"text": "   ", "prompt": "What helped today?"})
    assert empty.status_code == 400 and "This field is required." in empty.content.decode()
    client.post(reverse("monitoring:journal_new"), {"text": "<script>alert(1)</script> and <b>bold</b>"})
    page = client.get(reverse("monitoring:journal")).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<b>bold</b>" not in page


def test_api_journal_is_idempotent_and_supporters_see_shared_entries(client_for, member, staff, relationship):
    share_journal(member, relationship)
    client = client_for(member)
    body = json.dumps({"text": "Sharing this one", "shared_with": [relationship.pk]})
    first = client.post("/api/v1/journal", body, content_type="application/json", headers={"Idempotency-Key": "j1"})
    again = client.post("/api/v1/journal", body, content_type="application/json", headers={"Idempotency-Key": "j1"})
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    assert JournalEntry.objects.count() == 1
    seen = client_for(staff).get(f"/api/v1/journal?member_id={member.pk}").json()
    assert [entry["text"] for entry in seen] == ["Sharing this one"]


def test_the_stored_answer_to_an_api_journal_entry_keeps_its_text_encrypted(client_for, member):
    client = client_for(member)
    body = json.dumps({"text": "The dream about the lake again"})
    first = client.post("/api/v1/journal", body, content_type="application/json", headers={"Idempotency-Key": "j1"})
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM core_idempotencyrecord")
        [(stored,)] = cursor.fetchall()
    assert "lake" not in str(stored)
    again = client.post("/api/v1/journal", body, content_type="application/json", headers={"Idempotency-Key": "j1"})
    assert again.json() == first.json() and again.json()["text"] == "The dream about the lake again"


def test_a_retry_whose_answer_was_sealed_with_a_removed_key_is_refused_and_creates_nothing(client_for, member):
    from cryptography.fernet import Fernet

    from alongside.core.models import IdempotencyRecord

    client = client_for(member)
    body = json.dumps({"text": "Written before the key changed"})
    first = client.post("/api/v1/journal", body, content_type="application/json", headers={"Idempotency-Key": "j1"})
    assert first.status_code == 201
    IdempotencyRecord.objects.update(body=Fernet(Fernet.generate_key()).encrypt(b"{}").decode())
    again = client.post("/api/v1/journal", body, content_type="application/json", headers={"Idempotency-Key": "j1"})
    assert again.status_code == 409 and "no longer kept" in again.json()["detail"]
    assert JournalEntry.objects.count() == 1


def test_sharing_with_an_id_no_row_could_have_names_the_field(member, relationship):
    # Larger than any 64-bit key: SQLite refuses such a number in a query rather than finding nothing.
    with pytest.raises(ValidationError) as caught:
        journal.write(member, text="For nobody", shared_with=[2**70, relationship.pk])
    assert "shared_with" in caught.value.message_dict
    assert not JournalEntry.objects.exists()
