import threading

import pytest
from django.db import OperationalError, connections

from alongside.core.models import WorkerHeartbeat
from alongside.core.worker import Worker


@pytest.mark.django_db
def test_worker_beats_while_running_and_forgets_itself_on_stop():
    worker = Worker(beat_seconds=0.01)
    seen = []
    original_beat = worker.beat

    def beat_and_look():
        original_beat()
        seen.append(WorkerHeartbeat.objects.get(worker_id=worker.worker_id).last_beat_at)

    worker.beat = beat_and_look
    worker.run(max_cycles=3)
    assert len(seen) == 3
    assert seen[0] <= seen[1] <= seen[2]
    assert not WorkerHeartbeat.objects.filter(worker_id=worker.worker_id).exists()


@pytest.mark.django_db
def test_worker_keeps_going_when_the_database_is_briefly_unavailable(monkeypatch):
    from alongside.core import worker as worker_module

    # Only the loop's own handling is under test here: no jobs or due work from the apps.
    monkeypatch.setattr(worker_module, "PERIODIC_JOBS", {})
    monkeypatch.setattr(worker_module, "WORK_SOURCES", {})
    worker = Worker(beat_seconds=0.001)
    outcomes = iter([OperationalError("server closed the connection"), None, None])
    calls = []

    def flaky_beat():
        calls.append(1)
        outcome = next(outcomes)
        if outcome:
            raise outcome

    monkeypatch.setattr(worker, "beat", flaky_beat)
    waits = []
    monkeypatch.setattr(worker.stopping, "wait", lambda delay: waits.append(delay))
    worker.run(max_cycles=3)
    assert len(calls) >= 2  # tried again after the failure
    assert waits[0] > worker.beat_seconds  # backed off after the failure
    assert waits[1] <= worker.beat_seconds  # and back to its short idle sleep once it recovered


@pytest.mark.django_db(transaction=True)
def test_request_stop_ends_the_loop_from_another_thread():
    worker = Worker(beat_seconds=30)

    def run_then_disconnect():
        worker.run()
        connections.close_all()  # this thread's own connection

    runner = threading.Thread(target=run_then_disconnect)
    runner.start()
    for _ in range(200):
        if WorkerHeartbeat.objects.filter(worker_id=worker.worker_id).exists():
            break
        threading.Event().wait(0.01)
    worker.request_stop()
    runner.join(timeout=5)
    assert not runner.is_alive()
    assert not WorkerHeartbeat.objects.filter(worker_id=worker.worker_id).exists()


@pytest.mark.django_db
def test_periodic_jobs_run_when_due_and_a_failing_one_does_not_stop_the_others(monkeypatch):
    from datetime import timedelta

    from alongside.core import worker as worker_module

    ran = []
    jobs = {
        "fails": worker_module.PeriodicJob("fails", timedelta(hours=1), lambda: 1 / 0),
        "counts": worker_module.PeriodicJob("counts", timedelta(hours=1), lambda: ran.append(1)),
    }
    monkeypatch.setattr(worker_module, "PERIODIC_JOBS", jobs)
    worker = Worker(beat_seconds=0.001)
    worker.run(max_cycles=3)
    assert ran == [1]  # due once within the hour, though the loop ran three times
    assert set(worker.last_runs) == {"fails", "counts"}


def test_the_schedule_registers_its_jobs():
    from alongside.core.worker import PERIODIC_JOBS

    assert {"schedule: extend open-ended series", "schedule: routine reminders for the next two weeks"} <= set(
        PERIODIC_JOBS
    )


@pytest.mark.django_db
def test_the_worker_comes_back_at_once_after_a_full_batch_and_gathers_after_a_part(monkeypatch):
    from alongside.core import worker as worker_module

    monkeypatch.setattr(worker_module, "PERIODIC_JOBS", {})
    # Stored items as a stream: 25 waiting at first, 3 more arriving during each pause.
    waiting = [25]

    def handle(worker_id):
        handled = min(10, waiting[0])
        waiting[0] -= handled
        return handled

    monkeypatch.setattr(
        worker_module, "WORK_SOURCES", {"items": worker_module.WorkSource("items", batch=10, run=handle)}
    )
    worker = Worker(beat_seconds=5)
    pauses = []

    def pause(delay):
        pauses.append(delay)
        if len(pauses) >= 3:
            waiting[0] += 3 if len(pauses) == 3 else 0

    monkeypatch.setattr(worker.stopping, "wait", pause)
    worker.run(max_cycles=6)  # the last cycle ends the loop without a pause
    # 10 and 10 (full: at once), 5 (caught up: gather), 3 that arrived meanwhile (gather), then none (idle).
    assert pauses == [0, 0, worker_module.GATHER_SECONDS, worker_module.GATHER_SECONDS, worker_module.IDLE_SECONDS]
    assert waiting == [0]


def test_a_source_that_fails_does_not_count_as_having_more_work(monkeypatch):
    from alongside.core import worker as worker_module

    def broken(worker_id):
        raise RuntimeError("a bug in one source")

    monkeypatch.setattr(
        worker_module,
        "WORK_SOURCES",
        {
            "broken": worker_module.WorkSource("broken", batch=1, run=broken),
            "busy": worker_module.WorkSource("busy", batch=2, run=lambda worker_id: 2),
        },
    )
    assert Worker().work() == (2, True)
