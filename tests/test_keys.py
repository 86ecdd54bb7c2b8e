"""Custodial keys made ready to send: funded by the faucet, KYC'd at the permissioned chain's level; on an
external node, told what is missing instead."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account

from registry.chain.accounts import ETHER
from registry.context import ServiceContext
from registry.errors import ConfigurationError, PassphraseMissingError
from registry.keys import GAS_FUNDING, KeyService
from registry.runtime import Registry
from tests.registry_fixtures import anvil_registry, new_label, registry, service_settings

__all__ = ["anvil_registry", "registry"]


def test_a_new_key_can_send_on_both_embedded_chains(registry: Registry) -> None:
    made = registry.keys.create(new_label("agent"))
    assert set(made.chains) == {"permissioned", "permissionless"}
    permissioned, permissionless = made.chains["permissioned"], made.chains["permissionless"]
    assert permissioned.registered and permissioned.chain_kyc is True and permissioned.ready
    assert permissionless.chain_kyc is None and permissionless.ready
    assert permissioned.funded == permissionless.funded == GAS_FUNDING
    assert made.address in registry.context.keystore  # type: ignore[operator]
    # It sends at once: a self-transfer of nothing on each chain.
    for chain in ("permissioned", "permissionless"):
        cash = registry.cash.issue(chain, {"name": "K", "symbol": "K"}, issuer=made.address)
        assert cash.outcome.sender == made.address
    # Provisioning again sends nothing: it has gas and is verified.
    again = registry.keys.provision(made.address, "permissioned")
    assert (again.funded, again.registered, again.ready) == (0, False, True)


def test_an_external_node_is_told_what_the_key_needs(anvil_registry: Registry) -> None:
    made = anvil_registry.keys.create(new_label("anvil agent"))
    provisioning = made.chains["permissionless"]
    assert provisioning.balance == 0 and provisioning.funded == 0 and not provisioning.ready
    assert "send it some for gas" in provisioning.notes[0]
    assert KeyService.faucet(anvil_registry.context.chain("permissionless")) is None


@pytest.fixture
def no_passphrase(tmp_path: Path) -> Iterator[Registry]:
    settings = service_settings(tmp_path).model_copy(update={"keystore_passphrase": None})
    opened = Registry.open(settings, chains=["permissionless"], in_memory=True, follow=False)
    yield opened
    opened.close()


def test_without_a_passphrase_no_key_is_created(no_passphrase: Registry) -> None:
    with pytest.raises(PassphraseMissingError, match="REGISTRY_KEYSTORE_PASSPHRASE"):
        no_passphrase.keys.create("issuer")
    # The embedded chain's own accounts still work (in memory, no keystore).
    faucet = KeyService.faucet(no_passphrase.context.chain("permissionless"))
    assert faucet is not None
    provisioning = no_passphrase.keys.provision(Account.create().address, "permissionless")
    assert provisioning.balance == GAS_FUNDING and provisioning.balance < 1_000 * ETHER
    without_keystore = ServiceContext(no_passphrase.db, {}, no_passphrase.context.journal, keystore=None)
    with pytest.raises(ConfigurationError, match="no keystore"):
        KeyService(without_keystore).create("x")
