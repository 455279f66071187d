import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from alongside.accounts import tokens
from alongside.accounts.models import Role
from alongside.monitoring import checkins
from alongside.monitoring.models import CheckIn, TagKind
from alongside.programs import actions as program_actions
from alongside.testing.factories import make_member, make_staff

pytestmark = pytest.mark.django_db


def test_mood_alone_is_a_check_in_and_the_day_is_the_members_own(member):
    member.time_zone = "America/Los_Angeles"
    member.save()
    late_evening = datetime(2026, 3, 9, 6, 30, tzinfo=UTC)  # 23:30 on the 8th in Los Angeles
    checkin = checkins.record(member, mood=4, recorded_at=late_evening)
    assert str(checkin.local_date) == "2026-03-08"
    assert checkin.anxiety is None and checkin.note == ""


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"mood": 11}, "mood"),
        ({"mood": -1}, "mood"),
        ({"mood": 5, "anxiety": 12}, "anxiety"),
        ({"mood": 5, "sleep_hours": 25}, "sleep_hours"),
        ({"mood": 5, "medication": "sometimes"}, "medication"),
        ({"mood": 5, "note": "x" * 2001}, "note"),
        ({"mood": 5, "activities": ["Skydiving"]}, "activities"),
        ({"mood": 5, "warning_signs": ["Not sleeping"]}, "warning_signs"),
        ({"mood": 5, "recorded_at": timezone.now() + timedelta(minutes=30)}, "recorded_at"),
        ({"mood": True}, "mood"),
    ],
)
def test_bad_values_name_the_field_and_store_nothing(member, values, field):
    with pytest.raises(ValidationError) as caught:
        checkins.record(member, **values)
    assert field in caught.value.message_dict
    assert not CheckIn.objects.exists()


def test_tags_are_the_members_own(member):
    checkins.add_tag(member, TagKind.WARNING_SIGN, "Skipping meals")
    checkin = checkins.record(member, mood=5, activities=["walk", "Friends"], warning_signs=["skipping meals"])
    assert sorted(tag.label for tag in checkin.tags.all()) == ["Friends", "Skipping meals", "Walk"]
    other = make_member(member.org_roles.first().organisation)
    with pytest.raises(ValidationError):
        checkins.record(other, mood=5, warning_signs=["Skipping meals"])


def test_the_note_is_encrypted_at_rest(member):
    from django.db import connection

    checkin = checkins.record(member, mood=2, note="I relapsed on Saturday")
    with connection.cursor() as cursor:
        cursor.execute("SELECT note FROM monitoring_checkin WHERE id = %s", [checkin.pk])
        stored = cursor.fetchone()[0]
    assert "relapsed" not in stored and stored.startswith("gAAAA")
    assert CheckIn.objects.get(pk=checkin.pk).note == "I relapsed on Saturday"


def test_the_program_chooses_the_fields(member, organisation):
    admin = make_staff(organisation, Role.ORG_ADMIN)
    program = program_actions.create_program(by=admin, organisation=organisation, name="Sober living")
    settings = {**program.settings, "checkin_fields": ["mood", "sleep_hours"]}
    program_actions.update_program(
        by=admin, program=program, name=program.name, description="", phases=["One"], settings=settings
    )
    program_actions.enrol(by=admin, program=program, member=member)
    assert checkins.fields_for(member) == ["mood", "sleep_hours"]


def test_web_check_in_is_two_taps(client_for, member):
    client = client_for(member)
    page = client.get(reverse("monitoring:checkin")).content.decode()
    assert 'name="mood"' in page and "Save check-in" in page
    response = client.post(reverse("monitoring:checkin"), {"mood": "7"})
    assert response.status_code == 302
    assert CheckIn.objects.get(member=member).mood == 7


def test_web_check_in_rerenders_bad_input_escaped(client_for, member):
    response = client_for(member).post(
        reverse("monitoring:checkin"), {"mood": "", "note": "<script>alert('x')</script>", "sleep_hours": "30"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "This field is required." in body
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in body and "<script>alert" not in body
    assert not CheckIn.objects.exists()


def test_web_form_sent_twice_stores_one_check_in(client_for, member):
    client = client_for(member)
    url = reverse("monitoring:checkin")
    form = {"mood": "7", "activities": ["Walk"], "key": "form-1"}
    first, again = client.post(url, form), client.post(url, form)  # a double tap, or a resend
    assert first.status_code == again.status_code == 302
    assert first.url == again.url == reverse("monitoring:history")
    assert list(CheckIn.objects.filter(member=member).values_list("mood", flat=True)) == [7]
    # The same form used again with other answers (after going back) is another check-in.
    client.post(url, {"mood": "3", "key": "form-1"})
    assert sorted(CheckIn.objects.filter(member=member).values_list("mood", flat=True)) == [3, 7]
    # Without a key (a page without its script), or with one too long to be a key, each post is a check-in.
    for key in ("", "k" * 256, "", "k" * 256):
        client.post(url, {"mood": "5", "key": key})
    assert CheckIn.objects.filter(member=member, mood=5).count() == 4


@pytest.mark.django_db(transaction=True)
def test_web_form_sent_twice_stores_one_check_in_outside_a_transaction(client_for, member):
    # As served, with no transaction around the request: the check-in and its key go in one statement.
    client = client_for(member)
    for _attempt in range(2):
        assert client.post(reverse("monitoring:checkin"), {"mood": "7", "key": "form-1"}).status_code == 302
    assert CheckIn.objects.filter(member=member).count() == 1
    client.post(reverse("monitoring:checkin"), {"mood": "2", "key": "form-1"})
    assert CheckIn.objects.filter(member=member).count() == 2


def test_device_copy_of_a_form_that_reached_the_server_is_not_stored_again(client_for, member):
    """The phone kept the check-in because the answer to its post was lost on the way back; the post itself had
    arrived. The copy goes to the API with the form's key, which names another request there."""
    client = client_for(member)
    client.post(reverse("monitoring:checkin"), {"mood": "7", "key": "form-2"})
    copy = api_post(client, {"mood": 7, "recorded_at": timezone.now().isoformat()}, key="form-2")
    assert copy.status_code == 409
    assert CheckIn.objects.filter(member=member).count() == 1


def test_form_keys_are_each_members_own(client_for, member, organisation):
    other = make_member(organisation)
    for person in (member, other):
        client_for(person).post(reverse("monitoring:checkin"), {"mood": "7", "key": "the-same-key"})
    assert CheckIn.objects.filter(member=member).count() == CheckIn.objects.filter(member=other).count() == 1


def test_notes_render_escaped_in_history(client_for, member):
    checkins.record(member, mood=5, note="<img src=x onerror=alert(1)>")
    body = client_for(member).get(reverse("monitoring:history")).content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;" in body


def api_post(client, body, key="key-1", **headers):
    return client.post(
        "/api/v1/checkins",
        body if isinstance(body, str) else json.dumps(body),
        content_type="application/json",
        headers={"Idempotency-Key": key, **headers} if key else headers,
    )


def test_api_retry_with_the_same_key_creates_nothing_twice(client_for, member):
    client = client_for(member)
    first = api_post(client, {"mood": 6, "anxiety": 3})
    again = api_post(client, {"anxiety": 3, "mood": 6})  # same request, keys in another order
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert CheckIn.objects.count() == 1
    conflict = api_post(client, {"mood": 2})
    assert conflict.status_code == 409
    assert CheckIn.objects.count() == 1


def test_api_answers_a_new_check_in_as_the_schema_and_the_list_do(client_for, member):
    from alongside.monitoring.api import CheckInOut

    checkins.use_warning_signs(member, ["Staying in bed"])
    client = client_for(member)
    body = {"mood": 4, "sleep_hours": 6.25, "activities": ["Walk"], "warning_signs": ["Staying in bed"]}
    created = api_post(client, body).json()
    assert CheckInOut.model_validate(created).model_dump(mode="json") == created
    [listed] = client.get("/api/v1/checkins").json()
    # The list's encoder writes milliseconds, the stored answer microseconds: the same moment either way.
    moment = datetime.fromisoformat(created.pop("recorded_at"))
    assert abs(datetime.fromisoformat(listed.pop("recorded_at")) - moment) < timedelta(milliseconds=1)
    assert listed == created
    assert created["sleep_hours"] == 6.25 and created["warning_signs"] == ["Staying in bed"]


def test_a_refused_retry_under_a_used_key_is_a_conflict_and_stores_nothing(client_for, member):
    client = client_for(member)
    assert api_post(client, {"mood": 6}, key="k-1").status_code == 201
    unknown_tag = {"mood": 6, "activities": ["Juggling"]}  # refused by the domain, not by the schema
    assert api_post(client, unknown_tag, key="k-1").status_code == 409
    refused = api_post(client, unknown_tag, key="k-2")  # a new key: the field is named
    assert refused.status_code == 422 and refused.json()["fields"] == ["activities"]
    assert CheckIn.objects.count() == 1


def test_api_needs_an_idempotency_key_and_names_it(client_for, member):
    response = api_post(client_for(member), {"mood": 6}, key=None)
    assert response.status_code == 400
    assert response.json()["fields"] == ["Idempotency-Key"]


def test_api_bad_input_names_the_field(client_for, member):
    client = client_for(member)
    out_of_range = api_post(client, {"mood": 14, "sleep_hours": -2}, key="a")
    assert out_of_range.status_code == 422
    assert {"payload.mood", "payload.sleep_hours"} <= set(out_of_range.json()["fields"])
    unknown_tag = api_post(client, {"mood": 4, "activities": ["Skydiving"]}, key="b")
    assert unknown_tag.status_code == 422 and unknown_tag.json()["fields"] == ["activities"]
    malformed = api_post(client, '{"mood": 4,', key="c")
    assert malformed.status_code in (400, 422) and "detail" in malformed.json()
    future = api_post(client, {"mood": 4, "recorded_at": (timezone.now() + timedelta(hours=2)).isoformat()}, key="d")
    assert future.status_code == 422 and future.json()["fields"] == ["recorded_at"]
    assert not CheckIn.objects.exists()
    # A refused request stores no answer: the same key works once the input is fixed.
    assert api_post(client, {"mood": 4}, key="b").status_code == 201


def test_api_refuses_oversized_bodies_with_json(client_for, member):
    response = api_post(client_for(member), {"mood": 4, "note": "x" * (2 * 1024 * 1024)}, key="big")
    assert response.status_code in (400, 413)
    assert "detail" in response.json()
    assert not CheckIn.objects.exists()


def test_api_bearer_tokens_and_scopes(client, member):
    _token, raw = tokens.issue(member, name="phone", scopes=["read", "write"])
    created = api_post(client, {"mood": 8}, HTTP_AUTHORIZATION="x", Authorization=f"Bearer {raw}")
    assert created.status_code == 201
    _reader, read_only = tokens.issue(member, name="reader", scopes=["read"])
    refused = api_post(client, {"mood": 8}, key="k2", Authorization=f"Bearer {read_only}")
    assert refused.status_code == 403
    listed = client.get("/api/v1/checkins", headers={"Authorization": f"Bearer {read_only}"})
    assert [row["mood"] for row in listed.json()] == [8]
    assert client.get("/api/v1/checkins", headers={"Authorization": "Bearer alg_nonsense"}).status_code == 401


def test_token_endpoint_requires_the_second_factor_for_staff(client, staff, member):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from alongside.accounts import two_factor
    from alongside.testing.factories import PASSWORD

    ok = client.post("/api/v1/tokens", {"email": member.email, "password": PASSWORD}, content_type="application/json")
    assert ok.status_code == 201 and ok.json()["token"].startswith("alg_")
    missing = client.post(
        "/api/v1/tokens", {"email": staff.email, "password": PASSWORD}, content_type="application/json"
    )
    assert missing.status_code == 401 and missing.json()["fields"] == ["totp"]
    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    body = {"email": staff.email, "password": PASSWORD, "totp": two_factor.current_code(device)}
    assert client.post("/api/v1/tokens", body, content_type="application/json").status_code == 201


def test_deactivating_staff_revokes_their_tokens(staff, organisation):
    from alongside.accounts.actions import end_all_sessions

    _token, raw = tokens.issue(staff, name="script", scopes=["read"])
    end_all_sessions(staff)
    assert tokens.authenticate(raw) is None


def test_a_member_i_may_not_see_is_a_described_404_in_every_list(client_for, member, staff):
    from alongside.api import api

    paths = api.get_openapi_schema()["paths"]
    for path in ("/api/v1/checkins", "/api/v1/questionnaire-responses", "/api/v1/journal"):
        # `staff` does not support `member`: their data does not exist for them.
        assert client_for(staff).get(path, {"member_id": member.pk}).status_code == 404, path
        assert 404 in paths[path]["get"]["responses"], path


def test_a_check_in_loaded_in_bulk_without_the_flag_is_not_waiting_for_the_worker(member):
    """Bulk loaders (seeding, benchmarks) name only the columns they fill; the database says such rows wait for
    nothing, since whoever loads them rebuilds the engine's states another way."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO monitoring_checkin (member_id, recorded_at, local_date, mood, medication, note, source, "
            "created_at) VALUES (%s, %s, %s, 5, '', '', 'synthetic', %s)",
            [member.pk, timezone.now(), timezone.localdate(), timezone.now()],
        )
    assert CheckIn.objects.get().unannounced is False
    assert checkins.announce_waiting() == 0


def test_first_check_ins_sent_together_both_find_the_default_activities(member, monkeypatch):
    """Two first check-ins at once: each reads the member's tags before either has made the default activities;
    the one that finds them made by the other meanwhile still knows them (it was refused as unknown before)."""
    from alongside.core import sql

    read = sql.fetch

    def read_then_the_other_request_makes_the_defaults(statement, params):
        rows = read(statement, params)  # nothing yet
        checkins.tags_for(member, TagKind.ACTIVITY)  # the other request, meanwhile
        return rows

    monkeypatch.setattr(sql, "fetch", read_then_the_other_request_makes_the_defaults)
    checkin = checkins.record(member, mood=5, activities=["Walk"])
    assert [tag.label for tag in checkin.tag_list] == ["Walk"]
    monkeypatch.undo()
    with pytest.raises(ValidationError) as refused:
        checkins.record(member, mood=5, activities=["Juggling"])
    assert "activities" in refused.value.message_dict
