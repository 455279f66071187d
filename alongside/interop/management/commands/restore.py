import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from alongside.interop import backup
from alongside.interop.management.commands.backup import progress_updater

HELP = """\
Replace the whole database with a backup made by `alongside backup`, then run `migrate` so that an older
backup comes up to date, and print the record counts.

Stop the web processes and the worker first. A database that has data is only replaced with --yes. The
encryption keys that were in use when the backup was made must be in ALONGSIDE_ENCRYPTION_KEYS (a warning
names a missing one by its fingerprint).
"""


class Command(BaseCommand):
    help = HELP

    def add_arguments(self, parser):
        parser.add_argument("file", help="the backup file (.sqlite3, or .pgdump with its .manifest.json beside it)")
        parser.add_argument("--yes", action="store_true", help="replace a database that already has data")
        parser.add_argument("--no-progress", action="store_true", help="do not show a progress bar")

    def handle(self, *args, file, yes, no_progress, **options):
        try:
            manifest = backup.check_restorable(file)
        except backup.BackupError as error:
            raise CommandError(f"{error}. Nothing was changed.") from None
        self.stdout.write(
            f"Backup of {manifest.get('created_at')} by Alongside {manifest.get('alongside_version')} "
            f"({manifest.get('total_rows')} rows in {len(manifest['tables'])} tables)."
        )
        for warning in backup.key_warnings(manifest):
            self.stderr.write(f"Warning: {warning}")
        bar = tqdm(file=sys.stderr, disable=no_progress, unit="page", leave=False, desc="restoring")
        try:
            result = backup.restore(
                file, replace_existing=yes, progress=progress_updater(bar), migrate_output=self.stdout
            )
        except backup.TargetHasData as error:
            raise CommandError(f"{error}. Nothing was changed.") from None
        except backup.BackupError as error:
            raise CommandError(str(error)) from None
        finally:
            bar.close()
        self.stdout.write("Restored; the database is migrated to this version. Records per table:")
        for table, number in backup.iter_nonzero(result.counts):
            self.stdout.write(f"  {table}: {number}")
        self.stdout.write(f"  total: {sum(result.counts.values())}")
        for table, (expected, found) in result.mismatches.items():
            self.stderr.write(f"Warning: {table} has {found} rows, the backup's manifest says {expected}")
        # Warnings the restore found afterwards (unreadable encrypted values), beyond the ones shown above.
        for warning in result.warnings[len(backup.key_warnings(manifest)) :]:
            self.stderr.write(f"Warning: {warning}")
