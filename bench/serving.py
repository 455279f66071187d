"""What the benchmarks that drive the real server share: a private environment, starting `alongside serve` and
`alongside worker` on 127.0.0.1, a bounded multi-threaded load generator and percentiles, and reading processes'
CPU time and resident memory from /proc (Linux only)."""

from __future__ import annotations

import atexit
import http.client
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def scratch_directory() -> str:
    """A new temporary directory for a run's data (its SQLite database, keys, logs), removed when the run ends."""
    path = tempfile.mkdtemp(prefix="alongside-bench-")
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def bench_env(data_dir: str) -> dict:
    """A production-mode environment of the bench's own; only the database choice comes from the caller."""
    from cryptography.fernet import Fernet

    env = {key: value for key, value in os.environ.items() if not key.startswith("ALONGSIDE_")}
    if os.environ.get("ALONGSIDE_DATABASE_URL"):
        env["ALONGSIDE_DATABASE_URL"] = os.environ["ALONGSIDE_DATABASE_URL"]
    env.update({
        "ALONGSIDE_DATA_DIR": data_dir,
        "ALONGSIDE_SECRET_KEY": "bench-" + "k" * 50,
        "ALONGSIDE_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALONGSIDE_HTTPS": "0",
        "ALONGSIDE_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "alongside.settings",
    })  # fmt: skip
    return env


def database_name(env: dict) -> str:
    return "PostgreSQL" if env.get("ALONGSIDE_DATABASE_URL") else "SQLite (WAL)"


def start_server(env: dict, port: int, *, workers: int, threads: int, quiet: bool = True) -> subprocess.Popen:
    output = subprocess.DEVNULL if quiet else None
    return subprocess.Popen(
        [sys.executable, "-m", "alongside", "serve", "--port", str(port), "--workers", str(workers),
         "--threads", str(threads)],
        env=env, stdout=output, stderr=output,
    )  # fmt: skip


def start_worker(env: dict, *, quiet: bool = True) -> subprocess.Popen:
    output = subprocess.DEVNULL if quiet else None
    return subprocess.Popen([sys.executable, "-m", "alongside", "worker"], env=env, stdout=output, stderr=output)


def stop(process: subprocess.Popen, timeout: float = 30) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/ping")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def _proc_stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None  # a process that ended while we looked


def children_of(pid: int) -> list[int]:
    """The direct children of a process, from /proc (empty where there is no /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = _proc_stat(int(stat.parent.name))
        if fields and int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return sorted(found)


def _cpu_seconds(pids) -> tuple[float, int]:
    """CPU time (user + system) of these processes so far, and how many of them were still there to read."""
    tick = os.sysconf("SC_CLK_TCK")
    total, read = 0.0, 0
    for pid in pids:
        fields = _proc_stat(pid)
        if fields:
            total += (int(fields[11]) + int(fields[12])) / tick
            read += 1
    return total, read


def server_cpu_seconds(server_pid: int) -> float | None:
    """CPU time (user + system) of the server process and its workers so far, from /proc (Linux only)."""
    if not Path("/proc").exists():
        return None
    return _cpu_seconds([server_pid, *children_of(server_pid)])[0]


def processes_named(name: str) -> list[int]:
    """The processes whose command name (/proc/<pid>/comm) is `name`."""
    found = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() == name:
                found.append(int(comm.parent.name))
        except OSError:
            continue
    return found


def database_server_cpu_seconds() -> float | None:
    """CPU time so far of every PostgreSQL server process on this machine (the throwaway cluster's), from /proc;
    None without /proc or without such processes (SQLite, or a server elsewhere)."""
    if not Path("/proc").exists():
        return None
    total, read = _cpu_seconds(processes_named("postgres"))
    return total if read else None


def run_in_threads(target, count: int) -> float:
    """Run `target` in `count` threads at once and wait for them all; the wall time in seconds."""
    threads = [threading.Thread(target=target) for _ in range(count)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began


def rss_kib(pid: int) -> int | None:
    """Resident memory of one process (VmRSS from /proc/<pid>/status), or None once it has gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def private_kib(pid: int) -> int | None:
    """Memory the process alone holds (Private_Clean + Private_Dirty from /proc/<pid>/smaps_rollup): unlike RSS,
    it leaves out shared memory such as PostgreSQL's buffer pool, which every backend counts in its RSS as it touches
    more of it. None once the process has gone."""
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return None
    return sum(int(line.split()[1]) for line in lines if line.startswith(("Private_Clean:", "Private_Dirty:")))


def pids_named(fragment: str) -> list[int]:
    """Processes whose command line contains `fragment` (PostgreSQL backends name their cluster's port)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if fragment in text:
            found.append(int(cmdline.parent.name))
    return found
