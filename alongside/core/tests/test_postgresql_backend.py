"""The PostgreSQL backend trusts a kept, idle connection that the server has said nothing on, without asking the
server; a connection the server has closed is found unusable, and one with a harmless message waiting gets
Django's own check."""

import copy

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def kept():
    """A connection of the backend's own, outside the test's, opened and idle as one kept between requests."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's backend")
    from alongside.core.postgresql.base import DatabaseWrapper

    wrapper = DatabaseWrapper(copy.deepcopy(connection.settings_dict), alias="kept")
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


def backend_pid(wrapper) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def last_query_of(pid: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0]


def wait_until_readable(wrapper, timeout=5.0) -> None:
    import select

    poll = select.poll()
    poll.register(wrapper.connection.fileno(), select.POLLIN)
    assert poll.poll(timeout * 1000), "the server said nothing"


def test_an_idle_connection_is_trusted_without_a_query(kept):
    pid = backend_pid(kept)
    assert kept.is_usable()
    # The server saw nothing after the last real query: no `SELECT 1`.
    assert last_query_of(pid) == "SELECT pg_backend_pid()"


def test_a_connection_the_server_closed_is_unusable_and_replaced(kept):
    pid = backend_pid(kept)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    wait_until_readable(kept)
    assert not kept.is_usable()

    # As at the start of a request: the health check closes it and the next query gets a new connection.
    kept.health_check_done = False
    kept.close_if_health_check_failed()
    assert kept.connection is None
    assert backend_pid(kept) != pid


def test_a_harmless_message_gets_the_full_check_and_passes(kept):
    pid = backend_pid(kept)
    with kept.cursor() as cursor:
        cursor.execute("LISTEN kept_channel")
    with connection.cursor() as cursor:
        cursor.execute("NOTIFY kept_channel")
    wait_until_readable(kept)
    assert kept.is_usable()
    assert last_query_of(pid) == "SELECT 1"  # asked, because the server had spoken


def test_a_connection_inside_a_transaction_gets_the_full_check(kept):
    pid = backend_pid(kept)
    kept.set_autocommit(False)
    try:
        with kept.cursor() as cursor:
            cursor.execute("SELECT 2")
        assert kept.is_usable()
        assert last_query_of(pid) == "SELECT 1"
    finally:
        kept.rollback()
        kept.set_autocommit(True)
