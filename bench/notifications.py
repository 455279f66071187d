"""Reminders due at the same minute for many members: how long until every in-app notification is delivered,
and how fast e-mails go to a local SMTP server over reused connections.

For each run: a throwaway database (SQLite, or PostgreSQL when ALONGSIDE_DATABASE_URL is set), N members each
with one reminder due now, then real `alongside worker` processes (one, and with --workers 2 two at once).
It reports the seconds from the due time until the last in-app notification is in its inbox, and, separately,
e-mails per second for a batch of e-mail deliveries sent to an SMTP server on 127.0.0.1 (aiosmtpd).

    .venv/bin/python bench/notifications.py --members 100000
    scripts/with-throwaway-postgres .venv/bin/python bench/notifications.py --members 100000 --workers 1,2

With --json PATH the headline of each run is also written to PATH (see bench/results.py).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import results  # noqa: E402 (the bench's own directory, on the path just above)
from serving import scratch_directory  # noqa: E402

GOAL_MEMBERS, GOAL_SECONDS = 100_000, 60.0

SEED = """
import sys, django; django.setup()
from datetime import timedelta
from django.utils import timezone
from alongside.accounts.models import User
from alongside.notify.models import NotificationPreferences
from alongside.schedule.models import Reminder, RoutineItem
members, emails = int(sys.argv[1]), int(sys.argv[2])
now = timezone.now()
people = User.objects.bulk_create(
    [User(email=f"m{n}@bench.example", display_name=f"M{n}", password="!") for n in range(members)], batch_size=5000
)
people = list(User.objects.filter(email__endswith="@bench.example").order_by("pk"))
channels = {"routine_reminder": ["inbox"]}
NotificationPreferences.objects.bulk_create(
    [NotificationPreferences(person=p, quiet_hours=False, channels=channels) for p in people], batch_size=5000
)
items = RoutineItem.objects.bulk_create([RoutineItem(member=p, title="Walk") for p in people], batch_size=5000)
Reminder.objects.bulk_create(
    [Reminder(person=p, routine_item=i, due_at=now) for p, i in zip(people, items)], batch_size=5000
)
# A separate batch of e-mail-only notifications for the SMTP measurement.
from alongside.notify.models import Delivery, Notification
mail = Notification.objects.bulk_create(
    [Notification(recipient=people[n % members], kind="nudge", title="x", source_key=f"mail:{n}")
     for n in range(emails)],
    batch_size=5000,
)
mail = list(Notification.objects.filter(source_key__startswith="mail:"))
Delivery.objects.bulk_create(
    [Delivery(notification=n, channel="email", key=f"mail-{n.pk}", due_at=now + timedelta(days=365)) for n in mail],
    batch_size=5000,
)
# Every reminder falls due now, once all of them are stored: storing 100,000 members takes the bench longer than
# the worker may take, and a reminder cannot be late before it exists.
due = timezone.now()
Reminder.objects.update(due_at=due)
print(due.timestamp())
"""


def query(env: dict, sql: str) -> int:
    url = env.get("ALONGSIDE_DATABASE_URL")
    if url:
        import psycopg

        with psycopg.connect(url) as connection:
            return connection.execute(sql).fetchone()[0]
    with sqlite3.connect(Path(env["ALONGSIDE_DATA_DIR"]) / "alongside.sqlite3", timeout=60) as connection:
        return connection.execute(sql).fetchone()[0]


def execute(env: dict, sql: str) -> None:
    url = env.get("ALONGSIDE_DATABASE_URL")
    if url:
        import psycopg

        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(sql)
        return
    with sqlite3.connect(Path(env["ALONGSIDE_DATA_DIR"]) / "alongside.sqlite3", timeout=60) as connection:
        connection.execute(sql)


def fresh_environment(smtp_port: int) -> tuple[dict, callable]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ALONGSIDE_")}
    env.update({
        "ALONGSIDE_DATA_DIR": scratch_directory(), "ALONGSIDE_DEBUG": "1",
        "ALONGSIDE_LOG_LEVEL": "WARNING", "ALONGSIDE_EMAIL_HOST": "127.0.0.1",
        "ALONGSIDE_EMAIL_PORT": str(smtp_port), "ALONGSIDE_EMAIL_USE_TLS": "0",
        "DJANGO_SETTINGS_MODULE": "alongside.settings",
    })  # fmt: skip
    cleanup = lambda: None  # noqa: E731
    base = os.environ.get("ALONGSIDE_DATABASE_URL", "")
    if base.startswith("postgres"):
        import psycopg

        name = f"alongside_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(base, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        env["ALONGSIDE_DATABASE_URL"] = base.rsplit("/", 1)[0] + "/" + name

        def cleanup():
            with psycopg.connect(base, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')

    return env, cleanup


def run(members: int, emails: int, workers: int, smtp_port: int) -> dict:
    env, cleanup = fresh_environment(smtp_port)
    try:
        subprocess.run([sys.executable, "-m", "alongside", "migrate", "-v0"], env=env, cwd=ROOT, check=True)
        started = time.time()
        out = subprocess.run([sys.executable, "-c", SEED, str(members), str(emails)], env=env, cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout  # fmt: skip
        due = float(out.strip().splitlines()[-1])
        print(f"  seeded {members} members with a reminder due at the same moment in {time.time() - started:.1f}s")
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "alongside", "worker"],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(workers)
        ]
        try:
            # Polled with an indexed existence check rather than a count of a growing table, so that the bench
            # takes little from the database it measures.
            waiting = "SELECT COUNT(*) FROM (SELECT 1 FROM schedule_reminder WHERE sent_at IS NULL LIMIT 1) r"
            pending = (
                "SELECT COUNT(*) FROM (SELECT 1 FROM notify_delivery WHERE channel = 'inbox' AND status <> 'sent' "
                "LIMIT 1) d"
            )
            time.sleep(1)
            while query(env, waiting) or query(env, pending):
                time.sleep(0.25)
            inbox_seconds = time.time() - due
            # E-mails: release the e-mail batch now and time it on its own.
            execute(env, "UPDATE notify_delivery SET due_at = CURRENT_TIMESTAMP WHERE channel = 'email'")
            mail_started = time.time()
            unsent = (
                "SELECT COUNT(*) FROM (SELECT 1 FROM notify_delivery WHERE channel = 'email' AND status <> 'sent' "
                "LIMIT 1) d"
            )
            while query(env, unsent):
                time.sleep(0.25)
            mail_seconds = time.time() - mail_started
            delivered = query(env, "SELECT COUNT(*) FROM notify_inboxmessage")
            assert delivered == members, f"{delivered} in-app notifications for {members} members"
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=30)
        return {"inbox_seconds": inbox_seconds, "emails_per_second": emails / mail_seconds}
    finally:
        cleanup()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--emails", type=int, default=5_000)
    parser.add_argument("--workers", default="1", help="comma-separated worker counts, e.g. 1,2")
    results.add_json_option(parser)
    args = parser.parse_args()
    from aiosmtpd.controller import Controller

    class Sink:
        received = 0

        async def handle_DATA(self, server, session, envelope):
            Sink.received += 1
            return "250 OK"

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    database = "PostgreSQL" if os.environ.get("ALONGSIDE_DATABASE_URL") else "SQLite (WAL)"
    print(f"database: {database}; {os.cpu_count()} cores; {args.members} reminders due at once; {args.emails} e-mails")
    headlines, alone = [], None
    try:
        for workers in [int(part) for part in args.workers.split(",")]:
            result = run(args.members, args.emails, workers, port)
            print(f"workers {workers}: all in-app notifications delivered {result['inbox_seconds']:.1f}s after their "
                  f"due time; e-mails {result['emails_per_second']:.0f}/s")  # fmt: skip
            figures = {"all in-app delivered after s": result["inbox_seconds"]}
            figures["e-mails/s"] = result["emails_per_second"]
            if workers == 1:
                alone = result["inbox_seconds"]
                # The goal is stated for 100,000 members: a smaller run is not judged against it.
                met = result["inbox_seconds"] < GOAL_SECONDS if args.members == GOAL_MEMBERS else None
                goal = f"all {GOAL_MEMBERS:,} in-app reminders out within {GOAL_SECONDS:.0f} s with one worker"
            else:
                if alone:
                    figures[f"speed-up over 1 worker (linear: {workers})"] = alone / result["inbox_seconds"]
                met, goal = None, "linear in workers"
            setting = f"{args.members:,} reminders, {workers} worker{'s' if workers > 1 else ''}"
            headlines.append(results.row("notifications", database, setting, figures, goal=goal, met=met))
    finally:
        controller.stop()
    results.write(args.json, headlines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
