"""Group meetings: the one place that schedules, cancels and ends them, takes RSVPs and attendance, keeps the
facilitators' notes and reminds members.

- A series is a first local date and time and an RFC 5545 rule in a named zone, checked and expanded by the
  schedule app's recurrence code (`schedule/series.py`), so a weekly 18:00 meeting stays 18:00 local across
  daylight-saving changes and obeys the same limits as appointments. Its meetings are stored: a bounded series
  whole, an open-ended one HORIZON ahead, extended by the worker (`extend`).
- Facilitators of the group schedule, cancel (with a reason members are told) and end series, record attendance
  once a meeting has started, and keep notes that nobody else reads.
- Active members and facilitators answer RSVPs for future meetings, and may change their answer.
- Attendance is one row per active member, present or absent; recording again replaces the answers. Once it is
  committed, `meeting_attendance_recorded` reaches the early-warning engine (missed meetings count towards
  disengagement).
- Reminders (`send_reminders`) go to active members and facilitators who have not said they cannot come, at
  each person's reminder offsets on their own clock, each keyed by meeting, person and offset.

Every change is in the audit log (category "groups").
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.dispatch import Signal
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from alongside.accounts.models import validate_time_zone
from alongside.audit.log import record, record_many
from alongside.audit.models import AuditAction
from alongside.care.models import Category
from alongside.groups import access
from alongside.groups.models import (
    Attendance,
    Group,
    Meeting,
    MeetingSeries,
    MeetingStatus,
    Membership,
    MembershipRole,
    MembershipStatus,
    Rsvp,
    RsvpAnswer,
)
from alongside.notify.models import NotificationKind
from alongside.notify.outbox import notify_many
from alongside.schedule import reminders, series
from alongside.schedule.models import DEFAULT_REMINDER_OFFSETS, SchedulePreferences
from alongside.schedule.preferences import REMINDER_CHOICES

log = logging.getLogger(__name__)

MAX_DURATION_MINUTES = 12 * 60
MAX_NOTES = 10_000
# Reminders are looked for this far ahead: the longest offset anyone may choose, and an hour to spare for a
# daylight-saving change between the reminder and the meeting.
REMINDER_LOOKAHEAD = timedelta(minutes=max(minutes for minutes, _label in REMINDER_CHOICES) + 60)

# Sent with `meeting` and `rows` (its Attendance rows) once attendance is committed.
meeting_attendance_recorded = Signal()


# Who and what ----------------------------------------------------------------------------------------------


def _audit(request, by, group: Group, detail: str, *, member=None, action=AuditAction.CHANGE) -> None:
    record(
        action,
        actor=by,
        request=request,
        member=member,
        organisation=group.organisation,
        category=Category.GROUPS,
        detail=detail,
    )


def _require_facilitator(by, group: Group) -> None:
    if group.archived_at is not None or not access.is_facilitator(by, group):
        raise PermissionDenied


def visible_meetings(person) -> QuerySet[Meeting]:
    """Meetings of the groups whose inside the person sees."""
    return Meeting.objects.filter(series__group__in=access.groups_inside(person))


def meeting_or_404(person, meeting_pk) -> Meeting:
    try:
        meeting_pk = int(meeting_pk)
    except (TypeError, ValueError):
        raise Http404 from None
    meeting = visible_meetings(person).select_related("series__group__organisation").filter(pk=meeting_pk).first()
    if meeting is None:
        raise Http404
    return meeting


def group_meetings(group: Group) -> QuerySet[Meeting]:
    return Meeting.objects.filter(series__group=group).select_related("series")


def is_upcoming(meeting: Meeting, now: datetime | None = None) -> bool:
    return meeting.status == MeetingStatus.SCHEDULED and meeting.start > (now or timezone.now())


def has_started(meeting: Meeting, now: datetime | None = None) -> bool:
    return meeting.start <= (now or timezone.now())


def may_rsvp(person, meeting: Meeting) -> bool:
    return access.active_membership(person, meeting.series.group) is not None


def may_run(person, meeting: Meeting) -> bool:
    """Cancel it, record its attendance, keep its notes: the group's facilitators."""
    group = meeting.series.group
    return group.archived_at is None and access.is_facilitator(person, group)


# Scheduling -----------------------------------------------------------------------------------------------


def _clean_title(title) -> str:
    title = " ".join(str(title or "").split())
    if not title:
        raise ValidationError({"title": _("Give the meeting a title (it is what reminders say).")})
    if len(title) > 120:
        raise ValidationError({"title": _("Keep the title under 120 characters.")})
    return title


def schedule_meetings(
    *,
    by,
    group: Group,
    title: str,
    time_zone: str,
    start_date: date,
    start_time: time,
    duration_minutes: int,
    rrule: str = "",
    request=None,
) -> MeetingSeries:
    """A facilitator of the group schedules a meeting, or a series of them by an RFC 5545 rule. The rule is
    checked as an appointment's is (daily to yearly, at most 520 dates, at least one); the series starts on
    the rule's first date. Raises ValidationError naming the fields."""
    _require_facilitator(by, group)
    errors: dict[str, str] = {}
    try:
        title = _clean_title(title)
    except ValidationError as error:
        errors.update({key: " ".join(value) for key, value in error.message_dict.items()})
    try:
        validate_time_zone(time_zone)
    except (ValidationError, ValueError, TypeError):
        errors["time_zone"] = _("Unknown time zone. Use a name such as America/New_York.")
    if not isinstance(start_date, date) or not 1900 <= start_date.year <= 2999:
        errors["start_date"] = _("Choose a date between the years 1900 and 2999.")
    if not isinstance(start_time, time):
        errors["start_time"] = _("Give the time the meeting starts.")
    if not isinstance(duration_minutes, int) or isinstance(duration_minutes, bool) or duration_minutes <= 0:
        errors["duration_minutes"] = _("The end must be after the start.")
    elif duration_minutes > MAX_DURATION_MINUTES:
        errors["duration_minutes"] = _("A meeting lasts at most 12 hours.")
    if not errors:
        try:
            rrule = series.clean_rule(rrule, datetime.combine(start_date, start_time), ZoneInfo(time_zone))
        except ValidationError as error:
            errors.update({key: " ".join(value) for key, value in error.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    if rrule:
        first = series.first_start(rrule, start_date, start_time, time_zone)
        start_date, start_time = first.date(), first.time()
    with transaction.atomic():
        meeting_series = MeetingSeries.objects.create(
            group=group, title=title, time_zone=time_zone, start_date=start_date, start_time=start_time,
            duration_minutes=duration_minutes, rrule=rrule, created_by=by,
        )  # fmt: skip
        open_ended = series.is_open_ended(rrule)
        _generate(meeting_series, timezone.now() + series.HORIZON if open_ended else None)
        _audit(request, by, group, f"scheduled meeting series {meeting_series.pk}")
    return meeting_series


def _generate(meeting_series: MeetingSeries, until: datetime | None) -> int:
    """Store the series' meetings up to `until` (all of a bounded series) that are not stored yet."""
    known = set(meeting_series.meetings.values_list("original_start", flat=True))
    new = [
        Meeting(series=meeting_series, original_start=start, start=start, end=end)
        for start, end in series.instants_to_store(meeting_series, until, known)
    ]
    Meeting.objects.bulk_create(new)
    meeting_series.generated_until = until
    meeting_series.save(update_fields=["generated_until"])
    return len(new)


def extend(now: datetime | None = None) -> int:
    """Store the next stretch of open-ended series whose stored meetings run out within a few months."""
    now = now or timezone.now()
    added = 0
    due = MeetingSeries.objects.exclude(rrule="").filter(
        ended_at__isnull=True,
        group__archived_at__isnull=True,
        generated_until__lt=now + series.EXTEND_WHEN_WITHIN,
    )
    for meeting_series in due.iterator():
        with transaction.atomic():
            added += _generate(meeting_series, now + series.HORIZON)
    return added


def _clean_reason(reason, *, required: bool) -> str:
    reason = " ".join(str(reason or "").split())
    if required and not reason:
        raise ValidationError({"reason": _("Give a reason; members will see it.")})
    if len(reason) > 300:
        raise ValidationError({"reason": _("Keep the reason under 300 characters.")})
    return reason


def _tell_members(group: Group, meeting: Meeting, by, title: str, key: str) -> int:
    people = [m.person for m in group.memberships.active().select_related("person") if m.person_id != by.pk]
    link = reverse("groups:meeting", args=[meeting.pk])
    return notify_many(
        [
            {
                "recipient": person,
                "kind": NotificationKind.GROUP_MEETING,
                "title": title,
                "link": link,
                "source_key": f"{key}:{person.pk}",
                "organisation": group.organisation,
            }
            for person in people
        ]
    )


def cancel_meeting(meeting: Meeting, *, by, reason: str, request=None) -> Meeting:
    """A facilitator cancels one upcoming meeting (the rest of the series is untouched); members are told why."""
    group = meeting.series.group
    _require_facilitator(by, group)
    reason = _clean_reason(reason, required=True)
    if not is_upcoming(meeting):
        raise ValidationError({"status": _("Only an upcoming meeting can be cancelled.")})
    with transaction.atomic():
        meeting.status = MeetingStatus.CANCELLED
        meeting.cancel_reason = reason
        meeting.sequence = F("sequence") + 1
        meeting.save(update_fields=["status", "cancel_reason", "sequence"])
        meeting.refresh_from_db()
        MeetingSeries.objects.filter(pk=meeting.series_id).update(sequence=F("sequence") + 1)  # its EXDATEs changed
        _audit(request, by, group, f"cancelled meeting {meeting.pk}: {reason}")
        local = meeting.start.astimezone(ZoneInfo(meeting.series.time_zone))
        title = _("%(group)s: the meeting on %(day)s is cancelled. %(reason)s") % {
            "group": group.name,
            "day": local.strftime("%Y-%m-%d"),
            "reason": reason,
        }
        _tell_members(group, meeting, by, title, f"group-meeting-cancelled:{meeting.pk}")
    return meeting


def end_series(meeting_series: MeetingSeries, *, by, request=None) -> MeetingSeries:
    """A facilitator ends a series: its meetings still to come are removed (with their RSVPs); past ones, and
    their attendance, stay."""
    group = meeting_series.group
    _require_facilitator(by, group)
    if meeting_series.ended_at is not None:
        raise ValidationError({"series": _("This series has already ended.")})
    with transaction.atomic():
        now = timezone.now()
        meeting_series.meetings.filter(start__gt=now).delete()
        meeting_series.ended_at = now
        meeting_series.generated_until = now
        meeting_series.sequence = F("sequence") + 1
        meeting_series.save(update_fields=["ended_at", "generated_until", "sequence"])
        meeting_series.refresh_from_db()
        _audit(request, by, group, f"ended meeting series {meeting_series.pk}")
    return meeting_series


# RSVP ----------------------------------------------------------------------------------------------------


def rsvp(person, meeting: Meeting, answer: str, *, request=None) -> Rsvp:
    """An active member or facilitator says whether they will come to a future meeting (and may change it)."""
    group = meeting.series.group
    if group.archived_at is not None or not may_rsvp(person, meeting):
        raise PermissionDenied
    if answer not in RsvpAnswer.values:
        raise ValidationError({"answer": _("Answer going, maybe or can't make it.")})
    if not is_upcoming(meeting):
        raise ValidationError({"answer": _("You can answer only for a meeting still to come.")})
    with transaction.atomic():
        answered, _created = Rsvp.objects.update_or_create(
            meeting=meeting, person=person, defaults={"answer": answer, "answered_at": timezone.now()}
        )
        _audit(request, person, group, f"answered {answer} for meeting {meeting.pk}", member=person)
    return answered


def answer_of(person, meeting: Meeting) -> str:
    found = Rsvp.objects.filter(meeting=meeting, person=person).values_list("answer", flat=True).first()
    return found or ""


def rsvp_counts(meetings) -> dict[int, dict[str, int]]:
    """For each meeting, how many of the group's active members and facilitators gave each answer (one query)."""
    counts: dict[int, dict[str, int]] = {}
    # Only people still in the group count: someone who left keeps their row but not their say.
    rows = (
        Rsvp.objects.filter(meeting__in=meetings)
        .filter(
            person__group_memberships__group=F("meeting__series__group"),
            person__group_memberships__status=MembershipStatus.ACTIVE,
        )
        .values("meeting", "answer")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        counts.setdefault(row["meeting"], {answer: 0 for answer in RsvpAnswer.values})[row["answer"]] = row["n"]
    return counts


# Attendance ----------------------------------------------------------------------------------------------


def attendees(meeting: Meeting) -> QuerySet[Membership]:
    """Whose attendance is recorded: the group's active members (facilitators run the meeting)."""
    return (
        meeting.series.group.memberships.active()
        .filter(role=MembershipRole.MEMBER)
        .select_related("person")
        .order_by("person__display_name", "person_id")
    )


def record_attendance(meeting: Meeting, *, by, attended, request=None) -> list[Attendance]:
    """A facilitator records who came, once the meeting has started: one row per active member, present if their
    id is in `attended`, else absent. Recording again replaces the answers."""
    group = meeting.series.group
    _require_facilitator(by, group)
    if meeting.status == MeetingStatus.CANCELLED:
        raise ValidationError({"attended": _("This meeting was cancelled.")})
    if not has_started(meeting):
        raise ValidationError({"attended": _("Attendance can be recorded once the meeting has started.")})
    try:
        present = {int(person_id) for person_id in attended}
    except (TypeError, ValueError):
        raise ValidationError({"attended": _("Choose people from the group's members.")}) from None
    people = {membership.person_id: membership.person for membership in attendees(meeting)}
    if present - set(people):
        raise ValidationError({"attended": _("Choose people from the group's members.")})
    now = timezone.now()
    with transaction.atomic():
        existing = {row.person_id: row for row in Attendance.objects.filter(meeting=meeting, person__in=people)}
        changed, new = [], []
        for person_id in people:
            came = person_id in present
            row = existing.get(person_id)
            if row is None:
                new.append(Attendance(meeting=meeting, person_id=person_id, attended=came, recorded_by=by,
                                      recorded_at=now))  # fmt: skip
            else:
                row.attended, row.recorded_by, row.recorded_at = came, by, now
                changed.append(row)
        Attendance.objects.bulk_create(new)
        Attendance.objects.bulk_update(changed, ["attended", "recorded_by", "recorded_at"])
        Meeting.objects.filter(pk=meeting.pk).update(attendance_taken_at=now)
        meeting.attendance_taken_at = now
        rows = list(Attendance.objects.filter(meeting=meeting, person__in=people).select_related("person", "meeting"))
        record_many(
            AuditAction.CHANGE,
            request=request,
            entries=[
                {
                    "actor": by,
                    "member": people[row.person_id],
                    "organisation": group.organisation,
                    "category": Category.GROUPS.value,
                    "detail": f"recorded {'attended' if row.attended else 'missed'} for meeting {meeting.pk}",
                }
                for row in rows
            ],
        )
        transaction.on_commit(lambda: _announce_attendance(meeting, rows))
    return rows


def _announce_attendance(meeting: Meeting, rows: list[Attendance]) -> None:
    for receiver, result in meeting_attendance_recorded.send_robust(sender=Meeting, meeting=meeting, rows=rows):
        if isinstance(result, Exception):
            log.error("%s failed for meeting %s: %r", receiver, meeting.pk, result)


def attendance_of(meeting: Meeting) -> dict[int, bool]:
    return dict(Attendance.objects.filter(meeting=meeting).values_list("person_id", "attended"))


def missed(member, since: datetime | None = None) -> QuerySet[Attendance]:
    """The member's missed group meetings (for the early-warning engine), not counting cancelled ones."""
    rows = Attendance.objects.filter(person=member, attended=False).exclude(meeting__status=MeetingStatus.CANCELLED)
    return rows.filter(meeting__start__gte=since) if since else rows


# Notes ---------------------------------------------------------------------------------------------------


def save_notes(meeting: Meeting, *, by, text: str, request=None) -> Meeting:
    """A facilitator keeps notes of the meeting (encrypted; read only by the group's facilitators)."""
    group = meeting.series.group
    _require_facilitator(by, group)
    text = str(text or "").strip()
    if len(text) > MAX_NOTES:
        raise ValidationError({"notes": _("Keep the notes under %(n)s characters.") % {"n": MAX_NOTES}})
    with transaction.atomic():
        meeting.notes, meeting.notes_by, meeting.notes_at = text, by, timezone.now()
        meeting.save(update_fields=["notes", "notes_by", "notes_at"])
        _audit(request, by, group, f"saved notes of meeting {meeting.pk}")
    return meeting


def notes_for(person, meeting: Meeting, *, request=None) -> str | None:
    """The meeting's notes for one of the group's facilitators (the read is in the audit log); None for anyone
    else, who may not know whether there are any."""
    if not may_run(person, meeting):
        return None
    if meeting.notes:
        _audit(request, person, meeting.series.group, f"read notes of meeting {meeting.pk}", action=AuditAction.VIEW)
    return meeting.notes


# Reminders -----------------------------------------------------------------------------------------------


def send_reminders(now: datetime | None = None) -> int:
    """Remind the active members and facilitators of meetings still to come who have not said they cannot
    come, at each of their reminder offsets on their own clock ("24 hours before" a Tuesday 18:00 meeting is
    Monday 18:00 where they are, whatever the clocks did between).

    Each reminder is keyed by meeting, person and offset, so running twice, or in two workers, reminds once, and
    a daylight-saving change can neither move nor repeat one. After the worker was down, only the latest offset
    that has come due is sent (not a stale "tomorrow" beside "in an hour"); nothing is sent once the meeting
    has started, nor for a cancelled meeting."""
    now = now or timezone.now()
    meetings = list(
        Meeting.objects.filter(
            status=MeetingStatus.SCHEDULED,
            start__gt=now,
            start__lte=now + REMINDER_LOOKAHEAD,
            series__group__archived_at__isnull=True,
        ).select_related("series__group__organisation")
    )
    if not meetings:
        return 0
    groups = {meeting.series.group_id for meeting in meetings}
    memberships: dict[int, list] = {}
    for membership in Membership.objects.active().filter(group__in=groups).select_related("person"):
        if membership.person.is_active:
            memberships.setdefault(membership.group_id, []).append(membership.person)
    declined = set(
        Rsvp.objects.filter(meeting__in=meetings, answer=RsvpAnswer.NOT_GOING).values_list("meeting", "person")
    )
    people = {person.pk for members in memberships.values() for person in members}
    offsets = {
        person_id: list(chosen)
        for person_id, chosen in SchedulePreferences.objects.filter(person__in=people).values_list(
            "person", "reminder_offsets"
        )
    }
    items = []
    for meeting in meetings:
        group = meeting.series.group
        for person in memberships.get(group.pk, []):
            if (meeting.pk, person.pk) in declined:
                continue
            due = [
                minutes
                for minutes in offsets.get(person.pk, DEFAULT_REMINDER_OFFSETS)
                if reminders.due_before(meeting.start, minutes, person.time_zone) <= now
            ]
            if not due:
                continue
            minutes = min(due)
            items.append(
                {
                    "recipient": person,
                    "kind": NotificationKind.GROUP_MEETING,
                    "title": reminder_title(meeting, minutes),
                    "link": reverse("groups:meeting", args=[meeting.pk]),
                    "source_key": f"group-meeting:{meeting.pk}:{person.pk}:{minutes}",
                    "organisation": group.organisation,
                    "at": now,
                }
            )
    return notify_many(items) if items else 0


def reminder_title(meeting: Meeting, minutes: int) -> str:
    group = meeting.series.group.name
    if minutes >= 24 * 60 and minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        if days == 1:
            return _("%(group)s meets tomorrow") % {"group": group}
        return _("%(group)s meets in %(n)s days") % {"group": group, "n": days}
    if minutes >= 60 and minutes % 60 == 0:
        hours = minutes // 60
        if hours == 1:
            return _("%(group)s meets in an hour") % {"group": group}
        return _("%(group)s meets in %(n)s hours") % {"group": group, "n": hours}
    return _("%(group)s meets in %(n)s minutes") % {"group": group, "n": minutes}


# For the care team and outcomes ------------------------------------------------------------------------------


def upcoming_and_past(group: Group, now: datetime | None = None, *, past_limit: int = 20):
    """The group's meetings still to come (scheduled or cancelled, soonest first) and recent past ones (latest
    first)."""
    now = now or timezone.now()
    rows = group_meetings(group)
    upcoming = list(rows.filter(start__gt=now).order_by("start", "pk")[:50])
    past = list(rows.filter(start__lte=now).order_by("-start", "-pk")[:past_limit])
    return upcoming, past


def live_series(group: Group) -> QuerySet[MeetingSeries]:
    return group.meeting_series.filter(Q(ended_at__isnull=True)).order_by("start_date", "start_time", "pk")
