"""Notification pages: each person's inbox and the unread count in the header, their notification
preferences (channels per kind, quiet hours, check-in reminder times, snoozing), and the deliveries an
organisation's admins see given up on, to try again.

Marking a message read is one tap: with htmx the button posts and that message comes back (with the header's
count, out of band); without JavaScript the form posts and the inbox is shown again. Another person's message is
not found (404), as is another organisation's delivery list.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from alongside.accounts.models import admin_organisation_or_404
from alongside.core.forms import add_domain_errors
from alongside.notify import inbox as notify_inbox
from alongside.notify import webhooks as notify_webhooks
from alongside.notify.forms import CHECKIN_FIELDS, PreferencesForm
from alongside.notify.models import InboxMessage, WebhookEndpoint
from alongside.notify.outbox import preferences_of

PER_PAGE = 30
DEAD_LETTERS_PER_PAGE = 50
# htmx stops polling when an answer has this status (and swaps in its empty body: the link goes away).
STOP_POLLING = 286


def _page_number(request) -> str:
    raw = request.POST.get("page") or request.GET.get("page") or "1"
    return raw if raw.isdigit() else "1"


def _back_to_inbox(request, message: InboxMessage | None = None):
    url = reverse("notify:inbox")
    page = _page_number(request)
    if page != "1":
        url = f"{url}?page={page}"
    return redirect(f"{url}#inbox-message-{message.pk}" if message else url)


@login_required
def inbox(request):
    """The person's messages, newest first, 30 to a page."""
    rows = InboxMessage.objects.filter(recipient=request.user).select_related("notification")
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "notify/inbox.html", {"page": page})


@login_required
@require_POST
def read(request, pk):
    """Mark one message read; with `open=1`, go on to where it points."""
    message = get_object_or_404(InboxMessage.objects.select_related("notification"), pk=pk, recipient=request.user)
    notify_inbox.mark_read(request.user, message)
    link = message.notification.link
    if request.POST.get("open") == "1" and link:
        safe = link.startswith("/") and url_has_allowed_host_and_scheme(
            link, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        if safe:
            return redirect(link)
    if not request.htmx:
        return _back_to_inbox(request, message)
    # Only this message comes back, and the header's count out of band.
    return render(request, "notify/_inbox_read.html", {"message": message, "page_number": _page_number(request)})


@login_required
@require_POST
def read_all(request):
    count = notify_inbox.mark_all_read(request.user)
    if count:
        messages.success(
            request,
            ngettext("%(n)s message marked read.", "%(n)s messages marked read.", count) % {"n": count},
        )
    return _back_to_inbox(request)


def _without_refreshing_the_session(view):
    """For requests the page makes by itself (polling): the session is read, but not saved, so that they do
    not keep an idle session alive past its two hours. (SessionMiddleware saves on every request otherwise;
    without a session on the request it leaves the response alone.)"""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if hasattr(request, "session"):
            del request.session
            patch_vary_headers(response, ("Cookie",))
        return response

    return wrapped


@require_GET
@never_cache
@_without_refreshing_the_session
def unread_count(request):
    """Just the header's inbox link, for htmx to refresh every minute."""
    if not request.user.is_authenticated:
        if request.htmx:
            return HttpResponse(status=STOP_POLLING)  # signed out meanwhile: the link goes, polling stops
        return redirect_to_login(request.get_full_path())
    return render(request, "notify/_inbox_link.html")


def _snooze(request):
    choice = request.POST.get("snooze", "")
    try:
        if choice == "stop":
            notify_inbox.stop_snoozing(request.user)
            messages.success(request, _("Snoozing is over: notifications come as usual."))
        else:
            preferences = notify_inbox.snooze(request.user, choice)
            until = formats.date_format(timezone.localtime(preferences.snoozed_until), "j M Y, H:i")
            messages.success(request, _("Non-urgent notifications are snoozed until %(when)s.") % {"when": until})
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("notify:preferences")


@login_required
def preferences(request):
    """Channels per kind, quiet hours, check-in reminder times; snoozing has buttons of its own."""
    person = request.user
    if request.method == "POST" and "snooze" in request.POST:
        return _snooze(request)
    current = preferences_of(person)
    form = PreferencesForm(
        request.POST if request.method == "POST" else None,
        person=person,
        initial=PreferencesForm.initial_for(person, current),
    )
    if request.method == "POST" and form.is_valid():
        try:
            notify_inbox.save_preferences(person, **form.values())
        except ValidationError as error:
            add_domain_errors(
                form, error, {"checkin_times": CHECKIN_FIELDS[0], "channels": None, "snoozed_until": None}
            )
        else:
            messages.success(request, _("Your notification choices are saved."))
            return redirect("notify:preferences")
    snoozed_until = current.snoozed_until if current.snoozed_until and current.snoozed_until > timezone.now() else None
    return render(
        request,
        "notify/preferences.html",
        {
            "form": form,
            "zone": person.time_zone,
            "snoozed_until": snoozed_until,
            "max_checkin_times": notify_inbox.MAX_CHECKIN_TIMES,
        },
        status=400 if form.errors else 200,
    )


@login_required
def dead_letters(request, slug):
    """Deliveries to the organisation's people that were given up on, with the error, to try again."""
    organisation = admin_organisation_or_404(request.user, slug)
    page = Paginator(notify_inbox.dead_letters(organisation), DEAD_LETTERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "notify/dead_letters.html", {"organisation": organisation, "page": page})


@login_required
@require_POST
def retry(request, slug, pk):
    organisation = admin_organisation_or_404(request.user, slug)
    delivery = get_object_or_404(notify_inbox.dead_letters(organisation), pk=pk)
    try:
        notify_inbox.retry_dead(delivery, request.user, organisation=organisation, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The delivery will be tried again in a moment."))
    return redirect("notify:dead_letters", slug=organisation.slug)


@login_required
def webhooks(request, slug):
    """The organisation's message gateways: add one (its secret is shown once) or turn one off."""
    organisation = admin_organisation_or_404(request.user, slug)
    secret, errors, url = None, [], ""
    if request.method == "POST":
        url = request.POST.get("url", "")
        try:
            _endpoint, secret = notify_webhooks.add_endpoint(
                by=request.user, organisation=organisation, url=url, request=request
            )
        except ValidationError as error:
            errors = error.messages
    endpoints = WebhookEndpoint.objects.filter(organisation=organisation).order_by("-active", "-created_at")
    response = render(
        request,
        "notify/webhooks.html",
        {"organisation": organisation, "endpoints": endpoints, "secret": secret, "errors": errors, "url": url},
    )
    if secret:
        response["Cache-Control"] = "no-store"  # the secret is shown once, and never kept by a cache
    return response


@login_required
@require_POST
def webhook_off(request, slug, pk):
    organisation = admin_organisation_or_404(request.user, slug)
    endpoint = get_object_or_404(WebhookEndpoint, organisation=organisation, pk=pk)
    notify_webhooks.turn_off(endpoint, by=request.user, request=request)
    messages.success(request, _("The webhook is turned off."))
    return redirect("notify:webhooks", slug=organisation.slug)
