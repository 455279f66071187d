import pytest

from alongside import conf


@pytest.fixture
def env(monkeypatch):
    for name in ("DATABASE_URL", "SECRET_KEY", "SECRET_KEY_FILE", "FLAG", "COUNT", "DATA_DIR"):
        monkeypatch.delenv(conf.PREFIX + name, raising=False)

    def set_env(name, value):
        monkeypatch.setenv(conf.PREFIX + name, value)

    return set_env


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("yes", True), ("ON", True), ("0", False), ("off", False)])
def test_env_bool_reads_common_spellings(env, raw, expected):
    env("FLAG", raw)
    assert conf.env_bool("FLAG") is expected


def test_env_bool_rejects_anything_else_naming_the_setting(env):
    env("FLAG", "maybe")
    with pytest.raises(conf.ConfigError, match=r"ALONGSIDE_FLAG='maybe'"):
        conf.env_bool("FLAG")


def test_env_int_checks_number_and_minimum(env):
    assert conf.env_int("COUNT", 7) == 7
    env("COUNT", "twelve")
    with pytest.raises(conf.ConfigError, match=r"ALONGSIDE_COUNT='twelve' is not a whole number"):
        conf.env_int("COUNT", 7)
    env("COUNT", "0")
    with pytest.raises(conf.ConfigError, match="below the minimum of 1"):
        conf.env_int("COUNT", 7, minimum=1)


def test_secret_from_file_and_not_both(env, tmp_path):
    secret_file = tmp_path / "key"
    secret_file.write_text("s3cret-from-a-file\n")
    env("SECRET_KEY_FILE", str(secret_file))
    assert conf.env_secret("SECRET_KEY") == "s3cret-from-a-file"
    env("SECRET_KEY", "direct")
    with pytest.raises(conf.ConfigError, match="either ALONGSIDE_SECRET_KEY or ALONGSIDE_SECRET_KEY_FILE"):
        conf.env_secret("SECRET_KEY")


def test_unreadable_secret_file_is_named(env, tmp_path):
    env("SECRET_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(conf.ConfigError, match=r"ALONGSIDE_SECRET_KEY_FILE=.* cannot be read"):
        conf.env_secret("SECRET_KEY")


def test_production_without_a_secret_key_is_an_error(env, tmp_path):
    with pytest.raises(conf.ConfigError, match=r"ALONGSIDE_SECRET_KEY .* is required in production mode"):
        conf.secret_key(tmp_path, generate=False)


def test_demo_key_is_generated_once_and_kept_private(env, tmp_path):
    first = conf.secret_key(tmp_path, generate=True)
    assert len(first) >= 50
    assert conf.secret_key(tmp_path, generate=True) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_sqlite_by_default_in_wal_mode(env, tmp_path):
    database = conf.database_settings(tmp_path)
    assert database["ENGINE"] == "alongside.core.sqlite"
    assert database["NAME"] == str(tmp_path / "alongside.sqlite3")
    assert "journal_mode=WAL" in database["OPTIONS"]["init_command"]


def test_postgres_url(env, tmp_path):
    env("DATABASE_URL", "postgres://care:p%40ss@db.internal:5433/alongside")
    database = conf.database_settings(tmp_path)
    assert database["ENGINE"] == "alongside.core.postgresql"
    assert (database["HOST"], database["PORT"], database["NAME"]) == ("db.internal", 5433, "alongside")
    assert database["PASSWORD"] == "p@ss"
    # Statements are sent apart from their values and prepared once a connection has run them a few times.
    assert database["OPTIONS"] == {"server_side_binding": True, "prepare_threshold": conf.PREPARE_AFTER}


def test_prepared_statements_can_be_turned_off_for_a_pooler(env, tmp_path):
    env("DATABASE_URL", "postgres://care@db.internal/alongside")
    env("DATABASE_PREPARED_STATEMENTS", "0")
    assert conf.database_settings(tmp_path)["OPTIONS"] == {}


@pytest.mark.parametrize("url", ["mysql://u:p@h/db", "redis://localhost", "nonsense"])
def test_unknown_database_scheme_is_named(env, tmp_path, url):
    env("DATABASE_URL", url)
    with pytest.raises(conf.ConfigError, match=r"ALONGSIDE_DATABASE_URL has unsupported scheme"):
        conf.database_settings(tmp_path)


def test_data_dir_that_cannot_be_created_is_named(env, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env("DATA_DIR", str(blocker / "var"))
    with pytest.raises(conf.ConfigError, match=r"ALONGSIDE_DATA_DIR=.* cannot be created"):
        conf.data_dir()


def test_data_dir_that_cannot_be_written_is_named(env, tmp_path, monkeypatch):
    env("DATA_DIR", str(tmp_path))

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Read-only file system")

    monkeypatch.setattr(conf.tempfile, "TemporaryFile", refuse)
    with pytest.raises(conf.ConfigError, match=r"ALONGSIDE_DATA_DIR=.* is not writable: Read-only file system"):
        conf.data_dir()
