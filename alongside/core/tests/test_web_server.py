"""The web server's worker accepts a connection at once while it has a free thread, and late (after a pause that
grows with the connections it holds) while all its threads are busy, so that a less loaded process takes it."""

import collections
import concurrent.futures
import http.client
import logging
import os
import selectors
import socket
import subprocess
import sys
import threading
import time

import pytest
from gunicorn.config import Config

from alongside.core import web_server
from alongside.core.web_server import BalancedThreadWorker, accept_pause

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="gunicorn runs on POSIX systems")


class RecordingPool:
    """Stands in for the worker's thread pool: keeps what was handed to it, runs nothing."""

    def __init__(self):
        self.submitted = []

    def submit(self, function, *args):
        future = concurrent.futures.Future()
        self.submitted.append(args)
        return future


class Listener(socket.socket):
    """A listening socket on 127.0.0.1 that can connect clients to itself."""

    def __init__(self):
        super().__init__()
        self.bind(("127.0.0.1", 0))
        self.listen(16)
        self.setblocking(False)
        self.clients = []

    def connect_client(self):
        self.clients.append(socket.create_connection(self.getsockname()))
        time.sleep(0.01)  # until the connection waits in the listener's queue


@pytest.fixture
def listener():
    made = Listener()
    yield made
    for client in made.clients:
        client.close()
    made.close()


@pytest.fixture
def worker(listener):
    cfg = Config()
    cfg.set("threads", 2)
    made = BalancedThreadWorker(1, os.getpid(), [listener], None, 30, cfg, logging.getLogger("test"))
    made.poller = selectors.DefaultSelector()
    made.method_queue.init()
    made.tpool = RecordingPool()
    yield made
    made.poller.close()
    made.method_queue.close()
    made.tmp.close()


def accept_clients(worker, listener, count):
    """`count` clients connect, and the worker accepts each as it arrives."""
    worker.set_accept_enabled(True)
    for _ in range(count):
        listener.connect_client()
        worker.accept(listener)


def test_no_pause_while_a_thread_is_free_and_longer_the_more_connections_a_busy_process_holds():
    assert accept_pause(in_flight=1, threads=4, connections=30) == 0
    assert accept_pause(in_flight=4, threads=4, connections=4) == pytest.approx(0.001)
    assert accept_pause(in_flight=4, threads=4, connections=16) == pytest.approx(0.004)
    assert accept_pause(in_flight=6, threads=4, connections=0) == pytest.approx(0.00025)


def test_a_worker_with_a_free_thread_accepts_every_connection_at_once(worker, listener):
    accept_clients(worker, listener, 2)
    assert worker.nr_conns == 2
    assert worker.in_flight == 2
    assert len(worker.tpool.submitted) == 2


def test_a_busy_worker_pauses_before_its_next_accept_and_then_accepts(worker, listener, monkeypatch):
    monkeypatch.setattr(web_server, "PAUSE_PER_THREAD_OF_CONNECTIONS", 0.05)  # long enough to observe
    worker.set_accept_enabled(True)
    for _ in range(3):
        listener.connect_client()

    # Two accepted: both threads busy. The third is accepted too (no pause yet), and starts one.
    worker.accept(listener)
    worker.accept(listener)
    worker.accept(listener)
    assert worker.nr_conns == 3
    assert worker.may_accept_at > time.monotonic()

    # A fourth arrives during the pause: left in the queue, and the worker stops listening until the pause ends.
    listener.connect_client()
    worker.accept(listener)
    assert worker.nr_conns == 3
    assert not worker._accepting
    worker.set_accept_enabled(True)  # what gunicorn's loop asks for on every turn
    assert not worker._accepting

    # While paused, waiting for events ends with the pause rather than after gunicorn's usual second.
    asked = []
    real_select = worker.poller.select
    worker.poller.select = lambda timeout=None: asked.append(timeout) or real_select(0)
    worker.wait_for_and_dispatch_events(1.0)
    assert 0 <= asked[0] <= 0.05 * 3 / 2

    time.sleep(0.05 * 3 / 2 + 0.01)
    worker.set_accept_enabled(True)
    assert worker._accepting
    worker.accept(listener)
    assert worker.nr_conns == 4


def test_a_finished_request_frees_its_thread(worker, listener):
    accept_clients(worker, listener, 2)
    assert worker.in_flight == 2
    done = concurrent.futures.Future()
    done.set_result(False)  # the connection closes
    conn = worker.tpool.submitted[0][0]
    worker.finish_request(conn, done)
    assert worker.in_flight == 1
    assert worker.nr_conns == 1
    assert accept_pause(worker.in_flight, worker.cfg.threads, worker.nr_conns) == 0


def test_the_server_spreads_connections_that_arrive_together_over_its_processes(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--worker-class", "alongside.core.web_server.BalancedThreadWorker",
         "--workers", "2", "--threads", "2", "--bind", f"127.0.0.1:{port}", "--no-control-socket",
         "alongside.core.tests.slow_pid_app:application"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path,
    )  # fmt: skip
    try:
        answered = set()
        deadline = time.monotonic() + 30
        while len(answered) < 2 and time.monotonic() < deadline:  # both processes up
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/?0.05")
                answered.add(connection.getresponse().read())
                connection.close()
            except OSError:
                time.sleep(0.1)
        assert len(answered) == 2

        served_by = {}

        def client(number):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for _ in range(4):
                connection.request("GET", "/?0.02")
                served_by[number] = connection.getresponse().read()
            connection.close()

        clients = [threading.Thread(target=client, args=(number,)) for number in range(16)]
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join()
        shares = sorted(collections.Counter(served_by.values()).values())
        assert len(served_by) == 16
        assert len(shares) == 2 and shares[0] >= 5, shares
    finally:
        server.terminate()
        server.wait(timeout=30)
