"""Rebuilding every member's detector state (`alongside signals rescan`) against merely reading its columns.

Builds a throwaway database (SQLite in a temporary directory, or a new database on the PostgreSQL server that
ALONGSIDE_DATABASE_URL points at, dropped afterwards) with N members followed for D days, their check-ins drawn
block by block from the synthetic cohort generator (`alongside.monitoring.synthetic.generate_chunks`) and
written with plain `executemany` (SQLite) or COPY (PostgreSQL) in one transaction per block of 1,000 members.
Members are plain accounts (no password, so nothing is hashed), each with a member role, a warning-sign tag and
the twelve default activity tags; a check-in names the activities the generator gave it, and the member's
warning sign when its cravings are 7 or more. Their days run through yesterday, in four time zones.

Then, alternating (bare read, rescan; then rescan, bare read; ...), `rescan.bare_read()` (the same queries,
rows fetched and dropped) and `rescan.rescan()` (states rebuilt and stored), each in a fresh process so that
its peak memory (`ru_maxrss`, whole process) is its own. One bare read runs first as a warm-up and is not
counted. Prints each run, then the medians: check-ins, seconds, check-ins per second, the ratio of rescan to
bare read, and peak memory. With --profile, one more rescan runs under cProfile and its top functions are
printed. With --json PATH the medians are also written to PATH (see bench/results.py).

    .venv/bin/python bench/signals_rescan.py --members 100000 --days 365 --repeat 3
    scripts/with-throwaway-postgres .venv/bin/python bench/signals_rescan.py --members 100000 --days 365
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import results

ROOT = Path(__file__).resolve().parent.parent
ZONES = ("America/New_York", "Europe/London", "Asia/Kolkata", "Australia/Sydney")
SIGN_CRAVINGS = 7  # a check-in with cravings this high names the member's warning sign
CHUNK = 1000  # members generated and written per transaction
SEED = 20261125
GOAL_MEMBERS, GOAL_RATIO, GOAL_PEAK_MB = 100_000, 2.0, 2048


# The parent: environment, runs, report ---------------------------------------------------------------------


def machine() -> str:
    """Cores (as `nproc` counts them) and the CPU model from /proc/cpuinfo."""
    cores = os.cpu_count()
    if shutil.which("nproc"):
        cores = subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout.strip() or cores
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{cores} cores ({model})"


def code_version() -> str:
    """The last commit that changed the product's code (alongside/), and whether this checkout differs from it."""

    def git(*arguments: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", "-C", str(ROOT), *arguments], capture_output=True, text=True, check=False)

    commit = git("log", "-1", "--format=%h", "--", "alongside")
    changed = git("status", "--porcelain", "--", "alongside")
    if commit.returncode:
        return "code: not a git checkout"
    return f"code: {commit.stdout.strip()}" + (" with uncommitted changes in alongside/" if changed.stdout else "")


def fresh_environment() -> tuple[dict, str, callable]:
    """Settings for the child processes: a throwaway data directory, and a new database on the PostgreSQL
    server when ALONGSIDE_DATABASE_URL is set. Returns (env, database label, cleanup)."""
    from cryptography.fernet import Fernet

    data_dir = tempfile.mkdtemp(prefix="alongside-bench-")
    env = {key: value for key, value in os.environ.items() if not key.startswith("ALONGSIDE_")}
    # Production settings: with DEBUG on, Django would keep the text of every query (megabytes per bulk insert).
    env.update({
        "ALONGSIDE_DATA_DIR": data_dir, "ALONGSIDE_SECRET_KEY": "bench-" + "k" * 50,
        "ALONGSIDE_ENCRYPTION_KEYS": Fernet.generate_key().decode(), "ALONGSIDE_HTTPS": "0",
        "ALONGSIDE_LOG_LEVEL": "WARNING", "DJANGO_SETTINGS_MODULE": "alongside.settings", "PYTHONPATH": str(ROOT),
    })  # fmt: skip
    base = os.environ.get("ALONGSIDE_DATABASE_URL", "")
    if not base.startswith("postgres"):
        return env, "SQLite (WAL)", lambda: shutil.rmtree(data_dir, ignore_errors=True)
    import psycopg

    name = f"alongside_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
        version = connection.execute("SHOW server_version").fetchone()[0].split()[0]
    env["ALONGSIDE_DATABASE_URL"] = base.rsplit("/", 1)[0] + "/" + name

    def cleanup():
        with psycopg.connect(base, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        shutil.rmtree(data_dir, ignore_errors=True)

    return env, f"PostgreSQL {version}", cleanup


def child(env: dict, *arguments: str) -> dict:
    """Run this script as a child process for one task; its progress goes to our stderr, its result (the last
    line of its standard output) is returned."""
    out = subprocess.run(
        [sys.executable, __file__, *arguments], env=env, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (default 3)")
    parser.add_argument("--block", type=int, default=5000, help="members per rescan block (default 5000)")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="profile one more rescan: top N")
    parser.add_argument("--task", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=SEED, help=argparse.SUPPRESS)
    results.add_json_option(parser)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # in step with the progress lines on stderr
    if args.task:
        return work(args)

    env, database, cleanup = fresh_environment()
    version = code_version()
    print(f"database: {database}; {machine()}; {version}")
    print(f"{args.members:,} members x {args.days} days; rescan blocks of {args.block} members")
    try:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "alongside", "migrate", "-v0"], env=env, cwd=ROOT, check=True)
        built = child(env, "--task", "build", "--members", str(args.members), "--days", str(args.days))
        print(
            f"built in {time.perf_counter() - started:.0f} s (migrations included): {built['checkins']:,} check-ins, "
            f"{built['links']:,} tag links; generating {built['generate_seconds']:.0f} s, writing "
            f"{built['write_seconds']:.0f} s ({built['checkins'] / built['seconds']:,.0f} check-ins/s overall)"
        )
        child(env, "--task", "bare", "--block", str(args.block))  # warm-up, not counted
        runs: dict[str, list[dict]] = {"bare": [], "rescan": []}
        print(f"{'run':>3} | {'task':<9} | {'check-ins':>11} | {'seconds':>8} | {'check-ins/s':>11} | "
              f"{'read s':>7} | {'peak MB':>7} | {'at start MB':>11}")  # fmt: skip
        for index in range(args.repeat):
            order = ("bare", "rescan") if index % 2 == 0 else ("rescan", "bare")
            for task in order:
                run = child(env, "--task", task, "--block", str(args.block))
                runs[task].append(run)
                read = f"{run['read_seconds']:.1f}" if task == "rescan" else ""
                print(f"{index + 1:>3} | {task:<9} | {run['checkins']:>11,} | {run['seconds']:>8.1f} | "
                      f"{run['checkins'] / run['seconds']:>11,.0f} | {read:>7} | {run['peak_mb']:>7.0f} | "
                      f"{run['start_mb']:>11.0f}")  # fmt: skip
        figures = summary(runs, f"{database}, {args.members:,} members x {args.days} days, block {args.block}")
        setting = f"{args.members:,} × {args.days}, {args.repeat} pair{'s' * (args.repeat > 1)}"
        goal = f"at {GOAL_MEMBERS:,} × 365: rescan within {GOAL_RATIO:g}× of the bare read, peak memory under 2 GB"
        met = None  # a smaller database is mostly fixed costs: the goal is judged at its own size only
        if args.members >= GOAL_MEMBERS and args.days >= 365:
            met = figures["rescan / bare read"] <= GOAL_RATIO and figures["peak MB"] < GOAL_PEAK_MB
        results.write(args.json, [results.row("signals_rescan", database, setting, figures, goal=goal, met=met)])
        if code_version() != version:
            print(f"  WARNING: the code changed during the run (now {code_version()}): these figures mix versions")
        if args.profile:
            profiled = child(env, "--task", "profile", "--block", str(args.block), "--profile", str(args.profile))
            print(f"\none rescan under cProfile ({profiled['seconds']:.1f} s):\n{profiled['stats']}")
    finally:
        cleanup()
    return 0


def summary(runs: dict[str, list[dict]], label: str) -> dict[str, float]:
    def median(task: str, key: str) -> float:
        return statistics.median(run[key] for run in runs[task])

    checkins = runs["rescan"][0]["checkins"]
    bare, rescan = median("bare", "seconds"), median("rescan", "seconds")
    ratios = ", ".join(f"{r['seconds'] / b['seconds']:.2f}" for b, r in zip(runs["bare"], runs["rescan"], strict=True))
    peak = max(run["peak_mb"] for run in runs["rescan"])
    print(f"\nmedians of {len(runs['rescan'])} ({label}):")
    print(f"  bare read: {bare:.1f} s, {checkins / bare:,.0f} check-ins/s; peak {median('bare', 'peak_mb'):.0f} MB")
    print(
        f"  rescan:    {rescan:.1f} s, {checkins / rescan:,.0f} check-ins/s (of which reading "
        f"{median('rescan', 'read_seconds'):.1f} s); peak {median('rescan', 'peak_mb'):.0f} MB (highest {peak:.0f} MB)"
    )
    print(f"  rescan / bare read: {rescan / bare:.2f} (ratio of the medians); pair by pair: {ratios}")
    print(
        f"  goals: within 2x of the bare read: {'met' if rescan / bare <= GOAL_RATIO else 'NOT met'}; "
        f"peak under 2 GB: {'met' if peak < GOAL_PEAK_MB else 'NOT met'}"
    )
    return {"check-ins": checkins, "bare read s": bare, "rescan s": rescan, "check-ins/s": checkins / rescan,
            "rescan / bare read": rescan / bare, "peak MB": peak}  # fmt: skip


# The children: building the database, and one run each ---------------------------------------------------------


def work(args) -> int:
    import resource

    import django

    django.setup()
    from django.db import connection

    from alongside.signals import rescan

    connection.ensure_connection()

    def megabytes() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux

    start_mb = megabytes()
    if args.task == "build":
        result = build(args.members, args.days, args.seed)
    elif args.task == "bare":
        checkins, seconds = rescan.bare_read(block=args.block)
        result = {"checkins": checkins, "seconds": seconds}
    elif args.task == "rescan":
        done = rescan.rescan(block=args.block)
        result = {"checkins": done.checkins, "seconds": done.seconds, "read_seconds": done.read_seconds}
    elif args.task == "profile":
        import cProfile
        import io
        import pstats

        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.runcall(rescan.rescan, block=args.block)
        seconds = time.perf_counter() - started
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text)
        stats.sort_stats("tottime").print_stats(args.profile)
        stats.sort_stats("cumulative").print_stats(args.profile)
        result = {"seconds": seconds, "stats": text.getvalue()}
    else:
        raise SystemExit(f"unknown task {args.task}")
    result.update(start_mb=start_mb, peak_mb=megabytes())
    print(json.dumps(result))
    return 0


def build(members: int, days: int, seed: int) -> dict:
    """Members, their roles and tags through the ORM in bulk; check-ins and tag links raw, block by block."""
    from datetime import timedelta

    import numpy as np
    from django.db import DatabaseError, connection, transaction
    from django.utils import timezone

    from alongside.accounts.models import Organisation, OrgRole, Role, User
    from alongside.monitoring import synthetic
    from alongside.monitoring.models import DEFAULT_ACTIVITIES, CheckIn, Tag, TagKind

    started = time.perf_counter()
    now = timezone.now()
    organisation = Organisation.objects.create(name="Bench", slug="bench", country="US", emergency_number="911")
    zones = [ZONES[n % len(ZONES)] for n in range(members)]
    with transaction.atomic():
        User.objects.bulk_create(
            (
                User(email=f"m{n}@bench.example", display_name=f"M{n}", password="!", time_zone=zones[n])  # noqa: S106 (unusable)
                for n in range(members)
            ),
            batch_size=5000,
        )
        ids = np.array(User.objects.order_by("pk").values_list("pk", flat=True), dtype=np.int64)
        OrgRole.objects.bulk_create(
            (OrgRole(user_id=pk, organisation=organisation, role=Role.MEMBER) for pk in ids.tolist()), batch_size=5000
        )
        labels = [(TagKind.ACTIVITY, label) for label in DEFAULT_ACTIVITIES] + [(TagKind.WARNING_SIGN, "Isolating")]
        Tag.objects.bulk_create(
            (Tag(member_id=pk, kind=kind, label=label) for pk in ids.tolist() for kind, label in labels),
            batch_size=5000,
        )
        # Each member's tags in the order of `labels` (bulk_create returns no ids on every database).
        tag_ids = np.array(Tag.objects.order_by("member_id", "pk").values_list("pk", flat=True), dtype=np.int64)
        tag_ids = tag_ids.reshape(members, len(labels))
    print(f"  {members:,} members with roles and tags in {time.perf_counter() - started:.1f} s", file=sys.stderr)

    quote = connection.ops.quote_name
    names = ("id", "member", "recorded_at", "local_date", "mood", "anxiety", "energy", "sleep_hours",
             "sleep_quality", "medication", "cravings", "note", "source", "created_at")  # fmt: skip
    columns = ", ".join(quote(CheckIn._meta.get_field(name).column) for name in names)
    table = quote(CheckIn._meta.db_table)
    through = CheckIn.tags.through
    link_table = quote(through._meta.db_table)
    link_columns = ", ".join(quote(through._meta.get_field(name).column) for name in ("checkin", "tag"))
    postgres = connection.vendor == "postgresql"
    created = now.strftime("%Y-%m-%d %H:%M:%S") + ("+00" if postgres else "")
    medication = np.array([*synthetic.MEDICATION, ""])  # index -1: not asked
    bit = np.arange(len(DEFAULT_ACTIVITIES), dtype=np.uint16)
    start_date = now.date() - timedelta(days=days)  # the last day is yesterday (UTC)

    def nullable(values: np.ndarray) -> np.ndarray:
        """Python values for SQLite (None where not asked); text for COPY (\\N where not asked)."""
        if postgres:
            return np.where(values < 0, "\\N", values.astype(str))
        objects = values.astype(object)
        objects[values < 0] = None
        return objects

    def write(table: str, columns: str, rows: list[np.ndarray]) -> None:
        if postgres:
            text = "\n".join(map("\t".join, zip(*(column.tolist() for column in rows), strict=True))) + "\n"
            with connection.connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                copy.write(text)
        else:
            marks = ", ".join("?" * len(rows))
            statement = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 (names from the models)
            connection.connection.executemany(statement, zip(*(column.tolist() for column in rows), strict=True))

    # The rows are consistent by construction: the database need not check each foreign key (when it lets us).
    with connection.cursor() as cursor:
        if postgres:
            try:
                with transaction.atomic():
                    cursor.execute("SET session_replication_role = replica")
            except DatabaseError:
                print("  (foreign keys checked row by row: not allowed to turn that off)", file=sys.stderr)
        else:
            cursor.execute("PRAGMA foreign_keys = OFF")
            # Room for the indexes being filled (SQLite's default page cache is 2 MB), and no syncing while loading.
            cursor.execute("PRAGMA cache_size = -1000000")
            cursor.execute("PRAGMA synchronous = OFF")

    next_id = 1
    checkins = written_links = 0
    generate_seconds = write_seconds = 0.0
    loop_started = time.perf_counter()
    chunks = synthetic.generate_chunks(
        members, days, seed=seed, start_date=start_date, time_zone=zones, chunk_size=CHUNK
    )
    while True:
        step = time.perf_counter()
        cohort = next(chunks, None)
        generate_seconds += time.perf_counter() - step
        if cohort is None:
            break
        step = time.perf_counter()
        c = cohort.checkins
        k = len(c)
        position = cohort.first_member + c.member.astype(np.int64)
        checkin_ids = np.arange(next_id, next_id + k, dtype=np.int64)
        recorded = np.datetime_as_string(c.recorded_at, unit="s")
        recorded = np.strings.replace(recorded, "T", " ")
        if postgres:
            recorded = np.strings.add(recorded, "+00")
        local_date = np.datetime_as_string(np.datetime64(start_date, "D") + c.day.astype("timedelta64[D]"))
        sleep = np.round(c.sleep_hours.astype(float), 2)
        sleep = nullable(np.where(np.isnan(sleep), -1, sleep))
        rows = [
            checkin_ids,
            ids[position],
            recorded,
            local_date,
            nullable(c.mood),
            nullable(c.anxiety),
            nullable(c.energy),
            sleep,
            nullable(c.sleep_quality),
            medication[c.medication],
            nullable(c.cravings),
            np.full(k, ""),
            np.full(k, "synthetic"),
            np.full(k, created),
        ]
        if postgres:
            rows[:2] = [column.astype(str) for column in rows[:2]]
        # Tag links: the activities the generator gave each check-in, and the warning sign on high cravings.
        which, activity = np.nonzero((c.activities[:, None] >> bit) & 1)
        signed = np.flatnonzero(c.cravings >= SIGN_CRAVINGS)
        links = [np.concatenate([checkin_ids[which], checkin_ids[signed]]),
                 np.concatenate([tag_ids[position[which], activity], tag_ids[position[signed], -1]])]  # fmt: skip
        if postgres:
            links = [column.astype(str) for column in links]
        with transaction.atomic():
            write(table, columns, rows)
            write(link_table, link_columns, links)
        write_seconds += time.perf_counter() - step
        next_id += k
        checkins += k
        written_links += len(links[0])
        done = cohort.first_member + cohort.n_members
        if done % (10 * CHUNK) == 0 or done == members:
            elapsed = time.perf_counter() - loop_started
            print(
                f"  {done:,}/{members:,} members, {checkins:,} check-ins, {checkins / elapsed:,.0f} check-ins/s, "
                f"about {elapsed * (members - done) / done:.0f} s to go",
                file=sys.stderr,
                flush=True,
            )
    step = time.perf_counter()
    with connection.cursor() as cursor:
        if postgres:
            from django.core.management.color import no_style

            for statement in connection.ops.sequence_reset_sql(no_style(), [CheckIn, through]):
                cursor.execute(statement)
        if postgres:
            # What autovacuum would do after such a load, done now so that it does not run during the timings.
            cursor.execute("VACUUM ANALYZE")
    write_seconds += time.perf_counter() - step
    return {
        "checkins": checkins,
        "links": written_links,
        "seconds": time.perf_counter() - started,
        "generate_seconds": generate_seconds,
        "write_seconds": write_seconds,
    }


if __name__ == "__main__":
    raise SystemExit(main())
