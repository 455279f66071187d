"""The member's daily routine pages (schedule/routines.py holds the rules).

Ticking an item off is one tap: with htmx the button posts and only that item's row comes back; without
JavaScript the same form posts and the page is shown again. Another member's item is not found (404).
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from alongside.accounts.decorators import member_required
from alongside.core.forms import add_domain_errors
from alongside.schedule import routines
from alongside.schedule.models import RoutineItem
from alongside.schedule.routine_forms import RoutineItemForm


def _my_item(request, pk) -> RoutineItem:
    item = get_object_or_404(RoutineItem, pk=pk, member=request.user, archived_at__isnull=True)
    item.member = request.user
    return item


def _back_to(item: RoutineItem | None = None):
    url = reverse("schedule:routine")
    return redirect(f"{url}#routine-item-{item.pk}" if item else url)


@member_required
def routine(request):
    member = request.user
    today = routines.local_today(member)
    statuses = routines.statuses(member, today)
    context = {
        "today": today,
        "due": [status for status in statuses if status.due],
        "not_due": [status for status in statuses if not status.due],
        "plan_lines": routines.plan_lines_to_add(member),
        "room": routines.MAX_ACTIVE_ITEMS - len(statuses),
    }
    return render(request, "schedule/routine/today.html", context)


def _edit(request, item: RoutineItem | None):
    initial = RoutineItemForm.initial_for(item) if item else None
    form = RoutineItemForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if item:
                saved = routines.update_item(request.user, item, **form.values())
            else:
                saved = routines.add_item(request.user, **form.values())
        except ValidationError as error:
            add_domain_errors(form, error)
        else:
            messages.success(request, _("“%(title)s” is saved in your routine.") % {"title": saved.title})
            return _back_to(saved)
    return render(
        request, "schedule/routine/edit.html", {"form": form, "item": item}, status=400 if form.errors else 200
    )


@member_required
def new_item(request):
    return _edit(request, None)


@member_required
def edit_item(request, pk):
    return _edit(request, _my_item(request, pk))


@member_required
@require_POST
def archive_item(request, pk):
    item = routines.archive_item(request.user, _my_item(request, pk))
    messages.success(
        request,
        _("“%(title)s” is no longer in your routine. What you ticked off is kept.") % {"title": item.title},
    )
    return _back_to()


def _day(request, member) -> date:
    raw = request.POST.get("day", "").strip()
    if not raw:
        return routines.local_today(member)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError({"day": _("Give the day as a date, e.g. 2026-05-04.")}) from None


def _tick(request, pk, *, done: bool):
    item = _my_item(request, pk)
    error = ""
    try:
        day = _day(request, request.user)
        if done:
            routines.check(request.user, item, day)
        else:
            routines.uncheck(request.user, item, day)
    except ValidationError as problem:
        error = " ".join(problem.messages)
    if not request.htmx:
        if error:
            messages.error(request, error)
        return _back_to(item)
    # Only this item's row comes back (a problem is said in the row: htmx does not swap an error answer).
    today = routines.local_today(request.user)
    context = {"status": routines.status_of(item, today), "error": error}
    return render(request, "schedule/routine/row.html", context)


@member_required
@require_POST
def check(request, pk):
    return _tick(request, pk, done=True)


@member_required
@require_POST
def uncheck(request, pk):
    return _tick(request, pk, done=False)


@member_required
@require_POST
def from_plan(request):
    added = routines.add_from_plan(request.user)
    left = len(routines.plan_lines_to_add(request.user))
    if added:
        messages.success(
            request,
            ngettext(
                "%(n)s item from your plan's daily maintenance is now in your routine.",
                "%(n)s items from your plan's daily maintenance are now in your routine.",
                len(added),
            )
            % {"n": len(added)},
        )
    elif not left:
        messages.info(request, _("Everything in your plan's daily maintenance is already in your routine."))
    if left:
        messages.error(
            request,
            ngettext(
                "%(n)s more did not fit: a routine holds at most %(max)s items. Archive some to add the rest.",
                "%(n)s more did not fit: a routine holds at most %(max)s items. Archive some to add the rest.",
                left,
            )
            % {"n": left, "max": routines.MAX_ACTIVE_ITEMS},
        )
    return _back_to()
