"""What the early-warning engine costs per check-in: the request's write, and the worker's announcing.

Builds a throwaway database as `bench/signals_rescan.py` does (SQLite in a temporary directory, or a new
database on the PostgreSQL server that ALONGSIDE_DATABASE_URL points at, dropped afterwards): M members with D
days of synthetic history through yesterday and their detector states rebuilt (`rescan`). Then records
check-ins for today through `monitoring.checkins.record`, each in its own `transaction.atomic()` that commits
(what a request does: the engine is not involved), and has the worker's `announce_waiting` fold them into the
members' states (`engine.fold_checkins`) in two ways that alternate by block: one check-in at a time (record
one, announce it), and a block at once (record the block, announce it in one batch, as a busy worker does).
Each check-in uses the values of one of its member's earlier check-ins (its warning sign when cravings were 7
or more), members in turn, so a batch holds as many members as check-ins. The first block of each way is a
warm-up.

Reports the median microseconds per check-in of the request's write and of announcing it each way, and how
many alerts the engine raised meanwhile.

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
    parser.add_argument("--block", type=int, default=50, help="check-ins per block and batch (default 50)")
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
        setting = f"{args.members:,} members × {args.days} days, {args.checkins:,} check-ins, batches of {args.block}"
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
    from alongside.monitoring.models import CheckIn
    from alongside.signals import rescan
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

    def announce(expected: int) -> float:
        began = time.perf_counter()
        done = checkins.announce_waiting(limit=expected)
        spent = time.perf_counter() - began
        assert done == expected, (done, expected)
        return spent

    writes: list[float] = []
    one_by_one: list[float] = []  # announcing one check-in, each
    batched: list[float] = []  # announcing a block in one batch, per check-in
    alerts_before = Alert.objects.count()
    rounds = -(-args.checkins // args.block) + 1  # the first round is a warm-up
    for index in range(rounds):
        for batch in (False, True) if index % 2 == 0 else (True, False):
            if batch:
                spent = [one_checkin() for _ in range(args.block)]
                per = announce(args.block) / args.block
                if index:
                    writes.extend(spent)
                    batched.append(per)
            else:
                for _ in range(args.block):
                    spent, per = one_checkin(), announce(1)
                    if index:
                        writes.append(spent)
                        one_by_one.append(per)
    stale = DetectorState.objects.filter(stale=True).count()

    def micro(value: float) -> float:
        return 1e6 * value

    write, single, per_batch = statistics.median(writes), statistics.median(one_by_one), statistics.median(batched)
    print(f"\n{database}: {len(writes):,} check-ins, half announced one at a time, half in batches of {args.block}")
    print(f"the request's write (record):            median {micro(write):>6.0f} µs per check-in")
    print(f"announcing, one at a time:               median {micro(single):>6.0f} µs per check-in")
    print(f"announcing, batches of {args.block:<4} (per check-in): median {micro(per_batch):>6.0f} µs "
          f"({single / per_batch:.1f} times less)")  # fmt: skip
    print(f"alerts raised meanwhile: {Alert.objects.count() - alerts_before}; states left stale: {stale}")
    return {"record µs": micro(write), "announce one µs": micro(single),
            f"announce in batches of {args.block} µs": micro(per_batch)}  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
