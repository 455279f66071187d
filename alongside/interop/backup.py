"""Backups of the whole database and restores from them, on SQLite and PostgreSQL.

SQLite: an online copy through SQLite's backup API, read inside one read transaction so that the copy is one
consistent snapshot while the web processes and the worker keep writing (WAL lets them). The manifest is a
table inside the copy, so the file alone is a complete backup; the copy is checked with
`PRAGMA integrity_check` before it takes its final name.

PostgreSQL: `pg_dump --format=custom` of the configured database, run on a snapshot exported by a
repeatable-read transaction in which the row counts are taken too, so the counts describe exactly the rows in
the dump. The manifest sits beside the dump (`FILE.manifest.json`) with the dump's SHA-256. The password is
handed to pg_dump and pg_restore in their environment, never on the command line.

The manifest names the Alongside version, the database vendor, when the backup was made, the applied
migrations, each table's row count and the fingerprints of the encryption keys (never the keys). Journal text
and clinical notes are encrypted with ALONGSIDE_ENCRYPTION_KEYS, which a backup deliberately does not hold:
a stolen backup without the keys does not reveal them. A restore warns when the key that encrypted the
backup's newest values is not configured, and reads one value of every encrypted column to prove it.
"""

from __future__ import annotations

import contextlib
import getpass
import glob
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import sqlite3
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connections, models, transaction
from django.db.migrations.loader import MigrationLoader

from alongside.audit.log import record
from alongside.audit.models import AuditAction
from alongside.core import crypto

CATEGORY = "interop"
FORMAT = "alongside-backup"
FORMAT_VERSION = 1
MANIFEST_TABLE = "alongside_backup_manifest"
MANIFEST_SUFFIX = ".manifest.json"
SQLITE_PAGES_PER_STEP = 256
# Where Debian and Ubuntu install each PostgreSQL major version's programs side by side.
POSTGRES_BIN_GLOB = "/usr/lib/postgresql/*/bin"
# Tables Django fills by itself on `migrate`: rows there do not make a database "have data".
BOOKKEEPING_TABLES = {"django_migrations", "django_content_type", "auth_permission", MANIFEST_TABLE}

Progress = Callable[[int, int], None]


class BackupError(Exception):
    """A backup or restore could not be made. The message is meant for the operator, in one or two lines."""


class NotABackup(BackupError):
    """The file is not an Alongside backup this version can restore (or it is damaged). Nothing was changed."""


class TargetHasData(BackupError):
    """The database to restore into has data and the operator has not confirmed replacing it."""


@dataclass
class BackupResult:
    path: Path
    manifest: dict
    manifest_path: Path | None = None


@dataclass
class RestoreResult:
    manifest: dict
    counts: dict[str, int]
    # Tables whose row count after the restore differs from the manifest's: {table: (expected, found)}.
    mismatches: dict[str, tuple[int, int]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


# -- keys and manifests ----------------------------------------------------------------------------------


def key_fingerprint(key: str) -> str:
    """A short, stable name for an encryption key: a SHA-256 of it (with a label, so it is no hash of the key
    used anywhere else). A key is 256 random bits, so its fingerprint reveals nothing about it."""
    return hashlib.sha256(b"alongside encryption key\x00" + key.strip().encode("ascii")).hexdigest()[:16]


def configured_key_fingerprints() -> list[str]:
    """Fingerprints of ALONGSIDE_ENCRYPTION_KEYS, in order: the first encrypts, all decrypt."""
    return [key_fingerprint(key) for key in settings.ENCRYPTION_KEYS]


def alongside_version() -> str:
    try:
        return importlib.metadata.version("alongside")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _applied_migrations(using: str) -> list[list[str]]:
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        return [list(row) for row in cursor.fetchall()]


def _manifest(vendor: str, counts: dict[str, int], migrations: list[list[str]], **extra) -> dict:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "alongside_version": alongside_version(),
        "vendor": vendor,
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "tables": counts,
        "total_rows": sum(counts.values()),
        "migrations": migrations,
        # The first fingerprint is the key that encrypted everything written last; see the module docstring.
        "encryption_keys": configured_key_fingerprints(),
        **extra,
    }


def manifest_path_for(path: Path) -> Path:
    return path.with_name(path.name + MANIFEST_SUFFIX)


def read_manifest(path: Path | str) -> dict:
    """The manifest of a backup file (inside a SQLite backup, beside a PostgreSQL one). NotABackup when there is
    none, it is unreadable, or the file does not match it."""
    path = Path(path)
    if not path.is_file():
        raise NotABackup(f"{path} does not exist or is not a file")
    with path.open("rb") as handle:
        head = handle.read(16)
    manifest = _sqlite_manifest(path) if head.startswith(b"SQLite format 3\x00") else _sidecar_manifest(path)
    if manifest.get("format") != FORMAT or not isinstance(manifest.get("tables"), dict):
        raise NotABackup(f"{path} is not an Alongside backup (its manifest is not one)")
    if manifest.get("format_version", 0) > FORMAT_VERSION:
        raise NotABackup(
            f"{path} was made by a newer Alongside (backup format {manifest.get('format_version')}); "
            "restore it with that version or newer"
        )
    return manifest


def _sqlite_manifest(path: Path) -> dict:
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as database:
            check = database.execute("PRAGMA quick_check").fetchone()
            if check is None or check[0] != "ok":
                raise NotABackup(f"{path} is a damaged SQLite file ({check[0] if check else 'no answer'})")
            row = database.execute(f"SELECT manifest FROM {MANIFEST_TABLE}").fetchone()  # noqa: S608 (a constant)
    except sqlite3.DatabaseError as error:
        raise NotABackup(f"{path} is not an Alongside backup or is damaged: {error}") from None
    if row is None:
        raise NotABackup(f"{path} is a SQLite database but not an Alongside backup (it has no manifest)")
    try:
        return json.loads(row[0])
    except ValueError:
        raise NotABackup(f"{path} has a damaged manifest") from None


def _sidecar_manifest(path: Path) -> dict:
    sidecar = manifest_path_for(path)
    if not sidecar.is_file():
        raise NotABackup(
            f"{path} is not an Alongside backup: a SQLite backup is a SQLite file, and a PostgreSQL backup "
            f"has its manifest beside it ({sidecar.name}), which is missing"
        )
    try:
        manifest = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise NotABackup(f"{sidecar} cannot be read as a manifest: {error}") from None
    if not isinstance(manifest, dict):
        raise NotABackup(f"{sidecar} is not an Alongside manifest")
    expected = manifest.get("sha256")
    if expected and _sha256(path) != expected:
        raise NotABackup(f"{path} does not match its manifest (its SHA-256 differs): the file is damaged or replaced")
    return manifest


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def key_warnings(manifest: dict) -> list[str]:
    """What the operator should hear about the encryption keys before (and after) restoring this backup."""
    backed_up = manifest.get("encryption_keys") or []
    configured = configured_key_fingerprints()
    if not backed_up:
        return []
    if backed_up[0] in configured:
        missing = [fingerprint for fingerprint in backed_up[1:] if fingerprint not in configured]
        if not missing:
            return []
        return [
            "ALONGSIDE_ENCRYPTION_KEYS lacks older key(s) that were configured when the backup was made "
            f"(fingerprints {', '.join(missing)}); values not yet re-encrypted with the newest key need them"
        ]
    return [
        f"the backup's data was encrypted with the key whose fingerprint is {backed_up[0]}, which is not in "
        f"ALONGSIDE_ENCRYPTION_KEYS (configured: {', '.join(configured)}); journal text and clinical notes "
        "cannot be read until that key is added"
    ]


# -- counting --------------------------------------------------------------------------------------------


def _quote(connection, name: str) -> str:
    return connection.ops.quote_name(name)


def table_counts(using: str = "default") -> dict[str, int]:
    """Rows in every table of the database (the backup's own manifest table aside), by table name."""
    connection = connections[using]
    with connection.cursor() as cursor:
        names = sorted(set(connection.introspection.table_names(cursor)) - {MANIFEST_TABLE})
        counts = {}
        for name in names:
            cursor.execute(f"SELECT COUNT(*) FROM {_quote(connection, name)}")  # noqa: S608 (introspected names)
            counts[name] = cursor.fetchone()[0]
    return counts


def has_data(using: str = "default") -> bool:
    """Whether the database holds anything a restore would destroy (more than what `migrate` creates)."""
    connection = connections[using]
    with connection.cursor() as cursor:
        names = set(connection.introspection.table_names(cursor)) - BOOKKEEPING_TABLES
        for name in sorted(names):
            cursor.execute(f"SELECT 1 FROM {_quote(connection, name)} LIMIT 1")  # noqa: S608 (introspected names)
            if cursor.fetchone():
                return True
    return False


def unreadable_encrypted_columns(using: str = "default") -> list[str]:
    """The encrypted columns ("app.Model.field") whose newest stored value no configured key decrypts."""
    unreadable = []
    for model, name in crypto.encrypted_fields():
        token = models.ExpressionWrapper(models.F(name), output_field=models.TextField())
        rows = (
            model._base_manager.using(using)
            .filter(**{f"{name}__isnull": False})
            .exclude(models.lookups.Exact(token, ""))
        )
        stored = rows.order_by("-pk").values_list(token, flat=True).first()
        if stored is None:
            continue
        try:
            crypto.decrypt(stored)
        except crypto.DecryptionError:
            unreadable.append(f"{model._meta.label}.{name}")
    return unreadable


# -- backup ----------------------------------------------------------------------------------------------


def default_output(vendor: str, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    suffix = "sqlite3" if vendor == "sqlite" else "pgdump"
    return Path(settings.DATA_DIR) / "backups" / f"alongside-{stamp}.{suffix}"


def backup(
    output: Path | str | None = None,
    *,
    using: str = "default",
    progress: Progress | None = None,
    actor_label: str = "",
) -> BackupResult:
    """Back up the whole database to `output` (default: under the data dir's `backups/`), write its manifest
    and record the backup in the audit log. Raises BackupError with an operator's message."""
    connection = connections[using]
    vendor = connection.vendor
    path = Path(output) if output else default_output(vendor)
    if path.exists():
        raise BackupError(f"{path} already exists; choose another --output")
    # Backups hold health data: the directory and the files are the owner's only.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if vendor == "sqlite":
        result = _backup_sqlite(path, using, progress)
    elif vendor == "postgresql":
        result = _backup_postgres(path, using, progress)
    else:
        raise BackupError(f"backups of {vendor} databases are not supported")
    manifest = result.manifest
    record(
        AuditAction.EXPORT,
        actor_label=actor_label or _operator(),
        category=CATEGORY,
        detail=f"backup of the whole database ({manifest['total_rows']} rows in {len(manifest['tables'])} tables) "
        f"to {path.name}",
        using=using,
    )
    return result


def _operator() -> str:
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown user"
    return f"{who} (command line)"


def _private_file(path: Path) -> None:
    """Create `path` empty and readable by its owner only, before any data goes in (SQLite and pg_dump keep the
    mode of a file that exists)."""
    path.unlink(missing_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _sqlite_path(using: str) -> Path:
    name = str(connections[using].settings_dict["NAME"])
    if name == ":memory:" or name.startswith("file:") or "mode=memory" in name:
        raise BackupError("this SQLite database lives in memory; only a database file can be backed up")
    return Path(name)


def _backup_sqlite(path: Path, using: str, progress: Progress | None) -> BackupResult:
    source_path = _sqlite_path(using)
    if not source_path.is_file():
        raise BackupError(f"the database file {source_path} does not exist")
    partial = path.with_name(path.name + ".partial")
    _private_file(partial)
    try:
        with (
            contextlib.closing(sqlite3.connect(source_path, isolation_level=None, timeout=20)) as source,
            contextlib.closing(sqlite3.connect(partial)) as copy,
        ):
            # One read transaction for the whole copy: every step reads the same snapshot, so writers
            # (which WAL lets go on) neither restart the copy nor make it inconsistent.
            source.execute("BEGIN")
            source.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            source.backup(copy, pages=SQLITE_PAGES_PER_STEP, progress=_page_progress(progress))
            source.execute("COMMIT")
            # A single self-contained file, not one that expects a -wal file beside it.
            copy.execute("PRAGMA journal_mode=DELETE")
            counts = _sqlite_counts(copy)
            migrations = [
                list(row) for row in copy.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
            ]
            manifest = _manifest("sqlite", counts, migrations)
            copy.execute(f"CREATE TABLE {MANIFEST_TABLE} (manifest TEXT NOT NULL)")
            copy.execute(f"INSERT INTO {MANIFEST_TABLE} (manifest) VALUES (?)", [json.dumps(manifest)])  # noqa: S608
            copy.commit()
            check = copy.execute("PRAGMA integrity_check").fetchall()
            if check != [("ok",)]:
                problems = "; ".join(row[0] for row in check[:5])
                raise BackupError(f"the copy failed its integrity check ({problems}); nothing was kept")
        partial.replace(path)
    except sqlite3.Error as error:
        raise BackupError(f"the SQLite backup failed: {error}") from None
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(path=path, manifest=manifest)


def _sqlite_counts(database: sqlite3.Connection) -> dict[str, int]:
    names = [
        row[0]
        for row in database.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    return {name: database.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0] for name in names}  # noqa: S608


def _page_progress(progress: Progress | None):
    if progress is None:
        return None

    def report(status, remaining, total):
        progress(total - remaining, total)

    return report


# -- PostgreSQL programs ---------------------------------------------------------------------------------


@dataclass
class PostgresProgram:
    path: str
    major: int


def find_postgres_program(name: str, *, at_least: int = 0) -> PostgresProgram:
    """The newest `name` (pg_dump, pg_restore) on PATH or in /usr/lib/postgresql/*/bin; BackupError naming what
    to install when there is none, or none of major version `at_least` or newer."""
    candidates = []
    on_path = shutil.which(name)
    if on_path:
        candidates.append(on_path)
    candidates += sorted(glob.glob(os.path.join(POSTGRES_BIN_GLOB, name)))
    found = []
    for candidate in candidates:
        major = _program_major(candidate)
        if major is not None:
            found.append(PostgresProgram(candidate, major))
    if not found:
        raise BackupError(
            f"{name} was not found (on PATH or in {POSTGRES_BIN_GLOB}); install the PostgreSQL client programs "
            "(Debian and Ubuntu: apt-get install postgresql-client)"
        )
    best = max(found, key=lambda program: program.major)
    if best.major < at_least:
        raise BackupError(
            f"{name} {best.major} ({best.path}) cannot work with PostgreSQL {at_least}: install the client programs "
            f"of version {at_least} or newer (Debian and Ubuntu: apt-get install postgresql-client-{at_least})"
        )
    return best


def _program_major(path: str) -> int | None:
    try:
        answer = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30, check=False)  # noqa: S603
    except OSError:
        return None
    match = re.search(r"\s(\d+)(?:\.\d+)?", answer.stdout)
    return int(match.group(1)) if answer.returncode == 0 and match else None


def _server_major(using: str) -> int:
    return connections[using].pg_version // 10000


# libpq reads these from the environment, so nothing secret appears in the process list.
_LIBPQ_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "options": "PGOPTIONS",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
}


def postgres_environment(using: str = "default") -> dict[str, str]:
    """The environment for pg_dump and pg_restore: the connection settings of DATABASES[using] as libpq's PG*
    variables (the password as PGPASSWORD)."""
    settings_dict = connections[using].settings_dict
    # PG* variables already set still apply (as they do to the server's own connection); settings win.
    environment = dict(os.environ)
    for key, variable in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if settings_dict.get(key):
            environment[variable] = str(settings_dict[key])
    for option, variable in _LIBPQ_OPTIONS.items():
        value = (settings_dict.get("OPTIONS") or {}).get(option)
        if value:
            environment[variable] = str(value)
    environment["PGDATABASE"] = str(settings_dict["NAME"])
    environment["PGAPPNAME"] = "alongside backup"
    return environment


def _run(command: list[str], environment: dict[str, str], path: Path | None, progress: Progress | None) -> None:
    """Run a PostgreSQL program; while it runs, report the size of `path` as it grows."""
    process = subprocess.Popen(  # noqa: S603 (a PostgreSQL program we found, with arguments we built)
        command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    errors: list[str] = []
    reader = threading.Thread(target=lambda: errors.extend(process.stderr), daemon=True)
    reader.start()
    while True:
        try:
            process.wait(timeout=0.5)
            break
        except subprocess.TimeoutExpired:
            if progress and path is not None and path.exists():
                progress(path.stat().st_size, 0)
    reader.join()
    if process.returncode != 0:
        message = " ".join(line.strip() for line in errors if line.strip())[:1500]
        raise BackupError(f"{Path(command[0]).name} failed: {message or f'exit status {process.returncode}'}")


def _backup_postgres(path: Path, using: str, progress: Progress | None) -> BackupResult:
    connection = connections[using]
    pg_dump = find_postgres_program("pg_dump", at_least=_server_major(using))
    partial = path.with_name(path.name + ".partial")
    _private_file(partial)
    try:
        with transaction.atomic(using=using):
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot = cursor.fetchone()[0]
            # Counted in the snapshot pg_dump dumps, so the manifest describes exactly the rows in the file.
            counts = table_counts(using)
            migrations = _applied_migrations(using)
            command = [pg_dump.path, "--format=custom", f"--snapshot={snapshot}", f"--file={partial}", "--no-password"]
            _run(command, postgres_environment(using), partial, progress)
        manifest = _manifest(
            "postgresql",
            counts,
            migrations,
            sha256=_sha256(partial),
            pg_dump_version=pg_dump.major,
            server_version=_server_major(using),
        )
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    sidecar = manifest_path_for(path)
    _private_file(sidecar)
    sidecar.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return BackupResult(path=path, manifest=manifest, manifest_path=sidecar)


# -- restore ---------------------------------------------------------------------------------------------


def check_restorable(path: Path | str, *, using: str = "default") -> dict:
    """Everything that can be checked before changing anything: the file is a sound backup for this database's
    vendor, made by this version of Alongside or an older one. Returns its manifest."""
    path = Path(path)
    manifest = read_manifest(path)
    vendor = connections[using].vendor
    if manifest.get("vendor") != vendor:
        raise NotABackup(
            f"{path} is a {manifest.get('vendor')} backup, and this Alongside uses {vendor}: restore it into a "
            f"{manifest.get('vendor')} database (or move data between vendors with dumpdata and loaddata)"
        )
    known = MigrationLoader(None, ignore_no_migrations=True).disk_migrations
    newer = [f"{app}.{name}" for app, name in manifest.get("migrations", []) if (app, name) not in known]
    # Migrations of apps this version no longer has are no reason to refuse.
    installed = {config.label for config in apps.get_app_configs()}
    newer = [label for label in newer if label.split(".", 1)[0] in installed]
    if newer:
        raise NotABackup(
            f"{path} was made by a newer Alongside ({manifest.get('alongside_version')}; migrations this version "
            f"does not have: {', '.join(newer[:5])}); upgrade Alongside first, then restore"
        )
    if vendor == "postgresql":
        pg_restore = find_postgres_program("pg_restore", at_least=int(manifest.get("pg_dump_version") or 0))
        try:
            _run([pg_restore.path, "--list", str(path)], postgres_environment(using), None, None)
        except BackupError as error:
            raise NotABackup(f"{path} cannot be read as a PostgreSQL dump: {error}") from None
    return manifest


def restore(
    path: Path | str,
    *,
    using: str = "default",
    replace_existing: bool = False,
    progress: Progress | None = None,
    actor_label: str = "",
    migrate_output=None,
) -> RestoreResult:
    """Replace the database's contents with the backup at `path`, bring it up to date with `migrate`, and
    record the restore in the audit log. Raises NotABackup (nothing changed) for a file that is not a sound
    backup, and TargetHasData (nothing changed) when the database has data and `replace_existing` is false.

    Stop the web processes and the worker first: a restore replaces everything under them."""
    path = Path(path)
    manifest = check_restorable(path, using=using)
    if not replace_existing and has_data(using):
        raise TargetHasData(
            "the database already has data; restoring replaces all of it with the backup's. Run again with --yes "
            "to confirm (and back the current data up first)"
        )
    warnings = key_warnings(manifest)
    vendor = connections[using].vendor
    if vendor == "sqlite":
        _restore_sqlite(path, using, progress)
    else:
        _restore_postgres(path, using, progress)
    restored = table_counts(using)
    mismatches = {
        table: (expected, restored.get(table, 0))
        for table, expected in manifest["tables"].items()
        if restored.get(table, 0) != expected
    }
    call_command("migrate", database=using, interactive=False, verbosity=0, stdout=migrate_output)
    unreadable = unreadable_encrypted_columns(using)
    if unreadable:
        warnings.append(
            "no configured key decrypts the stored values of " + ", ".join(unreadable) + "; add the key the backup "
            "was encrypted with to ALONGSIDE_ENCRYPTION_KEYS"
        )
    counts = table_counts(using)
    record(
        AuditAction.CHANGE,
        actor_label=actor_label or _operator(),
        category=CATEGORY,
        detail=f"restore of the whole database from {path.name} (made {manifest.get('created_at')}): "
        f"{sum(counts.values())} rows in {len(counts)} tables",
        using=using,
    )
    return RestoreResult(manifest=manifest, counts=counts, mismatches=mismatches, warnings=warnings)


def _restore_sqlite(path: Path, using: str, progress: Progress | None) -> None:
    target_path = _sqlite_path(using)
    connections[using].close()
    try:
        with (
            contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as source,
            contextlib.closing(sqlite3.connect(target_path, timeout=20)) as target,
        ):
            source.backup(target, pages=SQLITE_PAGES_PER_STEP, progress=_page_progress(progress))
            target.execute(f"DROP TABLE IF EXISTS {MANIFEST_TABLE}")
            target.execute("PRAGMA journal_mode=WAL")
            target.commit()
    except sqlite3.Error as error:
        raise BackupError(f"the SQLite restore failed: {error}") from None


def _dump_tables(path: Path, using: str) -> set[str]:
    pg_restore = find_postgres_program("pg_restore")
    answer = subprocess.run(  # noqa: S603
        [pg_restore.path, "--list", str(path)],
        env=postgres_environment(using),
        capture_output=True,
        text=True,
        check=True,
    )
    # TOC lines look like: "215; 1259 16386 TABLE public accounts_user alongside".
    return {match.group(1) for match in re.finditer(r"^\d+; \d+ \d+ TABLE \S+ (\S+) ", answer.stdout, re.MULTILINE)}


def _restore_postgres(path: Path, using: str, progress: Progress | None) -> None:
    connection = connections[using]
    pg_restore = find_postgres_program("pg_restore")
    in_dump = _dump_tables(path, using)
    with connection.cursor() as cursor:
        present = set(connection.introspection.table_names(cursor))
        # Tables the backup does not have (from migrations newer than the backup) would keep their rows and
        # block `--clean` through their foreign keys; `migrate` creates them again, empty.
        for name in sorted(present - in_dump):
            cursor.execute(f"DROP TABLE IF EXISTS {_quote(connection, name)} CASCADE")
    connection.close()
    command = [
        pg_restore.path,
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        "--exit-on-error",
        "--no-password",
        f"--dbname={connection.settings_dict['NAME']}",
        str(path),
    ]
    _run(command, postgres_environment(using), None, progress)


def iter_nonzero(counts: dict[str, int]) -> Iterator[tuple[str, int]]:
    return ((table, number) for table, number in sorted(counts.items()) if number)
