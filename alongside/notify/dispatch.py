"""The worker's side of the outbox: claim due deliveries, send them, record what happened.

Claiming takes a batch of due rows and marks them as this worker's for a lease (a few minutes): on PostgreSQL
with `SELECT … FOR UPDATE SKIP LOCKED`, so several workers never take the same row; on SQLite inside a
`BEGIN IMMEDIATE` transaction, where the one write lock makes the select-and-mark atomic. A worker killed while
sending leaves its rows to be claimed again once the lease ends.

What "exactly once" means per channel:
- in-app inbox: the message is inserted, keyed by the delivery, in the same transaction that marks the delivery
  sent, so it is there exactly once, whatever happens;
- e-mail: each message is marked sent right after the SMTP server accepts it. A crash between the two (one
  message per worker) sends it again after the lease, with the same Message-ID, made from the delivery key,
  so mail systems and people can recognise the repeat. That is the remaining window;
- webhooks: the same, with the delivery key in the `Idempotency-Key` header for the receiver.

Failures are retried with exponential backoff; after MAX_ATTEMPTS the delivery is dead, its error kept for
the organisation's admins.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from alongside.notify.models import Channel, Delivery, DeliveryStatus, InboxMessage, WebhookEndpoint

log = logging.getLogger(__name__)

BATCH = 1000
# How long a claim lasts. Long enough for a batch to go out; a worker killed mid-batch hands its rows on
# after it (ALONGSIDE_WORKER_LEASE_SECONDS).
LEASE = timedelta(seconds=getattr(settings, "WORKER_LEASE_SECONDS", 300))
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=6)
WEBHOOK_TIMEOUT_SECONDS = 10


def retry_delay(attempts: int) -> timedelta:
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


def claim(worker_id: str, *, limit: int = BATCH, now=None) -> list[Delivery]:
    """Take up to `limit` due deliveries (or ones whose previous worker's lease ran out) for this worker."""
    now = now or timezone.now()
    due = Q(status=DeliveryStatus.PENDING, due_at__lte=now) | Q(status=DeliveryStatus.SENDING, lease_until__lt=now)
    with transaction.atomic():
        rows = Delivery.objects.filter(due).order_by("due_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True)
        ids = list(rows.values_list("pk", flat=True)[:limit])
        if not ids:
            return []
        # Still due when marked: a row another worker claimed in the meantime is not taken from it.
        Delivery.objects.filter(due, pk__in=ids).update(
            status=DeliveryStatus.SENDING, claimed_by=worker_id, lease_until=now + LEASE
        )
    return list(
        Delivery.objects.filter(pk__in=ids, claimed_by=worker_id)
        .select_related("notification__recipient")
        .order_by("due_at", "pk")
    )


def _renew(delivery: Delivery, worker_id: str) -> bool:
    return bool(
        Delivery.objects.filter(pk=delivery.pk, claimed_by=worker_id, status=DeliveryStatus.SENDING).update(
            lease_until=timezone.now() + LEASE
        )
    )


def _mark_sent(delivery: Delivery, worker_id: str) -> bool:
    return bool(
        Delivery.objects.filter(pk=delivery.pk, claimed_by=worker_id, status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.SENT, sent_at=timezone.now(), attempts=delivery.attempts + 1, lease_until=None
        )
    )


def _mark_failed(delivery: Delivery, worker_id: str, error: str) -> None:
    attempts = delivery.attempts + 1
    dead = attempts >= MAX_ATTEMPTS
    Delivery.objects.filter(pk=delivery.pk, claimed_by=worker_id).update(
        status=DeliveryStatus.DEAD if dead else DeliveryStatus.PENDING,
        attempts=attempts,
        due_at=timezone.now() + retry_delay(attempts),
        lease_until=None,
        last_error=error[:500],
    )
    log.warning("delivery %s (%s) failed, attempt %s%s: %s", delivery.pk, delivery.channel, attempts,
                " (given up)" if dead else "", error)  # fmt: skip


def send_inbox(delivery: Delivery, worker_id: str) -> None:
    notification = delivery.notification
    with transaction.atomic():
        InboxMessage.objects.get_or_create(
            delivery_key=delivery.key,
            defaults={"recipient_id": notification.recipient_id, "notification": notification},
        )
        _mark_sent(delivery, worker_id)


def message_id(delivery: Delivery) -> str:
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{delivery.key}".encode()).hexdigest()[:32]
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(">").strip() or "alongside.local"
    return f"<{digest}@{domain}>"


def email_for(delivery: Delivery) -> EmailMultiAlternatives:
    """Only that there is something new and where: never what it is about (e-mail is not private enough)."""
    notification = delivery.notification
    recipient = notification.recipient
    base = settings.SITE_URL
    context = {
        "name": recipient.display_name,
        "link": f"{base}{notification.link or '/'}",
        "urgent": notification.urgent,
    }
    message = EmailMultiAlternatives(
        subject=render_to_string("notify/email_subject.txt", context).strip(),
        body=render_to_string("notify/email.txt", context),
        to=[recipient.email],
        headers={"Message-ID": message_id(delivery), "Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(render_to_string("notify/email.html", context), "text/html")
    return message


def send_emails(deliveries: list[Delivery], worker_id: str) -> None:
    """All of a batch's e-mails over one SMTP connection, each recorded as soon as it is accepted."""
    if not deliveries:
        return
    try:
        mail = get_connection(fail_silently=False)
        mail.open()
    except Exception as error:  # the server is down: every message waits for the next attempt
        for delivery in deliveries:
            _mark_failed(delivery, worker_id, f"SMTP connection: {error}")
        return
    try:
        for delivery in deliveries:
            # Still ours? A batch that took longer than the lease may have been handed to another worker; renewing
            # the claim right before sending means at most one worker sends each message.
            if not _renew(delivery, worker_id):
                continue
            try:
                mail.send_messages([email_for(delivery)])
            except Exception as error:
                _mark_failed(delivery, worker_id, f"SMTP: {error}")
                continue
            _mark_sent(delivery, worker_id)
    finally:
        with contextlib.suppress(Exception):  # closing a broken connection may fail; nothing to do
            mail.close()


def signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send_webhook(delivery: Delivery, worker_id: str) -> None:
    notification = delivery.notification
    from alongside.accounts.models import Organisation

    if notification.organisation_id:
        organisations = Organisation.objects.filter(pk=notification.organisation_id)  # only the one it is about
    else:
        organisations = Organisation.objects.filter(roles__user_id=notification.recipient_id).distinct()
    endpoints = list(WebhookEndpoint.objects.filter(organisation__in=organisations, active=True))
    if not endpoints:
        _mark_sent(delivery, worker_id)  # nobody to tell through a gateway: done
        return
    body = json.dumps(
        {
            "delivery": delivery.key,
            "kind": notification.kind,
            "urgent": notification.urgent,
            # Who to tell and where to look, never what it is about or whom it concerns: a gateway is outside.
            "recipient": {"id": notification.recipient_id, "name": notification.recipient.display_name},
            "text": "Alongside: please look now." if notification.urgent else "You have a new message in Alongside.",
            "link": f"{settings.SITE_URL}{notification.link or '/'}",
        }
    ).encode()
    if not _renew(delivery, worker_id):
        return
    for endpoint in endpoints:
        request = urllib.request.Request(  # noqa: S310 (an admin-configured https URL)
            endpoint.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": delivery.key,
                "X-Alongside-Signature": "sha256=" + signature(endpoint.secret, body),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310
                if not 200 <= response.status < 300:
                    raise urllib.error.HTTPError(endpoint.url, response.status, "not accepted", None, None)
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            _mark_failed(delivery, worker_id, f"webhook {endpoint.url}: {error}")
            return
    _mark_sent(delivery, worker_id)


def send_inbox_batch(deliveries: list[Delivery], worker_id: str) -> None:
    """A batch of in-app deliveries in one transaction: the messages (keyed by delivery, so none twice) and
    the deliveries marked sent, together."""
    if not deliveries:
        return
    now = timezone.now()
    with transaction.atomic():
        InboxMessage.objects.bulk_create(
            [
                InboxMessage(
                    recipient_id=d.notification.recipient_id,
                    notification_id=d.notification_id,
                    delivery_key=d.key,
                    created_at=now,
                )
                for d in deliveries
            ],
            ignore_conflicts=True,
        )
        Delivery.objects.filter(
            pk__in=[d.pk for d in deliveries], claimed_by=worker_id, status=DeliveryStatus.SENDING
        ).update(status=DeliveryStatus.SENT, sent_at=now, attempts=F("attempts") + 1, lease_until=None)


def run(worker_id: str, *, limit: int = BATCH) -> int:
    """One batch: claim, send by channel, record. Returns how many deliveries were handled."""
    deliveries = claim(worker_id, limit=limit)
    emails = []
    inbox = [delivery for delivery in deliveries if delivery.channel == Channel.INBOX]
    try:
        send_inbox_batch(inbox, worker_id)
    except Exception as error:
        log.exception("in-app batch failed")
        for delivery in inbox:
            _mark_failed(delivery, worker_id, repr(error))
    for delivery in deliveries:
        try:
            if delivery.channel == Channel.INBOX:
                continue
            elif delivery.channel == Channel.EMAIL:
                emails.append(delivery)
            elif delivery.channel == Channel.WEBHOOK:
                send_webhook(delivery, worker_id)
            else:
                _mark_failed(delivery, worker_id, f"unknown channel {delivery.channel}")
        except Exception as error:
            log.exception("delivery %s failed", delivery.pk)
            _mark_failed(delivery, worker_id, repr(error))
    send_emails(emails, worker_id)
    return len(deliveries)
