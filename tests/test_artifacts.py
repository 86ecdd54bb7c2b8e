"""The artifact loader: known contracts load, unknown names fail clearly."""

from __future__ import annotations

import pytest

from registry.artifacts import known_contracts, load_artifact
from registry.errors import ArtifactError


def test_known_contract_loads_with_prague_settings() -> None:
    artifact = load_artifact("PlainERC20")
    assert artifact.bytecode.startswith("0x60")
    assert artifact.settings["evmVersion"] == "prague"
    assert artifact.settings["optimizer"]["enabled"] is True
    assert any(item.get("name") == "transfer" for item in artifact.abi)


def test_unknown_contract_lists_known_ones() -> None:
    with pytest.raises(ArtifactError) as excinfo:
        load_artifact("NoSuchToken")
    message = str(excinfo.value)
    assert "NoSuchToken" in message
    for name in known_contracts():
        assert name in message


def test_plain_token_deploys_and_transfers(w3, deploy, chain_accounts) -> None:
    token = deploy("PlainERC20", 1_000)
    alice, bob = chain_accounts[0].address, chain_accounts[1].address
    token.functions.transfer(bob, 250).transact({"from": alice})
    assert token.functions.balanceOf(bob).call() == 250
    assert token.functions.balanceOf(alice).call() == 750
