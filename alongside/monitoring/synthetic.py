"""Synthetic members: check-ins and questionnaires generated from a known trajectory, with the truth kept beside
them, so the early-warning engine can be measured against what really happened.

`generate` builds a cohort as plain numpy arrays (no database); `generate_chunks` does the same block by block
for cohorts too large to hold at once; `load` writes a cohort for existing member accounts. Everything is
deterministic by seed.

The model: each member has a latent daily negative affect (0-10) made of a trajectory-shaped mean plus an AR(1)
process. Check-in answers, sleep, medication, activities and questionnaire items are noisy readings of that
state; whether a member checks in on a day depends on their adherence, the weekend and, for disengagement,
the days since onset. `adherence` (the range of members' check-in chance) and `noise` (a multiplier on the
answers' noise and the state's shocks) draw sparser or noisier cohorts; their defaults are the model above.
"""

from __future__ import annotations

import time as clock
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np

from alongside.monitoring import instruments
from alongside.monitoring.models import DEFAULT_ACTIVITIES

TRAJECTORIES = ("stable", "gradual_relapse", "sudden_crisis", "disengagement", "improving")
STABLE, GRADUAL_RELAPSE, SUDDEN_CRISIS, DISENGAGEMENT, IMPROVING = range(len(TRAJECTORIES))
WITH_ONSET = (GRADUAL_RELAPSE, SUDDEN_CRISIS, DISENGAGEMENT)
DEFAULT_MIX = {
    "stable": 0.45,
    "improving": 0.25,
    "gradual_relapse": 0.12,
    "disengagement": 0.10,
    "sudden_crisis": 0.08,
}
MEDICATION = ("taken", "missed", "na")  # codes 0, 1, 2 in CheckIns.medication; -1 means not asked
INSTRUMENTS = ("phq9", "gad7", "who5")  # codes 0, 1, 2 in Responses.instrument
ASSESSMENT_EVERY = {"phq9": 14, "gad7": 14, "who5": 28}
ADHERENCE = (0.45, 0.95)  # the range members' daily check-in chance is drawn from
# Disengaging members start out regular: their adherence is drawn from this top share of the range.
REGULAR_SHARE = 0.4
EXPERIENCE_SAMPLES = (2, 4)  # check-ins a day for experience-sampling members, inclusive
MEDICATION_NA_SHARE = 0.25

# Onsets fall in this part of the period, so there is a before and an after to compare.
ONSET_RANGE = (0.35, 0.85)
# Shocks older than this many days weigh at most 0.75**40 ≈ 1e-5 in the AR(1) sum; also the burn-in.
AR_LAGS = 40
# A typical share of check-ins naming each default activity (same order as DEFAULT_ACTIVITIES).
ACTIVITY_RATES = dict(
    zip(DEFAULT_ACTIVITIES, (0.15, 0.08, 0.10, 0.12, 0.20, 0.05, 0.03, 0.05, 0.12, 0.07, 0.10, 0.10), strict=True)
)
# Per-item offsets on the logit scale: some items are endorsed more readily than others (PHQ-9 sleep and
# tiredness more than psychomotor change); item 9 is generated separately.
ITEM_EASE = {
    "phq9": np.array([0.0, 0.1, 0.5, 0.6, 0.2, -0.1, 0.0, -0.7]),
    "gad7": np.array([0.3, 0.0, 0.3, 0.1, -0.4, 0.2, -0.3]),
    "who5": np.array([0.0, 0.1, -0.2, 0.2, 0.0]),
}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, eq=False)
class CheckIns:
    """One element per check-in, ordered by member, day and time. Scales are 0-10 ints; -1 (NaN for sleep
    hours) means the question was not asked: sleep and medication are asked at the first check-in of a day."""

    member: np.ndarray  # int32, position in the cohort (0-based, within this block)
    day: np.ndarray  # int16, days after start_date (the member's local calendar)
    minute: np.ndarray  # int16, local minutes after midnight
    recorded_at: np.ndarray  # datetime64[s], UTC
    mood: np.ndarray
    anxiety: np.ndarray
    energy: np.ndarray
    sleep_hours: np.ndarray  # float32, quarter hours
    sleep_quality: np.ndarray
    medication: np.ndarray  # int8 index into MEDICATION, -1 not asked
    cravings: np.ndarray
    activities: np.ndarray  # uint16 bit mask over DEFAULT_ACTIVITIES

    def __len__(self) -> int:
        return len(self.member)


@dataclass(frozen=True, eq=False)
class Responses:
    """One element per completed questionnaire, ordered by member and day."""

    member: np.ndarray  # int32
    day: np.ndarray  # int16
    minute: np.ndarray  # int16
    recorded_at: np.ndarray  # datetime64[s], UTC
    instrument: np.ndarray  # int8 index into INSTRUMENTS
    answers: np.ndarray  # int8 (k, 9): item scores in order, -1 past the instrument's last item
    total: np.ndarray  # int16: raw sum x multiplier, as instruments.score reports it

    def __len__(self) -> int:
        return len(self.member)

    def answers_of(self, index: int) -> dict[int, int]:
        row = self.answers[index]
        return {number: int(value) for number, value in enumerate(row[row >= 0], start=1)}


@dataclass(frozen=True)
class Truth:
    member: int  # position in the cohort
    trajectory: str
    onset_day: int | None  # days after start_date; None for stable and improving


@dataclass(frozen=True, eq=False)
class Cohort:
    seed: int
    start_date: date
    days: int
    first_member: int  # position of this block's first member in the whole cohort (0 unless chunked)
    time_zones: tuple[str, ...]  # per member
    trajectory: np.ndarray  # int8 index into TRAJECTORIES, per member
    onset: np.ndarray  # int16 day of onset, -1 where the trajectory has none
    adherence: np.ndarray  # float32: chance of checking in on an ordinary weekday
    sampling: np.ndarray  # bool: experience sampling (several check-ins a day)
    medication_na: np.ndarray  # bool: takes no medication (answers "not applicable")
    negative_affect: np.ndarray  # float32 (members, days): the latent state the answers are readings of
    checkins: CheckIns
    responses: Responses

    @property
    def n_members(self) -> int:
        return len(self.trajectory)

    def truth(self) -> list[Truth]:
        return [
            Truth(index, TRAJECTORIES[code], None if onset < 0 else int(onset))
            for index, (code, onset) in enumerate(zip(self.trajectory.tolist(), self.onset.tolist(), strict=True))
        ]


def generate(
    n_members: int,
    days: int,
    *,
    seed: int,
    start_date: date,
    mix: Mapping[str, float] | None = None,
    sampling_share: float = 0.1,
    time_zone: str | Sequence[str] = "UTC",
    adherence: tuple[float, float] = ADHERENCE,
    noise: float = 1.0,
) -> Cohort:
    """A cohort of `n_members` followed for `days` days from `start_date` (day 0), drawn from
    `default_rng(seed)`. `mix` weighs trajectories (missing ones weigh 0; default DEFAULT_MIX);
    `sampling_share` is the share of experience-sampling members; `time_zone` is one zone for everyone or one
    per member, used to turn local check-in times into UTC.

    `adherence` is the range (low, high) each member's chance of checking in on an ordinary weekday is drawn
    from (disengaging members draw from its top REGULAR_SHARE); `noise` multiplies the day-to-day noise of the
    check-in answers and sleep and the size of the latent state's AR(1) shocks. Lower adherence and more noise
    give a sparser, noisier cohort; the defaults give the cohort the other parameters always gave."""
    return _block(
        np.random.default_rng(seed),
        n_members,
        days,
        seed,
        start_date,
        mix,
        sampling_share,
        time_zone,
        0,
        adherence=adherence,
        noise=noise,
    )


def generate_chunks(
    n_members: int,
    days: int,
    *,
    seed: int,
    start_date: date,
    mix: Mapping[str, float] | None = None,
    sampling_share: float = 0.1,
    time_zone: str | Sequence[str] = "UTC",
    chunk_size: int = 1000,
    adherence: tuple[float, float] = ADHERENCE,
    noise: float = 1.0,
) -> Iterator[Cohort]:
    """The same kind of cohort, `chunk_size` members at a time, so any size fits in memory. Each block draws
    from its own stream spawned from `seed`, so a block does not depend on the ones before it; the result
    depends on (seed, chunk_size). Each block's `first_member` says where it starts. `adherence` and `noise`
    as for `generate`."""
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    zones = _zones(time_zone, n_members)
    streams = np.random.SeedSequence(seed).spawn(max(1, -(-n_members // chunk_size)))
    for index, first in enumerate(range(0, n_members, chunk_size)):
        size = min(chunk_size, n_members - first)
        rng = np.random.default_rng(streams[index])
        block_zones = zones[first : first + size]
        yield _block(
            rng, size, days, seed, start_date, mix, sampling_share, block_zones, first, adherence=adherence, noise=noise
        )


def _zones(time_zone: str | Sequence[str], n_members: int) -> tuple[str, ...]:
    if isinstance(time_zone, str):
        return (time_zone,) * n_members
    zones = tuple(time_zone)
    if len(zones) != n_members:
        raise ValueError(f"{len(zones)} time zones for {n_members} members")
    return zones


def _mix_weights(mix: Mapping[str, float] | None) -> np.ndarray:
    mix = DEFAULT_MIX if mix is None else mix
    unknown = set(mix) - set(TRAJECTORIES)
    if unknown:
        raise ValueError(f"unknown trajectories {', '.join(sorted(unknown))}; known: {', '.join(TRAJECTORIES)}")
    weights = np.array([float(mix.get(name, 0.0)) for name in TRAJECTORIES])
    if (weights < 0).any() or weights.sum() <= 0:
        raise ValueError("trajectory weights must be non-negative and not all zero")
    return weights / weights.sum()


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _scale(values) -> np.ndarray:
    return np.clip(np.rint(values), 0, 10).astype(np.int8)


def _ar1(phi: np.ndarray, sigma: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """x[t] = phi[t]·x[t-1] + sigma[t]·e[t] for every row at once, with coefficients that change over time.

    Written as the sum of past shocks weighted by products of phi (taken from differences of cumulative log
    phi, which stay ≤ 0 and so never overflow), truncated after AR_LAGS days. The first AR_LAGS columns of
    the inputs are burn-in and are dropped, so day 0 already has the stationary spread."""
    shocks = sigma * rng.standard_normal(phi.shape)
    log_product = np.cumsum(np.log(phi), axis=1)
    end = phi.shape[1]
    out = np.zeros((phi.shape[0], end - AR_LAGS))
    for lag in range(AR_LAGS + 1):
        now, then = slice(AR_LAGS, end), slice(AR_LAGS - lag, end - lag)
        out += np.exp(log_product[:, now] - log_product[:, then]) * shocks[:, then]
    return out


def _with_burn_in(values: np.ndarray) -> np.ndarray:
    return np.concatenate([np.repeat(values[:, :1], AR_LAGS, axis=1), values], axis=1)


def _block(
    rng: np.random.Generator,
    n: int,
    days: int,
    seed: int,
    start_date: date,
    mix: Mapping[str, float] | None,
    sampling_share: float,
    time_zone: str | Sequence[str],
    first_member: int,
    *,
    adherence: tuple[float, float] = ADHERENCE,
    noise: float = 1.0,
) -> Cohort:
    if n < 0 or days < 1:
        raise ValueError("need at least one day and no fewer than zero members")
    if not 0 <= sampling_share <= 1:
        raise ValueError("sampling_share must be between 0 and 1")
    low_adherence, high_adherence = (float(value) for value in adherence)
    if not 0 < low_adherence <= high_adherence <= 1:
        raise ValueError("adherence must be a range (low, high) with 0 < low <= high <= 1")
    if not noise > 0:
        raise ValueError("noise must be a positive multiplier")
    zones = _zones(time_zone, n)
    weights = _mix_weights(mix)
    t = np.arange(days)

    # Who each member is.
    trajectory = rng.choice(len(TRAJECTORIES), size=n, p=weights).astype(np.int8)
    has_onset = np.isin(trajectory, WITH_ONSET)
    low, high = int(ONSET_RANGE[0] * days), max(int(ONSET_RANGE[0] * days) + 1, int(ONSET_RANGE[1] * days))
    onset = np.where(has_onset, rng.integers(low, high, size=n), -1).astype(np.int16)
    adherence = rng.uniform(low_adherence, high_adherence, size=n)
    # Disengagement is a falling-away from regular use, so those members start out regular.
    regular = high_adherence - REGULAR_SHARE * (high_adherence - low_adherence)
    adherence = np.where(trajectory == DISENGAGEMENT, rng.uniform(regular, high_adherence, size=n), adherence)
    sampling = rng.random(n) < sampling_share
    medication_na = rng.random(n) < MEDICATION_NA_SHARE
    baseline = np.clip(rng.normal(2.6, 0.9, size=n), 0.5, 5.5)
    phi0 = rng.uniform(0.15, 0.35, size=n)
    sigma0 = rng.uniform(0.5, 0.8, size=n) * noise

    # Latent negative affect: a trajectory-shaped mean plus AR(1) noise.
    T = onset[:, None].astype(float)
    after = t[None, :] >= T
    since = np.maximum(t[None, :] - T, 0)
    mean = np.repeat(baseline[:, None], days, axis=1)
    phi = np.repeat(phi0[:, None], days, axis=1)
    sigma = np.repeat(sigma0[:, None], days, axis=1)

    relapse = (trajectory == GRADUAL_RELAPSE)[:, None]
    ramp_days = rng.integers(28, 43, size=n)[:, None]
    ramp = np.clip((t[None, :] - (T - ramp_days)) / ramp_days, 0, 1)
    rise = rng.uniform(2.5, 4.0, size=n)[:, None]
    # Critical slowing down: before onset the state drifts up while its inertia (phi) and shocks grow.
    mean = np.where(relapse, baseline[:, None] + rise * ramp**1.5 + 0.5 * after, mean)
    phi = np.where(relapse & ~after, phi0[:, None] + (0.75 - phi0[:, None]) * ramp, phi)
    phi = np.where(relapse & after, 0.45, phi)
    sigma = np.where(relapse, sigma0[:, None] * (1 + 0.8 * ramp), sigma)

    crisis = (trajectory == SUDDEN_CRISIS)[:, None]
    jump = rng.uniform(4.0, 6.0, size=n)[:, None]
    settle = rng.uniform(10, 30, size=n)[:, None]
    # An abrupt jump on the day of onset that eases over weeks, to somewhat above where it was.
    elevated = after * (1.0 + (jump - 1.0) * np.exp(-since / settle))
    mean = np.where(crisis, baseline[:, None] + elevated, mean)

    drifting = (trajectory == DISENGAGEMENT)[:, None]
    mean = np.where(drifting, baseline[:, None] + 0.8 * after * (1 - np.exp(-since / 14)), mean)

    improving = (trajectory == IMPROVING)[:, None]
    gain = rng.uniform(1.5, 3.0, size=n)[:, None]
    pace = rng.uniform(20, 60, size=n)[:, None]
    mean = np.where(improving, baseline[:, None] - 0.4 + gain * np.exp(-t[None, :] / pace), mean)

    fluctuation = _ar1(_with_burn_in(phi), _with_burn_in(sigma), rng)
    negative_affect = np.clip(mean + fluctuation, 0, 10).astype(np.float32)

    # Which days each member checks in: adherence, a little less at weekends, runs of good and bad weeks
    # (slow AR noise), and for disengagement a decay after onset.
    weekday = (start_date.weekday() + t) % 7
    weekend = np.where(weekday >= 5, 0.85, 1.0)
    engagement = np.where(drifting & after, np.maximum(np.exp(-since / rng.uniform(7, 21, size=n)[:, None]), 0.04), 1.0)
    engagement = np.where(crisis & after, 1 - 0.3 * np.exp(-since / 14), engagement)
    streaks = _ar1(np.full((n, days + AR_LAGS), 0.8), np.full((n, days + AR_LAGS), 0.3), rng)
    p_day = _sigmoid(_logit(adherence[:, None] * weekend[None, :] * engagement) + streaks)
    checked = rng.random((n, days)) < p_day

    # Expand to one row per check-in.
    per_day = np.where(sampling[:, None], rng.integers(EXPERIENCE_SAMPLES[0], EXPERIENCE_SAMPLES[1] + 1, (n, days)), 1)
    member_of_day, day_of_day = np.nonzero(checked)
    counts = per_day[member_of_day, day_of_day]
    member = np.repeat(member_of_day, counts).astype(np.int32)
    day = np.repeat(day_of_day, counts).astype(np.int16)
    count = np.repeat(counts, counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    sequence = np.arange(len(member)) - starts  # 0 for the day's first check-in
    k = len(member)

    # Local times: most people have an evening habit (near the usual 20:00 reminder), some a daytime one;
    # experience sampling spreads the day's check-ins over 08:00-22:30 in order, one per slot.
    evening = rng.random(n) < 0.7
    evening_habit = np.clip(rng.normal(20.5 * 60, 60, n), 17 * 60, 22.5 * 60)
    daytime_habit = np.clip(rng.normal(12 * 60, 120, n), 8 * 60, 16 * 60)
    habit = np.where(evening, evening_habit, daytime_habit)
    single = np.clip(habit[member] + rng.normal(0, 35, k), 6 * 60, 23 * 60 + 50)
    slot = (22.5 - 8) * 60 / count
    sampled = 8 * 60 + slot * sequence + rng.uniform(0, 0.9, k) * slot
    minute = np.where(sampling[member], sampled, single).astype(np.int16)
    recorded_at = _to_utc(start_date, days, zones, member, day, minute)

    # Answers: noisy readings of the day's state; several check-ins a day each see the state move a little.
    state = negative_affect[member, day] + np.where(sampling[member], rng.normal(0, 0.5 * noise, k), 0)
    mood_offset = rng.normal(0, 0.5, n)
    anxiety_offset = rng.normal(0.5, 0.8, n)
    energy_offset = rng.normal(0, 0.6, n)
    mood = _scale(9.2 - 0.95 * state + mood_offset[member] + rng.normal(0, 0.7 * noise, k))
    anxiety = _scale(0.85 * state + anxiety_offset[member] + rng.normal(0, 0.8 * noise, k))

    usual_sleep = np.clip(rng.normal(7.2, 0.6, n), 5.5, 9.0)
    sleep_change = (
        -0.3 * (negative_affect - baseline[:, None]) + 0.4 * (weekday >= 5) + rng.normal(0, 0.8 * noise, (n, days))
    )
    hours = np.clip(np.rint((usual_sleep[:, None] + sleep_change) * 4) / 4, 3, 11)
    quality = _scale(
        7.2 - 0.45 * negative_affect + 0.7 * (hours - usual_sleep[:, None]) + rng.normal(0, noise, (n, days))
    )
    first = sequence == 0
    sleep_hours = np.where(first, hours[member, day], np.nan).astype(np.float32)
    sleep_quality = np.where(first, quality[member, day], -1).astype(np.int8)
    energy = _scale(
        7.8 - 0.55 * state + 0.35 * sleep_change[member, day] + energy_offset[member] + rng.normal(0, 0.9 * noise, k)
    )
    craving_level = rng.gamma(1.5, 1.2, n)
    cravings = _scale(craving_level[member] + 0.4 * (state - baseline[member]) + rng.normal(0, 0.8 * noise, k))

    miss_rate = rng.beta(1.2, 20, n)
    p_miss = _sigmoid(_logit(miss_rate[:, None]) + 0.4 * (negative_affect - baseline[:, None]))
    missed = rng.random((n, days)) < p_miss
    daily_medication = np.where(medication_na[:, None], 2, missed.astype(np.int8))
    medication = np.where(first, daily_medication[member, day], -1).astype(np.int8)

    # Activities are likelier on good days (lower state than the member's own baseline), work on weekdays.
    activities = np.zeros(k, dtype=np.uint16)
    good_day = baseline[member] - state
    for bit, (label, rate) in enumerate(ACTIVITY_RATES.items()):
        liking = _logit(rate) + rng.normal(0, 0.8, n)
        logit = liking[member] + 0.35 * good_day
        if label == "Work":
            logit = logit + np.where(weekday[day] >= 5, -2.0, 0.5)
        activities |= (rng.random(k) < _sigmoid(logit)).astype(np.uint16) << bit

    responses = _responses(rng, trajectory, onset, adherence, engagement, negative_affect, anxiety_offset, habit)
    responses_at = _to_utc(start_date, days, zones, responses["member"], responses["day"], responses["minute"])
    return Cohort(
        seed=seed,
        start_date=start_date,
        days=days,
        first_member=first_member,
        time_zones=zones,
        trajectory=trajectory,
        onset=onset,
        adherence=adherence.astype(np.float32),
        sampling=sampling,
        medication_na=medication_na,
        negative_affect=negative_affect,
        checkins=CheckIns(
            member=member,
            day=day,
            minute=minute,
            recorded_at=recorded_at,
            mood=mood,
            anxiety=anxiety,
            energy=energy,
            sleep_hours=sleep_hours,
            sleep_quality=sleep_quality,
            medication=medication,
            cravings=cravings,
            activities=activities,
        ),
        responses=Responses(recorded_at=responses_at, **responses),
    )


def _responses(rng, trajectory, onset, adherence, engagement, negative_affect, anxiety_offset, habit) -> dict:
    """Questionnaires on their schedule from day 0, each completed (or not) within its three-day window.
    Items track the mean state over the two weeks the questionnaire asks about."""
    n, days = negative_affect.shape
    # PHQ-9 and GAD-7 are answered together; WHO-5 joins them every other time.
    due = np.arange(0, days, ASSESSMENT_EVERY["phq9"])
    p_complete = (0.55 + 0.4 * adherence)[:, None] * engagement[:, due]
    done = rng.random((n, len(due))) < p_complete
    delay = rng.choice(3, size=(n, len(due)), p=[0.6, 0.25, 0.15])
    when = due[None, :] + delay
    done &= when < days
    member, slot = np.nonzero(done)
    day = when[member, slot]
    with_who5 = due[slot] % ASSESSMENT_EVERY["who5"] == 0

    running = np.concatenate([np.zeros((n, 1)), np.cumsum(negative_affect, axis=1, dtype=float)], axis=1)
    window_start = np.maximum(day - 13, 0)
    recent = (running[member, day + 1] - running[member, window_start]) / (day + 1 - window_start)
    bias = rng.normal(0, 0.4, n)[member]
    k = len(member)

    depressed = _sigmoid((recent - 5) / 1.2 + bias)
    phq = rng.binomial(3, _sigmoid(_logit(depressed)[:, None] + ITEM_EASE["phq9"][None, :]))
    # Thoughts of self-harm: rare, and mostly around a crisis or a relapse.
    since_onset = day - onset[member]
    p_item9 = np.where(recent > 6, 0.01, 0.002)
    p_item9 = np.where((trajectory[member] == SUDDEN_CRISIS) & (since_onset >= -2) & (since_onset <= 21), 0.45, p_item9)
    p_item9 = np.where(
        (trajectory[member] == GRADUAL_RELAPSE) & (since_onset >= 0) & (since_onset <= 28), 0.12, p_item9
    )
    item9 = np.where(rng.random(k) < p_item9, rng.choice([1, 2, 3], size=k, p=[0.7, 0.2, 0.1]), 0)
    phq = np.concatenate([phq, item9[:, None]], axis=1)

    anxious = _sigmoid((recent + 0.5 * anxiety_offset[member] - 5) / 1.2 + bias)
    gad = rng.binomial(3, _sigmoid(_logit(anxious)[:, None] + ITEM_EASE["gad7"][None, :]))
    unwell = _sigmoid((recent - 4.5) / 1.4 + bias)
    who = 5 - rng.binomial(5, _sigmoid(_logit(unwell)[:, None] + ITEM_EASE["who5"][None, :]))

    minute = np.clip(habit[member] + rng.normal(0, 60, k), 7 * 60, 23 * 60 + 30).astype(np.int16)
    parts = []
    for code, items, chosen in (("phq9", phq, slice(None)), ("gad7", gad, slice(None)), ("who5", who, with_who5)):
        instrument = instruments.get(code)
        if items.shape[1] != len(instrument.items):
            raise RuntimeError(f"{code}: generated {items.shape[1]} items, the definition has {len(instrument.items)}")
        rows = items[chosen]
        answers = np.full((len(rows), 9), -1, dtype=np.int8)
        answers[:, : rows.shape[1]] = rows
        parts.append(
            {
                "member": member[chosen],
                "day": day[chosen],
                # One after another, a few minutes apart.
                "minute": minute[chosen] + 3 * INSTRUMENTS.index(code),
                "instrument": np.full(len(rows), INSTRUMENTS.index(code)),
                "answers": answers,
                "total": rows.sum(axis=1) * instrument.multiplier,
            }
        )
    merged = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    order = np.lexsort((merged["instrument"], merged["day"], merged["member"]))
    types = {"member": np.int32, "day": np.int16, "minute": np.int16, "instrument": np.int8, "total": np.int16}
    return {key: value[order].astype(types.get(key, value.dtype)) for key, value in merged.items()}


def _to_utc(start_date: date, days: int, zones: Sequence[str], member, day, minute) -> np.ndarray:
    """Local (day, minute) to UTC instants. Each zone's offset is read once per day at local noon: the times
    generated lie between 06:00 and midnight, after any daylight-saving change of that day."""
    names = sorted(set(zones))
    zone_of = np.array([names.index(zone) for zone in zones], dtype=np.int32)
    offsets = np.empty((len(names), days), dtype=np.int64)
    for row, name in enumerate(names):
        zone = ZoneInfo(name)
        for column in range(days):
            noon = datetime.combine(start_date + timedelta(days=column), time(12), tzinfo=zone)
            offsets[row, column] = int(noon.utcoffset().total_seconds())
    local_midnight = (start_date - EPOCH.date()).days * 86400 + np.asarray(day, dtype=np.int64) * 86400
    seconds = local_midnight + np.asarray(minute, dtype=np.int64) * 60 - offsets[zone_of[member], day]
    return seconds.astype("datetime64[s]")


def activity_labels(mask: int) -> list[str]:
    return [label for bit, label in enumerate(DEFAULT_ACTIVITIES) if mask >> bit & 1]


# Loading into the database -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Loaded:
    members: int
    checkins: int
    tags: int  # check-in/tag links
    responses: int
    seconds: float


SLEEP_HOURS = {quarter: Decimal(quarter) / 4 for quarter in range(0, 24 * 4 + 1)}


def load(
    cohort: Cohort,
    members: Sequence,
    *,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = 5000,
) -> Loaded:
    """Write the cohort's check-ins (with their activity tags), questionnaire responses and ground truth for
    `members`, the existing member accounts in cohort order. Works in transactions of whole members, about
    `batch_size` check-ins each, calling `progress(done, total)` (check-ins and responses written) after each.

    Times are placed in each account's own time zone: if it differs from the zone the cohort was generated
    for, the same local times are converted again, so local_date always matches recorded_at."""
    from django.db import transaction

    from alongside.monitoring import checkins as checkin_domain
    from alongside.monitoring import questionnaires
    from alongside.monitoring.models import CheckIn, QuestionnaireResponse, SyntheticTruth

    started = clock.perf_counter()
    members = list(members)
    if len(members) != cohort.n_members:
        raise ValueError(f"the cohort has {cohort.n_members} members but {len(members)} accounts were given")
    already = SyntheticTruth.objects.filter(member__in=[member.pk for member in members])
    if already.exists():
        raise ValueError(f"{already.count()} of these members already have synthetic data")

    c, r = cohort.checkins, cohort.responses
    zones = tuple(member.time_zone for member in members)
    checkin_at, response_at = c.recorded_at, r.recorded_at
    if zones != cohort.time_zones:
        checkin_at = _to_utc(cohort.start_date, cohort.days, zones, c.member, c.day, c.minute)
        response_at = _to_utc(cohort.start_date, cohort.days, zones, r.member, r.day, r.minute)
    dates = [cohort.start_date + timedelta(days=offset) for offset in range(cohort.days)]
    checkin_bounds = np.searchsorted(c.member, np.arange(cohort.n_members + 1))
    response_bounds = np.searchsorted(r.member, np.arange(cohort.n_members + 1))
    total = len(c) + len(r)
    done = tags_written = 0
    Through = CheckIn.tags.through
    truths = cohort.truth()
    codes = [instruments.get(code) for code in INSTRUMENTS]
    if progress:
        progress(0, total)

    first = 0
    while first < cohort.n_members:
        last = first + 1
        while last < cohort.n_members and checkin_bounds[last + 1] - checkin_bounds[first] <= batch_size:
            last += 1
        with transaction.atomic():
            # Each member's own tag ids, by activity bit (-1 where they archived that activity).
            tag_ids = np.full((last - first, len(DEFAULT_ACTIVITIES)), -1, dtype=np.int64)
            thresholds = []
            for row, member in enumerate(members[first:last]):
                owned = {tag.label.lower(): tag.pk for tag in checkin_domain.tags_for(member, "activity")}
                tag_ids[row] = [owned.get(label.lower(), -1) for label in DEFAULT_ACTIVITIES]
                thresholds.append({code: questionnaires.caseness_threshold(member, code) for code in INSTRUMENTS})

            rows = slice(checkin_bounds[first], checkin_bounds[last])
            created = CheckIn.objects.bulk_create(_checkins(c, rows, members, checkin_at, dates))
            local_member = c.member[rows] - first
            bits = (c.activities[rows, None] >> np.arange(len(DEFAULT_ACTIVITIES), dtype=np.uint16)) & 1
            which, bit = np.nonzero(bits)
            tag = tag_ids[local_member[which], bit]
            keep = tag >= 0
            pks = np.array([checkin.pk for checkin in created], dtype=np.int64)
            links = [
                Through(checkin_id=checkin_id, tag_id=tag_id)
                for checkin_id, tag_id in zip(pks[which[keep]].tolist(), tag[keep].tolist(), strict=True)
            ]
            Through.objects.bulk_create(links)
            tags_written += len(links)

            rows = slice(response_bounds[first], response_bounds[last])
            written = []
            columns = zip(
                range(rows.start, rows.stop),
                r.member[rows].tolist(),
                r.day[rows].tolist(),
                r.instrument[rows].tolist(),
                response_at[rows].astype(np.int64).tolist(),
                strict=True,
            )
            for index, member_index, day, code, at in columns:
                instrument = codes[code]
                answers = r.answers_of(index)
                score = instruments.score(
                    instrument, answers, caseness_threshold=thresholds[member_index - first][instrument.code]
                )
                written.append(
                    QuestionnaireResponse(
                        member=members[member_index],
                        instrument=instrument.code,
                        instrument_version=instrument.version,
                        answers={str(item): value for item, value in answers.items()},
                        raw_score=score.raw,
                        total=score.total,
                        band=score.band or "",
                        complete=score.complete,
                        is_case=score.is_case,
                        safety_items=score.safety_items,
                        completed_at=EPOCH + timedelta(seconds=at),
                        local_date=dates[day],
                        source="synthetic",
                    )
                )
            QuestionnaireResponse.objects.bulk_create(written)

            SyntheticTruth.objects.bulk_create(
                SyntheticTruth(
                    member=members[truth.member],
                    trajectory=truth.trajectory,
                    start_date=cohort.start_date,
                    onset_day=truth.onset_day,
                    seed=cohort.seed,
                )
                for truth in truths[first:last]
            )
        done += len(created) + len(written)
        if progress:
            progress(done, total)
        first = last

    return Loaded(
        members=cohort.n_members,
        checkins=len(c),
        tags=tags_written,
        responses=len(r),
        seconds=clock.perf_counter() - started,
    )


def _checkins(c: CheckIns, rows: slice, members: Sequence, recorded_at: np.ndarray, dates: list[date]) -> list:
    from alongside.monitoring.models import CheckIn

    sleep_quarters = np.where(np.isnan(c.sleep_hours[rows]), -1, np.rint(c.sleep_hours[rows] * 4)).astype(int)
    columns = zip(
        c.member[rows].tolist(),
        c.day[rows].tolist(),
        recorded_at[rows].astype(np.int64).tolist(),
        c.mood[rows].tolist(),
        c.anxiety[rows].tolist(),
        c.energy[rows].tolist(),
        sleep_quarters.tolist(),
        c.sleep_quality[rows].tolist(),
        c.medication[rows].tolist(),
        c.cravings[rows].tolist(),
        strict=True,
    )
    return [
        CheckIn(
            member=members[member],
            recorded_at=EPOCH + timedelta(seconds=at),
            local_date=dates[day],
            mood=mood,
            anxiety=anxiety,
            energy=energy,
            sleep_hours=SLEEP_HOURS[quarters] if quarters >= 0 else None,
            sleep_quality=quality if quality >= 0 else None,
            medication=MEDICATION[medication] if medication >= 0 else "",
            cravings=cravings,
            source="synthetic",
        )
        for member, day, at, mood, anxiety, energy, quarters, quality, medication, cravings in columns
    ]
