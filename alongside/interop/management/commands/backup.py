import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from alongside.interop import backup

HELP = """\
Back up the whole database to one file, with a manifest (version, vendor, time, row counts per table and the
fingerprints of the encryption keys, never the keys).

SQLite: a consistent copy made while the server and worker keep running, checked with PRAGMA integrity_check.
PostgreSQL: pg_dump --format=custom, with FILE.manifest.json beside it.

The encryption keys (ALONGSIDE_ENCRYPTION_KEYS) are not in the backup: keep them separately, or the journal
text and clinical notes in it cannot be read after a restore.
"""


class Command(BaseCommand):
    help = HELP

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            metavar="PATH",
            help="where to write the backup (default: backups/alongside-YYYYmmddTHHMMSSZ.sqlite3 or .pgdump "
            "under the data dir)",
        )
        parser.add_argument("--no-progress", action="store_true", help="do not show a progress bar")

    def handle(self, *args, output, no_progress, **options):
        bar = tqdm(file=sys.stderr, disable=no_progress, unit="page", leave=False, desc="backing up")
        try:
            result = backup.backup(output, progress=progress_updater(bar))
        except backup.BackupError as error:
            raise CommandError(str(error)) from None
        finally:
            bar.close()
        manifest = result.manifest
        self.stdout.write(
            f"Backed up {manifest['total_rows']} rows in {len(manifest['tables'])} tables ({manifest['vendor']}) "
            f"to {result.path}"
        )
        if result.manifest_path:
            self.stdout.write(f"Manifest: {result.manifest_path} (keep it with the backup)")
        self.stdout.write(
            "Encryption key fingerprint: "
            + ", ".join(manifest["encryption_keys"])
            + ". The keys themselves are not in the backup: keep ALONGSIDE_ENCRYPTION_KEYS safe separately."
        )


def progress_updater(bar):
    def update(done: int, total: int) -> None:
        # SQLite reports pages of a known total; pg_dump only the bytes written so far.
        if total:
            bar.total = total
        else:
            bar.unit, bar.unit_scale, bar.unit_divisor = "B", True, 1024
        bar.n = done
        bar.refresh()

    return update
