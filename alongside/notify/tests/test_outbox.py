"""The outbox and its delivery: channels from preferences, quiet hours on the person's clock, claims, real SMTP
and HTTP receivers, retries with backoff and the dead letter."""

import hashlib
import hmac
import http.server
import json
import socket
import threading
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.utils import timezone

from alongside.notify import dispatch, jobs, outbox
from alongside.notify.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    InboxMessage,
    NotificationKind,
    NotificationPreferences,
    WebhookEndpoint,
)


def quiet_off(person, **channels):
    return NotificationPreferences.objects.create(person=person, quiet_hours=False, channels=channels)


def test_a_notification_gets_a_delivery_per_channel_and_a_source_only_once(member):
    first = outbox.notify(member, kind=NotificationKind.APPOINTMENT_REMINDER, title="Soon", source_key="t:1")
    again = outbox.notify(member, kind=NotificationKind.APPOINTMENT_REMINDER, title="Soon", source_key="t:1")
    assert first == again
    assert sorted(first.deliveries.values_list("channel", flat=True)) == ["email", "inbox"]


def test_preferences_choose_channels_but_safety_alerts_always_reach_the_inbox(member):
    quiet_off(member, checkin_reminder=[], safety_alert=["email"])
    assert outbox.notify(member, kind=NotificationKind.CHECKIN_REMINDER, title="x", source_key="t:2") is None
    alert = outbox.notify(member, kind=NotificationKind.SAFETY_ALERT, title="x", source_key="t:3", urgent=True)
    assert sorted(alert.deliveries.values_list("channel", flat=True)) == ["email", "inbox"]


@pytest.mark.parametrize(
    ("local_time", "urgent", "expected_local"),
    [
        ((2027, 3, 13, 23, 30), False, (2027, 3, 14, 8, 0)),  # waits, across the spring change
        ((2027, 3, 14, 6, 0), False, (2027, 3, 14, 8, 0)),
        ((2027, 3, 14, 12, 0), False, (2027, 3, 14, 12, 0)),  # not quiet: at once
        ((2027, 3, 13, 23, 30), True, (2027, 3, 13, 23, 30)),  # urgent: never waits
    ],
)
def test_quiet_hours_on_the_persons_own_clock(member, local_time, urgent, expected_local):
    zone = ZoneInfo("America/New_York")
    member.time_zone = "America/New_York"
    member.save()
    at = datetime(*local_time, tzinfo=zone)
    notification = outbox.notify(
        member, kind=NotificationKind.NUDGE, title="x", source_key=f"q:{at}", urgent=urgent, at=at
    )
    due = notification.deliveries.first().due_at.astimezone(zone)
    assert due == datetime(*expected_local, tzinfo=zone)


def test_an_in_app_notification_due_now_is_in_the_inbox_at_once(member):
    quiet_off(member, nudge=["inbox", "email"])
    notification = outbox.notify(member, kind=NotificationKind.NUDGE, title="Checking in?", source_key="t:3")
    inbox_delivery = notification.deliveries.get(channel="inbox")
    assert inbox_delivery.status == DeliveryStatus.SENT and inbox_delivery.attempts == 1
    assert InboxMessage.objects.get(recipient=member).delivery_key == inbox_delivery.key
    # The e-mail still waits for the worker; the worker finds no in-app delivery left to do.
    assert notification.deliveries.get(channel="email").status == DeliveryStatus.PENDING
    assert [d.channel for d in dispatch.claim("w1")] == ["email"]


def test_inbox_delivery_happens_once_however_often_it_runs(member):
    quiet_off(member, nudge=["inbox"])
    # Due in a minute: it waits in the outbox for the worker, like one held by quiet hours or a snooze.
    notification = outbox.notify(
        member, kind=NotificationKind.NUDGE, title="Checking in?", source_key="t:4",
        at=timezone.now() + timedelta(minutes=1),
    )  # fmt: skip
    assert dispatch.run("w1") == 0 and not InboxMessage.objects.filter(recipient=member).exists()
    notification.deliveries.update(due_at=timezone.now())
    assert dispatch.run("w1") == 1
    delivery = notification.deliveries.get()
    delivery.status, delivery.lease_until = DeliveryStatus.SENDING, timezone.now() - timedelta(seconds=1)
    delivery.save()  # as if the worker died after the insert: the lease ran out and it is claimed again
    assert dispatch.run("w2") == 1
    assert InboxMessage.objects.filter(recipient=member).count() == 1
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.SENT


def test_two_claims_never_share_a_row(member):
    quiet_off(member, nudge=["email"])
    for number in range(10):
        outbox.notify(member, kind=NotificationKind.NUDGE, title="x", source_key=f"c:{number}")
    first = dispatch.claim("a", limit=6)
    second = dispatch.claim("b", limit=6)
    assert len(first) == 6 and len(second) == 4
    assert not {d.pk for d in first} & {d.pk for d in second}
    assert dispatch.claim("c") == []


class Sink:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content.decode())
        return "250 OK"


@pytest.fixture
def smtp(settings):
    sink = Sink()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False

    yield sink
    controller.stop()


def test_email_goes_to_a_real_smtp_server_without_clinical_detail(member, smtp):
    quiet_off(member, questionnaire=["email"])
    notification = outbox.notify(
        member, kind=NotificationKind.QUESTIONNAIRE, title="PHQ-9 due: mood questionnaire", source_key="t:5",
        link="/me/questionnaires/",
    )  # fmt: skip
    dispatch.run("w1")
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    delivery = notification.deliveries.get()
    assert f"Message-ID: {dispatch.message_id(delivery)}" in message
    assert "You have a new message in Alongside" in message and "/me/questionnaires/" in message
    assert "PHQ" not in message and "mood" not in message
    assert "text/html" in message and "text/plain" in message
    assert delivery.status == DeliveryStatus.SENT


def test_an_unreachable_smtp_server_means_retries_with_backoff_then_the_dead_letter(member, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, False, 2
    quiet_off(member, nudge=["email"])
    notification = outbox.notify(member, kind=NotificationKind.NUDGE, title="x", source_key="t:6")
    delivery = notification.deliveries.get()
    waits = []
    with time_machine.travel(datetime(2027, 1, 1, 12, 0, tzinfo=UTC), tick=False) as traveller:
        Delivery.objects.filter(pk=delivery.pk).update(due_at=timezone.now())
        for _attempt in range(dispatch.MAX_ATTEMPTS):
            assert dispatch.run("w1") == 1
            delivery.refresh_from_db()
            waits.append(delivery.due_at - timezone.now())
            traveller.move_to(delivery.due_at + timedelta(seconds=1))
    assert waits[:3] == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120)]
    assert delivery.status == DeliveryStatus.DEAD and "SMTP" in delivery.last_error
    assert delivery.attempts == dispatch.MAX_ATTEMPTS


class Receiver(http.server.BaseHTTPRequestHandler):
    received: list = []
    status = 200

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers) | {"Path": self.path}, body))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    Receiver.received, Receiver.status = [], 200
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def test_webhooks_are_signed_and_retried_when_refused(member, organisation, receiver):
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    WebhookEndpoint.objects.create(organisation=organisation, url=url, secret="s3cret")
    quiet_off(member, safety_alert=["inbox", "webhook"])
    notification = outbox.notify(
        member, kind=NotificationKind.SAFETY_ALERT, title="Alert", source_key="t:7", urgent=True
    )
    Receiver.status = 500
    dispatch.run("w1")
    webhook = notification.deliveries.get(channel=Channel.WEBHOOK)
    assert webhook.status == DeliveryStatus.PENDING and webhook.attempts == 1
    Receiver.status = 200
    Delivery.objects.filter(pk=webhook.pk).update(due_at=timezone.now())
    dispatch.run("w1")
    webhook.refresh_from_db()
    assert webhook.status == DeliveryStatus.SENT
    headers, body = Receiver.received[-1]
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-Alongside-Signature"] == f"sha256={expected}"
    assert headers["Idempotency-Key"] == webhook.key
    payload = json.loads(body)
    assert payload["urgent"] is True and "Alert" not in body.decode()  # never the title: a gateway is outside


def test_due_appointment_reminders_become_one_notification_each(member, client_for):
    from alongside.schedule import series
    from alongside.schedule.models import Reminder

    appointment = series.schedule_appointment(
        by=member, member=member, kind="therapy", title="Therapy", location_kind="online",
        video_url="https://video.example/x", time_zone=member.time_zone,
        start_date=timezone.localdate() + timedelta(days=2), start_time=time(18, 0), duration_minutes=50,
    )  # fmt: skip
    reminders = Reminder.objects.filter(occurrence__appointment=appointment)
    assert reminders.count() == 2
    with time_machine.travel(appointment.occurrences.get().start + timedelta(minutes=1)):
        assert jobs.reminders_to_outbox() == 2
        assert jobs.reminders_to_outbox() == 0
    assert member.notifications.filter(kind=NotificationKind.APPOINTMENT_REMINDER).count() == 2


def test_a_notification_about_one_organisation_uses_only_its_gateway(
    member, organisation, other_organisation, receiver
):
    from alongside.accounts import actions
    from alongside.accounts.models import Role

    actions.grant_role(member, other_organisation, Role.CLINICIAN)  # works in both organisations
    url = f"http://127.0.0.1:{receiver.server_address[1]}"
    WebhookEndpoint.objects.create(organisation=organisation, url=f"{url}/mine", secret="a")
    WebhookEndpoint.objects.create(organisation=other_organisation, url=f"{url}/theirs", secret="b")
    quiet_off(member, care_team=["webhook"])
    outbox.notify(member, kind=NotificationKind.CARE_TEAM, title="x", source_key="t:8", organisation=organisation)
    dispatch.run("w1")
    assert [headers["Path"] for headers, _body in Receiver.received] == ["/mine"]
