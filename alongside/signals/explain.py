"""Firings in words, for the care team, the member and `signals replay`; and their evidence as a chart."""

from __future__ import annotations

import math
from datetime import date, timedelta

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alongside.monitoring import charts
from alongside.signals.detectors import DAILY_WINDOW

SERIES_NAMES = {
    "distress": gettext_lazy("Distress (low mood, anxiety, low energy, poor sleep)"),
    "cravings": gettext_lazy("Cravings or urges"),
    "sleep_hours": gettext_lazy("Hours of sleep"),
}
# Short names for chart titles and legends, which must fit a phone's width.
SERIES_SHORT_NAMES = {
    "distress": gettext_lazy("Distress"),
    "cravings": gettext_lazy("Cravings"),
    "sleep_hours": gettext_lazy("Hours of sleep"),
}
INSTRUMENT_NAMES = {"phq9": "PHQ-9", "gad7": "GAD-7", "who5": "WHO-5"}
DETECTOR_NAMES = {
    "safety": gettext_lazy("Safety"),
    "questionnaire": gettext_lazy("Questionnaire"),
    "baseline": gettext_lazy("Change from their usual"),
    "warning_signs": gettext_lazy("Their own warning signs"),
    "disengagement": gettext_lazy("Disengagement"),
    "critical_slowing_down": gettext_lazy("Rising variability (experimental)"),
}
SAFETY_RULES = {
    "phq9_item9": gettext_lazy(
        "Answered PHQ-9 question 9 (thoughts of being better off dead or of self-harm) above “Not at all”."
    ),
    "struggling": gettext_lazy("Pressed “I'm struggling”."),
    "struggling_team_asked": gettext_lazy("Pressed “I'm struggling” and asked their team to reach out."),
    "crisis_language": gettext_lazy("Wrote words of crisis in a journal entry (the entry itself is not shared)."),
}


def _missed_text(e: dict) -> str:
    """Missed appointments and group meetings, naming how many of each (older evidence lists only "missed")."""
    meetings = len(e.get("missed_group_meetings", []))
    appointments = len(e.get("missed_appointments", e.get("missed", []))) if meetings else len(e.get("missed", []))
    days = e.get("window_days")
    if not meetings:
        return _("Missed %(n)s appointments in %(days)s days.") % {"n": appointments, "days": days}
    if not appointments:
        return _("Missed %(n)s group meetings in %(days)s days.") % {"n": meetings, "days": days}
    return _("Missed %(appointments)s appointments and %(meetings)s group meetings in %(days)s days.") % {
        "appointments": appointments,
        "meetings": meetings,
        "days": days,
    }


def describe(firing) -> str:
    """One sentence saying what fired and why, in numbers."""
    e = firing.evidence
    detector, rule = firing.detector, firing.rule
    if detector == "safety":
        return str(SAFETY_RULES.get(rule, rule))
    if detector == "questionnaire":
        name = INSTRUMENT_NAMES.get(e.get("instrument"), e.get("instrument"))
        parts = []
        if "caseness" in e.get("rules", []):
            parts.append(
                _("%(name)s score %(score)s is at the program's threshold or beyond, after %(previous)s last time.")
                % {"name": name, "score": e["score"], "previous": e.get("previous")}
            )
        if "deterioration" in e.get("rules", []):
            parts.append(
                _(
                    "%(name)s score %(score)s is a reliable deterioration (%(change)s points or more) from their "
                    "usual %(baseline)s."
                )
                % {
                    "name": name,
                    "score": e["score"],
                    "change": e.get("reliable_change"),
                    "baseline": _num(e.get("baseline")),
                }
            )
        daily = e.get("daily")
        if daily:
            values = {"ewma": _num(daily.get("ewma")), "days": daily.get("days"), "window": DAILY_WINDOW}
            if daily.get("agrees"):
                parts.append(
                    _(
                        "Their daily check-ins agree: on %(days)s of the last %(window)s days, distress averaged "
                        "(EWMA) %(ewma)s σ above their usual."
                    )
                    % values
                )
            else:
                parts.append(
                    _(
                        "Their daily check-ins on %(days)s of the last %(window)s days showed them near their usual "
                        "(distress EWMA %(ewma)s σ), so this raised no alert."
                    )
                    % values
                )
        return " ".join(parts)
    if detector == "baseline":
        method, _series = rule.split(":", 1)
        base = e.get("baseline", {})
        values = {
            "series": SERIES_NAMES.get(e.get("series"), e.get("series")),
            "median": _num(base.get("median")),
            "sigma": _num(base.get("sigma")),
            "days": base.get("days"),
            "stat": _num(e.get("statistic")),
            "limit": _num(e.get("limit")),
        }
        if method == "ewma":
            return (
                _(
                    "%(series)s has stayed away from their usual level (median %(median)s, spread %(sigma)s, from "
                    "%(days)s days) for several days: the smoothed deviation %(stat)s passed its limit %(limit)s."
                )
                % values
            )
        return (
            _(
                "%(series)s has drifted from their usual level (median %(median)s, spread %(sigma)s, from %(days)s "
                "days): the accumulated deviation %(stat)s passed %(limit)s."
            )
            % values
        )
    if detector == "warning_signs":
        return _("Reported their own warning signs on %(days)s of the last 7 days.") % {
            "days": int(e.get("statistic", 0))
        }
    if detector == "disengagement":
        if rule == "missed_appointments":
            return _missed_text(e)
        return _(
            "Checked in on %(recent)s%% of the last 14 days, against %(usual)s%% before; last check-in %(since)s "
            "days ago."
        ) % {
            "recent": round(100 * float(e.get("statistic", 0))),
            "usual": round(100 * float(e.get("reference_rate", 0))),
            "since": e.get("days_since_checkin"),
        }
    if detector == "critical_slowing_down":
        return _(
            "Day-to-day ups and downs of low mood have grown more persistent and more variable (Kendall's tau "
            "%(tau)s). Experimental: never the only reason to act."
        ) % {"tau": _num(e.get("statistic"))}
    return rule


def _num(value) -> str:
    if value is None:
        return "–"
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:.1f}"


Y_RANGES = {"distress": (0, 10), "cravings": (0, 10), "sleep_hours": (0, 12)}


def chart(firing) -> str | None:
    """The data points the rule saw, with the member's usual range, as inline SVG (None if it has none)."""
    points = firing.evidence.get("points")
    if not points:
        return None
    days = [date.fromisoformat(day) for day, _value in points]
    values = [value for _day, value in points]
    e = firing.evidence
    if firing.detector == "baseline":
        name = str(SERIES_SHORT_NAMES.get(e["series"], e["series"]))
        base = e.get("baseline", {})
        usual = None
        if base.get("median") is not None and base.get("sigma") is not None:
            usual = (base["median"] - 2 * base["sigma"], base["median"] + 2 * base["sigma"])
        return charts.line_chart(
            days,
            {name: values},
            title=name,
            y_label=_("daily mean"),
            y_range=Y_RANGES.get(e["series"], (0, 10)),
            typical={name: usual},
        )
    if firing.detector == "critical_slowing_down":
        return _indicator_charts(firing, days)
    label = {
        "warning_signs": _("Warning signs reported"),
        "disengagement": _("Check-ins per day"),
        "critical_slowing_down": _("Low mood (10 − mood)"),
    }.get(firing.detector, firing.detector)
    top = max([v for v in values if v is not None] + [1])
    y_range = (0, 10) if firing.detector == "critical_slowing_down" else (0, max(3, int(top) + 1))
    return charts.line_chart(days, {label: values}, title=label, y_label=label, y_range=y_range)


def _indicator_charts(firing, days) -> str:
    """Critical slowing down as a trend: each day's lag-1 autocorrelation and variance of low mood over its
    rolling window, for the days the trend (Kendall's tau) was measured over."""
    e = firing.evidence
    ar1, variance = e.get("ar1") or [], e.get("variance") or []
    end = days[-1]
    trend_days = [end - timedelta(days=len(ar1) - 1 - index) for index in range(len(ar1))]
    top = max([v for v in variance if v is not None] + [1.0])
    parts = [
        charts.line_chart(trend_days, {_("Autocorrelation"): ar1}, title=_("Autocorrelation of low mood"),
                          y_label=_("lag-1"), y_range=(-1, 1)),
        charts.line_chart(trend_days, {_("Variance"): variance}, title=_("Variance of low mood"),
                          y_label=_("variance"), y_range=(0, math.ceil(top))),
    ]  # fmt: skip
    return "".join(parts)


MEMBER_SERIES = {
    "distress": gettext_lazy("your mood, anxiety, energy or sleep"),
    "cravings": gettext_lazy("your cravings or urges"),
    "sleep_hours": gettext_lazy("your hours of sleep"),
}


def describe_for_member(firing) -> str:
    """The same firing told to the member it is about: what it noticed, in plain words, without statistics."""
    e = firing.evidence
    if firing.detector == "safety":
        return {
            "phq9_item9": _("You answered the PHQ-9's question about thoughts of being better off dead or of hurting "
                            "yourself."),
            "struggling": _("You pressed “I'm struggling”."),
            "struggling_team_asked": _("You pressed “I'm struggling” and asked your team to reach out."),
            "crisis_language": _("Something you wrote in your journal sounded like a crisis. Your words were not "
                                 "shared."),
        }.get(firing.rule, _("A safety event."))  # fmt: skip
    if firing.detector == "questionnaire":
        name = INSTRUMENT_NAMES.get(e.get("instrument"), e.get("instrument"))
        if e.get("instrument") == "who5":
            return _("Your %(name)s score (%(score)s) was well below your usual.") % {"name": name, "score": e["score"]}
        return _("Your %(name)s score (%(score)s) was well above your usual.") % {"name": name, "score": e["score"]}
    if firing.detector == "baseline":
        what = MEMBER_SERIES.get(e.get("series"), e.get("series"))
        return _("Your check-ins showed %(what)s moving away from your usual for several days.") % {"what": what}
    if firing.detector == "warning_signs":
        return _("You noted your own warning signs on %(days)s of the last 7 days.") % {
            "days": int(e.get("statistic", 0))
        }
    if firing.detector == "disengagement":
        if firing.rule == "missed_appointments":
            if e.get("missed_group_meetings"):
                return _("%(n)s appointments or group meetings were missed within %(days)s days.") % {
                    "n": len(e.get("missed", [])), "days": e.get("window_days"),
                }  # fmt: skip
            return _("%(n)s appointments were missed within %(days)s days.") % {
                "n": len(e.get("missed", [])), "days": e.get("window_days"),
            }  # fmt: skip
        return _("You had checked in less often than usual.")
    if firing.detector == "critical_slowing_down":
        return _("Your mood has been going up and down more than usual (an experimental measure).")
    return describe(firing)
