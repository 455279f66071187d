"""Backup and restore: a little world backed up and restored into a fresh database comes back whole (counts per
table, sample rows, encrypted text readable); a database with data is only replaced when confirmed; a file that
is not a sound backup is refused and changes nothing; a missing encryption key is named."""

from __future__ import annotations

import contextlib
import copy
import json
import sqlite3
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.db.utils import load_backend
from django.test import override_settings
from django.utils import timezone

from alongside import conf
from alongside.accounts.models import Role
from alongside.audit.models import AuditAction, AuditEvent
from alongside.care import notes, plan
from alongside.care.models import ClinicalNote, PlanVersion
from alongside.goals import goals
from alongside.goals.models import Goal
from alongside.interop import backup
from alongside.interop.models import ImportRun
from alongside.monitoring import checkins, journal
from alongside.monitoring.models import CheckIn, JournalEntry
from alongside.testing.factories import make_member, make_organisation, make_staff, support

on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite file databases")
on_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL dump and restore")

JOURNAL_TEXT = "Slept badly; the walk with Ana helped 8812"
NOTE_TEXT = "Felt shaky before the meeting 5531"
CLINICAL_TEXT = "Risk review: no current plan, protective factors strong 7720"


def seed_world() -> dict:
    """Two members of one organisation with a clinician: check-ins with encrypted notes, journal entries, a plan,
    goals with milestones and a clinical note."""
    organisation = make_organisation("Riverside Backup Program")
    clinician = make_staff(organisation, Role.CLINICIAN, display_name="Dr Backup")
    members = [make_member(organisation, display_name=f"Member {n}") for n in (1, 2)]
    now = timezone.now()
    for member in members:
        support(clinician, member, organisation, Role.CLINICIAN)
        for day in range(3):
            checkins.record(member, mood=5 + day, note=f"{NOTE_TEXT} day {day}", recorded_at=now - timedelta(days=day))
        journal.write(member, text=JOURNAL_TEXT)
        goals.create_goal(
            member, title="Walk daily", why="For my health", area="health", milestones=[("First week", None)]
        )
    plan.save_plan(
        members[0],
        by=members[0],
        content={"coping_strategies": ["Cold water"], "reason_for_living": "My dog"},
        based_on=0,
    )
    notes.write_note(by=clinician, member=members[0], kind="risk_review", text=CLINICAL_TEXT)
    return {"members": members, "clinician": clinician}


@contextlib.contextmanager
def database_alias(alias: str, settings_dict: dict):
    """A connection under `alias` made at run time (Django lets tests use such connections freely)."""
    settings_dict = connections.configure_settings({"default": {}, alias: settings_dict})[alias]
    connections[alias] = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, alias)
    try:
        yield alias
    finally:
        connections[alias].close()
        del connections[alias]


def sqlite_database(alias: str, path):
    """A database alias for a SQLite file, configured as the product configures one (WAL, its own backend)."""
    return database_alias(alias, conf.sqlite_settings(path))


@contextlib.contextmanager
def postgres_database(alias: str, name: str):
    """A freshly created PostgreSQL database on the test server, as a Django alias; dropped afterwards."""
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        with database_alias(alias, copy.deepcopy(connection.settings_dict) | {"NAME": name}):
            yield alias
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def copy_test_database_to(path) -> None:
    """A copy of the test database, for the backup to read as it reads the product's database."""
    connection.ensure_connection()
    with contextlib.closing(sqlite3.connect(path)) as target:
        connection.connection.backup(target)
        # As the product's database always is (conf.sqlite_settings).
        target.execute("PRAGMA journal_mode=WAL")


@pytest.fixture
def source(transactional_db, tmp_path):
    world = seed_world()
    copy_test_database_to(tmp_path / "source.sqlite3")
    with sqlite_database("backup_source", tmp_path / "source.sqlite3") as alias:
        world["alias"] = alias
        yield world


def assert_same_world(world: dict, using: str) -> None:
    member = world["members"][0]
    assert sorted(e.text for e in JournalEntry.objects.using(using).filter(member_id=member.pk)) == [JOURNAL_TEXT]
    restored_notes = sorted(c.note for c in CheckIn.objects.using(using).filter(member_id=member.pk))
    assert restored_notes == [f"{NOTE_TEXT} day {day}" for day in range(3)]
    assert [n.text for n in ClinicalNote.objects.using(using).filter(member_id=member.pk)] == [CLINICAL_TEXT]
    version = PlanVersion.objects.using(using).get(plan__member_id=member.pk)
    assert "My dog" in version.content_json
    assert list(Goal.objects.using(using).filter(member_id=member.pk).values_list("title", flat=True)) == ["Walk daily"]


@on_sqlite
def test_a_sqlite_backup_restores_into_a_fresh_database_whole(source, tmp_path):
    output = tmp_path / "backups" / "nightly.sqlite3"
    result = backup.backup(output, using=source["alias"], actor_label="ops (test)")
    assert result.path == output and output.is_file()
    assert output.stat().st_mode & 0o777 == 0o600 and output.parent.stat().st_mode & 0o777 == 0o700
    manifest = backup.read_manifest(output)
    assert manifest["vendor"] == "sqlite"
    assert manifest["encryption_keys"] == backup.configured_key_fingerprints()
    assert manifest["tables"]["monitoring_checkin"] == 6 and manifest["tables"]["monitoring_journalentry"] == 2
    # The keys themselves are nowhere in the file.
    assert not any(key.encode() in output.read_bytes() for key in settings.ENCRYPTION_KEYS)
    event = AuditEvent.objects.using(source["alias"]).get(category="interop", action=AuditAction.EXPORT)
    assert event.actor_label == "ops (test)" and "nightly.sqlite3" in event.detail
    assert str(manifest["total_rows"]) in event.detail

    with sqlite_database("restore_target", tmp_path / "fresh.sqlite3") as target:
        restored = backup.restore(output, using=target, actor_label="ops (test)")
        assert restored.mismatches == {} and restored.warnings == []
        counts = backup.table_counts(target)
        for table, expected in manifest["tables"].items():
            # The restore adds its own audit entry; nothing else differs.
            assert counts[table] == expected + (table == "audit_auditevent"), table
        assert_same_world(source, target)
        assert AuditEvent.objects.using(target).filter(action=AuditAction.CHANGE, category="interop").count() == 1
        # The backup's manifest table is not left behind in the restored database.
        assert backup.MANIFEST_TABLE not in counts


@on_sqlite
def test_a_sqlite_backup_is_one_snapshot_while_others_write(source, tmp_path, monkeypatch):
    monkeypatch.setattr(backup, "SQLITE_PAGES_PER_STEP", 8)
    writes = []

    def write_between_steps(done, total):
        # Another connection (the web or the worker) commits while the copy is under way; WAL lets it.
        with contextlib.closing(sqlite3.connect(tmp_path / "source.sqlite3", timeout=5)) as writer:
            writer.execute("UPDATE monitoring_checkin SET mood = 0")
            writer.execute("DELETE FROM goals_milestone")
            writer.commit()
        writes.append(done)

    output = backup.backup(tmp_path / "b.sqlite3", using=source["alias"], progress=write_between_steps).path
    assert len(writes) > 2
    assert CheckIn.objects.using(source["alias"]).filter(mood=0).count() == 6
    with sqlite_database("restore_target", tmp_path / "fresh.sqlite3") as target:
        restored = backup.restore(output, using=target)
        assert restored.mismatches == {}
        assert not CheckIn.objects.using(target).filter(mood=0).exists()
        assert restored.counts["goals_milestone"] == 2


@on_sqlite
def test_an_older_backup_is_migrated_up_to_date_on_restore(source, tmp_path):
    # A backup from before the interop app existed: no interop tables, no interop migrations.
    output = backup.backup(tmp_path / "b.sqlite3", using=source["alias"]).path
    with contextlib.closing(sqlite3.connect(output)) as database:
        tables = [row[0] for row in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            if table.startswith("interop_"):
                database.execute(f'DROP TABLE "{table}"')
        database.execute("DELETE FROM django_migrations WHERE app = 'interop'")
        database.commit()
    with sqlite_database("restore_target", tmp_path / "fresh.sqlite3") as target:
        restored = backup.restore(output, using=target)
        assert ImportRun.objects.using(target).count() == 0
        assert "interop_importedrow" in restored.counts
        assert_same_world(source, target)


@on_sqlite
def test_a_sqlite_restore_refuses_a_database_with_data_until_confirmed(source, tmp_path):
    output = backup.backup(tmp_path / "b.sqlite3", using=source["alias"]).path
    member = source["members"][0]
    journal_model = JournalEntry.objects.using(source["alias"])
    journal_model.filter(member_id=member.pk).delete()
    before = backup.table_counts(source["alias"])
    with pytest.raises(backup.TargetHasData, match="--yes"):
        backup.restore(output, using=source["alias"])
    assert backup.table_counts(source["alias"]) == before
    backup.restore(output, using=source["alias"], replace_existing=True)
    assert [e.text for e in journal_model.filter(member_id=member.pk)] == [JOURNAL_TEXT]


@on_sqlite
def test_files_that_are_not_sound_backups_are_refused_and_change_nothing(source, tmp_path):
    good = backup.backup(tmp_path / "b.sqlite3", using=source["alias"]).path
    truncated = tmp_path / "truncated.sqlite3"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"not a database at all\n" * 100)
    plain_database = tmp_path / "source.sqlite3"  # a SQLite database, but no backup (no manifest)
    with sqlite_database("restore_target", tmp_path / "fresh.sqlite3") as target:
        backup.restore(good, using=target)
        before = backup.table_counts(target)
        for bad, reason in [(truncated, "damaged"), (garbage, "not an Alongside backup"), (plain_database, "manifest")]:
            with pytest.raises(backup.NotABackup, match=reason):
                backup.restore(bad, using=target, replace_existing=True)
            assert backup.table_counts(target) == before


@on_sqlite
def test_restore_names_the_missing_encryption_key(source, tmp_path):
    output = backup.backup(tmp_path / "b.sqlite3", using=source["alias"]).path
    old_fingerprint = backup.read_manifest(output)["encryption_keys"][0]
    with (
        override_settings(ENCRYPTION_KEYS=[Fernet.generate_key().decode()]),
        sqlite_database("restore_target", tmp_path / "fresh.sqlite3") as target,
    ):
        result = backup.restore(output, using=target)
    assert old_fingerprint in result.warnings[0] and "not in ALONGSIDE_ENCRYPTION_KEYS" in result.warnings[0]
    assert "monitoring.JournalEntry.text" in result.warnings[-1] and "care.ClinicalNote.text" in result.warnings[-1]


@on_sqlite
def test_a_backup_from_a_newer_version_is_refused(source, tmp_path):
    output = backup.backup(tmp_path / "b.sqlite3", using=source["alias"]).path
    with contextlib.closing(sqlite3.connect(output)) as database:
        manifest = json.loads(database.execute("SELECT manifest FROM alongside_backup_manifest").fetchone()[0])
        manifest["migrations"].append(["monitoring", "9999_from_the_future"])
        database.execute("UPDATE alongside_backup_manifest SET manifest = ?", [json.dumps(manifest)])
        database.commit()
    with pytest.raises(backup.NotABackup, match=r"newer Alongside.*9999_from_the_future"):
        backup.check_restorable(output, using=source["alias"])


def test_the_restore_command_refuses_a_non_backup_file_clearly(db, tmp_path):
    garbage = tmp_path / "notes.txt"
    garbage.write_text("hello\n")
    with pytest.raises(CommandError, match=r"not an Alongside backup.*Nothing was changed"):
        call_command("restore", str(garbage), "--no-progress")
    with pytest.raises(CommandError, match="does not exist"):
        call_command("restore", str(tmp_path / "missing.sqlite3"), "--no-progress")


def test_the_key_fingerprint_is_stable_and_not_the_key():
    key = Fernet.generate_key().decode()
    assert backup.key_fingerprint(key) == backup.key_fingerprint(key + "\n")
    assert backup.key_fingerprint(key) != backup.key_fingerprint(Fernet.generate_key().decode())
    assert backup.key_fingerprint(key) not in key and len(backup.key_fingerprint(key)) == 16


def test_pg_dump_missing_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(backup.shutil, "which", lambda name: None)
    monkeypatch.setattr(backup, "POSTGRES_BIN_GLOB", "/nonexistent/*/bin")
    with pytest.raises(backup.BackupError, match="postgresql-client"):
        backup.find_postgres_program("pg_dump")


@on_postgres
def test_a_postgres_backup_restores_into_a_fresh_database(transactional_db, tmp_path):
    world = seed_world()
    output = tmp_path / "nightly.pgdump"
    result = backup.backup(output, actor_label="ops (test)")
    manifest = json.loads(result.manifest_path.read_text())
    assert manifest["vendor"] == "postgresql" and manifest["tables"]["monitoring_checkin"] == 6
    assert backup.read_manifest(output) == manifest
    assert {output.stat().st_mode & 0o777, result.manifest_path.stat().st_mode & 0o777} == {0o600}
    assert AuditEvent.objects.filter(category="interop", action=AuditAction.EXPORT, actor_label="ops (test)").exists()
    with postgres_database("restore_target", f"{connection.settings_dict['NAME']}_restored") as target:
        restored = backup.restore(output, using=target)
        assert restored.mismatches == {} and restored.warnings == []
        counts = backup.table_counts(target)
        for table, expected in manifest["tables"].items():
            assert counts[table] == expected + (table == "audit_auditevent"), table
        assert_same_world(world, target)
        before = backup.table_counts(target)
        with pytest.raises(backup.TargetHasData):
            backup.restore(output, using=target)
        damaged = tmp_path / "damaged.pgdump"
        damaged.write_bytes(output.read_bytes()[:-100])
        backup.manifest_path_for(damaged).write_text(json.dumps(manifest))
        with pytest.raises(backup.NotABackup, match="SHA-256"):
            backup.restore(damaged, using=target, replace_existing=True)
        garbage = tmp_path / "garbage.pgdump"
        garbage.write_bytes(b"not a dump\n" * 50)
        backup.manifest_path_for(garbage).write_text(json.dumps(manifest | {"sha256": backup._sha256(garbage)}))
        with pytest.raises(backup.NotABackup, match="cannot be read as a PostgreSQL dump"):
            backup.restore(garbage, using=target, replace_existing=True)
        assert backup.table_counts(target) == before


def test_a_pg_dump_older_than_the_server_is_named_with_what_to_install(monkeypatch):
    monkeypatch.setattr(backup.shutil, "which", lambda name: f"/opt/pg14/bin/{name}")
    monkeypatch.setattr(backup, "POSTGRES_BIN_GLOB", "/nonexistent/*/bin")
    monkeypatch.setattr(backup, "_program_major", lambda path: 14)
    with pytest.raises(
        backup.BackupError, match=r"pg_dump 14 \(/opt/pg14/bin/pg_dump\) cannot work with PostgreSQL 16"
    ):
        backup.find_postgres_program("pg_dump", at_least=16)
    assert backup.find_postgres_program("pg_dump", at_least=13).path == "/opt/pg14/bin/pg_dump"
