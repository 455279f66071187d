"""Running the detectors over history, many members at once: daily arrays from check-in columns, then one
`close_day` per calendar day. Used by `rescan` (from the database), `replay` (one member) and `evaluate`
(synthetic cohorts held in memory)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from alongside.signals import detectors
from alongside.signals.detectors import N_SCALES, N_SERIES, Parameters, State


@dataclass(frozen=True)
class Daily:
    """Per member and day (rows, days): the mean of each scale (NaN where not answered), check-ins and
    warning signs reported. Day 0 is the ordinal `first_day`."""

    first_day: int
    values: np.ndarray  # float (n, days, N_SCALES)
    checkins: np.ndarray  # float (n, days)
    signs: np.ndarray  # float (n, days)
    series: np.ndarray | None = None  # the watched series of `values` (n, days, N_SERIES), when worked out already

    @property
    def days(self) -> int:
        return self.checkins.shape[1]


class Buffers:
    """Arrays kept from one call to the next (a rescan's blocks), each grown when too small. Memory the process
    has not used before costs the kernel a fault and a cleared page (on the virtual machines measured in
    docs/performance.md, more than the work done in it), and a block's daily arrays take hundreds of megabytes;
    reusing them leaves that cost to the first block."""

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}

    def get(self, name: str, size: int, dtype=float) -> np.ndarray:
        """A flat array of `size` elements, holding whatever was left in it."""
        array = self._arrays.get(name)
        if array is None or array.size < size or array.dtype != np.dtype(dtype):
            array = self._arrays[name] = np.empty(size + size // 8, dtype=dtype)  # room for a bigger block
        return array[:size]


# Check-ins aggregated at a time: the temporaries stay a few megabytes, whatever the number of check-ins.
CHUNK = 1 << 16


def daily(
    n: int,
    first_day: int,
    days: int,
    row: np.ndarray,
    day: np.ndarray,
    scales: np.ndarray,
    signs: np.ndarray,
    *,
    buffers: Buffers | None = None,
) -> Daily:
    """Aggregate check-ins (their member row, day offset, scale values (k, N_SCALES) with NaN for not asked,
    and warning-sign counts) into daily means, vectorised.

    The arrays are laid out day by day (a view (n, days, ...) of (days, n, ...) memory), so one day of every
    member, which `close_day` takes, is contiguous. A day's sums add its check-ins one at a time in their given
    order, starting from zero, the way the live path accumulates them. With `buffers`, the arrays are views of
    its arrays (valid until the next call with them)."""
    row = np.asarray(row, dtype=np.int64)
    day = np.asarray(day, dtype=np.int64)
    scales = np.asarray(scales, dtype=float).reshape(-1, N_SCALES)
    signs = np.asarray(signs, dtype=float).reshape(-1)
    size = days * n
    if buffers is None:
        values, series = np.empty(size * N_SCALES), np.empty(size * N_SERIES)
        checkins, sign_counts = np.empty(size), np.empty(size)
    else:
        values, series = buffers.get("values", size * N_SCALES), buffers.get("series", size * N_SERIES)
        checkins, sign_counts = buffers.get("checkins", size), buffers.get("signs", size)
    values.fill(np.nan)
    series.fill(np.nan)
    checkins.fill(0.0)
    sign_counts.fill(0.0)
    # Day by day, and in a day scale by scale: one day of every member is a column-ordered (n, N_SCALES) block,
    # as the fields of a State are.
    values, series = values.reshape(days, N_SCALES, n), series.reshape(days, N_SERIES, n)
    # The check-ins of one member and day next to each other, in their given order (they are already when they
    # come ordered by member and day, as the rescan reads them).
    key = row * days + day
    order = None if len(key) < 2 or (key[1:] >= key[:-1]).all() else np.argsort(key, kind="stable")
    begin = 0
    while begin < len(key):
        # A chunk of check-ins that ends with a member-day.
        end = min(begin + CHUNK, len(key))
        if order is None:
            while end < len(key) and key[end] == key[end - 1]:
                end += 1
            picked = slice(begin, end)
        else:
            while end < len(key) and key[order[end]] == key[order[end - 1]]:
                end += 1
            picked = order[begin:end]
        _aggregate(n, days, key[picked], scales[picked], signs[picked], values, series, checkins, sign_counts)
        begin = end
    return Daily(
        first_day=first_day,
        values=values.transpose(2, 0, 1),
        checkins=checkins.reshape(days, n).T,
        signs=sign_counts.reshape(days, n).T,
        series=series.transpose(2, 0, 1),
    )


def _aggregate(n, days, key, scales, signs, values, series, checkins, sign_counts) -> None:
    """One chunk of check-ins (whole member-days, grouped) into the day-by-day arrays."""
    starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
    lengths = np.diff(np.append(starts, len(key)))
    answered = ~np.isnan(scales)
    addends = np.where(answered, scales, 0.0)  # adding 0.0 leaves a sum as it is
    # Every member-day's first check-in added to zero (which makes a -0.0 +0.0, as summing from zero does),
    # then the j-th of those with more than j, for j = 1, 2, ...: a few vectorised passes.
    total = addends[starts] + 0.0
    count = answered[starts].astype(float)
    sign_total = signs[starts] + 0.0
    cells = np.arange(len(starts))
    for j in range(1, int(lengths.max())):
        cells = cells[lengths[cells] > j]
        index = starts[cells] + j
        total[cells] += addends[index]
        count[cells] += answered[index]
        sign_total[cells] += signs[index]
    first = key[starts]
    day, row = first % days, first // days
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    values[day, :, row] = means
    series[day, :, row] = detectors.series_of(means)  # a day without check-ins has none: NaN
    at = day * n + row  # the member-day's place, day by day
    checkins[at] = lengths
    sign_counts[at] = sign_total


@dataclass(frozen=True, eq=False)
class DailyViews:
    """What the daily check-ins said before each day (`detectors.DailyView`), for the questionnaire rule in a
    replay or an evaluation: per member and day offset of a `Daily`, the distress EWMA in baseline σ once that
    day had closed (NaN without a baseline), and the running count of days with a check-in before each offset.
    `recording(data, state)` gives an empty one and the `on_day` callback of `run` that fills it."""

    ewma: np.ndarray  # float (n, days)
    checkin_days: np.ndarray  # int (n, days + 1): days with a check-in on offsets 0 … i − 1

    @classmethod
    def recording(cls, data: Daily, state: State) -> tuple[DailyViews, Callable[[int, detectors.DayResult], None]]:
        n = data.checkins.shape[0]
        counts = np.zeros((n, data.days + 1), dtype=np.int64)
        np.cumsum(data.checkins > 0, axis=1, out=counts[:, 1:])
        views = cls(ewma=np.full((n, data.days), np.nan), checkin_days=counts)

        def keep(offset: int, _result: detectors.DayResult) -> None:
            views.ewma[:, offset] = np.where(np.isnan(state.base_median[:, 0]), np.nan, state.ewma[:, 0])

        return views, keep

    def view(self, row: int, day: int) -> detectors.DailyView:
        """Before day offset `day` (clamped to the data: before its first day nothing is known, after its last
        the last closed day speaks)."""
        day = min(day, self.ewma.shape[1])
        if day <= 0:
            return detectors.DailyView(ewma=None, days=0)
        ewma = self.ewma[row, day - 1]
        start = max(day - detectors.DAILY_WINDOW, 0)
        days = int(self.checkin_days[row, day] - self.checkin_days[row, start])
        return detectors.DailyView(ewma=None if np.isnan(ewma) else float(ewma), days=days)


@dataclass(frozen=True)
class Firings:
    """Everything that fired, one element per firing, ordered by day."""

    row: np.ndarray  # member row
    day: np.ndarray  # ordinal day
    key: np.ndarray  # index into detectors.KEYS
    statistic: np.ndarray
    limit: np.ndarray

    def __len__(self) -> int:
        return len(self.row)


def run(
    data: Daily,
    *,
    p: Parameters = detectors.DEFAULT,
    csd: np.ndarray | None = None,
    state: State | None = None,
    until: int | None = None,
    on_day: Callable[[int, detectors.DayResult], None] | None = None,
) -> tuple[State, Firings]:
    """Close every day of `data` (through `until`, a day offset, if given) for every row, starting from `state`
    (empty by default). Returns the state after the last day and all firings."""
    n = data.checkins.shape[0]
    state = state or State(n, p)
    rows, days, keys, statistics, limits = [], [], [], [], []
    last = data.days if until is None else min(until + 1, data.days)
    for offset in range(last):
        day = data.first_day + offset
        result = detectors.close_day(
            state,
            day,
            data.values[:, offset],
            data.checkins[:, offset],
            data.signs[:, offset],
            csd=csd,
            series=None if data.series is None else data.series[:, offset],
        )
        member_rows, member_keys = np.nonzero(result.fired)
        if len(member_rows):
            rows.append(member_rows)
            days.append(np.full(len(member_rows), day))
            keys.append(member_keys)
            statistics.append(result.statistic[member_rows, member_keys])
            limits.append(result.limit[member_rows, member_keys])
        if on_day is not None:
            on_day(offset, result)

    def joined(parts, dtype):
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

    return state, Firings(
        row=joined(rows, np.int64),
        day=joined(days, np.int64),
        key=joined(keys, np.int64),
        statistic=joined(statistics, float),
        limit=joined(limits, float),
    )
