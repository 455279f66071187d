"""The groups app's worker jobs (meeting reminders, extending open-ended meeting series)."""
