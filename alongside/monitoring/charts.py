"""Charts of a member's own data, drawn on the server as SVG that can be inlined in a page.

The drawing functions take plain data (dates and numbers) so they can be tested without a database; the
small helpers at the end turn check-ins and questionnaire responses into that data.

Every chart is drawn with matplotlib's object-oriented API (a `Figure` per call, never pyplot's global
state), so concurrent requests in gunicorn threads do not share anything mutable. Its SVG is then
rewritten to suit the site:

- no XML declaration or DOCTYPE, so it can be inlined in HTML;
- `role="img"`, a `<title>` and a `<desc>` in words, referred to by `aria-labelledby`;
- no `style` attributes and no `<style>` element: the Content-Security-Policy blocks inline styles, so
  each CSS declaration matplotlib writes becomes the equivalent SVG presentation attribute, which CSP
  does not govern;
- every id prefixed with a hash of the chart, because matplotlib numbers its ids from 1 in each figure and
  two charts on one page would otherwise collide;
- a `viewBox` with width 100% and no fixed height, so it scales to the width of a phone.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import math
import re
import statistics
import textwrap
import threading
import xml.etree.ElementTree as ET
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from xml.sax.saxutils import escape, quoteattr

import matplotlib
from django.utils import dateformat, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import Bbox

from alongside.monitoring import instruments

# The SVG backend reads these when it renders, so they are set once here rather than per call (changing
# rcParams per call would race between threads). Text stays text (smaller, selectable, readable by
# assistive technology); a fixed salt makes matplotlib's hashed ids, and so the output, deterministic.
matplotlib.rcParams["svg.fonttype"] = "none"
matplotlib.rcParams["svg.hashsalt"] = "alongside-charts"

MIN_VALUES_FOR_RANGE = 7
MAD_TO_SD = 1.4826  # scales the MAD to the standard deviation for normally distributed data

FIGSIZE = (5.6, 2.8)  # inches; about 400 units wide, so text stays legible when scaled to a phone
FONT_FAMILY = 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif'  # the site's stack
TITLE_SIZE = 14
TEXT_SIZE = 12
SMALL_SIZE = 11

# The site's palette (site.css). Text is INK or INK_SOFT on white or on the light tints below, all at
# least 4.5:1 (WCAG AA for text).
INK = "#1d2433"
INK_SOFT = "#4a5468"
GRID = "#d9dce3"
WHITE = "#ffffff"

# Okabe-Ito colours, distinguishable with the common colour-vision deficiencies, each at least 3:1 against
# white (WCAG AA for graphics); every series also has its own marker shape so colour is not the only cue.
SERIES_COLOURS = ("#0072b2", "#c75300", "#00795c", "#b0437f", "#56607a")
SERIES_MARKERS = ("o", "s", "^", "D", "v")
RANGE_OPACITY = 0.16

# Severity bands: one hue getting darker as the band gets worse, so order does not depend on telling hues
# apart. INK on the darkest is above 7:1.
BAND_TINTS = ("#f3f7fb", "#dde9f4", "#c4d9ec", "#a9c6e2", "#8db3d7")

# Heat map: no check-ins, then 1, 2, 3, 4 or more a day.
HEAT_LEVELS = ("#eef0f4", "#b9d3ea", "#7eaed6", "#3f7fb8", "#1f5f8b")
HEAT_EMPTY_EDGE = "#868d9c"  # 3:1 against white, so days without check-ins still show as cells

SVG_NS = "http://www.w3.org/2000/svg"
AUTO_ID = re.compile(r"^[A-Za-z][\w.]*_\d+$")  # figure_1, axes_1, line2d_3, matplotlib.axis_2, ...
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"

# CSS properties matplotlib writes that SVG also accepts as presentation attributes.
PRESENTATION = frozenset(
    {
        "clip-path",
        "fill",
        "fill-opacity",
        "fill-rule",
        "font-family",
        "font-size",
        "font-stretch",
        "font-style",
        "font-variant",
        "font-weight",
        "opacity",
        "stroke",
        "stroke-dasharray",
        "stroke-dashoffset",
        "stroke-linecap",
        "stroke-linejoin",
        "stroke-miterlimit",
        "stroke-opacity",
        "stroke-width",
        "text-anchor",
        "image-rendering",
        "stop-color",
        "stop-opacity",
    }
)

FIELD_LABELS = {
    "mood": gettext_lazy("Mood"),
    "anxiety": gettext_lazy("Anxiety"),
    "energy": gettext_lazy("Energy"),
    "sleep_hours": gettext_lazy("Hours of sleep"),
    "sleep_quality": gettext_lazy("Sleep quality"),
    "cravings": gettext_lazy("Cravings or urges"),
}

PERIOD_DAYS = {"week": 7, "month": 30}


# --- Numbers ----------------------------------------------------------------------------------------------


def personal_range(values: Iterable[float | None]) -> tuple[float, float] | None:
    """The member's usual range: the median ± 1.4826 times the MAD of their own values (None values are skipped).

    Robust to the odd very good or very bad day, unlike mean ± SD. Returns None, "not enough data yet",
    with fewer than MIN_VALUES_FOR_RANGE values.
    """
    known = [float(value) for value in values if value is not None]
    if len(known) < MIN_VALUES_FOR_RANGE:
        return None
    middle = statistics.median(known)
    spread = statistics.median(abs(value - middle) for value in known) * MAD_TO_SD
    return (middle - spread, middle + spread)


def _num(value: float) -> str:
    """One decimal place, without a trailing ".0": 3, 6.1."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _day(day: date) -> str:
    return dateformat.format(day, "j F")


def _short_day(day: date) -> str:
    return dateformat.format(day, "j M")


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-") or "series"


# --- Sparklines --------------------------------------------------------------------------------------------

SPARK_WIDTH, SPARK_HEIGHT, SPARK_PAD = 112, 28, 2


def sparkline(values: Sequence[float | None], *, low: float = 0, high: float = 10, label: str) -> str:
    """A tiny line of daily values (None where a day has none: the line breaks there), as inline SVG.

    Drawn by hand rather than with matplotlib: it is one polyline per run of days, and a caseload page shows
    dozens of them; a matplotlib figure costs about 5 ms each, this about 0.05 ms. `label` says in words what it
    shows, for screen readers."""
    span = max(high - low, 1e-9)
    step = (SPARK_WIDTH - 2 * SPARK_PAD) / max(len(values) - 1, 1)

    def point(index: int, value: float) -> str:
        x = SPARK_PAD + index * step
        y = SPARK_PAD + (1 - (min(max(value, low), high) - low) / span) * (SPARK_HEIGHT - 2 * SPARK_PAD)
        return f"{x:.1f},{y:.1f}"

    runs, current = [], []
    for index, value in enumerate(values):
        if value is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(point(index, float(value)))
    if current:
        runs.append(current)
    shapes = []
    for run in runs:
        if len(run) == 1:
            x, y = run[0].split(",")
            shapes.append(f'<circle cx="{x}" cy="{y}" r="1.5" fill="currentColor"/>')
        else:
            shapes.append(
                f'<polyline points="{" ".join(run)}" fill="none" stroke="currentColor" stroke-width="1.5" '
                'stroke-linejoin="round" stroke-linecap="round"/>'
            )
    return (
        f'<svg class="sparkline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SPARK_WIDTH} {SPARK_HEIGHT}" '
        f'width="{SPARK_WIDTH}" height="{SPARK_HEIGHT}" role="img" aria-label={quoteattr(label)}>'
        f"<title>{escape(label)}</title>{''.join(shapes)}</svg>"
    )


# --- Drawing ----------------------------------------------------------------------------------------------


def _figure(size=FIGSIZE) -> Figure:
    figure = Figure(figsize=size, facecolor=WHITE, layout="constrained")
    FigureCanvasSVG(figure)
    return figure


def _style_axes(ax, title: str) -> None:
    ax.set_title(title, loc="left", fontsize=TITLE_SIZE, fontweight="bold", color=INK, parse_math=False, pad=8)
    ax.set_facecolor(WHITE)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(INK_SOFT)
    ax.tick_params(colors=INK_SOFT, labelcolor=INK, labelsize=TEXT_SIZE, length=3)


def _empty_note(ax, text: str) -> None:
    ax.text(
        0.5,
        0.5,
        text,
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=TEXT_SIZE,
        color=INK,
        parse_math=False,
    )


def line_chart(
    days: Sequence[date],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    y_label: str,
    y_range: tuple[float, float] = (0, 10),
    typical: Mapping[str, tuple[float, float] | None] | None = None,
    period: str = "month",
) -> str:
    """Daily values over consecutive days, one line per series, as an SVG string.

    `days` are the days shown, oldest first; each list in `series` has one value per day (the day's mean
    when there were several check-ins) or None for a day without one. A missing day is left as a gap: the
    line is never drawn across it, and a day between two gaps shows as a lone point. `typical` gives a
    series' usual range (see `personal_range`), shaded behind it in the series' colour. `period` "week"
    labels every day by weekday; "month" labels one day a week by date.
    """
    if period not in PERIOD_DAYS:
        raise ValueError(f"period must be 'week' or 'month', not {period!r}")
    days = list(days)
    if not days:
        raise ValueError("there are no days to show")
    if any(later <= earlier for earlier, later in itertools.pairwise(days)):
        raise ValueError("days must be in order, each once")
    for name, values in series.items():
        if len(values) != len(days):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(days)} days")
    typical = typical or {}
    title, y_label = str(title), str(y_label)

    # Place each value on its calendar day so that a day missing from `days` is a gap too.
    first = days[0]
    span = (days[-1] - first).days + 1
    x = list(range(span))

    figure = _figure()
    ax = figure.add_subplot()
    _style_axes(ax, title)
    ax.set_ylim(*y_range)
    ax.set_xlim(-0.5, span - 0.5)
    ax.set_ylabel(y_label, fontsize=TEXT_SIZE, color=INK, parse_math=False)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    ax.grid(axis="y", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)

    if period == "week":
        ticks = x
        labels = [f"{dateformat.format(first + timedelta(i), 'D')}\n{(first + timedelta(i)).day}" for i in ticks]
    else:
        ticks = list(range(span - 1, -1, -7))[::-1]  # weekly, ending on the last day
        labels = [_short_day(first + timedelta(i)) for i in ticks]
    ax.set_xticks(ticks, labels, parse_math=False)

    sentences = []
    any_value = False
    for index, (name, values) in enumerate(series.items()):
        name = str(name)
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        by_day = dict(zip(days, values, strict=True))
        y = [math.nan if by_day.get(first + timedelta(i)) is None else float(by_day[first + timedelta(i)]) for i in x]
        usual = typical.get(name)
        if usual is not None:
            low, high = max(usual[0], y_range[0]), min(usual[1], y_range[1])
            if high > low:
                band = ax.axhspan(low, high, color=colour, alpha=RANGE_OPACITY, linewidth=0, zorder=0.5)
                band.set_gid(f"usual-{_slug(name)}")
        (line,) = ax.plot(
            x,
            y,
            color=colour,
            linewidth=2,
            marker=SERIES_MARKERS[index % len(SERIES_MARKERS)],
            markersize=5,
            label=name,
            zorder=3,
        )
        line.set_gid(f"series-{_slug(name)}")
        any_value = any_value or any(value is not None for value in values)
        sentences.append(_describe_series(name, days, values, usual))

    if not any_value:
        _empty_note(ax, _("No check-ins on these days yet."))
    shaded = [index for index, name in enumerate(series) if typical.get(str(name))]
    if len(series) > 1 or shaded:
        handles, names = ax.get_legend_handles_labels()
        if shaded:
            # One range: its own colour; several: a neutral swatch standing for all of them.
            colour = SERIES_COLOURS[shaded[0] % len(SERIES_COLOURS)] if len(shaded) == 1 else INK_SOFT
            usual_patch = Rectangle((0, 0), 1, 1, facecolor=colour, alpha=RANGE_OPACITY * 1.5, linewidth=0)
            handles, names = [*handles, usual_patch], [*names, _("Usual range")]
        legend = figure.legend(
            handles,
            names,
            loc="outside lower center",
            ncols=len(handles),
            frameon=False,
            fontsize=SMALL_SIZE,
            labelcolor=INK,
            handlelength=1.6,
            columnspacing=1.2,
        )
        legend.set_gid("legend")

    layout_key = ("line", period, first, span, title, y_label, y_range, tuple(str(name) for name in series),
                  tuple(bool(typical.get(str(name))) for name in series), any_value)  # fmt: skip
    return _finish(figure, title, " ".join(sentences), layout_key=layout_key)


def _describe_series(name: str, days: list[date], values: Sequence[float | None], usual) -> str:
    intro = _("%(name)s over the %(count)s days from %(first)s to %(last)s") % {
        "name": name,
        "count": len(days),
        "first": _day(days[0]),
        "last": _day(days[-1]),
    }
    known = [(day, float(value)) for day, value in zip(days, values, strict=True) if value is not None]
    if not known:
        return _("%(intro)s: nothing recorded.") % {"intro": intro}
    average = sum(value for _day_, value in known) / len(known)
    lowest = min(value for _day_, value in known)
    highest = max(value for _day_, value in known)
    # With ties, name the most recent day: it is the one most worth talking about.
    lowest_day = max(day for day, value in known if value == lowest)
    highest_day = max(day for day, value in known if value == highest)
    parts = [
        ngettext("recorded on %(count)s day", "recorded on %(count)s days", len(known)) % {"count": len(known)},
        _("average %(value)s") % {"value": _num(average)},
        _("lowest %(value)s on %(day)s") % {"value": _num(lowest), "day": _day(lowest_day)},
        _("highest %(value)s on %(day)s") % {"value": _num(highest), "day": _day(highest_day)},
    ]
    if usual is not None:
        parts.append(_("usual range %(low)s to %(high)s") % {"low": _num(usual[0]), "high": _num(usual[1])})
    return f"{intro}: {', '.join(parts)}."


def _band_tints(count: int) -> list[str]:
    """`count` tints from lightest to darkest, spread over the ramp."""
    if count == 1:
        return [BAND_TINTS[0]]
    step = (len(BAND_TINTS) - 1) / (count - 1)
    return [BAND_TINTS[round(i * step)] for i in range(count)]


def questionnaire_chart(instrument_code: str, points: Sequence[tuple[date, int]], *, title: str) -> str:
    """Questionnaire totals over time, over the instrument's severity bands, as an SVG string.

    Bands are shaded lighter to darker from the best band to the worst (which end is worse comes from the
    instrument: lower is better for PHQ-9 and GAD-7, higher for WHO-5) and labelled at the right.
    """
    instrument = instruments.get(instrument_code)
    title = str(title)
    points = sorted(((day, total) for day, total in points if total is not None), key=lambda point: point[0])

    figure = _figure()
    ax = figure.add_subplot()
    _style_axes(ax, title)
    ax.set_ylabel(_("Score"), fontsize=TEXT_SIZE, color=INK, parse_math=False)
    # Totals are whole numbers; bands span half a point either side so that a score sits inside its band
    # rather than on a boundary.
    ax.set_ylim(instrument.total_min - 0.5, instrument.total_max + 0.5)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))

    bands = sorted(instrument.bands, key=lambda band: band.min)
    worst_last = bands if instrument.reliable_change.better == "lower" else bands[::-1]
    tints = dict(zip((band.label for band in worst_last), _band_tints(len(bands)), strict=True))
    for index, band in enumerate(bands):
        patch = ax.axhspan(band.min - 0.5, band.max + 0.5, color=tints[band.label], linewidth=0, zorder=0)
        patch.set_gid(f"band-{index}")
        ax.text(
            1.02,
            (band.min + band.max) / 2,
            "\n".join(textwrap.wrap(band.label, 14)),
            transform=ax.get_yaxis_transform(),
            ha="left",
            va="center",
            fontsize=SMALL_SIZE,
            color=INK,
            linespacing=1.1,
            clip_on=False,
            parse_math=False,
            gid=f"band-label-{index}",
        )
        if index:
            ax.axhline(band.min - 0.5, color=WHITE, linewidth=1, zorder=0.5)

    if points:
        first = points[0][0]
        x = [(day - first).days for day, _total in points]
        y = [total for _day_, total in points]
        span = max(x[-1], 14)
        ax.set_xlim(-span * 0.06, span * 1.06)
        (line,) = ax.plot(x, y, color=INK, linewidth=2, marker="o", markersize=6, zorder=3)
        line.set_gid("scores")
        if len(points) <= 6:
            candidates = sorted(set(x))
        else:
            candidates = [int(t) for t in MaxNLocator(nbins=5, integer=True).tick_values(0, x[-1]) if 0 <= t <= x[-1]]
        # Keep labels apart, working back from the latest so that it is always labelled.
        ticks: list[int] = []
        for tick in reversed(candidates):
            if not ticks or ticks[0] - tick >= span * 0.16:
                ticks.insert(0, tick)
        long = x[-1] > 300
        ax.set_xticks(
            ticks,
            [dateformat.format(first + timedelta(t), "M Y" if long else "j M") for t in ticks],
            parse_math=False,
        )
    else:
        ax.set_xticks([])
        _empty_note(ax, _("No scores yet."))

    band_words = ", ".join(f"{band.label} {band.min} to {band.max}" for band in bands)
    return _finish(figure, title, _describe_scores(instrument, points) + " " + _("Bands: %s.") % band_words)


def bar_chart(labels: Sequence[str], values: Sequence[float | None], *, title: str, held_back: str) -> str:
    """Percentages as horizontal bars, one per label; a value of None is drawn as no bar with `held_back`
    written in its place (a small cell, say), so a missing bar never looks like zero."""
    title = str(title)
    figure = _figure(size=(FIGSIZE[0], 0.55 * len(labels) + 1.3))
    ax = figure.add_subplot()
    _style_axes(ax, "\n".join(textwrap.wrap(title, 34)))
    positions = list(range(len(labels)))[::-1]
    ax.set_yticks(positions, [str(label) for label in labels], parse_math=False)
    ax.set_ylim(-0.6, len(labels) - 0.4)  # every row keeps its place, with or without a bar
    ax.set_xlim(0, 100)
    ax.set_xlabel("%", fontsize=TEXT_SIZE, color=INK, parse_math=False)
    for index, (position, value) in enumerate(zip(positions, values, strict=True)):
        if value is None:
            ax.text(1, position, str(held_back), va="center", fontsize=SMALL_SIZE, color=INK_SOFT, parse_math=False)
            continue
        bar = ax.barh(position, value, color=SERIES_COLOURS[0], height=0.6)
        bar.patches[0].set_gid(f"bar-{index}")
        inside = value > 80  # a long bar carries its number inside, in white (contrast 5:1 on the bar colour)
        ax.text(
            value - 1 if inside else value + 1, position, f"{_num(value)}%", va="center",
            ha="right" if inside else "left", fontsize=SMALL_SIZE, color=WHITE if inside else INK, parse_math=False,
        )  # fmt: skip
    words = "; ".join(
        f"{label}: {held_back if value is None else _num(value) + '%'}"
        for label, value in zip(labels, values, strict=True)
    )
    return _finish(figure, title, words)


def _describe_scores(instrument, points) -> str:
    if not points:
        return _("%(name)s: no scores yet.") % {"name": instrument.name}
    latest_day, latest = points[-1]
    lowest = min(total for _day_, total in points)
    highest = max(total for _day_, total in points)
    sentence = ngettext(
        "%(name)s, %(count)s score from %(first)s to %(last)s",
        "%(name)s, %(count)s scores from %(first)s to %(last)s",
        len(points),
    ) % {"name": instrument.name, "count": len(points), "first": _day(points[0][0]), "last": _day(latest_day)}
    latest_text = _("latest %(total)s (%(band)s) on %(day)s") % {
        "total": latest,
        "band": instrument.band_for(latest),
        "day": _day(latest_day),
    }
    if len(points) == 1:
        return f"{sentence}: {latest_text}."
    return f"{sentence}: {latest_text}, " + _("lowest %(low)s, highest %(high)s.") % {"low": lowest, "high": highest}


def _heat_level(count: int) -> int:
    return min(max(count, 0), len(HEAT_LEVELS) - 1)


def calendar_heatmap(counts: Mapping[date, int], *, end: date, weeks: int = 26, title: str) -> str:
    """Check-ins per day as a grid, one column per week (Monday at the top), ending on `end`.

    Each day's cell carries a `<title>` with the date and the count, so pointing at it (or a screen reader
    exploring the graphic) gives the exact number; days after `end` are not drawn.
    """
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    title = str(title)
    start = end - timedelta(days=end.weekday()) - timedelta(weeks=weeks - 1)  # a Monday
    total_days = (end - start).days + 1

    figure = _figure((FIGSIZE[0], 2.4))
    ax = figure.add_subplot()
    _style_axes(ax, title)
    ax.set_aspect("equal")
    ax.set_xlim(-0.1, weeks)
    ax.set_ylim(8.4, -1.7)  # rows run downwards, below a row of month names and above the key
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xticks([])
    ax.set_yticks([0, 2, 4], [dateformat.format(start + timedelta(i), "D") for i in (0, 2, 4)], parse_math=False)
    ax.tick_params(axis="y", length=0, labelsize=SMALL_SIZE)

    cell_titles = {}
    for offset in range(total_days):
        day = start + timedelta(days=offset)
        count = int(counts.get(day, 0))
        column, row = divmod(offset, 7)
        level = _heat_level(count)
        cell = Rectangle(
            (column + 0.07, row - 0.43),
            0.86,
            0.86,
            facecolor=HEAT_LEVELS[level],
            edgecolor=HEAT_EMPTY_EDGE if level == 0 else HEAT_LEVELS[level],
            linewidth=0.6,
            clip_on=False,
        )
        gid = f"day-{day.isoformat()}"
        cell.set_gid(gid)
        cell.set_in_layout(False)  # inside the axes, whose limits are fixed: layout need not measure each
        ax.add_artist(cell)  # not add_patch, which recomputes the data limits for every cell
        cell_titles[gid] = ngettext("%(day)s: %(count)s check-in", "%(day)s: %(count)s check-ins", count) % {
            "day": dateformat.format(day, "l j F Y"),
            "count": count,
        }

    # Month names above the week in which each month starts; the month the grid opens in is named too
    # when there is room before the next one.
    months = [
        (column, (start + timedelta(weeks=column, days=6)).replace(day=1))
        for column in range(weeks)
        if (start + timedelta(weeks=column, days=6)).day <= 7
    ]
    if not months or months[0][0] >= 3:
        months.insert(0, (0, start))
    for column, month in months:
        ax.text(
            column + 0.07,
            -0.75,
            dateformat.format(month, "M"),
            ha="left",
            va="bottom",
            fontsize=SMALL_SIZE,
            color=INK,
            parse_math=False,
        )

    # Key along the bottom right: what each shade means.
    key_x = weeks - len(HEAT_LEVELS) * 2.4 + 0.4
    ax.text(
        key_x - 0.4,
        7.9,
        _("Check-ins a day:"),
        ha="right",
        va="center",
        fontsize=SMALL_SIZE,
        color=INK,
        parse_math=False,
    )
    for level, colour in enumerate(HEAT_LEVELS):
        left = key_x + level * 2.4
        ax.add_patch(
            Rectangle(
                (left, 7.47),
                0.86,
                0.86,
                facecolor=colour,
                edgecolor=HEAT_EMPTY_EDGE if level == 0 else colour,
                linewidth=0.6,
                clip_on=False,
            )
        )
        label = f"{level}+" if level == len(HEAT_LEVELS) - 1 else str(level)
        ax.text(left + 1.2, 7.9, label, ha="left", va="center", fontsize=SMALL_SIZE, color=INK, parse_math=False)

    in_range = {day: count for day, count in counts.items() if start <= day <= end and count > 0}
    description = _describe_counts(title, start, end, total_days, in_range)
    return _finish(figure, title, description, cell_titles, layout_key=("heat map", start, end, weeks, title))


def _describe_counts(title, start, end, total_days, in_range) -> str:
    intro = _("%(title)s, from %(first)s to %(last)s") % {"title": title, "first": _day(start), "last": _day(end)}
    if not in_range:
        return _("%(intro)s: no check-ins.") % {"intro": intro}
    total = sum(in_range.values())
    most = max(in_range.values())
    most_day = max(day for day, count in in_range.items() if count == most)
    return _(
        "%(intro)s: check-ins on %(days)s of %(all)s days, %(total)s in all; most in a day %(most)s, on %(day)s."
    ) % {
        "intro": intro,
        "days": len(in_range),
        "all": total_days,
        "total": total,
        "most": most,
        "day": _day(most_day),
    }


# --- SVG clean-up -----------------------------------------------------------------------------------------


# Where the constrained layout put each axes, by what decides it (see `_finish`); at most LAYOUTS_KEPT of them.
_layouts: OrderedDict[tuple, list[Bbox]] = OrderedDict()
_layouts_lock = threading.Lock()
LAYOUTS_KEPT = 256


def _finish(
    figure: Figure,
    title: str,
    description: str,
    element_titles: Mapping[str, str] | None = None,
    *,
    layout_key: tuple | None = None,
) -> str:
    """Render the figure and rewrite its SVG for inlining under the site's CSP (see the module docstring).

    Measuring every text for the constrained layout is about half the cost of drawing a chart. `layout_key`, when
    given, names everything that decides the layout (the texts around the axes, their sizes, the limits), and is
    the same for everyone's chart of that kind on the same day; the axes are then put where the layout put them
    the first time, which draws exactly the same chart.
    """
    if layout_key is not None:
        layout_key = (*layout_key, translation.get_language(), tuple(figure.get_size_inches()))
        with _layouts_lock:
            known = _layouts.get(layout_key)
            if known is not None:
                _layouts.move_to_end(layout_key)
        if known is not None and len(known) == len(figure.axes):
            figure.set_layout_engine(None)  # none at all: any engine, even a placeholder, makes savefig draw twice
            for ax, box in zip(figure.axes, known, strict=True):
                ax.set_position(box)
            layout_key = None  # nothing to keep
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", facecolor=WHITE, metadata={"Date": None, "Creator": None})
    if layout_key is not None:
        with _layouts_lock:
            # The boxes themselves, not their bounds: rebuilding a box from its bounds rounds its far edges.
            _layouts[layout_key] = [ax.get_position(original=True).frozen() for ax in figure.axes]
            while len(_layouts) > LAYOUTS_KEPT:
                _layouts.popitem(last=False)
    # Our own matplotlib output, not outside input; expat fetches no external entities.
    root = ET.fromstring(buffer.getvalue())  # noqa: S314
    prefix = "c" + hashlib.sha256(buffer.getvalue() + title.encode() + description.encode()).hexdigest()[:10]

    # Drop matplotlib's metadata, and its one stylesheet rule, which becomes attributes on the root below.
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag in (f"{{{SVG_NS}}}metadata", f"{{{SVG_NS}}}style"):
                parent.remove(child)
    referenced = set(re.findall(r"#([^)\"'\s]+)", " ".join(v for e in root.iter() for v in e.attrib.values())))
    for element in root.iter():
        _style_to_attributes(element)
        if "id" in element.attrib:
            if AUTO_ID.match(element.get("id")) and element.get("id") not in referenced:
                del element.attrib["id"]  # matplotlib's numbered group ids: nothing refers to them
            else:
                element.set("id", f"{prefix}-{element.get('id')}")
        for name, value in list(element.attrib.items()):
            if name == XLINK_HREF:
                del element.attrib[name]
                name = "href"  # SVG 2: plain href, so the output needs no xlink namespace
            element.set(name, re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", value))
            if name == "href" and value.startswith("#"):
                element.set(name, f"#{prefix}-{value[1:]}")
    for element in root.iter():
        element.attrib.pop("font-family", None)  # the site's fonts, set once on the root below
    _tidy(root)

    by_id = {element.get("id"): element for element in root.iter() if "id" in element.attrib} if element_titles else {}
    for gid, text in (element_titles or {}).items():
        target = by_id.get(f"{prefix}-{gid}")
        if target is not None:
            tooltip = ET.Element(f"{{{SVG_NS}}}title")
            tooltip.text = text
            target.insert(0, tooltip)

    for dimension in ("width", "height"):
        root.attrib.pop(dimension, None)
    root.set("width", "100%")
    root.set("role", "img")
    root.set("aria-labelledby", f"{prefix}-title {prefix}-desc")
    root.set("class", "chart")
    root.set("stroke-linejoin", "round")
    root.set("stroke-linecap", "butt")
    root.set("font-family", FONT_FAMILY)
    title_element = ET.Element(f"{{{SVG_NS}}}title", id=f"{prefix}-title")
    title_element.text = title
    desc_element = ET.Element(f"{{{SVG_NS}}}desc", id=f"{prefix}-desc")
    desc_element.text = description
    root.insert(0, desc_element)
    root.insert(0, title_element)
    root.set("xmlns", SVG_NS)
    out: list[str] = []
    _serialise(root, out)
    return "".join(out)


def _serialise(element: ET.Element, out: list[str]) -> None:
    """Write SVG elements without namespace prefixes (ElementTree would write `ns0:` ones)."""
    tag = element.tag.rpartition("}")[2]
    attributes = "".join(f" {name}={quoteattr(value)}" for name, value in element.attrib.items())
    children = list(element)
    if not children and not element.text:
        out.append(f"<{tag}{attributes}/>")
    else:
        out.append(f"<{tag}{attributes}>{escape(element.text or '')}")
        for child in children:
            _serialise(child, out)
        out.append(f"</{tag}>")
    out.append(escape(element.tail or ""))


def _tidy(parent: ET.Element) -> None:
    """Unwrap groups left without attributes, drop empty `<defs>` and the indentation between elements."""
    children = []
    for child in parent:
        _tidy(child)
        tag = child.tag.rpartition("}")[2]
        if tag == "g" and not child.attrib:
            children.extend(child)
        elif not (tag == "defs" and len(child) == 0):
            children.append(child)
    parent[:] = children
    for element in [parent, *children]:
        if element.tail is not None and not element.tail.strip():
            element.tail = None
    if parent.text is not None and not parent.text.strip():
        parent.text = None


def _style_to_attributes(element: ET.Element) -> None:
    style = element.attrib.pop("style", None)
    if not style:
        return
    for declaration in style.split(";"):
        if not declaration.strip():
            continue
        name, _colon, value = declaration.partition(":")
        name, value = name.strip(), value.strip()
        if name not in PRESENTATION:
            # Dropping it could change what the chart shows; fail where the tests will see it.
            raise ValueError(f"matplotlib wrote CSS property {name!r}, which has no SVG presentation attribute")
        element.set(name, value)


# --- Chart input from the member's records -------------------------------------------------------------------


def label_for(field: str) -> str:
    return str(FIELD_LABELS.get(field, field.replace("_", " ").capitalize()))


def daily_means(checkins: Iterable, field: str) -> dict[date, float]:
    """The mean of `field` per local day, over check-ins that answered it (several a day are averaged)."""
    by_day: dict[date, list[float]] = defaultdict(list)
    for checkin in checkins:
        value = getattr(checkin, field)
        if value is not None:
            by_day[checkin.local_date].append(float(value))
    return {day: sum(values) / len(values) for day, values in sorted(by_day.items())}


def series_for(checkins: Iterable, fields: Sequence[str], days: Sequence[date]) -> dict[str, list[float | None]]:
    """`line_chart` input: for each field (keyed by its label), the daily mean on each of `days` or None."""
    checkins = list(checkins)
    series = {}
    for field in fields:
        means = daily_means(checkins, field)
        series[label_for(field)] = [means.get(day) for day in days]
    return series


def typical_ranges(checkins: Iterable, fields: Sequence[str]) -> dict[str, tuple[float, float] | None]:
    """`line_chart`'s `typical`: each field's usual range over the daily means of the check-ins given (pass
    the member's reference window, e.g. their last few months)."""
    checkins = list(checkins)
    return {label_for(field): personal_range(daily_means(checkins, field).values()) for field in fields}


def counts_per_day(checkins: Iterable) -> dict[date, int]:
    """`calendar_heatmap` input: how many check-ins on each local day."""
    counts: dict[date, int] = defaultdict(int)
    for checkin in checkins:
        counts[checkin.local_date] += 1
    return dict(counts)


def questionnaire_points(responses: Iterable, instrument_code: str) -> list[tuple[date, int]]:
    """`questionnaire_chart` input: scored responses to one instrument, oldest first, leaving out any that a
    later response corrects."""
    responses = [response for response in responses if response.instrument == instrument_code]
    corrected = {response.corrects_id for response in responses if response.corrects_id is not None}
    return sorted(
        (response.local_date, response.total)
        for response in responses
        if response.total is not None and response.id not in corrected
    )
