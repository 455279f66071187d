"""The background worker process (`alongside worker`).

The worker keeps its heartbeat, which /healthz reports, and runs the periodic jobs the domain apps register
(`every`); the due-work queue, notifications and reminders run inside this same loop as they land. It
survives database restarts (it logs, waits and reconnects) and stops cleanly on SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django import db
from django.utils import timezone

from alongside.core.models import WorkerHeartbeat

log = logging.getLogger(__name__)

# Rows left behind by workers that died without a clean shutdown are removed after this long.
FORGET_DEAD_WORKERS_AFTER = timedelta(days=1)
MAX_RETRY_DELAY_SECONDS = 60.0


@dataclass
class PeriodicJob:
    name: str
    every: timedelta
    run: Callable[[], object]


# Work the domain apps ask the worker to repeat (registered in their AppConfig.ready). Each worker process runs
# them on its own clock; the jobs are written so that running one twice, or in two processes, changes nothing.
PERIODIC_JOBS: dict[str, PeriodicJob] = {}


@dataclass
class WorkSource:
    name: str
    batch: int  # the most items one call handles
    run: Callable[[str], int]


# Sources of due work (the outbox, stored check-ins): each call does a batch and returns how many items it
# handled. A source that handled a full batch has more waiting, and the worker calls it again at once. One that
# handled part of a batch has caught up: the worker then waits GATHER_SECONDS, so that what arrives meanwhile is
# handled together. Under a steady stream (check-ins arriving all the time) that makes batches several times
# larger, and each item cheaper: the batch's reads and, on SQLite, its write transaction are shared by more
# items. When there is no work at all it sleeps IDLE_SECONDS.
WORK_SOURCES: dict[str, WorkSource] = {}
GATHER_SECONDS = 0.1
IDLE_SECONDS = 0.5


def work_source(name: str, *, batch: int):
    """Decorator: the worker calls this function (with its worker id) for batches of at most `batch` items."""

    def register(function):
        WORK_SOURCES[name] = WorkSource(name, batch, function)
        return function

    return register


def every(interval: timedelta, name: str):
    """Decorator: the worker runs this function about once per `interval`."""

    def register(function):
        PERIODIC_JOBS[name] = PeriodicJob(name, interval, function)
        return function

    return register


class Worker:
    def __init__(self, *, beat_seconds: float = 5.0) -> None:
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self.beat_seconds = beat_seconds
        self.started_at = timezone.now()
        self.stopping = threading.Event()
        self.last_runs: dict[str, datetime] = {}

    def request_stop(self, *_signal_args: object) -> None:
        self.stopping.set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)

    def beat(self) -> None:
        now = timezone.now()
        WorkerHeartbeat.objects.update_or_create(
            worker_id=self.worker_id,
            defaults={"last_beat_at": now},
            create_defaults={"last_beat_at": now, "started_at": self.started_at},
        )
        WorkerHeartbeat.objects.filter(last_beat_at__lt=now - FORGET_DEAD_WORKERS_AFTER).delete()

    def run_periodic_jobs(self) -> None:
        """Run the jobs that are due. One failing job is logged and retried next time; the others still run."""
        now = timezone.now()
        for job in list(PERIODIC_JOBS.values()):
            last = self.last_runs.get(job.name)
            if last is not None and now - last < job.every:
                continue
            try:
                job.run()
            except db.Error:
                raise  # the loop's database handling takes over
            except Exception:
                log.exception("worker %s: periodic job %s failed", self.worker_id, job.name)
            self.last_runs[job.name] = now

    def work(self) -> tuple[int, bool]:
        """One batch from each source of due work: how many items were handled in all, and whether any source
        handled a full batch (it has more waiting)."""
        done, more = 0, False
        for source in list(WORK_SOURCES.values()):
            try:
                handled = source.run(self.worker_id)
            except db.Error:
                raise
            except Exception:
                log.exception("worker %s: %s failed", self.worker_id, source.name)
                continue
            done += handled
            more = more or handled >= source.batch
        return done, more

    def pause_after(self, done: int, more: bool) -> float:
        if more:
            return 0.0
        return min(GATHER_SECONDS if done else IDLE_SECONDS, self.beat_seconds)

    def run(self, *, max_cycles: int | None = None) -> None:
        """Loop until asked to stop (or for max_cycles cycles, which tests use): a heartbeat and the periodic
        jobs every `beat_seconds`, due work in between, with a short sleep when there is none."""
        log.info("worker %s started", self.worker_id)
        failures = 0
        cycles = 0
        next_beat = 0.0
        try:
            while not self.stopping.is_set():
                try:
                    if time.monotonic() >= next_beat:
                        self.beat()
                        self.run_periodic_jobs()
                        next_beat = time.monotonic() + self.beat_seconds
                    done, more = self.work()
                    failures = 0
                    delay = self.pause_after(done, more)
                except db.Error as exc:
                    # The database may be restarting: drop the broken connection and try again with backoff.
                    failures += 1
                    delay = min(self.beat_seconds * 2**failures, MAX_RETRY_DELAY_SECONDS)
                    log.warning("worker %s: database unavailable (%s); retrying in %.0fs", self.worker_id, exc, delay)
                    db.connections.close_all()
                cycles += 1
                if max_cycles is not None and cycles >= max_cycles:
                    break
                self.stopping.wait(delay)
        finally:
            self._forget()
            log.info("worker %s stopped", self.worker_id)

    def _forget(self) -> None:
        try:
            WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()
        except db.Error:
            log.warning("worker %s: could not remove its heartbeat on shutdown", self.worker_id)
