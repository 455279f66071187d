"""The goal review page of an appointment: the member's open goals before it, the review after it, and the form
the staff member running it records the review with."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alongside.care import policy
from alongside.care.models import Category
from alongside.core.forms import add_domain_errors
from alongside.goals import review
from alongside.goals.goals import MAX_NOTE
from alongside.schedule.models import Occurrence


class ReviewForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("What we agreed (optional)"),
        max_length=MAX_NOTE,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("The member reads this too."),
    )


def _occurrence(request, pk) -> Occurrence:
    occurrence = review.occurrence_to_review(request.user, pk)
    if occurrence is None:
        raise Http404
    return occurrence


def _page(request, occurrence, *, form=None, status=200):
    member = occurrence.appointment.member
    is_member = request.user.pk == member.pk
    shared = is_member or policy.can(request.user, policy.Action.VIEW, member, Category.GOALS)
    if request.user.pk not in (member.pk, occurrence.appointment.staff_id):
        # Someone reading a member's appointment by their consent, as the appointment page records it.
        policy.open_member_record(request, member.pk, Category.APPOINTMENTS, detail=f"appointment {occurrence.pk}")
    if shared and not is_member:
        policy.open_member_record(
            request, member.pk, Category.GOALS, detail=f"goal review at occurrence {occurrence.pk}"
        )
    may_review = review.may_review(request.user, occurrence)
    context = {
        "occurrence": occurrence,
        "appointment": occurrence.appointment,
        "member": member,
        "is_member": is_member,
        "shared": shared,
        "lines": review.open_goal_lines(member) if shared else [],
        "review": review.review_of(occurrence) if shared else None,
        "may_review": may_review,
        "form": form or ReviewForm(),
    }
    return render(request, "goals/review.html", context, status=status)


@login_required
def goal_review(request, pk):
    occurrence = _occurrence(request, pk)
    if request.method != "POST":
        return _page(request, occurrence)
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            review.record_review(occurrence, by=request.user, note=form.cleaned_data["note"], request=request)
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            add_domain_errors(form, error)
        else:
            messages.success(request, _("Goal review saved. It is ticked on the agenda."))
            return redirect("schedule:occurrence", pk=occurrence.pk)
    return _page(request, occurrence, form=form, status=400)


urlpatterns = [path("appointments/<int:pk>/goal-review/", goal_review, name="review")]
