"""The web server's process model: gunicorn's threaded worker, spreading connections over the processes.

Every web process accepts connections from one shared socket, and a keep-alive connection stays with the process
that accepted it. gunicorn's threaded worker accepts whenever it can, so connections that arrive together (a
proxy opening its pool, apps reconnecting after a network change) can land mostly in one process. That process
then answers all of them with its threads and its one interpreter lock, at a fraction of the speed, while another
process sits nearly idle: with 32 busy clients over two processes, splits of 23 and 9 were common, and the
larger share waited three times as long.

`BalancedThreadWorker` accepts at once while it has a free thread. When all its threads are busy it pauses
before accepting the next connection, longer the more connections it already holds, so that a less loaded
process, which is waiting in the same poll, takes it first. Nobody is refused: after the pause a busy process
accepts as before. The pause is a millisecond for each of the process's threads' worth of connections.
"""

from __future__ import annotations

import time

from gunicorn.workers.gthread import ThreadWorker

PAUSE_PER_THREAD_OF_CONNECTIONS = 0.001


def accept_pause(in_flight: int, threads: int, connections: int) -> float:
    """Seconds a process waits before accepting another connection: none while a thread is free; otherwise a
    millisecond for each of its threads' worth of connections it holds."""
    if in_flight < threads:
        return 0.0
    return PAUSE_PER_THREAD_OF_CONNECTIONS * max(1, connections) / threads


class BalancedThreadWorker(ThreadWorker):
    """gunicorn's `gthread` worker, accepting a connection late when busy (see the module's docstring)."""

    in_flight = 0  # requests handed to the thread pool and not finished
    may_accept_at = 0.0  # while busy, no accepting before this (time.monotonic())

    def _pausing(self) -> bool:
        return self.in_flight >= self.cfg.threads and time.monotonic() < self.may_accept_at

    def set_accept_enabled(self, enabled):
        super().set_accept_enabled(enabled and not self._pausing())

    def accept(self, listener):
        if self._pausing():
            self.set_accept_enabled(False)
            return
        pause = accept_pause(self.in_flight, self.cfg.threads, self.nr_conns)
        if pause:
            self.may_accept_at = time.monotonic() + pause
        super().accept(listener)

    def wait_for_and_dispatch_events(self, timeout):
        # While paused, wake when the pause ends (the loop then listens again), not after the usual second.
        if self._pausing():
            timeout = min(timeout, max(0.0, self.may_accept_at - time.monotonic()))
        super().wait_for_and_dispatch_events(timeout)

    def enqueue_req(self, conn):
        self.in_flight += 1
        super().enqueue_req(conn)

    def finish_request(self, conn, fs):
        self.in_flight -= 1
        super().finish_request(conn, fs)
