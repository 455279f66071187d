from datetime import datetime

from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import HttpBearer

from alongside.accounts import tokens, two_factor
from alongside.accounts.models import ApiToken

router = Router(tags=["people"])


class TokenAuth(HttpBearer):
    """`Authorization: Bearer alg_…`: a personal access token."""

    def authenticate(self, request, token):
        found = tokens.authenticate(token)
        if found is None:
            return None
        request.user = found.user
        return found


def require_scope(request, scope: str) -> None:
    """Token requests need the scope; signed-in browser sessions have every scope."""
    if isinstance(request.auth, ApiToken) and scope not in request.auth.scopes:
        raise HttpError(403, _("This token may not %(scope)s.") % {"scope": scope})


class Problem(Schema):
    detail: str
    fields: list[str] = []


class OrganisationRoleOut(Schema):
    organisation: str
    organisation_slug: str
    role: str


class MeOut(Schema):
    id: int
    email: str
    display_name: str
    time_zone: str
    roles: list[OrganisationRoleOut]


class TokenRequest(Schema):
    email: str
    password: str
    totp: str = ""
    name: str = ""
    scopes: list[str] = ["read", "write"]


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class NewTokenOut(TokenOut):
    token: str


def _token_out(token: ApiToken) -> dict:
    return {
        "id": token.pk,
        "name": token.name,
        "prefix": token.prefix,
        "scopes": token.scopes,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "last_used_at": token.last_used_at,
    }


@router.get("/me", response=MeOut, summary="The signed-in person")
def me(request):
    user = request.user
    roles = [
        OrganisationRoleOut(
            organisation=grant.organisation.name, organisation_slug=grant.organisation.slug, role=grant.role
        )
        for grant in user.org_roles.select_related("organisation").order_by("organisation__name", "role")
    ]
    return MeOut(id=user.pk, email=user.email, display_name=user.display_name, time_zone=user.time_zone, roles=roles)


@router.post(
    "/tokens",
    auth=None,
    response={201: NewTokenOut, 401: dict, 422: dict, 429: dict},
    summary="Make a personal access token (staff also give their two-factor code)",
)
def create_token(request, payload: TokenRequest):
    user = authenticate(request, username=payload.email, password=payload.password)
    if getattr(request, "axes_locked_out", False):
        return Status(429, {"detail": _("Too many sign-in attempts. Try again in 15 minutes.")})
    if user is None:
        return Status(401, {"detail": _("That e-mail address and password do not match an account.")})
    if two_factor.required_for(user) and two_factor.verify(user, payload.totp) is None:
        return Status(401, {"detail": _("This account needs a current two-factor code."), "fields": ["totp"]})
    try:
        token, raw = tokens.issue(user, name=payload.name, scopes=payload.scopes, request=request)
    except ValidationError as error:
        return Status(422, {"detail": " ".join(error.messages), "fields": sorted(error.message_dict)})
    return Status(201, {**_token_out(token), "token": raw})


@router.get("/tokens", response=list[TokenOut], summary="My personal access tokens (not the secrets)")
def list_tokens(request):
    return [_token_out(token) for token in request.user.api_tokens.filter(revoked_at__isnull=True)]


@router.delete("/tokens/{token_id}", response={204: None, 404: Problem}, summary="Revoke one of my tokens")
def revoke_token(request, token_id: int):
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user, revoked_at__isnull=True)
    tokens.revoke(token, by=request.user, request=request)
    return Status(204, None)
