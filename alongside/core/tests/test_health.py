from datetime import timedelta

import pytest
from django.db import DatabaseError
from django.urls import reverse
from django.utils import timezone

from alongside.core import health
from alongside.core.models import WorkerHeartbeat


def beat(age_seconds: float, worker_id: str = "host:1"):
    when = timezone.now() - timedelta(seconds=age_seconds)
    WorkerHeartbeat.objects.create(worker_id=worker_id, started_at=when, last_beat_at=when)


def test_healthy_with_a_fresh_worker(client, db):
    beat(3)
    response = client.get(reverse("core:healthz"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["migrations"] == {"ok": True, "pending": 0}
    assert body["worker"]["ok"] is True
    assert 2 <= body["worker"]["heartbeat_age_seconds"] < 30
    assert response["Cache-Control"].startswith("max-age=0")


def test_degraded_without_a_worker_or_with_a_stale_one(client, db, settings):
    body = client.get(reverse("core:healthz")).json()
    assert (body["status"], body["worker"]["heartbeat_age_seconds"]) == ("degraded", None)
    beat(settings.WORKER_STALE_SECONDS + 5)
    response = client.get(reverse("core:healthz"))
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["worker"]["running"] == 0


def test_pending_migrations_fail_the_check(client, db, monkeypatch):
    monkeypatch.setattr(health, "pending_migrations", lambda: 2)
    response = client.get(reverse("core:healthz"))
    assert response.status_code == 503
    assert response.json()["migrations"] == {"ok": False, "pending": 2}


def test_unreachable_database_fails_the_check(client, db, monkeypatch):
    class BrokenCursor:
        def __enter__(self):
            raise DatabaseError("connection refused")

        def __exit__(self, *args):
            return False

    from django.db import connections

    with monkeypatch.context() as patched:  # undone before the test database is torn down
        patched.setattr(connections["default"], "cursor", BrokenCursor)
        response = client.get(reverse("core:healthz"))
    assert response.status_code == 503
    assert response.json()["database"] == {"ok": False, "error": "DatabaseError"}


@pytest.mark.django_db
def test_pending_migrations_counts_the_real_graph():
    assert health.pending_migrations() == 0
