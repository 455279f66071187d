"""Goal pages: the member's goals (`/me/goals/`), one goal with its milestones, progress and encouragement, and
a supporter's view of a member's goals (`/team/members/<id>/goals/`) with encouragement and suggestions. Every
write is made by `goals.py`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from alongside.accounts.decorators import member_required
from alongside.care import policy
from alongside.care.models import Category
from alongside.core.forms import add_domain_errors
from alongside.goals import celebrations, goals, review
from alongside.goals.goal_forms import EncourageForm, GoalForm, MilestoneForm, ProgressForm
from alongside.goals.models import Encouragement, EncouragementKind, Goal, GoalStatus

STATUS_ACTIONS = (
    (GoalStatus.ACTIVE, _("Working on it")),
    (GoalStatus.PAUSED, _("Pause")),
    (GoalStatus.ACHIEVED, _("Achieved")),
    (GoalStatus.LET_GO, _("Let it go")),
)


def _by_status(goal_list) -> list[tuple[str, list]]:
    order = (GoalStatus.ACTIVE, GoalStatus.PAUSED, GoalStatus.ACHIEVED, GoalStatus.LET_GO)
    return [(GoalStatus(status).label, [g for g in goal_list if g.status == status]) for status in order]


def _goals_page(request, form, status=200):
    own = list(goals.goals_of(request.user))
    context = {
        "form": form,
        "sections": [(label, rows) for label, rows in _by_status(own) if rows],
        "suggestions": [g for g in own if g.status == GoalStatus.SUGGESTED],
        "areas": goals.goal_areas_for(request.user),
    }
    return render(request, "goals/goals.html", context, status=status)


@member_required
def my_goals(request):
    areas = goals.goal_areas_for(request.user)
    form = GoalForm(request.POST or None, areas=areas)
    if request.method == "POST":
        if form.is_valid():
            try:
                goal = goals.create_goal(
                    request.user, client_key=form.cleaned_data["client_key"], request=request, **form.goal_data()
                )
            except ValidationError as error:
                add_domain_errors(form, error, {"milestones": None})
            else:
                messages.success(request, _("Your goal is saved."))
                return redirect("goals:goal", goal.pk)
        return _goals_page(request, form, status=400)
    return _goals_page(request, form)


def _own_goal(request, pk) -> Goal:
    return get_object_or_404(Goal.objects.select_related("member"), pk=pk, member=request.user)


def _goal_page(request, goal, *, progress_form=None, milestone_form=None, status=200):
    new_celebrations = celebrations.unseen_for_goal(goal)
    if new_celebrations:
        celebrations.mark_seen(request.user, [c.pk for c in new_celebrations])
    context = {
        "new_celebrations": new_celebrations,
        "last_review": review.latest_review_of_goal(goal),
        "goal": goal,
        "milestones": list(goal.milestones.all()),
        "progress": list(goal.progress.all()[:50]),
        "encouragements": list(goals.encouragement_for(goal)),
        "progress_form": progress_form or ProgressForm(),
        "milestone_form": milestone_form or MilestoneForm(),
        "status_actions": [(value, label) for value, label in STATUS_ACTIONS if value != goal.status],
        "may_change": True,
        "area_name": goals.goal_areas_for(goal.member).get(goal.area, goal.area),
    }
    return render(request, "goals/goal.html", context, status=status)


@member_required
def goal_detail(request, pk):
    return _goal_page(request, _own_goal(request, pk))


@member_required
@require_POST
def goal_status(request, pk):
    goal = _own_goal(request, pk)
    try:
        goals.set_status(goal, request.POST.get("status", ""), request.user, request=request)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Saved."))
    return redirect("goals:goal", goal.pk)


@member_required
@require_POST
def goal_progress(request, pk):
    goal = _own_goal(request, pk)
    form = ProgressForm(request.POST)
    if form.is_valid():
        try:
            goals.log_progress(goal, by=request.user, request=request, **form.cleaned_data)
        except ValidationError as error:
            add_domain_errors(form, error)
        else:
            messages.success(request, _("Progress noted."))
            return redirect("goals:goal", goal.pk)
    return _goal_page(request, goal, progress_form=form, status=400)


@member_required
@require_POST
def goal_add_milestone(request, pk):
    goal = _own_goal(request, pk)
    form = MilestoneForm(request.POST)
    if form.is_valid():
        try:
            goals.add_milestone(goal, by=request.user, request=request, **form.cleaned_data)
        except ValidationError as error:
            add_domain_errors(form, error, {"milestones": None})
        else:
            messages.success(request, _("Milestone added."))
            return redirect("goals:goal", goal.pk)
    return _goal_page(request, goal, milestone_form=form, status=400)


@member_required
@require_POST
def goal_achieve_milestone(request, pk, milestone_pk):
    goal = _own_goal(request, pk)
    milestone = get_object_or_404(goal.milestones, pk=milestone_pk)
    goals.achieve_milestone(milestone, by=request.user, achieved=request.POST.get("undo") != "1", request=request)
    return redirect("goals:goal", goal.pk)


@member_required
@require_POST
def goal_answer(request, pk):
    goal = _own_goal(request, pk)
    accept = request.POST.get("answer") == "accept"
    try:
        goals.answer_suggestion(goal, accept=accept, by=request.user, request=request)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Added to your goals.") if accept else _("Suggestion declined."))
    return redirect("goals:goal" if accept else "goals:goals", *([goal.pk] if accept else []))


# The care team ------------------------------------------------------------------------------------------------


def _team_page(request, member, *, suggest_form=None, status=200):
    member_goals = list(goals.goals_of(member).exclude(status=GoalStatus.DECLINED).prefetch_related("milestones"))
    given = Encouragement.objects.filter(goal__in=member_goals).select_related("author", "milestone")
    by_goal: dict[int, list] = {}
    for encouragement in given:
        by_goal.setdefault(encouragement.goal_id, []).append(encouragement)
    for goal in member_goals:
        goal.encouragement_list = by_goal.get(goal.pk, [])
    context = {
        "member": member,
        "sections": [(label, rows) for label, rows in _by_status(member_goals) if rows],
        "suggested": [g for g in member_goals if g.status == GoalStatus.SUGGESTED],
        "reactions": [(k.value, k.label) for k in EncouragementKind if k != EncouragementKind.COMMENT],
        "encourage_form": EncourageForm(initial={"kind": EncouragementKind.COMMENT}),
        "may_suggest": goals.may_suggest(request.user, member),
        "suggest_form": suggest_form or GoalForm(areas=goals.goal_areas_for(member), milestone_rows=3),
    }
    return render(request, "goals/goals_team.html", context, status=status)


@login_required
def member_goals(request, member_id):
    if request.user.pk == member_id:
        return redirect("goals:goals")
    member = policy.open_member_record(request, member_id, Category.GOALS, detail="goals")
    return _team_page(request, member)


def _int_or_404(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise Http404 from None


def _supporter_and_member(request, member_id):
    if request.user.pk == member_id:
        raise Http404
    return policy.visible_member_or_404(request.user, member_id, Category.GOALS)


@login_required
@require_POST
def encourage(request, member_id, pk):
    member = _supporter_and_member(request, member_id)
    goal = get_object_or_404(Goal, pk=pk, member=member)
    milestone = None
    if request.POST.get("milestone"):
        milestone = get_object_or_404(goal.milestones, pk=_int_or_404(request.POST["milestone"]))
    form = EncourageForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a kind of encouragement."))
    else:
        try:
            done = goals.encourage(
                by=request.user, goal=goal, milestone=milestone, request=request, **form.cleaned_data
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        except PermissionDenied:
            raise Http404 from None
        else:
            messages.success(request, _("Sent.") if done is not None else _("Taken back."))
    return redirect(reverse("goals:member_goals", args=[member.pk]) + f"#goal-{goal.pk}")


@login_required
@require_POST
def suggest(request, member_id):
    member = _supporter_and_member(request, member_id)
    if not goals.may_suggest(request.user, member):
        raise Http404
    form = GoalForm(request.POST, areas=goals.goal_areas_for(member), milestone_rows=3)
    if form.is_valid():
        try:
            goals.suggest_goal(by=request.user, member=member, request=request, **form.goal_data())
        except ValidationError as error:
            add_domain_errors(form, error, {"milestones": None})
        else:
            messages.success(request, _("Your suggestion was sent."))
            return redirect("goals:member_goals", member.pk)
    policy.record_reads(request, member, [(Category.GOALS.value, "goals", None)])
    return _team_page(request, member, suggest_form=form, status=400)


urlpatterns = [
    path("me/goals/", my_goals, name="goals"),
    path("me/goals/<int:pk>/", goal_detail, name="goal"),
    path("me/goals/<int:pk>/status/", goal_status, name="goal_status"),
    path("me/goals/<int:pk>/progress/", goal_progress, name="goal_progress"),
    path("me/goals/<int:pk>/milestones/", goal_add_milestone, name="goal_add_milestone"),
    path(
        "me/goals/<int:pk>/milestones/<int:milestone_pk>/achieve/",
        goal_achieve_milestone,
        name="goal_achieve_milestone",
    ),
    path("me/goals/<int:pk>/answer/", goal_answer, name="goal_answer"),
    path("team/members/<int:member_id>/goals/", member_goals, name="member_goals"),
    path("team/members/<int:member_id>/goals/<int:pk>/encourage/", encourage, name="goal_encourage"),
    path("team/members/<int:member_id>/goals/suggest/", suggest, name="goal_suggest"),
]
