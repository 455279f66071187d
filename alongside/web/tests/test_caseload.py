"""The caseload: a supporter's members sorted by need, flags and facts only as each member shares them, a fixed
number of queries whatever its size, each shown member's read in the audit log."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alongside.accounts.models import Role
from alongside.audit.models import AuditEvent
from alongside.care import actions as care_actions
from alongside.monitoring import checkins
from alongside.monitoring.models import Assessment
from alongside.signals import alerts
from alongside.testing.factories import make_member, make_staff, signed_in_client, support
from alongside.web import caseload

pytestmark = pytest.mark.django_db
ZONE = ZoneInfo("America/New_York")


def moods(member, values, *, end_days_ago=0):
    """One check-in a day, the last `end_days_ago` days ago, with these moods (None: no check-in that day)."""
    now = timezone.now()
    today = now.astimezone(ZONE).date()
    first = today - timedelta(days=end_days_ago + len(values) - 1)
    for offset, mood in enumerate(values):
        if mood is not None:
            day = first + timedelta(days=offset)
            # At 09:00, or now if today's 09:00 has not come yet on the member's clock.
            moment = min(datetime.combine(day, time(9), tzinfo=ZONE), now)
            checkins.record(member, mood=mood, recorded_at=moment)


def alert(member, severity, key):
    return alerts.raise_firing(
        member, detector="baseline", rule="cusum:distress", category="checkins", severity=severity,
        day=timezone.localdate(), evidence={}, source_key=key,
    ).alert  # fmt: skip


@pytest.fixture
def clinician(organisation):
    return make_staff(organisation, Role.CLINICIAN, display_name="Dr Caseload")


def supported(clinician, organisation, name, **kwargs):
    member = make_member(organisation, display_name=name, time_zone="America/New_York", **kwargs)
    support(clinician, member, organisation, Role.CLINICIAN)
    return member


def test_members_are_sorted_by_alert_severity_then_by_falling_mood(clinician, organisation):
    steady = supported(clinician, organisation, "Ada Steady")
    falling = supported(clinician, organisation, "Ben Falling")
    watched = supported(clinician, organisation, "Cy Watched")
    urgent = supported(clinician, organisation, "Dee Urgent")
    moods(steady, [6] * 21 + [6] * 7)
    moods(falling, [7] * 21 + [3] * 7)
    moods(watched, [6] * 28)
    moods(urgent, [6] * 28)
    alert(watched, "watch", "w")
    alert(urgent, "urgent", "u")
    rows = caseload.caseload_for(clinician)
    assert [row.member.pk for row in rows] == [urgent.pk, watched.pk, falling.pk, steady.pk]
    assert rows[0].severity == "urgent" and rows[0].flags[0].code == "alert"
    caseload.mood_lines(rows)
    by_name = {row.member.display_name: row for row in rows}
    assert by_name["Ben Falling"].trend == -4.0 and by_name["Ada Steady"].trend == 0.0
    assert len(by_name["Ben Falling"].mood) == caseload.SPARK_DAYS and by_name["Ben Falling"].mood[-1] == 3.0


def test_flags_and_facts_follow_what_each_member_shares(clinician, organisation):
    sharing = supported(clinician, organisation, "Eve Shares")
    private = supported(clinician, organisation, "Fay Private")
    for member in (sharing, private):
        moods(member, [5] * 10, end_days_ago=5)  # nothing for the last 5 days
        Assessment.objects.create(
            member=member, instrument="phq9", opens_at=timezone.now() - timedelta(days=3),
            closes_at=timezone.now() + timedelta(days=2),
        )  # fmt: skip
    relationship = private.supported_by.get()
    care_actions.set_sharing(member=private, relationship=relationship, categories=[], safety_alerts=False)
    listed = caseload.caseload_for(clinician)
    caseload.mood_lines(listed)
    rows = {row.member.pk: row for row in listed}
    shares = rows[sharing.pk]
    assert {flag.code for flag in shares.flags} == {"missed_checkins", "assessment_due"}
    assert shares.last_checkin is not None and any(shares.mood)
    hidden = rows[private.pk]
    assert hidden.flags == [] and hidden.last_checkin is None and hidden.mood == [] and hidden.trend is None


def test_only_the_supporters_own_members_are_listed(clinician, organisation, outsider):
    mine = supported(clinician, organisation, "Gus Mine")
    other = make_member(organisation, display_name="Hal Someone Else")
    colleague = make_staff(organisation, Role.CLINICIAN)
    support(colleague, other, organisation, Role.CLINICIAN)
    assert [row.member.pk for row in caseload.caseload_for(clinician)] == [mine.pk]
    page = signed_in_client(clinician).get(reverse("web:caseload")).content.decode()
    assert "Gus Mine" in page and "Hal Someone Else" not in page
    assert signed_in_client(mine).get(reverse("web:caseload")).status_code == 403
    assert caseload.caseload_for(outsider) == []


def build(clinician, organisation, count):
    for index in range(count):
        member = supported(clinician, organisation, f"Member {index:03}")
        moods(member, [5, 6, None, 4])
        if index % 3 == 0:
            alert(member, "high", f"k{clinician.pk}:{index}")


def test_the_number_of_queries_of_the_caseload_and_a_record_does_not_grow_with_the_caseload(organisation):
    counts = {}
    for size in (1, 50):
        clinician = make_staff(organisation, Role.CLINICIAN)
        build(clinician, organisation, size)
        client = signed_in_client(clinician)
        client.get(reverse("web:caseload"))  # warm: sessions, permissions
        with CaptureQueriesContext(connection) as direct:
            rows = caseload.caseload_for(clinician)
        with CaptureQueriesContext(connection) as page:
            response = client.get(reverse("web:caseload"))
        assert len(rows) == size and response.status_code == 200
        record_url = reverse("web:member_record", args=[rows[0].member.pk])
        client.get(record_url)
        with CaptureQueriesContext(connection) as record:
            assert client.get(record_url).status_code == 200
        counts[size] = (len(direct), len(page), len(record))
    assert counts[1] == counts[50], counts


def test_filters_pages_and_the_htmx_refresh(clinician, organisation):
    build(clinician, organisation, 30)
    client = signed_in_client(clinician)
    first = client.get(reverse("web:caseload")).content.decode()
    assert first.count('class="card caseload__row"') == 25 and "Page 1 of 2" in first
    # The 10 members with an alert come first.
    assert first.index("Member 000") < first.index("Member 001")
    second = client.get(reverse("web:caseload"), {"page": 2}).content.decode()
    assert second.count('class="card caseload__row"') == 5
    flagged = client.get(reverse("web:caseload"), {"flag": "alert"}).content.decode()
    assert flagged.count('class="card caseload__row"') == 10
    found = client.get(reverse("web:caseload"), {"q": "member 02"}).content.decode()
    assert found.count('class="card caseload__row"') == 10
    partial = client.get(reverse("web:caseload"), {"q": "member 029"}, headers={"HX-Request": "true"})
    body = partial.content.decode()
    assert body.startswith('<div id="caseload"') and "<html" not in body and body.count("caseload__row") == 1
    assert "<svg" in body and 'role="img"' in body


def test_each_member_shown_is_in_the_audit_log_once_and_names_are_escaped(clinician, organisation):
    shown = supported(clinician, organisation, "<b>Ida</b>")
    moods(shown, [5, 6])
    before = AuditEvent.objects.filter(member=shown).count()
    page = signed_in_client(clinician).get(reverse("web:caseload")).content.decode()
    assert "&lt;b&gt;Ida&lt;/b&gt;" in page and "<b>Ida</b>" not in page
    events = AuditEvent.objects.filter(member=shown, actor=clinician).order_by("-at")
    assert events.count() == before + 1
    assert events.first().detail.startswith("caseload: ") and "checkins" in events.first().detail


def test_the_ladder_flag_means_the_team_was_told_in_the_current_quiet_spell(clinician, organisation):
    from alongside.notify.models import LadderEvent

    quiet = supported(clinician, organisation, "Jo Quiet")
    reminded = supported(clinician, organisation, "Kim Reminded")
    back = supported(clinician, organisation, "Lee Back")
    for member in (quiet, reminded, back):
        moods(member, [5], end_days_ago=6)
    now = timezone.now()
    last = {row.member.pk: row.last_checkin for row in caseload.caseload_for(clinician)}
    LadderEvent.objects.create(member=quiet, spell_start=last[quiet.pk], step=3, action="notify_peer", at=now)
    LadderEvent.objects.create(member=reminded, spell_start=last[reminded.pk], step=1, action="remind_member", at=now)
    LadderEvent.objects.create(member=back, spell_start=last[back.pk], step=3, action="notify_peer", at=now)
    moods(back, [6])  # checked in since: a new spell
    flags = {row.member.pk: {flag.code for flag in row.flags} for row in caseload.caseload_for(clinician)}
    assert "ladder" in flags[quiet.pk]
    assert "ladder" not in flags[reminded.pk] and "ladder" not in flags[back.pk]


def test_trends_follow_each_members_own_calendar(clinician, organisation):
    here = supported(clinician, organisation, "Mo Here")
    far = make_member(organisation, display_name="Nia Far", time_zone="Pacific/Kiritimati")  # UTC+14
    support(clinician, far, organisation, Role.CLINICIAN)
    for member in (here, far):
        zone = ZoneInfo(member.time_zone)
        today = timezone.now().astimezone(zone).date()
        for days_ago in range(1, 28):  # through yesterday: noon today may not have come yet out there
            mood = 3 if days_ago < 7 else 8
            moment = datetime.combine(today - timedelta(days=days_ago), time(12), tzinfo=zone)
            checkins.record(member, mood=mood, recorded_at=moment)
    trends = {row.member.pk: row.trend for row in caseload.caseload_for(clinician)}
    assert trends == {here.pk: -5.0, far.pk: -5.0}
