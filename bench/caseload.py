"""Server time of a clinician's caseload and of a member's record, on a large database.

Builds a throwaway database as `bench/signals_rescan.py` does (N members followed for D days of synthetic
check-ins, written in bulk; SQLite in a temporary directory, or a new database on the PostgreSQL server that
ALONGSIDE_DATABASE_URL points at, dropped afterwards). Then gives one clinician a caseload of C of those members
(care relationships with the clinician's default sharing), with what a caseload shows: open alerts of each
severity on a tenth of them, questionnaire results, an assessment due, a missed appointment, outreach and
clinical notes. Then, in one process with production settings, it signs the clinician in (past the second
factor) and requests, alternating, the caseload page (`/team/caseload/`) and the record of one of the caseload's
members (`/team/members/<id>/`, each member in turn), timing each request from the test client's call to its
answer (everything the server does: middleware, queries, templates; no network). Prints p50 and p95 of each, and
the number of queries each request made.

    scripts/with-throwaway-postgres .venv/bin/python bench/caseload.py --members 100000 --days 465
    .venv/bin/python bench/caseload.py --members 2000 --days 120 --requests 20

`--keep FILE` leaves the database in place (its settings in FILE) and `--reuse FILE` measures it again, so that a
change can be measured without building 36 million check-ins again (the PostgreSQL server must outlive both).
`--json PATH` also writes the headline of each page to PATH (see bench/results.py).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import results
import signals_rescan

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261126
GOAL_P95_MS = 150.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=465, help="days of history (465 gives about 36 million check-ins)")
    parser.add_argument("--caseload", type=int, default=200, help="members the clinician supports (default 200)")
    parser.add_argument("--requests", type=int, default=100, help="timed requests of each page (default 100)")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="also profile each page: top N")
    parser.add_argument(
        "--keep", metavar="FILE", help="keep the database (and its settings, written to FILE) to measure again"
    )
    parser.add_argument("--reuse", metavar="FILE", help="measure again on a database kept with --keep")
    parser.add_argument("--task", help=argparse.SUPPRESS)
    results.add_json_option(parser)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    if args.task:
        return work(args)

    if args.reuse:
        kept = json.loads(Path(args.reuse).read_text())
        env, database, cleanup = kept["env"], kept["database"], lambda: None
    else:
        env, database, cleanup = signals_rescan.fresh_environment()
    print(f"database: {database}; {signals_rescan.machine()}; {signals_rescan.code_version()}")
    print(f"{args.members:,} members x {args.days} days; a caseload of {args.caseload}; {args.requests} requests each")
    try:
        if not args.reuse:
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "alongside", "migrate", "-v0"], env=env, cwd=ROOT, check=True)
            built = signals_rescan.child(
                env, "--task", "build", "--members", str(args.members), "--days", str(args.days)
            )
            print(f"built in {time.perf_counter() - started:.0f} s: {built['checkins']:,} check-ins")
            # Production settings serve hashed static file names, from the manifest collecting writes.
            subprocess.run(
                [sys.executable, "-m", "alongside", "collectstatic", "--noinput", "-v0"], env=env, cwd=ROOT, check=True
            )
        if args.keep:
            Path(args.keep).write_text(json.dumps({"env": env, "database": database}))
            cleanup = lambda: None  # noqa: E731 (kept on purpose)
        out = subprocess.run(
            [sys.executable, __file__, "--task", "measure", "--caseload", str(args.caseload),
             "--requests", str(args.requests), "--profile", str(args.profile)],
            env=env, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True,
        ).stdout  # fmt: skip
        result = json.loads(out.strip().splitlines()[-1])
        print(f"caseload set up in {result['setup_seconds']:.1f} s")
        for page, text in result.get("profiles", {}).items():
            print(f"\n{page}, 10 requests under cProfile:\n{text}")
        print(f"{'page':<14} | {'p50 ms':>7} | {'p95 ms':>7} | {'max ms':>7} | {'queries':>7}")
        headlines = []
        for page in ("caseload", "member record"):
            times = result[page]["ms"]
            p95 = statistics.quantiles(times, n=20, method="inclusive")[18]
            print(f"{page:<14} | {statistics.median(times):>7.1f} | {p95:>7.1f} | {max(times):>7.1f} | "
                  f"{result[page]['queries']:>7}")  # fmt: skip
            print(f"  goal p95 under {GOAL_P95_MS:.0f} ms ({page}): {'met' if p95 < GOAL_P95_MS else 'NOT met'}")
            figures = {"p50 ms": statistics.median(times), "p95 ms": p95, "max ms": max(times),
                       "queries": result[page]["queries"]}  # fmt: skip
            setting = f"{page}: {args.members:,} × {args.days}, caseload {args.caseload}"
            goal = f"p95 under {GOAL_P95_MS:.0f} ms"
            headlines.append(results.row("caseload", database, setting, figures, goal=goal, met=p95 < GOAL_P95_MS))
        results.write(args.json, headlines)
    finally:
        cleanup()
    return 0


def work(args) -> int:
    import django

    django.setup()
    started = time.perf_counter()
    clinician, members = set_up(args.caseload)
    setup_seconds = time.perf_counter() - started
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    import alongside.wsgi  # noqa: F401 (the server's own start: views loaded, start-up objects frozen for the collector)
    from alongside.testing.factories import signed_in_client

    client = signed_in_client(clinician)
    client.defaults["HTTP_HOST"] = "127.0.0.1"  # production settings: an allowed host
    pages = {"caseload": [], "member record": []}
    queries = {}
    for _warm in range(3):
        client.get("/team/caseload/")
        client.get(f"/team/members/{members[0]}/")
    for index in range(args.requests):
        for page, url in (("caseload", "/team/caseload/"), ("member record", f"/team/members/{members[index % 20]}/")):
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                response = client.get(url)
                pages[page].append(1000 * (time.perf_counter() - began))
            assert response.status_code == 200, (url, response.status_code)
            queries[page] = len(captured)
    profiles = {}
    if args.profile:
        import cProfile
        import io
        import pstats

        for page, url in (("caseload", "/team/caseload/"), ("member record", f"/team/members/{members[0]}/")):
            profiler = cProfile.Profile()
            profiler.enable()
            for _run in range(10):
                client.get(url)
            profiler.disable()
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(args.profile)
            profiles[page] = text.getvalue()
    summary = {page: {"ms": ms, "queries": queries[page]} for page, ms in pages.items()}
    print(json.dumps({"setup_seconds": setup_seconds, "profiles": profiles, **summary}))
    return 0


def set_up(size: int) -> tuple[object, list[int]]:
    """A clinician supporting `size` members (the first ones built), with alerts, questionnaire results, an
    assessment due, a missed appointment, outreach and notes among them."""
    from datetime import time as clock
    from datetime import timedelta

    from django.utils import timezone

    from alongside.accounts import actions
    from alongside.accounts.models import Organisation, Role, User
    from alongside.care import notes, outreach
    from alongside.care.models import DEFAULT_SHARING, CareRelationship, ConsentGrant
    from alongside.monitoring import questionnaires
    from alongside.monitoring.models import Assessment
    from alongside.schedule import series
    from alongside.schedule.models import OccurrenceStatus
    from alongside.signals import alerts

    organisation = Organisation.objects.get(slug="bench")
    existing = User.objects.filter(email="clinician@bench.example").first()
    if existing is not None:  # a kept database, set up before
        members = User.objects.filter(supported_by__staff=existing).order_by("pk").values_list("pk", flat=True)
        return existing, list(members)
    clinician = User.objects.create_user(email="clinician@bench.example", password=None, display_name="Bench Clinician")
    actions.grant_role(clinician, organisation, Role.CLINICIAN)
    members = list(User.objects.filter(org_roles__role=Role.MEMBER).order_by("pk")[:size])
    categories, safety = DEFAULT_SHARING[Role.CLINICIAN]
    since = timezone.now() - timedelta(days=400)
    relationships = CareRelationship.objects.bulk_create(
        CareRelationship(
            member=member, staff=clinician, organisation=organisation, role=Role.CLINICIAN, started_at=since,
            safety_alerts=safety,
        )
        for member in members
    )  # fmt: skip
    relationships = list(CareRelationship.objects.filter(staff=clinician))
    ConsentGrant.objects.bulk_create(
        ConsentGrant(relationship=relationship, category=category)
        for relationship in relationships
        for category in categories
    )
    now = timezone.now()
    severities = ("urgent", "high", "watch")
    for index, member in enumerate(members[: size // 10]):
        alerts.raise_firing(
            member, detector="baseline", rule="cusum:distress", category="checkins", severity=severities[index % 3],
            day=timezone.localdate(), evidence={}, source_key=f"bench:{member.pk}",
        )  # fmt: skip
    for index, member in enumerate(members[:20]):
        for days_ago, total in ((60, 4), (30, 6), (2, 12)):
            answers = {item: min(3, max(0, total - 3 * (item - 1))) for item in range(1, 9)} | {9: 0}
            questionnaires.submit(member, "phq9", answers, completed_at=now - timedelta(days=days_ago))
        Assessment.objects.create(
            member=member, instrument="gad7", opens_at=now - timedelta(days=2), closes_at=now + timedelta(days=5)
        )
        outreach.record_contact(by=clinician, member=member, method="call", outcome="reached", note="Checked in")
        notes.write_note(by=clinician, member=member, kind="session", text=f"Session {index}: steady week.")
        appointment = series.schedule_appointment(
            by=clinician, member=member, staff=clinician, kind="therapy", title="Therapy", location_kind="online",
            video_url="https://video.example/bench", time_zone=member.time_zone,
            start_date=timezone.localdate() - timedelta(days=14), start_time=clock(10, 0), duration_minutes=50,
            rrule="FREQ=WEEKLY;COUNT=4",
        )  # fmt: skip
        first = appointment.occurrences.order_by("start").first()
        first.status, first.status_at = OccurrenceStatus.MISSED, now
        first.save(update_fields=["status", "status_at"])
    return clinician, [member.pk for member in members]


if __name__ == "__main__":
    raise SystemExit(main())
