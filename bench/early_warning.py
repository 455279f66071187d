"""Early warning against the truth: the engine and the usual-practice rule on synthetic cohorts, side by side.

Generates each cohort of `alongside.signals.evaluation.COHORTS` (the generator's defaults, and a sparser,
noisier one drawn with another seed) block by block, runs the engine's detectors, questionnaire rule and safety
rule over it exactly as production code does, and the usual-practice rule (an alert at each PHQ-9 of 10 or
more at the scheduled assessments) beside it. Prints, per trajectory, the share of events caught, the median
lead time, alerts per member-year, a chance reference, the staff load, and whether each goal is met. No
database is used.

    .venv/bin/python bench/early_warning.py
    .venv/bin/python bench/early_warning.py --members 3000 --days 365 --write-docs
    .venv/bin/python bench/early_warning.py --members 1000 --json results.json

With --write-docs the results section of docs/early-warning.md (between its evaluation markers) is replaced
by this run's table, with the command, the date and the machine.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import results

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "early-warning.md"
START_MARKER = "<!-- evaluation:start -->"
END_MARKER = "<!-- evaluation:end -->"


def setup_django(data_dir: str) -> None:
    """The synthetic generator reads the product's default activities, so Django's apps must be loaded (with
    development settings in a throwaway data directory; nothing is written to a database)."""
    sys.path.insert(0, str(ROOT))
    os.environ["ALONGSIDE_DATA_DIR"] = data_dir
    os.environ["ALONGSIDE_DEBUG"] = "1"
    os.environ["ALONGSIDE_LOG_LEVEL"] = "WARNING"
    os.environ["DJANGO_SETTINGS_MODULE"] = "alongside.settings"
    import django

    django.setup()


def machine() -> str:
    """Cores (as `nproc` counts them) and the CPU model from /proc/cpuinfo."""
    cores = None
    if shutil.which("nproc"):
        cores = subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout.strip()
    cores = cores or str(os.cpu_count())
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{cores} cores ({model})"


def results_section(markdown: str, command: str, seconds: float) -> str:
    today = datetime.now(UTC).date().isoformat()
    produced = f"Produced on {today}, on {machine()}, in {seconds:.0f} s, by:\n\n    {command}\n"
    return f"{START_MARKER}\n{produced}\n{markdown.rstrip()}\n{END_MARKER}"


def write_docs(section: str, path: Path = DOCS) -> None:
    text = path.read_text(encoding="utf-8")
    start, end = text.find(START_MARKER), text.find(END_MARKER)
    if start < 0 or end < start:
        raise SystemExit(f"{path} has no {START_MARKER} … {END_MARKER} section to replace")
    path.write_text(text[:start] + section + text[end + len(END_MARKER) :], encoding="utf-8")


def headline(report) -> dict:
    """One cohort's row: the three goals' figures, met when all three are."""
    relapse, stable = report.rows["gradual_relapse"], report.rows["stable"]
    figures = {}
    if relapse.engine.sensitivity is not None:
        figures["gradual relapses caught %"] = 100 * relapse.engine.sensitivity
    if relapse.engine.lead_median is not None and relapse.usual.lead_median is not None:
        figures["lead over usual practice, days"] = relapse.engine.lead_median - relapse.usual.lead_median
    if stable.engine.alerts_per_member_year is not None:
        figures["false alerts per stable member-year"] = stable.engine.alerts_per_member_year
    figures["goals met"] = sum(goal.met for goal in report.goals)
    return results.row(
        "early_warning",
        None,
        f"{report.n_members:,} × {report.days}, cohort {report.name}",
        figures,
        goal="; ".join(f"{goal.name} {goal.target}" for goal in report.goals),
        met=all(goal.met for goal in report.goals),
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=3000, help="members in each cohort (default 3000)")
    parser.add_argument("--days", type=int, default=365, help="days each member is followed (default 365)")
    parser.add_argument(
        "--seed", type=int, default=None, help="seed of the first cohort, the next ones follow (default: COHORTS')"
    )
    parser.add_argument("--caseload", type=int, default=25, help="members per staff member (default 25)")
    parser.add_argument("--chunk-size", type=int, default=1000, help="members generated and run at a time")
    parser.add_argument("--write-docs", action="store_true", help=f"replace the results section of {DOCS.name}")
    results.add_json_option(parser)
    args = parser.parse_args(argv)
    if args.members < 1 or args.days < 1:
        parser.error("--members and --days must be at least 1")

    with tempfile.TemporaryDirectory(prefix="alongside-bench-") as data_dir:
        setup_django(data_dir)
        from alongside.signals import evaluation

        started = time.perf_counter()
        print(f"{machine()}; {args.members:,} members × {args.days} days per cohort", flush=True)
        reports = []
        runs = evaluation.evaluate_cohorts(
            args.members, args.days, seed=args.seed, caseload=args.caseload, chunk_size=args.chunk_size
        )
        for report in runs:
            print(evaluation.render_text([report]), flush=True)
            reports.append(report)
        seconds = time.perf_counter() - started

    print("goals:")
    for goal_index, goal in enumerate(reports[0].goals):
        verdicts = "; ".join(
            f"{report.name} {report.goals[goal_index].result} ({'met' if report.goals[goal_index].met else 'NOT met'})"
            for report in reports
        )
        print(f"  {goal.name} {goal.target}: {verdicts}")
    print(f"time taken: {seconds:.1f} s")
    results.write(args.json, [headline(report) for report in reports])

    if args.write_docs:
        command = ".venv/bin/python " + shlex.join([str(Path(__file__).resolve().relative_to(ROOT)), *argv])
        write_docs(results_section(evaluation.render_markdown(reports), command, seconds))
        print(f"wrote the results to {DOCS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
