from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from alongside.accounts.models import Role
from alongside.monitoring import chart_cache, checkins, history, questionnaires
from alongside.monitoring.chart_cache import Chart
from alongside.monitoring.models import ChartDrawing
from alongside.testing.factories import make_member, make_staff, support

pytestmark = pytest.mark.django_db


def counting_drawing():
    """A drawing function that counts how often it ran (in its `calls`)."""

    def draw_test_chart(value, *, title):
        draw_test_chart.calls += 1
        return f"<svg><title>{title}</title><desc>{value}</desc></svg>"

    draw_test_chart.calls = 0
    return draw_test_chart


def test_a_chart_is_drawn_once_while_its_data_is_unchanged(member):
    drawing = counting_drawing()
    first = chart_cache.drawn(member, [Chart("mood-month", "Mood", drawing, (3,), {"title": "Mood"})])
    again = chart_cache.drawn(member, [Chart("mood-month", "Mood", drawing, (3,), {"title": "Mood"})])
    assert first == again == ["<svg><title>Mood</title><desc>3</desc></svg>"] and drawing.calls == 1
    changed = chart_cache.drawn(member, [Chart("mood-month", "Mood", drawing, (4,), {"title": "Mood"})])
    assert changed == ["<svg><title>Mood</title><desc>4</desc></svg>"] and drawing.calls == 2
    assert ChartDrawing.objects.filter(member=member).count() == 1  # the new drawing replaced the old


def test_the_same_data_in_another_language_is_drawn_again(member):
    chart = Chart("mood-month", "Mood", counting_drawing(), (3,), {"title": "Mood"})
    in_english = chart.digest
    with translation.override("fr"):
        in_french = Chart("mood-month", "Mood", chart.draw_function, (3,), {"title": "Mood"})
        assert in_french.digest != in_english


def test_one_members_drawing_is_never_anothers(member, organisation):
    other = make_member(organisation)
    drawing = counting_drawing()
    chart_cache.drawn(member, [Chart("heatmap", "Check-ins", drawing, (1,), {"title": "Check-ins"})])
    assert chart_cache.stored(other, [Chart("heatmap", "Check-ins", drawing, (1,), {"title": "Check-ins"})]) == {}
    chart_cache.drawn(other, [Chart("heatmap", "Check-ins", drawing, (1,), {"title": "Check-ins"})])
    assert drawing.calls == 2


def test_a_new_check_in_redraws_only_the_charts_it_changes(member):
    checkins.record(member, mood=4, anxiety=5, sleep_hours=7)
    questionnaires.submit(member, "gad7", {item: 1 for item in range(1, 8)})
    today = timezone.localdate()
    everything = [
        *history.checkin_charts_for(member, period="month", today=today),
        history.heatmap_for(member, today=today),
        *history.questionnaire_charts_for(member),
    ]
    chart_cache.drawn(member, everything)
    before = dict(ChartDrawing.objects.filter(member=member).values_list("slot", "digest"))
    assert set(before) == {"mood-anxiety-month", "sleep-hours-month", "heatmap", "gad7"}

    checkins.record(member, mood=6, recorded_at=timezone.now() - timedelta(minutes=1))
    wanted = [
        *history.checkin_charts_for(member, period="month", today=today),
        history.heatmap_for(member, today=today),
        *history.questionnaire_charts_for(member),
    ]
    still_good = chart_cache.stored(member, wanted)
    # Sleep's line and the questionnaire are unchanged; mood's line and the day's count are not.
    assert set(still_good) == {"sleep-hours-month", "gad7"}
    redrawn = chart_cache.drawn(member, wanted)
    assert "average 5," in redrawn[0]  # mood: 4 and 6 on the same day
    assert ChartDrawing.objects.filter(member=member).count() == 4


def test_supporters_see_the_members_drawing_and_the_drawings_go_with_the_member(client_for, member, organisation):
    checkins.record(member, mood=4)
    clinician = make_staff(organisation, Role.CLINICIAN)
    support(clinician, member, organisation, Role.CLINICIAN)
    client_for(member).get(reverse("monitoring:history_chart", args=["mood-anxiety-month"]))
    drawn_at = ChartDrawing.objects.get(member=member, slot="mood-anxiety-month").drawn_at
    staff_view = client_for(clinician).get(reverse("web:member_charts", args=[member.pk])).content.decode()
    assert "Mood and Anxiety, last 30 days" in staff_view
    assert ChartDrawing.objects.get(member=member, slot="mood-anxiety-month").drawn_at == drawn_at  # not redrawn
    member.delete()
    assert not ChartDrawing.objects.exists()
