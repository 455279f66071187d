"""A request to the JSON API with a personal access token and no session cookie takes the short way
(alongside/core/api_requests.py); everything else the long one. Both give the same answers and headers, and the
short way never reads a session."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.test import override_settings

from alongside.accounts import tokens
from alongside.monitoring.models import CheckIn

pytestmark = pytest.mark.django_db


def post_checkin(client, token, key, **headers):
    return client.post(
        "/api/v1/checkins",
        json.dumps({"mood": 5}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key, **headers},
    )


def test_a_token_request_is_answered_without_a_session_and_with_the_usual_headers(client, member):
    _token, raw = tokens.issue(member, name="phone", scopes=["read", "write"])
    response = post_checkin(client, raw, "k-1")
    assert response.status_code == 201 and CheckIn.objects.get().member == member
    assert "Cookie" not in response.get("Vary", "")  # no session was read: the short way
    assert "Accept-Language" in response["Vary"] and response["Content-Language"]
    assert response["X-Frame-Options"] == "DENY" and response["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert not response.cookies


def test_the_short_way_answers_in_the_language_asked_for_as_the_long_way_does(client, client_for, member):
    # The short way's locale middleware leaves out Django's handling of language prefixes in paths, which
    # only matters if the URLs have them.
    assert is_language_prefix_patterns_used(settings.ROOT_URLCONF) == (False, False)
    _token, raw = tokens.issue(member, name="phone", scopes=["read", "write"])
    with override_settings(LANGUAGES=[("en", "English"), ("fr", "French")]):
        for language, key in (("fr-CA,fr;q=0.9", "k-1"), ("de", "k-2")):
            short = post_checkin(client, raw, key, **{"Accept-Language": language})
            long = post_checkin(client_for(member), "alg_not-a-token", key + "-long", **{"Accept-Language": language})
            assert short.status_code == long.status_code == 201
            assert short["Content-Language"] == long["Content-Language"] == ("fr" if key == "k-1" else "en")
            assert "Accept-Language" in short["Vary"]


def test_a_wrong_or_unscoped_token_is_refused_on_the_short_way(client, member):
    _token, read_only = tokens.issue(member, name="reader", scopes=["read"])
    refused = post_checkin(client, "alg_not-a-token", "k-1")
    assert refused.status_code == 401 and "Cookie" not in refused.get("Vary", "")
    assert post_checkin(client, read_only, "k-2").status_code == 403
    assert not CheckIn.objects.exists()


def test_a_token_beside_a_session_cookie_takes_the_long_way(client_for, member, staff):
    # A signed-in browser that also sends a token is judged with its session, as before: here the token is
    # wrong and the session speaks for the member.
    client = client_for(member)
    response = post_checkin(client, "alg_not-a-token", "k-1")
    assert response.status_code == 201 and "Cookie" in response["Vary"]
    # Staff without their second factor are stopped by the long way's check, token or not.
    half = client_for(staff, second_factor=False)
    _token, raw = tokens.issue(staff, name="laptop", scopes=["read"])
    listed = half.get("/api/v1/checkins", headers={"Authorization": f"Bearer {raw}"})
    assert listed.status_code == 403 and "Two-factor" in listed.json()["detail"]
