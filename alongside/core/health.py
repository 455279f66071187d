"""What /healthz reports: the database, the migrations and the worker's heartbeat."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Max
from django.utils import timezone

from alongside.core.models import WorkerHeartbeat

# Once every migration is applied, only a new release (a restart) can add one: remember, and skip the
# migration graph on later requests.
_migrations_known_applied = False


def pending_migrations() -> int:
    global _migrations_known_applied
    if _migrations_known_applied:
        return 0
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    pending = len(executor.migration_plan(executor.loader.graph.leaf_nodes()))
    _migrations_known_applied = pending == 0
    return pending


def health_report() -> tuple[int, dict]:
    """(HTTP status, JSON body). 503 when the database is unreachable or migrations are pending; a missing or
    stale worker heartbeat is reported as "degraded" with 200, since the web app still serves."""
    report: dict = {"status": "ok"}
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
        report["database"] = {"ok": True, "vendor": connections[DEFAULT_DB_ALIAS].vendor}
    except Exception as exc:  # any driver error means unreachable; say which
        report["status"] = "fail"
        report["database"] = {"ok": False, "error": exc.__class__.__name__}
        return 503, report

    pending = pending_migrations()
    report["migrations"] = {"ok": pending == 0, "pending": pending}
    if pending:
        report["status"] = "fail"
        report["worker"] = {"ok": False, "heartbeat_age_seconds": None}
        return 503, report

    now = timezone.now()
    newest = WorkerHeartbeat.objects.aggregate(newest=Max("last_beat_at"))["newest"]
    age = None if newest is None else max(0.0, (now - newest).total_seconds())
    worker_ok = age is not None and age <= settings.WORKER_STALE_SECONDS
    fresh_since = now - timedelta(seconds=settings.WORKER_STALE_SECONDS)
    report["worker"] = {
        "ok": worker_ok,
        "heartbeat_age_seconds": None if age is None else round(age, 1),
        "running": WorkerHeartbeat.objects.filter(last_beat_at__gte=fresh_since).count(),
    }
    if not worker_ok:
        report["status"] = "degraded"
    return 200, report
