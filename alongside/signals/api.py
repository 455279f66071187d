"""Alerts in the JSON API: the care team's alerts with their evidence, acknowledging and resolving them, and
a member's own list of what was shared on their behalf. Same rules as the pages: a supporter sees only the
firings of categories the member shares with them, and every staff read is in the audit log."""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from alongside.accounts.api import require_scope
from alongside.audit.log import record
from alongside.audit.models import AuditAction
from alongside.care import policy
from alongside.care.models import Category
from alongside.signals import alerts, explain
from alongside.signals.models import Alert, AlertStatus, Outcome

router = Router(tags=["alerts"])


class Problem(Schema):
    detail: str
    fields: list[str] = []


class FiringOut(Schema):
    detector: str
    rule: str
    category: str
    severity: str
    day: date
    fired_at: datetime
    explanation: str
    evidence: dict


class RecipientOut(Schema):
    name: str
    level: int
    told_at: datetime
    without_detail: bool


class AlertOut(Schema):
    id: int
    member_id: int
    member: str
    severity: str
    status: str
    opened_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    outcome: str
    firings: list[FiringOut]
    recipients: list[RecipientOut]


class ResolveIn(Schema):
    outcome: str
    note: str = ""


def _out(person, alert: Alert) -> dict:
    firings = alert.firings.all() if person.pk == alert.member_id else alerts.visible_firings(person, alert)
    return {
        "id": alert.pk,
        "member_id": alert.member_id,
        "member": alert.member.display_name,
        "severity": alert.severity,
        "status": alert.status,
        "opened_at": alert.opened_at,
        "acknowledged_at": alert.acknowledged_at,
        "acknowledged_by": alert.acknowledged_by.display_name if alert.acknowledged_by else None,
        "resolved_at": alert.resolved_at,
        "outcome": alert.outcome,
        "firings": [
            {
                "detector": f.detector,
                "rule": f.rule,
                "category": f.category,
                "severity": f.severity,
                "day": f.day,
                "fired_at": f.fired_at,
                "explanation": explain.describe(f),
                "evidence": f.evidence,
            }
            for f in firings
        ],
        "recipients": [
            {"name": r.person.display_name, "level": r.level, "told_at": r.told_at, "without_detail": r.without_detail}
            for r in alert.recipients.select_related("person")
        ],
    }


def _audit_read(request, alert: Alert) -> None:
    if request.user.pk == alert.member_id:
        return
    roles, organisation = policy.relation_to(request.user, alert.member)
    record(
        AuditAction.VIEW,
        request=request,
        member=alert.member,
        organisation=organisation,
        category=Category.PROFILE,
        detail=f"alert {alert.pk} evidence (API)",
        actor_roles=roles,
    )


def _visible(request, alert_id: int) -> Alert:
    alert = (
        alerts.alerts_visible_to(request.user).filter(pk=alert_id).select_related("member", "acknowledged_by").first()
    )
    if alert is None:
        raise Http404
    return alert


@router.get(
    "/alerts", response=list[AlertOut], summary="Open alerts I may see (staff), or the alerts about me (member)"
)
def list_alerts(request, include_resolved: bool = False):
    require_scope(request, "read")
    rows = alerts.alerts_visible_to(request.user).select_related("member", "acknowledged_by")
    if not include_resolved:
        rows = rows.exclude(status=AlertStatus.RESOLVED)
    result = []
    for alert in rows.order_by("-opened_at")[:200]:
        _audit_read(request, alert)
        result.append(_out(request.user, alert))
    return result


@router.get("/alerts/{alert_id}", response={200: AlertOut, 404: Problem}, summary="One alert with its evidence")
def get_alert(request, alert_id: int):
    require_scope(request, "read")
    alert = _visible(request, alert_id)
    _audit_read(request, alert)
    return Status(200, _out(request.user, alert))


@router.post(
    "/alerts/{alert_id}/acknowledge",
    response={200: AlertOut, 404: Problem},
    summary="Acknowledge an alert (stops its escalation; again changes nothing)",
)
def acknowledge_alert(request, alert_id: int):
    require_scope(request, "write")
    alert = _visible(request, alert_id)
    try:
        alert = alerts.acknowledge(alert, by=request.user, request=request)
    except PermissionDenied:
        raise Http404 from None
    return Status(200, _out(request.user, alert))


@router.post(
    "/alerts/{alert_id}/resolve",
    response={200: AlertOut, 404: Problem, 409: Problem, 422: Problem},
    summary=f"Resolve an alert with its outcome ({', '.join(Outcome.values)})",
)
def resolve_alert(request, alert_id: int, payload: ResolveIn):
    require_scope(request, "write")
    alert = _visible(request, alert_id)
    if alert.status == AlertStatus.RESOLVED:
        return Status(409, {"detail": _("This alert was already resolved."), "fields": ["outcome"]})
    try:
        alert = alerts.resolve(alert, by=request.user, outcome=payload.outcome, note=payload.note, request=request)
    except PermissionDenied:
        raise Http404 from None
    except DjangoValidationError as error:
        return Status(422, {"detail": " ".join(error.messages), "fields": sorted(error.message_dict)})
    return Status(200, _out(request.user, alert))
