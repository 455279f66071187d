"""The charts a member (and, by consent, their team) sees of the member's own data."""

from __future__ import annotations

from datetime import date, timedelta

from alongside.monitoring import charts, instruments
from alongside.monitoring.models import CheckIn, QuestionnaireResponse

PERIODS = {"week": 7, "month": 30}
CHART_FIELDS = (("mood", "anxiety"), ("sleep_hours",))
BASELINE_DAYS = 90  # the member's usual range is read from their last three months


def checkin_charts(member, *, period: str, today: date) -> list[str]:
    days_shown = PERIODS.get(period, 30)
    days = [today - timedelta(days=offset) for offset in range(days_shown - 1, -1, -1)]
    recent = list(CheckIn.objects.filter(member=member, local_date__gte=today - timedelta(days=BASELINE_DAYS)))
    shown = [checkin for checkin in recent if checkin.local_date >= days[0]]
    rendered = []
    for fields in CHART_FIELDS:
        is_sleep = fields == ("sleep_hours",)
        title = charts.label_for(fields[0]) if len(fields) == 1 else " and ".join(charts.label_for(f) for f in fields)
        rendered.append(
            charts.line_chart(
                days,
                charts.series_for(shown, fields, days),
                title=f"{title}, last {days_shown} days",
                y_label="hours" if is_sleep else "0 to 10",
                y_range=(0, 12) if is_sleep else (0, 10),
                typical=charts.typical_ranges(recent, fields),
                period=period if period in PERIODS else "month",
            )
        )
    return rendered


def questionnaire_charts(member) -> list[str]:
    responses = list(QuestionnaireResponse.objects.filter(member=member).order_by("completed_at"))
    rendered = []
    for code, instrument in instruments.load_builtin().items():
        points = charts.questionnaire_points(responses, code)
        if points:
            rendered.append(charts.questionnaire_chart(code, points, title=f"{instrument.name} over time"))
    return rendered


def heatmap(member, *, today: date, weeks: int = 26) -> str:
    since = today - timedelta(weeks=weeks)
    counts = charts.counts_per_day(CheckIn.objects.filter(member=member, local_date__gt=since).only("local_date"))
    return charts.calendar_heatmap(counts, end=today, weeks=weeks, title=f"Check-ins, last {weeks} weeks")
