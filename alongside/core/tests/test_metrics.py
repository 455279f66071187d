"""/metrics: Prometheus' text format, request counts by route name, gauges read from the database, nobody's
identity in it, and who may read it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import time as clock_time
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from alongside import conf
from alongside.core.models import WorkerHeartbeat
from alongside.notify import outbox
from alongside.notify.models import NotificationKind
from alongside.schedule import routines
from alongside.schedule.models import Reminder
from alongside.signals import alerts
from alongside.signals.models import AlertStatus
from alongside.testing.factories import make_member, make_organisation, make_staff, signed_in_client, support

TOKEN = "metrics-token-for-the-tests-0123456789"


def scrape(client: Client | None = None, **extra) -> str:
    response = (client or Client()).get(reverse("core:metrics"), **extra)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """Every sample as {(name, sorted labels): value}, through prometheus_client's own parser."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(text: str, name: str, **labels) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


def test_request_counts_go_up_by_route_name(db):
    client = Client()
    before = scrape(client)
    for _ in range(3):
        assert client.get(reverse("core:ping")).status_code == 200
    client.get("/no/such/page/")
    after = scrape(client)
    counted = value(after, "alongside_http_requests_total", method="GET", view="core:ping", status="2xx")
    assert counted - value(before, "alongside_http_requests_total", method="GET", view="core:ping", status="2xx") == 3
    unmatched = {"method": "GET", "view": "unmatched", "status": "4xx"}
    assert value(after, "alongside_http_requests_total", **unmatched) >= 1
    timed = value(after, "alongside_http_request_duration_seconds_count", view="core:ping")
    assert timed - value(before, "alongside_http_request_duration_seconds_count", view="core:ping") == 3


def test_a_made_up_method_is_counted_as_other(db):
    client = Client()
    client.generic("BREW", reverse("core:ping"))
    assert value(scrape(client), "alongside_http_requests_total", method="other", view="core:ping", status="2xx") >= 1


def test_database_gauges_reflect_what_waits(db):
    text = scrape()
    assert value(text, "alongside_database_up") == 1
    assert value(text, "alongside_migrations_pending") == 0
    for name in ("alongside_outbox_deliveries_waiting", "alongside_reminders_due", "alongside_workers_running"):
        assert value(text, name) == 0, name
    assert value(text, "alongside_alerts_open", severity="urgent") == 0

    organisation = make_organisation()
    member = make_member(organisation)
    now = timezone.now()
    # An urgent notification's e-mail waits for a worker (its in-app message is delivered at once).
    outbox.notify(member, kind=NotificationKind.NUDGE, title="Check in?", source_key="metrics:nudge", urgent=True)
    # A routine reminder set up two days ago: the reminders since then are due and unsent.
    routines.add_item(member, title="Walk", remind_at=clock_time(9, 0), now=now - timedelta(days=2))
    due_reminders = Reminder.objects.filter(sent_at__isnull=True, due_at__lte=timezone.now()).count()
    assert due_reminders >= 1
    alert = alerts.raise_firing(
        member, detector="baseline", rule="cusum:distress", category="checkins", severity="high",
        day=timezone.localdate(), evidence={"statistic": 9.1, "limit": 8.0}, source_key="metrics:alert",
        at=now - timedelta(minutes=30),
    ).alert  # fmt: skip
    assert alert.status == AlertStatus.OPEN
    WorkerHeartbeat.objects.create(worker_id="host:1", started_at=now, last_beat_at=now - timedelta(seconds=3))
    WorkerHeartbeat.objects.create(worker_id="host:2", started_at=now, last_beat_at=now - timedelta(hours=2))

    text = scrape()
    assert value(text, "alongside_outbox_deliveries_waiting") == 1
    assert value(text, "alongside_outbox_oldest_waiting_age_seconds") >= 0
    assert value(text, "alongside_reminders_due") == due_reminders
    assert value(text, "alongside_reminders_oldest_due_age_seconds") > 0
    assert value(text, "alongside_alerts_open", severity="high") == 1
    assert value(text, "alongside_alerts_open", severity="watch") == 0
    assert 29 * 60 <= value(text, "alongside_alert_oldest_unacknowledged_age_seconds") < 60 * 60
    assert value(text, "alongside_worker_heartbeats") == 2
    assert value(text, "alongside_workers_running") == 1
    assert 2 <= value(text, "alongside_worker_heartbeat_newest_age_seconds") < 60
    assert value(text, "alongside_worker_heartbeat_oldest_age_seconds") >= 2 * 60 * 60 - 1


def test_an_acknowledged_alert_is_open_but_not_waiting(db):
    organisation = make_organisation()
    member = make_member(organisation)
    clinician = make_staff(organisation)
    support(clinician, member, organisation)
    alert = alerts.raise_firing(
        member, detector="baseline", rule="cusum:distress", category="checkins", severity="watch",
        day=timezone.localdate(), evidence={"statistic": 9.1, "limit": 8.0}, source_key="metrics:acknowledged",
    ).alert  # fmt: skip
    alerts.acknowledge(alert, by=clinician)
    text = scrape()
    assert value(text, "alongside_alerts_open", severity="watch") == 1
    assert value(text, "alongside_alert_oldest_unacknowledged_age_seconds") == 0


def test_nobody_is_named_or_numbered_in_it(db):
    organisation = make_organisation()
    member = make_member(organisation, display_name="Quentin Metricsworth", email="quentin.metrics@example.org")
    clinician = make_staff(organisation)
    support(clinician, member, organisation)
    outbox.notify(member, kind=NotificationKind.NUDGE, title="Quentin, check in?", source_key="m:1", urgent=True)
    alerts.raise_firing(
        member, detector="baseline", rule="cusum:distress", category="checkins", severity="urgent",
        day=timezone.localdate(), evidence={"statistic": 9.1, "limit": 8.0}, source_key="metrics:private",
    )  # fmt: skip
    staff_client = signed_in_client(clinician)
    record = reverse("web:member_record", args=[member.pk])
    assert staff_client.get(record).status_code == 200

    text = scrape(staff_client)
    for secret in ("Quentin", "Metricsworth", "quentin.metrics", "example.org", record):
        assert secret not in text
    views = set()
    for (name, labels), _value in samples(text).items():
        for label, label_value in labels:
            if label == "le":
                continue  # a histogram bucket's bound
            assert not re.fullmatch(r"[0-9]+", label_value), f"{name}{{{label}={label_value!r}}} looks like an id"
            assert "/" not in label_value, f"{name}{{{label}={label_value!r}}} is a path"
            if label == "view":
                views.add(label_value)
    assert "web:member_record" in views


def test_only_this_machine_or_the_token_holder_may_read_it(db, settings):
    url = reverse("core:metrics")
    settings.METRICS_TOKEN = ""
    remote = Client(REMOTE_ADDR="203.0.113.9")
    assert remote.get(url).status_code == 404
    assert remote.get(url, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404  # no token is set
    local = Client()
    assert local.get(url).status_code == 200
    assert Client(REMOTE_ADDR="::1").get(url).status_code == 200
    # Through a reverse proxy on this machine: the request really comes from elsewhere.
    assert local.get(url, headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 404

    settings.METRICS_TOKEN = TOKEN
    response = remote.get(url, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert "max-age=0" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    assert remote.get(url, headers={"Authorization": f"Bearer {TOKEN}x"}).status_code == 404
    assert remote.get(url, headers={"Authorization": TOKEN}).status_code == 404


def test_the_token_is_read_from_the_environment_and_must_be_long(monkeypatch, tmp_path):
    monkeypatch.delenv("ALONGSIDE_METRICS_TOKEN", raising=False)
    monkeypatch.delenv("ALONGSIDE_METRICS_TOKEN_FILE", raising=False)
    assert conf.metrics_token() == ""
    monkeypatch.setenv("ALONGSIDE_METRICS_TOKEN", "short")
    with pytest.raises(conf.ConfigError, match="ALONGSIDE_METRICS_TOKEN is too short"):
        conf.metrics_token()
    monkeypatch.delenv("ALONGSIDE_METRICS_TOKEN")
    secret = tmp_path / "token"
    secret.write_text(TOKEN + "\n")
    monkeypatch.setenv("ALONGSIDE_METRICS_TOKEN_FILE", str(secret))
    assert conf.metrics_token() == TOKEN


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


def test_serve_adds_up_every_web_process_and_forgets_a_dead_ones_requests_in_progress(tmp_path):
    data_dir = tmp_path / "var"
    stale = data_dir / "metrics" / "counter_999999.db"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"left by an earlier server")
    port = free_port()
    environment = {key: value for key, value in os.environ.items() if not key.startswith("ALONGSIDE_")}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    environment.update({"ALONGSIDE_DATA_DIR": str(data_dir), "ALONGSIDE_DEBUG": "1"})
    server = subprocess.Popen(
        [sys.executable, "-m", "alongside", "serve", "--port", str(port), "--workers", "2", "--threads", "1"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                get(base + "/ping")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("alongside serve did not start")
                time.sleep(0.3)
        assert not stale.exists(), "the metrics directory is emptied when the server starts"
        # Both processes have answered once they have each written their figures; requests sent side by side
        # reach the second process sooner than one after another.
        deadline = time.monotonic() + 30
        with ThreadPoolExecutor(max_workers=4) as pool:
            while len(list((data_dir / "metrics").glob("counter_*.db"))) < 2:
                list(pool.map(get, [base + "/ping"] * 8))
                assert time.monotonic() < deadline, "the second web process never answered"
        ping = {"method": "GET", "view": "core:ping", "status": "2xx"}
        pings = value(get(base + "/metrics"), "alongside_http_requests_total", **ping)
        for _ in range(10):
            get(base + "/ping")
        text = get(base + "/metrics")
        # Each process counts only its own requests: the sum of both is every request.
        assert value(text, "alongside_http_requests_total", **ping) == pings + 10
        assert value(text, "alongside_database_up") == 1

        # A web process that dies: gunicorn's hook removes its live gauges, and starts another.
        gauges = sorted((data_dir / "metrics").glob("gauge_livesum_*.db"))
        assert len(gauges) == 2
        dead_pid = int(gauges[0].stem.rsplit("_", 1)[1])
        os.kill(dead_pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while gauges[0].exists():
            assert time.monotonic() < deadline, "the dead process's gauges were not removed"
            time.sleep(0.2)
        assert value(get(base + "/metrics"), "alongside_http_requests_in_progress") == 1  # the scrape itself
    finally:
        server.terminate()
        server.wait(timeout=20)
