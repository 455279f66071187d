from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from alongside.accounts.decorators import member_required
from alongside.accounts.models import Invitation, Organisation, Role, admin_organisation_or_404
from alongside.audit.models import AuditEvent
from alongside.care import actions, policy
from alongside.care.forms import AddSupporterForm, SharingForm
from alongside.care.models import CareRelationship, Category
from alongside.core.forms import add_domain_errors
from alongside.programs.models import Enrolment, Program


@member_required
def sharing(request):
    """The member's own page: who supports them, and what each supporter may see."""
    cards = [
        (relationship, SharingForm(relationship=relationship))
        for relationship in CareRelationship.objects.care_team_of(request.user)
    ]
    return render(request, "care/sharing.html", {"cards": cards})


@member_required
@require_POST
def update_sharing(request, relationship_pk):
    relationship = get_object_or_404(CareRelationship.objects.care_team_of(request.user), pk=relationship_pk)
    form = SharingForm(request.POST, relationship=relationship)
    saved = False
    if form.is_valid():
        try:
            relationship = actions.set_sharing(
                member=request.user,
                relationship=relationship,
                categories=form.cleaned_data["categories"],
                safety_alerts=form.cleaned_data["safety_alerts"],
                request=request,
            )
            saved = True
        except ValidationError as error:
            add_domain_errors(form, error)
    if saved:
        relationship = CareRelationship.objects.care_team_of(request.user).get(pk=relationship.pk)
        form = SharingForm(relationship=relationship)
        message = _("Saved. %(name)s now sees only what is ticked.") % {"name": relationship.staff.display_name}
        if not request.htmx:
            messages.success(request, message)
            return redirect("care:sharing")
    else:
        message = ""
    context = {"relationship": relationship, "form": form, "saved_message": message}
    if request.htmx:
        return render(request, "care/sharing_card.html", context)
    cards = [
        (r, form if r.pk == relationship.pk else SharingForm(relationship=r))
        for r in CareRelationship.objects.care_team_of(request.user)
    ]
    return render(request, "care/sharing.html", {"cards": cards}, status=400)


@member_required
def access_log(request):
    """Who has seen my data: every staff read or change of this member's record."""
    events = AuditEvent.objects.filter(member=request.user).exclude(actor=request.user).select_related("actor")
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    label_events(page.object_list)
    return render(request, "care/access_log.html", {"page": page})


def label_events(events) -> None:
    """Readable category and role names for audit events shown to people."""
    categories, roles = {**dict(Category.choices), policy.NOTES: _("Clinical notes")}, dict(Role.choices)
    for event in events:
        event.category_label = categories.get(event.category, event.category)
        event.roles_label = ", ".join(str(roles.get(role, role)) for role in event.actor_roles.split(",") if role)


def _admin_organisation(request, slug) -> Organisation:
    return admin_organisation_or_404(request.user, slug)


@login_required
def org_members(request, slug):
    """Org admin: the organisation's members and their care teams; add or end a supporter."""
    organisation = _admin_organisation(request, slug)
    form = AddSupporterForm(request.POST or None, organisation=organisation)
    if request.method == "POST" and form.is_valid():
        try:
            actions.add_supporter(
                by=request.user,
                organisation=organisation,
                member=form.cleaned_data["member"],
                staff=form.cleaned_data["staff"],
                role=form.cleaned_data["role"],
                request=request,
            )
            messages.success(request, _("Supporter added."))
            return redirect("care:org_members", slug=organisation.slug)
        except ValidationError as error:
            add_domain_errors(form, error)
    programs = Program.objects.filter(organisation=organisation).order_by("archived_at", "name")
    chosen = request.GET.get("program", "")
    members = policy.members_of(organisation).order_by("display_name")
    if chosen.isdigit():
        members = members.filter(enrolments__program_id=int(chosen), enrolments__ended_at__isnull=True)
    enrolments: dict[int, list] = {}
    for enrolment in (
        Enrolment.objects.current().filter(program__organisation=organisation).select_related("program", "phase")
    ):
        enrolments.setdefault(enrolment.member_id, []).append(enrolment)
    relationships = (
        CareRelationship.objects.active()
        .filter(organisation=organisation)
        .select_related("staff")
        .order_by("staff__display_name")
    )
    teams: dict[int, list] = {}
    for relationship in relationships:
        teams.setdefault(relationship.member_id, []).append(relationship)
    rows = [(member, enrolments.get(member.pk, []), teams.get(member.pk, [])) for member in members.distinct()]
    waiting = Invitation.objects.filter(
        organisation=organisation, role=Role.MEMBER, accepted_at__isnull=True, revoked_at__isnull=True
    ).select_related("program_link__program", "invited_by")
    return render(
        request,
        "care/org_members.html",
        {
            "organisation": organisation,
            "rows": rows,
            "form": form,
            "programs": programs,
            "chosen": chosen,
            "waiting": waiting,
            "now": timezone.now(),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def end_supporter(request, slug, relationship_pk):
    organisation = _admin_organisation(request, slug)
    relationship = get_object_or_404(CareRelationship.objects.active(), pk=relationship_pk, organisation=organisation)
    actions.end_relationship(by=request.user, relationship=relationship, request=request)
    messages.success(
        request,
        _("%(name)s no longer supports %(member)s.")
        % {
            "name": relationship.staff.display_name,
            "member": relationship.member.display_name,
        },
    )
    return redirect("care:org_members", slug=organisation.slug)
