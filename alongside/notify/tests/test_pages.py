"""The notification pages: the inbox and its header count, preferences with snoozing, and the deliveries an
organisation's admins see given up on."""

from __future__ import annotations

import itertools
from datetime import time, timedelta

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from alongside.accounts.models import Role
from alongside.audit.models import AuditAction, AuditEvent
from alongside.notify import dispatch, inbox, outbox
from alongside.notify.context_processors import unread_inbox
from alongside.notify.models import (
    Delivery,
    DeliveryStatus,
    InboxMessage,
    NotificationKind,
    NotificationPreferences,
)
from alongside.testing.factories import make_member, make_staff

HTMX = {"HX-Request": "true"}
_keys = itertools.count(1)


def deliver(person, title: str, *, link: str = "/me/checkin/") -> InboxMessage:
    """A message in the person's inbox, the way the worker puts it there."""
    inbox.save_preferences(person, quiet_hours=False, channels={NotificationKind.NUDGE: ["inbox"]})
    notification = outbox.notify(
        person, kind=NotificationKind.NUDGE, title=title, link=link, source_key=f"page-test:{next(_keys)}"
    )
    dispatch.run("test-worker")
    return InboxMessage.objects.get(notification=notification)


def dead(person, *, error: str = "SMTP: 550 mailbox unavailable") -> Delivery:
    """A delivery to the person that the worker gave up on."""
    notification = outbox.notify(
        person, kind=NotificationKind.APPOINTMENT_REMINDER, title="Soon", urgent=True, source_key=f"dead:{next(_keys)}"
    )
    delivery = notification.deliveries.get(channel="email")
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.DEAD, attempts=dispatch.MAX_ATTEMPTS, last_error=error
    )
    return Delivery.objects.get(pk=delivery.pk)


# The inbox


def test_the_inbox_lists_only_the_persons_own_messages_newest_first(member, organisation, client_for):
    someone_else = make_member(organisation)
    deliver(someone_else, "Someone else's reminder")
    older = deliver(member, "An older reminder")
    newer = deliver(member, "A newer reminder")
    inbox.mark_read(member, older)

    response = client_for(member).get(reverse("notify:inbox"))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Someone else&#x27;s reminder" not in body and "Someone else" not in body
    assert body.index("A newer reminder") < body.index("An older reminder")
    item = body[body.index(f'id="inbox-message-{newer.pk}"') :]
    assert "Unread" in item[: item.index("</li>")]  # in words, not only colour
    assert reverse("notify:read", args=[newer.pk]) in body


def test_the_inbox_has_thirty_to_a_page(member, client_for):
    for number in range(31):
        deliver(member, f"Reminder {number}")
    client = client_for(member)
    first = client.get(reverse("notify:inbox")).content.decode()
    second = client.get(reverse("notify:inbox"), {"page": 2}).content.decode()
    assert first.count('class="card inbox-item') == 30 and "Page 1 of 2" in first
    assert second.count('class="card inbox-item') == 1 and "Reminder 0" in second


def test_marking_read_with_htmx_returns_the_message_and_the_new_count(member, client_for):
    message = deliver(member, "Time to check in?")
    deliver(member, "Another one")

    response = client_for(member).post(reverse("notify:read", args=[message.pk]), headers=HTMX)

    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert f'id="inbox-message-{message.pk}"' in body and "Read" in body and "Mark as read" not in body
    assert 'hx-swap-oob="true"' in body and ", 1 unread" in body  # the header's count, out of band
    assert InboxMessage.objects.get(pk=message.pk).read_at is not None


def test_marking_read_without_javascript_goes_back_or_opens_the_link(member, client_for):
    client = client_for(member)
    first = deliver(member, "One", link="/me/checkin/")
    second = deliver(member, "Two", link="//elsewhere.example/")

    back = client.post(reverse("notify:read", args=[first.pk]), {"page": "2"})
    assert back.status_code == 302 and back["Location"] == f"/me/inbox/?page=2#inbox-message-{first.pk}"

    opened = client.post(reverse("notify:read", args=[first.pk]), {"open": "1"})
    assert opened["Location"] == "/me/checkin/"

    elsewhere = client.post(reverse("notify:read", args=[second.pk]), {"open": "1"})
    assert elsewhere["Location"].startswith("/me/inbox/")  # never off the site
    assert not InboxMessage.objects.filter(recipient=member, read_at__isnull=True).exists()


def test_another_persons_message_is_not_found(member, organisation, client_for):
    theirs = deliver(make_member(organisation), "Not yours")
    response = client_for(member).post(reverse("notify:read", args=[theirs.pk]), headers=HTMX)
    assert response.status_code == 404
    assert InboxMessage.objects.get(pk=theirs.pk).read_at is None
    with pytest.raises(PermissionDenied):
        inbox.mark_read(member, theirs)


def test_mark_all_read_touches_only_the_persons_own(member, organisation, client_for):
    theirs = deliver(make_member(organisation), "Not yours")
    deliver(member, "One")
    deliver(member, "Two")
    response = client_for(member).post(reverse("notify:read_all"))
    assert response.status_code == 302
    assert inbox.unread_count(member) == 0
    assert InboxMessage.objects.get(pk=theirs.pk).read_at is None


# The header's count


def test_the_header_shows_the_unread_count(member, client_for):
    for title in ("One", "Two", "Three"):
        deliver(member, title)
    inbox.mark_read(member, InboxMessage.objects.filter(recipient=member).first())
    deliver(member, "Four")

    body = client_for(member).get(reverse("web:member_home")).content.decode()

    assert 'id="inbox-link"' in body
    assert '<span aria-hidden="true">Inbox (3)</span><span class="visually-hidden">Inbox, 3 unread</span>' in body
    assert 'hx-get="/me/inbox/count/"' in body and 'hx-trigger="every 60s"' in body


def test_the_count_costs_one_small_query(member, django_assert_num_queries):
    deliver(member, "One")
    request = RequestFactory().get("/")
    request.user = member
    member.is_care_staff  # noqa: B018 (roles are read once per request, for the navigation too)
    context = unread_inbox(request)
    with django_assert_num_queries(1):
        html = render_to_string("notify/_inbox_link.html", context)
        html += render_to_string("notify/_inbox_link.html", context)
    assert html.count(", 1 unread") == 2


def test_the_count_endpoint_returns_just_the_link_and_keeps_no_session_alive(member, client_for):
    deliver(member, "One")
    deliver(member, "Two")
    response = client_for(member).get(reverse("notify:unread_count"), headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.startswith('<a id="inbox-link"') and ", 2 unread" in body and "<html" not in body
    assert 'hx-swap="outerHTML"' in body
    assert settings.SESSION_COOKIE_NAME not in response.cookies  # polling does not extend an idle session


def test_the_count_endpoint_signed_out(client):
    assert client.get(reverse("notify:unread_count"), headers=HTMX).status_code == 286  # htmx stops polling
    assert client.get(reverse("notify:unread_count"))["Location"].startswith(reverse("accounts:login"))


def test_the_header_has_no_inbox_link_when_signed_out(client):
    assert 'id="inbox-link"' not in client.get(reverse("web:crisis")).content.decode()


# Preferences


def test_the_preferences_page_shows_each_kind_and_the_persons_zone(member, staff, client_for):
    body = client_for(member).get(reverse("notify:preferences")).content.decode()
    assert "America/New_York" in body
    assert "never say what a message is about" in body
    assert "<legend>Check-in reminders</legend>" in body
    assert 'value="webhook"' not in body and "Safety alerts" not in body  # staff only
    staff_body = client_for(staff).get(reverse("notify:preferences")).content.decode()
    assert 'value="webhook"' in staff_body and "<legend>Safety alerts</legend>" in staff_body
    assert "Remind me to check in" not in staff_body  # check-in reminders are for members


def test_saving_preferences(member, client_for):
    response = client_for(member).post(
        reverse("notify:preferences"),
        {
            "checkin_reminder": ["inbox", "email"],
            "appointment_reminder": ["inbox"],
            "quiet_hours": "on",
            "quiet_start": "22:30",
            "quiet_end": "07:00",
            "checkin_time_1": "20:00",
            "checkin_time_2": "08:30",
        },
    )
    assert response.status_code == 302
    preferences = NotificationPreferences.objects.get(person=member)
    assert preferences.channels["checkin_reminder"] == ["inbox", "email"]
    assert preferences.channels["routine_reminder"] == []  # nothing ticked: turned off
    assert (preferences.quiet_start, preferences.quiet_end) == (time(22, 30), time(7, 0))
    assert preferences.checkin_times == ["08:30", "20:00"]


def test_bad_preferences_come_back_with_messages_and_nothing_lost(member, client_for):
    data = {
        "checkin_reminder": ["email"],
        "quiet_hours": "on",
        "quiet_start": "21:00",
        "quiet_end": "21:00",
        "checkin_time_1": "25:61",
        "checkin_time_2": "09:15",
    }
    response = client_for(member).post(reverse("notify:preferences"), data)
    body = response.content.decode()
    assert response.status_code == 400
    assert "Please check the form." in body
    assert "“25:61” is not a time of day" in body
    assert "Quiet hours need to end at a different time" in body
    assert 'value="25:61"' in body and 'value="09:15"' in body  # what was typed is still there
    assert not NotificationPreferences.objects.filter(person=member).exists()


def test_safety_alerts_always_stay_in_the_inbox(staff, client_for):
    with pytest.raises(ValidationError) as refused:
        inbox.save_preferences(staff, channels={NotificationKind.SAFETY_ALERT: ["email"]})
    assert "safety_alert" in refused.value.message_dict
    # On the page the inbox box is ticked and fixed; a post without it keeps it.
    body = client_for(staff).get(reverse("notify:preferences")).content.decode()
    assert 'name="safety_alert" value="inbox"' in body and "disabled" in body
    client_for(staff).post(reverse("notify:preferences"), {"safety_alert": ["webhook"], "quiet_hours": ""})
    assert NotificationPreferences.objects.get(person=staff).channels["safety_alert"] == ["inbox", "webhook"]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"channels": {"horoscope": ["inbox"]}}, "channels"),
        ({"channels": {NotificationKind.NUDGE: ["carrier_pigeon"]}}, NotificationKind.NUDGE),
        ({"channels": {NotificationKind.NUDGE: ["webhook"]}}, NotificationKind.NUDGE),  # staff only
        ({"checkin_times": ["08:00", "12:00", "15:00", "18:00", "21:00"]}, "checkin_times"),
        ({"checkin_times": ["8am"]}, "checkin_times"),
        ({"checkin_times": ["24:00"]}, "checkin_times"),
        ({"quiet_hours": True, "quiet_start": None}, "quiet_start"),
        ({"snoozed_until": timezone.now() + timedelta(days=90)}, "snoozed_until"),
    ],
)
def test_save_preferences_refuses_and_names_the_field(member, arguments, field):
    with pytest.raises(ValidationError) as refused:
        inbox.save_preferences(member, **arguments)
    assert field in refused.value.message_dict


def test_four_checkin_times_are_fine_and_repeats_count_once(member):
    saved = inbox.save_preferences(member, checkin_times=["21:00", "08:00", "12:00", "18:00", "08:00"])
    assert saved.checkin_times == ["08:00", "12:00", "18:00", "21:00"]


# Snoozing


def _due(notification):
    return notification.deliveries.get().due_at


def test_snooze_holds_non_urgent_notifications_and_not_urgent_ones(member):
    inbox.save_preferences(member, quiet_hours=False, channels={NotificationKind.NUDGE: ["inbox"]})
    # Due in a minute when the snooze begins (an in-app notification due at once is in the inbox already).
    waiting = outbox.notify(
        member, kind=NotificationKind.NUDGE, title="Before", source_key="s:0", at=timezone.now() + timedelta(minutes=1)
    )
    preferences = inbox.snooze(member, "day")
    end = preferences.snoozed_until

    nudge = outbox.notify(member, kind=NotificationKind.NUDGE, title="x", source_key="s:1")
    urgent = outbox.notify(member, kind=NotificationKind.NUDGE, title="x", source_key="s:2", urgent=True)

    assert _due(nudge) == end
    assert _due(waiting) == end  # already waiting when the snooze began: held too
    assert _due(urgent) <= timezone.now()
    # Only the urgent one is in the inbox now (at once), and the worker has nothing due.
    assert list(InboxMessage.objects.filter(recipient=member).values_list("notification", flat=True)) == [urgent.pk]
    assert dispatch.run("w") == 0

    inbox.stop_snoozing(member)
    assert _due(nudge) <= timezone.now() and _due(waiting) <= timezone.now()
    assert NotificationPreferences.objects.get(person=member).snoozed_until is None


def test_a_snooze_that_ends_in_quiet_hours_waits_for_their_end(member):
    inbox.save_preferences(
        member, quiet_hours=True, quiet_start=time(0, 0), quiet_end=time(23, 59), channels={"nudge": ["inbox"]}
    )
    preferences = inbox.save_preferences(member, snoozed_until=timezone.now() + timedelta(hours=1))
    nudge = outbox.notify(member, kind=NotificationKind.NUDGE, title="x", source_key="s:3")
    expected = outbox.after_quiet_hours(preferences.snoozed_until, preferences, member.time_zone)
    assert _due(nudge) == expected >= preferences.snoozed_until


def test_snooze_buttons_on_the_page(member, client_for):
    client = client_for(member)
    response = client.post(reverse("notify:preferences"), {"snooze": "week"})
    assert response.status_code == 302
    until = NotificationPreferences.objects.get(person=member).snoozed_until
    assert timedelta(days=6, hours=23) < until - timezone.now() <= timedelta(days=7)
    page = client.get(reverse("notify:preferences")).content.decode()
    assert "snoozed until" in page and "Stop snoozing" in page
    client.post(reverse("notify:preferences"), {"snooze": "stop"})
    assert NotificationPreferences.objects.get(person=member).snoozed_until is None
    bad = client.post(reverse("notify:preferences"), {"snooze": "forever"}, follow=True)
    assert "Snooze for a day or a week." in bad.content.decode()


# Deliveries given up on


@pytest.fixture
def org_admin(organisation):
    return make_staff(organisation, Role.ORG_ADMIN, display_name="Org Admin")


def test_dead_letters_only_for_that_organisations_admins(
    member, organisation, other_organisation, org_admin, outsider, client_for
):
    theirs = dead(make_member(other_organisation, display_name="Harbour Member"), error="SMTP: other org")
    ours = dead(member)
    url = reverse("notify:dead_letters", args=[organisation.slug])

    response = client_for(org_admin).get(url)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Test Member" in body and "550 mailbox unavailable" in body and "E-mail" in body
    assert f">{dispatch.MAX_ATTEMPTS}<" in body
    assert "Harbour Member" not in body and "other org" not in body
    assert reverse("notify:retry", args=[organisation.slug, ours.pk]) in body

    other_admin = make_staff(other_organisation, Role.ORG_ADMIN)
    for person in (other_admin, outsider, member):
        assert client_for(person).get(url).status_code == 404
    # An admin cannot reach another organisation's delivery through their own organisation either.
    retry_theirs = reverse("notify:retry", args=[organisation.slug, theirs.pk])
    assert client_for(org_admin).post(retry_theirs).status_code == 404
    assert Delivery.objects.get(pk=theirs.pk).status == DeliveryStatus.DEAD


def test_retry_sets_a_dead_delivery_going_again_and_is_audited(member, organisation, org_admin, outsider, client_for):
    delivery = dead(member)
    response = client_for(org_admin).post(reverse("notify:retry", args=[organisation.slug, delivery.pk]))
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 0 and not delivery.last_error
    assert delivery.due_at <= timezone.now()
    event = AuditEvent.objects.get(action=AuditAction.CHANGE, actor=org_admin)
    assert event.organisation == organisation and event.member is None and not event.member_label
    assert member.display_name not in event.detail and member.email not in event.detail
    assert dispatch.claim("w")  # the worker takes it again
    # Only admins of the recipient's organisation may retry, even calling the domain function.
    for person in (make_staff(organisation, Role.CLINICIAN), outsider):
        with pytest.raises(PermissionDenied):
            inbox.retry_dead(dead(member), person)


def test_the_staff_home_links_admins_to_the_dead_letters(organisation, org_admin, client_for):
    body = client_for(org_admin).get(reverse("web:staff_home")).content.decode()
    assert reverse("notify:dead_letters", args=[organisation.slug]) in body


def test_the_programs_checkin_times_count_until_the_member_chooses(member, organisation, org_admin, client_for):
    from alongside.programs import actions as program_actions

    program = program_actions.create_program(by=org_admin, organisation=organisation, name="Aftercare")
    program_actions.enrol(by=org_admin, program=program, member=member)
    body = client_for(member).get(reverse("notify:preferences")).content.decode()
    assert 'name="checkin_time_1" value="20:00"' in body
    inbox.snooze(member, "day")  # saving anything else keeps the program's times
    assert NotificationPreferences.objects.get(person=member).checkin_times == ["20:00"]


def test_org_admins_add_and_turn_off_signed_gateways(organisation, other_organisation, client_for):
    from alongside.accounts.models import Role
    from alongside.notify.models import WebhookEndpoint
    from alongside.testing.factories import make_staff

    admin = make_staff(organisation, Role.ORG_ADMIN)
    client = client_for(admin)
    refused = client.post(reverse("notify:webhooks", args=[organisation.slug]), {"url": "http://insecure.example/hook"})
    assert "https://" in refused.content.decode() and not WebhookEndpoint.objects.exists()
    added = client.post(reverse("notify:webhooks", args=[organisation.slug]), {"url": "https://sms.example/hook"})
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret in added.content.decode() and added["Cache-Control"] == "no-store"
    assert endpoint.secret not in client.get(reverse("notify:webhooks", args=[organisation.slug])).content.decode()
    other_admin = make_staff(other_organisation, Role.ORG_ADMIN)
    assert (
        client_for(other_admin).post(reverse("notify:webhook_off", args=[organisation.slug, endpoint.pk])).status_code
        == 404
    )
    client.post(reverse("notify:webhook_off", args=[organisation.slug, endpoint.pk]))
    endpoint.refresh_from_db()
    assert not endpoint.active
