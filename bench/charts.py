"""What drawing a member's charts costs: each kind laid out afresh, and with a layout measured earlier reused.

The member's history page shows two line charts (mood and anxiety, sleep), the check-in heat map and a chart per
questionnaire. Each is drawn here from synthetic data the shape of a month of daily check-ins, alternately with
the layout store emptied (the first chart of its kind that day, in that process) and with it kept (every later
one), --repeat times each, side by side in one process, and the medians and their ratio are printed. The SVG drawn
both ways is compared too (it must be the same bytes). No database is used.

Usage:
    .venv/bin/python bench/charts.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import results
from serving import bench_env, scratch_directory


def cases():
    from alongside.monitoring import charts

    rng = random.Random(7)
    today = date(2026, 11, 26)
    month = [today - timedelta(days=offset) for offset in range(29, -1, -1)]
    week = month[-7:]
    moods = [rng.choice([None, *range(3, 9)]) for _ in month]
    anxiety = [rng.choice([None, *range(2, 7)]) for _ in month]
    sleep = [round(rng.uniform(5, 9), 1) for _ in month]
    counts = {today - timedelta(days=offset): rng.choice([0, 1, 1, 2]) for offset in range(182)}
    scores = [(today - timedelta(days=14 * step), rng.randint(4, 18)) for step in range(8)]
    return {
        "mood and anxiety, month": lambda: charts.line_chart(
            month, {"Mood": moods, "Anxiety": anxiety}, title="Mood and Anxiety, last 30 days",
            y_label="0 to 10", typical={"Mood": (4.0, 7.0), "Anxiety": (2.5, 5.0)},
        ),
        "sleep, week": lambda: charts.line_chart(
            week, {"Hours of sleep": sleep[-7:]}, title="Hours of sleep, last 7 days", y_label="hours",
            y_range=(0, 12), typical={"Hours of sleep": (6.0, 8.0)}, period="week",
        ),
        "heat map, 26 weeks": lambda: charts.calendar_heatmap(counts, end=today, weeks=26,
                                                               title="Check-ins, last 26 weeks"),
        "PHQ-9 over time": lambda: charts.questionnaire_chart("phq9", scores, title="PHQ-9 over time"),
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="drawings of each kind each way")
    results.add_json_option(parser)
    args = parser.parse_args()

    os.environ.update(bench_env(scratch_directory()))
    import django

    django.setup()
    from django.utils import translation

    from alongside.monitoring import charts

    translation.activate("en")
    print(f"{'chart':<26} | {'afresh ms':>9} | {'reused ms':>9} | {'ratio':>5} | same SVG")
    rows, afresh_total, reused_total = [], 0.0, 0.0
    for name, draw in cases().items():
        draw()  # imports, fonts and caches warm before timing
        afresh, reused, same = [], [], True
        for _ in range(args.repeat):
            charts._layouts.clear()
            began = time.perf_counter()
            first = draw()
            afresh.append(time.perf_counter() - began)
            began = time.perf_counter()
            second = draw()
            reused.append(time.perf_counter() - began)
            same = same and first == second
        a, r = 1000 * statistics.median(afresh), 1000 * statistics.median(reused)
        afresh_total, reused_total = afresh_total + a, reused_total + r
        print(f"{name:<26} | {a:>9.1f} | {r:>9.1f} | {r / a:>5.2f} | {'yes' if same else 'NO'}")
        rows.append(results.row("charts", None, name, {"afresh ms": a, "layout reused ms": r, "ratio": r / a,
                                                         "same SVG": int(same)}))  # fmt: skip
    print(f"{'all four':<26} | {afresh_total:>9.1f} | {reused_total:>9.1f} | {reused_total / afresh_total:>5.2f}")
    results.write(args.json, rows)
    return 0 if all(row["figures"]["same SVG"] for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
