"""The `alongside` command as an operator meets it: help, pass-through, and one-line errors for bad
configuration (never a traceback)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("ALONGSIDE_")}
    clean.pop("DJANGO_SETTINGS_MODULE", None)
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "alongside", *args], env=clean, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def dev_env(tmp_path):
    return {"ALONGSIDE_DATA_DIR": str(tmp_path / "var"), "ALONGSIDE_DEBUG": "1"}


def assert_one_line_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("alongside: error: ")
    for needle in needles:
        assert needle in lines[0]


def test_help_explains_each_command_in_one_line():
    result = run("--help")
    assert result.returncode == 0
    for command in ("demo", "serve", "worker", "check"):
        assert any(line.strip().startswith(command + " ") for line in result.stdout.splitlines()), command
    assert "any Django management command" in result.stdout


def test_django_commands_pass_through(dev_env):
    assert run("migrate", "--verbosity", "0", env=dev_env).returncode == 0
    result = run("showmigrations", "accounts", env=dev_env)
    assert result.returncode == 0
    assert "[X] 0001_initial" in result.stdout


def test_check_reports_database_and_migrations(dev_env):
    result = run("check", env=dev_env)
    assert result.returncode == 1
    assert "database: ok (sqlite)" in result.stdout
    assert "pending; run `alongside migrate`" in result.stdout
    run("migrate", "--verbosity", "0", env=dev_env)
    result = run("check", env=dev_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "migrations: all applied" in result.stdout


def test_unknown_database_scheme(dev_env):
    result = run("check", env={**dev_env, "ALONGSIDE_DATABASE_URL": "mysql://u:p@localhost/alongside"})
    assert_one_line_error(result, "ALONGSIDE_DATABASE_URL", "'mysql'")


def test_unwritable_data_dir(tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    result = run("check", env={"ALONGSIDE_DEBUG": "1", "ALONGSIDE_DATA_DIR": str(blocker / "var")})
    assert_one_line_error(result, "ALONGSIDE_DATA_DIR")


def test_production_needs_a_secret_key(tmp_path):
    result = run("check", env={"ALONGSIDE_DATA_DIR": str(tmp_path)})
    assert_one_line_error(result, "ALONGSIDE_SECRET_KEY", "production")


def test_bad_boolean_is_named(dev_env):
    result = run("check", env={**dev_env, "ALONGSIDE_DEBUG": "maybe"})
    assert_one_line_error(result, "ALONGSIDE_DEBUG")


def test_unknown_default_country_is_named(dev_env):
    result = run("check", env={**dev_env, "ALONGSIDE_DEFAULT_COUNTRY": "ZZ"})
    assert_one_line_error(result, "ALONGSIDE_DEFAULT_COUNTRY")


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_port_in_use(dev_env, command):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(command, "--port", str(port), env=dev_env)
    assert_one_line_error(result, f"127.0.0.1:{port} is already in use", "--port")


def test_demo_seeds_once_reuses_data_and_resets_on_request(tmp_path):
    env = {"ALONGSIDE_DATA_DIR": str(tmp_path)}
    first = run("demo", "--no-serve", env=env)
    assert first.returncode == 0, first.stderr
    assert "people: 18 accounts (18 new)" in first.stdout
    assert "member@demo.example" in first.stdout and "clinician@demo.example" in first.stdout
    assert (tmp_path / "secret_key").exists()

    again = run("demo", "--no-serve", env=env)
    assert "people: 18 accounts (0 new)" in again.stdout

    reset = run("demo", "--no-serve", "--reset", env=env)
    assert reset.returncode == 0, reset.stderr
    assert "Erasing the demo database" in reset.stdout
    assert "people: 18 accounts (18 new)" in reset.stdout


def test_worker_stops_cleanly_on_sigterm(dev_env):
    import signal
    import time

    run("migrate", "--verbosity", "0", env=dev_env)
    clean = {key: value for key, value in os.environ.items() if not key.startswith("ALONGSIDE_")}
    worker = subprocess.Popen(
        [sys.executable, "-m", "alongside", "worker"],
        env={**clean, **dev_env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = run("check", env=dev_env).stdout
        if "worker: last heartbeat" in status:
            break
        time.sleep(0.5)
    else:
        worker.kill()
        pytest.fail("worker never reported a heartbeat")
    worker.send_signal(signal.SIGTERM)
    output, _ = worker.communicate(timeout=15)
    assert worker.returncode == 0
    assert "stopped" in output
    assert "worker: no heartbeat" in run("check", env=dev_env).stdout


def test_serve_in_production_mode_serves_hashed_static_files(tmp_path):
    import re
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    from cryptography.fernet import Fernet

    env = {
        "ALONGSIDE_DATA_DIR": str(tmp_path),
        "ALONGSIDE_SECRET_KEY": "k" * 40 + "production-test-key",
        "ALONGSIDE_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    }
    assert run("migrate", "--verbosity", "0", env=env).returncode == 0
    clean = {key: value for key, value in os.environ.items() if not key.startswith("ALONGSIDE_")}
    clean.pop("DJANGO_SETTINGS_MODULE", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "alongside", "serve", "--port", str(port), "--workers", "1"],
        env={**clean, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/crisis/", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("alongside serve did not start")
                time.sleep(0.3)
        html = page.read().decode()
        stylesheet = re.search(r'href="(/static/alongside/css/site\.[0-9a-f]{12}\.css)"', html)
        assert stylesheet, "production pages link content-hashed static files"
        css = urllib.request.urlopen(f"http://127.0.0.1:{port}{stylesheet.group(1)}", timeout=5)
        assert "immutable" in css.headers["Cache-Control"]
        signin = urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/signin/", timeout=5)
        assert "; secure" in signin.headers["Set-Cookie"].lower(), "production cookies are HTTPS-only"
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_unreachable_database_is_one_line(dev_env):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here
    url = f"postgres://nobody@127.0.0.1:{port}/alongside"
    result = run("migrate", env={**dev_env, "ALONGSIDE_DATABASE_URL": url})
    assert_one_line_error(result, "ALONGSIDE_DATABASE_URL", "cannot use the database")
