"""One timeline of a member's care for a supporter: check-ins, questionnaire results with their bands,
appointments and attendance, group meetings attended or missed and posts in groups (how many, where; never what
they said), alerts and their outcomes, safety events, outreach, the reminder ladder, clinical notes and plan
versions, newest first, for one window of days.

Each source is read with one query for the window, and only if the supporter may see it (`care.policy`: the
member's consent for each category; clinical notes for their clinicians and case managers). So the number of
queries is fixed whatever the member's history holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from alongside.care import notes, policy, safety
from alongside.care.models import Category, OutreachContact, PlanVersion
from alongside.groups import access as group_access
from alongside.groups.models import Attendance, Post
from alongside.monitoring import instruments
from alongside.monitoring.models import CheckIn, QuestionnaireResponse
from alongside.notify.models import LadderEvent
from alongside.schedule.models import Occurrence
from alongside.signals.alerts import alerts_visible_to

# At most this many items of each kind in one window (a member checking in many times a day still fits).
PER_SOURCE = 200


@dataclass(frozen=True)
class Item:
    at: datetime
    kind: str  # what it is, for the icon-free label and the CSS class
    label: str
    text: str = ""
    link: str = ""
    severity: str = ""
    private_text: bool = False  # a note's text: shown as a paragraph, escaped


def _checkin_text(checkin: CheckIn) -> str:
    """The answered scales, in a fixed order."""
    worded = {
        "mood": _("mood %(v)s"),
        "anxiety": _("anxiety %(v)s"),
        "energy": _("energy %(v)s"),
        "sleep_hours": _("%(v)s h sleep"),
        "cravings": _("cravings %(v)s"),
    }
    parts = []
    for field, words in worded.items():
        value = getattr(checkin, field)
        if value is not None:
            # Hours of sleep are stored to the quarter hour: 7.50 reads as 7.5, 7.00 as 7.
            shown = f"{float(value):g}" if field == "sleep_hours" else value
            parts.append(words % {"v": shown})
    return ", ".join(parts)


def timeline_for(viewer, member, *, since: datetime, until: datetime, shared: set[str]) -> list[Item]:
    """The member's timeline from `since` to `until` as `viewer` may see it (`shared`: the categories the
    member shares with them, from `policy.categories_shared_with`)."""
    items: list[Item] = []
    window = {"gte": since, "lt": until}

    def between(field: str) -> dict:
        return {f"{field}__{key}": value for key, value in window.items()}

    if Category.CHECKINS in shared:
        for checkin in CheckIn.objects.filter(member=member, **between("recorded_at")).order_by("-recorded_at")[
            :PER_SOURCE
        ]:
            items.append(Item(checkin.recorded_at, "checkin", _("Check-in"), _checkin_text(checkin)))
    if Category.QUESTIONNAIRES in shared:
        for response in QuestionnaireResponse.objects.filter(
            member=member, complete=True, **between("completed_at")
        ).order_by("-completed_at")[:PER_SOURCE]:
            name = _instrument_name(response.instrument)
            text = f"{response.total}" + (f" ({response.band})" if response.band else "")
            items.append(Item(response.completed_at, "questionnaire", name, text))
    if Category.APPOINTMENTS in shared:
        for occurrence in (
            Occurrence.objects.filter(appointment__member=member, **between("start"))
            .select_related("appointment")
            .order_by("-start")[:PER_SOURCE]
        ):
            items.append(
                Item(
                    occurrence.start,
                    "appointment",
                    occurrence.appointment.title,
                    occurrence.get_status_display(),
                )
            )
    if Category.GROUPS in shared:
        items += _group_activity(viewer, member, between)
    for alert in (
        alerts_visible_to(viewer).filter(member=member, **between("opened_at")).order_by("-opened_at")[:PER_SOURCE]
    ):
        link = reverse("signals:alert", args=[alert.pk])
        text = alert.get_status_display() + (f": {alert.get_outcome_display()}" if alert.outcome else "")
        items.append(Item(alert.opened_at, "alert", _("Alert"), text, link=link, severity=alert.severity))
    for event in (
        safety.events_visible_to(viewer, member).filter(**between("occurred_at")).order_by("-occurred_at")[:PER_SOURCE]
    ):
        text = _("asked the team to reach out") if event.team_asked else ""
        items.append(Item(event.occurred_at, "safety", event.get_kind_display(), text))
    if Category.ENGAGEMENT in shared:
        colleagues = policy.colleagues(viewer, member)
        for contact in (
            OutreachContact.objects.filter(member=member, staff__in=colleagues, **between("contacted_at"))
            .select_related("staff")
            .distinct()
            .order_by("-contacted_at")[:PER_SOURCE]
        ):
            text = f"{contact.get_method_display()}, {contact.get_outcome_display()} — {contact.staff.display_name}"
            items.append(Item(contact.contacted_at, "outreach", _("Outreach"), text))
        for step in LadderEvent.objects.filter(member=member, **between("at")).order_by("-at")[:PER_SOURCE]:
            items.append(Item(step.at, "ladder", _("Reminder ladder"), step.detail or step.action))
    for note in notes.notes_for(viewer, member).filter(**between("occurred_at"))[:PER_SOURCE]:
        label = f"{note.get_kind_display()} — {note.author.display_name}"
        items.append(Item(note.occurred_at, "note", label, note.text, private_text=True))
    if Category.PLAN in shared:
        for version in (
            PlanVersion.objects.filter(plan__member=member, **between("saved_at"))
            .select_related("author")
            .order_by("-saved_at")[:PER_SOURCE]
        ):
            by = version.author.display_name if version.author else ""
            text = _("version %(n)s, saved by %(by)s") % {"n": version.number, "by": by}
            items.append(Item(version.saved_at, "plan", _("Plan"), text, link=reverse("plan:view", args=[member.pk])))
    items.sort(key=lambda item: item.at, reverse=True)
    return items


def _group_activity(viewer, member, between) -> list[Item]:
    """Group meetings attended or missed, and how many posts the member wrote where, in the organisations where
    the member shares group activity with the viewer (two queries). An unlisted group is named only to someone
    inside it; hidden posts are left out, and no post's words ever appear."""
    organisations = (
        policy.live_relationships(viewer)
        .filter(member=member, consent_grants__category=Category.GROUPS)
        .values("organisation")
    )
    inside = group_access.groups_inside(viewer)
    items = []
    meetings = (
        Attendance.objects.filter(
            person=member, meeting__series__group__organisation__in=organisations, **between("meeting__start")
        )
        .exclude(meeting__status="cancelled")
        .annotate(named=Exists(inside.filter(pk=OuterRef("meeting__series__group"))))
        .select_related("meeting__series__group")
        .order_by("-meeting__start")[:PER_SOURCE]
    )
    for row in meetings:
        group = row.meeting.series.group
        name = group.name if group.listed or row.named else _("an unlisted group")
        label = _("Group meeting: %(group)s") % {"group": name}
        items.append(Item(row.meeting.start, "group_meeting", label, _("attended") if row.attended else _("missed")))
    posts = (
        Post.objects.filter(
            author=member, hidden_at__isnull=True, thread__organisation__in=organisations, **between("created_at")
        )
        .annotate(named=Exists(inside.filter(pk=OuterRef("thread__group"))))
        .values_list("created_at", "thread__group", "thread__group__name", "thread__group__listed", "named")
        .order_by("-created_at")[:PER_SOURCE]
    )
    zone = ZoneInfo(member.time_zone)
    days: dict[tuple, list] = {}
    for created_at, group_pk, group_name, listed, named in posts:
        if group_pk is None:
            where = _("the community space")
        else:
            where = group_name if listed or named else _("an unlisted group")
        day = days.setdefault((created_at.astimezone(zone).date(), group_pk), [created_at, where, 0])
        day[2] += 1
    for latest, where, count in days.values():
        text = ngettext("%(n)s post", "%(n)s posts", count) % {"n": count}
        items.append(Item(latest, "group_post", _("Posted in %(group)s") % {"group": where}, text))
    return items


def _instrument_name(code: str) -> str:
    try:
        return instruments.get(code).name
    except KeyError:  # a program's own instrument: its code says what it was
        return code
