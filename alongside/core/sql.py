"""Statements built once per model and run directly, for the few queries on the hottest paths.

Compiling an ORM query costs Django 0.2 to 0.4 ms of Python; SQLite and PostgreSQL run these small indexed
statements in 0.02 ms. Token authentication runs on every API request and the check-in insert is the write
that phones send most, so those statements are prepared here once and their rows are loaded into ordinary
model instances (with the same database converters the ORM applies: dates, JSON, encrypted text). Everything
else uses the ORM. The figures are in docs/performance.md.
"""

from __future__ import annotations

import inspect
from functools import cache

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models import Model
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute


def current_connection():
    """This thread's connection itself. `django.db.connection` looks it up again on every attribute it is asked
    for (a thread-local lookup each time), which in the loops below cost more than the work."""
    return connections[DEFAULT_DB_ALIAS]


# Fields whose preparation for the database gives back a value of this type unchanged (Django converts, checks
# lazy translations and calls the backend's adapter, one level after another). Exactly these classes: a
# subclass (an encrypted text field) prepares its own way.
_PLAIN_FIELDS = {
    models.IntegerField: int, models.SmallIntegerField: int, models.BigIntegerField: int,
    models.PositiveIntegerField: int, models.PositiveSmallIntegerField: int, models.PositiveBigIntegerField: int,
    models.CharField: str, models.TextField: str, models.BooleanField: bool,
}  # fmt: skip
_PLAIN_KEYS = (models.AutoField, models.BigAutoField)


def _plain_type(field) -> type | None:
    """The type a value of this field is stored as it is, or None when the field prepares it."""
    if type(field) is models.ForeignKey:
        return int if type(field.target_field) in _PLAIN_KEYS else None
    return _PLAIN_FIELDS.get(type(field))


@cache
def _insert_statement(model: type[Model], vendor: str) -> tuple[str, tuple]:
    quote = connection.ops.quote_name
    fields = tuple(field for field in model._meta.concrete_fields if not field.primary_key)
    # Only names from the model are formatted in; values are always parameters.
    sql = "INSERT INTO {table} ({columns}) VALUES ({values}) RETURNING {pk}".format(  # noqa: S608
        table=quote(model._meta.db_table),
        columns=", ".join(quote(field.column) for field in fields),
        values=", ".join(["%s"] * len(fields)),
        pk=quote(model._meta.pk.column),
    )
    plain = tuple((field, _plain_type(field)) for field in fields)
    return sql, plain


def insert_params(instance: Model) -> list:
    """The values of a new instance's columns (all but its key, in the model's order), prepared for the
    database. Fields' own pre-save steps run, so `auto_now_add` and encryption work; a plain value (a number,
    a text, a flag, None) goes in as it is."""
    database = current_connection()
    _sql, fields = _insert_statement(type(instance), database.vendor)
    params = []
    for field, plain in fields:
        if plain is not None and field.attname in instance.__dict__:
            value = instance.__dict__[field.attname]
            if value is None or type(value) is plain:
                params.append(value)
                continue
        params.append(field.get_db_prep_save(field.pre_save(instance, add=True), database))
    return params


def insert(instance: Model) -> Model:
    """Save a new instance with one prepared INSERT, as `save()` would but without model signals (the models
    stored this way have no receivers); the values as `insert_params` prepares them."""
    sql, _fields = _insert_statement(type(instance), connection.vendor)
    params = insert_params(instance)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        instance.pk = cursor.fetchone()[0]
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance


@cache
def _fields(model: type[Model], without: tuple[str, ...]) -> tuple:
    return tuple(field for field in model._meta.concrete_fields if field.name not in without)


@cache
def _loaded_names(model: type[Model], without: tuple[str, ...]) -> frozenset[str]:
    return frozenset(field.attname for field in _fields(model, without))


def columns(model: type[Model], alias: str, without: tuple[str, ...] = ()) -> str:
    """The select list for a model's columns (all but those named in `without`), in the order `load` expects."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(field.column)}" for field in _fields(model, without))


def width(model: type[Model], without: tuple[str, ...] = ()) -> int:
    return len(_fields(model, without))


@cache
def _converters(model: type[Model], vendor: str, without: tuple[str, ...] = ()) -> tuple:
    found = []
    for field in _fields(model, without):
        column = field.get_col(model._meta.db_table)
        found.append((column, connection.ops.get_db_converters(column) + field.get_db_converters(connection)))
    return tuple(found)


@cache
def _attnames(model: type[Model], without: tuple[str, ...]) -> tuple[str, ...] | None:
    """The attributes a loaded row sets, in `columns` order; None when the model must be built by its own
    `__init__` (something listens to its construction, or a field sets its attribute its own way)."""
    if models.signals.pre_init.has_listeners(model) or models.signals.post_init.has_listeners(model):
        return None
    names = []
    for field in _fields(model, without):
        descriptor = inspect.getattr_static(model, field.attname, None)  # as declared, without running __get__
        # Setting an attribute through Django's plain field descriptors on a new instance only stores the value.
        if hasattr(descriptor, "__set__") and not isinstance(descriptor, ForeignKeyDeferredAttribute):
            return None
        names.append(field.attname)
    return tuple(names)


def load(model: type[Model], values, without: tuple[str, ...] = ()) -> Model:
    """A model instance from a row selected with `columns(model, …, without)`, converted as the ORM converts;
    the fields left out are deferred (read from the database if asked for), as with `defer()`.

    The instance is what `Model.from_db` makes, built directly: the worker loads a few model instances for
    every check-in, and Django's `__init__` (made for keyword arguments and defaults) was a third of its time."""
    database = current_connection()
    values = list(values)
    for index, (column, converters) in enumerate(_converters(model, database.vendor, without)):
        for convert in converters:
            values[index] = convert(values[index], column, database)
    names = _attnames(model, without)
    if names is None:
        return model.from_db(database.alias, _loaded_names(model, without) if without else None, values)
    instance = model.__new__(model)
    instance.__dict__.update(zip(names, values, strict=True))
    state = instance._state = ModelState()
    state.adding = False
    state.db = database.alias
    return instance


def fetch(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
