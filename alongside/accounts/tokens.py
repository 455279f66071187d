"""Personal access tokens for the JSON API."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from functools import cache

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from alongside.accounts.models import ApiToken, OrgRole, User
from alongside.audit.log import record
from alongside.audit.models import AuditAction
from alongside.core import sql

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


@cache
def _token_statement(vendor: str) -> str:
    # One statement for the token, its person and their roles (one row per role): every API request asks.
    # Only table and column names from the models are formatted in; the token hash is a parameter.
    quote = connection.ops.quote_name
    tables = {model: quote(model._meta.db_table) for model in (ApiToken, User, OrgRole)}
    return (
        f"SELECT {sql.columns(ApiToken, 't')}, {sql.columns(User, 'u')}, r.{quote('role')} "  # noqa: S608
        f"FROM {tables[ApiToken]} t JOIN {tables[User]} u ON u.{quote('id')} = t.{quote('user_id')} "
        f"LEFT JOIN {tables[OrgRole]} r ON r.{quote('user_id')} = u.{quote('id')} "
        f"WHERE t.{quote('token_hash')} = %s"
    )


def find(raw: str) -> ApiToken | None:
    """The token with this raw value, its `user` loaded with the person's roles (whether usable or not)."""
    rows = sql.fetch(_token_statement(connection.vendor), [_hash(raw)])
    if not rows:
        return None
    split = sql.width(ApiToken)
    token = sql.load(ApiToken, rows[0][:split])
    user = sql.load(User, rows[0][split:-1])
    user.role_set = {row[-1] for row in rows if row[-1]}
    token.user = user
    return token


def authenticate(raw: str) -> ApiToken | None:
    if not raw or not raw.startswith(TOKEN_PREFIX):
        return None
    token = find(raw)
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
