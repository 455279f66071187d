"""Alert pages: the care team's list of alerts, one alert with its evidence (acknowledge, resolve), and the
member's own page of what was shared on their behalf."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from alongside.audit.log import record
from alongside.audit.models import AuditAction
from alongside.care import plan, policy
from alongside.care.models import Category
from alongside.core.forms import add_domain_errors
from alongside.signals import alerts, explain
from alongside.signals.forms import ResolveForm
from alongside.signals.models import Alert, AlertRecipient, AlertStatus, Severity

log = logging.getLogger(__name__)

SEVERITY_ORDER = Case(
    When(severity=Severity.URGENT, then=Value(0)),
    When(severity=Severity.HIGH, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def _alert_or_404(request, alert_pk) -> Alert:
    alert = alerts.alerts_visible_to(request.user).filter(pk=alert_pk).select_related("member").first()
    if alert is None or alert.member_id == request.user.pk:
        raise Http404
    return alert


@login_required
def alert_list(request):
    """Open alerts first (most severe, then oldest), then the recently resolved."""
    if not request.user.is_care_staff:
        raise PermissionDenied
    visible = alerts.alerts_visible_to(request.user).exclude(member=request.user).select_related("member")
    open_alerts = (
        visible.exclude(status=AlertStatus.RESOLVED).annotate(rank=SEVERITY_ORDER).order_by("rank", "opened_at")
    )
    resolved = visible.filter(status=AlertStatus.RESOLVED).order_by("-resolved_at")[:20]
    return render(request, "signals/alert_list.html", {"open_alerts": open_alerts, "resolved": resolved})


@login_required
def on_call(request):
    """Urgent alerts still open, the longest waiting first, with how long each has waited and whether anyone
    has acknowledged it; refreshed in place every 30 seconds."""
    if not request.user.is_care_staff:
        raise PermissionDenied
    urgent = (
        alerts.alerts_visible_to(request.user)
        .exclude(member=request.user)
        .filter(severity=Severity.URGENT)
        .exclude(status=AlertStatus.RESOLVED)
        .select_related("member", "acknowledged_by")
        .annotate(waiting=Case(When(status=AlertStatus.OPEN, then=Value(0)), default=Value(1)))
        .order_by("waiting", "opened_at")
    )
    now = timezone.now()
    rows = [{"alert": alert, "minutes": int((now - alert.opened_at).total_seconds() // 60)} for alert in urgent]
    template = "signals/_on_call_rows.html" if request.htmx else "signals/on_call.html"
    return render(request, template, {"rows": rows})


def _detail_context(request, alert: Alert, form=None) -> dict:
    firings = list(alerts.visible_firings(request.user, alert))
    categories = sorted({firing.category for firing in firings})
    roles, organisation = policy.relation_to(request.user, alert.member)
    record(
        AuditAction.VIEW,
        request=request,
        member=alert.member,
        organisation=organisation,
        category=Category.CHECKINS if Category.CHECKINS in categories else Category.PROFILE,
        detail=f"alert {alert.pk} evidence ({', '.join(categories)})",
        actor_roles=roles,
    )
    evidence = []
    for firing in firings:
        try:
            chart = explain.chart(firing)
        except Exception:
            log.exception("drawing the evidence chart of firing %s failed", firing.pk)
            chart = None
        evidence.append(
            {
                "firing": firing,
                "text": explain.describe(firing),
                "chart": chart,
                "detector": explain.DETECTOR_NAMES.get(firing.detector, firing.detector),
            }
        )
    steps = None
    if policy.can(request.user, policy.Action.VIEW, alert.member, Category.PLAN):
        steps = plan.crisis_steps(alert.member)
    return {
        "alert": alert,
        "member": alert.member,
        "evidence": evidence,
        "steps": steps,
        "recipients": AlertRecipient.objects.filter(alert=alert).select_related("person"),
        "form": form or ResolveForm(),
    }


@login_required
def alert_detail(request, alert_pk):
    alert = _alert_or_404(request, alert_pk)
    return render(request, "signals/alert_detail.html", _detail_context(request, alert))


@login_required
@require_POST
def acknowledge(request, alert_pk):
    alert = _alert_or_404(request, alert_pk)
    try:
        alerts.acknowledge(alert, by=request.user, request=request)
    except PermissionDenied:
        raise Http404 from None
    messages.success(request, _("Acknowledged. The rest of the team can see that you are on it."))
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=request.is_secure()):
        return redirect(back)  # a quick action on another page (the member's record) returns there
    return redirect("signals:alert", alert_pk=alert.pk)


@login_required
@require_POST
def resolve(request, alert_pk):
    alert = _alert_or_404(request, alert_pk)
    form = ResolveForm(request.POST)
    if form.is_valid():
        try:
            alerts.resolve(
                alert,
                by=request.user,
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
                request=request,
            )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            add_domain_errors(form, error)
        else:
            messages.success(request, _("Alert resolved."))
            return redirect("signals:alert", alert_pk=alert.pk)
    alert.refresh_from_db()
    return render(request, "signals/alert_detail.html", _detail_context(request, alert, form))


@login_required
def my_alerts(request):
    """A member sees every alert raised about them, why, and who was told."""
    if not request.user.is_member:
        raise PermissionDenied
    rows = []
    for alert in Alert.objects.filter(member=request.user).prefetch_related("firings", "recipients__person")[:50]:
        rows.append(
            {
                "alert": alert,
                "reasons": [explain.describe_for_member(firing) for firing in alert.firings.all()],
                "recipients": list(alert.recipients.all()),
            }
        )
    return render(request, "signals/my_alerts.html", {"rows": rows})
