"""Shared fixtures: the project's embedded chain behind a `Web3`, funded local accounts, a deployer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from hypothesis import settings
from web3 import Web3
from web3.contract import Contract
from web3.middleware import SignAndSendRawMiddlewareBuilder

from registry.chain.node.chain import EmbeddedChain
from registry.chain.node.modes import PermissionlessMode
from registry.chain.rpc.provider import EmbeddedProvider
from registry.deploy import deploy as deploy_contract

# No test may depend on how fast this shared machine runs: hypothesis' default deadline (200 ms per
# example) would fail a slow example on a loaded machine. Tests set their own example counts.
settings.register_profile("registry", deadline=None)
settings.load_profile("registry")

N_ACCOUNTS = 10
TEST_CHAIN_ID = 771_099


@pytest.fixture
def chain() -> Iterator[EmbeddedChain]:
    """A fresh embedded permissionless chain for each test, in memory, one block per transaction."""
    embedded = EmbeddedChain.open(
        PermissionlessMode(),
        data_dir=None,
        chain_id=TEST_CHAIN_ID,
        sealing="instant",
        dev_account_count=N_ACCOUNTS,
    )
    yield embedded
    embedded.close()


@pytest.fixture
def chain_accounts(chain: EmbeddedChain) -> list[LocalAccount]:
    """Ten local keys funded at genesis; index 0 is the deployer and admin."""
    return [account.account for account in chain.dev_accounts]


@pytest.fixture
def w3(chain: EmbeddedChain, chain_accounts: list[LocalAccount]) -> Web3:
    """The test chain behind the project's own web3 provider, signing locally for ``chain_accounts``."""
    web3 = Web3(EmbeddedProvider(chain))
    web3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(chain_accounts), layer=0)
    web3.eth.default_account = chain_accounts[0].address
    return web3


@pytest.fixture
def deploy(w3: Web3, chain_accounts: list[LocalAccount]) -> Callable[..., Contract]:
    """``deploy(name, *args, sender=...)``: deploy a compiled contract (sender defaults to account 0)."""

    def _deploy(name: str, *args: Any, sender: str | None = None) -> Contract:
        return deploy_contract(w3, name, *args, sender=sender or chain_accounts[0].address)

    return _deploy
