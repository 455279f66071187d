"""The SQLite backend waits for the write lock in short steps, queues a process's own writers, and gives up
with an error (never a hang) once its timeout has passed."""

import sqlite3
import threading
import time

import pytest
from django.db import OperationalError

from alongside import conf
from alongside.core.sqlite.base import DatabaseWrapper


def wrapper_for(path, timeout=5.0) -> DatabaseWrapper:
    settings = conf.sqlite_settings(path)
    settings["OPTIONS"]["timeout"] = timeout
    settings.update(
        {
            "ATOMIC_REQUESTS": False,
            "AUTOCOMMIT": True,
            "TIME_ZONE": None,
            "USER": "",
            "PASSWORD": "",
            "HOST": "",
            "PORT": "",
            "TEST": {},
        }
    )
    return DatabaseWrapper(settings, alias=f"waiting-{threading.get_ident()}")


@pytest.fixture
def database_file(tmp_path, django_db_blocker):
    # A file of its own, outside the test database (whose test transaction would hold this process's queue).
    path = tmp_path / "waiting.sqlite3"
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE entry (id INTEGER PRIMARY KEY, who TEXT)")
    setup.close()
    with django_db_blocker.unblock():
        yield path


def test_a_writer_waits_for_another_process_and_then_writes(database_file):
    # Another process: a plain connection holding the write lock for a while.
    other = sqlite3.connect(database_file, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO entry (who) VALUES ('other')")
    threading.Timer(0.15, other.commit).start()

    ours = wrapper_for(database_file)
    started = time.monotonic()
    ours.ensure_connection()
    ours.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    ours.cursor().execute("INSERT INTO entry (who) VALUES ('ours')")
    ours.commit()
    ours.set_autocommit(True)
    waited = time.monotonic() - started

    assert waited >= 0.1  # it did wait for the lock …
    assert waited < 2  # … and came in shortly after it was free, not after SQLite's long sleeps
    assert [row[0] for row in ours.cursor().execute("SELECT who FROM entry ORDER BY id").fetchall()] == [
        "other",
        "ours",
    ]
    ours.close()
    other.close()


def test_opening_a_connection_waits_while_another_holds_the_database(database_file):
    # A connection that keeps its lock (as one rebuilding or checkpointing the log briefly does) refuses even the
    # new connection's `journal_mode=WAL`; opening waits for it instead of failing the request.
    other = sqlite3.connect(database_file, isolation_level=None, check_same_thread=False)
    other.execute("SELECT count(*) FROM entry").fetchall()  # opened in shared mode first
    other.execute("PRAGMA locking_mode=EXCLUSIVE")
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO entry (who) VALUES ('other')")
    other.execute("COMMIT")

    def release():
        other.execute("PRAGMA locking_mode=NORMAL")
        other.execute("SELECT count(*) FROM entry").fetchall()

    threading.Timer(0.15, release).start()
    ours = wrapper_for(database_file)
    started = time.monotonic()
    ours.ensure_connection()
    assert 0.1 <= time.monotonic() - started < 2
    assert ours.cursor().execute("SELECT who FROM entry").fetchall() == [("other",)]
    # Waiting afterwards is WaitingCursor's again, not SQLite's.
    assert ours.cursor().execute("PRAGMA busy_timeout").fetchone()[0] == 0
    ours.close()
    other.close()


def test_a_writer_gives_up_after_its_timeout_and_frees_the_queue(database_file):
    other = sqlite3.connect(database_file, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    ours = wrapper_for(database_file, timeout=0.2)
    ours.ensure_connection()
    started = time.monotonic()
    with pytest.raises(OperationalError, match="locked"):
        ours.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    assert 0.15 <= time.monotonic() - started < 2
    assert not ours.holds_writer_lock
    other.rollback()

    # The failed attempt left nothing held: the next transaction starts at once.
    ours.set_autocommit(True)
    ours.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    ours.cursor().execute("INSERT INTO entry (who) VALUES ('after')")
    ours.commit()
    ours.set_autocommit(True)
    ours.close()
    other.close()


def test_threads_of_one_process_take_turns(database_file):
    order = []

    def write(name, hold):
        wrapper = wrapper_for(database_file)
        wrapper.ensure_connection()
        wrapper.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
        order.append(f"{name} began")
        time.sleep(hold)
        wrapper.cursor().execute("INSERT INTO entry (who) VALUES (%s)", [name])
        order.append(f"{name} committed")
        wrapper.commit()
        wrapper.set_autocommit(True)
        wrapper.close()

    first = threading.Thread(target=write, args=("first", 0.2))
    first.start()
    time.sleep(0.05)
    second = threading.Thread(target=write, args=("second", 0))
    second.start()
    first.join(5)
    second.join(5)
    assert order == ["first began", "first committed", "second began", "second committed"]


@pytest.mark.parametrize("ending", ["rollback", "close"])
def test_a_transaction_ended_any_way_lets_the_next_writer_in(database_file, ending):
    first = wrapper_for(database_file, timeout=0.3)
    first.ensure_connection()
    first.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    first.cursor().execute("INSERT INTO entry (who) VALUES ('rolled back')")
    first.rollback() if ending == "rollback" else first.close()

    outcome = []

    def second_writer():
        wrapper = wrapper_for(database_file, timeout=0.3)
        wrapper.ensure_connection()
        try:
            wrapper.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
            wrapper.cursor().execute("INSERT INTO entry (who) VALUES ('second')")
            wrapper.commit()
            outcome.append("written")
        except OperationalError as error:
            outcome.append(str(error))
        finally:
            wrapper.close()

    thread = threading.Thread(target=second_writer)
    thread.start()
    thread.join(5)
    assert outcome == ["written"]
    first.close()


def test_placeholders_and_escaped_percent_signs_convert_as_django_converts_them(database_file):
    from alongside.core.sqlite.base import _qmark_style

    wrapper = wrapper_for(database_file)
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("INSERT INTO entry (who) VALUES (%s), (%s)", ["50%", "fifty"])
            # The same query twice (the second conversion is remembered), with `%%` standing for a literal `%`.
            for _ in range(2):
                cursor.execute("SELECT who || '%%' FROM entry WHERE who = %s", ["50%"])
                assert cursor.fetchall() == [("50%%",)]
            # Named parameters still take Django's own way.
            cursor.execute("SELECT who FROM entry WHERE who = %(who)s", {"who": "fifty"})
            assert cursor.fetchall() == [("fifty",)]
    finally:
        wrapper.close()
    assert _qmark_style("SELECT '%%', %s, %s") == "SELECT '%', ?, ?"
