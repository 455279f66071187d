"""Fill an empty database with a large synthetic world, in bulk, for benchmarks and load tests.

Organisations with their admins and programs, staff (clinicians, case managers, peer mentors) with about
`--caseload` members each, members with their roles, tags, care relationships and default consent, enrolments,
synthetic check-ins (several a day for some, days missed, relapses) and questionnaires every 14 days: see
`bench/dataset.py`. Then, timed on its own, every member's early-warning state is rebuilt from the check-ins (what
`alongside signals rescan` does) unless --no-rescan.

By default it loads into the database the environment configures (as any `alongside` command does), which must
be migrated and empty (it migrates first; it refuses a database that has people in it). With --throwaway it loads
into a throwaway database instead, as the other benchmarks do (SQLite in a temporary directory, or a new database
on the PostgreSQL server ALONGSIDE_DATABASE_URL points at), dropped at the end.

Every generated person signs in with the password `alongside-load-test`; e-mail addresses are
member1@bench.example ..., clinician1@, case-manager1@, peer-mentor1@ and admin1@bench.example. Staff have an
authenticator with the key dataset.STAFF_TOTP_KEY (hex), so load tests can compute their second-factor codes.

Prints a summary: rows per table, seconds, rows per second overall and check-ins per second (and with --json PATH
writes the headline to PATH, see bench/results.py).

    .venv/bin/python bench/load_dataset.py --members 100000 --days 365 --staff 5000
    scripts/with-throwaway-postgres .venv/bin/python bench/load_dataset.py --members 100000 --days 365 --staff 5000 \
        --throwaway
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dataset
import results
import signals_rescan

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=365, help="days of history, through yesterday")
    parser.add_argument("--staff", type=int, default=5000)
    parser.add_argument("--organisations", type=int, default=0, help="default: one per 20,000 members")
    parser.add_argument("--caseload", type=int, default=20, help="members per staff member (default 20)")
    parser.add_argument("--notes", type=float, default=0.0, help="share of check-ins with an encrypted note (0-1)")
    parser.add_argument("--seed", type=int, default=dataset.Shape.seed)
    parser.add_argument("--chunk", type=int, default=1000, help="members per transaction (default 1000)")
    parser.add_argument(
        "--drop-indexes",
        action="store_true",
        help="PostgreSQL: drop the check-in, tag and response tables' secondary indexes and build them after",
    )
    parser.add_argument(
        "--check-keys",
        action="store_true",
        help="PostgreSQL: check every foreign key (slower; the rows are consistent)",
    )
    parser.add_argument("--no-rescan", action="store_true", help="do not rebuild the early-warning states")
    parser.add_argument("--throwaway", action="store_true", help="load into a throwaway database, dropped after")
    results.add_json_option(parser)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)

    cleanup = None
    if args.throwaway:
        env, _database, cleanup = signals_rescan.fresh_environment()
        os.environ.clear()
        os.environ.update(env)
    else:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alongside.settings")
    try:
        return run(args)
    finally:
        if cleanup:
            from django.db import connections

            connections.close_all()
            cleanup()


def run(args) -> int:
    import django
    from tqdm import tqdm

    from alongside.conf import ConfigError

    try:
        django.setup()
    except ConfigError as error:
        print(f"load_dataset: {error}", file=sys.stderr)
        return 2
    from django.core.management import call_command
    from django.db import connection

    plan = dataset.Shape(
        members=args.members, days=args.days, staff=args.staff, organisations=args.organisations,
        caseload=args.caseload, seed=args.seed, notes=args.notes, chunk=args.chunk,
    )  # fmt: skip
    call_command("migrate", verbosity=0)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            database = f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
    else:
        database = "SQLite (WAL)"
    print(f"database: {database}; {signals_rescan.machine()}; {signals_rescan.code_version()}")
    print(
        f"{plan.members:,} members x {plan.days} days, {plan.staff:,} staff (caseload {plan.caseload}), "
        f"{plan.organisation_count} organisations; notes on {plan.notes:.0%} of check-ins"
        + ("; secondary indexes dropped and rebuilt" if args.drop_indexes else "")
    )
    with tqdm(total=0, unit="rows", unit_scale=True, file=sys.stderr, smoothing=0.05) as bar:

        def progress(done: int, expected: int) -> None:
            bar.total = expected
            bar.update(done - bar.n)

        try:
            loaded = dataset.load(
                plan, progress=progress, drop_indexes=args.drop_indexes, trust_keys=not args.check_keys
            )
        except dataset.DatasetError as error:
            bar.close()
            print(f"load_dataset: {error}", file=sys.stderr)
            return 2
    summary(loaded)
    figures = {
        "rows": loaded.total_rows,
        "load s": loaded.seconds,
        "rows/s": loaded.total_rows / loaded.seconds,
        "check-ins/s": loaded.rows.get("monitoring_checkin", 0) / loaded.seconds,
    }
    if not args.no_rescan:
        checkins, seconds = dataset.rebuild_detector_states()
        print(f"early-warning states rebuilt (signals rescan): {seconds:.1f} s, {checkins / seconds:,.0f} check-ins/s")
        figures["rescan s"] = seconds
    postgres = connection.vendor == "postgresql"
    options = " --drop-indexes" if args.drop_indexes else " --check-keys" if args.check_keys else ""
    results.write(args.json, [results.row(
        "load_dataset", database, f"{plan.members:,} × {plan.days}, {plan.staff:,} staff{options}", figures,
        goal=f"{GOAL_ROWS_PER_SECOND:,} rows/s on PostgreSQL" if postgres else None,
        met=figures["rows/s"] >= GOAL_ROWS_PER_SECOND if postgres else None,
    )])  # fmt: skip
    return 0


GOAL_ROWS_PER_SECOND = 100_000


def summary(loaded: dataset.Loaded) -> None:
    width = max(len(table) for table in loaded.rows)
    print(f"\n{'table':<{width}} | {'rows':>12} | {'writing s':>9}")
    for table, rows in sorted(loaded.rows.items(), key=lambda item: -item[1]):
        print(f"{table:<{width}} | {rows:>12,} | {loaded.write_seconds.get(table, 0):>9.1f}")
    total = loaded.total_rows
    checkins = loaded.rows.get("monitoring_checkin", 0)
    links = loaded.rows.get("monitoring_checkin_tags", 0)
    bulk = loaded.seconds - loaded.finish_seconds
    print(f"{'all':<{width}} | {total:>12,}")
    print(
        f"\nloaded in {loaded.seconds:.1f} s: {total / loaded.seconds:,.0f} rows/s overall "
        f"(rows {bulk:.1f} s, {total / bulk:,.0f} rows/s; then statistics and indexes {loaded.finish_seconds:.1f} s); "
        f"generating the cohort {loaded.generate_seconds:.1f} s of it"
    )
    print(f"check-ins: {checkins / bulk:,.0f} a second over the whole bulk")
    writing = loaded.write_seconds.get("monitoring_checkin", 0) + loaded.write_seconds.get("monitoring_checkin_tags", 0)
    if writing:
        print(
            f"writing check-ins and their tag links alone: {writing:.1f} s, {checkins / writing:,.0f} check-ins/s, "
            f"{(checkins + links) / writing:,.0f} rows/s"
        )
    print(f"foreign keys: {'not checked row by row' if loaded.keys_trusted else 'checked'}")


if __name__ == "__main__":
    raise SystemExit(main())
