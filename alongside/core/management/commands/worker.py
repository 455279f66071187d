from django.core.management.base import BaseCommand
from django.db import connections

from alongside.core.worker import Worker


class Command(BaseCommand):
    help = "Run the background worker until stopped (SIGTERM or Ctrl-C stop it cleanly)."

    def add_arguments(self, parser):
        parser.add_argument("--beat-seconds", type=float, default=5.0, help="seconds between heartbeats")

    def handle(self, *args, beat_seconds: float, **options):
        worker = Worker(beat_seconds=beat_seconds)
        worker.install_signal_handlers()
        self.stdout.write(f"Worker {worker.worker_id} running; stop it with Ctrl-C or SIGTERM.")
        try:
            worker.run()
        finally:
            connections.close_all()
        self.stdout.write(f"Worker {worker.worker_id} stopped.")
