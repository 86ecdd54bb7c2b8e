"""Shared fixtures: an in-process chain behind a `Web3`, funded local accounts, a deployer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.middleware import SignAndSendRawMiddlewareBuilder

from registry.deploy import deploy as deploy_contract

N_ACCOUNTS = 10


@pytest.fixture
def chain_accounts() -> list[LocalAccount]:
    """Ten local keys, funded on the test chain; index 0 is the deployer and admin."""
    from eth_tester.backends.pyevm.main import get_default_account_keys

    return [Account.from_key(key.to_bytes()) for key in get_default_account_keys(N_ACCOUNTS)]


@pytest.fixture
def w3(chain_accounts: list[LocalAccount]) -> Web3:
    """A fresh in-process chain for each test, signing locally for ``chain_accounts``."""
    from eth_tester import EthereumTester, PyEVMBackend
    from web3.providers.eth_tester import EthereumTesterProvider

    backend = PyEVMBackend(PyEVMBackend.generate_genesis_params({"gas_limit": 60_000_000}))
    web3 = Web3(EthereumTesterProvider(EthereumTester(backend)))
    web3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(chain_accounts), layer=0)
    web3.eth.default_account = chain_accounts[0].address
    return web3


@pytest.fixture
def deploy(w3: Web3, chain_accounts: list[LocalAccount]) -> Callable[..., Contract]:
    """``deploy(name, *args, sender=...)``: deploy a compiled contract (sender defaults to account 0)."""

    def _deploy(name: str, *args: Any, sender: str | None = None) -> Contract:
        return deploy_contract(w3, name, *args, sender=sender or chain_accounts[0].address)

    return _deploy
