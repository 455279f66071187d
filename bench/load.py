"""Mixed member and staff traffic on the real server and two workers, at several concurrency levels, or a soak.

Starts `alongside serve --workers N --threads T` and two `alongside worker` processes on 127.0.0.1 with a throwaway
data dir, seeds a modest world (`alongside synthesize` members with 60 days of history, each supported by one of
a few clinicians; an open alert for every fourth member), signs everyone in (members: a personal access token for
the API and a session cookie for pages; staff: a session past the second factor), then sends a weighted mix:

    member  POST /api/v1/checkins (new Idempotency-Key)   30 %   the daily habit, and the hottest write
    member  GET  /api/v1/plan                             14 %   the plan, read often from the phone
    member  GET  /api/v1/checkins?limit=30 (history)      12 %
    member  POST /api/v1/journal (new Idempotency-Key)     8 %
    member  GET  /me/history/ (page with SVG charts)       8 %
    staff   GET  /team/members/<id>/ (member overview)    12 %
    staff   GET  /team/caseload/                          10 %
    staff   POST /team/alerts/<id>/acknowledge/            6 %   (the first one acknowledges, later ones change nothing)

A page that asks for more as soon as it is shown (htmx's `hx-trigger="load"`: the history page's charts not yet
drawn since their data changed, the member overview's charts) is followed by those requests, as a browser would;
they are timed as requests of their own ("GET loaded by page (htmx)") and count in the overall figures.

Members do about four fifths of the requests, which is what a caseload of 10 members per clinician checking in
daily and opening the app a few more times looks like against staff who open the caseload and a few records.

Each level sends at most --requests requests or runs --seconds, whichever ends first, and reports per operation
and overall requests/s, p50/p95/p99 and errors (any status other than the operation's expected one).
`--soak 600` instead runs at a fixed --rate for that many seconds and samples every 10 s the resident memory of
each process: the gunicorn arbiter, each gunicorn worker, both workers and, on PostgreSQL, the server's processes
summed (their RSS, and their private memory, which leaves out the shared buffer pool); it reports start, end, max
and the slope (least squares) of each.
`--rates 10,20` runs each fixed rate for --seconds instead of the concurrency levels: the capacity is the highest
rate kept up with and served with p99 under the goal.

The database is SQLite unless ALONGSIDE_DATABASE_URL is set; for PostgreSQL run it under
scripts/with-throwaway-postgres. Usage:
    .venv/bin/python bench/load.py [--levels 4,16,32] [--requests 3000] [--seconds 30]
    scripts/with-throwaway-postgres .venv/bin/python bench/load.py --soak 600 --rate 40

With --json PATH the headline results (per level, or the soak's) are also written to PATH (see bench/results.py).
"""

from __future__ import annotations

import argparse
import html
import http.client
import json
import random
import re
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))

import results
from serving import (
    bench_env,
    children_of,
    database_name,
    free_port,
    percentile,
    pids_named,
    private_kib,
    rss_kib,
    run_in_threads,
    scratch_directory,
    start_server,
    start_worker,
    stop,
    wait_for,
)

IDLE_RECONNECT = 1.5  # seconds; below gunicorn's keep-alive timeout
FOLLOW_UP = "GET loaded by page (htmx)"
LOADED_BY_PAGE = re.compile(r'<[^>]*\bhx-trigger="load"[^>]*>')
HX_GET = re.compile(r'\bhx-get="([^"]+)"')


def loaded_by(page: str) -> list[str]:
    """The paths a browser running htmx requests as soon as `page` is shown."""
    paths = []
    for tag in LOADED_BY_PAGE.findall(page):
        found = HX_GET.search(tag)
        if found:
            paths.append(html.unescape(found.group(1)))
    return paths


CSRF = "b" * 32  # an unmasked CSRF secret the bench sets itself, as cookie and header alike


def seed(members: int, days: int, staff: int) -> dict:
    """Runs in its own process with Django set up: the world, and everyone's credentials, as JSON-ready data."""
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from alongside.accounts import actions, tokens
    from alongside.accounts.models import Role, User
    from alongside.care import actions as care_actions
    from alongside.care import safety
    from alongside.signals.models import Alert

    def session_cookie(person, device=None) -> str:
        from django.test import Client

        client = Client()
        client.force_login(person)
        if device is not None:
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()
        return client.cookies[settings.SESSION_COOKIE_NAME].value

    org = actions.create_organisation("Bench", "US", time_zone="America/New_York", slug="bench")
    admin = actions.create_person("admin@bench.example", "Admin", "bench pass phrase", time_zone="America/New_York")
    actions.grant_role(admin, org, Role.ORG_ADMIN)
    call_command("synthesize", organisation=org.slug, members=members, days=days, stdout=sys.stderr)
    people = list(User.objects.filter(email__startswith="synthetic-").order_by("pk"))
    clinicians = []
    for number in range(staff):
        clinician = actions.create_person(
            f"clinician-{number}@bench.example", f"Clinician {number}", "bench pass phrase", time_zone=org.time_zone
        )
        actions.grant_role(clinician, org, Role.CLINICIAN)
        device = TOTPDevice.objects.create(user=clinician, name="bench authenticator", confirmed=True)
        clinicians.append({"person": clinician, "cookie": session_cookie(clinician, device), "members": []})
    world = {"members": [], "staff": []}
    for index, member in enumerate(people):
        team = clinicians[index % staff]
        care_actions.add_supporter(by=admin, organisation=org, member=member, staff=team["person"], role=Role.CLINICIAN)
        team["members"].append(member.pk)
        if index % 4 == 0:
            safety.record_struggling(member, ask_team=True, client_key=f"bench-{member.pk}")
        world["members"].append({
            "id": member.pk,
            "token": tokens.issue(member, name="bench", scopes=["read", "write"])[1],
            "cookie": session_cookie(member),
        })  # fmt: skip
    for team in clinicians:
        alerts = list(Alert.objects.filter(member__in=team["members"]).values_list("pk", flat=True))
        world["staff"].append({"cookie": team["cookie"], "members": team["members"], "alerts": alerts})
    return world


def prepare(env: dict, members: int, days: int, staff: int) -> dict:
    python = sys.executable
    subprocess.run([python, "-m", "alongside", "migrate", "-v0"], env=env, check=True)
    code = (
        f"import json, sys; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r}); import load;"
        f"print(json.dumps(load.seed({members}, {days}, {staff})))"
    )
    out = subprocess.run([python, "-c", code], env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def operations(world: dict) -> list[tuple[str, int, int, object]]:
    """(name, weight in percent, expected status, a function making (method, path, body, headers))."""
    members, staff = world["members"], world["staff"]
    moods = [json.dumps({"mood": mood, "anxiety": 3, "energy": 5, "sleep_hours": 7.0}) for mood in range(3, 9)]

    def api(member: dict, extra: dict | None = None) -> dict:
        return {"Authorization": f"Bearer {member['token']}", "Content-Type": "application/json", **(extra or {})}

    def page(cookie: str, extra: dict | None = None) -> dict:
        return {"Cookie": f"sessionid={cookie}; csrftoken={CSRF}", **(extra or {})}

    def checkin():
        member = random.choice(members)
        return "POST", "/api/v1/checkins", random.choice(moods), api(member, {"Idempotency-Key": uuid.uuid4().hex})

    def plan():
        return "GET", "/api/v1/plan", None, api(random.choice(members))

    def history_api():
        return "GET", "/api/v1/checkins?limit=30", None, api(random.choice(members))

    def journal():
        body = json.dumps({"text": "Walked to the river and called my sister. " * random.randint(1, 6)})
        return "POST", "/api/v1/journal", body, api(random.choice(members), {"Idempotency-Key": uuid.uuid4().hex})

    def history_page():
        return "GET", "/me/history/", None, page(random.choice(members)["cookie"])

    def overview():
        person = random.choice(staff)
        return "GET", f"/team/members/{random.choice(person['members'])}/", None, page(person["cookie"])

    def caseload():
        return "GET", "/team/caseload/", None, page(random.choice(staff)["cookie"])

    def acknowledge():
        person = random.choice([person for person in staff if person["alerts"]])
        headers = page(person["cookie"], {"X-CSRFToken": CSRF, "Content-Type": "application/x-www-form-urlencoded"})
        return "POST", f"/team/alerts/{random.choice(person['alerts'])}/acknowledge/", "", headers

    mix = [
        ("member POST check-in", 30, 201, checkin),
        ("member GET plan", 14, 200, plan),
        ("member GET history (API)", 12, 200, history_api),
        ("member POST journal", 8, 201, journal),
        ("member GET history page", 8, 200, history_page),
        ("staff GET member overview", 12, 200, overview),
        ("staff GET caseload", 10, 200, caseload),
        ("staff POST acknowledge", 6, 302, acknowledge),
    ]
    if not any(person["alerts"] for person in staff):
        mix = [operation for operation in mix if operation[0] != "staff POST acknowledge"]
    return mix


def drive(port: int, mix, *, concurrency: int, total: int, seconds: float, rate: float | None = None) -> dict:
    """`concurrency` threads, each with one keep-alive connection, share `total` requests chosen from the mix;
    with `rate`, requests start on a fixed schedule (that many per second overall) instead of back to back."""
    names = [name for name, _w, _s, _m in mix]
    weights = [weight for _n, weight, _s, _m in mix]
    by_name = {name: (expected, make) for name, _w, expected, make in mix}
    latencies: dict[str, list[float]] = {name: [] for name in [*names, FOLLOW_UP]}
    errors: dict[str, int] = dict.fromkeys([*names, FOLLOW_UP], 0)
    samples: list[str] = []
    lock = threading.Lock()
    issued = [0]
    started_at = time.monotonic()
    deadline = started_at + seconds

    def worker():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        last_used = time.monotonic()
        while True:
            with lock:
                if issued[0] >= total or time.monotonic() > deadline:
                    return
                slot = issued[0]
                issued[0] += 1
            if rate:
                wait = started_at + slot / rate - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            if time.monotonic() - last_used > IDLE_RECONNECT:
                # gunicorn closes a keep-alive connection idle for 2 s; a client opens a new one, as browsers do.
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            name = random.choices(names, weights)[0]
            expected, make = by_name[name]
            method, path, body, headers = make()
            connection, page = send(connection, name, expected, method, path, body, headers)
            # A browser then makes the requests the page asks for as soon as it loads (htmx's hx-trigger="load":
            # charts not yet drawn); each is timed as a request of its own.
            for follow_path in loaded_by(page):
                follow_headers = {**headers, "HX-Request": "true"}
                follow_headers.pop("Content-Type", None)
                connection, _page = send(connection, FOLLOW_UP, 200, "GET", follow_path, None, follow_headers)
            last_used = time.monotonic()

    def send(connection, name, expected, method, path, body, headers):
        text = ""
        began = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
            ok = response.status == expected
            if ok and method == "GET" and b'hx-trigger="load"' in content:
                text = content.decode()
            if not ok and len(samples) < 5:
                samples.append(f"{name}: {response.status} {urlparse(path).path}")
        except (OSError, http.client.HTTPException) as error:
            ok = False
            if len(samples) < 5:
                samples.append(f"{name}: {error.__class__.__name__}")
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        elapsed = time.perf_counter() - began
        with lock:
            latencies[name].append(elapsed)
            errors[name] += 0 if ok else 1
        return connection, text

    wall = run_in_threads(worker, concurrency)
    rows = {name: summary(latencies[name], errors[name], wall) for name in [*names, FOLLOW_UP]}
    rows["all"] = summary([value for values in latencies.values() for value in values], sum(errors.values()), wall)
    return {"rows": rows, "samples": samples, "wall": wall, "started": min(issued[0], total)}


def summary(latencies: list[float], errors: int, wall: float) -> dict:
    latencies = sorted(latencies)
    return {
        "requests": len(latencies),
        "rps": len(latencies) / wall if wall else 0.0,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else 0.0,
        "p95_ms": 1000 * percentile(latencies, 0.95),
        "p99_ms": 1000 * percentile(latencies, 0.99),
        "errors": errors,
    }


def print_rows(label: str, result: dict) -> None:
    for name, row in result["rows"].items():
        print(f"{label:>7} | {name:<26} | {row['requests']:>6} | {row['rps']:>7.1f} | {row['p50_ms']:>7.1f} | "
              f"{row['p95_ms']:>7.1f} | {row['p99_ms']:>7.1f} | {row['errors']:>6}")  # fmt: skip
    for sample in result["samples"]:
        print(f"{'':>7} | unexpected: {sample}")


def processes(server_pid: int, worker_pids: list[int], database_url: str | None) -> dict[str, list[int]]:
    """Which processes to sample, by name; PostgreSQL's are its postmaster (found by its port) and children."""
    named = {"gunicorn arbiter": [server_pid]}
    for number, pid in enumerate(children_of(server_pid), 1):
        named[f"gunicorn worker {number}"] = [pid]
    for number, pid in enumerate(worker_pids, 1):
        named[f"alongside worker {number}"] = [pid]
    if database_url:
        port = urlparse(database_url).port
        postmasters = [pid for pid in pids_named(f"-p {port} ") if "postgres" in Path(f"/proc/{pid}/comm").read_text()]
        if postmasters:
            named["PostgreSQL (summed)"] = postmasters
    return named


def sample_memory(named: dict[str, list[int]]) -> dict[str, float]:
    """MiB per name; a PostgreSQL entry sums the postmaster and its children as they are now (backends come and
    go with connections), once as RSS and once as their private memory (see `serving.private_kib`), which leaves
    out the shared buffer pool that each backend's RSS takes in as it warms up."""
    figures = {}
    for name, pids in named.items():
        if name.startswith("PostgreSQL"):
            group = pids + [child for pid in pids for child in children_of(pid)]
            figures[name] = sum(rss_kib(pid) or 0 for pid in group) / 1024
            figures["PostgreSQL private (summed)"] = sum(private_kib(pid) or 0 for pid in group) / 1024
        else:
            figures[name] = sum(rss_kib(pid) or 0 for pid in pids) / 1024
    return figures


def slope_per_minute(points: list[tuple[float, float]]) -> float:
    if len(points) < 2:
        return 0.0
    times = [t for t, _v in points]
    values = [v for _t, v in points]
    mean_t, mean_v = statistics.fmean(times), statistics.fmean(values)
    spread = sum((t - mean_t) ** 2 for t in times)
    return 60 * sum((t - mean_t) * (v - mean_v) for t, v in points) / spread if spread else 0.0


GOAL_P99_MS = 250.0


def level_row(database: str, level: int, result: dict) -> dict:
    """A level's headline; the goal holds at the capacity measured, so each level is judged on its own."""
    rows = result["rows"]
    overall = rows["all"]
    figures = {"req/s": overall["rps"], "p50 ms": overall["p50_ms"], "p95 ms": overall["p95_ms"],
               "p99 ms": overall["p99_ms"], "errors": overall["errors"]}  # fmt: skip
    if rows.get("member POST check-in", {}).get("requests"):
        figures["check-in p99 ms"] = rows["member POST check-in"]["p99_ms"]
    if rows.get("member GET history page", {}).get("requests"):
        figures["history page p50 ms"] = rows["member GET history page"]["p50_ms"]
    if rows.get(FOLLOW_UP, {}).get("requests"):
        figures["loaded by page p99 ms"] = rows[FOLLOW_UP]["p99_ms"]
    return results.row(
        "load", database, f"{level} clients", figures,
        goal=f"p99 under {GOAL_P99_MS:.0f} ms at the measured capacity, no errors",
        met=overall["p99_ms"] < GOAL_P99_MS and overall["errors"] == 0,
    )  # fmt: skip


def rate_row(database: str, rate: float, kept_up: float, result: dict) -> dict:
    """A fixed rate's headline. The capacity is the highest rate the system keeps up with (pages started on
    schedule, within 5 %) with p99 under the goal; each rate is judged on its own."""
    overall = result["rows"]["all"]
    figures = {"offered req/s": rate, "req/s (all)": overall["rps"], "kept up": kept_up, "p50 ms": overall["p50_ms"],
               "p95 ms": overall["p95_ms"], "p99 ms": overall["p99_ms"], "errors": overall["errors"]}  # fmt: skip
    if result["rows"].get(FOLLOW_UP, {}).get("requests"):
        figures["loaded by page p99 ms"] = result["rows"][FOLLOW_UP]["p99_ms"]
    return results.row(
        "load", database, f"{rate:g} req/s offered", figures,
        goal=f"p99 under {GOAL_P99_MS:.0f} ms at the measured capacity, no errors",
        met=overall["p99_ms"] < GOAL_P99_MS and overall["errors"] == 0 and kept_up >= 0.95,
    )  # fmt: skip


def soak(
    port: int, mix, named: dict[str, list[int]], *, seconds: float, rate: float, concurrency: int
) -> tuple[dict, dict]:
    points: dict[str, list[tuple[float, float]]] = {name: [] for name in named}
    stop_sampling = threading.Event()
    began = time.monotonic()

    def sampler():
        while True:
            now = time.monotonic() - began
            for name, mib in sample_memory(named).items():
                points.setdefault(name, []).append((now, mib))
            if stop_sampling.wait(10):
                return

    thread = threading.Thread(target=sampler)
    thread.start()
    try:
        result = drive(port, mix, concurrency=concurrency, total=int(seconds * rate) + 1, seconds=seconds, rate=rate)
    finally:
        stop_sampling.set()
        thread.join()
    print(f"soak: {seconds:.0f} s at {rate:g} requests/s, {concurrency} clients")
    print(f"{'':>7} | {'operation':<26} | {'reqs':>6} | {'req/s':>7} | {'p50 ms':>7} | {'p95 ms':>7} | "
          f"{'p99 ms':>7} | {'errors':>6}")  # fmt: skip
    print_rows("soak", result)
    print(f"{'resident memory (MiB)':<28} | {'start':>7} | {'end':>7} | {'max':>7} | {'MiB/min':>8} | "
          f"{'2nd half':>8} | samples")  # fmt: skip
    for name, series in points.items():
        values = [mib for _t, mib in series]
        # The second half's slope tells growth that levels off (caches warming) from growth that goes on.
        later = series[len(series) // 2 :]
        print(f"{name:<28} | {values[0]:>7.1f} | {values[-1]:>7.1f} | {max(values):>7.1f} | "
              f"{slope_per_minute(series):>8.3f} | {slope_per_minute(later):>8.3f} | {len(values)}")  # fmt: skip
    print("every minute (MiB): " + "; ".join(
        f"{name}: " + " ".join(f"{mib:.0f}" for _t, mib in series[::6]) for name, series in points.items()
    ))  # fmt: skip
    return result, {name: slope_per_minute(series) for name, series in points.items()}


def soak_row(database: str, seconds: float, rate: float, result: dict, slopes: dict[str, float]) -> dict:
    """The soak's headline: latency and errors, and the steepest memory slope of Alongside's own processes."""
    overall = result["rows"]["all"]
    own = [slope for name, slope in slopes.items() if not name.startswith("PostgreSQL")]
    figures = {"requests": overall["requests"], "errors": overall["errors"], "p50 ms": overall["p50_ms"],
               "p99 ms": overall["p99_ms"], "steepest RSS slope MiB/min": max(own, default=0.0)}  # fmt: skip
    return results.row("load", database, f"soak: {seconds:.0f} s at {rate:g} req/s", figures)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="4,16,32", help="comma-separated concurrency levels")
    parser.add_argument("--requests", type=int, default=3000, help="requests per level")
    parser.add_argument("--seconds", type=float, default=30.0, help="time limit per level")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn process")
    parser.add_argument("--members", type=int, default=40, help="members to seed")
    parser.add_argument("--days", type=int, default=60, help="days of history per member")
    parser.add_argument("--staff", type=int, default=4, help="clinicians sharing the members")
    parser.add_argument("--soak", type=float, metavar="SECONDS", help="run a soak of this length instead")
    parser.add_argument("--rate", type=float, default=40.0, help="requests per second during the soak")
    parser.add_argument("--soak-clients", type=int, default=16, help="client threads at a fixed rate")
    parser.add_argument(
        "--rates", help="comma-separated fixed rates (requests/s) to run instead of --levels, --seconds each"
    )
    results.add_json_option(parser)
    args = parser.parse_args()
    random.seed(1)

    env = bench_env(scratch_directory())
    started = time.perf_counter()
    world = prepare(env, args.members, args.days, args.staff)
    alerts = sum(len(person["alerts"]) for person in world["staff"])
    print(f"seeded {len(world['members'])} members ({args.days} days each), {len(world['staff'])} clinicians, "
          f"{alerts} open alerts in {time.perf_counter() - started:.0f} s")  # fmt: skip
    port = free_port()
    server = start_server(env, port, workers=args.workers, threads=args.threads)
    workers = [start_worker(env), start_worker(env)]
    try:
        wait_for(port)
        mix = operations(world)
        print(f"database: {database_name(env)}; server: gunicorn {args.workers} processes x {args.threads} threads; "
              f"2 workers; {__import__('os').cpu_count()} cores")  # fmt: skip
        # Warm-up: with as many clients as will follow, so that every process has loaded its code and drawn charts.
        warm_clients = args.soak_clients if (args.soak or args.rates) else 4
        drive(port, mix, concurrency=warm_clients, total=300, seconds=30)
        if args.soak:
            named = processes(server.pid, [worker.pid for worker in workers], env.get("ALONGSIDE_DATABASE_URL"))
            result, slopes = soak(port, mix, named, seconds=args.soak, rate=args.rate, concurrency=args.soak_clients)
            results.write(args.json, [soak_row(database_name(env), args.soak, args.rate, result, slopes)])
            return 0
        if args.rates:
            print(f"fixed rates, {args.seconds:.0f} s each (at most {args.requests} requests), "
                  f"{args.soak_clients} clients")  # fmt: skip
            print(f"{'req/s':>7} | {'operation':<26} | {'reqs':>6} | {'req/s':>7} | {'p50 ms':>7} | {'p95 ms':>7} | "
                  f"{'p99 ms':>7} | {'errors':>6}")  # fmt: skip
            headlines = []
            for rate in [float(part) for part in args.rates.split(",")]:
                total = min(args.requests, int(rate * args.seconds))
                result = drive(port, mix, concurrency=args.soak_clients, total=total, seconds=args.seconds, rate=rate)
                print_rows(f"{rate:g}", result)
                kept_up = result["started"] / (rate * result["wall"])
                print(f"{'':>7} | kept up with the rate: {kept_up:.2f}")
                headlines.append(rate_row(database_name(env), rate, kept_up, result))
            results.write(args.json, headlines)
            return 0
        print(f"up to {args.requests} requests or {args.seconds:.0f} s per level")
        print(f"{'clients':>7} | {'operation':<26} | {'reqs':>6} | {'req/s':>7} | {'p50 ms':>7} | {'p95 ms':>7} | "
              f"{'p99 ms':>7} | {'errors':>6}")  # fmt: skip
        headlines = []
        for level in [int(part) for part in args.levels.split(",")]:
            result = drive(port, mix, concurrency=level, total=args.requests, seconds=args.seconds)
            print_rows(str(level), result)
            headlines.append(level_row(database_name(env), level, result))
        results.write(args.json, headlines)
    finally:
        for process in [*workers, server]:
            stop(process)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
