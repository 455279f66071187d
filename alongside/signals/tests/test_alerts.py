"""Alerts: routing by consent, episodes, severity, escalation timing, acknowledging and resolving, and what
each person can see. Each test creates the data that could leak before checking that it does not."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from alongside.accounts.models import Role
from alongside.audit.models import AuditEvent
from alongside.care import actions as care_actions
from alongside.care import safety
from alongside.notify.models import Notification
from alongside.programs import actions as program_actions
from alongside.signals import alerts, engine
from alongside.signals.models import Alert, AlertRecipient, AlertStatus, Firing, Severity
from alongside.testing import factories

pytestmark = pytest.mark.django_db


def fire(member, key="a", *, detector="baseline", category="checkins", severity=Severity.WATCH, at=None):
    return alerts.raise_firing(
        member, detector=detector, rule=f"test:{key}", category=category, severity=severity, day=date(2026, 11, 1),
        evidence={"statistic": 9.0, "limit": 8.0}, source_key=f"test:{member.pk}:{key}", at=at,
    )  # fmt: skip


@pytest.fixture
def team(organisation, member, staff):
    """The member's clinician (default sharing: scores, safety alerts) and peer mentor (engagement only)."""
    clinician = factories.support(staff, member, organisation, Role.CLINICIAN)
    peer = factories.make_staff(organisation, Role.PEER_MENTOR, display_name="Peer Mentor")
    peer_relationship = factories.support(peer, member, organisation, Role.PEER_MENTOR)
    return clinician, peer_relationship


def test_a_firing_reaches_only_supporters_consented_for_its_category(member, team, outsider):
    clinician, peer = team
    firing = fire(member)
    alert = firing.alert
    assert set(AlertRecipient.objects.filter(alert=alert).values_list("person", flat=True)) == {clinician.staff_id}
    assert Notification.objects.filter(
        recipient=clinician.staff, link=reverse("signals:alert", args=[alert.pk])
    ).exists()
    assert not Notification.objects.filter(recipient=peer.staff).exists()
    assert not alerts.alerts_visible_to(peer.staff).exists()
    assert not alerts.alerts_visible_to(outsider).exists()
    assert list(alerts.alerts_visible_to(member)) == [alert]

    # Disengagement is engagement data: the peer mentor sees that firing and only that one.
    engagement = fire(member, "quiet", detector="disengagement", category="engagement")
    assert engagement.alert == alert
    assert list(alerts.visible_firings(peer.staff, alert)) == [engagement]
    assert set(alerts.visible_firings(clinician.staff, alert)) == {firing, engagement}
    assert Notification.objects.filter(recipient=peer.staff).count() == 1


def test_withdrawing_consent_hides_the_alert_at_once(member, team):
    clinician, _peer = team
    alert = fire(member).alert
    assert alerts.may_view(clinician.staff, alert)
    care_actions.set_sharing(member=member, relationship=clinician, categories=["plan"], safety_alerts=True)
    assert not alerts.may_view(clinician.staff, alert)
    assert not alerts.alerts_visible_to(clinician.staff).exists()


def test_related_firings_join_one_episode_and_a_cause_is_recorded_once(member, team):
    first = fire(member, "a")
    second = fire(member, "b")
    assert fire(member, "a") is None  # the same cause again: nothing
    assert first.alert == second.alert
    assert Alert.objects.filter(member=member).count() == 1
    assert Firing.objects.filter(alert=first.alert).count() == 2


def test_after_resolution_a_new_firing_opens_a_new_alert(member, team):
    clinician, _peer = team
    alert = fire(member, "a").alert
    alerts.resolve(alert, by=clinician.staff, outcome="reached")
    later = fire(member, "b").alert
    assert later != alert and later.status == AlertStatus.OPEN


def test_evidence_from_two_detectors_makes_an_alert_high_and_a_safety_event_urgent(
    member, team, django_capture_on_commit_callbacks
):
    clinician, _peer = team
    alert = fire(member, "a").alert
    assert alert.severity == Severity.WATCH
    fire(member, "q", detector="questionnaire", category="questionnaires")
    alert.refresh_from_db()
    assert alert.severity == Severity.HIGH
    told_before = Notification.objects.filter(recipient=clinician.staff).count()
    with django_capture_on_commit_callbacks(execute=True):
        safety.record_safety_event(member, "phq9_item9", source="test")
    alert.refresh_from_db()
    assert alert.severity == Severity.URGENT
    assert Alert.objects.filter(member=member).count() == 1
    newest = Notification.objects.filter(recipient=clinician.staff).order_by("-pk").first()
    assert Notification.objects.filter(recipient=clinician.staff).count() == told_before + 1
    assert newest.urgent and newest.kind == "safety_alert"


def test_a_plain_struggling_press_is_high_and_asking_the_team_is_urgent(
    member, team, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        safety.record_struggling(member, ask_team=False, client_key="k1")
    alert = Alert.objects.get(member=member)
    assert alert.severity == Severity.HIGH
    with django_capture_on_commit_callbacks(execute=True):
        safety.record_struggling(member, ask_team=True, client_key="k2")
    alert.refresh_from_db()
    assert alert.severity == Severity.URGENT


def test_unacknowledged_urgent_alerts_escalate_after_the_sla_then_to_the_admins(member, team, organisation):
    clinician, _peer = team
    admin = factories.make_staff(organisation, Role.ORG_ADMIN, display_name="Org Admin")
    opened = timezone.now()
    alert = fire(member, "s", detector="safety", category="safety", severity=Severity.URGENT, at=opened).alert
    assert alert.escalate_at == opened + timedelta(minutes=60)  # the default for urgent alerts

    assert alerts.escalate_due(now=opened + timedelta(minutes=59)) == 0
    assert alerts.escalate_due(now=opened + timedelta(minutes=61)) == 1
    alert.refresh_from_db()
    assert alert.escalation_level == 1
    again = Notification.objects.filter(recipient=clinician.staff, source_key__contains="escalation:1")
    assert again.get().urgent
    assert not Notification.objects.filter(recipient=admin).exists()

    assert alerts.escalate_due(now=opened + timedelta(minutes=121)) == 1
    told = Notification.objects.get(recipient=admin)
    assert told.urgent and told.link == reverse("web:member_record", args=[member.pk])
    assert AlertRecipient.objects.get(alert=alert, person=admin).without_detail
    assert not alerts.may_view(admin, alert)  # the admin hears that it waits, not what it says
    alert.refresh_from_db()
    assert alert.escalate_at is None
    assert alerts.escalate_due(now=opened + timedelta(days=1)) == 0


def test_acknowledging_stops_escalation_and_the_program_sets_the_time(member, team, organisation):
    clinician, _peer = team
    admin = factories.make_staff(organisation, Role.ORG_ADMIN)
    settings = {"alert_sla_minutes": {"urgent": 15, "high": 120, "watch": 1440}}
    program = program_actions.create_program(by=admin, organisation=organisation, name="Step-down", settings=settings)
    program_actions.enrol(by=admin, program=program, member=member)
    opened = timezone.now()
    alert = fire(member, "s", detector="safety", category="safety", severity=Severity.URGENT, at=opened).alert
    assert alert.escalate_at == opened + timedelta(minutes=15)
    alerts.acknowledge(alert, by=clinician.staff)
    assert alerts.escalate_due(now=opened + timedelta(hours=5)) == 0
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED and alert.acknowledged_by == clinician.staff


def test_an_alert_nobody_may_receive_does_not_escalate_to_anyone(member, organisation):
    admin = factories.make_staff(organisation, Role.ORG_ADMIN)
    opened = timezone.now()
    alert = fire(member, "s", detector="safety", category="safety", severity=Severity.URGENT, at=opened).alert
    for minutes in (61, 121, 181):
        alerts.escalate_due(now=opened + timedelta(minutes=minutes))
    assert not Notification.objects.filter(recipient=admin).exists()
    alert.refresh_from_db()
    assert alert.escalate_at is None


def test_resolving_needs_an_outcome_and_for_other_a_note(member, team):
    clinician, peer = team
    alert = fire(member).alert
    with pytest.raises(ValidationError) as error:
        alerts.resolve(alert, by=clinician.staff, outcome="")
    assert "outcome" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        alerts.resolve(alert, by=clinician.staff, outcome="other", note="  ")
    assert "note" in error.value.message_dict
    with pytest.raises(alerts.PermissionDenied):
        alerts.resolve(alert, by=peer.staff, outcome="reached")  # sees no firing of this alert
    alerts.resolve(alert, by=clinician.staff, outcome="other", note="Spoke to their sister; all fine.")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED and alert.acknowledged_by == clinician.staff
    assert alert.outcome_note == "Spoke to their sister; all fine."
    assert AuditEvent.objects.filter(member=member, detail__startswith=f"resolved alert {alert.pk}").exists()


def test_crisis_language_shows_the_member_their_screen_and_alerts_only_journal_sharers(
    member, team, organisation, client_for, django_capture_on_commit_callbacks
):
    clinician, _peer = team  # gets safety alerts, but the journal is not shared with them
    case_manager = factories.make_staff(organisation, Role.CASE_MANAGER, display_name="Case Manager")
    sharing = factories.support(case_manager, member, organisation, Role.CASE_MANAGER)
    care_actions.set_sharing(
        member=member, relationship=sharing, categories=["journal", "checkins"], safety_alerts=True
    )
    client = client_for(member)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("monitoring:journal_new"), {"text": "Some days I want to die, honestly."})
    assert response.status_code == 302 and response["Location"] == reverse("web:crisis")
    alert = Alert.objects.get(member=member)
    assert alert.severity == Severity.URGENT
    recipients = set(AlertRecipient.objects.filter(alert=alert).values_list("person", flat=True))
    assert recipients == {case_manager.pk}
    assert not alerts.may_view(clinician.staff, alert)
    assert "want to die" not in str(Firing.objects.get(alert=alert).evidence)
    page = client.get(reverse("signals:my_alerts")).content.decode()
    assert "Case Manager" in page and "sounded like a crisis" in page and "Your words were not" in page


def test_an_ordinary_journal_entry_raises_nothing(member, team, client_for, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client_for(member).post(reverse("monitoring:journal_new"), {"text": "A good walk by the river today."})
    assert not Alert.objects.exists()


def test_a_supporter_reviews_acknowledges_and_resolves_on_the_page(member, team, client_for, outsider):
    clinician, peer = team
    alert = fire(member).alert
    client = client_for(clinician.staff)
    page = client.get(reverse("signals:alert", args=[alert.pk]))
    assert page.status_code == 200 and b"Acknowledge" in page.content
    assert AuditEvent.objects.filter(
        member=member, actor=clinician.staff, detail__startswith=f"alert {alert.pk}"
    ).exists()
    for person in (peer.staff, outsider, member):
        assert client_for(person).get(reverse("signals:alert", args=[alert.pk])).status_code == 404
        assert client_for(person).post(reverse("signals:acknowledge", args=[alert.pk])).status_code == 404
    client.post(reverse("signals:acknowledge", args=[alert.pk]))
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED
    bad = client.post(reverse("signals:resolve", args=[alert.pk]), {"outcome": "other", "note": ""})
    assert bad.status_code == 200 and b"Say briefly what happened" in bad.content
    client.post(reverse("signals:resolve", args=[alert.pk]), {"outcome": "false_alarm"})
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED and alert.outcome == "false_alarm"
    listing = client.get(reverse("signals:alerts")).content.decode()
    assert "Test Member" in listing


def test_the_api_answers_with_evidence_and_names_bad_fields(member, team, client_for):
    clinician, peer = team
    alert = fire(member).alert
    client = client_for(clinician.staff)
    listed = client.get("/api/v1/alerts").json()
    assert [item["id"] for item in listed] == [alert.pk]
    assert listed[0]["firings"][0]["evidence"]["statistic"] == 9.0
    assert client_for(peer.staff).get(f"/api/v1/alerts/{alert.pk}").status_code == 404
    bad = client.post(f"/api/v1/alerts/{alert.pk}/resolve", {"outcome": "nonsense"}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["fields"] == ["outcome"]
    done = client.post(f"/api/v1/alerts/{alert.pk}/resolve", {"outcome": "reached"}, content_type="application/json")
    assert done.status_code == 200 and done.json()["status"] == "resolved"
    again = client.post(f"/api/v1/alerts/{alert.pk}/resolve", {"outcome": "reached"}, content_type="application/json")
    assert again.status_code == 409
    mine = client_for(member).get("/api/v1/alerts?include_resolved=true").json()
    assert mine[0]["recipients"][0]["name"] == clinician.staff.display_name


def test_a_missed_appointment_pattern_is_a_disengagement_firing(member, team, django_capture_on_commit_callbacks):
    from datetime import time

    from alongside.schedule import series

    clinician, _peer = team
    first = timezone.localdate() - timedelta(days=21)
    appointment = series.schedule_appointment(
            by=clinician.staff, member=member, kind="therapy", title="Weekly session", location_kind="in_person",
            address="12 River Road",
            time_zone="America/New_York", start_date=first, start_time=time(10), duration_minutes=50,
            rrule="FREQ=WEEKLY;COUNT=3",
        )  # fmt: skip
    occurrences = list(appointment.occurrences.order_by("start"))
    with django_capture_on_commit_callbacks(execute=True):
        series.record_attendance(occurrences[0], by=clinician.staff, attended=False)
    assert not Alert.objects.exists()  # one missed appointment is not a pattern
    with django_capture_on_commit_callbacks(execute=True):
        series.record_attendance(occurrences[1], by=clinician.staff, attended=True)
        series.record_attendance(occurrences[2], by=clinician.staff, attended=False)
    firing = Firing.objects.get(rule="missed_appointments")
    assert firing.category == "appointments" and len(firing.evidence["missed"]) == 2
    assert AlertRecipient.objects.filter(alert=firing.alert, person=clinician.staff).exists()


def test_an_alert_from_older_data_is_news_now_and_its_time_to_acknowledge_starts_now(member, team):
    from alongside.care.models import SafetyEvent

    event = SafetyEvent.objects.create(member=member, kind="phq9_item9", occurred_at=timezone.now() - timedelta(days=1))
    before = timezone.now()
    engine.on_safety_event(event)  # as the worker's sweep does for an event whose routing failed
    alert = Alert.objects.get(member=member)
    assert alert.opened_at >= before
    assert alert.escalate_at >= before + timedelta(minutes=60)
    assert alerts.escalate_due() == 0


def test_the_on_call_page_lists_urgent_open_alerts_unacknowledged_and_longest_waiting_first(
    member, team, organisation, client_for
):
    clinician, peer = team
    second = factories.make_member(organisation, display_name="Second Member")
    factories.support(clinician.staff, second, organisation, Role.CLINICIAN)
    now = timezone.now()
    older = fire(member, "old", category="safety", severity=Severity.URGENT, at=now - timedelta(minutes=95)).alert
    newer = fire(second, "new", category="safety", severity=Severity.URGENT, at=now - timedelta(minutes=20)).alert
    fire(second, "watch-only")  # joins the urgent alert: still one alert for the second member
    third = factories.make_member(organisation, display_name="Third Member")
    factories.support(clinician.staff, third, organisation, Role.CLINICIAN)
    fire(third, "calm")  # a watch alert is not for the on-call page
    client = client_for(clinician.staff)
    page = client.get(reverse("signals:on_call")).content.decode()
    assert "Third Member" not in page
    assert page.index(member.display_name) < page.index("Second Member")
    assert "waiting 95 minutes" in page and "waiting 20 minutes" in page
    alerts.acknowledge(older, by=clinician.staff)
    partial = client.get(reverse("signals:on_call"), headers={"HX-Request": "true"}).content.decode()
    assert partial.startswith('<section id="on-call"') and "<html" not in partial
    # Acknowledged alerts follow the ones nobody has taken yet.
    assert partial.index("Second Member") < partial.index(member.display_name)
    assert "acknowledged by" in partial
    # The peer mentor (engagement only) sees no safety alert; a member gets no on-call page.
    peer_page = client_for(peer.staff).get(reverse("signals:on_call")).content.decode()
    assert "0 urgent alerts" in peer_page and member.display_name not in peer_page
    assert client_for(member).get(reverse("signals:on_call")).status_code == 403
    assert newer.severity == Severity.URGENT
