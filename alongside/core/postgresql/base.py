"""Django's PostgreSQL backend, checking a kept connection without a round trip to the server.

Connections are kept between requests (CONN_MAX_AGE), and with CONN_HEALTH_CHECKS Django makes sure at the start
of each request that the kept one still works by running `SELECT 1` on it: a round trip, and the server's
processor time, on every request. Yet an idle connection has nothing to read unless the server has spoken since
its last answer, and a server that closes a connection (a restart, a terminated backend, an idle timeout) says
so, or the socket reads as ended. So a connection psycopg knows to be closed or broken is unusable; an idle one
with nothing to read is usable as it is; and one with something to read, or not idle, gets Django's own check,
which tells a goodbye from a harmless notice. A peer that vanished without a word (a cut cable) fools both
checks alike: `SELECT 1` would wait for it as long as the first query of the request does.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self):
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        if connection.info.transaction_status != TransactionStatus.IDLE:
            return super().is_usable()
        try:
            poll = select.poll()
            poll.register(connection.fileno(), select.POLLIN | select.POLLPRI)
            said_something = bool(poll.poll(0))
        except (OSError, ValueError):
            return False
        return super().is_usable() if said_something else True
