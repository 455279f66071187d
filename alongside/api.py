"""The JSON API (django-ninja), with its OpenAPI description at /api/docs.

Each app contributes a router from its own `api.py`; every operation calls the same domain functions and the
same authorization policy as the web pages. Requests authenticate with a personal access token
(`Authorization: Bearer …`, from `POST /api/v1/tokens`) or, from the browser, the signed-in session (with CSRF
on writes).
"""

import logging
import re
from datetime import UTC, datetime, timedelta

from django.core.exceptions import RequestDataTooBig
from django.db import OperationalError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import django_auth

from alongside.accounts.api import TokenAuth
from alongside.accounts.api import router as accounts_router
from alongside.care.api import router as care_router
from alongside.goals.api import router as goals_router
from alongside.groups.api import router as groups_router
from alongside.interop.api import router as interop_router
from alongside.monitoring.api import router as monitoring_router
from alongside.schedule.api import router as schedule_router
from alongside.signals.api import router as signals_router

# Answers the API gives on behalf of every operation (its exception handlers and django-ninja's own parsing), so
# each operation's description lists them beside its own.
PROBLEM = {
    "type": "object",
    "properties": {"detail": {"type": "string"}, "fields": {"type": "array", "items": {"type": "string"}}},
    "required": ["detail"],
}
COMMON_ANSWERS = {
    400: ("The body is not JSON.", lambda operation: "requestBody" in operation),
    401: ("Sign in first.", lambda operation: bool(operation.get("security"))),
    413: ("The request is too large.", lambda operation: "requestBody" in operation),
    422: (
        "Some fields are not valid (`fields` names them).",
        lambda operation: "requestBody" in operation or bool(operation.get("parameters")),
    ),
}


# An ISO 8601 date and time with a UTC offset, as the API's datetime fields take them.
DATETIME_WITH_OFFSET = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?[+-]\d\d:?\d\d")
# PostgreSQL keeps offsets up to 15:59 (Python up to 23:59).
LARGEST_OFFSET = timedelta(hours=15, minutes=59)


def _refused(value: str) -> str:
    """Why text cannot reach a query, or "". PostgreSQL can neither store nor compare text holding the NUL
    character (SQLite can); and a time must be one both databases keep: an offset PostgreSQL accepts, and an
    instant within the years 1 to 9999 in UTC."""
    if "\x00" in value:
        return _("Text may not contain the NUL character.")
    if DATETIME_WITH_OFFSET.fullmatch(value):
        try:
            moment = datetime.fromisoformat(value)
            moment.astimezone(UTC)
        except ValueError:
            return ""  # not a time after all: the field's own validation says so
        except OverflowError:
            return _("Give a time within the years 1 to 9999.")
        if abs(moment.utcoffset()) > LARGEST_OFFSET:
            return _("Give a time with a UTC offset between -15:59 and +15:59.")
    return ""


def _refuse_unstorable(value, where: tuple) -> None:
    """Refuse, before any query and naming where it was, text the databases cannot take (see `_refused`)."""
    if isinstance(value, str):
        if problem := _refused(value):
            raise ValidationError([{"loc": where, "msg": problem, "type": "unstorable"}])
    elif isinstance(value, dict):
        for key, inner in value.items():
            _refuse_unstorable(key, where)
            _refuse_unstorable(inner, (*where, key))
    elif isinstance(value, list):
        for position, inner in enumerate(value):
            _refuse_unstorable(inner, (*where, position))


class TextParser(Parser):
    """JSON bodies and query strings, without text the databases cannot take."""

    def parse_body(self, request):
        data = super().parse_body(request)
        _refuse_unstorable(data, ("body",))
        return data

    def parse_querydict(self, data, list_fields, request):
        parsed = super().parse_querydict(data, list_fields, request)
        for name, value in parsed.items():
            _refuse_unstorable(value, ("query", name))
        return parsed


class AlongsideAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs):
        schema = super().get_openapi_schema(**kwargs)
        schema.setdefault("components", {}).setdefault("schemas", {}).setdefault("Problem", PROBLEM)
        problem = {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for operations in schema["paths"].values():
            for operation in operations.values():
                for status, (description, applies) in COMMON_ANSWERS.items():
                    if applies(operation):
                        operation["responses"].setdefault(status, {"description": description, "content": problem})
        return schema


api = AlongsideAPI(
    title="Alongside API",
    version="1",
    urls_namespace="api",
    auth=[TokenAuth(), django_auth],
    parser=TextParser(),
    description="Members' own data and what their care team may see. Every read of a member's data is checked "
    "against the member's consent and, for staff, written to the audit log.",
)
api.add_router("/", accounts_router)
api.add_router("/", care_router)
api.add_router("/", monitoring_router)
api.add_router("/", schedule_router)
api.add_router("/", signals_router)
api.add_router("/", groups_router)
api.add_router("/", goals_router)
api.add_router("/", interop_router)


log = logging.getLogger("alongside.api")

# What the database says when its storage is full: SQLite, and PostgreSQL (ENOSPC while writing a file).
DISK_FULL = ("database or disk is full", "no space left on device", "could not extend file")


@api.exception_handler(OperationalError)
def database_unavailable(request, exc):
    """The database could not do its part (its disk is full, it is restarting, it is unreachable): 503 with a
    reason and Retry-After, so that clients send the same request again, with the same Idempotency-Key, later."""
    log.error("database error on %s %s: %s", request.method, request.path, exc, exc_info=exc)
    if any(sign in str(exc).lower() for sign in DISK_FULL):
        detail = _("The server's storage is full, so this could not be saved. Send it again later.")
    else:
        detail = _("The database is not available just now, so this may not have been saved. Send it again later.")
    response = api.create_response(request, {"detail": detail, "fields": []}, status=503)
    response["Retry-After"] = "30"
    return response


@api.exception_handler(Http404)
def not_found(request, exc):
    # Someone else's data and data that does not exist look the same.
    return api.create_response(request, {"detail": _("Not found.")}, status=404)


@api.exception_handler(RequestDataTooBig)
def too_big(request, exc):
    return api.create_response(request, {"detail": _("The request is too large."), "fields": ["body"]}, status=413)


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    return api.create_response(request, {"detail": _("Sign in first.")}, status=401)


@api.exception_handler(HttpError)
def http_error(request, exc):
    # django-ninja answers 400 for any exception while it reads a body; text it refuses is a field's problem.
    if isinstance(exc.__cause__, ValidationError):
        return invalid(request, exc.__cause__)
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


@api.exception_handler(ValidationError)
def invalid(request, exc):
    fields = [".".join(str(part) for part in error["loc"][1:]) or "body" for error in exc.errors]
    return api.create_response(
        request,
        {"detail": _("Some fields are not valid."), "fields": fields, "errors": exc.errors},
        status=422,
    )
