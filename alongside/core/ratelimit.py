"""Fixed-window rate limits counted in the database.

The common library for this (django-ratelimit) needs memcached or Redis for atomic counters; Alongside runs
on SQLite or PostgreSQL alone, so counts live in a table, incremented with a single UPDATE ... SET count =
count + 1 that both databases apply atomically. Only sensitive, low-volume endpoints use it (password reset,
invitations), so the extra write is cheap.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from alongside.core.models import RateLimitCounter


def _window_start(now: datetime, seconds: int) -> datetime:
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=now.tzinfo)


def hit(scope: str, identity: str, *, limit: int, per_seconds: int) -> bool:
    """Count one request for (scope, identity); True while within `limit` per window, False once over it."""
    now = timezone.now()
    # Identities (e-mail addresses, IPs) are hashed: this table is not a second audit log.
    key = f"{scope}:{hashlib.sha256(identity.strip().lower().encode()).hexdigest()[:32]}"
    window = _window_start(now, per_seconds)
    with transaction.atomic():
        updated = RateLimitCounter.objects.filter(key=key, window_start=window).update(count=F("count") + 1)
        if not updated:
            try:
                with transaction.atomic():
                    RateLimitCounter.objects.create(key=key, window_start=window, count=1)
            except IntegrityError:  # another process created it first
                RateLimitCounter.objects.filter(key=key, window_start=window).update(count=F("count") + 1)
        count = RateLimitCounter.objects.values_list("count", flat=True).get(key=key, window_start=window)
    if count == 1:
        RateLimitCounter.objects.filter(window_start__lt=now - timedelta(days=1)).delete()
    return count <= limit
