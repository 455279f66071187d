"""Check-in write path against a trivial endpoint, on the real server, side by side in one run.

Starts `alongside serve` (gunicorn, production mode) on a free 127.0.0.1 port with a throwaway data dir, and
`alongside worker` beside it as in production (it announces stored check-ins to the early-warning engine). Makes
M members, each with a personal access token, who each check in once (unmeasured: a member's first check-in
also makes their tags and detector state), then for each concurrency level sends a bounded number of
requests (and stops after a time limit) to:
  - GET /ping                 (no database: the server's ceiling)
  - POST /api/v1/checkins     (token auth, a new Idempotency-Key each time, a realistic check-in; the members
                               take turns, so the engine's work is one member's state per check-in)
and prints requests/s, p50 and p99 latency, errors, the server's CPU time per request (its processes, read from
/proc), PostgreSQL's when its server runs on this machine (every `postgres` process, the worker's queries
included), the load generator's own (this process, on the same cores), and the check-in/ping throughput ratio.
After each level's check-ins it waits until the worker has announced every one (`alongside_checkins_unannounced`
on /metrics is 0) and prints how long that took after the last response and the worker's CPU time per check-in
over the level: the engine's work, which the worker does on the same cores while the requests run.

The database is SQLite unless ALONGSIDE_DATABASE_URL is set; for PostgreSQL run it under
scripts/with-throwaway-postgres. Usage:
    .venv/bin/python bench/checkin_ingest.py [--levels 1,8,32] [--requests 2000] [--seconds 20] [--members 64]
    scripts/with-throwaway-postgres .venv/bin/python bench/checkin_ingest.py
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import results
from serving import (
    bench_env,
    database_name,
    database_server_cpu_seconds,
    free_port,
    percentile,
    run_in_threads,
    scratch_directory,
    server_cpu_seconds,
    start_server,
    start_worker,
    stop,
    wait_for,
)


def prepare(env: dict, members: int) -> list[str]:
    """Migrate and create members with tokens; returns their raw tokens."""
    code = (
        "import django; django.setup()\n"
        "from alongside.accounts import actions, tokens\n"
        "from alongside.accounts.models import Role\n"
        "org = actions.create_organisation('Bench', 'US', time_zone='America/New_York')\n"
        f"for n in range({members}):\n"
        "    m = actions.create_person(f'bench{n}@example.org', f'Bench {n}', 'bench pass phrase',"
        " time_zone='America/New_York')\n"
        "    actions.grant_role(m, org, Role.MEMBER)\n"
        "    print(tokens.issue(m, name='bench', scopes=['read', 'write'])[1])"
    )
    python = sys.executable
    subprocess.run([python, "-m", "alongside", "migrate", "-v0"], env=env, check=True)
    out = subprocess.run([python, "-c", code], env=env, check=True, capture_output=True, text=True).stdout
    return out.strip().splitlines()[-members:]


def waiting_checkins(port: int) -> int:
    """Check-ins stored and not yet announced, from the server's /metrics (open to this machine)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/metrics")
    text = connection.getresponse().read().decode()
    connection.close()
    found = re.search(r"^alongside_checkins_unannounced ([0-9.e+]+)$", text, re.MULTILINE)
    return int(float(found.group(1))) if found else -1


def wait_until_announced(port: int, timeout: float = 120.0) -> float | None:
    """Seconds until the worker has announced every stored check-in, or None if it had not within `timeout`
    (0 at once from a server without the queue: an older version, measured side by side)."""
    began = time.perf_counter()
    while time.perf_counter() - began < timeout:
        if waiting_checkins(port) <= 0:
            return time.perf_counter() - began
        time.sleep(0.05)
    return None


def run_level(port: int, concurrency: int, total: int, seconds: float, make_request) -> dict:
    """`concurrency` threads, each with one keep-alive connection, share `total` requests."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    remaining = [total]
    deadline = time.monotonic() + seconds

    def worker():
        nonlocal errors
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                if remaining[0] <= 0 or time.monotonic() > deadline:
                    return
                remaining[0] -= 1
            method, path, body, headers = make_request()
            started = time.perf_counter()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                ok = response.status in (200, 201)
            except (OSError, http.client.HTTPException):
                ok = False
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                errors += 0 if ok else 1

    wall = run_in_threads(worker, concurrency)
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": len(latencies) / wall if wall else 0.0,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else 0.0,
        "p99_ms": 1000 * percentile(latencies, 0.99),
        "errors": errors,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,8,32", help="comma-separated concurrency levels")
    parser.add_argument("--requests", type=int, default=2000, help="requests per endpoint per level")
    parser.add_argument("--seconds", type=float, default=20.0, help="time limit per endpoint per level")
    parser.add_argument("--members", type=int, default=64, help="members checking in, in turn")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn process")
    results.add_json_option(parser)
    args = parser.parse_args()

    data_dir = scratch_directory()
    env = bench_env(data_dir)
    database = database_name(env)
    tokens = itertools.cycle(prepare(env, args.members))
    port = free_port()
    server = start_server(env, port, workers=args.workers, threads=args.threads)
    worker = start_worker(env)
    rows = []
    try:
        wait_for(port)
        checkin = json.dumps({"mood": 6, "anxiety": 3, "energy": 5, "sleep_hours": 7.5, "activities": ["Walk"]})

        def ping():
            return "GET", "/ping", None, {}

        def post_checkin():
            headers = {"Authorization": f"Bearer {next(tokens)}", "Content-Type": "application/json"}
            return "POST", "/api/v1/checkins", checkin, {**headers, "Idempotency-Key": uuid.uuid4().hex}

        print(f"database: {database}; server: gunicorn {args.workers} processes x {args.threads} threads, and a "
              f"worker; {args.members} members; {os.cpu_count()} cores; up to {args.requests} requests or "
              f"{args.seconds:.0f}s per cell")  # fmt: skip
        print(f"{'clients':>7} | {'endpoint':<21} | {'req/s':>8} | {'p50 ms':>7} | {'p99 ms':>7} | {'errors':>6} | "
              f"{'server CPU ms/req':>17} | {'database CPU ms/req':>19} | "
              f"{'load generator CPU ms/req':>25}")  # fmt: skip
        # Every member checks in once before anything is measured, as members of a running service have: a
        # member's first check-in also makes their default activity tags and their detector state, a one-off
        # that in a real population is a tiny share of check-ins, but here would be one in every few dozen.
        run_level(port, min(8, args.members), args.members, 60, post_checkin)
        wait_until_announced(port)
        for level in [int(part) for part in args.levels.split(",")]:
            run_level(port, level, min(200, args.requests), args.seconds, ping)  # warm-up
            wait_until_announced(port)
            by_endpoint = {}
            for name, make in (("GET /ping", ping), ("POST /api/v1/checkins", post_checkin)):
                cpu_before, worker_before = server_cpu_seconds(server.pid), server_cpu_seconds(worker.pid)
                database_before = database_server_cpu_seconds()
                # The load generator is this process: its threads share the cores with what it measures.
                generator_before = time.process_time()
                by_endpoint[name] = result = run_level(port, level, args.requests, args.seconds, make)
                generator = time.process_time() - generator_before
                cpu_after, database_after = server_cpu_seconds(server.pid), database_server_cpu_seconds()
                cpu = database_cpu = "n/a"
                generator_cpu = f"{1000 * generator / result['requests']:.2f}" if result["requests"] else "n/a"
                if cpu_before is not None and result["requests"]:
                    cpu = f"{1000 * (cpu_after - cpu_before) / result['requests']:.2f}"
                if database_before is not None and database_after is not None and result["requests"]:
                    database_cpu = f"{1000 * (database_after - database_before) / result['requests']:.2f}"
                print(f"{level:>7} | {name:<21} | {result['rps']:>8.0f} | {result['p50_ms']:>7.1f} | "
                      f"{result['p99_ms']:>7.1f} | {result['errors']:>6} | {cpu:>17} | {database_cpu:>19} | "
                      f"{generator_cpu:>25}")  # fmt: skip
            checkins = by_endpoint["POST /api/v1/checkins"]
            drained = wait_until_announced(port)
            worker_after = server_cpu_seconds(worker.pid)
            if drained is None:
                print(f"{level:>7} | the worker had not announced every check-in 120 s after the last response")
            elif worker_before is not None and checkins["requests"]:
                per = 1000 * (worker_after - worker_before) / checkins["requests"]
                print(f"{level:>7} | worker: every check-in announced {drained:.1f} s after the last response; "
                      f"worker CPU {per:.2f} ms per check-in")  # fmt: skip
            checkins["drain_seconds"] = drained
            ratio = checkins["rps"] / max(by_endpoint["GET /ping"]["rps"], 1e-9)
            print(f"{level:>7} | check-in / ping throughput ratio: {ratio:.2f}")
            rows.append(headline(database, level, by_endpoint, ratio))
    finally:
        stop(worker)
        stop(server)
    results.write(args.json, rows)
    return 0


GOAL_CLIENTS, GOAL_P99_MS, GOAL_RATIO = 32, 100.0, 0.40


def headline(database: str, level: int, by_endpoint: dict, ratio: float) -> dict:
    """One level's row; the goals are stated for 32 clients, so only that level is judged."""
    ping, checkin = by_endpoint["GET /ping"], by_endpoint["POST /api/v1/checkins"]
    met = None
    if level == GOAL_CLIENTS:
        met = checkin["p99_ms"] < GOAL_P99_MS and ratio >= GOAL_RATIO and checkin.get("drain_seconds") is not None
    return results.row(
        "checkin_ingest", database, f"{level} client{'s' * (level != 1)}",
        {"check-in req/s": checkin["rps"], "check-in p50 ms": checkin["p50_ms"], "check-in p99 ms": checkin["p99_ms"],
         "ping req/s": ping["rps"], "check-in / ping": ratio, "errors": ping["errors"] + checkin["errors"],
         "all announced after s": checkin.get("drain_seconds")},
        goal=f"at {GOAL_CLIENTS} clients: check-in p99 under {GOAL_P99_MS:.0f} ms, check-in / ping ≥ {GOAL_RATIO:.2f}",
        met=met,
    )  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
