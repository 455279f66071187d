"""The member's care network (/me/team/): who supports them and how to reach them, where they are in their
programs, and the transitions recorded. And the care team's page for recording a transition (discharge,
step-down, another phase, graduation) with the program's checklist (/team/members/<id>/transition/)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from alongside.accounts.decorators import member_required
from alongside.care import policy
from alongside.care.models import Category
from alongside.care.network import network_for
from alongside.care.network_forms import TRANSITION_ERROR_FIELDS, TransitionForm
from alongside.core.forms import add_domain_errors
from alongside.programs import actions as program_actions
from alongside.programs.models import Enrolment


@member_required
def network(request):
    """The member's own page: their care team with contact details, their programs and phases, transitions."""
    return render(request, "care/network.html", network_for(request.user))


def _transition_relationships(request, member_pk):
    """The person's live relationships in which they may record a transition for this member: as clinician or
    case manager, with the member's plan shared with them. 404 when there is none (or it is their own pk)."""
    try:
        member_pk = int(member_pk)
    except (TypeError, ValueError):
        raise Http404 from None
    if not request.user.is_authenticated or request.user.pk == member_pk:
        raise Http404
    relationships = list(
        policy.live_relationships(request.user)
        .filter(
            member_id=member_pk,
            member__is_active=True,
            role__in=policy.CO_AUTHOR_ROLES,
            consent_grants__category=Category.PLAN,
        )
        .select_related("organisation")
    )
    if not relationships:
        raise Http404
    return relationships


@login_required
def record_transition(request, member_pk):
    """A clinician or case manager records a member's discharge, step-down, phase change or graduation.

    Only for the member's current enrolments in programs of the organisation(s) of the relationship. Showing
    the page is audited here as a read of the plan; the change itself by programs.actions.record_transition."""
    relationships = _transition_relationships(request, member_pk)
    organisations = {relationship.organisation for relationship in relationships}
    member = relationships[0].member
    today = program_actions.member_today(member)
    enrolments = list(
        Enrolment.objects.current()
        .filter(member=member, program__organisation__in=organisations)
        .select_related("program__organisation", "phase")
        .order_by("program__name", "pk")
    )
    forms = {enrolment.pk: TransitionForm(enrolment=enrolment, today=today) for enrolment in enrolments}
    status = 200
    if request.method == "POST":
        chosen = request.POST.get("enrolment", "")
        enrolment = next((e for e in enrolments if str(e.pk) == chosen), None)
        if enrolment is None:
            messages.error(request, _("Choose one of the member's programs."))
            status = 400
        else:
            form = forms[enrolment.pk] = TransitionForm(request.POST, enrolment=enrolment, today=today)
            if form.is_valid():
                try:
                    program_actions.record_transition(
                        by=request.user,
                        enrolment=enrolment,
                        kind=form.cleaned_data["kind"],
                        to_phase=form.cleaned_data["to_phase"],
                        effective_date=form.cleaned_data["effective_date"],
                        checklist_done=form.cleaned_data.get("checklist_done", []),
                        note=form.cleaned_data["note"],
                        request=request,
                    )
                except PermissionDenied:
                    raise Http404 from None
                except ValidationError as error:
                    add_domain_errors(form, error, TRANSITION_ERROR_FIELDS)
                else:
                    messages.success(
                        request,
                        _("Recorded for %(name)s in %(program)s.")
                        % {"name": member.display_name, "program": enrolment.program.name},
                    )
                    return redirect("web:member_record", member_pk=member.pk)
            status = 400
            messages.error(
                request,
                _("Nothing was recorded. Please check the form for %(program)s.") % {"program": enrolment.program.name},
            )
    # The page shows the member's transitions and the care team's notes: a read of their plan, audited.
    policy.open_member_record(request, member.pk, Category.PLAN, detail="transition form and history")
    context = network_for(member, organisations=organisations, today=today)
    context.update(
        {
            "forms": [(enrolment, forms[enrolment.pk]) for enrolment in enrolments],
            "several": len(enrolments) > 1,
            "show_notes": True,
        }
    )
    return render(request, "care/record_transition.html", context, status=status)
