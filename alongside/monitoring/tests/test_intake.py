"""An API check-in's one-statement write, on SQLite and on PostgreSQL.

These run outside a test transaction, as requests do, since inside one the store takes the transaction path."""

import json
import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, connections
from django.db.models import Max
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alongside.accounts import tokens
from alongside.core.idempotency import Receipt, opened
from alongside.core.models import IdempotencyRecord
from alongside.monitoring import checkins, intake
from alongside.monitoring.models import CheckIn, Tag, TagKind
from alongside.testing import factories

on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="the intake view is SQLite's")


def post(client, body, key):
    return client.post(
        "/api/v1/checkins", json.dumps(body), content_type="application/json", headers={"Idempotency-Key": key}
    )


def member_and_client(name="Ines Intake"):
    """A member, and a client that sends their personal access token, as a phone does."""
    organisation = factories.make_organisation(f"{name} Program")
    member = factories.make_member(organisation, display_name=name)
    checkins.use_warning_signs(member, ["Staying in bed"])
    _token, raw = tokens.issue(member, name="phone", scopes=["read", "write"])
    return member, Client(headers={"Authorization": f"Bearer {raw}"})


@on_sqlite
@pytest.mark.django_db
def test_the_intake_view_takes_every_column_of_a_check_in():
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA table_info({intake.VIEW})")
        view_columns = [row[1] for row in cursor.fetchall()]
    # A field added to CheckIn without making the view again would be left out of API check-ins. (The view
    # lists the columns in the order the migrations made them; the insert names them.)
    extra = len(intake.EXTRA_COLUMNS)
    assert sorted(view_columns[:-extra]) == sorted(intake.checkin_columns(CheckIn))
    assert view_columns[-extra:] == list(intake.EXTRA_COLUMNS)


@pytest.mark.django_db(transaction=True)
def test_an_api_check_in_stores_its_tags_and_its_answer_all_at_once():
    member, client = member_and_client()
    # A first check-in naming an activity also makes the member's list of activities.
    assert post(client, {"mood": 5, "activities": ["Walk"]}, "key-0").status_code == 201
    body = {
        "mood": 4,
        "anxiety": 6,
        "activities": ["Walk", "Music"],
        "warning_signs": ["Staying in bed"],
        "note": "Slept badly after the argument",
    }
    with CaptureQueriesContext(connection) as queries:
        response = post(client, body, "key-1")
    assert response.status_code == 201
    answer = response.json()
    checkin = CheckIn.objects.get(member=member, mood=4)
    assert answer["id"] == checkin.pk and answer["anxiety"] == 6
    assert sorted(tag.label for tag in checkin.tags.all()) == ["Music", "Staying in bed", "Walk"]
    record = IdempotencyRecord.objects.get(user=member, key="key-1")
    assert record.status == 201 and opened(record) == answer
    # The note is encrypted at rest in the stored answer as in the check-in itself.
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM core_idempotencyrecord WHERE id = %s", [record.pk])
        assert "argument" not in str(cursor.fetchone()[0])
    # One statement, and no transaction around it; the tags, named as the member's list spells them, are found
    # by that statement, not read before it.
    writes = [q["sql"] for q in queries.captured_queries if not q["sql"].lstrip().upper().startswith("SELECT")]
    one = f"INSERT INTO {intake.VIEW} " if connection.vendor == "sqlite" else "WITH named AS ("
    assert len(writes) == 1 and writes[0].startswith(one)
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    assert not [read for read in reads if 'FROM "monitoring_tag"' in read]
    # The new check-in's id comes back from the statement itself, not from reading the stored answer after it.
    assert not [read for read in reads if '"core_idempotencyrecord"' in read]


@on_sqlite
@pytest.mark.django_db(transaction=True)
def test_without_returning_the_new_id_is_read_from_the_stored_answer(monkeypatch):
    # SQLite before 3.35 has no RETURNING; Django still supports such versions.
    monkeypatch.setattr(connection.features, "can_return_columns_from_insert", False)
    member, client = member_and_client()
    assert post(client, {"mood": 5, "activities": ["Walk"]}, "key-0").status_code == 201
    with CaptureQueriesContext(connection) as queries:
        response = post(client, {"mood": 4, "activities": ["Walk"]}, "key-1")
    assert response.status_code == 201
    assert response.json()["id"] == CheckIn.objects.get(member=member, mood=4).pk
    assert "RETURNING" not in queries.captured_queries[-2]["sql"]
    assert '"core_idempotencyrecord"' in queries.captured_queries[-1]["sql"]


@on_sqlite
@pytest.mark.django_db(transaction=True)
def test_the_write_lock_is_free_as_soon_as_the_check_in_is_stored(tmp_path):
    import sqlite3

    member, client = member_and_client()
    assert post(client, {"mood": 5, "activities": ["Walk"]}, "key-0").status_code == 201
    checkin = checkins.prepare(member, mood=6, activities=["Walk"], find_tags=False)
    checkins.store(checkin, receipt=Receipt(member.pk, "key-1", "f" * 64), answer=lambda _c: (201, {"id": None}))
    assert checkin.pk == CheckIn.objects.get(member=member, mood=6).pk
    # Another connection can write at once: the statement that returned the id has finished and committed.
    other = sqlite3.connect(connection.settings_dict["NAME"], timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()


def test_the_statements_compare_tag_kinds_as_stored():
    assert (TagKind.ACTIVITY.value, TagKind.WARNING_SIGN.value) == (intake.ACTIVITY, intake.WARNING_SIGN)


@pytest.mark.django_db(transaction=True)
def test_labels_in_other_letters_find_their_tags_and_the_answer_spells_them_as_the_list_does():
    member, client = member_and_client()
    assert post(client, {"mood": 5, "activities": ["Walk"]}, "key-0").status_code == 201
    response = post(
        client, {"mood": 4, "activities": [" walk ", "MUSIC", "walk"], "warning_signs": ["staying in bed"]}, "key-1"
    )
    assert response.status_code == 201
    answer = response.json()
    assert answer["activities"] == ["Walk", "Music", "Walk"] and answer["warning_signs"] == ["Staying in bed"]
    checkin = CheckIn.objects.get(pk=answer["id"])
    assert sorted(tag.label for tag in checkin.tags.all()) == ["Music", "Staying in bed", "Walk"]
    assert opened(IdempotencyRecord.objects.get(user=member, key="key-1")) == answer


@pytest.mark.django_db(transaction=True)
def test_an_unknown_or_archived_tag_is_refused_naming_the_field_and_stores_nothing():
    member, client = member_and_client()
    assert post(client, {"mood": 5, "activities": ["Walk"]}, "key-0").status_code == 201
    Tag.objects.filter(member=member, label="Music").update(archived=True)
    for field, labels, unknown in (
        ("activities", ["Walk", "Skydiving"], "Skydiving"),
        ("activities", ["Music"], "Music"),
        ("warning_signs", ["Staying in bed", "Not eating"], "Not eating"),
    ):
        response = post(client, {"mood": 3, field: labels}, "key-1")
        assert response.status_code == 422, labels
        assert response.json()["fields"] == [field]
        assert f"Unknown tags: {unknown}." in response.json()["detail"]
    assert CheckIn.objects.filter(member=member).count() == 1
    assert CheckIn.tags.through.objects.filter(checkin__member=member).count() == 1
    assert list(IdempotencyRecord.objects.filter(user=member).values_list("key", flat=True)) == ["key-0"]
    # Nothing was stored under the key, so the corrected request may use it.
    assert post(client, {"mood": 3, "activities": ["Walk"]}, "key-1").status_code == 201


@pytest.mark.django_db(transaction=True)
def test_a_refusal_names_an_unknown_tag_beside_the_other_problems():
    member, client = member_and_client()
    assert post(client, {"mood": 5, "activities": ["Walk"]}, "key-0").status_code == 201
    later = (timezone.now() + timedelta(hours=2)).isoformat()
    response = post(client, {"mood": 3, "activities": ["Skydiving"], "recorded_at": later}, "key-1")
    assert response.status_code == 422
    assert response.json()["fields"] == ["activities", "recorded_at"]
    assert CheckIn.objects.filter(member=member).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_retry_after_its_tag_was_archived_still_gets_the_first_answer():
    member, client = member_and_client()
    first = post(client, {"mood": 5, "activities": ["Walk"]}, "key-1")
    Tag.objects.filter(member=member, label="Walk").update(archived=True)
    again = post(client, {"mood": 5, "activities": ["Walk"]}, "key-1")
    assert again.status_code == first.status_code == 201
    assert again.json() == first.json()
    assert CheckIn.objects.filter(member=member).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_retry_replays_the_answer_and_a_changed_body_under_the_key_is_refused():
    member, client = member_and_client()
    first = post(client, {"mood": 6, "activities": ["Walk"]}, "key-1")
    again = post(client, {"activities": ["Walk"], "mood": 6}, "key-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    conflict = post(client, {"mood": 2}, "key-1")
    assert conflict.status_code == 409
    assert CheckIn.objects.filter(member=member).count() == 1
    assert CheckIn.tags.through.objects.filter(checkin__member=member).count() == 1
    assert IdempotencyRecord.objects.filter(user=member).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_write_that_fails_part_way_stores_nothing():
    member, _client = member_and_client()
    checkin = checkins.prepare(member, mood=5, activities=["Walk"])
    checkin.tag_list[0].pk = Tag.objects.aggregate(Max("pk"))["pk__max"] + 1  # an id that is no tag's
    with pytest.raises(IntegrityError):
        checkins.store(checkin, receipt=Receipt(member.pk, "key-1", "f" * 64), answer=lambda _c: (201, {"id": None}))
    assert not CheckIn.objects.filter(member=member).exists()
    assert not IdempotencyRecord.objects.filter(user=member).exists()


@pytest.mark.django_db(transaction=True)
def test_check_ins_sent_at_once_each_get_their_own_id_tags_and_answer():
    people = [member_and_client(f"Member {n}") for n in range(2)]
    answers = []
    failures = []

    def send(member, client, thread):
        try:
            for n in range(5):
                mood = (thread * 5 + n) % 11
                activities = ["Walk"] if n % 2 else ["Music", "Cooking"]
                response = post(client, {"mood": mood, "activities": activities}, f"t{thread}-{n}")
                answers.append((member.pk, response.status_code, response.json()))
        except Exception as error:  # shown by the assertion below
            failures.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(*people[thread % 2], thread)) for thread in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(answers) == 30 and {status for _member, status, _answer in answers} == {201}
    for member_pk, _status, answer in answers:
        stored = CheckIn.objects.get(pk=answer["id"])
        assert stored.member_id == member_pk and stored.mood == answer["mood"]
        assert sorted(t.label for t in stored.tags.filter(kind=TagKind.ACTIVITY)) == sorted(answer["activities"])
    assert CheckIn.objects.count() == 30
    assert sorted(opened(r)["id"] for r in IdempotencyRecord.objects.all()) == sorted(a["id"] for _m, _s, a in answers)


def test_the_view_is_made_on_sqlite_only():
    class Editor:
        def __init__(self, vendor):
            self.connection = type("Connection", (), {"vendor": vendor})()
            self.executed = []

        def execute(self, statement):
            self.executed.append(statement)

    sqlite, postgresql = Editor("sqlite"), Editor("postgresql")
    for editor in (sqlite, postgresql):
        intake.install(editor, CheckIn, IdempotencyRecord)
    assert postgresql.executed == []
    assert any(statement.startswith(f"CREATE TRIGGER {intake.TRIGGER}") for statement in sqlite.executed)
