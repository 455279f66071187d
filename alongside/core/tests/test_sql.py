"""The prepared statements of core/sql.py store and load exactly what the ORM would."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection

from alongside.accounts import tokens
from alongside.accounts.models import ApiToken, Role
from alongside.core import sql
from alongside.core.models import IdempotencyRecord
from alongside.monitoring.models import CheckIn


def test_insert_stores_what_the_orm_reads_back(member):
    when = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    checkin = CheckIn(
        member=member,
        recorded_at=when,
        local_date=when.date(),
        mood=4,
        sleep_hours=Decimal("6.25"),
        note="<b>slept badly</b>",
        source="api",
    )
    sql.insert(checkin)

    assert checkin.pk is not None and not checkin._state.adding
    assert checkin.created_at is not None  # auto_now_add ran
    stored = CheckIn.objects.get(pk=checkin.pk)
    assert (stored.recorded_at, stored.mood, stored.sleep_hours, stored.note) == (
        when,
        4,
        Decimal("6.25"),
        "<b>slept badly</b>",
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT note FROM monitoring_checkin WHERE id = %s", [checkin.pk])
        assert "slept" not in cursor.fetchone()[0]  # encrypted at rest, as through the ORM


def test_insert_and_load_keep_json_and_dates(member):
    record = sql.insert(IdempotencyRecord(user=member, key="k1", fingerprint="f" * 64, status=201, body={"a": [1]}))
    select = f"SELECT {sql.columns(IdempotencyRecord, 'r')} FROM core_idempotencyrecord r WHERE r.id = %s"  # noqa: S608
    rows = sql.fetch(select, [record.pk])
    loaded = sql.load(IdempotencyRecord, rows[0])
    assert loaded.body == {"a": [1]} and loaded.status == 201
    assert loaded.created_at == IdempotencyRecord.objects.get(pk=record.pk).created_at
    assert isinstance(loaded.created_at, datetime)


def test_token_lookup_loads_the_person_with_all_their_roles(member, organisation, other_organisation):
    from alongside.accounts import actions

    actions.grant_role(member, other_organisation, Role.PEER_MENTOR)
    token, raw = tokens.issue(member, name="phone", scopes=["read"])

    found = tokens.find(raw)
    assert found.pk == token.pk and found.scopes == ["read"] and found.expires_at == token.expires_at
    assert found.user.pk == member.pk and found.user.email == member.email
    assert found.user.role_set == {Role.MEMBER, Role.PEER_MENTOR}
    assert tokens.find(raw + "x") is None


def test_token_lookup_for_a_person_without_roles(db):
    from alongside.accounts import actions

    person = actions.create_person("noroles@example.org", "No Roles", "a long pass phrase")
    token, raw = tokens.issue(person, name="script", scopes=["read"])
    found = tokens.find(raw)
    assert found.user.role_set == set()
    assert found.created_at == ApiToken.objects.get(pk=token.pk).created_at


def test_postgresql_keeps_a_statement_run_often_prepared(member):
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    from alongside.conf import PREPARE_AFTER

    _token, raw = tokens.issue(member, name="phone", scopes=["read"])

    def prepared_token_lookups() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            return sum("token_hash" in statement for (statement,) in cursor.fetchall())

    for _ in range(PREPARE_AFTER):
        assert tokens.find(raw).user.pk == member.pk
    assert prepared_token_lookups() == 0
    # The next run prepares it, and the prepared statement finds the right token (and no other).
    assert tokens.find(raw).user.pk == member.pk
    assert prepared_token_lookups() == 1
    assert tokens.find(raw).user.pk == member.pk
    assert tokens.find(raw + "x") is None


def _loaded_checkin(member, without=()):
    when = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    checkin = sql.insert(
        CheckIn(member=member, recorded_at=when, local_date=when.date(), mood=4, note="quiet day", source="api")
    )
    select = f"SELECT {sql.columns(CheckIn, 'c', without)} FROM monitoring_checkin c WHERE c.id = %s"  # noqa: S608
    return sql.load(CheckIn, sql.fetch(select, [checkin.pk])[0], without), CheckIn.objects.get(pk=checkin.pk)


def test_load_builds_the_instance_the_orm_builds(member):
    loaded, orm = _loaded_checkin(member)

    assert type(loaded) is CheckIn and not loaded._state.adding and loaded._state.db == orm._state.db
    for field in CheckIn._meta.concrete_fields:
        assert getattr(loaded, field.attname) == getattr(orm, field.attname), field.name
    assert loaded.get_deferred_fields() == set()
    assert loaded.member == member  # the relation is read on first use, as on the ORM's instance
    loaded.mood = 5
    loaded.save(update_fields=["mood"])  # an ordinary instance: it saves as an update
    assert CheckIn.objects.get(pk=orm.pk).mood == 5


def test_load_leaves_the_columns_not_selected_deferred(member):
    loaded, _orm = _loaded_checkin(member, without=("note",))

    assert loaded.get_deferred_fields() == {"note"}
    assert loaded.note == "quiet day"  # read from the database when asked for, as with defer()


def test_load_lets_a_model_with_construction_listeners_build_itself(member):
    from django.db.models.signals import post_init

    seen = []

    def listener(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(listener, sender=CheckIn)
    sql._attnames.cache_clear()
    try:
        loaded, _orm = _loaded_checkin(member)
    finally:
        post_init.disconnect(listener, sender=CheckIn)
        sql._attnames.cache_clear()
    assert loaded in seen and not loaded._state.adding
