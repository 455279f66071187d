"""The early-warning engine's work in the worker."""

from __future__ import annotations

from datetime import timedelta

from alongside.core.worker import every
from alongside.signals import alerts, engine


@every(timedelta(seconds=30), "signals: safety events without an alert")
def safety_sweep() -> int:
    return engine.sweep_safety_events()


@every(timedelta(minutes=1), "signals: escalate unacknowledged alerts")
def escalate() -> int:
    return alerts.escalate_due()


@every(timedelta(minutes=5), "signals: close members' days")
def close_days() -> int:
    total = 0
    while True:
        done = engine.close_due_days()
        total += done
        if done < 500:
            return total


@every(timedelta(minutes=1), "signals: rebuild stale detector states")
def rebuild_stale() -> int:
    return engine.rebuild_stale()
