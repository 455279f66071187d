"""The charts a member (and, by consent, their team) sees of the member's own data.

Each `*_for` function reads what its charts need (one query) and returns `chart_cache.Chart`s, which say how to
draw them without drawing yet; `chart_cache` draws each only when its data has changed.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from alongside.care.models import Category
from alongside.monitoring import charts, instruments
from alongside.monitoring.chart_cache import Chart
from alongside.monitoring.models import CheckIn, QuestionnaireResponse

PERIODS = {"week": 7, "month": 30}
CHART_FIELDS = (("mood", "anxiety"), ("sleep_hours",))
BASELINE_DAYS = 90  # the member's usual range is read from their last three months
HEATMAP_WEEKS = 26
# The kinds of data a member's charts show, in the order the charts are shown.
CHART_CATEGORIES = (Category.CHECKINS, Category.ENGAGEMENT, Category.QUESTIONNAIRES)


def period_asked(query) -> str:
    """The period a page's query string asks for: "week", or else "month"."""
    return "week" if query.get("period") == "week" else "month"


def charts_for(member, *, period: str, categories=CHART_CATEGORIES) -> list[tuple[str, Chart]]:
    """The member's charts of the data in `categories` (a supporter: what the member shares with them), each with
    the category it shows, in the order they are shown, up to the member's own today."""
    today = timezone.localdate(timezone=ZoneInfo(member.time_zone))
    wanted: list[tuple[str, Chart]] = []
    if Category.CHECKINS in categories:
        wanted += [(Category.CHECKINS, chart) for chart in checkin_charts_for(member, period=period, today=today)]
    if Category.ENGAGEMENT in categories:
        wanted.append((Category.ENGAGEMENT, heatmap_for(member, today=today)))
    if Category.QUESTIONNAIRES in categories:
        wanted += [(Category.QUESTIONNAIRES, chart) for chart in questionnaire_charts_for(member)]
    return wanted


def checkin_charts_for(member, *, period: str, today: date) -> list[Chart]:
    period = period if period in PERIODS else "month"
    days_shown = PERIODS[period]
    days = [today - timedelta(days=offset) for offset in range(days_shown - 1, -1, -1)]
    recent = list(
        CheckIn.objects.filter(member=member, local_date__gte=today - timedelta(days=BASELINE_DAYS)).only(
            "local_date", *{field for fields in CHART_FIELDS for field in fields}
        )
    )
    shown = [checkin for checkin in recent if checkin.local_date >= days[0]]
    wanted = []
    for fields in CHART_FIELDS:
        is_sleep = fields == ("sleep_hours",)
        title = charts.label_for(fields[0]) if len(fields) == 1 else " and ".join(charts.label_for(f) for f in fields)
        title = f"{title}, last {days_shown} days"
        wanted.append(
            Chart(
                slot=f"{'-'.join(fields).replace('_', '-')}-{period}",
                title=title,
                draw_function=charts.line_chart,
                args=(days, charts.series_for(shown, fields, days)),
                kwargs={
                    "title": title,
                    "y_label": "hours" if is_sleep else "0 to 10",
                    "y_range": (0, 12) if is_sleep else (0, 10),
                    "typical": charts.typical_ranges(recent, fields),
                    "period": period,
                },
            )
        )
    return wanted


def questionnaire_charts_for(member) -> list[Chart]:
    responses = list(
        QuestionnaireResponse.objects.filter(member=member)
        .order_by("completed_at")
        .only("instrument", "local_date", "total", "corrects_id")
    )
    wanted = []
    for code, instrument in instruments.load_builtin().items():
        points = charts.questionnaire_points(responses, code)
        if points:
            title = f"{instrument.name} over time"
            wanted.append(
                Chart(
                    slot=code,
                    title=title,
                    draw_function=charts.questionnaire_chart,
                    args=(code, points),
                    kwargs={"title": title},
                )
            )
    return wanted


def heatmap_for(member, *, today: date, weeks: int = HEATMAP_WEEKS) -> Chart:
    since = today - timedelta(weeks=weeks)
    counts = charts.counts_per_day(CheckIn.objects.filter(member=member, local_date__gt=since).only("local_date"))
    title = f"Check-ins, last {weeks} weeks"
    return Chart(
        slot="heatmap",
        title=title,
        draw_function=charts.calendar_heatmap,
        args=(dict(sorted(counts.items())),),
        kwargs={"end": today, "weeks": weeks, "title": title},
    )
