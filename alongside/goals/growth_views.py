"""The growth page: the member's own (`/me/growth/`), and the same summary for a supporter the member shares goals
with (`/team/members/<id>/growth/`), without journal-like detail and with only the parts they may see."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path

from alongside.accounts.decorators import member_required
from alongside.care import policy
from alongside.care.models import Category
from alongside.goals import celebrations, growth


@member_required
def my_growth(request):
    summary = growth.summary(request.user)
    response = render(request, "goals/growth.html", {"summary": summary, "subject": request.user, "own": True})
    # Shown once prominently; afterwards they join the list of earlier celebrations.
    if summary.unseen:
        celebrations.mark_seen(request.user, [c.pk for c in summary.unseen])
    return response


@login_required
def member_growth(request, member_pk):
    member = policy.visible_member_or_404(request.user, member_pk, Category.GOALS)
    shared = {
        category: policy.can(request.user, policy.Action.VIEW, member, category)
        for category in (Category.ENGAGEMENT, Category.QUESTIONNAIRES, Category.CHECKINS)
    }
    summary = growth.summary(
        member,
        engagement=shared[Category.ENGAGEMENT],
        questionnaires=shared[Category.QUESTIONNAIRES],
        checkins=shared[Category.CHECKINS],
        routine=False,
    )
    reads = [(Category.GOALS.value, "growth summary", None)]
    reads += [(category.value, "growth summary", None) for category, allowed in shared.items() if allowed]
    policy.record_reads(request, member, reads)
    return render(request, "goals/growth.html", {"summary": summary, "subject": member, "own": False})


urlpatterns = [
    path("me/growth/", my_growth, name="growth"),
    path("team/members/<int:member_pk>/growth/", member_growth, name="member_growth"),
]
