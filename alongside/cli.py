"""The `alongside` command: demo, serve, worker, check, and every Django management command."""

from __future__ import annotations

import argparse
import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from alongside import conf

OWN_COMMANDS = {
    "demo": "set up demo data and serve the web app and a worker together (default 127.0.0.1:8000)",
    "serve": "run the production web server (gunicorn; several processes)",
    "worker": "run the background worker (heartbeat, then reminders, outbox and alerts)",
    "check": "check configuration, database connection and migrations; exit non-zero on a problem",
}
DJANGO_COMMANDS_HELP = "any Django management command, e.g. `alongside migrate` or `alongside createsuperuser`"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alongside.settings")
    parser = build_parser()
    if not argv or argv[0] in ("-h", "--help"):
        parser.print_help()
        return 0
    try:
        if argv[0] in OWN_COMMANDS and argv[0] != "worker":
            args = parser.parse_args(argv)
            return args.handler(args)
        return run_django_command(argv)
    except conf.ConfigError as exc:
        print(f"alongside: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        # A database that cannot be reached is a configuration problem too: one line, not a traceback.
        from django.db import OperationalError

        if not isinstance(exc, OperationalError):
            raise
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        print(f"alongside: error: cannot use the database (ALONGSIDE_DATABASE_URL): {reason}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="alongside",
        description="Alongside: continuing care for mental-health recovery.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="  ...       " + DJANGO_COMMANDS_HELP + "\n\nConfiguration comes from ALONGSIDE_* environment "
        "variables; see README.md.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    def add_address(command: argparse.ArgumentParser) -> None:
        command.add_argument("--host", default=conf.env_str("HOST", "127.0.0.1"), help="address to listen on")
        command.add_argument("--port", type=int, default=conf.env_int("PORT", 8000, minimum=1), help="port")

    demo = commands.add_parser("demo", help=OWN_COMMANDS["demo"], description=OWN_COMMANDS["demo"])
    add_address(demo)
    demo.add_argument("--reset", action="store_true", help="erase all data first and seed a fresh demo")
    demo.add_argument("--no-serve", action="store_true", help="only migrate and seed, then exit")
    demo.set_defaults(handler=command_demo)

    serve = commands.add_parser("serve", help=OWN_COMMANDS["serve"], description=OWN_COMMANDS["serve"])
    add_address(serve)
    serve.add_argument(
        "--workers",
        type=int,
        default=conf.env_int("WEB_PROCESSES", 2, minimum=1),
        help="web processes (default 2, or ALONGSIDE_WEB_PROCESSES)",
    )
    serve.add_argument(
        "--threads",
        type=int,
        default=conf.env_int("WEB_THREADS", 4, minimum=1),
        help="threads per web process (default 4, or ALONGSIDE_WEB_THREADS)",
    )
    serve.set_defaults(handler=command_serve)

    commands.add_parser("worker", help=OWN_COMMANDS["worker"])

    check = commands.add_parser("check", help=OWN_COMMANDS["check"], description=OWN_COMMANDS["check"])
    check.set_defaults(handler=command_check)
    return parser


def setup_django() -> None:
    import django

    django.setup()


def run_django_command(argv: list[str]) -> int:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["alongside", *argv])
    return 0


def ensure_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # Same option the server uses, so a port still in TIME_WAIT from a previous run counts as free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise conf.ConfigError(
                    f"{host}:{port} is already in use; choose another port with --port (or ALONGSIDE_PORT)"
                ) from None
            raise conf.ConfigError(
                f"cannot listen on {host}:{port}: {exc.strerror}; set --host/--port (or ALONGSIDE_HOST/ALONGSIDE_PORT)"
            ) from None


def command_check(args: argparse.Namespace) -> int:
    setup_django()
    from django.conf import settings
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    from alongside.core.health import health_report

    try:
        call_command("check", deploy=settings.PRODUCTION, fail_level="ERROR")
    except SystemCheckError as exc:
        print(exc, file=sys.stderr)
        return 1
    status, report = health_report()
    database = report["database"]
    print(f"database: {'ok' if database['ok'] else 'unreachable'} ({database.get('vendor', database.get('error'))})")
    if "migrations" in report:
        pending = report["migrations"]["pending"]
        print("migrations: " + ("all applied" if not pending else f"{pending} pending; run `alongside migrate`"))
    if "worker" in report and report["worker"].get("heartbeat_age_seconds") is not None:
        print(f"worker: last heartbeat {report['worker']['heartbeat_age_seconds']}s ago")
    else:
        print("worker: no heartbeat (start one with `alongside worker`)")
    return 0 if status == 200 else 1


def command_serve(args: argparse.Namespace) -> int:
    prepare_metrics_dir(conf.data_dir())
    setup_django()
    from django.conf import settings
    from django.core.management import call_command

    from alongside.core.health import pending_migrations

    ensure_port_free(args.host, args.port)
    if settings.PRODUCTION:
        # Hashed file names need the manifest; collecting is idempotent and quick.
        call_command("collectstatic", interactive=False, verbosity=0)
    pending = pending_migrations()
    if pending:
        print(f"alongside: warning: {pending} migrations are not applied; run `alongside migrate`", file=sys.stderr)
    run_gunicorn(args.host, args.port, workers=args.workers, threads=args.threads)
    return 0


METRICS_DIR_NAME = "metrics"


def prepare_metrics_dir(data_dir: Path) -> Path:
    """An empty directory under the data dir where every web process keeps its /metrics figures.

    Emptied at each start (counters start again from zero, as Prometheus expects of a restart), and named in
    PROMETHEUS_MULTIPROC_DIR before anything imports prometheus_client, which reads it once, on import."""
    directory = data_dir / METRICS_DIR_NAME
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(mode=0o700)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    return directory


def web_process_exited(server, worker) -> None:
    """gunicorn's child_exit hook: a dead process's requests in progress stop counting. (Its counters stay:
    the requests it answered were answered.)"""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def run_gunicorn(host: str, port: int, *, workers: int, threads: int) -> None:
    from gunicorn.app.base import BaseApplication

    class AlongsideServer(BaseApplication):
        def load_config(self) -> None:
            for key, value in {
                "bind": f"{host}:{port}",
                "workers": workers,
                "threads": threads,
                # gunicorn's threaded worker, spreading keep-alive connections over the processes (core/web_server.py).
                "worker_class": "alongside.core.web_server.BalancedThreadWorker",
                "graceful_timeout": 10,
                "timeout": 60,
                "accesslog": "-" if conf.env_bool("ACCESS_LOG", False) else None,
                "proc_name": "alongside-web",
                "child_exit": web_process_exited,
            }.items():
                self.cfg.set(key, value)
            if "control_socket_disable" in self.cfg.settings:
                # One server per data dir may run side by side; a shared control socket path would clash.
                self.cfg.set("control_socket_disable", True)

        def load(self):
            from alongside.wsgi import application

            return application

    AlongsideServer().run()


def command_demo(args: argparse.Namespace) -> int:
    os.environ["ALONGSIDE_DEMO"] = "1"
    # Links in e-mails (invitations, password resets) point at this demo, wherever it listens.
    os.environ.setdefault("ALONGSIDE_SITE_URL", f"http://{bracketed(args.host)}:{args.port}")
    setup_django()
    from django.core.management import call_command

    from alongside import demo

    if not args.no_serve:
        ensure_port_free(args.host, args.port)
    if args.reset:
        print("Erasing the demo database…", flush=True)
        call_command("flush", interactive=False, verbosity=0)
    print("Preparing the database…", flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    seeded = demo.seed(progress=lambda message: print("  " + message, flush=True))
    if args.no_serve:
        print(demo.banner(seeded, base_url=None))
        return 0
    return supervise_demo(args.host, args.port, banner=lambda url: demo.banner(seeded, base_url=url))


def supervise_demo(host: str, port: int, *, banner) -> int:
    """Run the web server and a worker as child processes; stop both when either stops or on a signal."""
    base = [sys.executable, "-m", "alongside"]
    children = [
        subprocess.Popen([*base, "serve", "--host", host, "--port", str(port)]),  # noqa: S603 (our own command)
        subprocess.Popen([*base, "worker"]),  # noqa: S603 (our own command)
    ]
    stopping = False

    def stop_children(*_signal_args: object) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop_children)
    signal.signal(signal.SIGINT, stop_children)
    url = f"http://{bracketed(host)}:{port}"
    if wait_until_serving(url, children):
        print(banner(url), flush=True)
    while not stopping and all(child.poll() is None for child in children):
        time.sleep(0.3)
    stop_children()
    codes = [child.wait() for child in children]
    return 0 if stopping and not any(code not in (0, -signal.SIGTERM) for code in codes) else 1


def bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def wait_until_serving(url: str, children: list[subprocess.Popen], timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(child.poll() is not None for child in children):
            return False
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:  # noqa: S310 (our own address)
                json.load(response)
                return True
        except urllib.error.HTTPError:
            return True  # serving, even if not yet healthy
        except (OSError, ValueError):
            time.sleep(0.3)
    return False
