"""A foreign key whose own index was dropped because a wider index leads with it."""

import pytest
from django.apps import apps
from django.db import connection

from alongside.core.indexes import drop_own_index
from alongside.core.models import IdempotencyRecord
from alongside.monitoring.models import CheckIn


def indexes_led_by(model, column):
    """The column lists of the table's indexes and unique constraints (each has an index) that begin with it."""
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return [
        details["columns"]
        for details in found.values()
        if (details["index"] or details["unique"]) and not details["primary_key"] and details["columns"][:1] == [column]
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "column"), [(CheckIn, "member_id"), (IdempotencyRecord, "user_id")])
def test_the_key_is_served_by_a_wider_index_only(model, column):
    led = indexes_led_by(model, column)
    assert [column] not in led
    assert any(len(columns) > 1 for columns in led)  # lookups and cascading deletes by the key still use one


@pytest.mark.django_db(transaction=True)
def test_reversing_makes_the_index_again_and_going_forward_drops_it():
    operation = drop_own_index("monitoring", "CheckIn", "member", CheckIn._meta.get_field("member"))
    run = operation.database_operations[0]
    with connection.schema_editor() as editor:
        run.reverse_code(apps, editor)
    assert ["member_id"] in indexes_led_by(CheckIn, "member_id")
    with connection.schema_editor() as editor:
        run.code(apps, editor)
    assert ["member_id"] not in indexes_led_by(CheckIn, "member_id")
