"""Dropping a foreign key's own index where a wider index that begins with the same column serves it.

Django's AlterField with `db_index=False` would do it, but on SQLite it copies the whole table to do so (a large
check-in table takes minutes); dropping the index alone is instant on both databases, and Django's idea of the
field changes alongside (`SeparateDatabaseAndState`).
"""

from __future__ import annotations

from functools import partial

from django.db import migrations


def _own_indexes(schema_editor, table: str, column: str) -> list[str]:
    with schema_editor.connection.cursor() as cursor:
        found = schema_editor.connection.introspection.get_constraints(cursor, table)
    return [
        name
        for name, details in found.items()
        if details["index"] and not details["unique"] and not details["primary_key"] and details["columns"] == [column]
    ]


def _table_and_column(apps, app_label: str, model_name: str, field_name: str) -> tuple[str, str]:
    model = apps.get_model(app_label, model_name)
    return model._meta.db_table, model._meta.get_field(field_name).column


def _drop(apps, schema_editor, *, which):
    table, column = _table_and_column(apps, *which)
    quote = schema_editor.quote_name
    for name in _own_indexes(schema_editor, table, column):
        schema_editor.execute(f"DROP INDEX {quote(name)}")


def _make(apps, schema_editor, *, which):
    table, column = _table_and_column(apps, *which)
    if not _own_indexes(schema_editor, table, column):
        quote = schema_editor.quote_name
        schema_editor.execute(f"CREATE INDEX {quote(f'{table}_{column}_own')} ON {quote(table)} ({quote(column)})")


def drop_own_index(app_label: str, model_name: str, field_name: str, field) -> migrations.SeparateDatabaseAndState:
    """The operation giving a foreign key `db_index=False` (`field`, as the model now declares it) by dropping
    its single-column index alone (made again if the migration is reversed)."""
    which = (app_label, model_name, field_name)
    return migrations.SeparateDatabaseAndState(
        state_operations=[migrations.AlterField(model_name=model_name.lower(), name=field_name, field=field)],
        database_operations=[migrations.RunPython(partial(_drop, which=which), partial(_make, which=which))],
    )
