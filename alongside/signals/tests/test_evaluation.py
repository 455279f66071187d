"""The evaluation of early warning on synthetic cohorts: episodes, the metrics' arithmetic on cases built by hand,
and the engine against the usual-practice rule on a small cohort of relapses."""

from dataclasses import fields
from datetime import date

import numpy as np
import pytest

from alongside.monitoring import synthetic
from alongside.signals import evaluation
from alongside.signals.evaluation import HIGH, URGENT, WATCH, Firings

RELAPSE = synthetic.TRAJECTORIES.index("gradual_relapse")
CRISIS = synthetic.TRAJECTORIES.index("sudden_crisis")
DISENGAGEMENT = synthetic.TRAJECTORIES.index("disengagement")
STABLE = synthetic.TRAJECTORIES.index("stable")
IMPROVING = synthetic.TRAJECTORIES.index("improving")
DISTRESS = evaluation.SOURCES.index("distress")
CRAVINGS = evaluation.SOURCES.index("cravings")
PHQ9 = evaluation.SOURCES.index("phq9")
WHO5 = evaluation.SOURCES.index("who5")


def alerts_of(member, day):
    return evaluation.episodes(Firings.of(member, day))


def test_firings_within_fourteen_days_of_the_previous_one_join_its_alert():
    firings = Firings.of(
        member=[0, 0, 0, 0, 1, 0],
        day=[10, 20, 34, 49, 5, 50],
        severity=[WATCH, WATCH, URGENT, WATCH, WATCH, WATCH],
        source=[DISTRESS, DISTRESS, evaluation.SAFETY, DISTRESS, DISTRESS, DISTRESS],
    )
    alerts = evaluation.episodes(firings)
    # Member 0: 10, 20 (10 days later) and 34 (14 later) are one episode; 49 is 15 days after 34, a new one.
    assert alerts.member.tolist() == [0, 0, 1]
    assert alerts.day.tolist() == [10, 49, 5]
    assert alerts.last_day.tolist() == [34, 50, 5]
    assert alerts.firings.tolist() == [3, 2, 1]
    assert alerts.severity.tolist() == [URGENT, WATCH, WATCH]
    assert alerts.opened_by.tolist() == [DISTRESS, DISTRESS, DISTRESS]
    assert len(evaluation.episodes(Firings.of([], []))) == 0


def test_two_rules_in_one_episode_make_it_high_but_one_rule_firing_again_does_not():
    ewma, cusum = evaluation.RULES.index("ewma:distress"), evaluation.RULES.index("cusum:distress")
    two_detectors = evaluation.episodes(Firings.of([0, 0], [3, 5], [WATCH, WATCH], [DISTRESS, PHQ9]))
    ewma_and_cusum = evaluation.episodes(Firings.of([0, 0], [3, 5], [WATCH, WATCH], [DISTRESS] * 2, [ewma, cusum]))
    ewma_twice = evaluation.episodes(Firings.of([0, 0], [3, 17], [WATCH, WATCH], [DISTRESS] * 2, [ewma, ewma]))
    assert two_detectors.severity.tolist() == [HIGH]
    assert ewma_and_cusum.severity.tolist() == [HIGH]
    assert ewma_twice.severity.tolist() == [WATCH]


def test_sensitivity_lead_time_and_alert_rates_by_hand():
    days = 730  # two years, so each member is two member-years
    trajectory = [RELAPSE, RELAPSE, CRISIS, CRISIS, DISENGAGEMENT, DISENGAGEMENT, STABLE, STABLE]
    onset = [300, 300, 300, 300, 300, 300, -1, -1]
    engine = alerts_of(
        member=[0, 0, 1, 2, 3, 4, 5, 6, 6, 6],
        # 0: 250 is before its window (258-314), 270 inside: lead 30. 1: 315 is one day late.
        # 2: 314 is the window's last day: lead -14. 3: 257 one day early. 4: disengagement's window is
        # 286-328: 328 is inside, lead -28. 5: 285 one day early. 6: three alerts on a stable member.
        day=[250, 270, 315, 314, 257, 328, 285, 10, 100, 400],
    )
    usual = alerts_of(member=[0, 2], day=[310, 290])
    outcomes = evaluation.score(np.array(trajectory), np.array(onset), days, engine, usual)
    np.testing.assert_array_equal(outcomes.sides["engine"].lead, [30, np.nan, -14, np.nan, -28, np.nan, np.nan, np.nan])
    np.testing.assert_array_equal(
        outcomes.sides["usual"].lead, [-10, np.nan, 10, np.nan, np.nan, np.nan, np.nan, np.nan]
    )
    assert outcomes.sides["engine"].alerts.tolist() == [2, 1, 1, 1, 1, 1, 3, 0]

    report = evaluation.summarise(outcomes, caseload=10)
    relapse, crisis, stable = report.rows["gradual_relapse"], report.rows["sudden_crisis"], report.rows["stable"]
    assert relapse.engine.sensitivity == 0.5 and relapse.engine.lead_median == 30
    assert relapse.usual.sensitivity == 0.5 and relapse.usual.lead_median == -10
    assert crisis.engine.sensitivity == 0.5 and crisis.engine.lead_median == -14
    assert report.rows["disengagement"].engine.sensitivity == 0.5
    assert report.rows["improving"].members == 0 and report.rows["improving"].engine.alerts_per_member_year is None
    # Three alerts over two stable members followed for two years each.
    assert stable.engine.member_years == pytest.approx(4.0)
    assert stable.engine.alerts_per_member_year == pytest.approx(0.75)
    assert stable.engine.sensitivity is None
    # 10 engine alerts over 8 members × 2 years; with 10 members per staff member, per week.
    assert report.rows["all"].engine.alerts == 10
    assert report.staff_load("engine") == pytest.approx(10 / 16 * 10 * 7 / 365)
    assert report.staff_load("usual") == pytest.approx(2 / 16 * 10 * 7 / 365)

    goals = {goal.name: goal for goal in report.goals}
    assert not goals["gradual relapses caught"].met  # 50%
    assert goals["median lead time over usual practice, gradual relapses"].met  # 30 against -10
    assert goals["false alerts per stable member-year"].met  # 0.75


def test_chance_takes_every_day_of_the_onset_range_as_a_pretend_onset():
    days = 365
    low, high = evaluation.onset_range(days)
    assert (low, high) == (127, 310)
    # One alert on day 200 is inside the window [t − 42, t + 14] of pretend onsets t = 186 … 242: leads -14 … 42.
    outcomes = evaluation.score(
        np.array([STABLE, STABLE, RELAPSE]), np.array([-1, -1, 200]), days, alerts_of([0], [200]), alerts_of([], [])
    )
    np.testing.assert_array_equal(outcomes.sides["engine"].chance[0], np.ones(len(evaluation.CHANCE_LEADS)))
    assert outcomes.sides["engine"].chance[1:].sum() == 0 and outcomes.sides["usual"].chance.sum() == 0
    assert outcomes.chance_onsets.tolist() == [high - low, high - low, 0]
    chance = evaluation.summarise(outcomes).rows["chance"]
    assert chance.engine.caught == 57 and chance.engine.events == 2 * (high - low)
    assert chance.engine.lead_median == 14  # the middle of -14 … 42
    assert chance.usual.sensitivity == 0 and chance.usual.lead_median is None


def test_histogram_median_matches_numpy():
    values = np.arange(-3, 4)
    for counts in ([0, 1, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 1], [2, 0, 1, 0, 3, 0, 0], [0, 0, 0, 5, 1, 1, 1]):
        sample = np.repeat(values, counts)
        assert evaluation.histogram_median(values, np.array(counts)) == np.median(sample)
    assert evaluation.histogram_median(values, np.zeros(7, dtype=int)) is None


def responses(rows):
    """Responses from (member, day, instrument code, answers) rows, in that order."""
    answers = np.full((len(rows), 9), -1, dtype=np.int8)
    totals = []
    for index, (_member, _day, code, items) in enumerate(rows):
        answers[index, : len(items)] = items
        totals.append(sum(items) * (4 if code == "who5" else 1))
    k = len(rows)
    return synthetic.Responses(
        member=np.array([row[0] for row in rows], dtype=np.int32),
        day=np.array([row[1] for row in rows], dtype=np.int16),
        minute=np.zeros(k, dtype=np.int16),
        recorded_at=np.zeros(k, dtype="datetime64[s]"),
        instrument=np.array([synthetic.INSTRUMENTS.index(row[2]) for row in rows], dtype=np.int8),
        answers=answers,
        total=np.array(totals, dtype=np.int16),
    )


def test_questionnaire_rule_safety_and_usual_practice_on_responses_by_hand():
    r = responses(
        [
            (0, 0, "phq9", [1, 1, 1, 1, 0, 0, 0, 0, 0]),  # 4
            (0, 14, "phq9", [1, 1, 1, 1, 1, 0, 0, 0, 0]),  # 5
            # 12: caseness crossed (5 was not a case) and reliable deterioration (12 − median(5, 4) ≥ 6): high.
            (0, 28, "phq9", [2, 2, 2, 2, 2, 1, 1, 0, 0]),
            # 12 with item 9: a safety firing; still a case (not crossed), but 7 above median(12, 5, 4): watch.
            (0, 42, "phq9", [2, 2, 2, 2, 2, 1, 0, 0, 1]),
            (0, 0, "who5", [4, 4, 4, 4, 4]),  # 80
            (0, 28, "who5", [3, 3, 3, 4, 3]),  # 64: 16 points worse but not a case (above 50): nothing
            (1, 0, "gad7", [3, 3, 3, 3, 0, 0, 0]),  # 12: a first result never fires
            (1, 14, "phq9", [3, 3, 3, 1, 0, 0, 0, 0, 0]),  # 10: a first result, but usual practice alerts
        ]
    )
    fired = evaluation.questionnaire_firings(r)
    found = sorted(
        zip(fired.member.tolist(), fired.day.tolist(), fired.severity.tolist(), fired.source.tolist(), strict=True)
    )
    assert found == [
        (0, 28, HIGH, PHQ9),
        (0, 42, WATCH, PHQ9),
        (0, 42, URGENT, evaluation.SAFETY),
    ]
    rules = sorted(evaluation.RULES[rule] for rule in fired.rule)
    assert rules == ["phq9:caseness+deterioration", "phq9:deterioration", "phq9_item9"]
    usual = evaluation.usual_practice_firings(r)
    assert sorted(zip(usual.member.tolist(), usual.day.tolist(), strict=True)) == [(0, 28), (0, 42), (1, 14)]


def test_the_questionnaire_rule_asks_the_daily_check_ins_of_the_days_before():
    worse = [
        (member, day, "phq9", answers)
        for member in (0, 1, 2)
        for day, answers in ((0, [0] * 9), (14, [0] * 9), (28, [2, 2, 2, 2, 2, 1, 1, 0, 0]))  # 0, 0, then 12
    ]
    days = 30
    ewma = np.full((3, days), np.nan)
    ewma[0, :] = 0.1  # member 0: a baseline, and the daily check-ins at the usual
    ewma[1, :27] = 0.1
    ewma[1, 27] = 0.8  # member 1: the day before the questionnaire, distress 0.8 σ above the usual
    ewma[2, :] = 0.1  # member 2: at the usual, but only three check-in days in the fortnight before
    checked_in = np.zeros((3, days), dtype=bool)
    checked_in[:2, :] = True
    checked_in[2, [5, 15, 20, 25]] = True  # 15, 20 and 25 fall in days 14…27
    counts = np.zeros((3, days + 1), dtype=np.int64)
    np.cumsum(checked_in, axis=1, out=counts[:, 1:])
    views = evaluation.batch.DailyViews(ewma=ewma, checkin_days=counts)
    assert views.view(2, 28) == evaluation.detectors.DailyView(ewma=0.1, days=3)
    fired = evaluation.questionnaire_firings(responses(worse), views)
    assert sorted(zip(fired.member.tolist(), fired.day.tolist(), strict=True)) == [(1, 28), (2, 28)]
    # Without the daily view every one of them fires.
    assert len(evaluation.questionnaire_firings(responses(worse))) == 3


def test_daily_arrays_take_not_asked_as_missing():
    cohort = synthetic.generate(5, 20, seed=3, start_date=evaluation.START, sampling_share=1.0)
    data = evaluation.daily_of(cohort)
    c = cohort.checkins
    assert data.values.shape == (5, 20, len(evaluation.detectors.SCALES))
    assert data.checkins.sum() == len(c) and data.signs.sum() == 0
    # Sleep is asked once a day: the day's sleep quality is that answer, never a mean with the -1s.
    first = np.flatnonzero(c.sleep_quality >= 0)
    quality = evaluation.detectors.SCALES.index("sleep_quality")
    np.testing.assert_array_equal(data.values[c.member[first], c.day[first], quality], c.sleep_quality[first])


def test_the_noisy_sparse_cohort_is_sparser_and_noisier_and_defaults_change_nothing():
    start = date(2025, 2, 3)
    plain = synthetic.generate(150, 60, seed=8, start_date=start)
    explicit = synthetic.generate(150, 60, seed=8, start_date=start, adherence=synthetic.ADHERENCE, noise=1.0)
    np.testing.assert_array_equal(plain.negative_affect, explicit.negative_affect)
    for mine, same in ((plain.checkins, explicit.checkins), (plain.responses, explicit.responses)):
        for field in fields(mine):
            np.testing.assert_array_equal(getattr(mine, field.name), getattr(same, field.name), err_msg=field.name)
    params = {key: value for key, value in evaluation.COHORTS["noisy_sparse"].items() if key != "seed"}
    sparse = synthetic.generate(150, 60, seed=8, start_date=start, **params)
    assert len(sparse.checkins) < 0.8 * len(plain.checkins)
    assert sparse.adherence.min() >= 0.25 and sparse.adherence.max() <= 0.7

    def spread(cohort):
        state = cohort.negative_affect
        return float(np.std(np.diff(state, axis=1)))

    assert spread(sparse) > 1.2 * spread(plain)


def test_relapses_are_mostly_caught_and_earlier_than_by_usual_practice():
    """The relapse ramps up 2.5-4 points of negative affect over the 4-6 weeks before onset: several of the
    member's own baseline σ on the distress series, well inside the 57-day window. A bound of 80% leaves room
    for members who check in too rarely for a baseline; the PHQ-9 rule sees the state only fortnightly, as a
    two-week mean, so it can only notice the relapse once the mean has risen past caseness."""
    cohort = synthetic.generate(200, 240, seed=21, start_date=evaluation.START, mix={"gradual_relapse": 1})
    report = evaluation.summarise(evaluation.evaluate_cohort(cohort))
    relapse = report.rows["gradual_relapse"]
    assert relapse.members == 200
    assert relapse.engine.sensitivity >= 0.8
    assert relapse.usual.lead_median is not None
    assert relapse.engine.lead_median > relapse.usual.lead_median
