"""Headline results as JSON, the same shape from every benchmark, for `bench/run_all.py` to gather into one table.

A benchmark adds `--json PATH` with `add_json_option(parser)` and, besides its usual output, writes its rows with
`write(path, rows)`, each made by `row(...)`:

    {"benchmark": "checkin_ingest", "database": "SQLite (WAL)", "setting": "32 clients",
     "figures": {"check-in req/s": 683.0, "check-in p99 ms": 99.9}, "goal": "p99 under 100 ms", "met": true}

`met` is None where the run has no goal or its setting is not the one the goal is stated for.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", metavar="PATH", help="also write the headline results to PATH as JSON")


def row(
    benchmark: str,
    database: str | None,
    setting: str,
    figures: dict[str, float | int],
    goal: str | None = None,
    met: bool | None = None,
) -> dict:
    return {
        "benchmark": benchmark,
        "database": database,
        "setting": setting,
        "figures": {name: _number(value) for name, value in figures.items()},
        "goal": goal,
        "met": None if met is None else bool(met),
    }


def write(path: str | None, rows: list[dict]) -> None:
    """Write the rows to `path` (nothing when the option was not given)."""
    if path:
        Path(path).write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _number(value: float | int) -> float | int | None:
    """JSON has no NaN or infinity; figures are rounded to what is worth reading."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value
    value = float(value)
    if not math.isfinite(value):
        return None
    return round(value, 3 if abs(value) < 10 else 1)
