"""Appointments and their occurrences: the one place that creates, changes and expands them.

A series is an RFC 5545 recurrence rule over a local wall-clock start in a named time zone (expanded with
dateutil). Its occurrences are stored: each keeps the instant the rule gave it (`original_start`, the
RECURRENCE-ID of calendar feeds) and its own status, so cancelling or moving one never touches the others.
Open-ended series are stored a year ahead and extended by the worker (`extend`). Every change refreshes the
occurrence's reminder due times (schedule/reminders.py).
"""

from __future__ import annotations

import calendar
import logging
import re
from datetime import date, datetime, time, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from alongside.accounts.models import Organisation, Role, validate_time_zone
from alongside.care import policy
from alongside.care.models import Category
from alongside.schedule import checklist as agenda
from alongside.schedule import reminders, times
from alongside.schedule.models import (
    Appointment,
    AppointmentKind,
    LocationKind,
    Occurrence,
    OccurrenceStatus,
)

log = logging.getLogger(__name__)

# Ten years of a weekly appointment. A rule that would make more is refused, not truncated.
MAX_OCCURRENCES = 520
# Open-ended series are stored this far ahead; the worker keeps extending them.
HORIZON = timedelta(days=400)
EXTEND_WHEN_WITHIN = timedelta(days=335)
ALLOWED_FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
MAX_DURATION_MINUTES = 12 * 60
EXPANSION_YEARS = 50


# Rules ---------------------------------------------------------------------------------------------------


def _rule_parts(rule: str) -> dict[str, str]:
    parts = {}
    for part in rule.split(";"):
        if "=" not in part:
            raise ValueError(part)
        name, value = part.split("=", 1)
        parts[name.strip().upper()] = value.strip()
    return parts


def clean_rule(rule: str, first_local: datetime, zone: ZoneInfo) -> str:
    """A recurrence rule checked for Alongside: a known frequency, at most MAX_OCCURRENCES occurrences, at least
    one. UNTIL given in UTC ("…Z") is kept as written; the expansion reads it in the series' zone."""
    rule = (rule or "").strip().removeprefix("RRULE:").strip().rstrip(";")
    if not rule:
        return ""
    problem = _("This repeat rule cannot be read. Use RFC 5545 form, e.g. FREQ=WEEKLY;COUNT=10.")
    if len(rule) > 300:
        raise ValidationError({"rrule": problem})
    try:
        parts = _rule_parts(rule)
    except ValueError:
        raise ValidationError({"rrule": problem}) from None
    names = [part.split("=", 1)[0].strip().upper() for part in rule.split(";")]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        # RFC 5545 allows each part once; given twice, Alongside (the last) and calendar clients could differ.
        raise ValidationError(
            {"rrule": _("Give each part of the rule once: %(names)s.") % {"names": ", ".join(repeated)}}
        )
    if parts.get("FREQ") not in ALLOWED_FREQUENCIES:
        raise ValidationError(
            {"rrule": _("Repeat daily, weekly, monthly or yearly (FREQ=DAILY, WEEKLY, MONTHLY or YEARLY).")}
        )
    if "COUNT" in parts and "UNTIL" in parts:
        raise ValidationError({"rrule": _("Give either COUNT or UNTIL, not both.")})
    if "COUNT" in parts and (not parts["COUNT"].isdigit() or int(parts["COUNT"]) < 1):
        raise ValidationError({"rrule": _("COUNT must be a whole number of at least 1.")})
    if _never_happens(parts):
        raise ValidationError({"rrule": _("This rule never happens. Check the first date and the rule.")})
    try:
        expansion = _expand(rule, first_local, zone)
        first_ones = list(islice(expansion, MAX_OCCURRENCES + 1))
    except (ValueError, TypeError, OverflowError):
        raise ValidationError({"rrule": problem}) from None
    if not first_ones:
        raise ValidationError({"rrule": _("This rule never happens. Check the first date and the rule.")})
    bounded = "COUNT" in parts or "UNTIL" in parts
    if bounded and len(first_ones) > MAX_OCCURRENCES:
        raise ValidationError(
            {"rrule": _("A series may have at most %(n)s occurrences; this one has more.") % {"n": MAX_OCCURRENCES}}
        )
    return rule


WEEKDAY_NAMES = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}


def rule_in_words(rule: str) -> str:
    """A rule as people say it ("Every 2 weeks on Tuesday"); a rule beyond these words is shown as written."""
    if not rule:
        return _("Once")
    try:
        parts = _rule_parts(rule)
        interval = int(parts.get("INTERVAL", "1"))
    except ValueError:
        return rule
    days = [day for day in parts.get("BYDAY", "").split(",") if day]
    unit = {"DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}.get(parts.get("FREQ", ""))
    if unit is None or set(parts) - {"FREQ", "INTERVAL", "BYDAY", "COUNT", "UNTIL"}:
        return rule
    every = {
        "day": ngettext("Every day", "Every %(n)s days", interval),
        "week": ngettext("Every week", "Every %(n)s weeks", interval),
        "month": ngettext("Every month", "Every %(n)s months", interval),
        "year": ngettext("Every year", "Every %(n)s years", interval),
    }[unit] % {"n": interval}
    if not days:
        return every
    names = []
    for day in days:
        match = re.fullmatch(r"([+-]?\d)?(MO|TU|WE|TH|FR|SA|SU)", day)
        if not match:
            return rule
        name = calendar.day_name[WEEKDAY_NAMES[match.group(2)]]
        nth = match.group(1)
        if nth:
            position = {"1": _("first"), "+1": _("first"), "2": _("second"), "3": _("third"), "4": _("fourth"),
                        "-1": _("last")}.get(nth)  # fmt: skip
            if position is None:
                return rule
            name = _("the %(position)s %(day)s") % {"position": position, "day": name}
        names.append(name)
    return _("%(every)s on %(days)s") % {"every": every, "days": ", ".join(names)}


LONGEST_MONTH = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}


def _never_happens(parts: dict[str, str]) -> bool:
    """Month days no chosen month has (30 February): dateutil would search to the year 9999 for them."""
    if "BYMONTHDAY" not in parts:
        return False
    try:
        days = [int(day) for day in parts["BYMONTHDAY"].split(",")]
        months = [int(month) for month in parts["BYMONTH"].split(",")] if "BYMONTH" in parts else list(range(1, 13))
    except ValueError:
        return False  # left to the parser, which says the rule cannot be read
    return not any(0 < abs(day) <= LONGEST_MONTH.get(month, 0) for day in days for month in months)


def _expand(rule: str, first_local: datetime, zone: ZoneInfo):
    """The rule's local wall-clock starts (naive datetimes), in order."""
    parts = _rule_parts(rule)
    until = parts.get("UNTIL")
    moment = None
    if until:
        # RFC 5545 writes UNTIL in UTC ("…Z") when the start has a zone; the rule runs on local times here.
        match = re.fullmatch(r"(\d{8})(T(\d{6}))?(Z?)", until)
        if not match:
            raise ValueError(until)
        digits = match.group(1) + (match.group(3) or "235959")
        if match.group(4):
            moment = datetime.strptime(digits + "+0000", "%Y%m%d%H%M%S%z").astimezone(zone).replace(tzinfo=None)
        else:
            # A local (floating) UNTIL, already on the series' clock.
            moment = datetime.strptime(digits + "+0000", "%Y%m%d%H%M%S%z").replace(tzinfo=None)
    # dateutil looks for the next date up to the year 9999, which for a rule that can never happen (30 February)
    # takes seconds: every expansion stops EXPANSION_YEARS after the first date, COUNT applied on top.
    first = first_local.replace(tzinfo=None)
    # Counted in days, not by replacing the year: 29 February has no twin fifty years on.
    cap = min(first + timedelta(days=366 * EXPANSION_YEARS), datetime(9999, 12, 31))  # noqa: DTZ001 (local wall clock)
    parts["UNTIL"] = min(moment or cap, cap).strftime("%Y%m%dT%H%M%S")
    count = int(parts.pop("COUNT")) if parts.get("COUNT", "").isdigit() else None
    rule = ";".join(f"{name}={value}" for name, value in parts.items())
    expansion = iter(rrulestr("RRULE:" + rule, dtstart=first))
    return islice(expansion, count) if count is not None else expansion


def rule_starts(rule: str, start_date: date, start_time: time, time_zone: str):
    """The local wall-clock starts (naive datetimes) of a series kept as a first local date and time and a rule
    (checked by `clean_rule`; "" for one date) in a named zone, in order."""
    first = datetime.combine(start_date, start_time)
    if not rule:
        return iter([first])
    return _expand(rule, first, ZoneInfo(time_zone))


def first_start(rule: str, start_date: date, start_time: time, time_zone: str) -> datetime:
    """Where a series really starts: RFC 5545 counts the first date as an occurrence only if the rule gives it,
    so a series is stored from the rule's first date, and calendar clients and Alongside agree on every date."""
    return next(rule_starts(rule, start_date, start_time, time_zone))


def instants(local_start: datetime, time_zone: str, duration_minutes: int) -> tuple[datetime, datetime]:
    """The UTC start and end of a local wall-clock start in `time_zone` (schedule/times.py rules); the end is
    the local start plus the duration on the wall clock, so 18:00 to 19:00 stays so on a night the clocks
    change."""
    zone = ZoneInfo(time_zone)
    return times.to_utc(local_start, zone), times.to_utc(local_start + timedelta(minutes=duration_minutes), zone)


def is_open_ended(rule: str) -> bool:
    """A rule that repeats without COUNT or UNTIL (stored HORIZON ahead and extended by the worker)."""
    return bool(rule) and not {"COUNT", "UNTIL"} & set(_rule_parts(rule))


def local_starts(appointment: Appointment):
    return rule_starts(appointment.rrule, appointment.start_date, appointment.start_time, appointment.time_zone)


def _check_year(day: date, field: str) -> None:
    if not 1900 <= day.year <= 2999:
        raise ValidationError({field: _("Choose a date between the years 1900 and 2999.")})


def _instants(appointment: Appointment, local_start: datetime) -> tuple[datetime, datetime]:
    return instants(local_start, appointment.time_zone, appointment.duration_minutes)


def _is_open_ended(appointment: Appointment) -> bool:
    return is_open_ended(appointment.rrule)


def instants_to_store(kept, until: datetime | None, known: set[datetime]) -> list[tuple[datetime, datetime]]:
    """The (start, end) instants of a stored series (an appointment or a group's meeting series: anything with
    `rrule`, `start_date`, `start_time`, `time_zone`, `duration_minutes` and `generated_until`) to store now:
    up to `until` (all of a bounded series, at most MAX_OCCURRENCES), and not in `known`."""
    # Extending: what lies before the stored stretch is stored already (or was moved to another zone with the
    # member), so only what comes after it is added.
    after = kept.generated_until
    open_ended = is_open_ended(kept.rrule)
    found = []
    for count, local_start in enumerate(rule_starts(kept.rrule, kept.start_date, kept.start_time, kept.time_zone)):
        if count >= MAX_OCCURRENCES and not open_ended:
            break
        start, end = instants(local_start, kept.time_zone, kept.duration_minutes)
        if until is not None and start > until:
            break
        if after is not None and start <= after:
            continue
        if start not in known:
            found.append((start, end))
    return found


def _generate(appointment: Appointment, until: datetime | None) -> int:
    """Store the occurrences up to `until` (all of them for a bounded series: at most MAX_OCCURRENCES) that
    are not stored yet; returns how many were added."""
    known = set(appointment.occurrences.values_list("original_start", flat=True))
    new = [
        Occurrence(appointment=appointment, original_start=start, start=start, end=end)
        for start, end in instants_to_store(appointment, until, known)
    ]
    Occurrence.objects.bulk_create(new)
    appointment.generated_until = until
    appointment.save(update_fields=["generated_until"])
    for occurrence in appointment.occurrences.filter(original_start__in=[o.original_start for o in new]):
        reminders.refresh(occurrence)
    return len(new)


# Who may -------------------------------------------------------------------------------------------------


def _supports_here(person, appointment: Appointment) -> bool:
    """A live relationship with the member in the appointment's organisation (ended ones, and staff removed
    from that organisation, no longer count)."""
    return (
        policy.live_relationships(person)
        .filter(member_id=appointment.member_id, organisation_id=appointment.organisation_id)
        .exists()
    )


def _consents_here(person, appointment: Appointment, action) -> bool:
    relationships = policy.live_relationships(person).filter(
        member_id=appointment.member_id,
        organisation_id=appointment.organisation_id,
        consent_grants__category=Category.APPOINTMENTS,
    )
    if action == policy.Action.CHANGE:
        relationships = relationships.filter(role__in=policy.CO_AUTHOR_ROLES)
    return relationships.exists()


def may_view(person, appointment: Appointment) -> bool:
    """The member; the staff member in it while they still support the member there; supporters in that
    organisation whom the member shares appointments with."""
    if person.pk == appointment.member_id:
        return True
    if person.pk == appointment.staff_id and _supports_here(person, appointment):
        return True
    return _consents_here(person, appointment, policy.Action.VIEW)


def may_manage(person, appointment: Appointment) -> bool:
    """Move, cancel or record attendance: the staff member in it (while still supporting the member there), or
    a co-author of the member's appointments in that organisation."""
    if person.pk == appointment.member_id:
        return False
    if person.pk == appointment.staff_id and _supports_here(person, appointment):
        return True
    return _consents_here(person, appointment, policy.Action.CHANGE)


def visible_appointments(person):
    """Appointments the person is in, or may see by the member's consent, organisation by organisation."""
    live = policy.live_relationships(person)
    supported = live.filter(member=OuterRef("member"), organisation=OuterRef("organisation"))
    shared = supported.filter(consent_grants__category=Category.APPOINTMENTS)
    return Appointment.objects.filter(Q(member=person) | (Q(staff=person) & Exists(supported)) | Exists(shared))


# Creating ------------------------------------------------------------------------------------------------


def schedule_appointment(
    *,
    by,
    member,
    organisation: Organisation | None = None,
    staff=None,
    kind: str,
    title: str,
    location_kind: str,
    address: str = "",
    video_url: str = "",
    time_zone: str,
    start_date: date,
    start_time: time,
    duration_minutes: int,
    rrule: str = "",
    checklist=None,
    request=None,
) -> Appointment:
    """A new appointment or series. The member may add their own; a clinician or case manager adds them for
    members who share their appointments with them. `checklist` is the agenda's item keys (None: the defaults
    for the kind, schedule/checklist.py). Raises ValidationError naming the fields."""
    if by.pk != member.pk and not policy.can(by, policy.Action.CHANGE, member, Category.APPOINTMENTS):
        raise PermissionDenied
    errors: dict[str, str] = {}
    title = " ".join(str(title or "").split())
    if not title:
        errors["title"] = _("Give the appointment a title (it is what reminders say).")
    elif len(title) > 120:
        errors["title"] = _("Keep the title under 120 characters.")
    if kind not in AppointmentKind.values:
        errors["kind"] = _("Choose a kind of appointment.")
    if location_kind not in LocationKind.values:
        errors["location_kind"] = _("Choose in person or online.")
    elif location_kind == LocationKind.IN_PERSON and not address.strip():
        errors["address"] = _("Give the address for an appointment in person.")
    elif location_kind == LocationKind.ONLINE and not video_url.strip().startswith("https://"):
        errors["video_url"] = _("Give the video link (starting with https://) for an online appointment.")
    try:
        validate_time_zone(time_zone)
        zone = ZoneInfo(time_zone)
    except (ValidationError, ValueError):
        errors["time_zone"] = _("Unknown time zone. Use a name such as America/New_York.")
        zone = None
    if not 1900 <= start_date.year <= 2999:
        errors["start_date"] = _("Choose a date between the years 1900 and 2999.")
    if not isinstance(duration_minutes, int) or duration_minutes <= 0:
        errors["duration_minutes"] = _("The end must be after the start.")
    elif duration_minutes > MAX_DURATION_MINUTES:
        errors["duration_minutes"] = _("An appointment lasts at most 12 hours.")
    organisation = organisation or _organisation_for(by, member)
    if organisation is None:
        errors["organisation"] = _("This member is not in an organisation you work in.")
    if (
        staff is not None
        and organisation is not None
        and not staff.org_roles.filter(organisation=organisation).exclude(role=Role.MEMBER).exists()
    ):
        errors["staff"] = _("Choose someone on the organisation's staff.")
    if zone is not None and "rrule" not in errors:
        try:
            rrule = clean_rule(rrule, datetime.combine(start_date, start_time), zone)
        except ValidationError as error:
            errors.update({key: " ".join(value) for key, value in error.message_dict.items()})
    if checklist is None:
        checklist = agenda.defaults_for(kind)
    else:
        try:
            checklist = agenda.clean_keys(checklist)
        except ValidationError as error:
            errors.update({key: " ".join(value) for key, value in error.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    if rrule:
        # The first occurrence is where the rule starts (RFC 5545 counts DTSTART as one), so calendar clients
        # and Alongside agree on every date.
        first = first_start(rrule, start_date, start_time, time_zone)
        start_date, start_time = first.date(), first.time()
    with transaction.atomic():
        appointment = Appointment.objects.create(
            organisation=organisation, member=member, staff=staff, kind=kind, title=title,
            location_kind=location_kind, address=address.strip()[:300], video_url=video_url.strip(),
            time_zone=time_zone, start_date=start_date, start_time=start_time,
            duration_minutes=duration_minutes, rrule=rrule, checklist=checklist, created_by=by,
        )  # fmt: skip
        _generate(appointment, timezone.now() + HORIZON if _is_open_ended(appointment) else None)
        _audit(request, by, appointment, f"scheduled {appointment.kind} {appointment.pk}")
    return appointment


def _organisation_for(by, member) -> Organisation | None:
    if by.pk == member.pk:
        return Organisation.objects.filter(roles__user=member, roles__role=Role.MEMBER).order_by("pk").first()
    relationship = policy.live_relationships(by).filter(member=member).select_related("organisation").first()
    return relationship.organisation if relationship else None


def extend(now: datetime | None = None) -> int:
    """Store the next stretch of open-ended series whose stored occurrences run out within a few months."""
    now = now or timezone.now()
    added = 0
    due = Appointment.objects.exclude(rrule="").filter(generated_until__lt=now + EXTEND_WHEN_WITHIN)
    for appointment in due.iterator():
        with transaction.atomic():
            added += _generate(appointment, now + HORIZON)
    return added


# Changing one occurrence -----------------------------------------------------------------------------------


def _set_status(occurrence: Occurrence, status: str, by, reason: str = "") -> Occurrence:
    occurrence.status = status
    occurrence.status_by = by
    occurrence.status_at = timezone.now()
    occurrence.reason = reason
    occurrence.sequence = F("sequence") + 1
    occurrence.save(update_fields=["status", "status_by", "status_at", "reason", "sequence", "start", "end"])
    occurrence.refresh_from_db()
    reminders.refresh(occurrence)
    return occurrence


def _clean_reason(reason: str, *, required: bool) -> str:
    reason = " ".join(str(reason or "").split())
    if required and not reason:
        raise ValidationError({"reason": _("Say why, in a few words.")})
    if len(reason) > 300:
        raise ValidationError({"reason": _("Keep the reason under 300 characters.")})
    return reason


def confirm(occurrence: Occurrence, *, by) -> Occurrence:
    """The member says they will come."""
    if by.pk != occurrence.appointment.member_id:
        raise PermissionDenied
    if not occurrence.is_upcoming:
        raise ValidationError({"status": _("Only an upcoming appointment can be confirmed.")})
    return _set_status(occurrence, OccurrenceStatus.CONFIRMED, by)


def request_reschedule(occurrence: Occurrence, *, by, reason: str) -> Occurrence:
    """The member asks for another time; the care team moves it (or not)."""
    if by.pk != occurrence.appointment.member_id:
        raise PermissionDenied
    reason = _clean_reason(reason, required=True)
    if not occurrence.is_upcoming:
        raise ValidationError({"status": _("Only an upcoming appointment can be rescheduled.")})
    return _set_status(occurrence, OccurrenceStatus.RESCHEDULE_REQUESTED, by, reason)


def cancel(occurrence: Occurrence, *, by, reason: str = "", request=None) -> Occurrence:
    """Cancel this one occurrence (the rest of the series is untouched). The member or the care team."""
    appointment = occurrence.appointment
    if by.pk != appointment.member_id and not may_manage(by, appointment):
        raise PermissionDenied
    reason = _clean_reason(reason, required=False)
    if not occurrence.is_upcoming:
        raise ValidationError({"status": _("Only an upcoming appointment can be cancelled.")})
    with transaction.atomic():
        _set_status(occurrence, OccurrenceStatus.CANCELLED, by, reason)
        Appointment.objects.filter(pk=appointment.pk).update(sequence=F("sequence") + 1)  # its EXDATEs changed
        _audit(request, by, appointment, f"cancelled occurrence {occurrence.pk}")
    return occurrence


def move(occurrence: Occurrence, *, by, new_date: date, new_time: time, reason: str = "", request=None) -> Occurrence:
    """Move this one occurrence to another local date and time (in the series' zone)."""
    appointment = occurrence.appointment
    if not may_manage(by, appointment):
        raise PermissionDenied
    reason = _clean_reason(reason, required=False)
    if occurrence.status in (OccurrenceStatus.CANCELLED, OccurrenceStatus.ATTENDED, OccurrenceStatus.MISSED):
        raise ValidationError({"status": _("This appointment has already happened or was cancelled.")})
    _check_year(new_date, "new_date")
    start, end = _instants(appointment, datetime.combine(new_date, new_time))
    if start <= timezone.now():
        raise ValidationError({"new_date": _("Choose a time in the future.")})
    with transaction.atomic():
        occurrence.start, occurrence.end = start, end
        _set_status(occurrence, OccurrenceStatus.RESCHEDULED, by, reason)
        _audit(request, by, appointment, f"moved occurrence {occurrence.pk}")
    return occurrence


def record_attendance(occurrence: Occurrence, *, by, attended: bool, request=None) -> Occurrence:
    """The care team records whether the member came. Missed appointments feed the early-warning engine."""
    appointment = occurrence.appointment
    if not may_manage(by, appointment):
        raise PermissionDenied
    if occurrence.status == OccurrenceStatus.CANCELLED:
        raise ValidationError({"status": _("This appointment was cancelled.")})
    if occurrence.start > timezone.now():
        raise ValidationError({"status": _("Attendance can be recorded once the appointment has started.")})
    status = OccurrenceStatus.ATTENDED if attended else OccurrenceStatus.MISSED
    with transaction.atomic():
        _set_status(occurrence, status, by)
        _audit(request, by, appointment, f"recorded occurrence {occurrence.pk} as {status}")
        transaction.on_commit(lambda: _announce_attendance(occurrence))
    return occurrence


# Sent with `occurrence` once attendance (attended or missed) is committed.
attendance_recorded = Signal()


def _announce_attendance(occurrence: Occurrence) -> None:
    for receiver, result in attendance_recorded.send_robust(sender=Occurrence, occurrence=occurrence):
        if isinstance(result, Exception):
            log.error("%s failed for occurrence %s: %r", receiver, occurrence.pk, result)


def missed(member, since: datetime | None = None):
    """The member's missed appointments (for the early-warning engine and the care team)."""
    rows = Occurrence.objects.filter(appointment__member=member, status=OccurrenceStatus.MISSED)
    return rows.filter(start__gte=since) if since else rows


def _audit(request, by, appointment: Appointment, detail: str) -> None:
    policy.record_staff_change(
        request, by, appointment.member, Category.APPOINTMENTS, detail, organisation=appointment.organisation
    )


# The member moved --------------------------------------------------------------------------------------------


def follow_member_to_zone(member, old_zone: str, new_zone: str) -> int:
    """A member who moves sees their future appointments at the same local time: series kept in their old
    zone move to the new one, and their future occurrences are placed again (moved ones keep their local
    time too). Past occurrences stay where they happened."""
    now = timezone.now()
    changed = 0
    for appointment in Appointment.objects.filter(member=member, time_zone=old_zone):
        with transaction.atomic():
            old, new = ZoneInfo(old_zone), ZoneInfo(new_zone)
            appointment.time_zone = new_zone
            appointment.sequence = F("sequence") + 1
            appointment.save(update_fields=["time_zone", "sequence"])
            appointment.refresh_from_db()
            for occurrence in appointment.occurrences.filter(start__gt=now):
                original_local = occurrence.original_start.astimezone(old).replace(tzinfo=None)
                start_local = occurrence.start.astimezone(old).replace(tzinfo=None)
                occurrence.original_start = times.to_utc(original_local, new)
                occurrence.start = times.to_utc(start_local, new)
                occurrence.end = times.to_utc(start_local + timedelta(minutes=appointment.duration_minutes), new)
                occurrence.sequence += 1
                occurrence.save(update_fields=["original_start", "start", "end", "sequence"])
                reminders.refresh(occurrence)
            changed += 1
    return changed
