"""A member's goals: creating and changing them, milestones, progress, suggestions from their team and the
encouragement their supporters give. Every write is a function here; views and the API call them.

A member changes only their own goals. Supporters see a member's goals while the member shares "Goals and
milestones" with them (`care/policy.py`); clinicians, case managers and peer mentors with that consent may
suggest a goal, and every supporter with it may encourage. Staff reads and changes are in the audit log."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.dispatch import Signal
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from alongside.accounts.models import Role
from alongside.audit.log import record
from alongside.audit.models import AuditAction
from alongside.care import policy
from alongside.care.models import Category
from alongside.goals.models import (
    Encouragement,
    EncouragementKind,
    Goal,
    GoalStatus,
    Milestone,
    ProgressUpdate,
)
from alongside.notify import outbox
from alongside.notify.models import NotificationKind
from alongside.programs.models import Enrolment
from alongside.programs.settings_schema import GOAL_AREAS

log = logging.getLogger(__name__)

# Sent once a change is committed: `goal` reached ACHIEVED, or `milestone` was reached. Receivers (celebrations)
# must not fail the member's request, so they are sent with send_robust and failures are logged.
goal_achieved = Signal()
milestone_achieved = Signal()

MAX_TITLE = 140
MAX_WHY = 2000
MAX_TARGET = 200
MAX_MILESTONES = 20
MAX_OPEN_GOALS = 100
MAX_NOTE = 1000
MAX_ENCOURAGEMENT = 280
SUGGESTING_ROLES = (Role.CLINICIAN, Role.CASE_MANAGER, Role.PEER_MENTOR)
# The statuses a member moves their own goal between (suggestions are answered, not set).
SETTABLE_STATUSES = (GoalStatus.ACTIVE, GoalStatus.PAUSED, GoalStatus.ACHIEVED, GoalStatus.LET_GO)
OPEN = (GoalStatus.ACTIVE, GoalStatus.PAUSED)
# Goals supporters may encourage: those the member has taken on.
ENCOURAGEABLE = (GoalStatus.ACTIVE, GoalStatus.PAUSED, GoalStatus.ACHIEVED)


# Reading ------------------------------------------------------------------------------------------------------


def local_today(member) -> date:
    """The member's date now, on their own clock."""
    return timezone.now().astimezone(ZoneInfo(member.time_zone)).date()


def goal_areas_for(member) -> dict[str, str]:
    """The areas of life the member's goals belong to: their first current program's, else the defaults."""
    enrolment = (
        Enrolment.objects.current()
        .filter(member=member)
        .select_related("program")
        .order_by("enrolled_at", "pk")
        .first()
    )
    if enrolment is None:
        return {key: str(name) for key, name in GOAL_AREAS.items()}
    return dict(enrolment.program.config.goal_areas)


def goals_of(member) -> QuerySet[Goal]:
    return Goal.objects.filter(member=member).prefetch_related("milestones")


def visible_goals(person) -> QuerySet[Goal]:
    """Goals the person may see: their own, and those of members who share goals with them."""
    return policy.visible_rows(Goal.objects.all(), person, Category.GOALS).select_related("member")


def visible_goal(person, goal_pk) -> Goal | None:
    try:
        goal_pk = int(goal_pk)
    except (TypeError, ValueError):
        return None
    return visible_goals(person).filter(pk=goal_pk).first()


def may_encourage(person, member) -> bool:
    return person.pk != member.pk and policy.can(person, policy.Action.VIEW, member, Category.GOALS)


def may_suggest(person, member) -> bool:
    """A clinician, case manager or peer mentor in a live relationship with the member, who shares goals."""
    if person is None or not person.is_authenticated or person.pk == member.pk:
        return False
    return (
        policy.live_relationships(person)
        .filter(member=member, role__in=SUGGESTING_ROLES, consent_grants__category=Category.GOALS)
        .exists()
    )


def encouragement_for(goal: Goal) -> QuerySet[Encouragement]:
    return goal.encouragements.select_related("author", "milestone")


# Checks -------------------------------------------------------------------------------------------------------


def _check_text(errors: dict, field: str, value: str, limit: int, *, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        errors.setdefault(field, []).append(_("This is required."))
    elif len(value) > limit:
        errors.setdefault(field, []).append(_("At most %(limit)d characters.") % {"limit": limit})
    return value


def _check_area(errors: dict, member, area: str) -> str:
    area = (area or "").strip()
    if area not in goal_areas_for(member):
        errors.setdefault("area", []).append(_("Choose one of the areas of life offered."))
    return area


def _check_date(errors: dict, field: str, value, member, latest: date | None = None):
    if value is None or value == "":
        return None
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value))
        except ValueError:
            errors.setdefault(field, []).append(_("Give a date as YYYY-MM-DD."))
            return None
    if value < local_today(member):
        errors.setdefault(field, []).append(_("Choose today or a later date."))
    elif latest is not None and value > latest:
        errors.setdefault(field, []).append(_("A milestone cannot be due after the goal's date."))
    return value


def _check_milestones(errors: dict, member, milestones, target_date) -> list[tuple[str, date | None]]:
    milestones = list(milestones or ())
    if len(milestones) > MAX_MILESTONES:
        errors.setdefault("milestones", []).append(
            _("A goal has at most %(limit)d milestones.") % {"limit": MAX_MILESTONES}
        )
        return []
    checked = []
    for milestone in milestones:
        title, due = milestone if isinstance(milestone, tuple | list) else (milestone, None)
        title = _check_text(errors, "milestones", str(title or ""), MAX_TITLE, required=True)
        due = _check_date(errors, "milestones", due, member, latest=target_date)
        checked.append((title, due))
    return checked


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def _open_goals(member) -> int:
    return Goal.objects.filter(member=member, status__in=OPEN).count()


def _check_room(member) -> None:
    if _open_goals(member) >= MAX_OPEN_GOALS:
        raise ValidationError(
            {"status": _("You have %(limit)d open goals: finish or let one go first.") % {"limit": MAX_OPEN_GOALS}}
        )


def _own(goal: Goal, by) -> None:
    if by is None or by.pk != goal.member_id:
        raise PermissionDenied


# Audit and announcements ----------------------------------------------------------------------------------------


def _audit(by, member, detail: str, request=None) -> None:
    """Every change to goals is in the audit log: a supporter's as a staff change, the member's as their own."""
    if by.pk != member.pk:
        policy.record_staff_change(request, by, member, Category.GOALS, detail)
    else:
        record(AuditAction.CHANGE, actor=by, request=request, member=member, category=Category.GOALS, detail=detail)


def _send_after_commit(signal: Signal, sender, **kwargs) -> None:
    def send():
        for receiver, response in signal.send_robust(sender=sender, **kwargs):
            if isinstance(response, Exception):
                log.error("goals receiver %r failed: %r", receiver, response)

    transaction.on_commit(send)


# Writing ------------------------------------------------------------------------------------------------------


def _insert_milestones(goal: Goal, milestones: list[tuple[str, date | None]], start: int = 0) -> None:
    Milestone.objects.bulk_create(
        [
            Milestone(goal=goal, title=title, due_date=due, position=start + index)
            for index, (title, due) in enumerate(milestones)
        ]
    )


def _new_goal(member, *, title, why, area, target, target_date, milestones, errors: dict) -> dict:
    fields = {
        "title": _check_text(errors, "title", title, MAX_TITLE, required=True),
        "why": _check_text(errors, "why", why, MAX_WHY),
        "area": _check_area(errors, member, area),
        "target": _check_text(errors, "target", target, MAX_TARGET),
        "target_date": _check_date(errors, "target_date", target_date, member),
    }
    fields["milestones"] = _check_milestones(errors, member, milestones, fields["target_date"])
    return fields


def create_goal(
    member,
    *,
    title: str,
    why: str = "",
    area: str,
    target: str = "",
    target_date=None,
    milestones: Iterable = (),
    client_key: str = "",
    request=None,
) -> Goal:
    """The member sets themselves a goal (with milestones as (title, due date) pairs). A retry with the same
    `client_key` returns the goal the first one made."""
    client_key = (client_key or "").strip()[:80]
    if client_key:
        existing = Goal.objects.filter(member=member, client_key=client_key).first()
        if existing is not None:
            return existing
    errors: dict = {}
    fields = _new_goal(
        member, title=title, why=why, area=area, target=target, target_date=target_date, milestones=milestones,
        errors=errors,
    )  # fmt: skip
    _raise(errors)
    checked = fields.pop("milestones")
    with transaction.atomic():
        _check_room(member)
        goal = Goal.objects.create(member=member, client_key=client_key, status=GoalStatus.ACTIVE, **fields)
        _insert_milestones(goal, checked)
        _audit(member, member, f"set a goal ({goal.pk})", request)
    return goal


EDITABLE = ("title", "why", "area", "target", "target_date")


def update_goal(goal: Goal, *, by, request=None, **changes) -> Goal:
    """The member changes what their goal says (any of title, why, area, target, target_date)."""
    _own(goal, by)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError({name: _("This cannot be changed here.") for name in sorted(unknown)})
    errors: dict = {}
    checked = {}
    for name, value in changes.items():
        if name == "title":
            checked[name] = _check_text(errors, name, value, MAX_TITLE, required=True)
        elif name == "why":
            checked[name] = _check_text(errors, name, value, MAX_WHY)
        elif name == "target":
            checked[name] = _check_text(errors, name, value, MAX_TARGET)
        elif name == "area":
            checked[name] = _check_area(errors, goal.member, value)
        elif name == "target_date":
            # An unchanged date may already be in the past; only a new one must be ahead.
            checked[name] = (
                goal.target_date if value == goal.target_date else _check_date(errors, name, value, goal.member)
            )
    _raise(errors)
    if not checked:
        return goal
    for name, value in checked.items():
        setattr(goal, name, value)
    with transaction.atomic():
        goal.save(update_fields=list(checked))
        _audit(by, goal.member, f"changed goal {goal.pk}: {', '.join(sorted(checked))}", request)
    return goal


def set_status(goal: Goal, status: str, by, request=None) -> Goal:
    """The member marks their goal active, paused, achieved or let go (achieving stamps when)."""
    _own(goal, by)
    if status not in SETTABLE_STATUSES:
        raise ValidationError({"status": _("Choose active, paused, achieved or let go.")})
    if goal.status in (GoalStatus.SUGGESTED, GoalStatus.DECLINED):
        raise ValidationError({"status": _("Accept the suggestion first.")})
    if status == goal.status:
        return goal
    now = timezone.now()
    with transaction.atomic():
        if status in OPEN and goal.status not in OPEN:
            _check_room(goal.member)
        goal.status = status
        goal.status_changed_at = now
        goal.achieved_at = now if status == GoalStatus.ACHIEVED else None
        goal.save(update_fields=["status", "status_changed_at", "achieved_at"])
        _audit(by, goal.member, f"goal {goal.pk} is now {status}", request)
        if status == GoalStatus.ACHIEVED:
            _send_after_commit(goal_achieved, Goal, goal=goal)
    return goal


def add_milestone(goal: Goal, *, title: str, due_date=None, by, request=None) -> Milestone:
    _own(goal, by)
    errors: dict = {}
    checked = _check_milestones(errors, goal.member, [(title, due_date)], goal.target_date)
    _raise(errors)
    [(title, due_date)] = checked
    with transaction.atomic():
        count = goal.milestones.count()
        if count >= MAX_MILESTONES:
            raise ValidationError(
                {"milestones": _("A goal has at most %(limit)d milestones.") % {"limit": MAX_MILESTONES}}
            )
        milestone = Milestone.objects.create(goal=goal, title=title, due_date=due_date, position=count)
        _audit(by, goal.member, f"added a milestone to goal {goal.pk}", request)
    return milestone


def achieve_milestone(milestone: Milestone, *, by, achieved: bool = True, request=None) -> Milestone:
    """The member marks a milestone reached (or, having marked it by mistake, not reached)."""
    goal = milestone.goal
    _own(goal, by)
    if achieved == (milestone.achieved_at is not None):
        return milestone
    with transaction.atomic():
        milestone.achieved_at = timezone.now() if achieved else None
        milestone.save(update_fields=["achieved_at"])
        verb = "reached" if achieved else "un-marked"
        _audit(by, goal.member, f"{verb} milestone {milestone.pk} of goal {goal.pk}", request)
        if achieved:
            _send_after_commit(milestone_achieved, Milestone, milestone=milestone)
    return milestone


def log_progress(goal: Goal, *, note: str = "", percent=None, by, request=None) -> ProgressUpdate:
    _own(goal, by)
    errors: dict = {}
    note = _check_text(errors, "note", note, MAX_NOTE)
    if percent in ("", None):
        percent = None
    else:
        try:
            percent = int(percent)
        except (TypeError, ValueError):
            percent = -1
        if not 0 <= percent <= 100:
            errors.setdefault("percent", []).append(_("Give a number from 0 to 100."))
    if not note and percent is None and "percent" not in errors:
        errors.setdefault("note", []).append(_("Say what happened, or how far along you are."))
    _raise(errors)
    with transaction.atomic():
        update = ProgressUpdate.objects.create(goal=goal, note=note, percent=percent)
        _audit(by, goal.member, f"noted progress on goal {goal.pk}", request)
    return update


def suggest_goal(
    *, by, member, title: str, why: str = "", area: str, target: str = "", target_date=None,
    milestones: Iterable = (), request=None,
) -> Goal:  # fmt: skip
    """A clinician, case manager or peer mentor the member shares goals with suggests one; the member answers."""
    if not may_suggest(by, member):
        raise PermissionDenied
    errors: dict = {}
    fields = _new_goal(
        member, title=title, why=why, area=area, target=target, target_date=target_date, milestones=milestones,
        errors=errors,
    )  # fmt: skip
    _raise(errors)
    checked = fields.pop("milestones")
    with transaction.atomic():
        goal = Goal.objects.create(member=member, status=GoalStatus.SUGGESTED, suggested_by=by, **fields)
        _insert_milestones(goal, checked)
        _audit(by, member, f"suggested goal {goal.pk}", request)
        outbox.notify(
            member, kind=NotificationKind.GOALS, title=_("Your team suggested a goal"),
            source_key=f"goals:suggested:{goal.pk}", link=reverse("goals:goal", args=[goal.pk]),
        )  # fmt: skip
    return goal


def answer_suggestion(goal: Goal, *, accept: bool, by, request=None) -> Goal:
    _own(goal, by)
    if goal.status != GoalStatus.SUGGESTED:
        raise ValidationError({"status": _("This suggestion has already been answered.")})
    with transaction.atomic():
        if accept:
            _check_room(goal.member)
        goal.status = GoalStatus.ACTIVE if accept else GoalStatus.DECLINED
        goal.status_changed_at = timezone.now()
        goal.save(update_fields=["status", "status_changed_at"])
        _audit(by, goal.member, f"{'accepted' if accept else 'declined'} suggested goal {goal.pk}", request)
    return goal


def encourage(*, by, goal: Goal, kind: str, text: str = "", milestone: Milestone | None = None, request=None):
    """A supporter who sees the member's goals encourages them: a comment, or a reaction to the goal or to one of
    its milestones (one of each kind per goal or milestone and person; the same reaction again takes it back,
    returning None)."""
    if not may_encourage(by, goal.member):
        raise PermissionDenied
    errors: dict = {}
    if kind not in EncouragementKind.values:
        errors["kind"] = [_("Choose a kind of encouragement.")]
    if goal.status not in ENCOURAGEABLE:
        errors["goal"] = [_("This goal is not one the member is working on.")]
    if milestone is not None and milestone.goal_id != goal.pk:
        errors["milestone"] = [_("That milestone belongs to another goal.")]
    if kind == EncouragementKind.COMMENT:
        text = _check_text(errors, "text", text, MAX_ENCOURAGEMENT, required=True)
    else:
        text = ""
    _raise(errors)
    with transaction.atomic():
        if kind != EncouragementKind.COMMENT:
            existing = Encouragement.objects.filter(goal=goal, milestone=milestone, author=by, kind=kind).first()
            if existing is not None:
                existing.delete()
                _audit(by, goal.member, f"took back {kind} on goal {goal.pk}", request)
                return None
        encouragement = Encouragement.objects.create(goal=goal, author=by, kind=kind, text=text, milestone=milestone)
        _audit(by, goal.member, f"encouraged goal {goal.pk} ({kind})", request)
        outbox.notify(
            goal.member, kind=NotificationKind.GOALS, title=_("Someone on your team encouraged you"),
            source_key=f"goals:encouragement:{encouragement.pk}", link=reverse("goals:goal", args=[goal.pk]),
        )  # fmt: skip
    return encouragement
