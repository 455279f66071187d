"""Peer-mentor matching pages: a peer mentor's profile, a member asking for a mentor, and the staff queue of
requests with suggested mentors. Every decision is made in `mentoring.py`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from alongside.accounts.decorators import member_required
from alongside.care.models import Category
from alongside.core.forms import add_domain_errors
from alongside.groups import mentoring
from alongside.groups.mentoring_forms import ApproveMatchForm, MentorProfileForm, MentorRequestForm
from alongside.groups.models import Availability, LivedExperience, MentorRequestStatus


def _chosen_organisation(request, organisations):
    """The organisation named by `?organisation=<id>` among the person's, else their first; 404 for others."""
    organisations = list(organisations)
    wanted = request.GET.get("organisation", "")
    if not wanted:
        return organisations[0] if organisations else None
    chosen = next((o for o in organisations if str(o.pk) == wanted), None)
    if chosen is None:
        raise Http404
    return chosen


def _in_organisation(url_name: str, organisation, several: bool) -> str:
    url = reverse(url_name)
    return f"{url}?organisation={organisation.pk}" if several else url


@login_required
def mentor_profile(request):
    """A peer mentor keeps their mentor profile (one per organisation where they hold the role)."""
    organisations = list(mentoring.peer_mentor_organisations(request.user))
    if not organisations:
        raise PermissionDenied
    organisation = _chosen_organisation(request, organisations)
    profile = mentoring.profile_of(request.user, organisation)
    form = MentorProfileForm(request.POST or None, initial=MentorProfileForm.initial_from(profile))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                mentoring.save_mentor_profile(request.user, organisation, request=request, **form.cleaned_data)
            except ValidationError as error:
                add_domain_errors(form, error)
            else:
                messages.success(request, _("Your mentor profile is saved."))
                return redirect(_in_organisation("groups:mentor_profile", organisation, len(organisations) > 1))
        status = 400
    context = {
        "form": form,
        "profile": profile,
        "organisation": organisation,
        "organisations": organisations if len(organisations) > 1 else [],
        "places_free": mentoring.places_free(profile) if profile else None,
    }
    return render(request, "groups/mentor_profile.html", context, status=status)


@member_required
def ask_for_mentor(request):
    """A member asks for a peer mentor, sees where their request stands, and who their mentor is."""
    organisations = list(mentoring.member_organisations(request.user))
    if not organisations:
        raise PermissionDenied
    organisation = _chosen_organisation(request, organisations)
    waiting = mentoring.open_request(request.user, organisation)
    form = MentorRequestForm(request.POST or None) if waiting is None else None
    status = 200
    if request.method == "POST" and form is not None:
        if form.is_valid():
            try:
                mentoring.ask_for_mentor(request.user, organisation, request=request, **form.cleaned_data)
            except ValidationError as error:
                add_domain_errors(form, error)
            else:
                messages.success(request, _("Your request is sent. Staff will match you with a peer mentor."))
                return redirect(_in_organisation("groups:ask_for_mentor", organisation, len(organisations) > 1))
        status = 400
    matched = [
        r for r in mentoring.requests_of(request.user).filter(organisation=organisation)
        if r.status == MentorRequestStatus.MATCHED
    ]  # fmt: skip
    categories = dict(Category.choices)
    for mentor_request in matched:
        relationship = mentor_request.relationship
        mentor_request.still_active = relationship is not None and relationship.is_active()
        mentor_request.mentor_sees = (
            [categories[c] for c in sorted(relationship.shared_categories)] if mentor_request.still_active else []
        )
    context = {
        "form": form,
        "waiting": waiting,
        "matched": matched,
        "organisation": organisation,
        "organisations": organisations if len(organisations) > 1 else [],
    }
    return render(request, "groups/mentor_ask.html", context, status=status)


@member_required
@require_POST
def withdraw_mentor_request(request, pk):
    mentor_request = mentoring.requests_of(request.user).filter(pk=pk).first()
    if mentor_request is None:
        raise Http404
    try:
        mentoring.withdraw(mentor_request, by=request.user, request=request)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Your request is withdrawn."))
    several = mentoring.member_organisations(request.user).count() > 1
    return redirect(_in_organisation("groups:ask_for_mentor", mentor_request.organisation, several))


@login_required
def mentor_requests(request):
    """The queue: open requests of members the person may match (org admins, clinicians, case managers)."""
    if not mentoring.may_see_queue(request.user):
        raise PermissionDenied
    visible = mentoring.requests_visible_to(request.user)
    waiting = visible.filter(status=MentorRequestStatus.OPEN).order_by("created_at", "pk")
    recent = visible.filter(status=MentorRequestStatus.MATCHED).order_by("-matched_at", "-pk")[:20]
    return render(request, "groups/mentor_requests.html", {"waiting": waiting, "recent": recent})


def _request_page(request, mentor_request, *, form=None, status=200):
    experience, times = dict(LivedExperience.choices), dict(Availability.choices)
    context = {
        "mentor_request": mentor_request,
        "lived_experience": [experience[v] for v in mentor_request.lived_experience if v in experience],
        "availability": [times[v] for v in mentor_request.availability if v in times],
        "suggestions": mentoring.suggestions(mentor_request),
        "form": form,
    }
    return render(request, "groups/mentor_request.html", context, status=status)


@login_required
def mentor_request(request, pk):
    """One request: the member's preferences and the suggested mentors, each with why."""
    mentor_request = mentoring.request_for_approver_or_404(request.user, pk, http_request=request)
    return _request_page(request, mentor_request)


@login_required
@require_POST
def approve_mentor_match(request, pk):
    mentor_request = mentoring.request_for_approver_or_404(request.user, pk)
    form = ApproveMatchForm(request.POST)
    if form.is_valid():
        mentor = get_user_model().objects.filter(pk=form.cleaned_data["mentor"]).first()
        try:
            mentoring.approve_match(mentor_request, by=request.user, mentor=mentor, request=request)
        except ValidationError as error:
            add_domain_errors(form, error, {"mentor": None, "request": None})
        else:
            messages.success(request, _("%(name)s is now the member's peer mentor.") % {"name": mentor.display_name})
            return redirect("groups:mentor_request", pk=mentor_request.pk)
    else:
        form.add_error(None, _("Choose one of the suggested mentors."))
    # The page shows the member's preferences again: a read like any other.
    mentor_request = mentoring.request_for_approver_or_404(request.user, pk, http_request=request)
    return _request_page(request, mentor_request, form=form, status=400)
