"""Every benchmark at a reduced scale, one after another, gathered into one table in docs/performance.md.

Runs each entry of BENCHMARKS with the arguments written there (chosen so that the whole set takes about seven
minutes on two cores) and `--json`, on SQLite and, for the entries that name it, on PostgreSQL: all the
PostgreSQL runs share one throwaway cluster (`scripts/with-throwaway-postgres`, started once), unless
ALONGSIDE_DATABASE_URL already points at a PostgreSQL server. Progress goes to stderr; each run's own output to a
log file. A benchmark that fails (an exit status other than 0, no results, or past its time limit) becomes a row
saying so, the others still run, and this script exits 1 at the end.

Then it replaces the table between the `bench-table` markers of docs/performance.md with this run's: the
machine, the date, the commit and the wall time above it, and a row per result (benchmark, command, database,
setting, figures, goal, met).

    .venv/bin/python bench/run_all.py                         # everything; rewrites the table
    .venv/bin/python bench/run_all.py --only caseload,load --no-write

To add a benchmark to the set: give it `--json PATH` (bench/results.py) and add one entry to BENCHMARKS.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import results
from signals_rescan import machine

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
START_MARKER = "<!-- bench-table:start -->"
END_MARKER = "<!-- bench-table:end -->"
SQLITE, POSTGRESQL, NO_DATABASE = "sqlite", "postgresql", "none"
BOTH = (SQLITE, POSTGRESQL)


@dataclass(frozen=True)
class Benchmark:
    name: str  # bench/<name>.py
    arguments: tuple[str, ...]  # the reduced scale
    databases: tuple[str, ...]
    section: str  # the heading in docs/performance.md that describes it, or another document's link
    setting: str  # what a failed run's row says it was running
    timeout: float = 180.0  # seconds

    @property
    def link(self) -> str:
        return self.section if ".md" in self.section else "#" + anchor(self.section)


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark("checkin_ingest", ("--levels", "1,8,32", "--requests", "500", "--seconds", "5"), BOTH,
              "Check-in write path (`bench/checkin_ingest.py`)", "1, 8 and 32 clients"),
    Benchmark("load", ("--members", "20", "--staff", "2", "--rates", "10,20", "--seconds", "15"),
              BOTH, "Load and soak: mixed traffic (`bench/load.py`)", "10 and 20 requests/s"),
    Benchmark("load_dataset", ("--members", "2000", "--days", "365", "--staff", "100", "--throwaway"), (POSTGRESQL,),
              "Loading a large world (`bench/load_dataset.py`)", "2,000 × 365"),
    Benchmark("caseload", ("--members", "2000", "--days", "120", "--requests", "20"), BOTH,
              "Care team's workspace (`bench/caseload.py`)", "2,000 × 120"),
    Benchmark("notifications", ("--members", "10000", "--emails", "1000", "--workers", "1"), (SQLITE,),
              "Notifications (`bench/notifications.py`)", "10,000 reminders, 1 worker"),
    Benchmark("notifications", ("--members", "10000", "--emails", "1000", "--workers", "1,2"), (POSTGRESQL,),
              "Notifications (`bench/notifications.py`)", "10,000 reminders, 1 and 2 workers"),
    Benchmark("signals_rescan", ("--members", "3000", "--days", "365", "--repeat", "1"), BOTH,
              "Rebuilding every member's state (`alongside signals rescan`)", "3,000 × 365"),
    Benchmark("signals_streaming", ("--members", "100", "--days", "60", "--checkins", "1000"), BOTH,
              "The engine's cost per check-in, in the worker", "100 members × 60 days"),
    Benchmark("charts", ("--repeat", "9"), (NO_DATABASE,), "Drawing a member's charts (`bench/charts.py`)",
              "four charts"),
    Benchmark("early_warning", ("--members", "2000", "--days", "365"), (NO_DATABASE,),
              "early-warning.md#evaluation", "2,000 × 365 per cohort"),
)  # fmt: skip


def anchor(heading: str) -> str:
    """The fragment a Markdown renderer gives a heading: lower case, punctuation other than - and _ dropped,
    spaces as hyphens."""
    kept = "".join(char for char in heading.lower() if char.isalnum() or char in "-_ ")
    return kept.replace(" ", "-")


def command_line(benchmark: Benchmark, database: str) -> str:
    """What a person types to run it the same way (without --json)."""
    command = f".venv/bin/python bench/{benchmark.name}.py {shlex.join(benchmark.arguments)}"
    return f"scripts/with-throwaway-postgres {command}" if database == POSTGRESQL else command


def database_label(database: str) -> str | None:
    if database == POSTGRESQL:
        return postgresql_label()
    return "SQLite (WAL)" if database == SQLITE else None


def postgresql_label() -> str:
    """`PostgreSQL 15` for the server ALONGSIDE_DATABASE_URL points at."""
    try:
        import psycopg

        with psycopg.connect(os.environ["ALONGSIDE_DATABASE_URL"], connect_timeout=10) as connection:
            version = connection.execute("SHOW server_version").fetchone()[0]
        return f"PostgreSQL {version.split()[0].split('.')[0]}"
    except Exception:  # only a label: the runs themselves will say what is wrong
        return "PostgreSQL"


# Running ----------------------------------------------------------------------------------------------------


class Progress:
    """Lines on stderr with the time since the whole run began."""

    def __init__(self, already: float = 0.0) -> None:
        self.started = time.monotonic() - already

    def __call__(self, text: str) -> None:
        elapsed = int(time.monotonic() - self.started)
        print(f"[bench {elapsed // 60}:{elapsed % 60:02d}] {text}", file=sys.stderr, flush=True)


def run_one(benchmark: Benchmark, database: str, logs: Path, progress: Progress) -> dict:
    """Run one benchmark on one database; an outcome with its rows, or with why it failed."""
    label = database_label(database)
    tag = f"{benchmark.name}{'' if database == NO_DATABASE else '-' + database}"
    log = logs / f"{tag}.log"
    output = logs / f"{tag}.json"
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["PYTHONPATH"] = str(ROOT)
    if database != POSTGRESQL:
        env.pop("ALONGSIDE_DATABASE_URL", None)
    script = ROOT / "bench" / f"{benchmark.name}.py"
    command = [sys.executable, str(script), *benchmark.arguments, "--json", str(output)]
    progress(f"{benchmark.name} on {label or 'no database'}: {shlex.join(benchmark.arguments)}")
    started = time.monotonic()
    error = None
    with log.open("w", encoding="utf-8") as sink:
        # A session of its own, so that a run past its time is stopped with every server and worker it started.
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # fmt: skip
        try:
            status = process.wait(timeout=benchmark.timeout)
        except subprocess.TimeoutExpired:
            stop_group(process)
            status, error = None, f"stopped after {benchmark.timeout:.0f} s"
    if status:
        error = f"exit status {status}"
    seconds = time.monotonic() - started
    rows = []
    if error is None:
        try:
            rows = json.loads(output.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            error = "wrote no results"
    if error is None and not rows:
        error = "wrote no results"
    for row in rows:
        row["database"] = label if label is not None else row.get("database")
    outcome = {"benchmark": benchmark.name, "database": database, "command": command_line(benchmark, database),
               "seconds": seconds, "rows": rows, "error": error}  # fmt: skip
    if error:
        outcome["rows"] = [failed_row(benchmark, label, error)]
        progress(f"{benchmark.name} on {label or 'no database'}: FAILED ({error}) after {seconds:.0f} s; log: {log}")
    else:
        progress(f"{benchmark.name} on {label or 'no database'}: done in {seconds:.0f} s")
    return outcome


def stop_group(process: subprocess.Popen) -> None:
    for signal_number, grace in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, signal_number)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def failed_row(benchmark: Benchmark, database: str | None, reason: str) -> dict:
    row = results.row(benchmark.name, database, benchmark.setting, {})
    row["failed"] = reason
    return row


def run_postgresql_phase(chosen: list[Benchmark], logs: Path, progress: Progress) -> list[dict]:
    """The PostgreSQL runs: here when a server is configured, otherwise in a child under one throwaway cluster."""
    if os.environ.get("ALONGSIDE_DATABASE_URL", "").startswith("postgres"):
        return [run_one(benchmark, POSTGRESQL, logs, progress) for benchmark in chosen]
    names = ",".join(sorted({benchmark.name for benchmark in chosen}))
    outcomes_file = logs / "postgresql-outcomes.json"
    command = [str(ROOT / "scripts" / "with-throwaway-postgres"), sys.executable, __file__, "--phase", POSTGRESQL,
               "--only", names, "--logs", str(logs), "--outcomes", str(outcomes_file),
               "--elapsed", str(time.monotonic() - progress.started)]  # fmt: skip
    progress("starting a throwaway PostgreSQL cluster")
    finished = subprocess.run(command, cwd=ROOT, check=False, stdout=sys.stderr)
    try:
        return json.loads(outcomes_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        reason = f"the PostgreSQL cluster did not run (exit status {finished.returncode})"
        progress(reason)
        return [
            {"benchmark": benchmark.name, "database": POSTGRESQL, "command": command_line(benchmark, POSTGRESQL),
             "seconds": 0.0, "rows": [failed_row(benchmark, "PostgreSQL", reason)], "error": reason}
            for benchmark in chosen
        ]  # fmt: skip


def selected(only: str | None) -> list[Benchmark]:
    if not only:
        return list(BENCHMARKS)
    names = {name.strip() for name in only.split(",") if name.strip()}
    unknown = names - {benchmark.name for benchmark in BENCHMARKS}
    if unknown:
        known = ", ".join(dict.fromkeys(benchmark.name for benchmark in BENCHMARKS))
        raise SystemExit(f"run_all: no benchmark named {', '.join(sorted(unknown))} (known: {known})")
    return [benchmark for benchmark in BENCHMARKS if benchmark.name in names]


# The table --------------------------------------------------------------------------------------------------


def number(value: float | int | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, int) or (float(value).is_integer() and abs(value) >= 1000):
        return f"{int(value):,}"
    magnitude = abs(value)
    return f"{value:,.0f}" if magnitude >= 100 else f"{value:.1f}" if magnitude >= 10 else f"{value:.2f}"


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table_rows(outcomes: list[dict]) -> list[str]:
    links = {benchmark.name: benchmark.link for benchmark in BENCHMARKS}
    lines = [
        "| benchmark | command | database | setting | figures | goal | met |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for outcome in outcomes:
        for row in outcome["rows"]:
            name = row["benchmark"]
            link = links.get(name)
            title = f"[{name}]({link})" if link else name
            if row.get("failed"):
                figures, met = f"**failed**: {row['failed']}", "**failed**"
            else:
                figures = "; ".join(f"{key}: {number(value)}" for key, value in row["figures"].items())
                met = {True: "yes", False: "**no**", None: "–"}[row.get("met")]
            lines.append(
                f"| {title} | `{cell(outcome['command'])}` | {cell(row.get('database') or 'none')} | "
                f"{cell(row['setting'])} | {cell(figures)} | {cell(row.get('goal') or '–')} | {met} |"
            )
    return lines


def memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    return "unknown memory"


def commit() -> str:
    found = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%h"], capture_output=True, text=True,
                           check=False)  # fmt: skip
    changed = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "alongside", "bench"],
                             capture_output=True, text=True, check=False)  # fmt: skip
    if found.returncode:
        return "not a git checkout"
    return found.stdout.strip() + (" with uncommitted changes" if changed.stdout.strip() else "")


def section(
    outcomes: list[dict],
    *,
    machine_line: str,
    date: str,
    code: str,
    seconds: float,
    loads: list[float],
    note: str = "",
) -> str:
    """The text between the markers: what ran where, then the table. The load average before the first run says
    whether other work was sharing the machine (the benchmarks themselves load it during the run)."""
    cores = os.cpu_count() or 1
    busy = loads[0] >= 0.5 * cores
    times = ", ".join(
        f"{outcome['benchmark']}{'' if outcome['database'] == NO_DATABASE else ' (' + outcome['database'] + ')'} "
        f"{outcome['seconds']:.0f} s"
        for outcome in outcomes
    )
    header = (
        f"Produced by `bench/run_all.py` (`make bench`) on {date} at {code}, in {minutes(seconds)}. "
        f"Machine: {machine_line}, {memory_gib()}; load average {loads[0]:.2f} before the first run and up to "
        f"{max(loads):.2f} during the run"
        + (": **busy**, other work shared the cores." if busy else ".")
        + (f" {note.strip()}" if note.strip() else "")
        + f" Each run took: {times}."
    )  # fmt: skip
    return "\n".join([START_MARKER, header, "", *table_rows(outcomes), END_MARKER])


def minutes(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60} min {whole % 60:02d} s"


def replace_between_markers(text: str, new_section: str) -> str:
    """`text` with everything from the start marker to the end marker (both included) replaced by
    `new_section`, which carries the markers itself; the rest is left as it was, byte for byte."""
    start = text.find(START_MARKER)
    end = text.find(END_MARKER, start + len(START_MARKER)) if start >= 0 else -1
    if start < 0 or end < 0:
        raise ValueError(f"no {START_MARKER} … {END_MARKER} section to replace")
    return text[:start] + new_section + text[end + len(END_MARKER) :]


def write_doc(new_section: str, path: Path = DOC) -> None:
    text = path.read_bytes().decode("utf-8")
    path.write_bytes(replace_between_markers(text, new_section).encode("utf-8"))


# Entry point ------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", metavar="NAME[,NAME]", help="run only these benchmarks")
    parser.add_argument("--no-write", action="store_true", help="print the table; leave docs/performance.md alone")
    parser.add_argument("--logs", metavar="DIR", help="where each run's output goes (default: a new temporary dir)")
    parser.add_argument("--phase", choices=[POSTGRESQL], help=argparse.SUPPRESS)
    parser.add_argument("--outcomes", help=argparse.SUPPRESS)
    parser.add_argument("--elapsed", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--note", default="", help="a sentence about the machine for the line above the table")
    args = parser.parse_args()
    chosen = selected(args.only)
    logs = Path(args.logs or tempfile.mkdtemp(prefix="alongside-bench-logs-"))
    logs.mkdir(parents=True, exist_ok=True)
    progress = Progress(args.elapsed)

    if args.phase == POSTGRESQL:  # the child under the throwaway cluster
        outcomes = [run_one(benchmark, POSTGRESQL, logs, progress) for benchmark in chosen
                    if POSTGRESQL in benchmark.databases]  # fmt: skip
        Path(args.outcomes).write_text(json.dumps(outcomes, ensure_ascii=False), encoding="utf-8")
        return 0

    started = time.monotonic()
    date = datetime.now(UTC).date().isoformat()
    code = commit()
    loads = [os.getloadavg()[0]]
    progress(f"{len(chosen)} benchmark entries; logs in {logs}; load average {loads[0]:.2f}")
    outcomes = []
    for benchmark in chosen:
        for database in benchmark.databases:
            if database != POSTGRESQL:
                loads.append(os.getloadavg()[0])
                outcomes.append(run_one(benchmark, database, logs, progress))
    on_postgresql = [benchmark for benchmark in chosen if POSTGRESQL in benchmark.databases]
    if on_postgresql:
        loads.append(os.getloadavg()[0])
        outcomes += run_postgresql_phase(on_postgresql, logs, progress)
        loads.append(os.getloadavg()[0])
    first = {}
    for index, benchmark in enumerate(BENCHMARKS):
        first.setdefault(benchmark.name, index)
    outcomes.sort(key=lambda outcome: (first[outcome["benchmark"]], outcome["database"] != SQLITE))
    seconds = time.monotonic() - started
    new_section = section(
        outcomes, machine_line=machine(), date=date, code=code, seconds=seconds, loads=loads, note=args.note
    )
    print(new_section)
    if not args.no_write:
        write_doc(new_section)
        progress(f"wrote the table to {DOC.relative_to(ROOT)}")
    failed = [outcome for outcome in outcomes if outcome["error"]]
    progress(f"all done in {minutes(seconds)}; {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
