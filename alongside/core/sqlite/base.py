"""Django's SQLite backend, waiting for the write lock in short steps instead of SQLite's long sleeps.

SQLite lets one connection write at a time. Its own busy handler makes a waiting writer sleep 1, 2, 5, 10, …
up to 100 ms between tries, so under load a writer can sleep long after the lock was released; with several
web threads checking in at once that sleep, not the work, set the slowest responses. Here SQLite's busy
timeout is zero and a statement refused as busy outside a transaction (`BEGIN IMMEDIATE`, which starts every
write transaction here, or a single autocommit write) is tried again after a fraction of a millisecond, until
the configured timeout. Such a refused statement did nothing, so trying it again is safe. Inside a
transaction the connection already holds the write lock, and readers in WAL mode never wait.

The cursor also remembers how it rewrote a query's placeholders for SQLite (`_qmark_style`).
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from functools import lru_cache

from django.db import OperationalError
from django.db.backends.sqlite3 import base

_writers = threading.Lock()


def _is_busy(error: sqlite3.OperationalError) -> bool:
    return (getattr(error, "sqlite_errorcode", 0) & 0xFF) == sqlite3.SQLITE_BUSY


class WaitingCursor(base.SQLiteCursorWrapper):
    wait_seconds = 20.0

    def _waiting(self, run, *args):
        deadline = None
        pause = 0.0002
        while True:
            try:
                return run(*args)
            except sqlite3.OperationalError as error:
                if not _is_busy(error) or self.connection.in_transaction:
                    raise
                now = time.monotonic()
                deadline = deadline or now + self.wait_seconds
                if now >= deadline:
                    raise
                # Jitter keeps waiting threads and processes from trying in lockstep.
                time.sleep(pause * (0.5 + random.random()))  # noqa: S311 (timing jitter, not a secret)
                pause = min(pause * 1.5, 0.002)

    def execute(self, query, params=None):
        return self._waiting(super().execute, query, params)

    def convert_query(self, query, *, param_names=None):
        if param_names is None:
            return _qmark_style(query)
        return super().convert_query(query, param_names=param_names)

    def executemany(self, query, param_list):
        return self._waiting(super().executemany, query, param_list)


@lru_cache(maxsize=1024)
def _qmark_style(query: str) -> str:
    """Django's rewrite of a query's `%s` placeholders into SQLite's `?`, remembered: a regular expression over
    the whole query on every run took a few percent of a check-in's processor time, and the same few queries
    run again and again."""
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


class DatabaseWrapper(base.DatabaseWrapper):
    wait_seconds = WaitingCursor.wait_seconds

    def get_connection_params(self):
        params = super().get_connection_params()
        self.wait_seconds = float(params.get("timeout", self.wait_seconds))
        # SQLite's own busy handler is off: WaitingCursor does the waiting.
        params["timeout"] = 0
        return params

    def get_new_connection(self, conn_params):
        # Opening runs the init commands, and `journal_mode=WAL` can find the database briefly locked (another
        # connection opening it, or the last one closing it, rebuilds or checkpoints the log): give that SQLite's
        # own busy wait, then hand waiting back to WaitingCursor.
        connection = super().get_new_connection({**conn_params, "timeout": self.wait_seconds})
        connection.execute("PRAGMA busy_timeout = 0")
        return connection

    def create_cursor(self, name=None):
        cursor = self.connection.cursor(factory=WaitingCursor)
        cursor.wait_seconds = self.wait_seconds
        return cursor

    # Threads of one process queue for the write lock on a lock of their own, asleep, rather than all trying
    # SQLite's; only the thread at the head of the queue competes with other processes.
    holds_writer_lock = False

    def _start_transaction_under_autocommit(self):
        if not _writers.acquire(timeout=self.wait_seconds):
            raise OperationalError("database is locked (waited for this process's other writers)")
        self.holds_writer_lock = True
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_writer_lock()
            raise

    def _release_writer_lock(self):
        if self.holds_writer_lock:
            self.holds_writer_lock = False
            _writers.release()

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._release_writer_lock()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release_writer_lock()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._release_writer_lock()
