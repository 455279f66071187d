"""Writing to the audit log. Every other app records through `record` (or `record_many`, for a page that shows
many members at once)."""

from __future__ import annotations

from django.conf import settings

from alongside.audit.models import AuditAction, AuditEvent


def client_ip(request) -> str | None:
    if request is None:
        return None
    if settings.SECURE_PROXY_SSL_HEADER:
        # Behind our own reverse proxy the client is the first address it forwarded.
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def _event(action, actor, request, member, organisation, category, detail, actor_roles, actor_label) -> AuditEvent:
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    return AuditEvent(
        action=AuditAction(action),
        actor=actor,
        actor_label=actor_label or (actor.email if actor else ""),
        actor_roles=actor_roles,
        member=member,
        member_label=member.display_name if member else "",
        organisation=organisation,
        category=str(category or ""),
        detail=detail[:300],
        ip_address=client_ip(request),
    )


def record_many(action: AuditAction | str, *, request, entries: list[dict]) -> list[AuditEvent]:
    """One event per entry (each with the keyword arguments of `record` but action and request), in one insert."""
    events = []
    for entry in entries:
        event = _event(
            action,
            entry.get("actor"),
            request,
            None,
            None,
            entry.get("category", ""),
            entry.get("detail", ""),
            entry.get("actor_roles", ""),
            entry.get("actor_label", ""),
        )
        # The member and organisation may be instances or anything with `pk` and (a member) `display_name`;
        # an organisation may be its id.
        member, organisation = entry.get("member"), entry.get("organisation")
        if member is not None:
            event.member_id, event.member_label = member.pk, member.display_name
        event.organisation_id = getattr(organisation, "pk", organisation)
        events.append(event)
    return AuditEvent.objects.bulk_create(events)


def record(
    action: AuditAction | str,
    *,
    actor=None,
    request=None,
    member=None,
    organisation=None,
    category: str = "",
    detail: str = "",
    actor_roles: str = "",
    actor_label: str = "",
    using: str = "default",
) -> AuditEvent:
    """Add one event. `using` names the database for the rare writer that is not about the default one (a
    restore records itself in the database it restored)."""
    event = _event(action, actor, request, member, organisation, category, detail, actor_roles, actor_label)
    event.save(using=using)
    return event


def forget_person(person, label: str) -> int:
    """Erase a deleted account's personal data from the log: every event by or about the person keeps its
    numeric id and `label` (e.g. "Deleted member #12") where it named them, and their name and e-mail leave the
    details. The one change the append-only log allows, because erasure is owed to the person; returns how many
    events changed."""
    from django.db.models import Q, QuerySet

    names = [value for value in {person.display_name, person.email} if value]
    # A failed sign-in keeps the address typed, with no actor.
    events = AuditEvent.objects.filter(
        Q(actor_id=person.pk) | Q(member_id=person.pk) | Q(actor_label__iexact=person.email)
    )
    changed = 0
    for event in events.only("pk", "actor_id", "member_id", "actor_label", "member_label", "detail"):
        values = {}
        if event.actor_id == person.pk or event.actor_label.lower() == person.email.lower():
            values["actor_label"] = label
        if event.member_id == person.pk:
            values["member_label"] = label
        detail = event.detail
        for name in names:
            detail = detail.replace(name, label)
        if detail != event.detail:
            values["detail"] = detail[:300]
        # QuerySet.update itself, past the log's refusal of updates.
        changed += QuerySet.update(AuditEvent.objects.filter(pk=event.pk), **values)
    return changed
