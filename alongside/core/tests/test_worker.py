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
