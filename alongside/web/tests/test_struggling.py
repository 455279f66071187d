"""“I'm struggling”: the crisis screen with the member's own plan at once, every press recorded once."""

import json

from django.urls import reverse

from alongside.care import actions, plan
from alongside.care.models import SafetyEvent, SafetyKind

CONTENT = {
    "coping_strategies": ["Box breathing", "Music in the headphones"],
    "help_contacts": [{"name": "Ana", "phone": "+1 555 010 0199", "note": "any time"}],
    "professionals": [{"name": "Dr Lee's office", "phone": "555 010 0123", "note": ""}],
}


def test_the_screen_shows_my_steps_my_people_and_the_crisis_line_and_records_nothing(member, client_for):
    plan.save_plan(member, by=member, content=CONTENT, based_on=0)
    page = client_for(member).get(reverse("web:struggling")).content.decode()
    assert "Box breathing" in page and "Music in the headphones" in page
    assert 'href="tel:+15550100199"' in page and 'href="sms:+15550100199"' in page
    assert "Dr Lee&#x27;s office" in page
    assert 'href="tel:988"' in page and 'href="tel:911"' in page
    assert not SafetyEvent.objects.filter(member=member).exists()


def test_pressing_records_the_moment_and_asking_records_the_urgent_kind(member, relationship, client_for):
    client = client_for(member)
    pressed = client.post(reverse("web:struggling"), {"ask_team": "0", "key": "k-1"})
    assert pressed.status_code == 200
    assert "Test Clinician will see that you are struggling" in pressed.content.decode()
    asked = client.post(reverse("web:struggling"), {"ask_team": "1", "key": "k-2"})
    assert "We asked Test Clinician to reach out to you" in asked.content.decode()
    events = list(SafetyEvent.objects.filter(member=member).order_by("pk"))
    assert [(e.kind, e.team_asked) for e in events] == [(SafetyKind.STRUGGLING, False), (SafetyKind.STRUGGLING, True)]


def test_a_retried_press_with_the_same_key_is_stored_once(member, client_for):
    client = client_for(member)
    for _attempt in range(3):
        response = client.post(
            reverse("web:struggling"), {"ask_team": "1", "key": "offline-key"}, headers={"Accept": "application/json"}
        )
        assert response.status_code == 200 and response.json()["team_asked"] is True
    assert SafetyEvent.objects.filter(member=member).count() == 1


def test_presses_without_a_key_are_each_recorded(member, client_for):
    client = client_for(member)
    client.post(reverse("web:struggling"), {"ask_team": "0"})
    client.post(reverse("web:struggling"), {"ask_team": "0"})
    assert SafetyEvent.objects.filter(member=member).count() == 2


def test_ask_my_team_is_offered_only_when_someone_gets_safety_alerts(member, relationship, client_for):
    client = client_for(member)
    assert "Ask my team to reach out" in client.get(reverse("web:struggling")).content.decode()
    actions.set_sharing(member=member, relationship=relationship, categories=["plan"], safety_alerts=False)
    assert "Ask my team to reach out" not in client.get(reverse("web:struggling")).content.decode()


def test_an_organisation_without_crisis_lines_falls_back_to_its_countrys(member, organisation, client_for):
    organisation.crisis_lines = []
    organisation.save()
    page = client_for(member).get(reverse("web:struggling")).content.decode()
    assert "988 Suicide &amp; Crisis Lifeline" in page


def test_the_button_is_on_member_pages_and_not_on_staff_pages(member, staff, client_for):
    assert 'action="/me/struggling/"' in client_for(member).get(reverse("web:member_home")).content.decode()
    assert 'action="/me/struggling/"' not in client_for(staff).get(reverse("web:staff_home")).content.decode()
    # Not a member (or signed out): the crisis lines at once, never a refusal or a sign-in page.
    assert 'href="tel:988"' in client_for(staff).get(reverse("web:struggling")).content.decode()


def test_api_press_returns_the_steps_and_is_idempotent(member, relationship, client_for):
    plan.save_plan(member, by=member, content=CONTENT, based_on=0)
    client = client_for(member)
    for _attempt in range(2):
        response = client.post(
            "/api/v1/struggling",
            json.dumps({"ask_team": True}),
            content_type="application/json",
            headers={"Idempotency-Key": "phone-1"},
        )
        assert response.status_code == 201
    body = response.json()
    assert body["coping_strategies"] == CONTENT["coping_strategies"]
    assert body["told"] == ["Test Clinician"] and body["team_asked"] is True
    assert {contact["name"] for contact in body["contacts"]} == {"Ana", "Dr Lee's office"}
    assert SafetyEvent.objects.filter(member=member).count() == 1


def test_the_service_worker_keeps_the_struggling_screen(client):
    worker = client.get(reverse("web:service_worker")).content.decode()
    assert '"/me/struggling/"' in worker


def test_asking_the_team_alerts_each_safety_supporter_urgently_once(
    member, relationship, client_for, django_capture_on_commit_callbacks
):
    from alongside.notify.models import Notification
    from alongside.signals import engine

    client = client_for(member)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("web:struggling"), {"ask_team": "1", "key": "urgent-1"})
    alert = Notification.objects.get(recipient=relationship.staff, kind="safety_alert")
    assert alert.urgent and member.display_name in alert.title
    assert engine.sweep_safety_events() == 0  # already routed: nothing twice
    assert Notification.objects.filter(recipient=relationship.staff, kind="safety_alert").count() == 1
    assert alert.deliveries.filter(channel="inbox").exists()


def test_the_sweep_alerts_for_an_event_whose_routing_never_ran(member, relationship):
    from alongside.care import safety
    from alongside.notify.models import Notification
    from alongside.signals import engine

    safety.record_safety_event(member, "phq9_item9", source="test")  # commit callbacks do not run here
    assert not Notification.objects.filter(kind="safety_alert").exists()
    assert engine.sweep_safety_events() == 1
    assert Notification.objects.get(recipient=relationship.staff, kind="safety_alert").urgent


def test_a_signed_out_press_shows_the_crisis_lines_not_a_sign_in_page(client):
    for response in (client.get(reverse("web:struggling")), client.post(reverse("web:struggling"), {"ask_team": "1"})):
        assert response.status_code == 200
        assert 'href="tel:988"' in response.content.decode()


def test_the_lines_show_even_when_recording_fails(member, client_for, monkeypatch):
    from alongside.care import safety

    def broken(*args, **kwargs):
        raise RuntimeError("database trouble")

    monkeypatch.setattr(safety, "record_struggling", broken)
    response = client_for(member).post(reverse("web:struggling"), {"ask_team": "1", "key": "k"})
    assert response.status_code == 200 and 'href="tel:988"' in response.content.decode()
