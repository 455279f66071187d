"""Outreach: tasks for the care team to reach a member, and the log of each attempt (how, what happened, what
next). Tasks are opened by people or by the accountability ladder; contacts are recorded by supporters."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alongside.audit.log import record
from alongside.audit.models import AuditAction
from alongside.care import policy
from alongside.care.models import (
    Category,
    ContactMethod,
    ContactOutcome,
    OutreachContact,
    OutreachTask,
    OutreachTaskStatus,
)


def open_task(*, organisation, member, owner, reason: str, due_at: datetime, source_key: str = "") -> OutreachTask:
    """A task for `owner` to reach `member` by `due_at`. The same source never opens two tasks."""
    if source_key:
        existing = OutreachTask.objects.filter(source_key=source_key).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            return OutreachTask.objects.create(
                organisation=organisation, member=member, owner=owner, reason=reason[:300], due_at=due_at,
                source_key=source_key,
            )  # fmt: skip
    except IntegrityError:
        return OutreachTask.objects.get(source_key=source_key)


def close_task(task: OutreachTask, *, note: str = "") -> OutreachTask:
    if task.status == OutreachTaskStatus.OPEN:
        task.status, task.closed_at, task.closed_note = OutreachTaskStatus.DONE, timezone.now(), note[:300]
        task.save(update_fields=["status", "closed_at", "closed_note"])
    return task


def record_contact(
    *, by, member, method: str, outcome: str, note: str = "", next_step: str = "", task: OutreachTask | None = None,
    done: bool = False, request=None,
) -> OutreachContact:  # fmt: skip
    """A supporter of the member records an attempt to reach them (audited); it may close its task."""
    if not policy.live_relationships(by).filter(member=member).exists():
        raise PermissionDenied
    errors = {}
    if method not in ContactMethod.values:
        errors["method"] = _("Choose how you tried to reach them.")
    if outcome not in ContactOutcome.values:
        errors["outcome"] = _("Choose what happened.")
    if len(note) > 2000:
        errors["note"] = _("Keep the note under 2,000 characters.")
    if len(next_step) > 300:
        errors["next_step"] = _("Keep the next step under 300 characters.")
    if task is not None and task.member_id != member.pk:
        errors["task"] = _("That task is about someone else.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        contact = OutreachContact.objects.create(
            member=member, staff=by, task=task, method=method, outcome=outcome, note=note.strip(),
            next_step=next_step.strip(),
        )  # fmt: skip
        if task is not None and done:
            close_task(task, note=_("Closed after a contact: %(outcome)s") % {"outcome": contact.get_outcome_display()})
        roles, organisation = policy.relation_to(by, member)
        record(
            AuditAction.CHANGE, request=request, actor=by, member=member, organisation=organisation,
            category=Category.ENGAGEMENT, detail=f"recorded outreach contact {contact.pk}", actor_roles=roles,
        )  # fmt: skip
    return contact


def open_tasks_for(owner):
    return OutreachTask.objects.filter(owner=owner, status=OutreachTaskStatus.OPEN).select_related("member")
