"""Properties of questionnaire definitions, for any JSON: `instruments.parse` gives an instrument or an
InstrumentError with a message, never another exception; a program's upload (`program_instruments.add`) is stored
as a valid row or refused with a ValidationError on `definition`; and what is accepted can be scored."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alongside.accounts.models import Role
from alongside.monitoring import instruments, program_instruments
from alongside.monitoring.tests.test_program_instruments import sleep_scale
from alongside.programs import actions as program_actions
from alongside.testing.factories import make_staff

PROPERTIES = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False), st.text(max_size=40)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)


def paths_of(value, prefix=()):
    """Every place in a JSON document: dictionary keys and list positions, outermost first."""
    yield prefix
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from paths_of(inner, (*prefix, key))
    elif isinstance(value, list):
        for position, inner in enumerate(value):
            yield from paths_of(inner, (*prefix, position))


PATHS = list(paths_of(sleep_scale()))[1:]


@st.composite
def changed_definitions(draw) -> str:
    """A working definition with a few of its values replaced by any JSON, or removed."""
    definition = sleep_scale()
    for _change in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        parent = definition
        try:
            for part in path[:-1]:
                parent = parent[part]
            if draw(st.booleans()) and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = draw(JSON)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change already replaced this part
    return json.dumps(definition)


def _at(document, path):
    for part in path:
        document = document[part]
    return document


TEXT_PATHS = [path for path in PATHS if isinstance(_at(sleep_scale(), path), str)]


@st.composite
def retexted_definitions(draw) -> str:
    """A working definition with one of its texts (code, name, a label …) replaced by any text."""
    definition = sleep_scale()
    path = draw(st.sampled_from(TEXT_PATHS))
    _at(definition, path[:-1])[path[-1]] = draw(st.text(min_size=1, max_size=120))
    return json.dumps(definition)


DEFINITIONS = st.one_of(retexted_definitions(), changed_definitions(), JSON.map(json.dumps), st.text(max_size=60))


def check_usable(instrument: instruments.Instrument) -> None:
    lowest = {item.number: min(option.score for option in instrument.options) for item in instrument.items}
    highest = {item.number: max(option.score for option in instrument.options) for item in instrument.items}
    for answers in (lowest, highest):
        result = instruments.score(instrument, answers)
        assert instrument.total_min <= result.total <= instrument.total_max
        assert instrument.band_for(result.total)


@PROPERTIES
@given(text=DEFINITIONS)
def test_any_definition_is_an_instrument_or_an_instrument_error(text):
    try:
        instrument = instruments.parse(text)
    except instruments.InstrumentError as error:
        assert str(error).strip()
        return
    check_usable(instrument)


@pytest.fixture
def program(organisation):
    admin = make_staff(organisation, Role.ORG_ADMIN)
    return admin, program_actions.create_program(by=admin, organisation=organisation, name="Sleep program")


@pytest.mark.django_db
@PROPERTIES
@given(text=DEFINITIONS)
def test_an_uploaded_definition_is_stored_whole_or_refused_naming_definition(program, text):
    admin, sleep_program = program
    with transaction.atomic():
        try:
            added = program_instruments.add(by=admin, program=sleep_program, definition=text)
        except ValidationError as error:
            assert set(error.message_dict) == {"definition"}
        else:
            added.full_clean()  # the code and name fit their columns, so PostgreSQL stores what SQLite did
            check_usable(instruments.parse(added.definition))
        transaction.set_rollback(True)
