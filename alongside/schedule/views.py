"""Appointment pages: the member's week and month, the care team's schedule across their caseload, one
occurrence with what each person may do to it, and the form for a new appointment or series."""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from alongside.accounts.decorators import member_required
from alongside.care import policy
from alongside.care.models import Category
from alongside.core.forms import add_domain_errors
from alongside.schedule import checklist as agenda
from alongside.schedule import series
from alongside.schedule.forms import AppointmentForm, MoveForm, ReasonForm
from alongside.schedule.models import Occurrence, OccurrenceStatus


def _day(request, zone: ZoneInfo) -> date:
    try:
        day = date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        day = None
    if day is None or not 1900 <= day.year <= 2999:
        return timezone.now().astimezone(zone).date()
    return day


def _window(first: date, days: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(first, time.min).replace(tzinfo=zone)
    return start, datetime.combine(first + timedelta(days=days), time.min).replace(tzinfo=zone)


def _by_day(occurrences, zone: ZoneInfo) -> dict[date, list[Occurrence]]:
    days: dict[date, list[Occurrence]] = {}
    for occurrence in occurrences:
        occurrence.local_start = occurrence.start.astimezone(zone)
        occurrence.local_end = occurrence.end.astimezone(zone)
        days.setdefault(occurrence.local_start.date(), []).append(occurrence)
    return days


@member_required
def my_schedule(request):
    """The member's appointments by week or month, in their own time zone."""
    zone = ZoneInfo(request.user.time_zone)
    day = _day(request, zone)
    view = "month" if request.GET.get("view") == "month" else "week"
    if view == "week":
        first = day - timedelta(days=day.weekday())
        days = 7
        previous, following = first - timedelta(days=7), first + timedelta(days=7)
    else:
        first = day.replace(day=1)
        days = calendar.monthrange(first.year, first.month)[1]
        previous = (first - timedelta(days=1)).replace(day=1)
        following = first + timedelta(days=days)
    start, end = _window(first, days, zone)
    occurrences = (
        Occurrence.objects.filter(appointment__member=request.user, start__gte=start, start__lt=end)
        .select_related("appointment__staff")
        .order_by("start")
    )
    by_day = _by_day(occurrences, zone)
    dates = [first + timedelta(days=offset) for offset in range(days)]
    context = {
        "view": view,
        "first": first,
        "last": dates[-1],
        "previous": previous,
        "following": following,
        "days": [(d, by_day.get(d, [])) for d in dates],
        "today": timezone.now().astimezone(zone).date(),
        "zone": request.user.time_zone,
    }
    if view == "month":
        # Weeks of the month for the calendar grid, Monday first; days outside the month are None.
        weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
        context["weeks"] = [
            [(d, by_day.get(d, [])) if d.month == first.month else (None, []) for d in week] for week in weeks
        ]
    return render(request, "schedule/mine.html", context)


@login_required
def staff_schedule(request):
    """The week across everyone the person may see appointments of, and their own appointments."""
    if not request.user.is_care_staff:
        raise PermissionDenied
    zone = ZoneInfo(request.user.time_zone)
    day = _day(request, zone)
    first = day - timedelta(days=day.weekday())
    start, end = _window(first, 7, zone)
    occurrences = (
        Occurrence.objects.filter(
            appointment__in=series.visible_appointments(request.user), start__gte=start, start__lt=end
        )
        .exclude(appointment__member=request.user)
        .select_related("appointment__member", "appointment__staff")
        .order_by("start")
    )
    by_day = _by_day(occurrences, zone)
    dates = [first + timedelta(days=offset) for offset in range(7)]
    return render(
        request,
        "schedule/staff.html",
        {
            "first": first,
            "last": dates[-1],
            "previous": first - timedelta(days=7),
            "following": first + timedelta(days=7),
            "days": [(d, by_day.get(d, [])) for d in dates],
            "now": timezone.now(),
            "zone": request.user.time_zone,
        },
    )


def _occurrence_for(request, pk) -> Occurrence:
    occurrence = get_object_or_404(
        Occurrence.objects.select_related("appointment__member", "appointment__staff"), pk=pk
    )
    appointment = occurrence.appointment
    if not series.may_view(request.user, appointment):
        raise Http404
    if request.user.pk not in (appointment.member_id, appointment.staff_id):
        # Someone reading a member's appointment by their consent: in the audit log.
        policy.open_member_record(request, appointment.member_id, Category.APPOINTMENTS, detail=f"appointment {pk}")
    return occurrence


def _occurrence_context(request, occurrence: Occurrence, **extra) -> dict:
    appointment = occurrence.appointment
    user = request.user
    zone = ZoneInfo(user.time_zone)
    occurrence.local_start = occurrence.start.astimezone(zone)
    occurrence.local_end = occurrence.end.astimezone(zone)
    is_member = user.pk == appointment.member_id
    manages = series.may_manage(user, appointment)
    upcoming = occurrence.is_upcoming
    return {
        "occurrence": occurrence,
        "appointment": appointment,
        "participant": user.pk in (appointment.member_id, appointment.staff_id),
        "is_member": is_member,
        "may_confirm": is_member and upcoming and occurrence.status != OccurrenceStatus.CONFIRMED,
        "may_request": is_member and upcoming,
        "may_cancel": (is_member or manages) and upcoming,
        "may_move": manages and occurrence.status not in (
            OccurrenceStatus.CANCELLED, OccurrenceStatus.ATTENDED, OccurrenceStatus.MISSED
        ),
        "may_record": manages and occurrence.start <= timezone.now()
        and occurrence.status != OccurrenceStatus.CANCELLED,
        "agenda": agenda.lines_for(occurrence),
        "may_tick": agenda.may_tick(user, occurrence),
        "zone": user.time_zone,
        "series_zone_differs": appointment.time_zone != user.time_zone,
        "reason_form": extra.pop("reason_form", None) or ReasonForm(),
        "move_form": extra.pop("move_form", None) or MoveForm(),
        **extra,
    }  # fmt: skip


@login_required
def occurrence_page(request, pk):
    occurrence = _occurrence_for(request, pk)
    return render(request, "schedule/occurrence.html", _occurrence_context(request, occurrence))


def _after_change(request, occurrence, message: str):
    """htmx swaps the occurrence card; without it the page reloads with a message."""
    if request.htmx:
        occurrence.refresh_from_db()
        context = _occurrence_context(request, occurrence, changed=message)
        return render(request, "schedule/_occurrence_card.html", context)
    messages.success(request, message)
    return redirect("schedule:occurrence", pk=occurrence.pk)


def _refused(request, occurrence, error: ValidationError, **forms):
    context = _occurrence_context(request, occurrence, errors=error.messages, **forms)
    template = "schedule/_occurrence_card.html" if request.htmx else "schedule/occurrence.html"
    return render(request, template, context)


def _change(request, pk, make_change, message: str, *, form=None, form_name: str = ""):
    """One change to one occurrence, as every action below makes it: 404 for someone who may not make it, the
    refusal shown on the card (and beside the form's fields), or the changed card."""
    occurrence = _occurrence_for(request, pk)
    forms = {form_name: form} if form is not None else {}
    try:
        make_change(occurrence)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        if form is not None:
            add_domain_errors(form, error)
        return _refused(request, occurrence, error, **forms)
    return _after_change(request, occurrence, message)


def _reason(request) -> tuple[ReasonForm, str]:
    form = ReasonForm(request.POST)
    form.is_valid()
    return form, form.cleaned_data.get("reason", "")


@login_required
@require_POST
def confirm_occurrence(request, pk):
    return _change(
        request,
        pk,
        lambda occurrence: series.confirm(occurrence, by=request.user),
        _("You confirmed this appointment."),
    )


@login_required
@require_POST
def cancel_occurrence(request, pk):
    form, reason = _reason(request)
    return _change(
        request, pk, lambda occurrence: series.cancel(occurrence, by=request.user, reason=reason, request=request),
        _("This appointment is cancelled. The others in the series are unchanged."), form=form, form_name="reason_form",
    )  # fmt: skip


@login_required
@require_POST
def request_reschedule(request, pk):
    form, reason = _reason(request)
    return _change(
        request, pk, lambda occurrence: series.request_reschedule(occurrence, by=request.user, reason=reason),
        _("Your care team has your request for another time."), form=form, form_name="reason_form",
    )  # fmt: skip


@login_required
@require_POST
def move_occurrence(request, pk):
    form = MoveForm(request.POST)
    if not form.is_valid():
        occurrence = _occurrence_for(request, pk)
        return _refused(request, occurrence, ValidationError(_("Give the new date and time.")), move_form=form)
    data = form.cleaned_data
    return _change(
        request, pk,
        lambda occurrence: series.move(
            occurrence, by=request.user, new_date=data["new_date"], new_time=data["new_time"],
            reason=data.get("reason", ""), request=request,
        ),
        _("Moved. The other appointments in the series are unchanged."), form=form, form_name="move_form",
    )  # fmt: skip


@login_required
@require_POST
def record_attendance(request, pk):
    attended = request.POST.get("attended") == "1"
    return _change(
        request, pk,
        lambda occurrence: series.record_attendance(occurrence, by=request.user, attended=attended, request=request),
        _("Attendance recorded."),
    )  # fmt: skip


@login_required
@require_POST
def tick_agenda_item(request, pk, key):
    done = request.POST.get("done") != "0"
    return _change(
        request, pk,
        lambda occurrence: agenda.tick(occurrence, key, by=request.user, done=done, request=request),
        _("Saved."),
    )  # fmt: skip


@login_required
def new_appointment(request, member_pk=None):
    """A member adds their own appointment; a co-author adds one for a member who shares appointments."""
    if member_pk is None:
        if not request.user.is_member:
            raise PermissionDenied
        member = request.user
    else:
        member = policy.member_to_change(request.user, member_pk, Category.APPOINTMENTS)
    staff_choices = _staff_choices(request.user, member)
    form = AppointmentForm(
        request.POST if request.method == "POST" else None,
        staff_choices=staff_choices,
        with_agenda=member_pk is not None,
        initial={"time_zone": member.time_zone, "staff": request.user.pk if member_pk else None},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            appointment = series.schedule_appointment(
                by=request.user, member=member, staff=data["staff"], kind=data["kind"], title=data["title"],
                location_kind=data["location_kind"], address=data["address"], video_url=data["video_url"],
                time_zone=data["time_zone"], start_date=data["start_date"], start_time=data["start_time"],
                duration_minutes=data["duration_minutes"], rrule=form.rule(), checklist=data.get("checklist", []),
                request=request,
            )  # fmt: skip
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            add_domain_errors(form, error)
        else:
            messages.success(request, _("Appointment saved."))
            first = appointment.occurrences.order_by("start").first()
            return redirect("schedule:occurrence", pk=first.pk)
    return render(request, "schedule/new.html", {"form": form, "member": member, "own": member_pk is None})


def _staff_choices(person, member):
    """Who an appointment may be with: the member's current supporters (and the person, if staff)."""
    from alongside.care.models import CareRelationship

    team = CareRelationship.objects.care_team_of(member)
    people = {relationship.staff for relationship in team}
    if person.is_care_staff and person.pk != member.pk:
        people.add(person)
    return sorted(people, key=lambda staff: staff.display_name)
