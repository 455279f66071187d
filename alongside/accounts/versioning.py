"""Versioned settings: each save keeps the whole document and what changed, and is audited."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max

from alongside.accounts.models import Organisation, SettingsVersion
from alongside.audit.log import record
from alongside.audit.models import AuditAction


def changes_between(before: dict, after: dict) -> list[dict]:
    return [
        {"field": key, "before": before.get(key), "after": after.get(key)}
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    ]


@transaction.atomic
def save_version(*, by, organisation: Organisation, subject: str, before: dict, after: dict, request=None):
    """Keep `after` as the next version of `subject` if anything changed; returns the version or None."""
    changes = changes_between(before, after)
    if not changes:
        return None
    latest = SettingsVersion.objects.filter(subject=subject).aggregate(latest=Max("number"))["latest"] or 0
    version = SettingsVersion.objects.create(
        organisation=organisation,
        subject=subject,
        number=latest + 1,
        data=after,
        changes=changes,
        changed_by=by,
    )
    summary = ", ".join(change["field"] for change in changes)
    record(
        AuditAction.SETTINGS_CHANGE,
        actor=by,
        request=request,
        organisation=organisation,
        detail=f"{subject} v{version.number}: {summary}"[:300],
    )
    return version
