"""What monitoring tells the apps above it. A receiver's failure is logged and never reaches the member (the
early-warning engine repairs its own state from the stored rows).

- `checkins_recorded` is sent by the worker with a batch of stored check-ins (`checkins`, oldest first, each
  with its `tag_list`), inside the transaction that marks them announced (`checkins.announce_waiting`). Check-ins
  arrive faster than anything else a member sends, so the request that stores one only stores it; receivers
  must keep their own writes in a savepoint so that one failure leaves the batch's transaction usable.
- `checkins_waiting` is sent with the same batch just before, on SQLite only, where one writer at a time holds
  the whole database and every web request that stores a check-in waits while the worker writes. A receiver may
  read what is committed and work out its writes there, and return them; what each receiver returned comes back
  to it with `checkins_recorded` as `prepared` (by receiver), for it to check and write under the lock.
- `response_recorded` is sent with `response` once a questionnaire response is committed.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import Signal

log = logging.getLogger(__name__)

checkins_recorded = Signal()
checkins_waiting = Signal()
response_recorded = Signal()


def send_logged(signal: Signal, **kwargs) -> dict:
    """Send now; a receiver that raises is logged and the others still run. Returns what each receiver
    returned, by receiver (those that returned something)."""
    answers = {}
    for receiver, result in signal.send_robust(sender=None, **kwargs):
        if isinstance(result, Exception):
            log.error("%s failed: %r", getattr(receiver, "__name__", receiver), result, exc_info=result)
        elif result is not None:
            answers[receiver] = result
    return answers


def announce(signal: Signal, **kwargs) -> None:
    """Send once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: send_logged(signal, **kwargs))
