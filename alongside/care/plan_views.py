"""The aftercare and safety plan pages, for the member (/me/plan/…) and for their care team
(/team/members/<id>/plan/…). Both go through care.policy: the member always, a supporter only while the member
shares their plan with them (reading) and only as clinician or case manager (changing); every staff read and
change is in the audit log."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from alongside.care import crisis_screen, plan, policy, resources
from alongside.care.forms import plan_content_from_post, plan_rows
from alongside.care.models import Category, PlanVersion
from alongside.care.plan_sections import GROUPS, SECTIONS


def _open(request, member_pk, *, detail: str):
    """The member whose plan this is, or 404; a staff read is audited. Members reach their own plan only
    through /me/plan/."""
    if member_pk is None:
        if not request.user.is_member:
            raise PermissionDenied
        return request.user
    member = policy.open_member_record(request, member_pk, Category.PLAN, detail=detail)
    if member == request.user:
        raise Http404
    return member


def _open_for_change(request, member_pk):
    """The member whose plan the person is changing, or 404. The change itself is audited by the domain
    function that makes it, so this check writes nothing."""
    if member_pk is None:
        return _open(request, None, detail="")
    return policy.member_to_change(request.user, member_pk, Category.PLAN)


def _urls(member_pk) -> dict[str, str]:
    if member_pk is None:
        names = ("mine", "edit_mine", "history_mine", "sign_mine", "review_mine", "print_mine", "card_mine")
        return {name.removesuffix("_mine"): reverse(f"plan:{name}") for name in names} | {
            "version": reverse("plan:version_mine", args=[0]).removesuffix("0/"),
            "diff": reverse("plan:diff_mine"),
        }
    names = ("view", "edit", "history", "sign", "review", "print", "card")
    urls = {name: reverse(f"plan:{name}", args=[member_pk]) for name in names}
    urls["mine"] = urls.pop("view")
    urls["version"] = reverse("plan:version", args=[member_pk, 0]).removesuffix("0/")
    urls["diff"] = reverse("plan:diff", args=[member_pk])
    return urls


def _may_change(request, member) -> bool:
    return policy.can(request.user, policy.Action.CHANGE, member, Category.PLAN)


def _grouped(content: dict) -> list[dict]:
    return [
        {"key": key, "title": title, "sections": [(s, content[s.key]) for s in SECTIONS if s.group == key]}
        for key, title in GROUPS
    ]


def _signoff_context(version: PlanVersion | None) -> dict:
    if version is None:
        return {"signoffs": [], "agreed": False, "last_agreed": None}
    last_agreed = None
    if not plan.is_agreed(version):
        for older in version.plan.versions.filter(number__lt=version.number).prefetch_related("signoffs"):
            if plan.is_agreed(older):
                last_agreed = older
                break
    return {
        "signoffs": list(version.signoffs.select_related("person")),
        "agreed": plan.is_agreed(version),
        "last_agreed": last_agreed,
    }


@login_required
def plan_page(request, member_pk=None):
    member = _open(request, member_pk, detail="aftercare plan")
    version = plan.current_version(member)
    the_plan = plan.plan_of(member) if version else None
    content = plan.content_of(version)
    signed_by_me = bool(version and version.signoffs.filter(person=request.user).exists())
    context = {
        "member": member,
        "own": member_pk is None,
        "urls": _urls(member_pk),
        "version": version,
        "groups": _grouped(content),
        "review_due": the_plan.review_due if the_plan else None,
        "review_overdue": bool(the_plan and the_plan.review_due and the_plan.review_due < timezone.localdate()),
        "may_change": member_pk is None or _may_change(request, member),
        "signed_by_me": signed_by_me,
        "assignments": list(resources.assigned_to(member)),
        **_signoff_context(version),
    }
    if member_pk is not None and context["may_change"]:
        context["library"] = resources.assignable(by=request.user, member=member)
    return render(request, "care/plan/plan.html", context)


@login_required
def edit_plan(request, member_pk=None):
    if request.method == "POST":
        member = _open_for_change(request, member_pk)
    else:
        member = _open(request, member_pk, detail="aftercare plan (editing)")
        if member_pk is not None and not _may_change(request, member):
            raise Http404
    current = plan.current_version(member)
    number = current.number if current else 0
    errors: dict[str, list[str]] = {}
    stale = None
    if request.method == "POST":
        content = plan_content_from_post(request.POST)
        try:
            based_on = int(request.POST.get("based_on", ""))
        except ValueError:
            based_on = -1
        try:
            plan.save_plan(member, by=request.user, content=content, based_on=based_on, request=request)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                errors.setdefault(field.split(".")[0], []).extend(_describe(field, message) for message in messages)
        except plan.StalePlan as conflict:
            if member_pk is not None:
                # Showing the other person's changes is a read of the plan: in the audit log like any other.
                policy.open_member_record(
                    request, member.pk, Category.PLAN, detail="aftercare plan (changed meanwhile)"
                )
            base = plan.content_of(PlanVersion.objects.filter(plan__member=member, number=based_on).first())
            theirs = plan.content_of(conflict.current)
            # The form comes back with both people's edits where they touched different sections; where both
            # changed the same section, this person's text stays in the form and the section is named.
            try:
                mine = plan.clean_content(content)
            except ValidationError:
                mine = content
            content, conflicts = plan.merge(base, theirs, mine)
            stale = {"current": conflict.current, "changes": plan.differences(base, theirs), "conflicts": conflicts}
            number = conflict.number  # having seen the changes, the next save may replace them
        else:
            return redirect(_urls(member_pk)["mine"] + "?saved=1")
    else:
        content = plan.content_of(current)
    context = {
        "member": member,
        "own": member_pk is None,
        "urls": _urls(member_pk),
        "based_on": number,
        "groups": [
            {"title": title, "sections": plan_rows(content, [s for s in SECTIONS if s.group == key], errors)}
            for key, title in GROUPS
        ],
        "errors": errors,
        "stale": stale,
    }
    return render(request, "care/plan/edit.html", context)


def _describe(field: str, message: str) -> str:
    """'help_contacts.1.phone' and its message -> 'Row 2, phone: …' (the section is shown around it)."""
    parts = field.split(".")
    if len(parts) == 3:
        return _("Row %(row)s, %(part)s: %(message)s") % {
            "row": int(parts[1]) + 1,
            "part": _(parts[2]),
            "message": message,
        }
    if len(parts) == 2:
        return _("Line %(row)s: %(message)s") % {"row": int(parts[1]) + 1, "message": message}
    return message


@login_required
def plan_history(request, member_pk=None):
    member = _open(request, member_pk, detail="aftercare plan history")
    versions = (
        PlanVersion.objects.filter(plan__member=member).select_related("author").prefetch_related("signoffs__person")
    )
    return render(
        request,
        "care/plan/history.html",
        {"member": member, "own": member_pk is None, "urls": _urls(member_pk), "versions": versions},
    )


@login_required
def plan_version(request, number, member_pk=None):
    member = _open(request, member_pk, detail=f"aftercare plan version {number}")
    version = PlanVersion.objects.filter(plan__member=member, number=number).select_related("author").first()
    if version is None:
        raise Http404
    return render(
        request,
        "care/plan/version.html",
        {
            "member": member,
            "own": member_pk is None,
            "urls": _urls(member_pk),
            "version": version,
            "groups": _grouped(plan.content_of(version)),
            **_signoff_context(version),
        },
    )


@login_required
def plan_diff(request, member_pk=None):
    member = _open(request, member_pk, detail="aftercare plan differences")
    versions = {v.number: v for v in PlanVersion.objects.filter(plan__member=member).select_related("author")}
    if not versions:
        raise Http404
    newest = max(versions)
    try:
        to = int(request.GET.get("to", newest))
        since = int(request.GET.get("from", to - 1))
    except ValueError:
        raise Http404 from None
    if to not in versions or (since not in versions and since != 0):
        raise Http404
    old, new = versions.get(since), versions[to]
    return render(
        request,
        "care/plan/diff.html",
        {
            "member": member,
            "own": member_pk is None,
            "urls": _urls(member_pk),
            "old": old,
            "new": new,
            "since": since,
            "numbers": sorted(versions),
            "changes": plan.differences(plan.content_of(old), plan.content_of(new)),
        },
    )


@login_required
@require_POST
def sign_plan(request, member_pk=None):
    member = _open_for_change(request, member_pk)
    current = plan.current_version(member)
    if current is None or str(current.number) != request.POST.get("version"):
        # Only the version the person was looking at can be agreed, and only while it is the newest.
        messages.error(request, _("The plan changed since you opened it. Read the newest version before agreeing."))
        return redirect(_urls(member_pk)["mine"])
    plan.sign_off(current, by=request.user, request=request)
    return redirect(_urls(member_pk)["mine"])


@login_required
@require_POST
def set_review(request, member_pk=None):
    member = _open_for_change(request, member_pk)
    raw = request.POST.get("review_due", "").strip()
    try:
        due = date.fromisoformat(raw) if raw else None
    except ValueError:
        messages.error(request, _("Give the review date as a date, e.g. 2027-03-01."))
        return redirect(_urls(member_pk)["mine"])
    plan.set_review_due(member, by=request.user, due=due, request=request)
    return redirect(_urls(member_pk)["mine"])


def _lines(request, member, member_pk):
    if member_pk is None:
        return crisis_screen.lines_for(member)
    within = policy.live_relationships(request.user).filter(member=member).values("organisation")
    return crisis_screen.lines_for(member, within=within)


@login_required
def print_plan(request, member_pk=None):
    member = _open(request, member_pk, detail="aftercare plan (print)")
    version = plan.current_version(member)
    return render(
        request,
        "care/plan/print.html",
        {
            "member": member,
            "urls": _urls(member_pk),
            "version": version,
            "groups": _grouped(plan.content_of(version)),
            "crisis": _lines(request, member, member_pk),
            **_signoff_context(version),
        },
    )


@login_required
def wallet_card(request, member_pk=None):
    member = _open(request, member_pk, detail="aftercare plan (wallet card)")
    content = plan.content_of(plan.current_version(member))
    signs = content["warning_signs"] or [pair["item"] for pair in content["early_warning_signs"]]
    contacts = [*content["help_contacts"], *content["professionals"]]
    return render(
        request,
        "care/plan/card.html",
        {
            "member": member,
            "urls": _urls(member_pk),
            "signs": signs[:4],
            "coping": content["coping_strategies"][:3],
            "contacts": contacts[:3],
            "crisis": _lines(request, member, member_pk),
        },
    )
