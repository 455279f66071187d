"""An organisation's webhook endpoints (an SMS gateway, a team chat): added and turned off by its admins.
The signing secret is made here and shown once; receivers check `X-Alongside-Signature` (HMAC-SHA256 of the
body with it) and may use `Idempotency-Key` to drop repeats."""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

from alongside.audit.log import record
from alongside.audit.models import AuditAction
from alongside.notify.models import WebhookEndpoint

MAX_ENDPOINTS = 5


def add_endpoint(*, by, organisation, url: str, request=None) -> tuple[WebhookEndpoint, str]:
    """A new endpoint; returns it and its secret (shown once)."""
    url = (url or "").strip()
    try:
        URLValidator(schemes=["https"])(url)
    except ValidationError:
        raise ValidationError({"url": _("Give the full https:// address of the gateway.")}) from None
    if WebhookEndpoint.objects.filter(organisation=organisation, active=True).count() >= MAX_ENDPOINTS:
        raise ValidationError({"url": _("An organisation has at most %(n)s active webhooks.") % {"n": MAX_ENDPOINTS}})
    secret = secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint.objects.create(organisation=organisation, url=url, secret=secret)
    record(
        AuditAction.CHANGE, actor=by, request=request, organisation=organisation, detail=f"added webhook {endpoint.pk}"
    )
    return endpoint, secret


def turn_off(endpoint: WebhookEndpoint, *, by, request=None) -> None:
    if endpoint.active:
        endpoint.active = False
        endpoint.save(update_fields=["active"])
        record(
            AuditAction.CHANGE, actor=by, request=request, organisation=endpoint.organisation,
            detail=f"turned off webhook {endpoint.pk}",
        )  # fmt: skip
