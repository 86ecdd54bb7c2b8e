"""The registry-wide settings of custody: the keystore passphrase, its work factor, the receipt deadline."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from registry.errors import ConfigurationError
from registry.settings import DEFAULT_KDF_N, Settings, load_settings

SECRET = "s3cret passphrase 41"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "REGISTRY_DATA_DIR",
        "REGISTRY_KEYSTORE_PASSPHRASE",
        "REGISTRY_KEYSTORE_KDF_N",
        "REGISTRY_TRANSACTION_TIMEOUT_SECONDS",
        "REGISTRY_DATABASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)


def test_the_passphrase_is_read_as_a_secret_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_KEYSTORE_PASSPHRASE", SECRET)
    settings = load_settings()
    assert isinstance(settings.keystore_passphrase, SecretStr)
    assert settings.keystore_passphrase.get_secret_value() == SECRET
    for shown in (repr(settings), str(settings), settings.model_dump_json(), str(settings.model_dump())):
        assert SECRET not in shown


def test_defaults(tmp_path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert settings.keystore_passphrase is None
    assert settings.keystore_kdf_n == DEFAULT_KDF_N == 2**18
    assert settings.keystore_dir() == tmp_path / "keystore"
    assert settings.transaction_timeout_seconds == 120


def test_an_empty_passphrase_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_KEYSTORE_PASSPHRASE", "")
    assert Settings().keystore_passphrase is None


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("REGISTRY_KEYSTORE_KDF_N", "1000", "power of two"),
        ("REGISTRY_KEYSTORE_KDF_N", "1", "KEYSTORE_KDF_N"),
        ("REGISTRY_KEYSTORE_KDF_N", str(2**21), "KEYSTORE_KDF_N"),
        ("REGISTRY_TRANSACTION_TIMEOUT_SECONDS", "0", "TRANSACTION_TIMEOUT_SECONDS"),
    ],
)
def test_invalid_values_name_the_variable_and_never_show_the_passphrase(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv("REGISTRY_KEYSTORE_PASSPHRASE", SECRET)
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=message) as caught:
        load_settings()
    assert SECRET not in str(caught.value)


def test_the_index_database_defaults_to_sqlite_in_the_data_dir(tmp_path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert settings.database_url is None
    assert settings.index_database_url() == f"sqlite:///{(tmp_path / 'index.sqlite3').resolve()}"


def test_a_postgresql_url_gets_psycopg_and_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_DATABASE_URL", "postgresql://registry:pw-41x@db.internal:5432/index")
    settings = load_settings()
    assert settings.index_database_url() == "postgresql+psycopg://registry:pw-41x@db.internal:5432/index"
    assert "pw-41x" not in repr(settings)
    monkeypatch.setenv("REGISTRY_DATABASE_URL", "postgres://registry@db/index")
    assert load_settings().index_database_url() == "postgresql+psycopg://registry@db/index"


def test_another_database_is_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_DATABASE_URL", "mysql://root@localhost/index")
    with pytest.raises(ConfigurationError, match=r"REGISTRY_DATABASE_URL.*PostgreSQL.*'mysql'"):
        load_settings()
