"""A member's timeline on their record: every kind of event a supporter may see, newest first, each only as
the member shares it, in a fixed number of queries, and earlier windows on request."""

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alongside.accounts.models import Role
from alongside.care import actions as care_actions
from alongside.care import notes, outreach, plan
from alongside.monitoring import checkins, questionnaires
from alongside.schedule import series
from alongside.signals import alerts
from alongside.signals.models import AlertStatus
from alongside.testing.factories import make_staff, signed_in_client, support

pytestmark = pytest.mark.django_db
ZONE = ZoneInfo("America/New_York")


@pytest.fixture
def clinician(member, organisation):
    person = make_staff(organisation, Role.CLINICIAN, display_name="Dr Timeline")
    support(person, member, organisation, Role.CLINICIAN)
    return person


def history(member, clinician, *, checkins_count=3, first=True):
    now = timezone.now()
    for days_ago in range(checkins_count):
        checkins.record(member, mood=4 + days_ago % 3, anxiety=5, recorded_at=now - timedelta(days=days_ago, hours=1))
    questionnaires.submit(
        member, "phq9", {item: 1 for item in range(1, 10)} | {9: 0}, completed_at=now - timedelta(days=2)
    )
    outreach.record_contact(by=clinician, member=member, method="call", outcome="reached", note="ok")
    notes.write_note(by=clinician, member=member, kind="session", text="Worked on <sleep> routine")
    if first:
        plan.save_plan(member, by=member, content={"coping_strategies": ["A walk"]}, based_on=0)
    alert = alerts.raise_firing(
        member, detector="baseline", rule="cusum:distress", category="checkins", severity="high",
        day=timezone.localdate(), evidence={}, source_key=f"t:{member.pk}:{checkins_count}",
    ).alert  # fmt: skip
    series.schedule_appointment(
        by=clinician, member=member, staff=clinician, kind="therapy", title="Therapy session",
        location_kind="online", video_url="https://video.example/t", time_zone="America/New_York",
        start_date=timezone.localdate() - timedelta(days=3), start_time=time(10, 0), duration_minutes=50, rrule="",
    )  # fmt: skip
    return alert


def test_the_timeline_shows_each_kind_newest_first_with_notes_escaped(member, clinician):
    history(member, clinician)
    page = signed_in_client(clinician).get(reverse("web:member_record", args=[member.pk])).content.decode()
    timeline = page[page.index('id="timeline-title"') :]
    for text in ("Check-in", "mood 4", "PHQ-9", "Outreach", "Session note", "Plan", "Alert", "Therapy session"):
        assert text in timeline, text
    assert "Worked on &lt;sleep&gt; routine" in timeline
    # Newest first: today's check-in comes before the questionnaire of two days ago.
    assert timeline.index("mood 4") < timeline.index("PHQ-9")


def test_what_the_member_does_not_share_stays_off_the_timeline(member, clinician, organisation):
    history(member, clinician)
    peer = make_staff(organisation, Role.PEER_MENTOR, display_name="Peer Timeline")
    support(peer, member, organisation, Role.PEER_MENTOR)  # engagement and goals by default
    page = signed_in_client(peer).get(reverse("web:member_record", args=[member.pk])).content.decode()
    timeline = page[page.index('id="timeline-title"') :]
    assert "Outreach" in timeline  # engagement
    for hidden in ("mood 4", "PHQ-9", "Session note", "<sleep>", "&lt;sleep&gt;", "Therapy session"):
        assert hidden not in timeline, hidden
    relationship = member.supported_by.get(staff=clinician)
    care_actions.set_sharing(member=member, relationship=relationship, categories=[], safety_alerts=False)
    page = signed_in_client(clinician).get(reverse("web:member_record", args=[member.pk])).content.decode()
    timeline = page[page.index('id="timeline-title"') :]
    assert "mood 4" not in timeline and "PHQ-9" not in timeline
    assert "Session note" in timeline  # the care team's own notes do not depend on the member's sharing


def test_earlier_windows_and_a_fixed_number_of_queries(member, clinician):
    alert = history(member, clinician, checkins_count=2)
    client = signed_in_client(clinician)
    url = reverse("web:member_record", args=[member.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    history(member, clinician, checkins_count=25, first=False)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(few) == len(many)
    old_day = timezone.now() - timedelta(days=45)
    checkins.record(member, mood=1, recorded_at=old_day)
    assert "mood 1," not in client.get(url).content.decode()
    earlier = (timezone.now() - timedelta(days=30)).astimezone(ZONE).date().isoformat()
    page = client.get(url, {"before": earlier}).content.decode()
    assert "mood 1" in page and "Latest" in page
    assert client.get(url, {"before": "not-a-date"}).status_code == 200
    # A window that would start before the calendar's first day is the latest one, not a server error.
    too_early = client.get(url, {"before": "0001-01-01"})
    assert too_early.status_code == 200 and "mood 1," not in too_early.content.decode()
    # The quick action acknowledges the alert and comes back to the record.
    response = client.post(reverse("signals:acknowledge", args=[alert.pk]), {"next": url})
    assert response.status_code == 302 and response["Location"] == url
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED
    away = client.post(reverse("signals:acknowledge", args=[alert.pk]), {"next": "https://evil.example/"})
    assert away["Location"] == reverse("signals:alert", args=[alert.pk])


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(before=st.one_of(st.sampled_from([date.min, date.max]), st.dates()).map(date.isoformat) | st.text(max_size=12))
def test_any_window_asked_for_is_a_page(member, clinician, before):
    client = signed_in_client(clinician)
    assert client.get(reverse("web:member_record", args=[member.pk]), {"before": before}).status_code == 200
