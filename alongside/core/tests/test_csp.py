"""The Content-Security-Policy header built once is the one django-csp builds from the settings, on pages and
API answers alike, and a response that asks for its own policy still gets it."""

from __future__ import annotations

import pytest
from csp.constants import NONCE
from csp.utils import build_policy
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from alongside.core.csp import CSPMiddleware

pytestmark = pytest.mark.django_db


def directives(header: str) -> set[str]:
    return {part.strip() for part in header.split(";")}  # django-csp's order is not fixed


def test_pages_and_api_answers_carry_the_policy_django_csp_builds(client):
    expected = directives(build_policy())
    assert "frame-ancestors 'none'" in expected
    assert directives(client.get("/accounts/signin/")["Content-Security-Policy"]) == expected
    assert directives(client.get("/api/v1/checkins")["Content-Security-Policy"]) == expected  # a 401


def test_a_change_of_settings_changes_the_header(client):
    policy = {"DIRECTIVES": {"default-src": ["'none'"], "frame-ancestors": ["'none'"]}}
    with override_settings(CONTENT_SECURITY_POLICY=policy):
        assert directives(client.get("/ping")["Content-Security-Policy"]) == {
            "default-src 'none'",
            "frame-ancestors 'none'",
        }
    assert directives(client.get("/ping")["Content-Security-Policy"]) == directives(build_policy())


def test_a_response_with_its_own_policy_or_a_nonce_takes_django_csps_path():
    middleware = CSPMiddleware(lambda request: HttpResponse())
    request = RequestFactory().get("/")
    middleware.process_request(request)
    own = HttpResponse()
    own._csp_update = {"img-src": ["https://maps.example.org"]}
    assert "https://maps.example.org" in middleware.process_response(request, own)["Content-Security-Policy"]

    with override_settings(CONTENT_SECURITY_POLICY={"DIRECTIVES": {"script-src": ["'self'", NONCE]}}):
        request = RequestFactory().get("/")
        middleware.process_request(request)
        nonce = str(request.csp_nonce)  # a page that uses a nonce
        header = middleware.process_response(request, HttpResponse())["Content-Security-Policy"]
    assert f"'nonce-{nonce}'" in header

    exempt = HttpResponse()
    exempt._csp_exempt = True
    request = RequestFactory().get("/")
    middleware.process_request(request)
    assert "Content-Security-Policy" not in middleware.process_response(request, exempt)
