"""Meeting pages: a group's meetings (upcoming and past, with RSVP buttons), a new meeting series, one meeting
(its time on the viewer's clock, place and link for insiders, RSVP, and for facilitators counts, attendance and
notes), and the posts that change them. Outside the group everything answers 404."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from alongside.core.forms import add_domain_errors
from alongside.groups import access, meetings
from alongside.groups.meeting_forms import AttendanceForm, CancelForm, MeetingSeriesForm, NotesForm, RsvpForm
from alongside.groups.models import MeetingSeries, MeetingStatus, Rsvp, RsvpAnswer
from alongside.schedule import series


def _localise(meeting, zone: ZoneInfo) -> None:
    meeting.local_start = meeting.start.astimezone(zone)
    meeting.local_end = meeting.end.astimezone(zone)


# A weekly series stores a year ahead; on a phone the page shows the next two months unless asked for more.
UPCOMING_SHOWN = 8


def _with_words(series_list):
    """Each series with its rule as people say it, for the facilitators' list."""
    series_list = list(series_list)
    for item in series_list:
        item.rule_words = series.rule_in_words(item.rrule)
    return series_list


@login_required
def meeting_list(request, pk):
    group = access.group_or_404(request.user, pk)
    zone = ZoneInfo(request.user.time_zone)
    upcoming, past = meetings.upcoming_and_past(group)
    later = 0 if request.GET.get("all") == "1" else max(len(upcoming) - UPCOMING_SHOWN, 0)
    if later:
        upcoming = upcoming[:UPCOMING_SHOWN]
    answers = dict(
        Rsvp.objects.filter(meeting__in=[*upcoming, *past], person=request.user).values_list("meeting", "answer")
    )
    facilitates = access.is_facilitator(request.user, group)
    counts = meetings.rsvp_counts(upcoming) if facilitates else {}
    may_rsvp = access.active_membership(request.user, group) is not None and group.archived_at is None
    now = timezone.now()
    for meeting in [*upcoming, *past]:
        _localise(meeting, zone)
        meeting.my_answer = answers.get(meeting.pk, "")
        meeting.counts = counts.get(meeting.pk, dict.fromkeys(RsvpAnswer.values, 0)) if facilitates else None
        meeting.may_rsvp = may_rsvp and meetings.is_upcoming(meeting, now)
    return render(
        request,
        "groups/meetings.html",
        {
            "group": group,
            "upcoming": upcoming,
            "past": past,
            "later": later,
            "facilitates": facilitates,
            "series_list": _with_words(meetings.live_series(group)) if facilitates else [],
            "answers": RsvpAnswer.choices,
            "zone": request.user.time_zone,
        },
    )


@login_required
def new_meetings(request, pk):
    group = access.group_or_404(request.user, pk)
    if not access.is_facilitator(request.user, group):
        raise Http404
    posted = request.POST if request.method == "POST" else None
    form = MeetingSeriesForm(posted, initial={"time_zone": request.user.time_zone})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            meetings.schedule_meetings(
                by=request.user, group=group, title=data["title"], time_zone=data["time_zone"],
                start_date=data["start_date"], start_time=data["start_time"],
                duration_minutes=data["duration_minutes"], rrule=form.rule(), request=request,
            )  # fmt: skip
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            add_domain_errors(form, error, {"rrule": "custom_rule"})
        else:
            messages.success(request, _("Meetings scheduled. Members see them on the group's meetings page."))
            return redirect("groups:meetings", pk=group.pk)
    return render(request, "groups/meeting_new.html", {"group": group, "form": form})


def _meeting_context(request, meeting, **extra) -> dict:
    user = request.user
    group = meeting.series.group
    _localise(meeting, ZoneInfo(user.time_zone))
    runs = meetings.may_run(user, meeting)
    started = meetings.has_started(meeting)
    people = [membership.person for membership in meetings.attendees(meeting)] if runs else []
    recorded = meetings.attendance_of(meeting) if runs else {}
    meeting.my_answer = meetings.answer_of(user, meeting)
    meeting.may_rsvp = meetings.may_rsvp(user, meeting) and group.archived_at is None and meetings.is_upcoming(meeting)
    context = {
        "meeting": meeting,
        "meeting_series": meeting.series,
        "group": group,
        "zone": user.time_zone,
        "answers": RsvpAnswer.choices,
        "runs": runs,
        "may_cancel": runs and meetings.is_upcoming(meeting),
        "may_record": runs and started and meeting.status != MeetingStatus.CANCELLED,
        "counts": meetings.rsvp_counts([meeting]).get(meeting.pk, dict.fromkeys(RsvpAnswer.values, 0))
        if runs
        else None,
        "attendance_rows": [(person, recorded.get(person.pk)) for person in people],
        "attendance_form": extra.pop("attendance_form", None)
        or AttendanceForm(people=people, initial={"attended": [str(pk) for pk, came in recorded.items() if came]}),
        "notes_form": extra.pop("notes_form", None)
        or (NotesForm(initial={"notes": meetings.notes_for(user, meeting, request=request)}) if runs else None),
        "cancel_form": extra.pop("cancel_form", None) or CancelForm(),
    }
    context.update(extra)
    return context


@login_required
def meeting_page(request, pk):
    meeting = meetings.meeting_or_404(request.user, pk)
    return render(request, "groups/meeting.html", _meeting_context(request, meeting))


def _refused(request, meeting, error: ValidationError, **forms):
    return render(request, "groups/meeting.html", _meeting_context(request, meeting, errors=error.messages, **forms))


@login_required
@require_POST
def rsvp(request, pk):
    meeting = meetings.meeting_or_404(request.user, pk)
    form = RsvpForm(request.POST)
    answer = form.cleaned_data["answer"] if form.is_valid() else ""
    error = None
    try:
        meetings.rsvp(request.user, meeting, answer, request=request)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as refused:
        error = refused
    if request.htmx:
        _localise(meeting, ZoneInfo(request.user.time_zone))
        meeting.my_answer = meetings.answer_of(request.user, meeting)
        meeting.may_rsvp = meetings.is_upcoming(meeting)
        return render(
            request,
            "groups/_meeting_rsvp.html",
            {
                "meeting": meeting,
                "answers": RsvpAnswer.choices,
                "errors": error.messages if error else [],
                "saved": not error,
            },
        )
    if error is not None:
        return _refused(request, meeting, error)
    messages.success(request, _("Your answer is saved. You can change it until the meeting starts."))
    if request.POST.get("back") == "list":
        return redirect("groups:meetings", pk=meeting.series.group_id)
    return redirect("groups:meeting", pk=meeting.pk)


@login_required
@require_POST
def attendance(request, pk):
    meeting = meetings.meeting_or_404(request.user, pk)
    if not meetings.may_run(request.user, meeting):
        raise Http404
    people = [membership.person for membership in meetings.attendees(meeting)]
    form = AttendanceForm(request.POST, people=people)
    if not form.is_valid():
        return _refused(request, meeting, ValidationError(_("Choose people from the group's members.")),
                        attendance_form=form)  # fmt: skip
    try:
        meetings.record_attendance(meeting, by=request.user, attended=set(form.cleaned_data["attended"]),
                                   request=request)  # fmt: skip
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        add_domain_errors(form, error)
        return _refused(request, meeting, error, attendance_form=form)
    messages.success(request, _("Attendance recorded."))
    return redirect("groups:meeting", pk=meeting.pk)


@login_required
@require_POST
def meeting_notes(request, pk):
    meeting = meetings.meeting_or_404(request.user, pk)
    if not meetings.may_run(request.user, meeting):
        raise Http404
    form = NotesForm(request.POST)
    if not form.is_valid():
        return _refused(request, meeting, ValidationError(_("Keep the notes under 10,000 characters.")),
                        notes_form=form)  # fmt: skip
    try:
        meetings.save_notes(meeting, by=request.user, text=form.cleaned_data["notes"], request=request)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        add_domain_errors(form, error)
        return _refused(request, meeting, error, notes_form=form)
    messages.success(request, _("Notes saved."))
    return redirect("groups:meeting", pk=meeting.pk)


@login_required
@require_POST
def cancel_meeting(request, pk):
    meeting = meetings.meeting_or_404(request.user, pk)
    if not meetings.may_run(request.user, meeting):
        raise Http404
    form = CancelForm(request.POST)
    form.is_valid()
    try:
        meetings.cancel_meeting(meeting, by=request.user, reason=form.cleaned_data.get("reason", ""), request=request)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        add_domain_errors(form, error)
        return _refused(request, meeting, error, cancel_form=form)
    messages.success(request, _("The meeting is cancelled and members were told. The rest of the series is unchanged."))
    return redirect("groups:meeting", pk=meeting.pk)


@login_required
@require_POST
def end_meeting_series(request, pk):
    meeting_series = get_object_or_404(
        MeetingSeries.objects.select_related("group__organisation").filter(
            group__in=access.groups_inside(request.user)
        ),
        pk=pk,
    )
    try:
        meetings.end_series(meeting_series, by=request.user, request=request)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The series has ended. Its past meetings and their attendance stay."))
    return redirect("groups:meetings", pk=meeting_series.group_id)
