"""An API check-in is stored with one statement: the check-in, its tag links and its idempotent answer.

SQLite lets one connection write at a time. A write transaction of several statements holds that lock while
Python runs between them, and every statement gives up the interpreter lock while SQLite works; with several
threads in a process, getting it back can take milliseconds, all the while holding the database's one write
lock. Web threads storing check-ins then mostly waited for each other: measured at 32 clients, the
transaction of three inserts left a sixth of the processor idle and stored 15% fewer check-ins a second than
one statement does (docs/performance.md). One statement runs within SQLite, start to end, without coming back
to Python, and autocommits. On PostgreSQL one statement saves the round trips of BEGIN, two inserts and COMMIT.

The tags can come two ways. Usually the check-in names them by their labels exactly as the member's list has
them (a phone offers that list), and the statement finds them itself: one statement for the whole request,
without reading the tags first. If any label is not found so (a new member's first activities, a label in other
letter case, an unknown or archived tag) the statement stores nothing, and `checkins.store` reads the tags the
long way, which says which labels are unknown, and stores them by their ids.

- **SQLite**: a view, `monitoring_checkin_intake`: the check-in's columns, then the tag ids (a JSON list), the
  labels named (a JSON list per kind) with how many there are, and the Idempotency-Key's answer (sealed:
  `idempotency.seal`). Inserting a row into it runs an INSTEAD OF trigger that first counts the member's
  current tags with those labels and aborts (`LABELS_NOT_FOUND`) unless each label found one; then inserts the
  check-in, a link for each tag, and the stored answer with the new check-in's id beside it (`created_id`). The
  insert's RETURNING clause gives that id back (SQLite works it out after the trigger has run); with SQLite
  before 3.35, which has no RETURNING, a second statement reads it from the stored answer.
- **PostgreSQL**: an INSERT of the check-in (only if each label found its tag) with the tags' lookup, the links'
  and the answer's inserts in its WITH clause; no row comes back when a label was not found.

Either way any failure (above all the answer's unique key, when the key was used before) undoes the whole
statement. Inside a caller's transaction (tests, a bulk job) `checkins.store` uses the ordinary inserts.

The view and the trigger name the check-in's columns and the tables they write. A migration that changes those
tables drops them first (`uninstall`) and makes them again afterwards (`install`); a test compares the view
with the model.
"""

from __future__ import annotations

from functools import cache

from django.db import connection

VIEW = "monitoring_checkin_intake"
TRIGGER = "monitoring_checkin_intake_insert"
# What the view adds after the check-in's own columns, in this order.
EXTRA_COLUMNS = (
    "tag_ids",
    "activity_labels",
    "warning_sign_labels",
    "labels_named",
    "answer_user_id",
    "answer_key",
    "answer_fingerprint",
    "answer_status",
    "answer_body",
)
# SQLite's trigger aborts with this when a label named did not find its tag (the check-in takes the long way).
LABELS_NOT_FOUND = "alongside: a tag named by its label was not found"
# The tag kinds, as stored (monitoring.models.TagKind); the statements compare them as text.
ACTIVITY, WARNING_SIGN = "activity", "warning_sign"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def checkin_columns(checkin_model) -> list[str]:
    """The check-in's columns as the intake takes them: every concrete one but the key, in the model's order."""
    return [field.column for field in checkin_model._meta.concrete_fields if not field.primary_key]


def create_sql(checkin_model, record_model) -> list[str]:
    """The statements that (re)create the view and its trigger for these models (current or historical)."""
    checkins = _quote(checkin_model._meta.db_table)
    records = _quote(record_model._meta.db_table)
    columns = checkin_columns(checkin_model)
    listed = ", ".join(_quote(column) for column in columns)
    # Only names from the models are formatted into these statements; the values are parameters of `insert_sql`.
    new_checkin = f"(SELECT max({_quote(checkin_model._meta.pk.column)}) FROM {checkins})"  # noqa: S608
    named = _named_tags_sqlite(checkin_model)
    return [
        *drop_sql(),
        f"CREATE VIEW {VIEW} AS SELECT {listed}, "  # noqa: S608
        + ", ".join(f"NULL AS {column}" for column in EXTRA_COLUMNS)
        + f" FROM {checkins} WHERE 0",
        # Under the write lock the row just inserted has the largest id (SQLite gives a new row one more than
        # any before), so the statements after it find it as max(id).
        f"CREATE TRIGGER {TRIGGER} INSTEAD OF INSERT ON {VIEW} BEGIN "  # noqa: S608
        f"SELECT RAISE(ABORT, '{LABELS_NOT_FOUND}') WHERE (SELECT count(*) {named}) <> NEW.labels_named; "
        f"INSERT INTO {checkins} ({listed}) VALUES ({', '.join('NEW.' + _quote(column) for column in columns)}); "
        f"{_links_insert(checkin_model)} SELECT {new_checkin}, value FROM json_each(NEW.tag_ids) "
        f"UNION ALL SELECT {new_checkin}, t.{_quote('id')} {named}; "
        f"INSERT INTO {records} ({', '.join(_quote(column) for column in _record_columns(record_model))}) "
        "VALUES (NEW.answer_user_id, NEW.answer_key, NEW.answer_fingerprint, NEW.answer_status, "
        f"NEW.answer_body, {new_checkin}, NEW.created_at); "
        "END",
    ]


def _tag_table(checkin_model) -> str:
    return _quote(checkin_model._meta.get_field("tags").remote_field.model._meta.db_table)


def _named_tags_sqlite(checkin_model) -> str:
    """FROM and WHERE: the member's current tags with the labels the inserted row names (SQLite's trigger)."""
    member, kind, label = (_quote(column) for column in ("member_id", "kind", "label"))
    # Only names from the models and the tag kinds (constants) are formatted in.
    return (
        f"FROM {_tag_table(checkin_model)} t WHERE t.{member} = NEW.{member} AND NOT t.{_quote('archived')} "  # noqa: S608
        f"AND ((t.{kind} = '{ACTIVITY}' AND t.{label} IN (SELECT value FROM json_each(NEW.activity_labels))) "
        f"OR (t.{kind} = '{WARNING_SIGN}' AND t.{label} IN (SELECT value FROM json_each(NEW.warning_sign_labels))))"
    )


def _links_insert(checkin_model) -> str:
    """The start of an insert into the check-in's tag links, up to its values."""
    links = checkin_model._meta.get_field("tags").remote_field.through._meta
    columns = f"{_quote(links.get_field('checkin').column)}, {_quote(links.get_field('tag').column)}"
    return f"INSERT INTO {_quote(links.db_table)} ({columns})"


def _record_columns(record_model) -> list[str]:
    return [
        record_model._meta.get_field(name).column
        for name in ("user", "key", "fingerprint", "status", "body", "created_id", "created_at")
    ]


def drop_sql() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {TRIGGER}", f"DROP VIEW IF EXISTS {VIEW}"]


@cache
def insert_sql(checkin_model, record_model, *, returning: bool) -> str:
    """The insert into the view: the check-in's values (`sql.insert_params`), then the extra columns'. With
    `returning` (SQLite 3.35 and later) it gives back the new check-in's id, as the stored answer holds it:
    SQLite works out RETURNING's subquery after the trigger has run. Otherwise the id is read afterwards."""
    names = [*checkin_columns(checkin_model), *EXTRA_COLUMNS]
    columns = ", ".join(_quote(column) for column in names)
    values = ", ".join(["%s"] * len(names))
    # Only names from the models are formatted in; values are parameters.
    statement = f"INSERT INTO {VIEW} ({columns}) VALUES ({values})"  # noqa: S608
    if returning:
        user, key, created = (
            _quote(record_model._meta.get_field(name).column) for name in ("user", "key", "created_id")
        )
        statement += (
            f" RETURNING (SELECT r.{created} FROM {_quote(record_model._meta.db_table)} r "  # noqa: S608
            f"WHERE r.{user} = {VIEW}.answer_user_id AND r.{key} = {VIEW}.answer_key)"
        )
    return statement


def install(schema_editor, checkin_model, record_model) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    for statement in create_sql(checkin_model, record_model):
        schema_editor.execute(statement)


def uninstall(schema_editor) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    for statement in drop_sql():
        schema_editor.execute(statement)


@cache
def postgresql_sql(checkin_model, record_model) -> str:
    """PostgreSQL: the member, the activity labels and the warning-sign labels named (lists) for the tags'
    lookup; the check-in's values (`sql.insert_params`); how many labels were named; the tag ids (a list); the
    answer's person, key, fingerprint and status, and its sealed body (as JSON text). Returns the new check-in's
    id, or no row when a label named did not find its tag (nothing is stored then)."""
    fields = [field for field in checkin_model._meta.concrete_fields if not field.primary_key]
    pk = _quote(checkin_model._meta.pk.column)
    member, kind, label = (_quote(column) for column in ("member_id", "kind", "label"))
    record_columns = ", ".join(_quote(column) for column in _record_columns(record_model))
    # The values are selected, not listed after VALUES, so that the insert can depend on the lookup; each is
    # cast to its column's type, which VALUES would have inferred.
    values = ", ".join(f"%s::{field.cast_db_type(connection)}" for field in fields)
    # Only names from the models and the tag kinds (constants) are formatted in; every value is a parameter.
    return (
        f"WITH named AS (SELECT t.{_quote('id')} FROM {_tag_table(checkin_model)} t "  # noqa: S608
        f"WHERE t.{member} = %s AND NOT t.{_quote('archived')} "
        f"AND ((t.{kind} = '{ACTIVITY}' AND t.{label} = ANY(%s::text[])) "
        f"OR (t.{kind} = '{WARNING_SIGN}' AND t.{label} = ANY(%s::text[])))), "
        f"new_checkin AS (INSERT INTO {_quote(checkin_model._meta.db_table)} "
        f"({', '.join(_quote(field.column) for field in fields)}) SELECT {values} "
        f"WHERE (SELECT count(*) FROM named) = %s RETURNING {pk}), "
        f"links AS ({_links_insert(checkin_model)} SELECT new_checkin.{pk}, tag FROM new_checkin, "
        f"(SELECT {_quote('id')} AS tag FROM named UNION ALL SELECT unnest(%s::bigint[])) AS tags), "
        f"answer AS (INSERT INTO {_quote(record_model._meta.db_table)} ({record_columns}) "
        f"SELECT %s, %s, %s, %s, %s::jsonb, new_checkin.{pk}, now() FROM new_checkin) "
        f"SELECT {pk} FROM new_checkin"
    )
