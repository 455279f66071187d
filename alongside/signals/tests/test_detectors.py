"""The pure early-warning detectors (`detectors`, `batch`): no database, only numpy.

Most series here are built so the right answer follows from the method by hand: a member who answers the same
every day has a baseline of exactly that value with σ at its floor, so each later day's standardised deviation
is known, and with it every EWMA and CUSUM value. The statistical tests (stable noise, critical slowing down)
use seeded generators and bounds that follow from the method's own numbers, given next to each bound.
"""

from __future__ import annotations

import dataclasses
from datetime import date

import numpy as np
import pytest

from alongside.signals import batch, detectors
from alongside.signals.detectors import KEYS, N_SCALES, NEVER, SCALES, State

DAY0 = date(2025, 1, 6).toordinal()
DISTRESS, CRAVINGS, HOURS = 0, 1, 2  # series indexes
MOOD, ANXIETY, ENERGY = SCALES.index("mood"), SCALES.index("anxiety"), SCALES.index("energy")
QUALITY, SLEEP_HOURS, CRAVING = SCALES.index("sleep_quality"), SCALES.index("sleep_hours"), SCALES.index("cravings")
BASELINE = KEYS[: 2 * detectors.N_SERIES]  # EWMA and CUSUM of each series
# The reference window the baseline reads, relative to the day being closed: the oldest day the 56-day ring
# still holds, through 14 days back (42 days).
# The parameters the hand-worked expectations below assume (the method, not the product's tuning: changing a
# default must not silently change what these tests check).
P = detectors.Parameters(cusum_h=8.0, thinning_ratio=0.3, silence_min_days=7)
REFERENCE_FIRST, REFERENCE_LAST = -(P.ring_days - 1), -P.reference_lag
# σ = MAD x 1.4826, but at least 0.5 for distress, 1.25 for cravings and 0.75 for hours of sleep.
MAD_TO_SIGMA = 1.4826
SIGMA_FLOOR = np.array([0.5, 1.25, 0.75])
# A steady member answers these every day: distress 2 (σ at its floor 0.5), cravings 3, 7 hours of sleep.
STEADY = (2.0, 3.0, 7.0)
BAD = 10.0  # distress at its worst: (10 - 2) / 0.5 = 16 σ, clipped to 3.5: CUSUM +3.0 a day, EWMA 0.2 x 3.5 = 0.7


def scales(distress=STEADY[0], cravings=STEADY[1], hours=STEADY[2]) -> np.ndarray:
    """One day's scale means whose distress, cravings and hours of sleep are the given values (the four
    distress scales all read `distress`)."""
    values = np.empty(N_SCALES)
    values[[MOOD, ENERGY, QUALITY]] = 10.0 - distress
    values[ANXIETY] = distress
    values[SLEEP_HOURS] = hours
    values[CRAVING] = cravings
    return values


def steady(days: int, n: int = 1) -> np.ndarray:
    """(n, days, N_SCALES) of the steady member's answers."""
    return np.tile(scales(), (n, days, 1))


def daily(values, checkins=None, signs=None) -> batch.Daily:
    """Daily arrays from day values (NaN rows are days without a check-in, unless `checkins` says otherwise)."""
    values = np.asarray(values, dtype=float)
    if checkins is None:
        checkins = (~np.isnan(values)).any(axis=2).astype(float)
    if signs is None:
        signs = np.zeros(checkins.shape)
    return batch.Daily(first_day=DAY0, values=values, checkins=np.asarray(checkins, float), signs=np.asarray(signs))


def fired_days(firings: batch.Firings, key: str, row: int = 0) -> list[int]:
    """The day offsets on which `key` fired for `row`."""
    chosen = (firings.row == row) & (firings.key == KEYS.index(key))
    return sorted(int(day - DAY0) for day in firings.day[chosen])


def keys_fired(firings: batch.Firings, row: int = 0) -> set[str]:
    return {KEYS[int(key)] for key in firings.key[firings.row == row]}


# The watched series and the daily aggregation ----------------------------------------------------------------


def test_distress_is_the_mean_of_the_answered_parts_and_the_other_series_pass_through():
    values = np.full((2, 2, N_SCALES), np.nan)
    values[0, 0] = [2, 6, 4, 8, 7.5, 3]  # parts 10-2, 6, 10-4, 10-8: mean of 8, 6, 6, 2
    values[0, 1, [MOOD, QUALITY]] = [2, 9]  # only two parts answered: mean of 8 and 1
    values[1, 0, [ANXIETY, SLEEP_HOURS]] = [7, 5]  # one part
    values[1, 1, CRAVING] = 4  # no distress part at all
    series = detectors.series_of(values)
    assert series.shape == (2, 2, 3)
    np.testing.assert_array_equal(series[0, 0], [5.5, 3, 7.5])
    np.testing.assert_array_equal(series[0, 1], [4.5, np.nan, np.nan])
    np.testing.assert_array_equal(series[1, 0], [7, np.nan, 5])
    np.testing.assert_array_equal(series[1, 1], [np.nan, 4, np.nan])


def test_several_check_ins_a_day_become_the_days_mean():
    nan = np.nan
    checkins = [  # (member row, day offset, mood, anxiety, energy, quality, hours, cravings, warning signs)
        (0, 1, 2, 3, nan, nan, 6, nan, 1),
        (0, 1, 8, nan, nan, nan, 8, nan, 2),
        (0, 1, 5, nan, nan, nan, nan, nan, 0),
        (1, 0, 4, 4, 4, 4, 4, 4, 0),
        (1, 2, 9, 1, 9, 9, 9, 1, 1),
    ]
    table = np.array(checkins, dtype=float)
    data = batch.daily(2, DAY0, 3, table[:, 0], table[:, 1], table[:, 2:8], table[:, 8])
    assert data.days == 3 and data.first_day == DAY0
    np.testing.assert_array_equal(data.checkins, [[0, 3, 0], [1, 0, 1]])
    np.testing.assert_array_equal(data.signs, [[0, 3, 0], [0, 0, 1]])
    # Mood 2, 8 and 5 -> 5; anxiety answered once -> 3; hours 6 and 8 -> 7; the rest never answered -> NaN.
    np.testing.assert_array_equal(data.values[0, 1], [5, 3, nan, nan, 7, nan])
    np.testing.assert_array_equal(data.values[1, 0], [4] * 6)
    np.testing.assert_array_equal(data.values[1, 2], [9, 1, 9, 9, 9, 1])
    assert np.isnan(data.values[0, [0, 2]]).all() and np.isnan(data.values[1, 1]).all()
    # The watched series come along, as series_of gives them (NaN on days without a check-in).
    np.testing.assert_array_equal(data.series, detectors.series_of(data.values))


def test_the_detectors_see_one_value_a_day_however_many_check_ins_made_it():
    """A member who checks in twice a day, once high and once low around the day's value, is the same to every
    detector as one who checks in once with that value: same firings, same state (but the check-in count)."""
    days = 100
    day_values = np.tile(scales(distress=5.0), (days, 1))
    day_values[60:75] = scales(distress=7.0)  # a sustained rise, so that something fires
    spread = np.where(np.arange(N_SCALES) == MOOD, 3.0, 1.0)  # mood 2 and 8 on a day whose mean is 5
    twice = np.concatenate([day_values - spread, day_values + spread])
    assert twice[0, MOOD] == 2.0 and twice[days, MOOD] == 8.0
    offsets = np.concatenate([np.arange(days), np.arange(days)])
    data = batch.daily(1, DAY0, days, np.zeros(2 * days), offsets, twice, np.zeros(2 * days))
    np.testing.assert_array_equal(data.checkins, np.full((1, days), 2.0))
    np.testing.assert_array_equal(data.values[0], day_values)
    state_twice, firings_twice = batch.run(p=P, data=data)
    state_once, firings_once = batch.run(p=P, data=daily(day_values[None]))
    assert len(firings_once) > 0
    for field in ("row", "day", "key", "statistic", "limit"):
        np.testing.assert_array_equal(getattr(firings_twice, field), getattr(firings_once, field))
    # The same state but for the ring's count of check-ins.
    counts = state_twice.ring[:, :, detectors.CH_CHECKINS]
    np.testing.assert_array_equal(counts, 2 * state_once.ring[:, :, detectors.CH_CHECKINS])
    counts /= 2
    np.testing.assert_array_equal(state_twice.matrix, state_once.matrix)


def test_mood_two_and_eight_on_one_day_are_seen_as_five():
    table = np.array([[2.0] + [np.nan] * 5, [8.0] + [np.nan] * 5])
    data = batch.daily(1, DAY0, 1, [0, 0], [0, 0], table, [0, 0])
    state, _firings = batch.run(p=P, data=data)
    assert state.ring[0, DAY0 % P.ring_days, MOOD] == 5.0
    assert state.ring[0, DAY0 % P.ring_days, detectors.CH_CHECKINS] == 2.0


# Personal baseline -------------------------------------------------------------------------------------------


def pattern(days: int, step: int, period: int) -> np.ndarray:
    """A deterministic wiggle in [-1, 1] that repeats every `period` days."""
    index = np.arange(days)
    return ((step * index) % period - (period - 1) / 2) / ((period - 1) / 2)


def test_the_baseline_is_the_median_and_mad_of_the_lagged_window_refreshed_weekly():
    days = 82
    index = np.arange(days)
    # Distress drifts down (better) and sleep up (better), so nothing fires and no day is left out; cravings are
    # always 3, so their σ is the floor.
    distress = 6.0 - 0.05 * index + 1.2 * pattern(days, 3, 7)
    cravings = np.full(days, 3.0)
    hours = 5.0 + 0.04 * index + 1.5 * pattern(days, 2, 5)
    truth = np.stack([distress, cravings, hours], axis=-1)
    values = np.stack([scales(*truth[day]) for day in range(days)])[None]
    state = State(1, P)
    seen = []
    _state, firings = batch.run(
        p=P,
        data=daily(values),
        state=state,
        on_day=lambda offset, result: seen.append(
            (state.base_median[0].copy(), state.base_sigma[0].copy(), state.base_n[0].copy(), state.base_day[0])
        ),
    )
    assert len(firings) == 0

    def expected(day):
        window = truth[max(0, day + REFERENCE_FIRST) : day + REFERENCE_LAST + 1]
        median = np.median(window, axis=0)
        sigma = np.maximum(MAD_TO_SIGMA * np.median(np.abs(window - median), axis=0), SIGMA_FLOOR)
        return median, sigma, len(window)

    # Ten days in the window (days 0-9) are first there on day 23: before, "not enough data yet".
    first = P.min_observations - 1 + P.reference_lag
    assert first == 23
    for day in range(first):
        assert np.isnan(seen[day][0]).all() and np.isnan(seen[day][1]).all()
    refreshes = list(range(first, days, P.refresh_every))
    assert refreshes[-1] >= P.ring_days  # the window's start has moved past day 0 by then
    floors = above = 0
    moved_between = False
    for day in range(first, days):
        refreshed = max(r for r in refreshes if r <= day)
        median, sigma, count = expected(refreshed)
        stored_median, stored_sigma, stored_n, stored_day = seen[day]
        assert stored_day == DAY0 + refreshed
        np.testing.assert_allclose(stored_median, median, rtol=0, atol=1e-12)
        np.testing.assert_allclose(stored_sigma, sigma, rtol=0, atol=1e-12)
        np.testing.assert_array_equal(stored_n, [count] * 3)
        floors += int((sigma == SIGMA_FLOOR).sum())
        above += int((sigma > SIGMA_FLOOR).sum())
        moved_between |= day != refreshed and not np.allclose(expected(day)[0], median)
    assert seen[-1][2][0] == P.ring_days - P.reference_lag  # a full window: 42 days
    assert floors and above  # both the floor and MAD x 1.4826 were exercised
    assert moved_between  # a daily refresh would have given other baselines


def test_too_few_days_mean_no_baseline_and_nothing_baseline_based_fires():
    days = 70
    values = np.full((1, days, N_SCALES), np.nan)
    values[0, :9] = scales()  # nine ordinary days, then three weeks away
    values[0, 40:] = scales(distress=10.0)  # back, at the worst distress there is
    state = State(1, P)
    seen = []
    _state, firings = batch.run(
        p=P,
        data=daily(values),
        state=state,
        on_day=lambda offset, result: seen.append((state.base_median[0, DISTRESS], result.y[0].copy())),
    )
    # Day 40 is the tenth day with a value in the window on day 54 (40 + 14).
    for day in range(54):
        assert np.isnan(seen[day][0]) and np.isnan(seen[day][1]).all()
    assert (firings.day >= DAY0 + 54).all()
    # Nine steady days and one at 10: median 2, MAD 0, σ at the floor; the new baseline starts the charts from
    # zero, so CUSUM goes 3, 6, 9 (> 8) on days 54, 55, 56.
    assert seen[54][0] == 2.0
    assert fired_days(firings, "cusum:distress")[0] == 56


def test_days_inside_an_episode_are_left_out_of_the_baseline():
    days = 110
    values = steady(days)
    values[0, 60:90] = scales(distress=10.0)  # thirty days at the worst: y = (10 - 2) / 0.5, clipped to 3.5
    state = State(1, P)
    seen = {}

    def on_day(offset, result):
        seen[offset] = (state.base_median[0].copy(), state.base_n[0].copy())
        if offset == 100:
            flags = detectors.ring_window(state, DAY0 + offset, 60 - offset, 62 - offset)[0, :, detectors.CH_EXCLUDED]
            seen["flags 60-62"] = flags.tolist()

    _state, firings = batch.run(p=P, data=daily(values), state=state, on_day=on_day)
    # CUSUM 3, 6, 9 on days 60-62; EWMA 0.7, 1.26, 1.71, 2.07 over the limit 3.5 x 1/3 from day 61, three days
    # in a row on day 63.
    assert fired_days(firings, "cusum:distress")[0] == 62
    assert fired_days(firings, "ewma:distress")[0] == 63
    episode = set()
    for key in BASELINE:
        for day in fired_days(firings, key):
            episode |= set(range(day, day + P.cooldown["baseline"]))
    assert seen["flags 60-62"] == [0.0, 0.0, 1.0]  # the day that opened the episode is inside it
    # Refreshes on days 23, 30, ..., 100, 107. On day 100 the window is days 45-86, 27 of them at 10; on day
    # 107, days 52-93, 30 at 10. Without leaving episodes out the median would be 10; with it, 2.
    for day in (100, 107):
        window = range(day + REFERENCE_FIRST, day + REFERENCE_LAST + 1)
        kept = [d for d in window if d not in episode]
        assert len(kept) >= P.min_observations
        assert np.median([10.0 if 60 <= d < 90 else 2.0 for d in window]) == 10.0
        np.testing.assert_array_equal(seen[day][0], STEADY)
        np.testing.assert_array_equal(seen[day][1], [len(kept)] * 3)
    assert seen[100][1][0] == 17  # days 45-61: the two days before the first firing are all of the rise kept


# EWMA and CUSUM ----------------------------------------------------------------------------------------------

SHIFTS = [  # (scale, change, series, worse)
    (MOOD, -3.0, "distress", True),
    (MOOD, +3.0, "distress", False),
    (ANXIETY, +3.0, "distress", True),
    (ANXIETY, -3.0, "distress", False),
    (ENERGY, -3.0, "distress", True),
    (ENERGY, +3.0, "distress", False),
    (QUALITY, -3.0, "distress", True),
    (QUALITY, +3.0, "distress", False),
    (CRAVING, +3.0, "cravings", True),
    (CRAVING, -3.0, "cravings", False),
    (SLEEP_HOURS, -2.0, "sleep_hours", True),
    (SLEEP_HOURS, +2.0, "sleep_hours", False),
]


def test_a_sustained_shift_fires_in_the_worse_direction_only():
    """One scale moves by the same amount up or down for 20 days after 60 steady ones: EWMA and CUSUM of its
    series fire when that is worse (lower mood, energy, sleep quality or hours; more anxiety or cravings) and
    nothing fires when it is better."""
    days = 80
    values = np.tile(scales(distress=4.0, cravings=4.0, hours=7.0), (len(SHIFTS), days, 1))
    for row, (scale, change, _series, _worse) in enumerate(SHIFTS):
        values[row, 60:, scale] += change
    _state, firings = batch.run(p=P, data=daily(values))
    assert (firings.day - DAY0 >= 60).all()
    for row, (scale, change, series, worse) in enumerate(SHIFTS):
        label = f"{SCALES[scale]} {change:+}"
        if worse:
            assert keys_fired(firings, row) == {f"ewma:{series}", f"cusum:{series}"}, label
        else:
            assert keys_fired(firings, row) == set(), label


def test_a_known_shift_gives_cusum_and_ewma_values_by_hand():
    """Mood down 3 moves distress (a mean of four parts) by 0.75 = 1.5 σ: CUSUM gains 1.5 - 0.5 a day and is
    over 8 on the ninth day; the EWMA 1.5 (1 - 0.8^t) is beyond 3.5 σ_z from the seventh, fires on the ninth."""
    values = np.tile(scales(distress=4.0), (1, 90, 1))
    values[0, 60:, MOOD] -= 3.0
    state = State(1, P)
    seen = []
    _state, firings = batch.run(
        p=P, data=daily(values), state=state, on_day=lambda offset, result: seen.append(result.statistic[0].copy())
    )
    cusum = np.array([seen[day][KEYS.index("cusum:distress")] for day in range(60, 69)])
    np.testing.assert_allclose(cusum, np.arange(1, 10), rtol=1e-12)
    ewma = np.array([seen[day][KEYS.index("ewma:distress")] for day in range(60, 69)])
    np.testing.assert_allclose(ewma, 1.5 * (1 - 0.8 ** np.arange(1, 10)), rtol=1e-12)
    assert fired_days(firings, "cusum:distress")[0] == 68
    assert fired_days(firings, "ewma:distress")[0] == 68


def test_the_ewma_limit_uses_the_exact_sigma_for_the_observed_days_so_far():
    """The baseline appears on day 23, so that is the EWMA's first observation; days 25 and 26 have no check-in
    and do not count."""
    values = steady(30)
    values[0, 25:27] = np.nan
    limits = []
    batch.run(p=P, data=daily(values), on_day=lambda offset, result: limits.append(result.limit[0, 0]))

    def limit(t):
        return 3.5 * np.sqrt(0.2 / (2 - 0.2) * (1 - (1 - 0.2) ** (2 * t)))

    assert limit(1) == pytest.approx(0.7)
    np.testing.assert_allclose(limits[23:30], [limit(t) for t in (1, 2, 2, 2, 3, 4, 5)], rtol=1e-12)
    assert detectors.sigma_z(1) == pytest.approx(0.2) and detectors.sigma_z(1000) == pytest.approx(1 / 3)


def test_a_baseline_that_comes_back_starts_the_charts_from_zero():
    """Two bad days leave CUSUM at 6 and the EWMA at 1.26; seven weeks away empty the window (no baseline from
    day 100); ten days back (100-109) make a new one on day 123, where both start again from zero."""
    values = steady(130)
    values[0, 50:52] = scales(distress=BAD)
    values[0, 52:100] = np.nan
    state = State(1, P)
    seen = {}

    def on_day(offset, result):
        seen[offset] = (state.base_median[0, DISTRESS], result.statistic[0].copy(), result.limit[0].copy())

    batch.run(p=P, data=daily(values), state=state, on_day=on_day)
    ewma, cusum = KEYS.index("ewma:distress"), KEYS.index("cusum:distress")
    np.testing.assert_allclose(seen[51][1][[ewma, cusum]], [1.26, 6.0], rtol=1e-12)
    assert np.isnan(seen[99][1][cusum]) and seen[99][0] == 2.0
    assert all(np.isnan(seen[day][0]) for day in range(100, 123))
    assert seen[123][0] == 2.0
    np.testing.assert_array_equal(seen[123][1][[ewma, cusum]], [0.0, 0.0])
    assert seen[123][2][ewma] == pytest.approx(0.7)  # the first observation's limit again


def noisy_cohort(rng, n: int, days: int):
    """Members whose answers are noise around their own level: each distress part, cravings and hours of sleep
    normal around a level, with a standard deviation of the member's own, above σ's floors (so the estimate,
    not the floor, sets the scale)."""
    level = rng.uniform(2.0, 6.0, (n, 1))
    part_sd = rng.uniform(1.2, 2.0, (n, 1))
    values = np.empty((n, days, N_SCALES))
    for scale, sign in ((MOOD, -1), (ANXIETY, 1), (ENERGY, -1), (QUALITY, -1)):
        values[:, :, scale] = 5.0 + sign * (level - 5.0 + rng.normal(0.0, 1.0, (n, days)) * part_sd)
    cravings_level, cravings_sd = rng.uniform(1.0, 5.0, (n, 1)), rng.uniform(1.5, 2.5, (n, 1))
    hours_level, hours_sd = rng.uniform(6.0, 8.0, (n, 1)), rng.uniform(0.9, 1.5, (n, 1))
    values[:, :, CRAVING] = cravings_level + rng.normal(0.0, 1.0, (n, days)) * cravings_sd
    values[:, :, SLEEP_HOURS] = hours_level + rng.normal(0.0, 1.0, (n, days)) * hours_sd
    median = np.concatenate([level, cravings_level, hours_level], axis=1)
    # The mean of four independent parts has half a part's standard deviation.
    sigma = np.concatenate([part_sd / 2, cravings_sd, hours_sd], axis=1)
    return values, (median, sigma)


def false_firing_rates(data: batch.Daily, state: State) -> np.ndarray:
    """Firings per day watched (with a baseline and a value), for each baseline key."""
    watched = np.zeros(detectors.N_SERIES)

    def on_day(offset, result):
        watched[:] += (~np.isnan(result.y)).sum(axis=0)

    _state, firings = batch.run(p=P, data=data, state=state, on_day=on_day)
    assert not np.isin(firings.key, [detectors.K_SIGNS, detectors.K_DISENGAGEMENT, detectors.K_CSD]).any()
    counts = np.bincount(firings.key, minlength=len(KEYS))[: 2 * detectors.N_SERIES]
    return counts / np.tile(watched, 2)


def test_stable_noise_with_known_baseline_rarely_fires():
    """With the baseline pinned to each member's true median and σ, in-control run lengths are the textbook
    ones: CUSUM k = 0.5, h = 8 about 19,000 days (Siegmund's approximation), the one-sided EWMA λ = 0.2, L = 3.5
    about 6,000 (Markov chain), before persistence and winsorising make both rarer. A rate of 1 in 1,000
    watched days would be six times the EWMA's."""
    rng = np.random.default_rng(20250106)
    n, days = 400, 300
    values, (median, sigma) = noisy_cohort(rng, n, days)
    state = State(n, P)
    state.base_median[:] = median
    state.base_sigma[:] = sigma
    state.base_n[:] = 42
    state.base_day[:] = DAY0 + 10**6  # never due for a refresh
    rates = false_firing_rates(daily(values), state)
    assert (rates < 1 / 1000).all(), dict(zip(BASELINE, rates, strict=True))


def test_stable_noise_with_estimated_baselines_fires_less_than_once_a_member_year():
    """The baseline is estimated from 10-42 days, so it is off by a standard error now and then (the median by
    about 0.19 σ, MAD x 1.4826 by about 0.18 σ with 42 days), which shortens the run lengths above: averaged over
    the estimates' sampling distribution (Markov-chain run lengths), about 1 false firing in 750 watched days for
    CUSUM and 1 in 550 for the EWMA before persistence, with a full window (more in the first weeks). The bound
    is one a member-year per key; σ estimated as the bare MAD (0.67 σ) would give about 1 in 220."""
    rng = np.random.default_rng(20250107)
    n, days = 400, 300
    values, _truth = noisy_cohort(rng, n, days)
    rates = false_firing_rates(daily(values), State(n, P))
    assert (rates < 1 / 365).all(), dict(zip(BASELINE, rates, strict=True))


def steady_then(pattern_of_days: list[float | None], start: int = 60) -> np.ndarray:
    """Steady days, then from `start` a distress value per day (None: no check-in that day), then steady."""
    values = steady(start + len(pattern_of_days) + 20)
    for offset, distress in enumerate(pattern_of_days):
        values[0, start + offset] = np.nan if distress is None else scales(distress=distress)
    return values


@pytest.mark.parametrize(
    ("days", "cusum", "ewma"),
    [
        ([BAD], [], []),  # one day at the worst: CUSUM 3 < 8, EWMA 0.7 under the limit
        ([BAD, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0] * 10, [], []),  # once a week: CUSUM back to 0 in between
        ([BAD, BAD], [], []),  # CUSUM 6; EWMA 1.26 beyond the limit on one day only
        ([BAD, BAD, BAD], [62], [63]),  # CUSUM 9 > 8; the EWMA's third day beyond (1.37) is the next one
        ([BAD, BAD, BAD, BAD], [62], [63]),
    ],
    ids=["one day", "one day a week", "two days", "three", "four"],
)
def test_one_extreme_day_never_fires_several_in_a_row_do(days, cusum, ewma):
    _state, firings = batch.run(p=P, data=daily(steady_then(days)))
    assert fired_days(firings, "cusum:distress") == cusum
    assert fired_days(firings, "ewma:distress") == ewma
    assert keys_fired(firings) & set(BASELINE) <= {"cusum:distress", "ewma:distress"}


def test_cusum_over_h_before_its_persistence_keeps_accumulating():
    """With y clipped at 5 instead of 3.5 one day adds up to 4.5: C is over 8 on the second day of a shift, one day
    short of the persistence of three, and fires on the third; a restart there would throw the shift away every
    second day and never fire. One such day alone still fires nothing (4.5, then down by 0.5 a day)."""
    p = dataclasses.replace(P, winsor=5.0)
    _state, firings = batch.run(p=p, data=daily(steady_then([BAD] * 10)))
    assert fired_days(firings, "cusum:distress") == [62]
    _state, firings = batch.run(p=p, data=daily(steady_then([BAD])))
    assert fired_days(firings, "cusum:distress") == []


def test_missing_days_neither_reset_nor_advance_persistence():
    cases = {
        # CUSUM 3, 6, 9 over the observed days, whatever lies between them.
        "cusum across gaps": ([BAD, None, None, BAD, None, BAD], "cusum:distress", [65]),
        # Once a week at the worst and no check-in between is three observed days in a row by the third week.
        "cusum, weekly": (([BAD] + [None] * 6) * 3, "cusum:distress", [74]),
        # A missing day must not count as an observed one: CUSUM stays at 6 and its run at 2.
        "cusum does not advance": ([BAD, BAD, None, None, None, None, None], "cusum:distress", []),
        # EWMA 0.7, 1.26 (run 1), -, 1.71 (run 2), -, 2.07 (run 3): fires on the fourth observed day.
        "ewma across gaps": ([BAD, BAD, None, BAD, None, BAD], "ewma:distress", [65]),
        # Missing days did not add to the run: 1.71 is only its second day beyond, then 0.8 x 1.71 = 1.37 (third).
        "ewma does not advance": ([BAD, BAD, None, None, None, None, None, BAD, 2.0], "ewma:distress", [68]),
    }
    for label, (days, key, expected) in cases.items():
        _state, firings = batch.run(p=P, data=daily(steady_then(days)))
        assert fired_days(firings, key) == expected, label


def test_missing_days_leave_the_statistics_as_they_were():
    values = steady_then([BAD, BAD, None, None, None])
    state = State(1, P)
    seen = []

    def on_day(offset, result):
        seen.append((state.ewma[0, 0], state.ewma_run[0, 0], state.cusum[0, 0], state.cusum_run[0, 0], result.y[0, 0]))

    batch.run(p=P, data=daily(values), state=state, on_day=on_day)
    np.testing.assert_allclose(seen[61][:4], [1.26, 1, 6.0, 2], rtol=1e-12)
    for day in (62, 63, 64):
        assert seen[day][:4] == seen[61][:4]
        assert np.isnan(seen[day][4])


# Cooldown ----------------------------------------------------------------------------------------------------


def test_a_key_stays_quiet_for_its_cooldown_then_fires_again_while_the_shift_lasts():
    """Distress at the worst from day 60 on: CUSUM is over 8 every third day (it restarts after each signal, also
    one the cooldown holds back), so it fires on 62 and then on the first of those days after 14 days: 77, 92,
    107. The EWMA stays beyond its limit and fires every 14 days."""
    values = steady(111)
    values[0, 60:] = scales(distress=BAD)
    _state, firings = batch.run(p=P, data=daily(values))
    assert fired_days(firings, "cusum:distress") == [62, 77, 92, 107]
    assert fired_days(firings, "ewma:distress") == [63, 77, 91, 105]
    assert keys_fired(firings) == {"cusum:distress", "ewma:distress"}


def test_cooldown_days_follow_the_parameters():
    p = dataclasses.replace(
        P, cooldown={"baseline": 5, "warning_signs": 6, "disengagement": 7, "critical_slowing_down": 8}
    )
    np.testing.assert_array_equal(p.cooldown_days(), [5] * 6 + [6, 7, 8])
    values = steady(90)
    values[0, 60:] = scales(distress=BAD)
    _state, firings = batch.run(p=p, data=daily(values))
    # CUSUM over on 62, 65, 68, ...: the first at least 5 days after the last firing.
    assert fired_days(firings, "cusum:distress")[:4] == [62, 68, 74, 80]
    assert fired_days(firings, "ewma:distress")[:4] == [63, 68, 73, 78]


# Warning signs -----------------------------------------------------------------------------------------------

SIGN_ROWS = {  # day offsets with warning signs -> days it fires
    "three in a week": ({10: 1, 13: 1, 16: 1}, [16]),
    "three, but over eight days": ({10: 1, 13: 1, 17: 1}, []),
    "two days": ({10: 1, 12: 1}, []),
    "two days, many signs": ({10: 5, 11: 5}, []),
    "three in a row": ({10: 1, 11: 1, 12: 1}, [12]),
    "cooldown, then a day with signs": ({10: 1, 11: 1, 12: 1, 14: 1, 15: 1, 16: 1, 20: 1}, [12, 20]),
    "every day": ({day: 1 for day in range(10, 40)}, [12, 19, 26, 33]),
}


def test_warning_signs_fire_on_three_of_seven_days_on_a_day_with_signs():
    days = 45
    signs = np.zeros((len(SIGN_ROWS), days))
    for row, (reported, _expected) in enumerate(SIGN_ROWS.values()):
        for day, count in reported.items():
            signs[row, day] = count
    values = steady(days, len(SIGN_ROWS))
    state, firings = batch.run(p=P, data=daily(values, signs=signs))
    for row, (label, (_reported, expected)) in enumerate(SIGN_ROWS.items()):
        assert fired_days(firings, "warning_signs", row) == expected, label
        assert keys_fired(firings, row) <= {"warning_signs"}, label
    # Day 19 of "cooldown, then ...": signs on 14, 15 and 16 are in its week, but none that day.
    row = list(SIGN_ROWS).index("cooldown, then a day with signs")
    assert state.cooldown_until[row, detectors.K_SIGNS] == DAY0 + 20 + P.cooldown["warning_signs"]


# Disengagement -----------------------------------------------------------------------------------------------


def test_disengagement_needs_a_full_ring_of_regular_use_and_fires_on_silence_or_thinning():
    days = 120
    rows = {
        # Daily until day 69, then silent: fires on the seventh silent day (the usual gap is 1 day, and 5 gaps
        # is less than 7), then after each 14-day cooldown while the reference days (55 to 14 days back) still
        # had check-ins on half of them: on day 104 those are days 49-90, 21 of 42.
        "silent": (np.arange(70), [76, 90, 104]),
        # Daily, then every fourth day from 72: gaps of 3 are no silence, but on day 82 the last 14 days hold 4
        # check-ins (69, 72, 76, 80), 0.29 of them, under 0.3 of the reference days' 1.0.
        "thinning": (np.r_[np.arange(70), np.arange(72, days, 4)], [82]),
        # Every third day, then silent: never regular (a third of the reference days), so never a firing.
        "never regular": (np.arange(0, 70, 3), []),
        # Daily for 30 days, then silent: a silence from day 37, but the ring holds a full history from day 55
        # only, when the reference days 0-41 had check-ins on 30; on day 69 (days 14-55) only on 16.
        "short history": (np.arange(30), [55]),
    }
    values = np.full((len(rows), days, N_SCALES), np.nan)
    for row, (checkin_days, _expected) in enumerate(rows.values()):
        values[row, checkin_days] = scales()
    state = State(len(rows), P)
    seen = {}

    def on_day(offset, result):
        seen[offset] = (result.statistic[:, detectors.K_DISENGAGEMENT].copy(), state.last_checkin_day.copy())

    _state, firings = batch.run(p=P, data=daily(values), state=state, on_day=on_day)
    for row, (label, (_days, expected)) in enumerate(rows.items()):
        if label == "thinning":  # what follows depends on how the thin weeks fall; the first firing does not
            assert fired_days(firings, "disengagement", row)[:1] == expected, label
        else:
            assert fired_days(firings, "disengagement", row) == expected, label
        assert keys_fired(firings, row) <= {"disengagement"}, label
    thinning = list(rows).index("thinning")
    statistic, last_checkin = seen[82]
    assert statistic[thinning] == pytest.approx(4 / 14)
    assert DAY0 + 82 - last_checkin[thinning] == 2  # not a silence


# Critical slowing down ---------------------------------------------------------------------------------------


def test_kendall_tau_against_time():
    rows = np.array(
        [
            [1.0, 2.0, 3.0, 4.0, 5.0],
            [5.0, 4.0, 3.0, 2.0, 1.0],
            [1.0, np.nan, 2.0, np.nan, 3.0],
            [2.0, 2.0, 2.0, 2.0, 2.0],
            [1.0, 3.0, 2.0, np.nan, np.nan],  # pairs +, +, -: 1/3
            [np.nan] * 5,
        ]
    )
    tau = detectors._kendall_tau(rows)
    np.testing.assert_allclose(tau[:5], [1.0, -1.0, 1.0, 0.0, 1 / 3])
    assert np.isnan(tau[5])
    rng = np.random.default_rng(1)
    increasing = np.sort(rng.normal(size=(3, 28)), axis=1)
    np.testing.assert_array_equal(detectors._kendall_tau(increasing), [1.0] * 3)
    np.testing.assert_array_equal(detectors._kendall_tau(increasing[:, ::-1]), [-1.0] * 3)


def test_detrended_indicators_remove_the_line():
    """A straight line plus an alternating sign: the line goes, what is left has variance 1 and autocorrelation
    close to -1 (exactly -(n-1)/n for n alternating values)."""
    n = 30
    values = (0.3 * np.arange(n) + 4.0 + np.where(np.arange(n) % 2, 1.0, -1.0))[None]
    ar1, variance = detectors._detrended_indicators(values, 20)
    assert variance[0] == pytest.approx(1.0, abs=0.01)
    assert ar1[0] == pytest.approx(-(n - 1) / n, abs=0.01)
    few = values.copy()
    few[0, 19:] = np.nan  # 19 observed days, under the 20 needed
    assert np.isnan(detectors._detrended_indicators(few, 20)).all()


def ar1_series(rng, n: int, phi: np.ndarray, sd: np.ndarray) -> np.ndarray:
    x = np.empty((n, len(phi)))
    previous = rng.normal(0.0, sd[0] / np.sqrt(1 - phi[0] ** 2), n)
    for day in range(len(phi)):
        previous = phi[day] * previous + rng.normal(0.0, sd[day], n)
        x[:, day] = previous
    return x


def test_critical_slowing_down_fires_on_rising_autocorrelation_and_variance_only_where_turned_on():
    """Negative affect as an AR(1) whose coefficient rises from 0 to 0.9 and whose noise quadruples between
    days 40 and 100, against white noise (stationary). Under stationarity each Kendall tau is symmetric about 0,
    so exceeds 0.5 with probability under 1/2, and both together (nearly independent) under 1/4: stationary
    members stay under that on their member-days, rising ones are over it by the end of the rise."""
    rng = np.random.default_rng(20250108)
    n, days, start, end = 120, 101, 40, 100
    ramp = np.clip((np.arange(days) - start) / (end - start), 0.0, 1.0)
    rising = ar1_series(rng, n, 0.9 * ramp, 0.3 + 0.9 * ramp)
    stationary = rng.normal(0.0, 0.5, (n, days))
    off = 20  # rising members whose program does not run the detector
    negative_affect = np.concatenate([rising, stationary, rising[:off]])
    values = np.full((2 * n + off, days, N_SCALES), np.nan)
    values[:, :, MOOD] = 10.0 - (5.0 + negative_affect)
    csd = np.r_[np.ones(2 * n, dtype=bool), np.zeros(off, dtype=bool)]
    state = State(len(values), P)
    would_fire = np.zeros((len(values), days), dtype=bool)

    def on_day(offset, result):
        enough = (~np.isnan(state.csd_ar1)).sum(axis=1) >= P.csd_trend // 2
        would_fire[:, offset] = enough & (result.statistic[:, detectors.K_CSD] > P.csd_tau)
        if offset == days - 1:
            assert np.isnan(result.statistic[2 * n :, detectors.K_CSD]).all()

    _state, firings = batch.run(p=P, data=daily(values), csd=csd, state=state, on_day=on_day)
    csd_firings = firings.key == detectors.K_CSD
    assert (firings.statistic[csd_firings] > P.csd_tau).all()  # the lower of the two taus: both over 0.5
    assert (firings.day[csd_firings] >= DAY0 + 32).all()  # not before there are 14 indicator values
    members_fired = np.zeros(len(values), dtype=bool)
    members_fired[firings.row[csd_firings & (firings.day >= DAY0 + start)]] = True
    assert members_fired[:n].mean() >= 0.9  # nearly every rising member, at least once
    assert not members_fired[2 * n :].any() and not csd_firings[firings.row >= 2 * n].any()
    assert np.isnan(state.csd_ar1[2 * n :]).all() and np.isnan(state.csd_var[2 * n :]).all()
    # The indicators exist from day 19 (20 observed days in the window), and 14 of them from day 32.
    first = P.csd_min_days - 1 + P.csd_trend // 2 - 1
    assert first == 32 and not would_fire[:, :first].any()
    eligible = slice(first, days)
    assert would_fire[n : 2 * n, eligible].mean() < 1 / 4
    assert would_fire[:n, end - 20 : end].mean() > 1 / 4


def test_critical_slowing_down_is_off_without_the_flag():
    values = np.full((1, 60, N_SCALES), np.nan)
    values[0, :, MOOD] = 5.0 + np.sin(np.arange(60))
    state, _firings = batch.run(p=P, data=daily(values))
    assert np.isnan(state.csd_ar1).all()
    result = detectors.close_day(state, DAY0 + 60, values[0, -1], np.ones(1), np.zeros(1), csd=np.array([False]))
    assert np.isnan(result.statistic[:, detectors.K_CSD]).all() and not result.fired.any()


# Questionnaires ----------------------------------------------------------------------------------------------


def test_caseness_is_crossed_only_from_a_result_that_was_not_a_case():
    assert detectors.questionnaire("phq9", 12, True, [(8, False)]).crossed_caseness
    assert not detectors.questionnaire("phq9", 12, True, [(14, True)]).crossed_caseness
    assert not detectors.questionnaire("phq9", 12, True, [(8, None)]).crossed_caseness  # unknown before
    assert not detectors.questionnaire("phq9", 8, False, [(12, True)]).crossed_caseness
    assert not detectors.questionnaire("phq9", 12, None, [(8, False)]).crossed_caseness
    # Only the newest earlier result counts: an older non-case does not make this a crossing.
    assert not detectors.questionnaire("phq9", 12, True, [(14, True), (8, False)]).crossed_caseness
    finding = detectors.questionnaire("phq9", 12, True, [(8, False), (20, True)])
    assert finding.crossed_caseness and finding.previous == 8
    # A crossing alone raises nothing: 12 is no reliable change from the usual 14.
    assert not finding.fired


@pytest.mark.parametrize(
    ("score", "is_case", "earlier", "fired"),
    [
        (16, True, [(4, False), (5, False)], True),  # reliably worse and now a case
        (16, True, [(4, False)], False),  # one earlier result is too few for a baseline
        (9, False, [(2, False), (3, False)], False),  # reliably worse but not a case
        (11, True, [(8, False), (9, False)], False),  # a case, crossed, but within the usual wobble
        (22, True, [(14, True), (15, True), (16, True)], True),  # a case already, and reliably worse again
    ],
)
def test_a_questionnaire_fires_on_reliable_deterioration_into_caseness(score, is_case, earlier, fired):
    assert detectors.questionnaire("phq9", score, is_case, earlier).fired is fired


@pytest.mark.parametrize(
    ("instrument", "score", "earlier", "baseline", "deteriorated"),
    [
        # PHQ-9: the median of the three newest earlier results (10, 4, 5 -> 5); the fourth (20) is left out.
        ("phq9", 11, [10, 4, 5, 20], 5.0, True),
        ("phq9", 10, [10, 4, 5, 20], 5.0, False),
        ("phq9", 10, [4], 4.0, True),
        ("phq9", 9, [4], 4.0, False),
        ("phq9", 8, [7, 9], 8.0, False),  # two results: their median
        ("phq9", 14, [7, 9], 8.0, True),
        ("phq9", 2, [20, 20, 20], 20.0, False),  # much better
        # GAD-7: 4 points.
        ("gad7", 10, [6, 7, 5], 6.0, True),
        ("gad7", 9, [6, 7, 5], 6.0, False),
        # WHO-5: lower is worse, by 10 points.
        ("who5", 50, [60, 56, 72], 60.0, True),
        ("who5", 51, [60, 56, 72], 60.0, False),
        ("who5", 90, [60, 56, 72], 60.0, False),
    ],
)
def test_reliable_deterioration_against_the_median_of_up_to_three_earlier_results(
    instrument, score, earlier, baseline, deteriorated
):
    finding = detectors.questionnaire(instrument, score, False, [(value, False) for value in earlier])
    assert finding.baseline == baseline
    assert finding.deteriorated is deteriorated
    assert not finding.fired  # not a case: a reliable change alone raises nothing
    assert detectors.questionnaire(instrument, score, True, [(v, False) for v in earlier]).fired is (
        deteriorated and len(earlier) >= detectors.QUESTIONNAIRE_MIN_EARLIER
    )
    assert finding.previous == earlier[0] and finding.score == score


def test_no_earlier_results_no_finding():
    for instrument in ("phq9", "gad7", "who5"):
        finding = detectors.questionnaire(instrument, 27 if instrument != "who5" else 0, True, [])
        assert finding.baseline is None and finding.previous is None
        assert not finding.crossed_caseness and not finding.deteriorated and not finding.fired
    # An instrument without a reliable-change threshold: caseness only.
    finding = detectors.questionnaire("other", 30, True, [(0, False)])
    assert finding.baseline is None and not finding.deteriorated and finding.crossed_caseness


WORSE = ("phq9", 16, True, [(4, False), (5, False)])  # reliably worse (16 − 4.5 ≥ 6) and now a case


@pytest.mark.parametrize(
    ("daily", "fired"),
    [
        (None, True),  # nothing known of the daily check-ins: the questionnaire speaks alone
        (detectors.DailyView(ewma=None, days=14), True),  # check-ins but no baseline yet
        (detectors.DailyView(ewma=0.1, days=3), True),  # a baseline, but too few recent check-ins to speak
        (detectors.DailyView(ewma=0.1, days=4), False),  # enough check-ins, and they show the member's usual
        (detectors.DailyView(ewma=-1.0, days=14), False),
        (detectors.DailyView(ewma=0.49, days=14), False),
        (detectors.DailyView(ewma=0.5, days=4), True),  # the daily check-ins lean the same way
        (detectors.DailyView(ewma=2.7, days=14), True),
    ],
)
def test_a_worse_questionnaire_fires_unless_the_daily_check_ins_show_the_member_at_their_usual(daily, fired):
    finding = detectors.questionnaire(*WORSE, daily)
    assert finding.fired is fired
    assert finding.held_back is (not fired)


def test_the_daily_check_ins_never_make_a_questionnaire_fire_that_is_not_worse():
    agreeing = detectors.DailyView(ewma=3.0, days=14)
    assert not detectors.questionnaire("phq9", 11, True, [(8, False), (9, False)], agreeing).fired
    finding = detectors.questionnaire("phq9", 9, False, [(2, False), (3, False)], agreeing)
    assert not finding.fired and not finding.held_back


def test_the_daily_view_counts_check_in_days_in_the_two_weeks_before_and_reads_the_distress_ewma():
    first_questionnaire_day = DAY0 + 40
    days = 40
    values = steady(days)
    values[0, 20:34] = np.nan  # no check-ins on days 20–33
    values[0, 36:40, :] = scales(distress=4.0)  # four worse days: (4 − 2) / 0.5 = 4 σ, clipped to 3.5
    state, _fired = batch.run(daily(values), p=P)
    view = detectors.daily_view(state, 0, first_questionnaire_day)
    # Days 26…39 are the 14 before day 40; check-ins on 34…39.
    assert view.days == 6
    # The EWMA: 0 through day 35 (steady days are exactly the median), then four days of 3.5 with λ = 0.2.
    expected = 3.5 * (1 - 0.8**4)
    assert view.ewma == pytest.approx(expected)
    assert view.speaks and view.agrees
    # A questionnaire further on, with no days closed since: the 14 days before day 51 are 37…50, and the
    # state knows check-ins on 37, 38 and 39 of them.
    assert detectors.daily_view(state, 0, DAY0 + 51).days == 3
    # A pending day (check-ins collected, not yet closed) before the questionnaire's day counts as one.
    detectors.clear_pending(state, 0, DAY0 + 40)
    detectors.accumulate(state, 0, scales(), 0)
    assert detectors.daily_view(state, 0, DAY0 + 41).days == 7  # 34…39 and the pending 40
    assert detectors.daily_view(state, 0, DAY0 + 40).days == 6  # not on the questionnaire's own day


def test_the_daily_view_has_no_ewma_without_a_baseline():
    state, _fired = batch.run(daily(steady(8)), p=P)
    view = detectors.daily_view(state, 0, DAY0 + 8)
    assert view.ewma is None and view.days == 8 and not view.speaks and view.agrees
    assert detectors.daily_view(State(1, P), 0, DAY0).days == 0


# State -------------------------------------------------------------------------------------------------------


def some_history(n: int = 3, days: int = 90) -> State:
    values = steady(days, n)
    values[1, 60:] = scales(distress=BAD)
    signs = np.zeros((n, days))
    signs[2, 80:] = 1
    state, firings = batch.run(p=P, data=daily(values, signs=signs))
    assert len(firings)
    return state


def test_the_running_window_counts_equal_counting_the_ring_afresh():
    """close_day keeps the windows' counts as days enter and leave them; after a history with episodes (days left
    out of the baseline), warning signs, silences and a gap longer than the ring, they are what counting each
    window in the ring gives."""
    n, days = 6, 150
    rng = np.random.default_rng(7)
    values = steady(days, n)
    values[1, 70:] = scales(distress=BAD)  # an episode
    values[rng.random((n, days)) < 0.3] = np.nan  # missing days
    values[3, 40:60] = np.nan  # a silence
    values[4, 100:] = np.nan
    signs = (rng.random((n, days)) < 0.2).astype(float)
    state = State(n, P)
    names = ("baseline_days", "checkin_days_reference", "checkin_days_recent", "sign_days")

    def check(day):
        counted = state.copy()
        detectors._count_windows(counted, day, np.arange(n))
        for name in names:
            np.testing.assert_array_equal(getattr(state, name), getattr(counted, name))

    data = daily(values, signs=signs)
    for offset in range(days):
        day = DAY0 + offset
        detectors.close_day(state, day, data.values[:, offset], data.checkins[:, offset], data.signs[:, offset])
        check(day)
    assert state.baseline_days.max() >= P.min_observations and state.sign_days.max() > 0
    assert (state.ring[:, :, detectors.CH_EXCLUDED] > 0).any()
    for day in (DAY0 + days + 3, DAY0 + days + 3 + P.ring_days + 5):  # a short gap, then one longer than the ring
        detectors.close_day(state, day, steady(1, n)[:, 0], np.ones(n), np.ones(n))
        check(day)


def test_windows_must_fit_in_the_ring():
    with pytest.raises(ValueError, match="ring"):
        detectors.Parameters(reference_lag=0)
    with pytest.raises(ValueError, match="ring"):
        detectors.Parameters(signs_window=60)


def test_a_stored_row_loads_back_exactly():
    state = some_history()
    rows = [state.row_bytes(index) for index in range(len(state))]
    assert all(len(raw) == state.width * 8 for raw in rows)
    loaded = State.from_rows(rows)
    np.testing.assert_array_equal(loaded.matrix, state.matrix)
    # The loaded state is the whole state: both carry on the same way.
    result = detectors.close_day(state, DAY0 + 90, steady(1, 3)[:, 0], np.ones(3), np.ones(3))
    again = detectors.close_day(loaded, DAY0 + 90, steady(1, 3)[:, 0], np.ones(3), np.ones(3))
    np.testing.assert_array_equal(result.fired, again.fired)
    np.testing.assert_array_equal(result.statistic, again.statistic)
    np.testing.assert_array_equal(loaded.matrix, state.matrix)


def test_a_missing_or_wrongly_sized_row_loads_as_an_empty_state():
    state = some_history()
    good = state.row_bytes(1)
    loaded = State.from_rows([None, b"", good[:-8], good + bytes(8), good])
    empty = State(1, P).matrix[0]
    for index in range(4):
        np.testing.assert_array_equal(loaded.matrix[index], empty)
    np.testing.assert_array_equal(loaded.matrix[4], state.matrix[1])
    assert loaded.last_day[0] == NEVER and np.isnan(loaded.base_median[0]).all()
    with pytest.raises(ValueError, match="layout"):
        State(2, P, matrix=np.zeros((2, state.width + 1)))


def test_take_and_copy_are_independent_of_the_original():
    state = some_history()
    before = state.matrix.copy()
    copy = state.copy()
    taken = state.take([2, 0])
    picked = state.take(np.array([False, True, False]))
    sliced = state.take(slice(0, 2))
    sliced.matrix[:] = 0.0
    np.testing.assert_array_equal(taken.matrix, before[[2, 0]])
    np.testing.assert_array_equal(picked.matrix, before[[1]])
    assert len(taken) == 2 and len(picked) == 1
    # Fields are views of each state's own matrix.
    copy.ewma[0, 0] = 123.0
    taken.cusum[0] = 7.0
    picked.ring[0] = 0.0
    assert copy.matrix[0, next(offset for name, _s, offset, _z in copy.layout if name == "ewma")] == 123.0
    detectors.close_day(copy, DAY0 + 90, steady(1, 3)[:, 0], np.ones(3), np.zeros(3))
    np.testing.assert_array_equal(state.matrix, before)
    state.base_median[:] = -1.0
    assert not (copy.base_median == -1.0).any() and not (taken.base_median == -1.0).any()


@pytest.mark.parametrize("gap", [10, 80])
def test_days_skipped_between_closes_are_empty_days(gap):
    """Closing a day after a gap (the live path does so after a silence longer than the ring) leaves the ring as
    closing each day between without check-ins would: nothing of the days a ring's length earlier remains."""
    days = 60
    values = steady(days)
    signs = (np.arange(days) % 3 == 0).astype(float)[None]
    skipped, _firings = batch.run(p=P, data=daily(values, signs=signs))
    explicit = skipped.copy()
    for day in range(days, days + gap):
        detectors.close_day(explicit, DAY0 + day, np.full(N_SCALES, np.nan), np.zeros(1), np.zeros(1))
    detectors.close_day(skipped, DAY0 + days + gap, np.full(N_SCALES, np.nan), np.zeros(1), np.zeros(1))
    detectors.close_day(explicit, DAY0 + days + gap, np.full(N_SCALES, np.nan), np.zeros(1), np.zeros(1))
    np.testing.assert_array_equal(skipped.ring, explicit.ring)
    for name in ("checkin_days_reference", "checkin_days_recent", "sign_days"):
        assert getattr(skipped, name)[0] == getattr(explicit, name)[0]
    assert skipped.last_day[0] == explicit.last_day[0] == DAY0 + days + gap
    assert skipped.last_checkin_day[0] == DAY0 + days - 1
    window = detectors.ring_window(skipped, DAY0 + days + gap, -min(gap, P.ring_days - 1), 0)[0]
    assert np.isnan(window[:, :N_SCALES]).all() and (window[:, detectors.CH_CHECKINS : detectors.CH_SERIES] == 0).all()
    assert np.isnan(window[:, detectors.SERIES_CHANNELS]).all()


def test_an_empty_state():
    state = State(2, P)
    assert len(state) == 2
    assert (state.last_day == NEVER).all() and (state.pending_day == NEVER).all()
    assert (state.cooldown_until == NEVER).all()
    assert np.isnan(state.ring[:, :, :N_SCALES]).all()
    assert (state.ring[:, :, detectors.CH_CHECKINS : detectors.CH_SERIES] == 0).all()
    assert np.isnan(state.ring[:, :, detectors.SERIES_CHANNELS]).all()


# Streaming equals batch --------------------------------------------------------------------------------------


def live(checkins: dict[int, list[tuple[np.ndarray, int]]], last: int, csd: bool, early: bool):
    """One member run the way the live path runs them (engine.on_checkins and close_due_days): a one-row state,
    each check-in added to the pending day, the pending day and any empty days after it closed when the member's
    day has ended. With `early`, each check-in also evaluates its day as it stands on a copy, raises what fires
    and keeps only the cooldowns, as on_checkins does after each batch."""
    state = State(1, P)
    flag = np.array([csd])
    found = []

    def record(result):
        for key in np.flatnonzero(result.fired[0]):
            found.append((result.day, int(key), result.statistic[0, key], result.limit[0, key]))

    def close_through(day):
        pending = state.pending_day[0]
        if pending == NEVER or pending > day:
            return
        record(detectors.close_day(state, int(pending), *detectors.pending_values(state), csd=flag))
        for empty in range(int(pending) + 1, day + 1):
            record(detectors.close_day(state, empty, np.full(N_SCALES, np.nan), np.zeros(1), np.zeros(1), csd=flag))
        detectors.clear_pending(state, 0, day + 1)

    for day in range(DAY0, last + 1):
        close_through(day - 1)
        for values, signs in checkins.get(day, []):
            if state.pending_day[0] == NEVER or state.pending_day[0] < day:
                detectors.clear_pending(state, 0, day)
            detectors.accumulate(state, 0, values, signs)
            if early:
                trial = state.copy()
                result = detectors.close_day(trial, day, *detectors.pending_values(trial), csd=flag)
                if result.fired.any():
                    kept = np.where(result.fired[0], trial.cooldown_until[0], state.cooldown_until[0])
                    state.cooldown_until[0] = kept
                    record(result)
    close_through(last)
    return state, sorted(found)


def cohort_checkins(rng, n: int, days: int, per_day: int):
    """Check-ins of `n` members, a member row and day offset each: members start on different days, some shift
    (worse distress, more cravings, less sleep) for a few weeks and report warning signs then, some go quiet
    or thin out, and scales are left unanswered now and then."""
    table = []
    for member in range(n):
        start = int(rng.integers(0, 20))
        level = rng.uniform(2.0, 6.0)
        shift_start = int(rng.integers(50, days - 20))
        shift = np.zeros(3)
        shift[member % 3] = rng.uniform(1.5, 3.0) * (1 if member % 3 != 2 else -1)
        quiet = int(rng.integers(90, days)) if member % 4 == 0 else days
        rate = 0.9 if member % 4 != 1 else 0.6
        for day in range(start, days):
            if day >= quiet or rng.random() > rate:
                continue
            shifted = shift if shift_start <= day < shift_start + 25 else np.zeros(3)
            for _ in range(int(rng.integers(1, per_day + 1))):
                noise = rng.normal(0.0, 0.7, 3)
                values = scales(*(np.array([level, 3.0, 7.0]) + shifted + noise))
                values[rng.random(N_SCALES) < 0.1] = np.nan
                signs = int(rng.random() < 0.5) if shifted.any() else 0
                table.append((member, day, values, signs))
    return table


def assert_streaming_equals_batch(table, n: int, days: int, csd: np.ndarray, early: bool) -> batch.Firings:
    data = batch.daily(
        n,
        DAY0,
        days,
        np.array([row[0] for row in table]),
        np.array([row[1] for row in table]),
        np.array([row[2] for row in table]),
        np.array([row[3] for row in table], dtype=float),
    )
    state, firings = batch.run(p=P, data=data, csd=csd)
    detectors.clear_pending(state, slice(None), DAY0 + days)
    for member in range(n):
        checkins = {}
        for row, day, values, signs in table:
            if row == member:
                checkins.setdefault(DAY0 + day, []).append((values, signs))
        live_state, live_firings = live(checkins, DAY0 + days - 1, bool(csd[member]), early)
        mine = firings.row == member
        expected = sorted(
            zip(
                firings.day[mine].tolist(),
                firings.key[mine].tolist(),
                firings.statistic[mine].tolist(),
                firings.limit[mine].tolist(),
                strict=True,
            )
        )
        assert live_firings == expected, member
        np.testing.assert_array_equal(live_state.matrix[0], state.matrix[member], err_msg=f"member {member}")
    return firings


def test_streaming_one_day_at_a_time_equals_batch_with_several_check_ins_a_day():
    rng = np.random.default_rng(20250109)
    n, days = 12, 130
    table = cohort_checkins(rng, n, days, per_day=3)
    assert len({(row, day) for row, day, _v, _s in table}) < len(table)  # some days have several check-ins
    firings = assert_streaming_equals_batch(table, n, days, np.arange(n) % 3 == 0, early=False)
    fired = {KEYS[int(key)] for key in firings.key}
    assert {"warning_signs", "disengagement"} <= fired and len(fired & set(BASELINE)) >= 3, fired


def test_firings_raised_by_the_check_in_that_tips_them_leave_the_same_state_as_a_rebuild():
    """The live path raises what fires as soon as a check-in tips it and keeps that firing's cooldown, so the
    day's close is already inside the episode. A rebuild closes the same day and fires then: the day must be
    left out of later baselines either way, or the two states part (and so do later firings)."""
    rng = np.random.default_rng(20250110)
    n, days = 12, 130
    table = cohort_checkins(rng, n, days, per_day=1)
    firings = assert_streaming_equals_batch(table, n, days, np.arange(n) % 3 == 1, early=True)
    assert np.isin(firings.key, np.arange(2 * detectors.N_SERIES)).sum() >= 10
