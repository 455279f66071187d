"""The worker as a real process, killed with SIGKILL in the middle of a batch of 2,000 notifications and
started again: every notification reaches the in-app inbox exactly once and the SMTP server under its own
Message-ID; the only repeats allowed are the documented window (a message the server accepted just before the
kill, sent again with the same Message-ID). On PostgreSQL, the same with two workers at once.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

NOTIFICATIONS = 2000
ROOT = Path(__file__).resolve().parent.parent

SEED = f"""
import django; django.setup()
from datetime import timedelta
from django.utils import timezone
from alongside.accounts import actions
from alongside.notify.models import Delivery, NotificationPreferences
from alongside.notify.outbox import notify
people = [actions.create_person(f"p{{n}}@example.org", f"Person {{n}}", None) for n in range(20)]
for person in people:
    NotificationPreferences.objects.create(person=person, quiet_hours=False, channels={{"nudge": ["inbox", "email"]}})
# Made due later, then all released at once: an in-app notification due when it is made is in the inbox at once,
# and this test is about the worker's in-app deliveries too (those held by quiet hours, a snooze or a retry).
later = timezone.now() + timedelta(hours=1)
for n in range({NOTIFICATIONS}):
    notify(people[n % 20], kind="nudge", title="Checking in?", source_key=f"fault:{{n}}", link="/me/", at=later)
Delivery.objects.update(due_at=timezone.now())
"""


class Sink:
    def __init__(self):
        self.message_ids: list[str] = []

    async def handle_DATA(self, server, session, envelope):
        for line in envelope.content.decode().splitlines():
            if line.lower().startswith("message-id:"):
                self.message_ids.append(line.split(":", 1)[1].strip())
                break
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_sink():
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield sink, controller.port
    controller.stop()


def environment(tmp_path, smtp_port: int, database_url: str | None) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ALONGSIDE_")}
    env.update({
        "ALONGSIDE_DATA_DIR": str(tmp_path), "ALONGSIDE_DEBUG": "1", "ALONGSIDE_LOG_LEVEL": "WARNING",
        "ALONGSIDE_EMAIL_HOST": "127.0.0.1", "ALONGSIDE_EMAIL_PORT": str(smtp_port), "ALONGSIDE_EMAIL_USE_TLS": "0",
        "ALONGSIDE_WORKER_LEASE_SECONDS": "2", "DJANGO_SETTINGS_MODULE": "alongside.settings",
    })  # fmt: skip
    if database_url:
        env["ALONGSIDE_DATABASE_URL"] = database_url
    return env


def start_worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "alongside", "worker"], env=env, cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def counts(tmp_path, database_url: str | None) -> tuple[int, int, int]:
    """(deliveries sent, inbox messages, distinct inbox keys), read straight from the database."""
    queries = (
        "SELECT COUNT(*) FROM notify_delivery WHERE status = 'sent'",
        "SELECT COUNT(*) FROM notify_inboxmessage",
        "SELECT COUNT(DISTINCT delivery_key) FROM notify_inboxmessage",
    )
    if database_url:
        import psycopg

        with psycopg.connect(database_url) as connection:
            return tuple(connection.execute(query).fetchone()[0] for query in queries)
    with sqlite3.connect(tmp_path / "alongside.sqlite3", timeout=30) as connection:
        return tuple(connection.execute(query).fetchone()[0] for query in queries)


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def kill_and_recover(tmp_path, smtp_sink, *, database_url: str | None = None, workers: int = 1) -> None:
    sink, port = smtp_sink
    env = environment(tmp_path, port, database_url)
    subprocess.run([sys.executable, "-m", "alongside", "migrate", "-v0"], env=env, cwd=ROOT, check=True)
    subprocess.run([sys.executable, "-c", SEED], env=env, cwd=ROOT, check=True)
    running = [start_worker(env) for _ in range(workers)]
    try:
        wait_until(lambda: len(sink.message_ids) >= NOTIFICATIONS // 4, 120, "the first quarter of the e-mails")
        running[0].send_signal(signal.SIGKILL)  # mid-batch: no chance to record what it just sent
        running[0].wait(timeout=10)
        running[0] = start_worker(env)
        wait_until(lambda: counts(tmp_path, database_url)[0] == 2 * NOTIFICATIONS, 240, "every delivery sent")
    finally:
        for worker in running:
            worker.send_signal(signal.SIGTERM)
        for worker in running:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()

    sent, inbox, distinct_inbox = counts(tmp_path, database_url)
    assert (sent, inbox, distinct_inbox) == (2 * NOTIFICATIONS, NOTIFICATIONS, NOTIFICATIONS)
    by_id = Counter(sink.message_ids)
    assert len(by_id) == NOTIFICATIONS  # every notification's e-mail arrived
    repeats = sum(count - 1 for count in by_id.values())
    assert repeats <= 1, f"{repeats} e-mails were sent twice; the window is one message per killed worker"


def test_a_killed_worker_loses_nothing_and_doubles_nothing_on_sqlite(tmp_path, smtp_sink):
    kill_and_recover(tmp_path, smtp_sink)


@pytest.mark.database
def test_two_workers_on_postgresql_share_the_work_and_survive_a_kill(tmp_path, smtp_sink, own_postgres_database):
    kill_and_recover(tmp_path, smtp_sink, database_url=own_postgres_database, workers=2)
