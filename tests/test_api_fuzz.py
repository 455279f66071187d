"""Schemathesis against the JSON API's own OpenAPI description, in process, as a member and as their clinician.

Every operation gets a few generated requests (bounded, derandomised): data the description allows, data it
does not (which must be refused with a documented 4xx), and requests aimed at real rows of the authorization
matrix's world (its member, goal, group, meeting, thread, alert …) so that path ids reach more than 404. Every
answer must be below 500, have a status the operation documents, and a body that matches the documented schema.
Each request runs in a savepoint that is rolled back, so a generated write (revoking the token in use, leaving
the group) does not change what the next request finds.
"""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from alongside.accounts import tokens, two_factor
from alongside.api import api
from alongside.testing.factories import PASSWORD
from tests import test_authorization_matrix as matrix


@pytest.fixture
def world(db):
    """The matrix's data, built for each test: a member with a care team, check-ins, a goal, a group and its
    meeting."""
    return matrix.build_world()


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = settings(
    # A few per operation keeps the file near a minute; set ALONGSIDE_FUZZ_EXAMPLES to look harder locally.
    max_examples=int(os.environ.get("ALONGSIDE_FUZZ_EXAMPLES", "10")),
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    report_multiple_bugs=False,
)


def real_ids(w) -> dict[str, int]:
    """Path and query parameters by name, pointing at rows the member (and their clinician) may see."""
    post = w.extra["group_post"]
    return {
        "member_id": w.people["member"].pk,
        "relationship_id": w.relationship.pk,
        "alert_id": w.alert.pk,
        "group_id": w.extra["group"].pk,
        "meeting_id": w.extra["meeting"].pk,
        "thread_id": post.thread_id,
        "post_id": post.pk,
        "request_id": w.extra["mentor_request"].pk,
        "goal_id": w.extra["goal"].pk,
        "milestone_id": w.extra["milestone"].pk,
        "celebration_id": w.extra["celebration"].pk,
        "occurrence_id": w.occurrence.pk,
        "token_id": w.token.pk,
    }


def staff_token(user) -> str:
    """A clinician's token the way their phone gets one: password and a current code from their authenticator."""
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    response = Client().post(
        "/api/v1/tokens",
        {
            "email": user.email,
            "password": PASSWORD,
            "totp": two_factor.current_code(device),
            "scopes": ["read", "write"],
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return response.json()["token"]


@contextmanager
def connection_kept_open():
    """As Django's test client does around each request: the request signals would otherwise close the test's
    connection in the middle of its transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def wsgi_app():
    return WSGIHandler()


def fuzz(operation, strategy, app, raw_token: str) -> str | None:
    """Run the examples of one operation; the first failure as text, or None."""

    @EXAMPLES
    @given(case=strategy)
    def run(case):
        headers = {"Authorization": f"Bearer {raw_token}", "Idempotency-Key": str(uuid.uuid4())}
        with transaction.atomic(), connection_kept_open():
            response = case.call(app=app, headers=headers)
            transaction.set_rollback(True)
        case.validate_response(response, checks=CHECKS, headers=headers)

    try:
        run()
    except (Exception, FailureGroup) as failure:  # collected, so that one run names every failing operation
        return f"{operation.method.upper()} {operation.path}: {failure}"
    return None


def strategies_for(operation, ids: dict[str, int]):
    names = {parameter.name: parameter.location for parameter in operation.iter_parameters()}
    path = {name: ids[name] for name, where in names.items() if where == "path" and name in ids}
    query = {name: ids[name] for name, where in names.items() if where == "query" and name in ids}
    generated = [operation.as_strategy(), operation.as_strategy(GenerationMode.NEGATIVE)]
    if path or query:
        generated.append(operation.as_strategy(path_parameters=path or None, query=query or None))
    return st.one_of(*generated)


def run_schema(w, app, raw_token: str) -> list[str]:
    schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
    ids = real_ids(w)
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        failure = fuzz(operation, strategies_for(operation, ids), app, raw_token)
        if failure:
            failures.append(failure)
    return failures


def test_the_api_as_a_member(world, wsgi_app):
    _token, raw = tokens.issue(world.people["member"], name="fuzz", scopes=["read", "write"])
    failures = run_schema(world, wsgi_app, raw)
    assert not failures, "\n\n".join(failures)


def test_the_api_as_their_clinician(world, wsgi_app):
    failures = run_schema(world, wsgi_app, staff_token(world.people["clinician"]))
    assert not failures, "\n\n".join(failures)
