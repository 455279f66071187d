"""What the engine would have done, day by day, for one member (`alongside signals replay`): for audits ("why
did this alert fire, or not?") and for imported history. Uses the same detectors over the stored data; changes
nothing."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from alongside.care.models import SafetyEvent
from alongside.monitoring.models import QuestionnaireResponse
from alongside.signals import batch, detectors, engine, explain
from alongside.signals.detectors import KEYS, SERIES
from alongside.signals.models import Firing


def _value(x) -> float | None:
    return None if x is None or np.isnan(x) else round(float(x), 2)


def replay(member, *, since: date | None = None, until: date | None = None) -> list[dict]:
    """One entry per day from `since` through `until` (default: all history through the member's yesterday):
    the day's series values, the baseline, each rule's statistic and limit, what fired and why, and (under
    "held_back") a worse questionnaire that raised nothing because the daily check-ins showed the member at their
    usual."""
    until = until or engine.local_today(member) - timedelta(days=1)
    data = engine.member_history(member, until=until)
    days: list[dict] = []
    views = None  # what the daily check-ins said before each day, for questionnaires
    if data is not None:
        csd = np.array([engine.csd_enabled(member)])
        state = detectors.State(1)
        views, keep_views = batch.DailyViews.recording(data, state)

        def on_day(offset: int, result: detectors.DayResult) -> None:
            keep_views(offset, result)
            day = date.fromordinal(result.day)
            if since and day < since:
                return
            values = detectors.series_of(data.values[0, offset])
            entry = {
                "day": day.isoformat(),
                "checkins": int(data.checkins[0, offset]),
                "series": {name: _value(values[i]) for i, name in enumerate(SERIES)},
                "baseline": {
                    name: None
                    if np.isnan(state.base_median[0, i])
                    else {"median": _value(state.base_median[0, i]), "sigma": _value(state.base_sigma[0, i])}
                    for i, name in enumerate(SERIES)
                },
                "rules": {
                    KEYS[k]: {"statistic": _value(result.statistic[0, k]), "limit": _value(result.limit[0, k])}
                    for k in range(len(KEYS))
                    if not np.isnan(result.statistic[0, k])
                },
                "fired": [],
            }
            for key in np.flatnonzero(result.fired[0]):
                detector = engine.DETECTOR_OF_KEY[int(key)]
                firing = Firing(
                    detector=detector,
                    rule=KEYS[int(key)],
                    day=day,
                    evidence=engine.evidence_for(state, 0, int(key), result),
                )
                entry["fired"].append(
                    {
                        "rule": KEYS[int(key)],
                        "detector": detector,
                        "severity": engine.severity_for(int(key), result.fired[0], float(result.statistic[0, key])),
                        "why": explain.describe(firing),
                    }
                )
            days.append(entry)

        batch.run(data, csd=csd, state=state, on_day=on_day)

    def daily_view(day: date) -> detectors.DailyView:
        if views is None:
            return detectors.DailyView(ewma=None, days=0)
        return views.view(0, day.toordinal() - data.first_day)

    events = _events(member, since, until, daily_view)
    by_day = {entry["day"]: entry for entry in days}
    for day, kind, item in events:
        entry = by_day.get(day)
        if entry is None:
            entry = by_day[day] = {"day": day, "checkins": 0, "series": {}, "baseline": {}, "rules": {}, "fired": []}
            days.append(entry)
        entry.setdefault(kind, []).append(item)
    return sorted(days, key=lambda entry: entry["day"])


def _events(member, since, until, daily_view) -> list[tuple[str, dict]]:
    """Questionnaire rules (with `daily_view(day)`, what the daily check-ins said before a day) and safety
    events, evaluated as the live path does."""
    found = []
    responses = QuestionnaireResponse.objects.filter(member=member, complete=True).order_by("completed_at")
    earlier: dict[str, list] = {}
    for response in responses:
        history = earlier.setdefault(response.instrument, [])
        if response.total is not None:
            inside = (not since or response.local_date >= since) and (not until or response.local_date <= until)
            finding = detectors.questionnaire(
                response.instrument,
                response.total,
                response.is_case,
                history[::-1][: detectors.QUESTIONNAIRE_BASELINE],
                daily_view(response.local_date),
            )
            if (finding.fired or finding.held_back) and inside:
                evidence = engine.questionnaire_evidence(response.instrument, finding)
                firing = Firing(detector="questionnaire", rule=response.instrument, evidence=evidence)
                entry = {"rule": f"{response.instrument}:{'+'.join(finding.rules)}", "detector": "questionnaire",
                         "severity": finding.severity, "why": explain.describe(firing)}  # fmt: skip
                found.append((response.local_date.isoformat(), "fired" if finding.fired else "held_back", entry))
            history.append((response.total, response.is_case))
    for event in SafetyEvent.objects.filter(member=member).order_by("occurred_at"):
        day = event.occurred_at.astimezone(engine._zone(member)).date()
        if (since and day < since) or (until and day > until):
            continue
        rule, _category, severity = engine.safety_rule(event)
        firing = Firing(detector="safety", rule=rule, evidence={})
        found.append((day.isoformat(), "fired", {"rule": rule, "detector": "safety", "severity": str(severity),
                                        "why": explain.describe(firing)}))  # fmt: skip
    return found


def render_text(member, days: list[dict]) -> str:
    lines = [f"Replay for member {member.pk} ({member.display_name}), {len(days)} days"]
    for entry in days:
        values = ", ".join(f"{name} {value}" for name, value in entry["series"].items() if value is not None)
        lines.append(f"{entry['day']}  check-ins {entry['checkins']}" + (f"  {values}" if values else ""))
        for fired in entry["fired"]:
            lines.append(f"    FIRED {fired['rule']} ({fired['severity']}): {fired['why']}")
        for held in entry.get("held_back", []):
            lines.append(f"    HELD BACK {held['rule']}: {held['why']}")
    return "\n".join(lines)
