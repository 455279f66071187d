"""Personal access tokens for the JSON API."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from alongside.accounts.models import ApiToken, User
from alongside.audit.log import record
from alongside.audit.models import AuditAction

TOKEN_PREFIX = "alg_"  # noqa: S105 (a label that makes leaked tokens easy to recognise, not a secret)
# Touching last_used_at on every request would turn each read into a write; once a minute is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue(user: User, *, name: str, scopes: list[str], days: int | None = 365, request=None) -> tuple[ApiToken, str]:
    """A new token for `user`; returns (token, the raw token to show once)."""
    scopes = sorted(set(scopes or ApiToken.SCOPES))
    unknown = [scope for scope in scopes if scope not in ApiToken.SCOPES]
    if unknown:
        raise ValidationError({"scopes": _("Unknown scopes: %(names)s") % {"names": ", ".join(unknown)}})
    name = (name or "").strip() or _("API token")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name[:80],
        token_hash=_hash(raw),
        prefix=raw[: len(TOKEN_PREFIX) + 6],
        scopes=scopes,
        expires_at=timezone.now() + timedelta(days=days) if days else None,
    )
    record(AuditAction.TOKEN, actor=user, request=request, detail=f"issued API token {token}")
    return token, raw


def authenticate(raw: str) -> ApiToken | None:
    if not raw or not raw.startswith(TOKEN_PREFIX):
        return None
    token = ApiToken.objects.select_related("user").filter(token_hash=_hash(raw)).first()
    if token is None or not token.is_usable or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def revoke(token: ApiToken, *, by: User, request=None) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record(AuditAction.TOKEN, actor=by, request=request, detail=f"revoked API token {token}")


def revoke_all(user: User) -> int:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
