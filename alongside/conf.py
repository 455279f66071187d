"""Typed readers for ALONGSIDE_* environment variables.

Settings are read once at start-up. Anything wrong raises ConfigError with a one-line message that names
the setting, so that `alongside` can print it instead of a traceback.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

import dj_database_url

PREFIX = "ALONGSIDE_"
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}
SUPPORTED_DATABASE_SCHEMES = ("sqlite", "postgres", "postgresql")


class ConfigError(Exception):
    """A setting is missing or wrong. The message is one line and names the setting."""


def _raw(name: str) -> str | None:
    return os.environ.get(PREFIX + name)


def env_str(name: str, default: str = "") -> str:
    value = _raw(name)
    return default if value is None else value.strip()


def env_bool(name: str, default: bool = False) -> bool:
    value = _raw(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(f"{PREFIX}{name}={value!r} is not a yes/no value (use 1/0, true/false, yes/no, on/off)")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if value is None or not value.strip():
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise ConfigError(f"{PREFIX}{name}={value!r} is not a whole number") from None
    if minimum is not None and number < minimum:
        raise ConfigError(f"{PREFIX}{name}={number} is below the minimum of {minimum}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return list(default)
    return [part.strip() for part in value.split(",") if part.strip()]


def env_secret(name: str) -> str | None:
    """A secret from ALONGSIDE_<NAME>, or from the file named by ALONGSIDE_<NAME>_FILE (container secrets)."""
    direct = _raw(name)
    file_name = _raw(name + "_FILE")
    if direct and file_name:
        raise ConfigError(f"set either {PREFIX}{name} or {PREFIX}{name}_FILE, not both")
    if file_name:
        try:
            text = Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{PREFIX}{name}_FILE={file_name!r} cannot be read: {exc.strerror}") from None
        if not text:
            raise ConfigError(f"{PREFIX}{name}_FILE={file_name!r} is empty")
        return text
    return direct.strip() if direct else None


def data_dir() -> Path:
    """The directory for the SQLite database, generated keys and uploads; created if missing."""
    path = Path(env_str("DATA_DIR", "var")).expanduser().resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{PREFIX}DATA_DIR={str(path)!r} cannot be created: {exc.strerror}") from None
    # A real write, not os.access: root passes access checks even on a read-only file system.
    try:
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise ConfigError(f"{PREFIX}DATA_DIR={str(path)!r} is not writable: {exc.strerror}") from None
    return path


# Runs of a statement on one connection after which PostgreSQL keeps it prepared (psycopg's own default).
PREPARE_AFTER = 5


def database_settings(directory: Path) -> dict:
    """Django DATABASES['default'] from ALONGSIDE_DATABASE_URL; SQLite in WAL mode under the data dir by default."""
    url = env_str("DATABASE_URL")
    if not url:
        return sqlite_settings(directory / "alongside.sqlite3")
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme not in SUPPORTED_DATABASE_SCHEMES:
        shown = scheme or url
        raise ConfigError(
            f"{PREFIX}DATABASE_URL has unsupported scheme {shown!r}: use postgres://user:password@host:port/name "
            "or leave it unset for SQLite"
        )
    try:
        parsed = dj_database_url.parse(url)
    except ValueError as exc:
        raise ConfigError(f"{PREFIX}DATABASE_URL cannot be parsed: {exc}") from None
    if scheme == "sqlite":
        name = parsed.get("NAME") or ""
        if not name or name == ":memory:":
            raise ConfigError(f"{PREFIX}DATABASE_URL sqlite:// needs a file path, e.g. sqlite:////srv/alongside.db")
        return sqlite_settings(Path(name))
    if not parsed.get("NAME"):
        raise ConfigError(f"{PREFIX}DATABASE_URL names no database (postgres://user:password@host:port/NAME)")
    # Django's backend, checking a kept connection without a round trip (core/postgresql/base.py).
    parsed["ENGINE"] = "alongside.core.postgresql"
    parsed["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
    parsed["CONN_HEALTH_CHECKS"] = True
    parsed.setdefault("OPTIONS", {})
    if env_bool("DATABASE_PREPARED_STATEMENTS", True):
        # Statements go to the server apart from their values, and a connection prepares a statement it has run
        # PREPARE_AFTER times: the server then skips parsing and planning it. Every API request runs the same
        # few statements, and that halved the server's processor time per check-in (docs/performance.md).
        # Off for a pooler that hands one connection to many clients without tracking prepared statements.
        parsed["OPTIONS"].update(server_side_binding=True, prepare_threshold=PREPARE_AFTER)
    return parsed


def sqlite_settings(path: Path) -> dict:
    return {
        "ENGINE": "alongside.core.sqlite",
        "NAME": str(path),
        # Opening a SQLite file and setting its pragmas costs more than most requests' queries: keep it open.
        "CONN_MAX_AGE": env_int("DATABASE_CONN_MAX_AGE", 600, minimum=0),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            # WAL lets the web processes read while the worker writes; IMMEDIATE takes the write lock at the
            # start of a transaction so that two writers wait for it (core/sqlite/base.py) instead of failing
            # mid-way.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
    }


def secret_key(directory: Path, *, generate: bool) -> str:
    """ALONGSIDE_SECRET_KEY(_FILE); in demo and development mode, a key generated once and kept in the data dir."""
    key = env_secret("SECRET_KEY")
    if key:
        if len(key) < 32:
            raise ConfigError(f"{PREFIX}SECRET_KEY is too short: use at least 32 random characters")
        return key
    if not generate:
        raise ConfigError(
            f"{PREFIX}SECRET_KEY (or {PREFIX}SECRET_KEY_FILE) is required in production mode; "
            f"generate one with: python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    key_file = directory / "secret_key"
    if key_file.exists():
        return key_file.read_text(encoding="utf-8").strip()
    key = secrets.token_urlsafe(50)
    # Written with owner-only permissions: the key signs sessions and password-reset links. O_EXCL makes the
    # first of several starting processes win; the others read its key.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    return key


def encryption_keys(directory: Path, *, generate: bool) -> list[str]:
    """Fernet keys for data encrypted at rest, newest first: ALONGSIDE_ENCRYPTION_KEYS(_FILE), comma-separated.

    The first key encrypts; every key decrypts, so a new key can be put in front of the old ones and
    `alongside rotate_encryption_key` re-encrypts the stored data before the old key is removed. Demo and
    development generate one key, kept in the data dir.
    """
    from cryptography.fernet import Fernet

    raw = env_secret("ENCRYPTION_KEYS")
    if not raw:
        if not generate:
            raise ConfigError(
                f"{PREFIX}ENCRYPTION_KEYS (or {PREFIX}ENCRYPTION_KEYS_FILE) is required in production mode; "
                "generate one with: python3 -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'"
            )
        key_file = directory / "encryption_keys"
        if not key_file.exists():
            try:
                fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(Fernet.generate_key().decode() + "\n")
            except FileExistsError:
                pass
        raw = key_file.read_text(encoding="utf-8")
    keys = [part.strip() for part in raw.replace("\n", ",").split(",") if part.strip()]
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise ConfigError(
                f"{PREFIX}ENCRYPTION_KEYS key {position} is not a Fernet key (32 url-safe base64-encoded bytes)"
            ) from None
    return keys


METRICS_TOKEN_MIN_LENGTH = 24


def metrics_token() -> str:
    """ALONGSIDE_METRICS_TOKEN(_FILE): the Bearer token that lets a scraper on another machine read /metrics;
    empty (only this machine may) when unset."""
    token = env_secret("METRICS_TOKEN") or ""
    if token and len(token) < METRICS_TOKEN_MIN_LENGTH:
        raise ConfigError(
            f"{PREFIX}METRICS_TOKEN is too short: use at least {METRICS_TOKEN_MIN_LENGTH} random characters"
        )
    return token
