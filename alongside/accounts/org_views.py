from datetime import datetime, time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from alongside.accounts import invitations
from alongside.accounts.audit_search import AuditSearchForm
from alongside.accounts.forms import InvitationForm
from alongside.accounts.models import Invitation, Organisation, OrgRole, Role, admin_organisations, can_invite
from alongside.audit.models import AuditEvent
from alongside.core import ratelimit


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


@login_required
def invite_people(request, slug):
    """Org admins invite staff and members; clinicians and case managers invite members."""
    organisation = get_object_or_404(Organisation, slug=slug)
    roles = [role for role in Role if can_invite(request.user, organisation, role)]
    if not roles:
        raise Http404
    form = InvitationForm(request.POST or None, roles=roles)
    link = None
    status = 200
    if request.method == "POST" and form.is_valid():
        if not ratelimit.hit("invite", str(request.user.pk), limit=50, per_seconds=3600):
            form.add_error(None, _("You have sent many invitations in the last hour. Try again later."))
            status = 429
        else:
            try:
                link = invitations.invite(
                    by=request.user,
                    organisation=organisation,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    request=request,
                )
                messages.success(request, _("Invitation sent to %(email)s.") % {"email": link.invitation.email})
                form = InvitationForm(roles=roles)
            except ValidationError as error:
                form.add_error(None, error)
    pending = Invitation.objects.filter(
        organisation=organisation, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).select_related("invited_by")
    if Role.ORG_ADMIN not in request.user.roles_in(organisation):
        pending = pending.filter(invited_by=request.user)
    if form.errors and status == 200:
        status = 400
    return render(
        request,
        "accounts/invite.html",
        {"organisation": organisation, "form": form, "pending": pending, "link": link if settings.DEMO_MODE else None},
        status=status,
    )


@login_required
@require_POST
def withdraw_invitation(request, slug, invitation_pk):
    organisation = get_object_or_404(Organisation, slug=slug)
    invitation = get_object_or_404(Invitation, pk=invitation_pk, organisation=organisation)
    try:
        invitations.withdraw(by=request.user, invitation=invitation)
    except PermissionDenied:
        raise Http404 from None
    messages.success(request, _("Invitation withdrawn."))
    return redirect("org:invite", slug=organisation.slug)
