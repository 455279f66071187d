"""Faults on real processes: a web process killed mid-request, PostgreSQL restarted under traffic, SQLite on a
full disk. Clients here retry as the API asks them to (same Idempotency-Key, on a connection error or a 5xx),
and the tests check what is stored afterwards, not how fast anything was. (A worker killed while delivering
notifications: tests/test_worker_faults.py.)
"""

from __future__ import annotations

import glob
import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHECKIN = json.dumps({"mood": 6, "anxiety": 3, "energy": 5, "sleep_hours": 7.5})

SEED = """
import django, json; django.setup()
from alongside.accounts import actions, tokens
from alongside.accounts.models import Role
from alongside.monitoring import checkins
org = actions.create_organisation("Faults", "US", time_zone="America/New_York")
out = []
for n in range({members}):
    m = actions.create_person(f"m{{n}}@example.org", f"Member {{n}}", None, time_zone="America/New_York")
    actions.grant_role(m, org, Role.MEMBER)
    for _ in range({earlier}):
        checkins.record(m, mood=5)
    out.append({{"id": m.pk, "token": tokens.issue(m, name="faults", scopes=["read", "write"])[1]}})
print(json.dumps(out))
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(data_dir: Path, database_url: str | None) -> dict:
    """Production mode (error pages as people would see them), a private data dir, the given database."""
    from cryptography.fernet import Fernet

    env = {key: value for key, value in os.environ.items() if not key.startswith("ALONGSIDE_")}
    env.update({
        "ALONGSIDE_DATA_DIR": str(data_dir), "ALONGSIDE_SECRET_KEY": "faults-" + "k" * 50,
        "ALONGSIDE_ENCRYPTION_KEYS": Fernet.generate_key().decode(), "ALONGSIDE_HTTPS": "0",
        "ALONGSIDE_LOG_LEVEL": "CRITICAL", "DJANGO_SETTINGS_MODULE": "alongside.settings",
    })  # fmt: skip
    if database_url:
        env["ALONGSIDE_DATABASE_URL"] = database_url
    return env


def prepare(env: dict, *, members: int, earlier: int = 0) -> list[dict]:
    subprocess.run([sys.executable, "-m", "alongside", "migrate", "-v0"], env=env, cwd=ROOT, check=True)
    code = SEED.format(members=members, earlier=earlier)
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


class Server:
    """`alongside serve` on a free 127.0.0.1 port, stopped (and killed if need be) on exit."""

    def __init__(self, env: dict, *, workers: int = 2, threads: int = 2):
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "alongside", "serve", "--port", str(self.port), "--workers", str(workers),
             "--threads", str(threads)],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def __enter__(self) -> Server:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "the server stopped while starting"
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/ping")
                if connection.getresponse().status == 200:
                    return self
            except OSError:
                time.sleep(0.2)
        raise AssertionError("the server did not start within a minute")

    def __exit__(self, *exc_info) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def web_processes(self) -> list[int]:
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                children.append(int(stat.parent.name))
        return sorted(children)


def post_checkin(port: int, token: str, key: str, timeout: float = 20) -> tuple[int, bytes, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Idempotency-Key": key}
        connection.request("POST", "/api/v1/checkins", body=CHECKIN, headers=headers)
        response = connection.getresponse()
        return response.status, response.read(), response.getheader("Content-Type", "")
    finally:
        connection.close()


def send_with_retries(port: int, token: str, key: str, *, give_up_after: float = 40) -> dict:
    """What a well-behaved client does: the same key again on a connection error or a 5xx, until a 2xx."""
    deadline = time.monotonic() + give_up_after
    while True:
        try:
            status, body, _type = post_checkin(port, token, key)
            if status == 201:
                return json.loads(body)
            assert status >= 500, f"answered {status}: {body[:200]!r}"
        except (OSError, http.client.HTTPException):
            pass
        assert time.monotonic() < deadline, f"no answer for key {key} after {give_up_after:.0f} s"
        time.sleep(0.1)


def check_in_stream(port: int, members: list[dict], per_member: int, *, fault, fault_after: int) -> list[dict]:
    """One client thread per member sends `per_member` check-ins (a new key each, retried with the same key);
    `fault` runs once `fault_after` check-ins have been answered. Returns every answer (one per key)."""
    answers: list[dict] = []
    lock = threading.Lock()
    fired = threading.Event()
    failures: list[BaseException] = []

    def client(member: dict) -> None:
        try:
            for _ in range(per_member):
                answer = send_with_retries(port, member["token"], uuid.uuid4().hex)
                with lock:
                    answers.append({**answer, "member_id": member["id"]})
                    due = len(answers) >= fault_after and not fired.is_set()
                    if due:
                        fired.set()
                if due:
                    fault()
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=client, args=(member,)) for member in members]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures[0]
    assert fired.is_set(), "the fault never happened"
    return answers


def stored_checkins(env: dict, member_ids: list[int]) -> dict[int, int]:
    """Check-ins per member, read straight from the database."""
    query = "SELECT member_id, COUNT(*) FROM monitoring_checkin GROUP BY member_id"
    if env.get("ALONGSIDE_DATABASE_URL", "").startswith("postgres"):
        import psycopg

        with psycopg.connect(env["ALONGSIDE_DATABASE_URL"]) as connection:
            rows = connection.execute(query).fetchall()
    else:
        path = (
            env.get("ALONGSIDE_DATABASE_URL", "").removeprefix("sqlite://")
            or f"{env['ALONGSIDE_DATA_DIR']}/alongside.sqlite3"
        )
        with sqlite3.connect(path, timeout=30) as connection:
            rows = connection.execute(query).fetchall()
    counts = dict(rows)
    return {member_id: counts.get(member_id, 0) for member_id in member_ids}


def assert_each_answer_stored_once(env: dict, members: list[dict], answers: list[dict], per_member: int) -> None:
    ids = [answer["id"] for answer in answers]
    assert len(answers) == len(members) * per_member
    assert len(set(ids)) == len(ids), "two keys were answered with the same check-in"
    # Nothing lost and nothing doubled: exactly one stored check-in per key sent.
    assert stored_checkins(env, [member["id"] for member in members]) == dict.fromkeys(
        [member["id"] for member in members], per_member
    )


def kill_a_web_process_mid_stream(env: dict) -> None:
    members = prepare(env, members=4)
    with Server(env, workers=2, threads=2) as server:
        victims = server.web_processes()
        assert len(victims) == 2

        def kill() -> None:
            os.kill(victims[0], signal.SIGKILL)  # no chance to finish its requests or say goodbye

        answers = check_in_stream(server.port, members, 15, fault=kill, fault_after=12)
        assert victims[0] not in server.web_processes()  # it really died; gunicorn started another
    assert_each_answer_stored_once(env, members, answers, 15)


def test_a_killed_web_process_loses_no_check_in_and_doubles_none(tmp_path):
    kill_a_web_process_mid_stream(environment(tmp_path, None))


@pytest.mark.database
def test_a_killed_web_process_loses_no_check_in_and_doubles_none_on_postgresql(tmp_path, own_postgres_database):
    kill_a_web_process_mid_stream(environment(tmp_path, own_postgres_database))


def restart_command(database_url: str) -> list[str]:
    """pg_ctl restart -m fast for the cluster behind `database_url`, as its owner; skips when that is not possible
    (a server this test may not restart, or no pg_ctl)."""
    import psycopg

    with psycopg.connect(database_url) as connection:
        try:
            data_directory = connection.execute("SHOW data_directory").fetchone()[0]
        except psycopg.Error:
            pytest.skip("restarting PostgreSQL needs a cluster of the test's own (a superuser may read its data dir)")
    programs = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not programs or not Path(data_directory, "postmaster.opts").exists():
        pytest.skip("restarting PostgreSQL needs pg_ctl and the cluster's data directory on this machine")
    owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    log = Path(data_directory).parent / "server.log"
    return [*owner, programs[-1], "-D", data_directory, "-l", str(log), "-m", "fast", "-w", "restart"]


@pytest.mark.database
def test_postgresql_restarted_under_traffic_loses_nothing_and_the_server_recovers(tmp_path, own_postgres_database):
    from django.db import connections

    command = restart_command(own_postgres_database)
    env = environment(tmp_path, own_postgres_database)
    members = prepare(env, members=4)
    try:
        with Server(env, workers=2, threads=2) as server:
            before = server.web_processes()
            restarted = []

            def restart() -> None:
                restarted.append(subprocess.run(command, capture_output=True, text=True, timeout=60))

            answers = check_in_stream(server.port, members, 15, fault=restart, fault_after=12)
            assert restarted[0].returncode == 0, restarted[0].stderr
            # The same web processes answered after the restart: they reconnected on their own.
            assert server.web_processes() == before
    finally:
        # This process's own connections went with the restart; the next test opens new ones.
        connections.close_all()
    assert_each_answer_stored_once(env, members, answers, 15)


@pytest.fixture
def tiny_disk(tmp_path):
    """A 24 MB file system of its own (tmpfs), which a test may fill; skips where it cannot be mounted."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("filling a disk needs a small file system of the test's own: mounting one needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount_point)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {mounted.stderr.decode().strip()}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(directory: Path) -> Path:
    """Write a file until the file system is full."""
    filler = directory / "filler"
    with open(filler, "wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass
    return filler


def test_a_check_in_on_a_full_disk_is_refused_clearly_and_the_database_stays_whole(tmp_path, tiny_disk):
    if os.environ.get("ALONGSIDE_DATABASE_URL", "").startswith("postgres"):
        pytest.skip("SQLite only: its database file on a disk that fills")
    database = tiny_disk / "alongside.sqlite3"
    env = environment(tmp_path / "data", f"sqlite:///{database}")
    (tmp_path / "data").mkdir()
    [member] = prepare(env, members=1, earlier=5)
    with Server(env, workers=1, threads=2) as server:
        assert post_checkin(server.port, member["token"], uuid.uuid4().hex)[0] == 201
        filler = fill(tiny_disk)
        for _attempt in range(2000):
            status, body, content_type = post_checkin(server.port, member["token"], uuid.uuid4().hex)
            if status != 201:
                break
        assert status == 503, body[:300]
        assert content_type.startswith("application/json")
        assert "full" in json.loads(body)["detail"].lower()
        answered = stored_checkins(env, [member["id"]])[member["id"]]
        # Space again: the same server stores check-ins again without a restart.
        filler.unlink()
        assert post_checkin(server.port, member["token"], uuid.uuid4().hex)[0] == 201
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert connection.execute("SELECT COUNT(*) FROM monitoring_checkin").fetchone()[0] == answered + 1
    assert answered >= 6  # the earlier data and the check-ins answered 201 before the disk filled
