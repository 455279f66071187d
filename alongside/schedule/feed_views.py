"""Calendar feed pages: the secret feed URL itself (no sign-in), the person's calendar settings, and one
appointment as an `.ics` download."""

from __future__ import annotations

import hashlib

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import get_conditional_response
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from alongside.audit.log import record
from alongside.audit.models import AuditAction
from alongside.care import policy
from alongside.care.models import Category
from alongside.core.forms import add_domain_errors
from alongside.schedule import feeds, preferences, series
from alongside.schedule.models import Occurrence

CALENDAR_TYPE = "text/calendar; charset=utf-8"


class CalendarPreferencesForm(forms.Form):
    feed_shows_titles = forms.BooleanField(
        label=gettext_lazy("Show appointment titles, places and video links in my calendar"),
        help_text=gettext_lazy(
            "Off: every appointment is called “Appointment” and nothing else is said about it, so nobody who "
            "sees your calendar or the app that shows it learns more."
        ),
        required=False,
    )
    reminder_offsets = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Remind me"),
        help_text=gettext_lazy("Choose up to three. Reminders come at these times on your own clock."),
        choices=preferences.REMINDER_CHOICES,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def clean_reminder_offsets(self):
        offsets = self.cleaned_data["reminder_offsets"]
        if len(offsets) > preferences.MAX_REMINDERS:
            raise ValidationError(
                _("Choose at most %(n)s reminder times.") % {"n": preferences.MAX_REMINDERS}, code="too_many"
            )
        return offsets


def _feed_url(request, raw: str) -> str:
    return request.build_absolute_uri(reverse("schedule:feed", args=[raw]))


def _settings_page(request, form, *, new_url: str = "", status: int = 200):
    context = {"form": form, "feed": feeds.live_feed(request.user), "new_url": new_url}
    return render(request, "schedule/calendar/settings.html", context, status=status)


@require_safe
def feed(request, token: str):
    """The person's calendar feed, for calendar apps to subscribe to. The token is the only key."""
    person = feeds.person_for_token(token)
    if person is None:
        raise Http404
    body = feeds.calendar_for(person)
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    response = get_conditional_response(request, etag=etag) or HttpResponse(body, content_type=CALENDAR_TYPE)
    response["ETag"] = etag
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_required
def calendar_settings(request):
    """Make, replace or turn off my calendar link; whether it shows titles; when I am reminded."""
    current = preferences.preferences_of(request.user)
    initial = {"feed_shows_titles": current.feed_shows_titles, "reminder_offsets": current.reminder_offsets}
    form = CalendarPreferencesForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            try:
                preferences.save_preferences(
                    request.user,
                    feed_shows_titles=form.cleaned_data["feed_shows_titles"],
                    reminder_offsets=form.cleaned_data["reminder_offsets"],
                )
            except ValidationError as error:
                add_domain_errors(form, error)
            else:
                messages.success(request, _("Saved. Your calendar and reminders follow your choices."))
                return redirect("schedule:calendar_settings")
        messages.error(request, _("Not saved: please check the form."))
        return _settings_page(request, form, status=400)
    return _settings_page(request, form)


@login_required
@require_POST
def calendar_new_link(request):
    """A new secret link, replacing the old one; shown on this answer only (only a fingerprint is kept)."""
    _feed, raw = feeds.issue_feed(request.user, request=request)
    current = preferences.preferences_of(request.user)
    form = CalendarPreferencesForm(
        initial={"feed_shows_titles": current.feed_shows_titles, "reminder_offsets": current.reminder_offsets}
    )
    response = _settings_page(request, form, new_url=_feed_url(request, raw))
    response["Cache-Control"] = "no-store"  # the page holds the secret link
    return response


@login_required
@require_POST
def calendar_revoke(request):
    if feeds.revoke_feeds(request.user, request=request):
        messages.success(request, _("Your calendar link is turned off. Calendar apps can no longer read it."))
    else:
        messages.info(request, _("You have no calendar link."))
    return redirect("schedule:calendar_settings")


@login_required
@require_safe
def occurrence_ics(request, occurrence_pk: int):
    """One appointment as a file to add to a calendar, for the people who may see it."""
    occurrence = get_object_or_404(
        Occurrence.objects.select_related("appointment__member", "appointment__staff"), pk=occurrence_pk
    )
    appointment = occurrence.appointment
    if not series.may_view(request.user, appointment):
        raise Http404
    if request.user.pk not in (appointment.member_id, appointment.staff_id):
        roles, organisation = policy.relation_to(request.user, appointment.member)
        record(
            AuditAction.VIEW, request=request, member=appointment.member, organisation=organisation,
            category=Category.APPOINTMENTS, detail=f"downloaded occurrence {occurrence.pk} as .ics",
            actor_roles=roles,
        )  # fmt: skip
    response = HttpResponse(feeds.single_event(occurrence, request.user), content_type=CALENDAR_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{feeds.filename(occurrence)}"'
    response["Cache-Control"] = "private, no-store"
    return response
