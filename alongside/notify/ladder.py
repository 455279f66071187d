"""The accountability ladder (after healthchecks' period and grace): when a member has not checked in for a
while, the steps of their program's ladder are taken one by one, each once per quiet spell:

- remind_member, nudge_member: a reminder, then a gentle follow-up, to the member;
- notify_peer: their peer mentor hears of it, if the member shares "whether I check in" with them;
- task_care_team: an outreach task for their case manager (their clinician if they have none), with the same
  consent;
- notify_clinician: their clinician hears of it, with the same consent.

A spell starts at the member's last check-in (or when they joined the program), so the moment they check in
a new spell starts and the ladder is back at the bottom; open ladder tasks are closed as "checked in". Every
step taken is a LadderEvent, on the member's timeline.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from alongside.accounts.models import Role
from alongside.care import outreach, policy
from alongside.care.models import Category, OutreachTask, OutreachTaskStatus
from alongside.monitoring.models import CheckIn
from alongside.notify.models import LadderEvent, NotificationKind
from alongside.notify.outbox import notify
from alongside.programs.models import Enrolment

TASK_DUE_IN = timedelta(days=1)


def consenting_supporters(member, role: str):
    """Live supporters in `role` (still holding it in that organisation) whom the member tells whether they
    check in."""
    return (
        policy.live_team(member)
        .filter(role=role, consent_grants__category=Category.ENGAGEMENT)
        .select_related("staff", "organisation")
    )


def spell_start(member, enrolment: Enrolment) -> datetime:
    """The last check-in; for a member who has never checked in, when they joined the program."""
    last = CheckIn.objects.filter(member=member).order_by("-recorded_at").values_list("recorded_at", flat=True).first()
    return last or enrolment.enrolled_at


def _take(member, step: int, action: str, start: datetime, hours: int, now: datetime) -> LadderEvent | None:
    """Take one step (once per spell: the event row is the lock)."""
    days = max(1, hours // 24)
    key = f"ladder:{member.pk}:{start.isoformat()}:{step}"
    try:
        with transaction.atomic():
            event = LadderEvent.objects.create(member=member, spell_start=start, step=step, action=action, at=now)
            told = []
            if action in ("remind_member", "nudge_member"):
                title = (
                    _("Time for a check-in? It takes two taps.")
                    if action == "remind_member"
                    else _("We have not heard from you for a few days. How are you doing?")
                )
                notify(member, kind=NotificationKind.NUDGE, title=title, link=reverse("monitoring:checkin"),
                       source_key=key, at=now)  # fmt: skip
                told.append("member")
            elif action in ("notify_peer", "notify_clinician"):
                role = Role.PEER_MENTOR if action == "notify_peer" else Role.CLINICIAN
                title = _("%(name)s has not checked in for %(days)s days") % {"name": member.display_name, "days": days}
                for relationship in consenting_supporters(member, role):
                    notify(
                        relationship.staff, kind=NotificationKind.CARE_TEAM, title=title,
                        link=reverse("web:member_record", args=[member.pk]),
                        source_key=f"{key}:{relationship.staff_id}", at=now, organisation=relationship.organisation,
                    )  # fmt: skip
                    told.append(str(relationship.staff_id))
            elif action == "task_care_team":
                relationships = list(consenting_supporters(member, Role.CASE_MANAGER)) or list(
                    consenting_supporters(member, Role.CLINICIAN)
                )
                for relationship in relationships[:1]:
                    task = outreach.open_task(
                        organisation=relationship.organisation, member=member, owner=relationship.staff,
                        reason=_("No check-in for %(days)s days") % {"days": days}, due_at=now + TASK_DUE_IN,
                        source_key=key,
                    )  # fmt: skip
                    notify(
                        relationship.staff, kind=NotificationKind.CARE_TEAM,
                        title=_("Please reach out to %(name)s") % {"name": member.display_name},
                        link=reverse("web:member_record", args=[member.pk]), source_key=f"{key}:task", at=now,
                        organisation=relationship.organisation,
                    )  # fmt: skip
                    told.append(f"task {task.pk}")
            event.detail = ", ".join(told) or "nobody consented to hear of it"
            event.save(update_fields=["detail"])
            return event
    except IntegrityError:
        return None  # already taken in this spell (by another worker, or an earlier run)


def evaluate(now: datetime | None = None) -> int:
    """Take every ladder step that is due; close ladder tasks of members who have checked in since."""
    now = now or timezone.now()
    taken = 0
    enrolments = (
        Enrolment.objects.current()
        .filter(program__archived_at__isnull=True, member__is_active=True)
        .select_related("program", "member")
        .order_by("member_id", "enrolled_at")
    )
    seen = set()
    for enrolment in enrolments.iterator():
        member = enrolment.member
        if member.pk in seen:
            continue  # the first program a member joined sets their ladder
        seen.add(member.pk)
        start = spell_start(member, enrolment)
        _close_answered_tasks(member, start)
        quiet_hours = (now - start).total_seconds() / 3600
        done = set(LadderEvent.objects.filter(member=member, spell_start=start).values_list("step", flat=True))
        due = [
            (index, step)
            for index, step in enumerate(enrolment.program.config.ladder)
            if step.after_hours <= quiet_hours and index not in done
        ]
        # Several steps due at once (the worker was down, or a long silence is first seen): the member gets only
        # the latest of their own reminders, not all of them together; the care team's steps are all taken.
        to_member = [index for index, step in due if step.action in MEMBER_STEPS]
        for index, step in due:
            if step.action in MEMBER_STEPS and index != to_member[-1]:
                _record_skipped(member, index, step.action, start, now)
                continue
            taken += _take(member, index, step.action, start, step.after_hours, now) is not None
    return taken


MEMBER_STEPS = ("remind_member", "nudge_member")


def _record_skipped(member, step: int, action: str, start: datetime, now: datetime) -> None:
    try:
        with transaction.atomic():
            LadderEvent.objects.create(
                member=member, spell_start=start, step=step, action=action, at=now,
                detail="skipped: a later reminder to the member was due at the same time",
            )  # fmt: skip
    except IntegrityError:
        pass


def _close_answered_tasks(member, start: datetime) -> None:
    stale = OutreachTask.objects.filter(
        member=member, status=OutreachTaskStatus.OPEN, source_key__startswith="ladder:", created_at__lt=start
    )
    for task in stale:
        outreach.close_task(task, note=_("The member checked in."))
