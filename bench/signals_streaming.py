"""What the early-warning engine adds to each check-in on the write path, side by side in one process.

Builds a throwaway database as `bench/signals_rescan.py` does (SQLite in a temporary directory, or a new
database on the PostgreSQL server that ALONGSIDE_DATABASE_URL points at, dropped afterwards): M members with D
days of synthetic history through yesterday and their detector states rebuilt (`rescan`). Then records
check-ins for today through `monitoring.checkins.record`, each in its own `transaction.atomic()` that commits,
so the commit callbacks run as in production: the `checkin_recorded` receiver (`engine.on_checkin`: the
member's state row locked, read, updated and written in a transaction of its own) runs after each commit when
it is connected, and not at all when it is disconnected. Blocks of check-ins alternate between the two; the
first block of each is a warm-up. Each check-in uses the values of one of its member's earlier check-ins
(its warning sign when cravings were 7 or more), members in turn.

Reports the median and mean microseconds per check-in each way, the difference (the engine's added cost) and
the ratio, and how many alerts the engine raised meanwhile.

    .venv/bin/python bench/signals_streaming.py --members 200 --days 60 --checkins 4000 --block 50
    scripts/with-throwaway-postgres .venv/bin/python bench/signals_streaming.py

With --json PATH the medians are also written to PATH (see bench/results.py).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from decimal import Decimal

import results
from signals_rescan import ROOT, SIGN_CRAVINGS, build, code_version, fresh_environment, machine


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--days", type=int, default=60, help="days of history before today (default 60)")
    parser.add_argument("--checkins", type=int, default=4000, help="check-ins timed each way (default 4000)")
    parser.add_argument("--block", type=int, default=50, help="check-ins per block (default 50)")
    results.add_json_option(parser)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # in step with the progress lines on stderr

    env, database, cleanup = fresh_environment()
    for key in [key for key in os.environ if key.startswith("ALONGSIDE_")]:
        del os.environ[key]
    os.environ.update(env)
    version = code_version()
    print(f"database: {database}; {machine()}; {version}")
    print(f"{args.members} members with {args.days} days of history")
    try:
        subprocess.run([sys.executable, "-m", "alongside", "migrate", "-v0"], env=env, cwd=ROOT, check=True)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        figures = measure(args, database)
        setting = f"{args.members:,} members × {args.days} days, {args.checkins:,} check-ins each way"
        results.write(args.json, [results.row("signals_streaming", database, setting, figures)])
        if code_version() != version:
            print(f"WARNING: the code changed during the run (now {code_version()}): these figures mix versions")
        return 0
    finally:
        from django.db import connections

        connections.close_all()
        cleanup()


def measure(args, database: str) -> dict[str, float]:
    from django.db import connection, transaction

    from alongside.accounts.models import User
    from alongside.monitoring import checkins
    from alongside.monitoring.events import checkin_recorded
    from alongside.monitoring.models import CheckIn
    from alongside.signals import receivers, rescan
    from alongside.signals.models import Alert, DetectorState

    started = time.perf_counter()
    built = build(args.members, args.days, seed=7)
    # The loader's connection skipped foreign-key checks and (SQLite) syncing: a new one is as production's.
    connection.close()
    rebuilt = rescan.rescan()
    seconds = time.perf_counter() - started
    print(f"built {built['checkins']:,} check-ins and {rebuilt.members} states in {seconds:.0f} s")

    members = list(User.objects.filter(org_roles__isnull=False).order_by("pk"))
    fields = ("mood", "anxiety", "energy", "sleep_hours", "sleep_quality", "medication", "cravings")
    history: dict[int, list[dict]] = {}
    for row in CheckIn.objects.order_by("member_id", "-local_date", "-recorded_at").values("member_id", *fields):
        kept = history.setdefault(row.pop("member_id"), [])
        if len(kept) < 14:
            kept.append(row)

    sequence = [0]

    def one_checkin() -> float:
        index = sequence[0]
        sequence[0] += 1
        member = members[index % len(members)]
        earlier = history[member.pk]
        values = dict(earlier[(index // len(members)) % len(earlier)])
        if values["sleep_hours"] is not None:
            values["sleep_hours"] = Decimal(values["sleep_hours"])
        signs = ["Isolating"] if (values["cravings"] or 0) >= SIGN_CRAVINGS else []
        began = time.perf_counter()
        with transaction.atomic():
            checkins.record(member, **values, warning_signs=signs, source="api")
        return time.perf_counter() - began

    def connect(on: bool) -> None:
        if on:
            checkin_recorded.connect(receivers.checkin, dispatch_uid="signals_checkin")
        else:
            checkin_recorded.disconnect(dispatch_uid="signals_checkin")

    times: dict[bool, list[float]] = {True: [], False: []}
    blocks: dict[bool, list[float]] = {True: [], False: []}
    alerts_before = Alert.objects.count()
    rounds = -(-args.checkins // args.block) + 1  # the first round is a warm-up
    for index in range(rounds):
        for on in (True, False) if index % 2 == 0 else (False, True):
            connect(on)
            spent = [one_checkin() for _ in range(args.block)]
            if index:
                times[on] += spent
                blocks[on].append(sum(spent) / len(spent))
    connect(True)
    stale = DetectorState.objects.filter(stale=True).count()

    def micro(value: float) -> float:
        return 1e6 * value

    with_engine, without = times[True], times[False]
    print(f"\n{database}: {len(with_engine):,} check-ins each way in blocks of {args.block}, alternating")
    print(f"{'receiver':<12} | {'median µs':>9} | {'mean µs':>8} | {'p90 µs':>7} | {'median of block means µs':>24}")
    for on, rows in ((False, without), (True, with_engine)):
        ordered = sorted(rows)
        print(f"{'connected' if on else 'disconnected':<12} | {micro(statistics.median(rows)):>9.0f} | "
              f"{micro(statistics.fmean(rows)):>8.0f} | {micro(ordered[int(0.9 * len(ordered))]):>7.0f} | "
              f"{micro(statistics.median(blocks[on])):>24.0f}")  # fmt: skip
    median_on, median_off = statistics.median(with_engine), statistics.median(without)
    mean_on, mean_off = statistics.fmean(with_engine), statistics.fmean(without)
    print(f"added by the engine: median {micro(median_on - median_off):.0f} µs per check-in "
          f"(ratio {median_on / median_off:.2f}); mean {micro(mean_on - mean_off):.0f} µs "
          f"(ratio {mean_on / mean_off:.2f})")  # fmt: skip
    print(f"alerts raised meanwhile: {Alert.objects.count() - alerts_before}; states left stale: {stale}")
    return {"without the engine µs": micro(median_off), "with it µs": micro(median_on),
            "added µs": micro(median_on - median_off), "ratio": median_on / median_off}  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
