"""What monitoring tells the apps above it. Both are sent once the write is committed; a receiver's failure is
logged and never reaches the member (the early-warning engine repairs its own state from the stored rows)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import Signal

log = logging.getLogger(__name__)

# Sent with `checkin` (its `tag_list` holds its tags) after a check-in is stored.
checkin_recorded = Signal()
# Sent with `response` after a questionnaire response is stored.
response_recorded = Signal()


def announce(signal: Signal, **kwargs) -> None:
    def send():
        for receiver, result in signal.send_robust(sender=None, **kwargs):
            if isinstance(result, Exception):
                log.error("%s failed: %r", getattr(receiver, "__name__", receiver), result, exc_info=result)

    transaction.on_commit(send)
