import pytest
from django.urls import reverse

from alongside.accounts.models import Role
from alongside.monitoring import checkins, questionnaires
from alongside.testing.factories import make_staff, support

pytestmark = pytest.mark.django_db


def test_member_sees_their_charts_in_week_and_month_views(client_for, member):
    checkins.record(member, mood=4, anxiety=6, sleep_hours=6.5)
    questionnaires.submit(member, "phq9", {item: 1 for item in range(1, 10)} | {9: 0})
    client = client_for(member)
    month = client.get(reverse("monitoring:history")).content.decode()
    assert month.count('role="img"') == 4  # mood and anxiety, sleep, the heat map, PHQ-9
    assert "Mood and Anxiety, last 30 days" in month and "PHQ-9 over time" in month
    week = client.get(reverse("monitoring:history") + "?period=week").content.decode()
    assert "last 7 days" in week and " style=" not in week


def test_supporters_see_only_the_charts_the_member_shares(client_for, member, organisation):
    checkins.record(member, mood=4)
    questionnaires.submit(member, "gad7", {item: 1 for item in range(1, 8)})
    clinician = make_staff(organisation, Role.CLINICIAN)
    support(clinician, member, organisation, Role.CLINICIAN)
    peer = make_staff(organisation, Role.PEER_MENTOR)
    support(peer, member, organisation, Role.PEER_MENTOR)
    # The record loads its charts in a second request (htmx), which is also a page of its own.
    record = client_for(clinician).get(reverse("web:member_record", args=[member.pk])).content.decode()
    charts_url = reverse("web:member_charts", args=[member.pk])
    assert f'hx-get="{charts_url}?period=month"' in record
    clinician_view = client_for(clinician).get(charts_url).content.decode()
    assert "Mood and Anxiety, last 30 days" in clinician_view and "GAD-7 over time" in clinician_view
    fragment = client_for(clinician).get(charts_url, headers={"HX-Request": "true"}).content.decode()
    assert fragment.startswith('<div id="member-charts">') and "<html" not in fragment
    peer_view = client_for(peer).get(charts_url).content.decode()
    assert "Check-ins, last 26 weeks" in peer_view  # engagement only
    assert "Mood" not in peer_view and "GAD-7" not in peer_view
