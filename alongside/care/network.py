"""A member's care network, ready to show: who supports them and how to reach them, their programs with the
current phase among the program's phases, how long since discharge, and the transitions recorded so far.

The member's own page (/me/team/) and their supporters' pages read it from `network_for`. It checks nothing:
the caller has opened the member through care.policy, and decides whether transition notes (part of the care
team's plan work) are shown (`show_notes`: staff with the member's plan shared with them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Prefetch
from django.utils.translation import gettext

from alongside.care.models import CareRelationship
from alongside.programs.actions import member_today
from alongside.programs.models import Enrolment, Phase, Transition


@dataclass
class ChecklistItem:
    label: str
    done: bool


@dataclass
class ProgramStatus:
    """One current enrolment, with its program's phases in order and the days since (or until) discharge."""

    enrolment: Enrolment
    phases: list[Phase]
    days_since_discharge: int | None = None
    days_until_discharge: int | None = None
    transitions: list[Transition] = field(default_factory=list)

    @property
    def program(self):
        return self.enrolment.program

    @property
    def phase(self) -> Phase | None:
        return self.enrolment.phase

    @property
    def discharge_date(self) -> date | None:
        return self.enrolment.discharge_date


def checklist_items(transition: Transition) -> list[ChecklistItem]:
    """A stored checklist as shown: each label translated if it is one of the defaults."""
    return [
        ChecklistItem(label=gettext(str(item.get("label", ""))), done=bool(item.get("done")))
        for item in transition.checklist or []
        if isinstance(item, dict)
    ]


def network_for(member, *, organisations: Iterable | None = None, today: date | None = None) -> dict:
    """What the care network pages show about `member`: `team`, `enrolments` (ProgramStatus, current ones),
    `transitions` (newest first, each with `checklist_items`) and `today` in the member's time zone.

    `organisations` narrows everything to those organisations (a supporter sees only their own organisation's
    part); `today` is for tests and defaults to the member's local date.
    """
    today = today or member_today(member)
    team = CareRelationship.objects.care_team_of(member)
    enrolments = (
        Enrolment.objects.current()
        .filter(member=member)
        .select_related("program__organisation", "phase")
        .prefetch_related(Prefetch("program__phases", queryset=Phase.objects.order_by("position")))
        .order_by("program__name", "pk")
    )
    transitions = (
        Transition.objects.filter(enrolment__member=member)
        .select_related("enrolment__program", "from_phase", "to_phase", "recorded_by")
        .order_by("-effective_date", "-recorded_at", "-pk")
    )
    if organisations is not None:
        organisation_pks = [getattr(organisation, "pk", organisation) for organisation in organisations]
        team = team.filter(organisation__in=organisation_pks)
        enrolments = enrolments.filter(program__organisation__in=organisation_pks)
        transitions = transitions.filter(enrolment__program__organisation__in=organisation_pks)
    transitions = list(transitions)
    by_enrolment: dict[int, list[Transition]] = {}
    for transition in transitions:
        transition.checklist_items = checklist_items(transition)
        transition.checklist_done = sum(item.done for item in transition.checklist_items)
        by_enrolment.setdefault(transition.enrolment_id, []).append(transition)
    statuses = []
    for enrolment in enrolments:
        status = ProgramStatus(
            enrolment=enrolment,
            phases=list(enrolment.program.phases.all()),
            transitions=by_enrolment.get(enrolment.pk, []),
        )
        if enrolment.discharge_date is not None:
            days = (today - enrolment.discharge_date).days
            if days >= 0:
                status.days_since_discharge = days
            else:
                status.days_until_discharge = -days
        statuses.append(status)
    return {"member": member, "team": list(team), "enrolments": statuses, "transitions": transitions, "today": today}
