from datetime import datetime, time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from alongside.accounts import actions
from alongside.accounts.audit_search import AuditSearchForm
from alongside.accounts.forms import CrisisLineFormSet, OrganisationSettingsForm
from alongside.accounts.models import (
    OrgRole,
    SettingsVersion,
    admin_organisation_or_404,
)
from alongside.audit.models import AuditEvent
from alongside.core import crisis
from alongside.core.forms import add_domain_errors


@login_required
def org_audit_log(request, slug):
    """Org admins search their organisation's audit log."""
    organisation = admin_organisation_or_404(request.user, slug)
    form = AuditSearchForm(request.GET or None)
    # Events about this organisation's data, and the sign-ins of its people (which belong to no organisation).
    people = OrgRole.objects.filter(organisation=organisation).values("user")
    events = AuditEvent.objects.filter(Q(organisation=organisation) | Q(organisation__isnull=True, actor__in=people))
    if form.is_valid():
        data = form.cleaned_data
        if data["who"]:
            events = events.filter(actor_label__icontains=data["who"])
        if data["member"]:
            events = events.filter(member_label__icontains=data["member"])
        if data["action"]:
            events = events.filter(action=data["action"])
        zone = timezone.get_current_timezone()
        if data["since"]:
            events = events.filter(at__gte=datetime.combine(data["since"], time.min, tzinfo=zone))
        if data["until"]:
            events = events.filter(at__lte=datetime.combine(data["until"], time.max, tzinfo=zone))
    page = Paginator(events.select_related("actor", "member"), 100).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "accounts/org_audit_log.html",
        {"organisation": organisation, "form": form, "page": page, "query": query.urlencode()},
        status=400 if form.errors else 200,
    )


@login_required
def organisation_settings(request, slug):
    """Org admins: name, country, time zone, emergency number and crisis lines, support contact."""
    organisation = admin_organisation_or_404(request.user, slug)
    current = actions.organisation_settings(organisation)
    form = OrganisationSettingsForm(request.POST or None, initial=current)
    lines = CrisisLineFormSet(request.POST or None, initial=organisation.crisis_lines, prefix="lines")
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        values = {key: form.cleaned_data[key] for key in actions.ORGANISATION_SETTINGS if key in form.cleaned_data}
        values["crisis_lines"] = [line for line in lines.cleaned_data if line]
        if form.cleaned_data["use_country_defaults"]:
            defaults = crisis.defaults_for(values["country"])
            values["emergency_number"] = defaults.emergency_number
            values["emergency_note"] = str(defaults.emergency_note)
            values["crisis_lines"] = [line.as_dict() for line in defaults.lines]
        try:
            actions.update_organisation(by=request.user, organisation=organisation, request=request, **values)
            messages.success(request, _("Saved. The crisis page shows the new details now."))
            return redirect("org:settings", slug=organisation.slug)
        except ValidationError as error:
            organisation.refresh_from_db()
            add_domain_errors(form, error)
    versions = SettingsVersion.objects.filter(subject=f"organisation:{organisation.pk}").select_related("changed_by")
    context = {"organisation": organisation, "form": form, "lines": lines, "versions": versions[:20]}
    invalid = request.method == "POST" and (form.errors or lines.total_error_count())
    return render(request, "accounts/organisation_settings.html", context, status=400 if invalid else 200)
