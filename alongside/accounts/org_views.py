from datetime import datetime, time

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from alongside.accounts.audit_search import AuditSearchForm
from alongside.accounts.models import Organisation, OrgRole, admin_organisations
from alongside.audit.models import AuditEvent


@login_required
def org_audit_log(request, slug):
    """Org admins search their organisation's audit log."""
    organisation = get_object_or_404(Organisation, slug=slug)
    if not admin_organisations(request.user).filter(pk=organisation.pk).exists():
        raise Http404
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
