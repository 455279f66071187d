"""What /metrics exports, in Prometheus' text format.

Two kinds of figure:

- **Requests**, counted by each web process in `RequestMetricsMiddleware`: by method, route name (the URL
  pattern's name, never the path, so no id becomes a label) and status class, and a latency histogram by route
  name. `alongside serve` runs several gunicorn processes; it points PROMETHEUS_MULTIPROC_DIR at an emptied
  directory under the data dir before anything imports prometheus_client (see `alongside/cli.py`), each process
  writes its figures there and a scrape adds them up.
- **State**, read from the database when scraped: the database and migrations here, and what the domain apps
  register with `database_readings` (the outbox, reminders, alerts). Counts and ages only: never a person's id,
  name or any text.
"""

from __future__ import annotations

import functools
import hmac
import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Count, Max, Min, Q
from django.utils import timezone
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from alongside.core.health import pending_migrations
from alongside.core.models import WorkerHeartbeat

log = logging.getLogger(__name__)

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# Decided once, as prometheus_client itself decides it when first imported.
MULTIPROCESS = MULTIPROCESS_DIR_VARIABLE in os.environ
CONTENT_TYPE = CONTENT_TYPE_LATEST
# A "_created" timestamp beside every counter doubles the page for a figure nobody alerts on.
disable_created_metrics()

# Any other method a client makes up is counted as "other", so a client cannot add labels at will.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Requests that matched no route (a 404 before any view, or one of middleware's own answers).
UNMATCHED = "unmatched"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# In one process the figures live in this registry; with several they live in the shared directory and each
# scrape reads them from there (a metric registered in a registry would show one process's figures only).
_single_process_registry = None if MULTIPROCESS else CollectorRegistry()

REQUESTS = Counter(
    "alongside_http_requests",
    "Requests answered, by method, route name and status class.",
    ["method", "view", "status"],
    registry=_single_process_registry,
)
REQUEST_SECONDS = Histogram(
    "alongside_http_request_duration_seconds",
    "Time from the request reaching Django's middleware to its answer, by route name.",
    ["view"],
    buckets=LATENCY_BUCKETS,
    registry=_single_process_registry,
)


@functools.cache
def requests_in_progress() -> Gauge:
    """ "livesum": the live processes' figures add up, and gunicorn's child_exit hook drops a dead one's.

    Made on the first request rather than on import: a gauge without labels writes its file as soon as it
    exists, and gunicorn's master process, which imports this module but answers nothing, must not have one."""
    return Gauge(
        "alongside_http_requests_in_progress",
        "Requests being answered now, across the live web processes.",
        registry=_single_process_registry,
        multiprocess_mode="livesum",
    )


def method_label(method: str) -> str:
    return method if method in KNOWN_METHODS else "other"


class RequestMetricsMiddleware:
    """Counts and times every request that reaches Django (static files, answered by WhiteNoise before this,
    are not counted)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        in_progress = requests_in_progress()
        in_progress.inc()
        try:
            response = self.get_response(request)
        finally:
            in_progress.dec()
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match is not None else UNMATCHED
        REQUESTS.labels(method_label(request.method or ""), view, f"{response.status_code // 100}xx").inc()
        REQUEST_SECONDS.labels(view).observe(time.perf_counter() - started)
        return response


# Scrape-time readings from the database.


@dataclass(frozen=True)
class Reading:
    """One gauge value read at scrape time. `labels` must come from a short fixed list (a severity, a status),
    never from a person or their data."""

    name: str
    documentation: str
    value: float
    labels: dict[str, str] = field(default_factory=dict)


# Functions the domain apps register (in their AppConfig.ready): each takes "now" and returns its readings,
# with one cheap query each.
DATABASE_READINGS: dict[str, Callable[[datetime], Iterable[Reading]]] = {}


def database_readings(name: str):
    """Decorator: /metrics calls this function (with the scrape's time) for gauges read from the database."""

    def register(function):
        DATABASE_READINGS[name] = function
        return function

    return register


def age_seconds(now: datetime, since: datetime | None) -> float:
    """How long ago `since` was; 0 when there is nothing (no row waits), so the series never disappears."""
    return 0.0 if since is None else max(0.0, (now - since).total_seconds())


def database_is_reachable() -> bool:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # any driver error means unreachable
        return False
    return True


@database_readings("core: migrations")
def migration_readings(now: datetime) -> list[Reading]:
    pending = pending_migrations()
    return [Reading("alongside_migrations_pending", "Migrations not yet applied (run `alongside migrate`).", pending)]


@database_readings("core: worker heartbeats")
def heartbeat_readings(now: datetime) -> list[Reading]:
    fresh_since = now - timedelta(seconds=settings.WORKER_STALE_SECONDS)
    beats = WorkerHeartbeat.objects.aggregate(
        rows=Count("pk"),
        running=Count("pk", filter=Q(last_beat_at__gte=fresh_since)),
        newest=Max("last_beat_at"),
        oldest=Min("last_beat_at"),
    )
    return [
        Reading(
            "alongside_worker_heartbeats",
            "Worker heartbeat rows (running workers, and for a day those that stopped without cleaning up).",
            beats["rows"],
        ),
        Reading(
            "alongside_workers_running",
            "Workers whose heartbeat is younger than ALONGSIDE_WORKER_STALE_SECONDS.",
            beats["running"],
        ),
        Reading(
            "alongside_worker_heartbeat_newest_age_seconds",
            "Age of the newest worker heartbeat (0 when there is none).",
            age_seconds(now, beats["newest"]),
        ),
        Reading(
            "alongside_worker_heartbeat_oldest_age_seconds",
            "Age of the oldest worker heartbeat row (0 when there is none).",
            age_seconds(now, beats["oldest"]),
        ),
    ]


class DatabaseCollector:
    """Reads the registered gauges when scraped. An unreachable database gives `alongside_database_up 0` and
    nothing else from the database; one failing reading is logged and left out, the others still come."""

    def collect(self):
        up = database_is_reachable()
        yield GaugeMetricFamily("alongside_database_up", "1 when the database answered this scrape.", value=int(up))
        if not up:
            return
        now = timezone.now()
        families: dict[str, GaugeMetricFamily] = {}
        for name, read in list(DATABASE_READINGS.items()):
            try:
                readings = list(read(now))
            except Exception:
                log.exception("metrics: reading %s failed", name)
                continue
            for reading in readings:
                family = families.get(reading.name)
                if family is None:
                    family = families[reading.name] = GaugeMetricFamily(
                        reading.name, reading.documentation, labels=sorted(reading.labels)
                    )
                family.add_metric([reading.labels[key] for key in sorted(reading.labels)], float(reading.value))
        yield from families.values()


_database_collector = DatabaseCollector()
if _single_process_registry is not None:
    _single_process_registry.register(_database_collector)


def exposition() -> bytes:
    """The whole page: every web process's request figures and the database's gauges, read now."""
    if _single_process_registry is not None:
        return generate_latest(_single_process_registry)
    registry = CollectorRegistry()
    prometheus_multiprocess.MultiProcessCollector(registry)
    registry.register(_database_collector)
    return generate_latest(registry)


# Who may scrape.

LOOPBACK_ADDRESSES = frozenset({"127.0.0.1", "::1", "::ffff:127.0.0.1"})
# A request a reverse proxy on this host passed on arrives from a loopback address too; these headers say it
# came from further away.
FORWARDING_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def may_scrape(request) -> bool:
    """From this machine without a token (not through a proxy), or from anywhere with
    `Authorization: Bearer <ALONGSIDE_METRICS_TOKEN>`."""
    token = settings.METRICS_TOKEN
    if token:
        scheme, _space, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return True
    local = request.META.get("REMOTE_ADDR", "") in LOOPBACK_ADDRESSES
    return local and not any(header in request.META for header in FORWARDING_HEADERS)
