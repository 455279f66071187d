"""How well the early-warning engine does on synthetic members whose truth is known: pure numpy, no database.

For a cohort from `monitoring.synthetic` the engine runs as it does in production, on the same code:

- the daily detectors (`batch.run` over `batch.daily` arrays of the check-ins; the synthetic members report no
  warning signs, and the experimental critical-slowing-down detector is off, as it is by default);
- the questionnaire rule (`detectors.questionnaire`) on each complete PHQ-9, GAD-7 and WHO-5, against the
  member's earlier results of that instrument, with each instrument's caseness threshold;
- a safety firing (urgent) for every PHQ-9 with item 9 answered above "Not at all".

Firings become alerts as episodes: a member's firing within `EPISODE_GAP` (14) days of their previous firing
joins that firing's alert; a longer quiet starts a new alert. In the product an alert stays open until the team
resolves it; here, with no team, an alert counts as resolved once its episode has been quiet for 14 days, the
same length as the baseline detectors' cooldown.

The comparator is usual practice: an alert at each completed PHQ-9 (at the scheduled fortnightly assessments)
with a total at or above its caseness threshold (10), grouped into episodes the same way.

Per trajectory: sensitivity (an alert opened in the window around onset: [onset − 42, onset + 14] days, for
disengagement [onset − 14, onset + 28]), the median lead time of the members caught (onset − the day of the
first alert in the window; positive is before onset), and alerts per member-year. Stable and improving members
have no event, so every alert they get is a false alert. Staff load is alerts per staff member per week for a
caseload of `CASELOAD` members, whatever their trajectories (the cohort's mix).

Two references help read those figures. Chance: every day of the onset range taken in turn as a pretend onset of
each stable member shows how much of a side's sensitivity and lead time its false alerts alone would give. And
the engine's two parts on their own (the check-in detectors; the questionnaire and safety rules) show where its
alerts, true and false, come from.

`evaluate` generates a cohort in blocks (any size fits in memory) and returns a `Report`; `render_text` and
`render_markdown` lay reports out side by side. `bench/early_warning.py` runs the two cohorts of `COHORTS`.
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from alongside.monitoring import instruments, synthetic
from alongside.signals import batch, detectors

EPISODE_GAP = 14  # days of quiet after which a member's next firing opens a new alert
CASELOAD = 25  # members per staff member, for the staff load
DAYS_PER_YEAR = 365.0
DAYS_PER_WEEK = 7.0
# Where an alert counts as catching the event, in days relative to onset (inclusive). A gradual relapse builds
# up over the four to six weeks before its onset, so an alert up to six weeks before onset may be early
# warning; disengagement is a falling away that shows only once check-ins have thinned, so its window is later.
WINDOW = (-42, 14)
WINDOWS = {"gradual_relapse": WINDOW, "sudden_crisis": WINDOW, "disengagement": (-14, 28)}
EVENTS = ("gradual_relapse", "sudden_crisis", "disengagement")
NO_EVENT = ("stable", "improving")
ROWS = (*EVENTS, *NO_EVENT)
START = date(2025, 1, 6)  # a Monday

# Severity ranks (as signals.models.SEVERITY_RANK).
WATCH, HIGH, URGENT = 0, 1, 2
SEVERITIES = ("watch", "high", "urgent")
# Where a firing comes from, for the breakdown of alerts: the baseline detectors (EWMA or CUSUM) by series, the
# other daily detectors, the questionnaire rule by instrument, and safety. SOURCE_OF_KEY gives the source of each
# daily detector key.
SOURCES = (
    *detectors.SERIES,
    "warning_signs",
    "disengagement",
    "critical_slowing_down",
    *synthetic.INSTRUMENTS,
    "safety",
)
FIRST_INSTRUMENT = SOURCES.index(synthetic.INSTRUMENTS[0])
SAFETY = SOURCES.index("safety")
SOURCE_OF_KEY = np.array([SOURCES.index(key.split(":")[-1]) for key in detectors.KEYS], dtype=np.int8)
# The rules firings are named by, as the engine names them: an alert whose firings come from two different rules
# is at least high (`alerts._severity_of`).
QUESTIONNAIRE_RULES = ("caseness", "deterioration", "caseness+deterioration")
RULES = (
    *detectors.KEYS,
    *(f"{code}:{rule}" for code in synthetic.INSTRUMENTS for rule in QUESTIONNAIRE_RULES),
    "phq9_item9",
)

# The two cohorts the evaluation reports. The primary one is the generator's own defaults. The second is drawn
# with another seed, sparser (members check in on 25-70% of days instead of 45-95%, and complete fewer
# questionnaires, which the generator ties to adherence) and noisier (1.5 times the day-to-day noise in the
# answers and in the latent state), so the results do not rest on one set of generator parameters. Neither is
# chosen to suit the detectors.
COHORTS: dict[str, dict] = {
    "primary": {"seed": 1, "adherence": synthetic.ADHERENCE, "noise": 1.0},
    "noisy_sparse": {"seed": 2, "adherence": (0.25, 0.7), "noise": 1.5},
}
COHORT_NOTES = {
    "primary": "the generator's defaults",
    "noisy_sparse": "sparser (fewer check-ins and questionnaires) and noisier (1.5 × answer noise and state shocks)",
}

# The goals the evaluation is held to.
GOAL_SENSITIVITY = 0.90  # of gradual relapses caught
GOAL_LEAD_GAIN = 7.0  # days of median lead over usual practice, gradual relapses
GOAL_FALSE_ALERTS = 1.0  # per stable member-year


# Firings and alerts ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Firings:
    """One element per firing: the member (row), the day (offset from the cohort's start), its severity rank,
    where it comes from (index into SOURCES) and its rule (index into RULES; by default its source's index)."""

    member: np.ndarray
    day: np.ndarray
    severity: np.ndarray
    source: np.ndarray
    rule: np.ndarray

    def __len__(self) -> int:
        return len(self.member)

    @classmethod
    def of(cls, member, day, severity=None, source=None, rule=None) -> Firings:
        member = np.asarray(member, dtype=np.int64).reshape(-1)
        n = len(member)
        source = np.zeros(n, dtype=np.int8) if source is None else np.asarray(source, dtype=np.int8)
        return cls(
            member=member,
            day=np.asarray(day, dtype=np.int64).reshape(-1),
            severity=np.zeros(n, dtype=np.int8) if severity is None else np.asarray(severity, dtype=np.int8),
            source=source,
            rule=source.astype(np.int16) if rule is None else np.asarray(rule, dtype=np.int16),
        )

    @classmethod
    def join(cls, parts: Sequence[Firings]) -> Firings:
        return cls(*(np.concatenate([getattr(part, name) for part in parts]) for name in cls.__dataclass_fields__))


@dataclass(frozen=True, eq=False)
class Alerts:
    """One element per alert (episode), ordered by member and day: the day it opened (its first firing), its
    last firing's day, how many firings it holds, its severity rank and the source of its first firing."""

    member: np.ndarray
    day: np.ndarray
    last_day: np.ndarray
    firings: np.ndarray
    severity: np.ndarray
    opened_by: np.ndarray

    def __len__(self) -> int:
        return len(self.member)


def episodes(firings: Firings, gap: int = EPISODE_GAP) -> Alerts:
    """Group each member's firings into alerts: a firing at most `gap` days after the member's previous firing
    joins its alert. An alert's severity is its highest firing's; agreeing evidence, firings of two different
    rules (two detectors, or EWMA and CUSUM of the baseline detector), makes it at least high (as
    `alerts._severity_of`)."""
    if len(firings) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Alerts(empty, empty, empty, empty, empty.astype(np.int8), empty.astype(np.int8))
    order = np.lexsort((firings.source, firings.day, firings.member))
    member, day = firings.member[order], firings.day[order]
    severity, source, rule = firings.severity[order], firings.source[order], firings.rule[order]
    new = np.ones(len(member), dtype=bool)
    new[1:] = (member[1:] != member[:-1]) | (day[1:] - day[:-1] > gap)
    starts = np.flatnonzero(new)
    episode = np.cumsum(new) - 1
    top = np.maximum.reduceat(severity, starts)
    pairs = np.unique(np.column_stack([episode, rule]), axis=0)
    distinct = np.bincount(pairs[:, 0], minlength=len(starts))
    top = np.where((distinct >= 2) & (top < HIGH), HIGH, top).astype(np.int8)
    return Alerts(
        member=member[starts],
        day=day[starts],
        last_day=np.maximum.reduceat(day, starts),
        firings=np.diff(np.append(starts, len(member))),
        severity=top,
        opened_by=source[starts],
    )


# Running the engine on a cohort ---------------------------------------------------------------------------------


def daily_of(cohort: synthetic.Cohort) -> batch.Daily:
    """The cohort's check-ins as daily arrays, scales in detectors.SCALES order (not asked → NaN)."""
    c = cohort.checkins
    columns = []
    for name in detectors.SCALES:
        values = getattr(c, name).astype(float)
        columns.append(np.where(values < 0, np.nan, values))  # -1 is "not asked"; sleep hours use NaN already
    return batch.daily(
        cohort.n_members,
        cohort.start_date.toordinal(),
        cohort.days,
        c.member,
        c.day,
        np.stack(columns, axis=1),
        np.zeros(len(c)),  # the synthetic members report no warning signs
    )


def day_firings(
    cohort: synthetic.Cohort, p: detectors.Parameters = detectors.DEFAULT
) -> tuple[Firings, batch.DailyViews]:
    """The daily detectors over the whole period, with each firing's severity as the engine gives it
    (`engine.severity_for`): a baseline deviation is worth watching, and high when two baseline rules fire on
    the same day; warning signs on five or more days of the week are high. Also what the daily check-ins said
    before each day, for the questionnaire rule."""
    data = daily_of(cohort)
    state = detectors.State(cohort.n_members, p)
    views, keep_views = batch.DailyViews.recording(data, state)
    _state, fired = batch.run(data, p=p, state=state, on_day=keep_views)
    baseline = fired.key < 2 * detectors.N_SERIES
    cell = fired.row * data.days + (fired.day - data.first_day)
    agreeing = np.bincount(cell[baseline], minlength=cohort.n_members * data.days)[cell]
    severity = np.where(baseline & (agreeing >= 2), HIGH, WATCH)
    severity = np.where((fired.key == detectors.K_SIGNS) & (fired.statistic >= 5), HIGH, severity)
    return Firings.of(fired.row, fired.day - data.first_day, severity, SOURCE_OF_KEY[fired.key], fired.key), views


def _is_case(instrument: instruments.Instrument, total: np.ndarray) -> np.ndarray:
    threshold = instrument.caseness_threshold
    return total >= threshold if instrument.caseness_direction == "at_or_above" else total <= threshold


def questionnaire_firings(responses: synthetic.Responses, daily: batch.DailyViews | None = None) -> Firings:
    """The questionnaire rule on each response, in order, against the member's earlier results of the same
    instrument and what the daily check-ins said before it (`daily`; without it, as for a member who does not
    check in), as `engine.on_response` does: high when caseness is crossed and the change is reliable, else
    watch; and an urgent safety firing for each response that meets one of its instrument's safety rules
    (PHQ-9 item 9 above "Not at all")."""
    members, days, severities, sources, rules = [], [], [], [], []
    order = np.lexsort((responses.day, responses.member, responses.instrument))
    for code_index, code in enumerate(synthetic.INSTRUMENTS):
        instrument = instruments.get(code)
        rows = order[responses.instrument[order] == code_index]
        member = responses.member[rows].astype(np.int64)
        day = responses.day[rows].astype(np.int64)
        total = responses.total[rows].astype(np.int64)
        case = _is_case(instrument, total)
        earlier: list[tuple[int, bool]] = []
        for position, (who, score, is_case) in enumerate(
            zip(member.tolist(), total.tolist(), case.tolist(), strict=True)
        ):
            if position == 0 or who != member[position - 1]:
                earlier = []
            view = daily.view(who, int(day[position])) if daily is not None else None
            finding = detectors.questionnaire(code, score, is_case, earlier[: detectors.QUESTIONNAIRE_BASELINE], view)
            if finding.fired:
                rule = "+".join(finding.rules)
                members.append(who)
                days.append(int(day[position]))
                severities.append(SEVERITIES.index(finding.severity))
                sources.append(FIRST_INSTRUMENT + code_index)
                rules.append(RULES.index(f"{code}:{rule}"))
            earlier.insert(0, (score, is_case))
        answers = responses.answers[rows]
        unsafe = np.zeros(len(rows), dtype=bool)
        for item, min_score in instrument.safety_items:
            unsafe |= answers[:, item - 1] >= min_score
        members.extend(member[unsafe].tolist())
        days.extend(day[unsafe].tolist())
        severities.extend([URGENT] * int(unsafe.sum()))
        sources.extend([SAFETY] * int(unsafe.sum()))
        rules.extend([RULES.index("phq9_item9")] * int(unsafe.sum()))
    return Firings.of(members, days, severities, sources, rules)


def usual_practice_firings(responses: synthetic.Responses) -> Firings:
    """Usual practice: every completed PHQ-9 at or above its caseness threshold (10) is an alert."""
    phq9 = instruments.get("phq9")
    chosen = (responses.instrument == synthetic.INSTRUMENTS.index("phq9")) & _is_case(phq9, responses.total)
    return Firings.of(responses.member[chosen], responses.day[chosen])


# Scoring against the truth ---------------------------------------------------------------------------------------


# The sides compared: the engine, usual practice, and the engine's two parts on their own (its daily check-in
# detectors; its questionnaire and safety rules), which show where the engine's alerts come from.
SIDES = ("engine", "usual", "checkins", "questionnaires")
SIDE_LABELS = {
    "engine": "engine",
    "usual": "PHQ-9 ≥ 10",
    "checkins": "check-in detectors alone",
    "questionnaires": "questionnaire and safety rules alone",
}


@dataclass(frozen=True, eq=False)
class Side:
    """What one side did, per member: its alerts, the lead time of its catch (NaN where the event was not
    caught, or there is none), and for stable members its chance catches by lead time (see `chance_leads`)."""

    alerts: np.ndarray
    lead: np.ndarray
    chance: np.ndarray  # (members, len(CHANCE_LEADS))


@dataclass(frozen=True, eq=False)
class Outcomes:
    """Per member: the truth and what each side did."""

    trajectory: np.ndarray  # index into synthetic.TRAJECTORIES
    onset: np.ndarray  # day, -1 without an event
    days: int
    sides: dict[str, Side]
    # Engine alerts by the source of their first firing and by severity: (members, len(SOURCES)), (members, 3).
    opened_by: np.ndarray
    severity: np.ndarray
    # How many pretend onsets each member has (stable members: every day of the onset range; others none).
    chance_onsets: np.ndarray

    @property
    def n_members(self) -> int:
        return len(self.trajectory)

    @classmethod
    def join(cls, parts: Sequence[Outcomes]) -> Outcomes:
        if len({part.days for part in parts}) != 1 or len({tuple(part.sides) for part in parts}) != 1:
            raise ValueError("only outcomes of the same period and sides can be joined")

        def joined(name, items):
            return np.concatenate([getattr(item, name) for item in items])

        sides = {
            side: Side(*(joined(name, [part.sides[side] for part in parts]) for name in Side.__dataclass_fields__))
            for side in parts[0].sides
        }
        return cls(
            trajectory=joined("trajectory", parts),
            onset=joined("onset", parts),
            days=parts[0].days,
            sides=sides,
            opened_by=joined("opened_by", parts),
            severity=joined("severity", parts),
            chance_onsets=joined("chance_onsets", parts),
        )


def lead_times(trajectory: np.ndarray, onset: np.ndarray, alerts: Alerts) -> np.ndarray:
    """Per member, onset − the day of the first alert opened in the member's window around onset; NaN where
    none was (or the trajectory has no event)."""
    n = len(trajectory)
    low = np.full(n, np.inf)
    high = np.full(n, -np.inf)
    for name, (before, after) in WINDOWS.items():
        chosen = (trajectory == synthetic.TRAJECTORIES.index(name)) & (onset >= 0)
        low[chosen] = onset[chosen] + before
        high[chosen] = onset[chosen] + after
    day = alerts.day.astype(float)
    inside = (day >= low[alerts.member]) & (day <= high[alerts.member])
    first = np.full(n, np.inf)
    np.minimum.at(first, alerts.member[inside], day[inside])
    return np.where(np.isfinite(first), onset - first, np.nan)


def onset_range(days: int) -> tuple[int, int]:
    """The days onsets are drawn from (as the generator draws them): low inclusive, high exclusive."""
    low = int(synthetic.ONSET_RANGE[0] * days)
    return low, max(low + 1, int(synthetic.ONSET_RANGE[1] * days))


CHANCE_LEADS = np.arange(-WINDOW[1], -WINDOW[0] + 1)  # the lead times an alert in the window can have


def chance_leads(chosen: np.ndarray, days: int, alerts: Alerts) -> np.ndarray:
    """For the chosen members (stable ones, who have no event), every day of the onset range taken in turn as a
    pretend onset of a gradual relapse: per member, how many pretend onsets had an alert in the window
    [onset − 42, onset + 14], by the lead time of the first (columns: CHANCE_LEADS). This is what sensitivity
    and lead time chance alone gives at a side's rate of alerts."""
    before, after = WINDOW
    counts = np.zeros((len(chosen), len(CHANCE_LEADS)), dtype=np.int64)
    low, high = onset_range(days)
    rows = np.flatnonzero(chosen)
    if not len(rows) or not len(alerts):
        return counts
    # Alerts are ordered by member and day; each (member, day) becomes one sortable key.
    stride = days + after - before + 1
    key = alerts.member * stride + alerts.day
    member = np.repeat(rows, high - low)
    onset = np.tile(np.arange(low, high), len(rows))
    first = np.searchsorted(key, member * stride + onset + before)
    found = np.minimum(first, len(key) - 1)
    hit = (first < len(key)) & (alerts.member[found] == member) & (alerts.day[found] <= onset + after)
    lead = onset[hit] - alerts.day[found[hit]]
    np.add.at(counts, (member[hit], lead + after), 1)
    return counts


def score(
    trajectory: np.ndarray, onset: np.ndarray, days: int, engine: Alerts, usual: Alerts, **others: Alerts
) -> Outcomes:
    """Per-member outcomes from each side's alerts (member rows 0 … len(trajectory) − 1): the engine's, usual
    practice's and any others given by name."""
    trajectory = np.asarray(trajectory, dtype=np.int64)
    onset = np.asarray(onset, dtype=np.int64)
    n = len(trajectory)
    stable = trajectory == synthetic.STABLE

    def side(alerts: Alerts) -> Side:
        return Side(
            alerts=np.bincount(alerts.member, minlength=n),
            lead=lead_times(trajectory, onset, alerts),
            chance=chance_leads(stable, days, alerts),
        )

    opened_by = np.zeros((n, len(SOURCES)), dtype=np.int64)
    np.add.at(opened_by, (engine.member, engine.opened_by.astype(np.int64)), 1)
    severity = np.zeros((n, len(SEVERITIES)), dtype=np.int64)
    np.add.at(severity, (engine.member, engine.severity.astype(np.int64)), 1)
    low, high = onset_range(days)
    return Outcomes(
        trajectory=trajectory,
        onset=onset,
        days=days,
        sides={"engine": side(engine), "usual": side(usual), **{name: side(alerts) for name, alerts in others.items()}},
        opened_by=opened_by,
        severity=severity,
        chance_onsets=np.where(stable, high - low, 0),
    )


def evaluate_cohort(cohort: synthetic.Cohort, p: detectors.Parameters = detectors.DEFAULT) -> Outcomes:
    """Run the engine, its parts on their own and the usual-practice rule over one cohort (or block), and score
    them all."""
    checkins, daily = day_firings(cohort, p)
    questionnaires = questionnaire_firings(cohort.responses, daily)
    return score(
        cohort.trajectory,
        cohort.onset,
        cohort.days,
        episodes(Firings.join([checkins, questionnaires])),
        episodes(usual_practice_firings(cohort.responses)),
        checkins=episodes(checkins),
        questionnaires=episodes(questionnaires),
    )


# Summaries -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """One side's results for one group of members."""

    members: int
    member_years: float
    alerts: int
    caught: int | None  # None for a group without an event
    lead_median: float | None
    events: int | None = None  # what `caught` is out of: the members, unless said otherwise

    @property
    def sensitivity(self) -> float | None:
        events = self.members if self.events is None else self.events
        if self.caught is None or events == 0:
            return None
        return self.caught / events

    @property
    def alerts_per_member_year(self) -> float | None:
        return self.alerts / self.member_years if self.member_years else None


def measure(outcomes: Outcomes, chosen: np.ndarray, side: str, *, event: bool) -> Measure:
    alerts = outcomes.sides[side].alerts[chosen]
    lead = outcomes.sides[side].lead[chosen]
    caught = np.isfinite(lead)
    members = int(chosen.sum())
    return Measure(
        members=members,
        member_years=members * outcomes.days / DAYS_PER_YEAR,
        alerts=int(alerts.sum()),
        caught=int(caught.sum()) if event else None,
        lead_median=float(np.median(lead[caught])) if event and caught.any() else None,
    )


def histogram_median(values: np.ndarray, counts: np.ndarray) -> float | None:
    """The median of a sample given as how many times each of the ascending `values` occurs."""
    total = int(counts.sum())
    if total == 0:
        return None
    cumulative = np.cumsum(counts)
    lower = values[np.searchsorted(cumulative, (total - 1) // 2 + 1)]
    upper = values[np.searchsorted(cumulative, total // 2 + 1)]
    return float(lower + upper) / 2


def chance_measure(outcomes: Outcomes, side: str) -> Measure:
    """Caught and lead time of the pretend onsets of stable members (see `chance_leads`)."""
    counts = outcomes.sides[side].chance.sum(axis=0)
    stable = outcomes.trajectory == synthetic.STABLE
    return Measure(
        members=int(stable.sum()),
        member_years=0.0,
        alerts=0,
        caught=int(counts.sum()),
        lead_median=histogram_median(CHANCE_LEADS, counts),
        events=int(outcomes.chance_onsets.sum()),
    )


@dataclass(frozen=True)
class Row:
    group: str  # a trajectory, "chance" or "all"
    members: int
    sides: dict[str, Measure]

    @property
    def engine(self) -> Measure:
        return self.sides["engine"]

    @property
    def usual(self) -> Measure:
        return self.sides["usual"]


@dataclass(frozen=True)
class Goal:
    name: str
    target: str
    result: str
    met: bool


@dataclass(frozen=True)
class Report:
    name: str
    note: str
    n_members: int
    days: int
    seed: int
    chunk_size: int
    caseload: int
    generator: dict
    rows: dict[str, Row]
    # Engine alerts by the detector that opened them and by severity, for all members and for stable ones.
    opened_by: dict[str, dict[str, int]]
    severity: dict[str, dict[str, int]]
    seconds: float = 0.0
    goals: list[Goal] = field(default_factory=list)

    def staff_load(self, side: str) -> float:
        """Alerts per staff member per week with `caseload` members each."""
        everyone = self.rows["all"].sides[side]
        return everyone.alerts / everyone.member_years * self.caseload * DAYS_PER_WEEK / DAYS_PER_YEAR


def summarise(
    outcomes: Outcomes,
    *,
    name: str = "",
    note: str = "",
    seed: int = 0,
    chunk_size: int = 0,
    caseload: int = CASELOAD,
    generator: Mapping | None = None,
    seconds: float = 0.0,
) -> Report:
    rows = {}
    for group in ROWS:
        chosen = outcomes.trajectory == synthetic.TRAJECTORIES.index(group)
        event = group in EVENTS
        measures = {side: measure(outcomes, chosen, side, event=event) for side in outcomes.sides}
        rows[group] = Row(group, int(chosen.sum()), measures)
        if group == EVENTS[-1]:
            measures = {side: chance_measure(outcomes, side) for side in outcomes.sides}
            rows["chance"] = Row("chance", measures["engine"].members, measures)
    everyone = np.ones(outcomes.n_members, dtype=bool)
    measures = {side: measure(outcomes, everyone, side, event=False) for side in outcomes.sides}
    rows["all"] = Row("all", outcomes.n_members, measures)
    stable = outcomes.trajectory == synthetic.STABLE
    opened_by, severity = {}, {}
    for group, chosen in (("all", everyone), ("stable", stable)):
        opened_by[group] = dict(zip(SOURCES, outcomes.opened_by[chosen].sum(axis=0).tolist(), strict=True))
        severity[group] = dict(zip(SEVERITIES, outcomes.severity[chosen].sum(axis=0).tolist(), strict=True))
    report = Report(
        name=name,
        note=note,
        n_members=outcomes.n_members,
        days=outcomes.days,
        seed=seed,
        chunk_size=chunk_size,
        caseload=caseload,
        generator=dict(generator or {}),
        rows=rows,
        opened_by=opened_by,
        severity=severity,
        seconds=seconds,
    )
    report.goals.extend(goals(report))
    return report


def goals(report: Report) -> list[Goal]:
    relapse, stable = report.rows["gradual_relapse"], report.rows["stable"]
    found = []
    sensitivity = relapse.engine.sensitivity
    found.append(
        Goal(
            "gradual relapses caught",
            f"≥ {GOAL_SENSITIVITY:.0%}",
            _percent(sensitivity),
            sensitivity is not None and sensitivity >= GOAL_SENSITIVITY,
        )
    )
    engine_lead, usual_lead = relapse.engine.lead_median, relapse.usual.lead_median
    if engine_lead is None:
        result, met = "the engine caught none", False
    elif usual_lead is None:
        result, met = f"engine {_days(engine_lead)}; usual practice caught none", True
    else:
        gain = engine_lead - usual_lead
        result = f"{_signed(gain)} (engine {_days(engine_lead)}, usual practice {_days(usual_lead)})"
        met = gain >= GOAL_LEAD_GAIN
    found.append(Goal("median lead time over usual practice, gradual relapses", f"≥ +{GOAL_LEAD_GAIN:.0f} days",
                      result, met))  # fmt: skip
    rate = stable.engine.alerts_per_member_year
    found.append(
        Goal(
            "false alerts per stable member-year",
            f"≤ {GOAL_FALSE_ALERTS:.1f}",
            _number(rate),
            rate is not None and rate <= GOAL_FALSE_ALERTS,
        )
    )
    return found


def evaluate(
    n_members: int,
    days: int,
    seed: int,
    *,
    name: str = "",
    note: str = "",
    caseload: int = CASELOAD,
    chunk_size: int = 1000,
    start_date: date = START,
    p: detectors.Parameters = detectors.DEFAULT,
    **generator_params,
) -> Report:
    """Generate a cohort block by block (`synthetic.generate_chunks` with `generator_params`, e.g. adherence,
    noise, mix, sampling_share), run both sides on each block and summarise."""
    started = time.perf_counter()
    parts = [
        evaluate_cohort(block, p)
        for block in synthetic.generate_chunks(
            n_members, days, seed=seed, start_date=start_date, chunk_size=chunk_size, **generator_params
        )
    ]
    return summarise(
        Outcomes.join(parts),
        name=name,
        note=note,
        seed=seed,
        chunk_size=chunk_size,
        caseload=caseload,
        generator=generator_params,
        seconds=time.perf_counter() - started,
    )


def evaluate_cohorts(
    n_members: int, days: int, *, seed: int | None = None, cohorts: Mapping[str, Mapping] = COHORTS, **options
) -> Iterator[Report]:
    """Evaluate every cohort of `cohorts` (by default the primary one and the noisy, sparse one), yielding each
    report as it is done. A `seed` replaces the first cohort's seed, and the others follow it in order
    (seed + 1, …); `options` go to `evaluate`."""
    for index, (name, params) in enumerate(cohorts.items()):
        params = dict(params)
        own_seed = params.pop("seed")
        yield evaluate(
            n_members,
            days,
            own_seed if seed is None else seed + index,
            name=name,
            note=COHORT_NOTES.get(name, ""),
            **params,
            **options,
        )


# Rendering -------------------------------------------------------------------------------------------------------


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _number(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _days(value: float | None) -> str:
    return "–" if value is None else f"{value:g} days"


def _signed(value: float) -> str:
    return f"{value:+g} days"


def _lead(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def _parameters(report: Report) -> str:
    g = report.generator
    low, high = g.get("adherence", synthetic.ADHERENCE)
    parts = [
        f"{report.n_members:,} members × {report.days} days",
        f"seed {report.seed}",
        f"adherence {low:g}–{high:g}",
        f"noise × {g.get('noise', 1.0):g}",
    ]
    parts += [f"{key} {value}" for key, value in g.items() if key not in ("adherence", "noise")]
    return ", ".join(parts)


LABELS = {
    "gradual_relapse": "gradual relapse",
    "sudden_crisis": "sudden crisis",
    "disengagement": "disengagement",
    "chance": "chance (stable, pretend onsets)",
    "stable": "stable (every alert false)",
    "improving": "improving (every alert false)",
    "all": "all members",
}
USUAL = "PHQ-9 ≥ 10"


def _cells(row: Row) -> list[str]:
    e, u = row.engine, row.usual
    return [
        LABELS[row.group],
        f"{row.members:,}",
        _percent(e.sensitivity),
        _percent(u.sensitivity),
        _lead(e.lead_median),
        _lead(u.lead_median),
        _number(e.alerts_per_member_year),
        _number(u.alerts_per_member_year),
    ]


TRAJECTORY_HEADER = [
    "trajectory",
    "members",
    "caught: engine",
    f"caught: {USUAL}",
    "median lead, days: engine",
    f"median lead, days: {USUAL}",
    "alerts per member-year: engine",
    f"alerts per member-year: {USUAL}",
]
SIDES_HEADER = [
    "",
    "gradual relapses caught",
    "median lead, days",
    "caught by chance",
    "median lead by chance",
    "false alerts per stable member-year",
    "alerts per staff member per week",
]
CHANCE_NOTE = (
    "chance: every day of the onset range taken in turn as a pretend gradual-relapse onset of each stable member; "
    "what each side's windows catch from its false alerts alone"
)


def _side_cells(report: Report) -> list[list[str]]:
    """One line per side: how it does on gradual relapses, by chance, on stable members and for the staff."""
    lines = []
    for side in report.rows["all"].sides:
        relapse, chance = report.rows["gradual_relapse"].sides[side], report.rows["chance"].sides[side]
        lines.append(
            [
                SIDE_LABELS.get(side, side),
                _percent(relapse.sensitivity),
                _lead(relapse.lead_median),
                _percent(chance.sensitivity),
                _lead(chance.lead_median),
                _number(report.rows["stable"].sides[side].alerts_per_member_year),
                _number(report.staff_load(side)),
            ]
        )
    return lines


def _source_label(source: str) -> str:
    return f"baseline:{source}" if source in detectors.SERIES else source


def _breakdown(report: Report) -> list[str]:
    """Engine alerts per member-year by the source of their first firing and by severity."""
    lines = []
    for group, label in (("all", "all members"), ("stable", "stable members")):
        years = report.rows[group].engine.member_years or 1.0
        opened = ", ".join(
            f"{_source_label(name)} {count / years:.2f}" for name, count in report.opened_by[group].items() if count
        )
        severity = ", ".join(f"{name} {count / years:.2f}" for name, count in report.severity[group].items() if count)
        lines.append(
            f"engine alerts per member-year on {label}, by the source of their first firing: {opened or 'none'}; "
            f"by severity: {severity or 'none'}"
        )
    return lines


def _aligned(table: list[list[str]]) -> list[str]:
    widths = [max(len(line[column]) for line in table) for column in range(len(table[0]))]
    return [
        "  ".join(
            [line[0].ljust(widths[0]), *(cell.rjust(width) for cell, width in zip(line[1:], widths[1:], strict=True))]
        ).rstrip()
        for line in table
    ]


def _markdown_table(header: list[str], lines: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "| --- |" + " ---: |" * (len(header) - 1),
        *("| " + " | ".join(line) + " |" for line in lines),
    ]


def render_text(reports: Sequence[Report]) -> str:
    """The reports as plain text for a terminal."""
    out = []
    for report in reports:
        out.append(f"{report.name}: {_parameters(report)}" + (f" ({report.note})" if report.note else ""))
        out.extend(_aligned([TRAJECTORY_HEADER, *(_cells(row) for row in report.rows.values())]))
        out.append(CHANCE_NOTE)
        out.append("")
        out.extend(_aligned([SIDES_HEADER, *_side_cells(report)]))
        out.append(f"(caseload {report.caseload} members per staff member)")
        out.extend(_breakdown(report))
        for goal in report.goals:
            out.append(f"goal: {goal.name} {goal.target}: {goal.result} — {'met' if goal.met else 'NOT met'}")
        if report.seconds:
            out.append(f"{report.seconds:.1f} s")
        out.append("")
    return "\n".join(out)


def _paragraph(text: str) -> str:
    return textwrap.fill(text, width=110, break_long_words=False, break_on_hyphens=False)


def render_markdown(reports: Sequence[Report]) -> str:
    """The reports as Markdown: for each cohort its parameters, the side-by-side table by trajectory, the sides
    at a glance, what opened the engine's alerts, and the goals met or not."""
    out = []
    for report in reports:
        out.append(f"#### {report.name}: {report.note}" if report.note else f"#### {report.name}")
        out.append("")
        out.append(_parameters(report) + f"; chunks of {report.chunk_size:,} members; {report.seconds:.0f} s.")
        out.append("")
        out.extend(_markdown_table(TRAJECTORY_HEADER, [_cells(row) for row in report.rows.values()]))
        out.append("")
        out.append(_paragraph(CHANCE_NOTE[0].upper() + CHANCE_NOTE[1:] + "."))
        out.append("")
        out.extend(_markdown_table(SIDES_HEADER, _side_cells(report)))
        out.append("")
        out.append(f"Staff load with a caseload of {report.caseload} members per staff member.")
        out.append("")
        for line in _breakdown(report):
            out.append(_paragraph(line[0].upper() + line[1:] + "."))
            out.append("")
        out.extend(["| goal | target | result | met |", "| --- | --- | --- | --- |"])
        for goal in report.goals:
            out.append(f"| {goal.name} | {goal.target} | {goal.result} | {'yes' if goal.met else '**no**'} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
