"""Importing a member's history from a mood app's export or their own CSV: one function (`run_import`) runs an
import, dry (counts, a preview of the first rows, row errors; no check-in stored) or real. The CLI, the web page
and the API all call it.

- Each row goes through the check-in domain (`checkins.record`, `source="import"`, at the row's own time) and its
  note through the journal's (`journal.write`, encrypted), so imported data obeys the same rules as any other.
- Every stored row is keyed by its fingerprint (`interop.ImportedRow`, unique per member): the same file again,
  or a later and longer export of the same diary, stores nothing twice.
- The file is read line by line and stored in batches, each in one transaction, so a file of any size runs in
  bounded memory and a failure leaves whole batches behind, never half a row.
- Imported history is older than today, so it is not announced to the early-warning engine check-in by
  check-in: the member's detector state is marked stale first, so history does not raise alerts for days long
  gone, and is rebuilt from the stored history at the end (the engine's own rebuild raises only what fires on
  the last days).
- The web page keeps the upload between the preview and the import in a private file under the data dir, named
  by the preview's run (`keep_upload`), removed after the import or when a day old (`remove_stale_uploads`)."""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alongside.audit.log import record as audit
from alongside.audit.models import AuditAction
from alongside.interop import readers
from alongside.interop.models import ImportedRow, ImportRun, ImportSource
from alongside.interop.readers import FileProblem, Options, Row, RowError
from alongside.monitoring import checkins, journal
from alongside.monitoring.models import DEFAULT_ACTIVITIES, Tag, TagKind
from alongside.signals import engine
from alongside.signals.models import DetectorState

BATCH_ROWS = 500
PREVIEW_ROWS = 10
MAX_KEPT_ERRORS = 200
STALE_UPLOAD_AGE = timedelta(days=1)


@dataclass
class ImportResult:
    run: ImportRun
    preview: list[dict] = field(default_factory=list)
    new_tags: list[str] = field(default_factory=list)

    @property
    def nothing_imported(self) -> bool:
        return self.run.created == 0 and self.run.already_there == 0


class _Lines:
    """Decoded lines of a binary file, read one at a time; counts and hashes the bytes as they pass."""

    def __init__(self, raw: Iterable[bytes], progress: Callable[[int], None] | None) -> None:
        self._lines = iter(raw)
        self.bytes_read = 0
        self.sha256 = hashlib.sha256()
        self._progress = progress

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.bytes_read += len(line)
        self.sha256.update(line)
        if self._progress:
            self._progress(len(line))
        return line.decode("utf-8", errors="replace")

    def readline(self) -> str:
        return next(self, "")

    def drain(self) -> None:
        for _line in self:
            pass


def zone_for(member, tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz or member.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise FileProblem("tz", _("“%(tz)s” is not a time zone (for example Europe/Dublin).") % {"tz": tz}) from None


def _batches(items: Iterator, size: int) -> Iterator[list]:
    while chunk := list(itertools.islice(items, size)):
        yield chunk


def _preview(row: Row, zone: ZoneInfo) -> dict:
    values = row.checkin
    return {
        "line": row.line,
        "when": values["recorded_at"].astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        **{name: values.get(name) for name in (*checkins.SCALE_FIELDS, "sleep_hours", "medication")},
        "tags": list(values.get("activities", ())),
        "note": values.get("note", ""),
        "journal": row.journal[:120],
    }


def _add_error(run: ImportRun, line: int, field_name: str, message: str) -> None:
    run.error_count += 1
    if len(run.errors) < MAX_KEPT_ERRORS:
        run.errors.append({"line": line, "field": field_name, "message": str(message)})


def _domain_errors(run: ImportRun, line: int, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, messages in error.message_dict.items():
            for message in messages:
                _add_error(run, line, name, message)
    else:
        for message in error.messages:
            _add_error(run, line, "", message)


class _Store:
    """Stores (or, dry, only counts) one batch of rows at a time."""

    def __init__(self, member, run: ImportRun, zone: ZoneInfo, dry_run: bool) -> None:
        self.member, self.run, self.zone, self.dry_run = member, run, zone, dry_run
        self.preview: list[dict] = []
        # A member without activity tags starts with the common ones, as on the check-in page.
        tags = Tag.objects.filter(member=member, kind=TagKind.ACTIVITY)
        if dry_run:
            labels = (
                tags.filter(archived=False).values_list("label", flat=True) if tags.exists() else DEFAULT_ACTIVITIES
            )
        else:
            labels = checkins.tags_for(member, TagKind.ACTIVITY).values_list("label", flat=True)
        self.known_tags = {label.lower() for label in labels}
        self.new_tags: dict[str, str] = {}
        self.seen: set[str] = set()  # fingerprints met earlier in this batch (earlier batches are stored)

    def batch(self, items: list[Row | RowError]) -> None:
        rows = [item for item in items if isinstance(item, Row)]
        error_lines = set()
        for item in items:
            if isinstance(item, RowError):
                error_lines.add(item.line)
                _add_error(self.run, item.line, item.field, item.message)
        self.run.rows_read += len(rows) + len(error_lines)
        self.seen = set()
        stored = set(
            ImportedRow.objects.filter(
                member=self.member, fingerprint__in=[row.fingerprint for row in rows]
            ).values_list("fingerprint", flat=True)
        )
        if self.dry_run:
            for row in rows:
                self._count(row, stored)
            return
        with transaction.atomic():
            keys = []
            for row in rows:
                if self._count(row, stored):
                    key = self._store(row)
                    if key is not None:
                        keys.append(key)
            ImportedRow.objects.bulk_create(keys)

    def _count(self, row: Row, stored: set[str]) -> bool:
        """Whether the row is new; a dry run counts it (and its new tags) as created."""
        if row.fingerprint in stored or row.fingerprint in self.seen:
            self.run.already_there += 1
            return False
        self.seen.add(row.fingerprint)
        if self.dry_run:
            for label in row.checkin.get("activities", ()):
                if label.lower() not in self.known_tags:
                    self.new_tags.setdefault(label.lower(), label)
            self.run.created += 1
            if len(self.preview) < PREVIEW_ROWS:
                self.preview.append(_preview(row, self.zone))
        return True

    def _store(self, row: Row) -> ImportedRow | None:
        values = dict(row.checkin)
        try:
            # One savepoint per row: a row the domain refuses leaves nothing behind, and the batch goes on.
            with transaction.atomic():
                for label in values.get("activities", ()):
                    if label.lower() not in self.known_tags:
                        checkins.add_tag(self.member, TagKind.ACTIVITY, label)
                        self.known_tags.add(label.lower())
                        self.new_tags.setdefault(label.lower(), label)
                checkin = checkins.record(self.member, **values, source="import", announce=False)
                entry = None
                if row.journal:
                    entry = journal.write(
                        self.member, text=row.journal, written_at=values["recorded_at"], source="import"
                    )
        except ValidationError as error:
            _domain_errors(self.run, row.line, error)
            return None
        self.run.created += 1
        if len(self.preview) < PREVIEW_ROWS:
            self.preview.append(_preview(row, self.zone))
        return ImportedRow(
            member=self.member, run=self.run, fingerprint=row.fingerprint, checkin=checkin, journal_entry=entry
        )


def run_import(
    member,
    source: str,
    raw: Iterable[bytes],
    *,
    options: Options | None = None,
    dry_run: bool = True,
    file_name: str = "",
    started_by=None,
    request=None,
    actor_label: str = "",
    progress: Callable[[int], None] | None = None,
    run: ImportRun | None = None,
) -> ImportResult:
    """Read `raw` (a binary file, or any iterable of byte lines) as a `source` export for `member` and store its
    rows (unless `dry_run`). Problems with the file as a whole (empty, a mapped column missing, a bad option) are
    errors at line 0; nothing is imported then. `progress` is called with the bytes of each line read. `run`
    reuses an earlier preview's run (its counts start again)."""
    options = options or Options()
    source = ImportSource(source)
    run = run or ImportRun(member=member, source=source)
    run.source, run.file_name, run.dry_run = source, (file_name or run.file_name)[:255], dry_run
    run.options, run.started_by, run.started_at = options.as_dict(), started_by, timezone.now()
    run.rows_read = run.created = run.already_there = run.error_count = 0
    run.errors, run.finished_at = [], None
    run.save()
    lines = _Lines(raw, progress)
    store = None
    try:
        zone = zone_for(member, options.tz)
        items = readers.READERS[source](lines, zone=zone, options=options)
        store = _Store(member, run, zone, dry_run)
        if not dry_run:
            # History must not page anyone: the engine is rebuilt once at the end, with these check-ins.
            DetectorState.objects.update_or_create(member=member, defaults={"stale": True})
        for chunk in _batches(items, BATCH_ROWS):
            store.batch(chunk)
    except FileProblem as problem:
        _add_error(run, 0, problem.field, problem.message)
    lines.drain()
    run.file_sha256 = lines.sha256.hexdigest()
    run.finished_at = timezone.now()
    run.save()
    if not dry_run and store is not None:
        engine.rebuild(member)
    audit(
        AuditAction.CHANGE if not dry_run else AuditAction.VIEW,
        actor=started_by,
        request=request,
        member=member,
        category="interop",
        actor_label=actor_label,
        detail=(
            f"{'previewed' if dry_run else 'ran'} a {source.value} import (run {run.pk}): {run.rows_read} rows read, "
            f"{run.created} {'new' if dry_run else 'created'}, {run.already_there} already there, "
            f"{run.error_count} errors"
        ),
    )
    return ImportResult(
        run=run,
        preview=store.preview if store else [],
        new_tags=sorted(store.new_tags.values(), key=str.lower) if store else [],
    )


# Keeping an upload between the preview and the import --------------------------------------------------------


def uploads_dir() -> Path:
    path = Path(settings.DATA_DIR) / "imports"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _kept_path(run: ImportRun) -> Path:
    return uploads_dir() / f"run-{run.pk}.upload"


def keep_upload(run: ImportRun, chunks: Iterable[bytes]) -> Path:
    """Write the upload to a file only the server's user can read, named by the preview's run."""
    path = _kept_path(run)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        for chunk in chunks:
            out.write(chunk)
    return path


def kept_upload(run: ImportRun) -> Path | None:
    path = _kept_path(run)
    return path if path.exists() else None


def discard_upload(run: ImportRun) -> None:
    _kept_path(run).unlink(missing_ok=True)


def remove_stale_uploads(now=None) -> int:
    """Remove uploads previewed but never imported, a day after they were kept."""
    cutoff = (now or timezone.now()).timestamp() - STALE_UPLOAD_AGE.total_seconds()
    removed = 0
    for path in uploads_dir().glob("run-*.upload"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed


def preview_upload(member, source: str, upload, *, options: Options, request=None) -> ImportResult:
    """The member's own upload on the web: kept for the import that follows, and read dry."""
    run = ImportRun.objects.create(
        member=member, source=ImportSource(source), file_name=(getattr(upload, "name", "") or "")[:255],
        dry_run=True, started_by=member,
    )  # fmt: skip
    path = keep_upload(run, upload.chunks())
    with path.open("rb") as kept:
        return run_import(member, source, kept, options=options, started_by=member, request=request, run=run)


def previewed_run(member, run_id) -> ImportRun | None:
    """The member's own preview whose upload is still kept, or None."""
    run = ImportRun.objects.filter(pk=run_id, member=member, dry_run=True).first() if str(run_id).isdigit() else None
    return run if run is not None and kept_upload(run) is not None else None


def preview_again(member, run: ImportRun, *, options: Options, request=None) -> ImportResult:
    """The kept upload read again, dry, with changed options (a mood renamed, a column mapped)."""
    with kept_upload(run).open("rb") as kept:
        return run_import(member, run.source, kept, options=options, started_by=member, request=request, run=run)


def import_kept(member, run: ImportRun, *, options: Options, request=None) -> ImportResult:
    """Import the upload kept for `run` (a new run of its own), then remove it."""
    path = kept_upload(run)
    if path is None:
        raise ValidationError({"file": _("That upload is no longer kept; choose the file again.")})
    with path.open("rb") as kept:
        result = run_import(
            member, run.source, kept, options=options, dry_run=False, file_name=run.file_name, started_by=member,
            request=request,
        )  # fmt: skip
    discard_upload(run)
    return result
