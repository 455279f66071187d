"""`alongside import {daylio,emoods,csv} FILE --member EMAIL`: a member's history from a mood app's export or a
CSV/TSV file of their own, dry (`--dry-run`) or real. Exits with status 1 when nothing could be imported."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from alongside.interop import imports
from alongside.interop.models import ImportSource
from alongside.interop.readers import FileProblem, Options, mood_map_from, parse_pairs


class Command(BaseCommand):
    help = "Import a member's check-ins (and notes, to their journal) from Daylio, eMoods or any CSV/TSV file."

    def add_arguments(self, parser):
        parser.add_argument("source", choices=ImportSource.values)
        parser.add_argument("file", type=Path)
        parser.add_argument("--member", required=True, help="the member's e-mail address")
        parser.add_argument("--dry-run", action="store_true", help="read and check everything, store nothing")
        parser.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN", help="csv: a column's field")
        parser.add_argument("--date-format", default="", help="strptime format of dates or timestamps")
        parser.add_argument("--tz", default="", help="time zone of the file's times (default: the member's)")
        parser.add_argument("--mood", action="append", default=[], metavar="LABEL=VALUE", help="daylio: mood 0–10")
        parser.add_argument("--delimiter", default="", help="column separator (default: from the first line)")

    def handle(self, *args, source, file: Path, member, dry_run, map, date_format, tz, mood, delimiter, **options):
        person = get_user_model().objects.filter(email__iexact=member).first()
        if person is None or not person.is_member:
            raise CommandError(f"no member {member}")
        if not file.is_file():
            raise CommandError(f"no file {file}")
        try:
            settings = Options(
                mapping=parse_pairs(map, what="mapping"),
                mood_map=mood_map_from(parse_pairs(mood, what="mood_map")),
                date_format=date_format,
                tz=tz,
                delimiter="\t"
                if delimiter == "\\t" or (not delimiter and file.suffix.lower() == ".tsv")
                else delimiter,
            )
        except FileProblem as problem:
            raise CommandError(str(problem)) from None
        err = getattr(self.stderr, "_out", self.stderr)
        with (
            file.open("rb") as raw,
            tqdm(
                total=file.stat().st_size, unit="B", unit_scale=True, desc=file.name, file=err, disable=not err.isatty()
            ) as bar,
        ):
            result = imports.run_import(
                person, source, raw, options=settings, dry_run=dry_run, file_name=file.name,
                actor_label=f"command line ({_operator()})", progress=bar.update,
            )  # fmt: skip
        run = result.run
        for error in run.errors:
            where = f"line {error['line']}" if error["line"] else "file"
            self.stderr.write(f"{where}: {error['field']}: {error['message']}")
        if run.error_count > len(run.errors):
            self.stderr.write(f"… and {run.error_count - len(run.errors)} more errors")
        verb = "would be created" if dry_run else "created"
        self.stdout.write(
            f"{'Dry run: ' if dry_run else ''}{run.rows_read} rows read, {run.created} check-ins {verb}, "
            f"{run.already_there} already there, {run.error_count} errors."
        )
        if result.new_tags:
            self.stdout.write(f"New activity tags: {', '.join(result.new_tags)}")
        if dry_run:
            for row in result.preview:
                self.stdout.write(f"  line {row['line']}: {row['when']} mood {row['mood']} {', '.join(row['tags'])}")
        if result.nothing_imported:
            raise CommandError("nothing could be imported")


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "unknown")
