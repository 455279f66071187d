"""The groups app's worker jobs (meeting reminders, extending open-ended meeting series), and its calendar feed
source. Each job may run twice, or in two worker processes, harmlessly."""

from __future__ import annotations

from datetime import timedelta

from alongside.core.worker import every
from alongside.groups import feeds, meetings

feeds.register()


@every(timedelta(minutes=1), "groups: meeting reminders")
def meeting_reminders() -> int:
    return meetings.send_reminders()


@every(timedelta(hours=6), "groups: extend open-ended meeting series")
def extend_meeting_series() -> int:
    return meetings.extend()
