"""The answers the API gives on behalf of every operation (a body that is not JSON, no valid token, a field that
does not validate) are in each operation's description, beside the operation's own."""

from alongside.accounts import tokens
from alongside.api import api


def test_every_operation_describes_the_answers_the_api_gives_on_its_behalf(client, member):
    paths = api.get_openapi_schema()["paths"]
    _token, raw = tokens.issue(member, name="phone", scopes=["read", "write"])
    signed_in = {"Authorization": f"Bearer {raw}", "Idempotency-Key": "one"}
    unparsable = client.post("/api/v1/struggling", "{", content_type="application/json", headers=signed_in)
    signed_out = client.get("/api/v1/me")
    invalid = client.get("/api/v1/checkins?limit=0", headers=signed_in)
    assert (unparsable.status_code, signed_out.status_code, invalid.status_code) == (400, 401, 422)
    assert invalid.json()["fields"] == ["limit"]
    for operations in paths.values():
        for operation in operations.values():
            answers = operation["responses"]
            assert "requestBody" not in operation or {400, 413, 422} <= set(answers)
            assert not operation.get("security") or 401 in answers
            assert not operation.get("parameters") or 422 in answers


def test_text_with_the_nul_character_is_refused_naming_its_field(client, member):
    # PostgreSQL refuses such text outright; SQLite would store it. Either way the API answers 422 first.
    _token, raw = tokens.issue(member, name="phone", scopes=["read", "write"])
    signed_in = {"Authorization": f"Bearer {raw}", "Idempotency-Key": "nul"}
    sign_in = client.post(
        "/api/v1/tokens", {"email": "a\x00@example.org", "password": "x"}, content_type="application/json"
    )
    assert sign_in.status_code == 422 and sign_in.json()["fields"] == ["email"]
    note = client.post(
        "/api/v1/checkins", {"mood": 5, "note": "fine\x00"}, content_type="application/json", headers=signed_in
    )
    assert note.status_code == 422 and note.json()["fields"] == ["note"]
    search = client.get("/api/v1/community/threads", {"org": "x\x00"}, headers=signed_in)
    assert search.status_code == 422 and search.json()["fields"] == ["org"]
    assert client.post("/api/v1/struggling", "{", content_type="application/json", headers=signed_in).json() == {
        "detail": "Cannot parse request body"
    }


def test_a_time_neither_database_keeps_is_refused_naming_its_field(client, member):
    _token, raw = tokens.issue(member, name="phone", scopes=["read", "write"])
    signed_in = {"Authorization": f"Bearer {raw}"}
    for since in ("9999-12-31T23:00:00-10:00", "0001-01-01T00:00:00+01:00", "2020-01-01T00:00:00-20:00"):
        response = client.get("/api/v1/checkins", {"since": since}, headers=signed_in)
        assert response.status_code == 422 and response.json()["fields"] == ["since"], since
    late = client.post(
        "/api/v1/checkins",
        {"mood": 5, "recorded_at": "2020-01-01T00:00:00+16:00"},
        content_type="application/json",
        headers={**signed_in, "Idempotency-Key": "offset"},
    )
    assert late.status_code == 422 and late.json()["fields"] == ["recorded_at"]
    usual = client.get("/api/v1/checkins", {"since": "2020-01-01T00:00:00+14:00"}, headers=signed_in)
    assert usual.status_code == 200
