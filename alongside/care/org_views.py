"""Organisation admin pages about people: staff (roles, caseloads, deactivation), the member roster
(programs, phases, discharge dates, care teams) and invitations."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from alongside.accounts import invitations
from alongside.accounts.models import Invitation, Organisation, Role, admin_organisation_or_404, can_invite
from alongside.care import actions, policy
from alongside.care.forms import EnrolmentForm, MemberInvitationForm, StaffRolesForm, SuccessorForm
from alongside.care.models import CareRelationship
from alongside.core import ratelimit
from alongside.core.forms import add_domain_errors
from alongside.programs import actions as program_actions
from alongside.programs.models import Enrolment, ProgramInvitation

User = get_user_model()


def _admin_organisation(request, slug) -> Organisation:
    return admin_organisation_or_404(request.user, slug)


@login_required
def staff_list(request, slug):
    organisation = _admin_organisation(request, slug)
    people = (
        User.objects.filter(
            org_roles__organisation=organisation, org_roles__role__in=[r.value for r in Role if r != Role.MEMBER]
        )
        .distinct()
        .annotate(
            caseload=Count(
                "supporting",
                filter=Q(supporting__organisation=organisation, supporting__ended_at__isnull=True),
                distinct=True,
            )
        )
        .order_by("display_name")
    )
    labels = dict(Role.choices)
    rows = [
        (person, [labels[role] for role in sorted(person.roles_in(organisation) - {Role.MEMBER})])
        for person in people.prefetch_related("org_roles")
    ]
    return render(request, "care/staff_list.html", {"organisation": organisation, "rows": rows})


@login_required
def staff_manage(request, slug, person_pk):
    organisation = _admin_organisation(request, slug)
    person = get_object_or_404(User.objects.filter(org_roles__organisation=organisation).distinct(), pk=person_pk)
    held = sorted(person.roles_in(organisation) - {Role.MEMBER})
    roles_form = StaffRolesForm(initial={"roles": held})
    leave_form = SuccessorForm(organisation=organisation, person=person)
    status = 200
    if request.method == "POST":
        try:
            if "save_roles" in request.POST:
                roles_form = StaffRolesForm(request.POST)
                if roles_form.is_valid():
                    actions.set_staff_roles(
                        by=request.user,
                        organisation=organisation,
                        person=person,
                        roles=roles_form.cleaned_data["roles"],
                        request=request,
                    )
                    messages.success(request, _("Roles saved."))
                    return redirect("care:staff_manage", slug=slug, person_pk=person.pk)
            elif "deactivate" in request.POST:
                leave_form = SuccessorForm(request.POST, organisation=organisation, person=person)
                if leave_form.is_valid():
                    actions.deactivate_staff(
                        by=request.user,
                        organisation=organisation,
                        person=person,
                        successor=leave_form.cleaned_data["successor"],
                        request=request,
                    )
                    messages.success(request, _("%(name)s no longer has access.") % {"name": person.display_name})
                    return redirect("care:staff_list", slug=slug)
        except ValidationError as error:
            target = roles_form if "save_roles" in request.POST else leave_form
            add_domain_errors(target, error)
        status = 400
    caseload = actions.caseload(person, organisation).select_related("member").order_by("member__display_name")
    context = {
        "organisation": organisation,
        "person": person,
        "roles_form": roles_form,
        "leave_form": leave_form,
        "caseload": caseload,
    }
    return render(request, "care/staff_manage.html", context, status=status)


@login_required
def member_roster_entry(request, slug, member_pk):
    """One member on the roster: their programs, phases, discharge dates and care team."""
    organisation = _admin_organisation(request, slug)
    get_object_or_404(policy.members_of(organisation), pk=member_pk)
    member = policy.open_member_record(request, member_pk, "profile", detail="roster entry")
    enrolments = list(
        Enrolment.objects.current()
        .filter(member=member, program__organisation=organisation)
        .select_related("program", "phase")
    )
    forms = []
    status = 200
    for enrolment in enrolments:
        data = request.POST if request.method == "POST" and f"save_{enrolment.pk}" in request.POST else None
        form = EnrolmentForm(
            data, enrolment=enrolment, initial={"phase": enrolment.phase, "discharge_date": enrolment.discharge_date}
        )
        if data is not None:
            if form.is_valid():
                try:
                    program_actions.change_enrolment(
                        by=request.user,
                        enrolment=enrolment,
                        phase=form.cleaned_data["phase"],
                        discharge_date=form.cleaned_data["discharge_date"],
                        request=request,
                    )
                    messages.success(request, _("Saved."))
                    return redirect("care:roster_entry", slug=slug, member_pk=member.pk)
                except ValidationError as error:
                    add_domain_errors(form, error)
            status = 400
        forms.append((enrolment, form))
    team = CareRelationship.objects.care_team_of(member).filter(organisation=organisation)
    return render(
        request,
        "care/roster_entry.html",
        {"organisation": organisation, "member": member, "forms": forms, "team": team},
        status=status,
    )


@login_required
def invite_people(request, slug):
    """Org admins invite staff and members; clinicians and case managers invite members, into a program."""
    organisation = get_object_or_404(Organisation, slug=slug)
    roles = [role for role in Role if can_invite(request.user, organisation, role)]
    if not roles:
        raise Http404
    form = MemberInvitationForm(request.POST or None, roles=roles, organisation=organisation)
    link = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
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
                    if form.cleaned_data.get("program"):
                        ProgramInvitation.objects.create(
                            invitation=link.invitation, program=form.cleaned_data["program"]
                        )
                    messages.success(request, _("Invitation sent to %(email)s.") % {"email": link.invitation.email})
                    form = MemberInvitationForm(roles=roles, organisation=organisation)
                    status = 200
                except ValidationError as error:
                    add_domain_errors(form, error)
    pending = Invitation.objects.filter(
        organisation=organisation, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).select_related("invited_by", "program_link__program")
    if not policy.is_org_admin(request.user, organisation):
        pending = pending.filter(invited_by=request.user)
    context = {
        "organisation": organisation,
        "form": form,
        "pending": pending,
        "link": link if settings.DEMO_MODE else None,
    }
    return render(request, "care/invite.html", context, status=status)


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
    return redirect("care:invite", slug=organisation.slug)
