import argparse

from django.core.management.base import BaseCommand, CommandError, DjangoHelpFormatter

from alongside.core import crypto

HELP = """\
Re-encrypt every encrypted value (journal text, clinical notes) with the first key in ALONGSIDE_ENCRYPTION_KEYS.

To change the encryption key:
  1. generate a key: python3 -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'
  2. put it first in ALONGSIDE_ENCRYPTION_KEYS and keep the old keys after it, comma-separated;
     restart the web processes and the worker so that all of them encrypt with the new key
  3. run `alongside rotate_encryption_key`
  4. remove the old keys from ALONGSIDE_ENCRYPTION_KEYS and restart again

Until step 3 has finished, data encrypted with an old key needs that key to be read. An interrupted run can
simply be started again.
"""


class _HelpFormatter(DjangoHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Keeps the numbered procedure in the help text on its own lines."""


class Command(BaseCommand):
    help = HELP

    def create_parser(self, prog_name, subcommand, **kwargs):
        kwargs.setdefault("formatter_class", _HelpFormatter)
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=crypto.ROTATE_BATCH_SIZE,
            help=f"rows re-encrypted per transaction (default {crypto.ROTATE_BATCH_SIZE})",
        )

    def handle(self, *args, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        report = _ProgressReport(self.stdout)
        try:
            count = crypto.rotate(report.update, batch_size=batch_size)
        except crypto.DecryptionError as exc:
            report.finish()
            raise CommandError(
                f"{exc}. Values rotated so far keep their new encryption; fix the keys and run again."
            ) from None
        report.finish()
        fields = report.fields
        if not fields:
            self.stdout.write("No encrypted fields are installed; nothing to re-encrypt.")
            return
        self.stdout.write(
            f"Re-encrypted {count} value{'' if count == 1 else 's'} in {fields} field{'' if fields == 1 else 's'} "
            "with the first key of ALONGSIDE_ENCRYPTION_KEYS. Older keys can now be removed from it."
        )


class _ProgressReport:
    """One line rewritten in place on a terminal; otherwise one line per field as each one finishes."""

    def __init__(self, stdout):
        self.stdout = stdout
        self.tty = stdout.isatty()
        self.fields = 0
        self.current: tuple[str, int, int] | None = None
        self.shown_width = 0

    def update(self, done: int, total: int, label: str) -> None:
        if self.current and self.current[0] != label and not self.tty:
            self._write_line(*self.current)
        if not self.current or self.current[0] != label:
            self.fields += 1
        self.current = (label, done, total)
        if self.tty:
            text = f"{label}: {done}/{total}"
            # Spaces wipe what is left of a longer previous line.
            self.stdout.write("\r" + text.ljust(self.shown_width), ending="")
            self.stdout.flush()
            self.shown_width = len(text)

    def finish(self) -> None:
        if self.tty:
            if self.shown_width:
                self.stdout.write("")
                self.shown_width = 0
        elif self.current:
            self._write_line(*self.current)
        self.current = None

    def _write_line(self, label: str, done: int, total: int) -> None:
        self.stdout.write(f"{label}: {done}/{total} re-encrypted")
