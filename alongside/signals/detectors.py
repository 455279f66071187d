"""The early-warning detectors on daily check-in data: pure numpy, no database.

Everything here works on many members at once, one day at a time: `State` holds each member's detector state
as rows of one matrix, and `close_day` moves every member forward by one day. The streaming path (one new
check-in) uses the same code with a single row; `rescan` loops over the days of history with thousands of rows
at a time. So a detector behaves the same whether it runs live, in a rebuild or in a replay.

What each detector does, with its parameters, is in `Parameters` and docs/early-warning.md:

- **Personal baseline**: median and MAD × 1.4826 of the member's own daily values on days −55…−14 (a lagged
  window, so a slow drift does not become its own baseline), refreshed weekly, leaving out days inside an
  episode (within a baseline detector's cooldown). At least `min_observations` days, or "not enough data yet".
- **EWMA** (Roberts 1959) on standardised deviations y = direction × (x − median) / σ, limits ± L·σ_z with the
  exact σ_z for the t-th observation; fires after `ewma_persistence` observed days beyond the limit.
- **CUSUM** (Page 1954): C = max(0, C + y − k), fires when C > h after at least `cusum_persistence` days of
  accumulation, then restarts. y is clipped to ± `winsor`, so one extreme day cannot fire it alone.
- **Warning signs**: the member's own early warning signs (from their plan) reported on `signs_days` of the
  last `signs_window` days.
- **Disengagement** (period + grace): after regular use in the reference window, check-ins thinning to well
  below the member's own rate, or a silence much longer than their usual gap.
- **Critical slowing down** (experimental, off unless the program turns it on): in a rolling window of daily
  negative affect (10 − mood), detrended, lag-1 autocorrelation and variance; both trending up (Kendall's tau)
  over the last weeks.

Days are proleptic ordinals of the member's local calendar date (`date.toordinal()`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from math import sqrt

import numpy as np

# The check-in scales kept day by day (for the evidence charts and the series below).
SCALES = ("mood", "anxiety", "energy", "sleep_quality", "sleep_hours", "cravings")
N_SCALES = len(SCALES)
# The series the detectors watch. Distress is the mean of the answered ones of 10 − mood, anxiety, 10 − energy
# and 10 − sleep quality: they all read the same underlying state, so their mean is steadier than any one of
# them and one test replaces four (fewer false alarms). Cravings and hours of sleep are other things and are
# watched on their own.
SERIES = ("distress", "cravings", "sleep_hours")
N_SERIES = len(SERIES)
# +1 where a higher value is worse, −1 where a lower one is.
DIRECTION = np.array([1.0, 1.0, -1.0])
# The smallest σ a baseline may have, in each series' units: a member who always answers 7 has a MAD of 0, and
# one point's change must not look like an infinite deviation.
SIGMA_FLOOR = np.array([0.5, 1.25, 0.75])
MAD_TO_SIGMA = 1.4826


def series_of(scales: np.ndarray) -> np.ndarray:
    """The watched series from daily scale means (..., N_SCALES) -> (..., N_SERIES), NaN where unanswered."""
    mood, anxiety, energy, quality, hours, cravings = (scales[..., index] for index in range(N_SCALES))
    # The answered parts summed one after another from zero (what a sum over them gives), column by column.
    total, answered = np.zeros(mood.shape), np.zeros(mood.shape, dtype=np.int64)
    for part in (10.0 - mood, anxiety, 10.0 - energy, 10.0 - quality):
        given = ~np.isnan(part)
        total += np.where(given, part, 0.0)
        answered += given
    with np.errstate(invalid="ignore", divide="ignore"):
        distress = np.where(answered > 0, total / answered, np.nan)
    return np.stack([distress, cravings, hours], axis=-1)


# Ring channels: the day's mean of each scale, then how many check-ins, how many warning signs, and whether the
# day lies inside an episode (left out of the baseline).
CH_CHECKINS, CH_SIGNS, CH_EXCLUDED = N_SCALES, N_SCALES + 1, N_SCALES + 2
# Then the day's watched series (`series_of` the scales), kept so a baseline refresh need not recompute them.
CH_SERIES = N_SCALES + 3
SERIES_CHANNELS = slice(CH_SERIES, CH_SERIES + N_SERIES)
N_CHANNELS = CH_SERIES + N_SERIES

# Detector keys, each with its own cooldown: EWMA and CUSUM per scale, then the member-level ones.
KEYS = (
    *(f"ewma:{series}" for series in SERIES),
    *(f"cusum:{series}" for series in SERIES),
    "warning_signs",
    "disengagement",
    "critical_slowing_down",
)
K_EWMA, K_CUSUM = 0, N_SERIES
K_SIGNS, K_DISENGAGEMENT, K_CSD = 2 * N_SERIES, 2 * N_SERIES + 1, 2 * N_SERIES + 2
BASELINE_KEYS = slice(0, 2 * N_SERIES)
NEVER = -1.0


@dataclass(frozen=True)
class Parameters:
    ring_days: int = 56  # days of daily values kept: the reference window plus the recent weeks
    reference_lag: int = 14  # the baseline ends this many days before today
    min_observations: int = 10  # days with a value in the reference window before a baseline exists
    refresh_every: int = 7  # days between baseline refreshes
    ewma_lambda: float = 0.2
    ewma_limit: float = 3.5  # L
    ewma_persistence: int = 3  # observed days beyond the limit in a row
    cusum_k: float = 0.5
    cusum_h: float = 9.0
    cusum_persistence: int = 3  # observed days of accumulation before C may fire
    winsor: float = 3.5  # |y| is clipped here: with k = 0.5, one day adds at most 3.0, well under h
    signs_window: int = 7
    signs_days: int = 3
    recent_days: int = 14  # the recent window for thinning
    regular_rate: float = 0.5  # "regular use": check-ins on at least this share of reference days
    thinning_ratio: float = 0.25  # recent rate below this share of the reference rate is thinning
    silence_gaps: float = 5.0  # a silence longer than this many usual gaps (and at least silence_min_days)
    silence_min_days: int = 10
    csd_window: int = 30  # days in each rolling window
    csd_min_days: int = 20  # observed days needed in a window
    csd_trend: int = 28  # indicator values over which the trend is measured
    csd_tau: float = 0.5  # both taus above this
    cooldown: dict = field(
        default_factory=lambda: {"baseline": 14, "warning_signs": 7, "disengagement": 14, "critical_slowing_down": 28}
    )

    def __post_init__(self) -> None:
        # close_day counts the windows as days enter and leave them: each lies inside the ring, and the baseline
        # window ends before today (a day's episode flag is final once the day has closed).
        inside = (self.signs_window, self.recent_days, self.csd_window, self.ring_days - self.reference_lag)
        if self.reference_lag < 1 or not all(1 <= days <= self.ring_days for days in inside):
            raise ValueError("every window must fit in the ring, and the baseline must end before today")

    def cooldown_days(self) -> np.ndarray:
        days = [self.cooldown["baseline"]] * (2 * N_SERIES)
        days += [self.cooldown["warning_signs"], self.cooldown["disengagement"], self.cooldown["critical_slowing_down"]]
        return np.array(days, dtype=float)


DEFAULT = Parameters()

# The state's fields and their shapes per member. The order is the storage layout: changing it changes
# LAYOUT_VERSION, and stored states of another version are rebuilt from history.
LAYOUT_VERSION = 3


def _fields(p: Parameters) -> list[tuple[str, tuple[int, ...]]]:
    return [
        ("last_day", ()),  # the last closed day (NEVER before any)
        ("first_day", ()),  # the first day with a check-in
        ("pending_day", ()),  # the day now being collected (NEVER before any)
        ("acc_sum", (N_SCALES,)),  # the pending day's sums, counts, check-ins and warning signs
        ("acc_n", (N_SCALES,)),
        ("acc_checkins", ()),
        ("acc_signs", ()),
        ("ring", (p.ring_days, N_CHANNELS)),
        ("base_median", (N_SERIES,)),
        ("base_sigma", (N_SERIES,)),
        ("base_n", (N_SERIES,)),
        ("base_day", ()),
        ("ewma", (N_SERIES,)),
        ("ewma_t", (N_SERIES,)),
        ("ewma_run", (N_SERIES,)),
        ("cusum", (N_SERIES,)),
        ("cusum_run", (N_SERIES,)),
        ("cooldown_until", (len(KEYS),)),
        ("last_checkin_day", ()),
        # Running counts over the ring as of last_day, kept as days enter and leave their windows (so no window is
        # summed every day): days with a value of each series in the baseline window (outside episodes), days with
        # a check-in in the disengagement reference window and in the recent window, and days with a warning sign
        # in the warning-sign window.
        ("baseline_days", (N_SERIES,)),
        ("checkin_days_reference", ()),
        ("checkin_days_recent", ()),
        ("sign_days", ()),
        ("csd_ar1", (p.csd_trend,)),
        ("csd_var", (p.csd_trend,)),
    ]


_LAYOUTS: dict[tuple[int, int], tuple[list, int]] = {}


def _layout(p: Parameters) -> tuple[list, int]:
    """(name, shape, offset, size) of each field, and the row width; worked out once per parameters."""
    key = (p.ring_days, p.csd_trend)
    if key not in _LAYOUTS:
        layout, offset = [], 0
        for name, shape in _fields(p):
            size = int(np.prod(shape)) if shape else 1
            layout.append((name, shape, offset, size))
            offset += size
        _LAYOUTS[key] = (layout, offset)
    return _LAYOUTS[key]


def row_width(p: Parameters = DEFAULT) -> int:
    """The number of floats in one member's state."""
    return _layout(p)[1]


class State:
    """Detector state of `n` members: one float64 matrix, its fields exposed as views (so `state.ewma[i]` is a
    row of it). `row_bytes(i)` and `from_rows` store and load one member's state.

    The matrix is kept column by column (Fortran order): one field of every row is contiguous, and `close_day`
    works field by field over all rows (on a row-ordered matrix of thousands of members each of its steps would
    touch one cache line per member)."""

    def __init__(self, n: int, p: Parameters = DEFAULT, matrix: np.ndarray | None = None) -> None:
        self.p = p
        self.layout, self.width = _layout(p)
        if matrix is None:
            matrix = np.zeros((n, self.width), order="F")
            self.matrix = matrix
            self._bind()
            self.reset(np.ones(n, dtype=bool))
        else:
            if matrix.shape != (n, self.width):
                raise ValueError("stored state does not match the layout")
            self.matrix = matrix
            self._bind()

    def _bind(self) -> None:
        n = self.matrix.shape[0]
        for name, shape, offset, size in self.layout:
            if name == "ring":
                self.ring_column = offset  # the matrix column of day slot 0, channel 0
            view = self.matrix[:, offset : offset + size]
            view = view.reshape((n, *shape)) if shape else view[:, 0]
            if not np.may_share_memory(view, self.matrix):  # reshaping a column slice never copies; make sure
                raise ValueError("a field is not a view of the state")
            setattr(self, name, view)

    @classmethod
    def empty(cls, n: int, p: Parameters = DEFAULT, memory: np.ndarray | None = None) -> State:
        """An empty state of `n` rows, in `memory` when given (a flat float array of n × row_width(p), reused:
        whatever it held is reset)."""
        if memory is None:
            return cls(n, p)
        state = cls(n, p, memory.reshape(row_width(p), n).T)  # column by column, as a new state is
        state.reset(np.ones(n, dtype=bool))
        return state

    def __len__(self) -> int:
        return self.matrix.shape[0]

    def reset(self, rows: np.ndarray) -> None:
        self.matrix[rows] = 0.0
        for name in ("last_day", "first_day", "pending_day", "base_day", "last_checkin_day"):
            getattr(self, name)[rows] = NEVER
        self.ring[rows] = np.nan
        self.ring[rows, :, CH_CHECKINS:CH_SERIES] = 0.0
        for name in ("base_median", "base_sigma", "csd_ar1", "csd_var"):
            getattr(self, name)[rows] = np.nan
        self.cooldown_until[rows] = NEVER

    def row_bytes(self, index: int) -> bytes:
        return self.matrix[index].astype("<f8").tobytes()

    @classmethod
    def from_rows(cls, rows: list[bytes | None], p: Parameters = DEFAULT) -> State:
        """Load stored rows; a missing or wrongly sized one starts empty."""
        _layout_fields, width = _layout(p)
        if all(raw and len(raw) == width * 8 for raw in rows):
            # The usual case (the live path loads one stored row): no empty state to build first.
            matrix = np.frombuffer(b"".join(rows), dtype="<f8").reshape(len(rows), width)
            return cls(len(rows), p, np.asfortranarray(matrix) if len(rows) > 1 else matrix.copy())
        state = cls(len(rows), p)
        for index, raw in enumerate(rows):
            if raw and len(raw) == state.width * 8:
                state.matrix[index] = np.frombuffer(raw, dtype="<f8")
        return state

    def copy(self) -> State:
        return State(len(self), self.p, self.matrix.copy(order="K"))

    def take(self, rows) -> State:
        # Rows of the transposed matrix (contiguous columns), so the copy is column-ordered too.
        index = np.arange(len(self))[rows]
        return State(len(index), self.p, self.matrix.T[:, index].T)


@dataclass(frozen=True)
class DayResult:
    """What closing one day found: `fired[i, k]` for member row i and detector key k, with the statistic and
    its limit (for the evidence), and the baseline detectors' values for that day."""

    day: int
    fired: np.ndarray  # bool (n, len(KEYS))
    statistic: np.ndarray  # float (n, len(KEYS))
    limit: np.ndarray  # float (n, len(KEYS))
    y: np.ndarray  # standardised deviation per series (n, N_SERIES), NaN without baseline or value


def _quiet_nan(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        return function(*args, **kwargs)


def ring_window(state: State, day, first: int, last: int) -> np.ndarray:
    """The ring's rows for days day+first … day+last (first, last ≤ 0), oldest first: (n, days, channels).
    `day` is one day for all rows or one per row."""
    offsets = np.arange(first, last + 1)
    days = np.asarray(day, dtype=np.int64).reshape(-1, 1) + offsets[None, :]
    slots = days % state.p.ring_days
    rows = np.arange(len(state))[:, None]
    return state.ring[rows, slots]


def _window(state: State, day: int, first: int, last: int, channels, rows=None) -> np.ndarray:
    """The ring's values of `channels` (a sequence) for days day+first … day+last (first, last ≤ 0), one day
    for all rows (or only `rows`, an index array): (n, channels, days), oldest day first. One gather of just
    these matrix columns, so the day loop of a rescan copies what it uses and nothing more."""
    slots = (int(day) + np.arange(first, last + 1)) % state.p.ring_days
    channels = np.asarray(channels, dtype=np.int64)
    columns = (state.ring_column + slots[None, :] * N_CHANNELS + channels[:, None]).ravel()
    matrix = state.matrix
    if rows is None:
        gathered = matrix[:, columns]
    elif matrix.flags.f_contiguous:  # by flat positions: quicker than indexing both axes
        gathered = np.take(matrix.T.reshape(-1), columns[None, :] * len(matrix) + rows[:, None])
    elif matrix.flags.c_contiguous:
        gathered = np.take(matrix.reshape(-1), rows[:, None] * matrix.shape[1] + columns[None, :])
    else:
        gathered = matrix[rows[:, None], columns[None, :]]
    return gathered.reshape(-1, len(channels), len(slots))


def _median_and_mad(window: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.nanmedian of each series over the days of a window gathered with `_BASELINE_CHANNELS` (rows, channels,
    days), days inside an episode left out, and the median of the absolute deviations from it; `count` is the
    number of values each series has there. By sorting (NaNs sort last), in the window's own memory, a few rows
    at a time: several times faster than nanmedian on these small windows."""
    median, mad = np.empty(count.shape), np.empty(count.shape)
    for start in range(0, len(window), 1024):
        part = slice(start, start + 1024)
        values = window[part, 1:]  # a view of the series, then made their sorted values, then the deviations
        np.copyto(values, np.nan, where=(window[part, 0] > 0)[:, None, :])
        low, high = np.maximum((count[part] - 1) // 2, 0)[..., None], np.maximum(count[part] // 2, 0)[..., None]
        values.sort(axis=-1)
        middle = (np.take_along_axis(values, low, -1)[..., 0] + np.take_along_axis(values, high, -1)[..., 0]) / 2
        # The deviations' order does not matter: they are sorted in turn (NaN where the values are).
        np.abs(np.subtract(values, middle[..., None], out=values), out=values)
        values.sort(axis=-1)
        deviation = (np.take_along_axis(values, low, -1)[..., 0] + np.take_along_axis(values, high, -1)[..., 0]) / 2
        median[part] = np.where(count[part] > 0, middle, np.nan)
        mad[part] = np.where(count[part] > 0, deviation, np.nan)
    return median, mad


# The channels a baseline refresh reads: whether each day lies inside an episode, then the watched series.
_BASELINE_CHANNELS = [CH_EXCLUDED, *range(CH_SERIES, CH_SERIES + N_SERIES)]


def _refresh_baseline(state: State, day: int, due: np.ndarray) -> None:
    p = state.p
    rows = np.flatnonzero(due)
    count = state.baseline_days[rows].astype(np.int64)  # the running count of the window's values
    enough = count >= p.min_observations
    # The window is read only for rows with enough days in some series: the others get no baseline (often many:
    # members without one yet are due every day).
    median = np.full(count.shape, np.nan)
    mad = np.full(count.shape, np.nan)
    some = np.flatnonzero(enough.any(axis=1))
    if len(some):
        window = _window(state, day, -(p.ring_days - 1), -p.reference_lag, _BASELINE_CHANNELS, rows[some])
        median[some], mad[some] = _median_and_mad(window, count[some])
    sigma = np.maximum(MAD_TO_SIGMA * mad, SIGMA_FLOOR[None, :])
    had = ~np.isnan(state.base_median[rows])
    state.base_median[rows] = np.where(enough, median, np.nan)
    state.base_sigma[rows] = np.where(enough, sigma, np.nan)
    state.base_n[rows] = count
    state.base_day[rows] = day
    # A baseline that appears for the first time starts the charts from zero.
    new_rows, new_series = np.nonzero(enough & ~had)
    if len(new_rows):
        for name in ("ewma", "ewma_t", "ewma_run", "cusum", "cusum_run"):
            getattr(state, name)[rows[new_rows], new_series] = 0.0


def _baseline_values(window: np.ndarray) -> np.ndarray:
    """The series of ring days gathered with `_BASELINE_CHANNELS` ((rows, channels, days) -> (rows, series,
    days)), NaN on days inside an episode."""
    return np.where((window[:, 0] > 0)[:, None, :], np.nan, window[:, 1:])


def _count_windows(state: State, day: int, rows: np.ndarray) -> None:
    """Count the rule windows of `rows` afresh from the ring, as of `day` (after days were skipped)."""
    p = state.p
    window = _window(state, day, -(p.ring_days - 1), -p.reference_lag, _BASELINE_CHANNELS, rows)
    state.baseline_days[rows] = (~np.isnan(_baseline_values(window))).sum(axis=-1)
    checkins = _window(state, day, -(p.ring_days - 1), 0, (CH_CHECKINS,), rows)[:, 0] > 0
    state.checkin_days_reference[rows] = checkins[:, : p.ring_days - p.recent_days].sum(axis=1)
    state.checkin_days_recent[rows] = checkins[:, p.ring_days - p.recent_days :].sum(axis=1)
    signs = _window(state, day, -(p.signs_window - 1), 0, (CH_SIGNS,), rows)[:, 0]
    state.sign_days[rows] = (signs > 0).sum(axis=1)


def _kendall_tau(series: np.ndarray) -> np.ndarray:
    """Kendall's tau-a of each row against time (rows of equal length; NaNs are left out pairwise)."""
    n = series.shape[1]
    i, j = np.triu_indices(n, k=1)
    concordance, pairs = np.empty(len(series), dtype=np.int64), np.empty(len(series), dtype=np.int64)
    for start in range(0, len(series), 256):  # (rows, pairs) at a time that stay in the processor's cache
        part = series[start : start + 256]
        difference = part[:, j] - part[:, i]
        concordance[start : start + 256] = (difference > 0).sum(axis=1) - (difference < 0).sum(axis=1)
        pairs[start : start + 256] = (~np.isnan(difference)).sum(axis=1)
    return np.where(pairs > 0, concordance / np.maximum(pairs, 1), np.nan)


def _detrended_indicators(values: np.ndarray, min_days: int) -> tuple[np.ndarray, np.ndarray]:
    """Lag-1 autocorrelation and variance of each row after removing its least-squares line (NaN = missing)."""
    n = values.shape[1]
    t = np.arange(n, dtype=float)[None, :]
    observed = ~np.isnan(values)
    count = observed.sum(axis=1)
    x = np.where(observed, values, 0.0)
    w = observed.astype(float)
    mean_t = (w * t).sum(axis=1) / np.maximum(count, 1)
    mean_x = x.sum(axis=1) / np.maximum(count, 1)
    ct = (t - mean_t[:, None]) * w
    slope = (ct * (x - mean_x[:, None])).sum(axis=1) / np.maximum((ct * ct).sum(axis=1), 1e-12)
    residual = np.where(observed, x - mean_x[:, None] - slope[:, None] * (t - mean_t[:, None]), np.nan)
    variance = _quiet_nan(np.nanvar, residual, axis=1)
    a, b = residual[:, :-1], residual[:, 1:]
    both = ~np.isnan(a) & ~np.isnan(b)
    numerator = np.where(both, a * b, 0.0).sum(axis=1)
    denominator = np.where(observed, residual * residual, 0.0).sum(axis=1)
    ar1 = np.where((both.sum(axis=1) >= 3) & (denominator > 0), numerator / np.maximum(denominator, 1e-12), np.nan)
    enough = count >= min_days
    return np.where(enough, ar1, np.nan), np.where(enough, variance, np.nan)


def close_day(
    state: State,
    day: int,
    values: np.ndarray,
    checkins: np.ndarray,
    signs: np.ndarray,
    *,
    csd: np.ndarray | None = None,
    series: np.ndarray | None = None,
) -> DayResult:
    """Move every row forward to `day` (the day after each row's last closed day, or later: days between are
    closed as days without check-ins) with that day's mean per scale (`values`, NaN where not answered), number
    of check-ins and number of warning signs reported. `csd` marks rows whose program runs the experimental
    detector; `series` are `series_of(values)`, when the caller has worked them out already. Returns what fired;
    cooldowns are applied and set here."""
    p = state.p
    n = len(state)
    values = np.asarray(values, dtype=float).reshape(n, N_SCALES)
    checkins = np.asarray(checkins, dtype=float).reshape(n)
    signs = np.asarray(signs, dtype=float).reshape(n)

    # The days that enter and leave the rule windows when the day after last_day closes: day − reference_lag
    # enters the baseline window, day − recent_days moves from the recent window to the reference window,
    # day − ring_days (in the slot this day overwrites) leaves the ring, day − signs_window leaves the
    # warning-sign window. Read before the slot is written.
    slot = day % p.ring_days
    enters_baseline = _baseline_values(
        state.ring[:, (day - p.reference_lag) % p.ring_days][:, _BASELINE_CHANNELS, None]
    )
    leaves_baseline = _baseline_values(state.ring[:, slot][:, _BASELINE_CHANNELS, None])
    leaves_recent = state.ring[:, (day - p.recent_days) % p.ring_days, CH_CHECKINS] > 0
    leaves_reference = state.ring[:, slot, CH_CHECKINS] > 0
    leaves_signs = state.ring[:, (day - p.signs_window) % p.ring_days, CH_SIGNS] > 0

    # Days skipped since the last closed day are empty days; a gap longer than the ring clears it.
    gap = np.where(state.last_day == NEVER, 0, day - state.last_day - 1)
    for offset in range(1, int(min(gap.max(initial=0), p.ring_days)) + 1):
        rows = gap >= offset
        skipped = int(day - offset) % p.ring_days
        state.ring[rows, skipped, :N_SCALES] = np.nan
        state.ring[rows, skipped, CH_CHECKINS:CH_SERIES] = 0.0
        state.ring[rows, skipped, SERIES_CHANNELS] = np.nan
    state.ring[:, slot, :N_SCALES] = values
    series = series_of(values) if series is None else np.asarray(series, dtype=float).reshape(n, N_SERIES)
    state.ring[:, slot, SERIES_CHANNELS] = series
    state.ring[:, slot, CH_CHECKINS] = checkins
    state.ring[:, slot, CH_SIGNS] = signs
    active = checkins > 0
    # The running window counts move one day (an empty state's ring holds no check-ins or signs to leave);
    # rows that skipped days, or closed a day again, are counted afresh.
    state.baseline_days[:] += (~np.isnan(enters_baseline[:, :, 0])).astype(float) - ~np.isnan(leaves_baseline[:, :, 0])
    state.checkin_days_recent[:] += active.astype(float) - leaves_recent
    state.checkin_days_reference[:] += leaves_recent.astype(float) - leaves_reference
    state.sign_days[:] += (signs > 0).astype(float) - leaves_signs
    recount = (state.last_day != NEVER) & (state.last_day != day - 1)
    if recount.any():
        _count_windows(state, day, np.flatnonzero(recount))
    state.first_day[:] = np.where((state.first_day == NEVER) & active, day, state.first_day)
    state.last_checkin_day[:] = np.where(active, day, state.last_checkin_day)
    state.last_day[:] = day

    due = (state.first_day != NEVER) & (
        (state.base_day == NEVER) | (day - state.base_day >= p.refresh_every) | np.isnan(state.base_median).all(axis=1)
    )
    if due.any():
        _refresh_baseline(state, day, due)

    # Column by column, like the state's fields: each detector's column is contiguous.
    fired = np.zeros((n, len(KEYS)), dtype=bool, order="F")
    statistic = np.full((n, len(KEYS)), np.nan, order="F")
    limit = np.full((n, len(KEYS)), np.nan, order="F")

    # EWMA and CUSUM on the standardised deviation, in the direction that is worse for each scale.
    y = DIRECTION[None, :] * (series - state.base_median) / state.base_sigma
    y = np.clip(y, -p.winsor, p.winsor)
    observed = ~np.isnan(y)
    lam = p.ewma_lambda
    # (In place, only where observed: np.copyto(..., where=) rather than rebuilding the whole field.)
    np.copyto(state.ewma, lam * y + (1 - lam) * state.ewma, where=observed)
    state.ewma_t += observed
    sigma_z = np.sqrt(lam / (2 - lam) * (1 - (1 - lam) ** (2 * state.ewma_t)))
    beyond = observed & (state.ewma > p.ewma_limit * sigma_z)
    np.copyto(state.ewma_run, np.where(beyond, state.ewma_run + 1, 0.0), where=observed)
    fired[:, K_EWMA : K_EWMA + N_SERIES] = beyond & (state.ewma_run >= p.ewma_persistence)
    statistic[:, K_EWMA : K_EWMA + N_SERIES] = np.where(observed, state.ewma, np.nan)
    limit[:, K_EWMA : K_EWMA + N_SERIES] = p.ewma_limit * sigma_z

    cusum = np.where(observed, np.maximum(0.0, state.cusum + y - p.cusum_k), state.cusum)
    np.copyto(state.cusum_run, np.where(cusum > 0, state.cusum_run + 1, 0.0), where=observed)
    signal = observed & (cusum > p.cusum_h) & (state.cusum_run >= p.cusum_persistence)
    fired[:, K_CUSUM : K_CUSUM + N_SERIES] = signal
    statistic[:, K_CUSUM : K_CUSUM + N_SERIES] = np.where(observed, cusum, np.nan)
    limit[:, K_CUSUM : K_CUSUM + N_SERIES] = p.cusum_h
    # Page's scheme restarts after a signal (also when the cooldown holds the alert back), not before one: C over
    # h with too few days of accumulation keeps accumulating.
    state.cusum[:] = np.where(signal, 0.0, cusum)
    state.cusum_run[signal] = 0.0

    # The member's own warning signs, reported on several recent days.
    sign_days = state.sign_days
    fired[:, K_SIGNS] = (signs > 0) & (sign_days >= p.signs_days)
    statistic[:, K_SIGNS] = sign_days
    limit[:, K_SIGNS] = p.signs_days

    # Disengagement: needs a full reference window of history, and regular use in it.
    history = day - state.first_day >= p.ring_days - 1
    reference_rate = state.checkin_days_reference / (p.ring_days - p.recent_days)
    recent_rate = state.checkin_days_recent / p.recent_days
    regular = history & (state.first_day != NEVER) & (reference_rate >= p.regular_rate)
    thinning = recent_rate < p.thinning_ratio * reference_rate
    usual_gap = 1.0 / np.maximum(reference_rate, 1e-9)
    silence = day - state.last_checkin_day
    silent = silence >= np.maximum(p.silence_min_days, np.ceil(p.silence_gaps * usual_gap))
    fired[:, K_DISENGAGEMENT] = regular & (thinning | silent)
    statistic[:, K_DISENGAGEMENT] = recent_rate
    limit[:, K_DISENGAGEMENT] = p.thinning_ratio * reference_rate

    # Critical slowing down (experimental): only for rows whose program turned it on.
    if csd is not None and np.any(csd):
        rows = np.flatnonzero(np.asarray(csd, dtype=bool))
        window = _window(state, day, -(p.csd_window - 1), 0, (0,), rows)[:, 0]
        ar1, variance = _detrended_indicators(10.0 - window, p.csd_min_days)
        state.csd_ar1[rows] = np.roll(state.csd_ar1[rows], -1, axis=1)
        state.csd_var[rows] = np.roll(state.csd_var[rows], -1, axis=1)
        state.csd_ar1[rows, -1] = ar1
        state.csd_var[rows, -1] = variance
        enough = (~np.isnan(state.csd_ar1[rows])).sum(axis=1) >= p.csd_trend // 2
        tau_ar1 = _kendall_tau(state.csd_ar1[rows])
        tau_var = _kendall_tau(state.csd_var[rows])
        fired[rows, K_CSD] = enough & (tau_ar1 > p.csd_tau) & (tau_var > p.csd_tau)
        statistic[rows, K_CSD] = np.fmin(tau_ar1, tau_var)
        limit[rows, K_CSD] = p.csd_tau

    # A detector that fired stays quiet for its cooldown; what it would have said joins the open episode.
    fired &= state.cooldown_until <= day
    fired &= ~np.isnan(statistic)
    np.copyto(state.cooldown_until, day + p.cooldown_days()[None, :], where=fired)
    # The day is inside an episode (left out of the baseline) when a baseline detector's cooldown covers it, the
    # day that opened the episode included. Decided after the day's firings, so the day reads the same whether
    # its firing was raised live by the check-in that tipped it or when the day closed (a rebuild, a replay).
    state.ring[:, slot, CH_EXCLUDED] = (state.cooldown_until[:, BASELINE_KEYS] > day).any(axis=1)
    return DayResult(day=day, fired=fired, statistic=statistic, limit=limit, y=y)


def accumulate(state: State, row: int, scales: np.ndarray, signs: int) -> None:
    """Add one check-in (its scale values, NaN where not answered) to the row's pending day."""
    answered = ~np.isnan(scales)
    state.acc_sum[row] += np.where(answered, scales, 0.0)
    state.acc_n[row] += answered
    state.acc_checkins[row] += 1
    state.acc_signs[row] += signs


def pending_values(state: State) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pending day's means per scale (NaN where none), check-ins and warning signs."""
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(state.acc_n > 0, state.acc_sum / np.maximum(state.acc_n, 1), np.nan)
    return means, state.acc_checkins.copy(), state.acc_signs.copy()


def clear_pending(state: State, rows, day) -> None:
    state.acc_sum[rows] = 0.0
    state.acc_n[rows] = 0.0
    state.acc_checkins[rows] = 0.0
    state.acc_signs[rows] = 0.0
    state.pending_day[rows] = day


# Questionnaires ------------------------------------------------------------------------------------------------

# Reliable change (NHS Talking Therapies convention): PHQ-9 ≥ 6 points, GAD-7 ≥ 4. For WHO-5 a change of 10
# points on its percentage scale is the documented clinically relevant change (Topp et al. 2015); lower is worse.
RELIABLE_CHANGE = {"phq9": 6, "gad7": 4, "who5": 10}
WORSE_WHEN_LOWER = {"who5"}
QUESTIONNAIRE_BASELINE = 3  # the baseline is the median of up to this many earlier results
QUESTIONNAIRE_MIN_EARLIER = 2  # one earlier result is too noisy a baseline to call a change reliable

# A questionnaire is one snapshot a fortnight; a member who checks in most days has also said, day by day, how the
# last weeks went. When those daily check-ins can speak (a baseline, and check-ins on at least DAILY_MIN_DAYS of
# the DAILY_WINDOW days before the questionnaire) a worse questionnaire fires only if they lean the same way: the
# distress EWMA at least DAILY_AGREEMENT baseline σ above the member's usual. Without enough daily data the
# questionnaire speaks alone.
DAILY_WINDOW = 14
DAILY_MIN_DAYS = 4
DAILY_AGREEMENT = 0.5


@dataclass(frozen=True)
class DailyView:
    """What the member's daily check-ins said before a questionnaire's day: the distress EWMA in baseline σ
    (None without a baseline) and the days with a check-in among the DAILY_WINDOW days before it."""

    ewma: float | None
    days: int

    @property
    def speaks(self) -> bool:
        return self.ewma is not None and self.days >= DAILY_MIN_DAYS

    @property
    def agrees(self) -> bool:
        return not self.speaks or self.ewma >= DAILY_AGREEMENT

    def as_evidence(self) -> dict:
        return {"ewma": None if self.ewma is None else round(self.ewma, 2), "days": self.days, "agrees": self.agrees}


def daily_view(state: State, row: int, day: int) -> DailyView:
    """The daily view before `day` from a member's stored state (days closed so far; a pending day before `day`
    counts as a day with check-ins if it has any)."""
    p = state.p
    ewma = None if np.isnan(state.base_median[row, 0]) else float(state.ewma[row, 0])
    last = int(state.last_day[row])
    days = 0
    if last != NEVER:
        first = max(day - DAILY_WINDOW, last - p.ring_days + 1)
        through = min(day - 1, last)
        if through >= first:
            slots = np.arange(first, through + 1) % p.ring_days
            days = int((state.ring[row, slots, CH_CHECKINS] > 0).sum())
    pending = int(state.pending_day[row])
    if pending != NEVER and day - DAILY_WINDOW <= pending < day and pending > last and state.acc_checkins[row] > 0:
        days += 1
    return DailyView(ewma=ewma, days=days)


@dataclass(frozen=True)
class QuestionnaireFinding:
    instrument: str
    score: int
    baseline: float | None  # median of the earlier results it was compared with
    previous: int | None
    crossed_caseness: bool
    deteriorated: bool
    is_case: bool = False
    earlier: int = 0  # how many earlier results the baseline had
    daily: DailyView | None = None  # the daily check-ins before it, where known

    @property
    def worse(self) -> bool:
        """Reliable deterioration into caseness: worse than the member's usual by the instrument's reliable
        change, and now a case. A total wandering across the threshold, or a reliable change that stays below
        caseness, is shown on the charts but raises nothing on its own."""
        return self.deteriorated and self.is_case and self.earlier >= QUESTIONNAIRE_MIN_EARLIER

    @property
    def fired(self) -> bool:
        """Worse, and the daily check-ins (where they can speak) agree."""
        return self.worse and (self.daily is None or self.daily.agrees)

    @property
    def held_back(self) -> bool:
        """Worse, but the member's daily check-ins show them at their usual: shown, not raised."""
        return self.worse and not self.fired

    @property
    def rules(self) -> tuple[str, ...]:
        """The rules that hold, by name: caseness (crossed) and deterioration."""
        return tuple(
            name for name, hit in (("caseness", self.crossed_caseness), ("deterioration", self.deteriorated)) if hit
        )

    @property
    def severity(self) -> str:
        """High when the member has just become a case; watch when they were one already and are worse again."""
        return "high" if self.crossed_caseness and self.deteriorated else "watch"


def questionnaire(
    instrument: str,
    score: int,
    is_case: bool | None,
    earlier: list[tuple[int, bool | None]],
    daily: DailyView | None = None,
) -> QuestionnaireFinding:
    """Compare a new total with the member's earlier complete results of the same instrument (newest first):
    caseness crossed (the previous result was not a case, this one is) and reliable deterioration against the
    median of up to three earlier results; `daily` is what the daily check-ins said before it."""
    previous = earlier[0] if earlier else None
    crossed = bool(is_case) and previous is not None and previous[1] is False
    baseline = None
    deteriorated = False
    reliable = RELIABLE_CHANGE.get(instrument)
    if earlier and reliable is not None:
        baseline = float(np.median([value for value, _case in earlier[:QUESTIONNAIRE_BASELINE]]))
        change = baseline - score if instrument in WORSE_WHEN_LOWER else score - baseline
        deteriorated = change >= reliable
    return QuestionnaireFinding(
        instrument=instrument,
        score=score,
        baseline=baseline,
        previous=previous[0] if previous else None,
        crossed_caseness=crossed,
        deteriorated=deteriorated,
        is_case=bool(is_case),
        earlier=min(len(earlier), QUESTIONNAIRE_BASELINE),
        daily=daily,
    )


def sigma_z(t: int, lam: float = DEFAULT.ewma_lambda) -> float:
    """σ of the EWMA after t observations, in units of the process σ."""
    return sqrt(lam / (2 - lam) * (1 - (1 - lam) ** (2 * t)))
