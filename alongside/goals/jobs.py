"""The goals app's work in the worker: celebrating recovery milestones and reminding of milestones due tomorrow.
Both are keyed, so running them twice, or in two workers, adds nothing."""

from __future__ import annotations

from datetime import timedelta

from alongside.core.worker import every
from alongside.goals import celebrations


# Members' days end at different hours (their own clocks), so the job looks every quarter of an hour.
@every(timedelta(minutes=15), "goals: celebrate recovery milestones")
def celebrate_recovery_days() -> int:
    return celebrations.celebrate_recovery_days()


@every(timedelta(minutes=15), "goals: milestones due tomorrow")
def remind_due_milestones() -> int:
    return celebrations.remind_due_milestones()
