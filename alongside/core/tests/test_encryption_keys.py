import pytest
from cryptography.fernet import Fernet

from alongside import conf


@pytest.fixture
def env(monkeypatch):
    for name in ("ENCRYPTION_KEYS", "ENCRYPTION_KEYS_FILE"):
        monkeypatch.delenv(conf.PREFIX + name, raising=False)

    def set_env(name, value):
        monkeypatch.setenv(conf.PREFIX + name, value)

    return set_env


def test_demo_key_is_generated_once_private_and_reused(env, tmp_path):
    keys = conf.encryption_keys(tmp_path, generate=True)
    assert len(keys) == 1
    Fernet(keys[0])  # a usable key
    key_file = tmp_path / "encryption_keys"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert conf.encryption_keys(tmp_path, generate=True) == keys
    assert key_file.read_text().strip() == keys[0]


def test_production_without_keys_is_an_error_naming_the_setting(env, tmp_path):
    with pytest.raises(conf.ConfigError, match=r"ALONGSIDE_ENCRYPTION_KEYS .* is required in production mode"):
        conf.encryption_keys(tmp_path, generate=False)
    assert not (tmp_path / "encryption_keys").exists()


def test_given_keys_keep_their_order_newest_first(env, tmp_path):
    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    env("ENCRYPTION_KEYS", f" {new} , {old},")
    assert conf.encryption_keys(tmp_path, generate=False) == [new, old]
    assert not (tmp_path / "encryption_keys").exists()


def test_keys_from_a_file_one_per_line(env, tmp_path):
    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    key_file = tmp_path / "keys"
    key_file.write_text(f"{new}\n{old}\n")
    env("ENCRYPTION_KEYS_FILE", str(key_file))
    assert conf.encryption_keys(tmp_path, generate=False) == [new, old]


def test_malformed_key_is_named_by_its_position(env, tmp_path):
    env("ENCRYPTION_KEYS", Fernet.generate_key().decode() + ",not-a-fernet-key")
    with pytest.raises(conf.ConfigError, match=r"ALONGSIDE_ENCRYPTION_KEYS key 2 is not a Fernet key"):
        conf.encryption_keys(tmp_path, generate=False)


def test_malformed_key_message_does_not_echo_the_secret(env, tmp_path):
    env("ENCRYPTION_KEYS", "almost-a-secret-value")
    with pytest.raises(conf.ConfigError) as raised:
        conf.encryption_keys(tmp_path, generate=True)
    assert "key 1" in str(raised.value)
    assert "almost-a-secret-value" not in str(raised.value)
