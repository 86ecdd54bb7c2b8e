"""Settings from REGISTRY_* variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry.errors import ConfigurationError
from registry.settings import Settings, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in (
        "REGISTRY_DATA_DIR",
        "REGISTRY_PERMISSIONED_RPC_URL",
        "REGISTRY_PERMISSIONLESS_RPC_URL",
        "REGISTRY_PERMISSIONED_CHAIN_ID",
        "REGISTRY_PERMISSIONLESS_CHAIN_ID",
    ):
        monkeypatch.delenv(name, raising=False)


def test_defaults():
    settings = load_settings()
    assert settings.data_dir == Path(".registry")
    assert settings.chain_dir("permissioned") == Path(".registry/chains/permissioned")
    assert settings.rpc_url("permissionless") is None
    assert settings.chain_id("permissioned") != settings.chain_id("permissionless")


def test_environment_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("REGISTRY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("REGISTRY_PERMISSIONLESS_RPC_URL", "http://127.0.0.1:8545")
    monkeypatch.setenv("REGISTRY_PERMISSIONED_RPC_URL", "")
    monkeypatch.setenv("REGISTRY_PERMISSIONED_CHAIN_ID", "999")
    settings = Settings()
    assert settings.data_dir == tmp_path
    assert settings.rpc_url("permissionless") == "http://127.0.0.1:8545"
    assert settings.rpc_url("permissioned") is None  # empty counts as unset
    assert settings.chain_id("permissioned") == 999


def test_explicit_overrides_win_over_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("REGISTRY_DATA_DIR", "/elsewhere")
    assert load_settings(data_dir=tmp_path).data_dir == tmp_path


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("REGISTRY_PERMISSIONLESS_RPC_URL", "localhost:8545", "http"),
        ("REGISTRY_PERMISSIONED_CHAIN_ID", "771002", "different chain ids"),
        ("REGISTRY_PERMISSIONED_CHAIN_ID", "zero", "PERMISSIONED_CHAIN_ID"),
    ],
)
def test_invalid_values_are_configuration_errors_naming_the_variable(monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=message):
        load_settings()
