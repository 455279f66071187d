"""A member's charts, drawn once for as long as the data behind them stays the same.

Drawing a chart with matplotlib costs 60–90 ms of one core, and a member's history page has up to six; the
data behind them changes once or twice a day, when the member checks in. So each drawing is kept
(`ChartDrawing`, one row per member and chart) with a digest of everything it was drawn from: the drawing
function, its arguments (the plain numbers and dates, the titles in the reader's language) and the drawing
code itself. A lookup that finds the same digest uses the stored SVG; anything else draws again and replaces
it. Nothing has to remember to clear the cache: a new check-in, a corrected answer, another language or an
upgrade of the drawing code each give another digest.

Only the member's own records go into a chart and the rows are deleted with the member. Who may see a chart is
decided before it is asked for (the member's own pages, or `care.policy` for their team), never here.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import matplotlib
from django.utils import timezone, translation

from alongside.monitoring import charts
from alongside.monitoring.models import ChartDrawing

# The drawing code is part of every digest, so drawings made by an older release are not reused after an upgrade.
DRAWING_CODE = hashlib.sha256(Path(charts.__file__).read_bytes() + matplotlib.__version__.encode()).hexdigest()


@dataclass(frozen=True)
class Chart:
    """One chart of a member's: where it goes (`slot`, stable across visits), what it is called, and how to draw
    it. `args` and `kwargs` must be plain data whose `repr` is the same for the same values (numbers, dates,
    strings, and lists, tuples and dicts of them)."""

    slot: str
    title: str
    draw_function: Callable[..., str]
    args: tuple = ()
    kwargs: Mapping = field(default_factory=dict)

    @cached_property
    def digest(self) -> str:
        described = repr(
            (
                DRAWING_CODE,
                translation.get_language(),
                self.draw_function.__module__,
                self.draw_function.__qualname__,
                self.args,
                sorted(self.kwargs.items()),
            )
        )
        return hashlib.sha256(described.encode()).hexdigest()

    def draw(self) -> str:
        return self.draw_function(*self.args, **self.kwargs)


def stored(member, wanted: Iterable[Chart]) -> dict[str, str]:
    """The SVG of each chart in `wanted` already drawn from the same data, by slot (one query)."""
    wanted = {chart.slot: chart for chart in wanted}
    if not wanted:
        return {}
    rows = ChartDrawing.objects.filter(member=member, slot__in=wanted).values_list("slot", "digest", "svg")
    return {slot: zlib.decompress(svg).decode() for slot, digest, svg in rows if digest == wanted[slot].digest}


def draw(member, chart: Chart) -> str:
    """Draw `chart` and keep the drawing in place of the member's previous one in its slot."""
    svg = chart.draw()
    ChartDrawing.objects.bulk_create(
        [
            ChartDrawing(
                member=member,
                slot=chart.slot,
                digest=chart.digest,
                svg=zlib.compress(svg.encode(), 6),
                drawn_at=timezone.now(),
            )
        ],
        # Two requests drawing the same chart at once both write; the second simply replaces the first.
        update_conflicts=True,
        unique_fields=["member", "slot"],
        update_fields=["digest", "svg", "drawn_at"],
    )
    return svg


def drawn(member, wanted: Iterable[Chart]) -> list[str]:
    """The SVG of every chart in `wanted`, in order: stored drawings where the data is unchanged, the rest
    drawn now."""
    wanted = list(wanted)
    found = stored(member, wanted)
    return [found[chart.slot] if chart.slot in found else draw(member, chart) for chart in wanted]
