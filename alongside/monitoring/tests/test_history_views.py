import html
import re

import pytest
from django.urls import reverse

from alongside.accounts.models import Role
from alongside.audit.models import AuditEvent
from alongside.care import actions as care_actions
from alongside.care.models import Category
from alongside.monitoring import checkins, questionnaires
from alongside.testing.factories import make_member, make_staff, support

pytestmark = pytest.mark.django_db


def _pending_chart_urls(page: str) -> list[str]:
    pending = re.findall(r'class="card chart-card chart-pending"[^>]* hx-get="([^"]+)"', page)
    return [html.unescape(url) for url in pending]


def test_member_sees_their_charts_in_week_and_month_views(client_for, member):
    checkins.record(member, mood=4, anxiety=6, sleep_hours=6.5)
    questionnaires.submit(member, "phq9", {item: 1 for item in range(1, 10)} | {9: 0})
    client = client_for(member)
    # The first visit does not wait for drawings: each chart comes in a request of its own.
    month = client.get(reverse("monitoring:history")).content.decode()
    pending = _pending_chart_urls(month)
    assert len(pending) == 4 and 'role="img"' not in month  # mood and anxiety, sleep, the heat map, PHQ-9
    fragments = [client.get(url, headers={"HX-Request": "true"}).content.decode() for url in pending]
    assert all(fragment.startswith('<figure class="card chart-card" id="chart-') for fragment in fragments)
    assert all(fragment.count('role="img"') == 1 and "<html" not in fragment for fragment in fragments)
    # The next visit has them all, drawn once.
    again = client.get(reverse("monitoring:history")).content.decode()
    assert again.count('role="img"') == 4 and "chart-pending" not in again
    assert "Mood and Anxiety, last 30 days" in again and "PHQ-9 over time" in again
    week = client.get(reverse("monitoring:history") + "?period=week").content.decode()
    assert week.count('role="img"') == 2  # the heat map and PHQ-9 do not depend on the period
    for url in _pending_chart_urls(week):
        assert "period=week" in url
        assert "last 7 days" in client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert " style=" not in client.get(reverse("monitoring:history") + "?period=week").content.decode()


def test_without_javascript_a_chart_is_a_page_of_its_own(client_for, member):
    checkins.record(member, mood=4)
    client = client_for(member)
    history = client.get(reverse("monitoring:history")).content.decode()
    link = html.unescape(re.search(r'<a href="([^"]+)">Show the chart: Mood and Anxiety', history).group(1))
    page = client.get(link).content.decode()
    assert "<h1>Mood and Anxiety, last 30 days</h1>" in page and page.count('role="img"') == 1
    assert reverse("monitoring:history") in page  # the way back


def test_a_chart_the_member_does_not_have_is_not_found(client_for, member):
    checkins.record(member, mood=4)
    client = client_for(member)
    assert client.get(reverse("monitoring:history_chart", args=["who5"])).status_code == 404  # no WHO-5 yet
    assert client.get(reverse("monitoring:history_chart", args=["nothing"])).status_code == 404


def test_each_member_gets_their_own_drawing_of_the_same_chart(client_for, member, organisation):
    other = make_member(organisation)
    checkins.record(member, mood=2)
    checkins.record(other, mood=9)
    url = reverse("monitoring:history_chart", args=["mood-anxiety-month"])
    mine = client_for(member).get(url, headers={"HX-Request": "true"}).content.decode()
    theirs = client_for(other).get(url, headers={"HX-Request": "true"}).content.decode()
    assert "average 2," in mine and "average 9," not in mine
    assert "average 9," in theirs and "average 2," not in theirs


def test_supporters_see_only_the_charts_the_member_shares(client_for, member, organisation):
    checkins.record(member, mood=4)
    questionnaires.submit(member, "gad7", {item: 1 for item in range(1, 8)})
    clinician = make_staff(organisation, Role.CLINICIAN)
    support(clinician, member, organisation, Role.CLINICIAN)
    peer = make_staff(organisation, Role.PEER_MENTOR)
    support(peer, member, organisation, Role.PEER_MENTOR)
    # The record loads its charts in a second request (htmx), which is also a page of its own; each chart not
    # drawn since its data changed comes in a request of its own again.
    record = client_for(clinician).get(reverse("web:member_record", args=[member.pk])).content.decode()
    charts_url = reverse("web:member_charts", args=[member.pk])
    assert f'hx-get="{charts_url}?period=month"' in record
    clinician_view = client_for(clinician).get(charts_url).content.decode()
    assert "Mood and Anxiety, last 30 days" in clinician_view and "GAD-7 over time" in clinician_view
    fragment = client_for(clinician).get(charts_url, headers={"HX-Request": "true"}).content.decode()
    assert fragment.startswith('<div id="member-charts">') and "<html" not in fragment
    pending = _pending_chart_urls(fragment)
    assert len(pending) == 4 and all(url.startswith(charts_url) for url in pending)
    for url in pending:
        drawn = client_for(clinician).get(url, headers={"HX-Request": "true"}).content.decode()
        assert drawn.count('role="img"') == 1
    again = client_for(clinician).get(charts_url, headers={"HX-Request": "true"}).content.decode()
    assert again.count('role="img"') == 4 and not _pending_chart_urls(again)

    peer_view = client_for(peer).get(charts_url).content.decode()
    assert peer_view.count('role="img"') == 1 and "Check-ins, last 26 weeks" in peer_view  # engagement only
    assert "Mood" not in peer_view and "GAD-7" not in peer_view
    # A drawing made for the clinician is not a way round the member's sharing.
    for slot in ("mood-anxiety-month", "gad7"):
        assert client_for(peer).get(reverse("web:member_chart", args=[member.pk, slot])).status_code == 404


def test_a_supporter_reading_one_chart_is_audited_and_stops_when_the_member_stops_sharing(
    client_for, member, organisation
):
    checkins.record(member, mood=4)
    clinician = make_staff(organisation, Role.CLINICIAN)
    relationship = support(clinician, member, organisation, Role.CLINICIAN)
    url = reverse("web:member_chart", args=[member.pk, "mood-anxiety-month"])
    page = client_for(clinician).get(url).content.decode()
    assert "<h1>Mood and Anxiety, last 30 days</h1>" in page and page.count('role="img"') == 1
    read = AuditEvent.objects.filter(actor=clinician, member=member).latest("at")
    assert (read.category, read.detail) == (Category.CHECKINS, "check-in charts")
    care_actions.set_sharing(
        member=member, relationship=relationship, categories={Category.ENGAGEMENT}, safety_alerts=True
    )
    assert client_for(clinician).get(url).status_code == 404
