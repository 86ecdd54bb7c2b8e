"""Fixtures of the custody tests: settings with a test passphrase, and chains to send on.

``target`` runs a test on the embedded permissionless chain, the embedded permissioned chain
(through ``registry.chain.connect``, which installs the proof-of-authority middleware) and anvil.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from pydantic import SecretStr
from web3 import Web3
from web3.types import RPCEndpoint

from registry.artifacts import load_artifact
from registry.chain.backend import ChainHandle, connect
from registry.chain.node.chain import Sealing
from registry.custody import PreparedTransaction, Signers, TransactionSender
from registry.custody.keystore import Keystore
from registry.settings import Settings
from tests.conftest import AnvilNode, derived_keys

PASSPHRASE = "correct horse battery staple 7f3a"
"""The keystore passphrase of the tests; no log line or error text may ever contain it."""

TEST_KDF_N = 2
"""scrypt work factor of the test keystores (the real default takes about a second per key)."""

ETHER = 10**18


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings in a temporary data directory, with the test passphrase and a cheap work factor."""
    return Settings(
        data_dir=tmp_path / "data",
        keystore_passphrase=SecretStr(PASSPHRASE),
        keystore_kdf_n=TEST_KDF_N,
        receipt_wait_seconds=0.2,
        transaction_timeout_seconds=30,
    )


@pytest.fixture
def keystore(settings: Settings) -> Keystore:
    """The data directory's keystore, unlocked by the test passphrase."""
    return Keystore.from_settings(settings)


@dataclass
class Target:
    """A chain to send on: its handle, a custody sender, and funded accounts custody signs for."""

    name: str
    handle: ChainHandle
    sender: TransactionSender
    accounts: list[LocalAccount]

    @property
    def w3(self) -> Web3:
        return self.handle.w3

    def transfer(
        self, source: LocalAccount | str, to: str, value: int = 1, **fields: Any
    ) -> PreparedTransaction:
        """A plain value transfer."""
        sender = source if isinstance(source, str) else source.address
        return PreparedTransaction(
            chain=self.handle.name,
            sender=Web3.to_checksum_address(sender),
            to=Web3.to_checksum_address(to),
            data=b"",
            value=value,
            description=f"send {value} wei to {to}",
            **fields,
        )

    def deploy(self, name: str, *args: Any, source: LocalAccount | None = None) -> Any:
        """Deploy contract ``name`` through custody; returns the bound contract."""
        artifact = load_artifact(name)
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        deployer = (source or self.accounts[0]).address
        outcome = self.sender.send(
            PreparedTransaction(
                chain=self.handle.name,
                sender=deployer,
                to=None,
                data=factory.constructor(*args).data_in_transaction,
                description=f"deploy {name}",
            )
        )
        assert outcome.contract_address is not None
        return self.w3.eth.contract(address=outcome.contract_address, abi=artifact.abi)

    def call(
        self, contract: Any, function: str, *args: Any, source: LocalAccount, **fields: Any
    ) -> PreparedTransaction:
        """A contract call from ``source``."""
        return PreparedTransaction(
            chain=self.handle.name,
            sender=source.address,
            to=contract.address,
            data=contract.encode_abi(function, list(args)),
            description=f"{function} on {contract.address}",
            **fields,
        )

    def chain_nonce(self, address: str, block: str = "pending") -> int:
        return int(self.w3.eth.get_transaction_count(Web3.to_checksum_address(address), block))  # type: ignore[arg-type]


def embedded_target(name: str, settings: Settings, *, sealing: Sealing = "background") -> Target:
    """A target on a fresh in-memory embedded chain ``name``, sending from development accounts 1-3."""
    handle = connect(name, settings, in_memory=True, embedded=True, sealing=sealing)
    signers = Signers.for_chain(handle, Keystore.from_settings(settings))
    sender = TransactionSender.for_chain(handle, signers, timeout=settings.transaction_timeout_seconds)
    assert handle.embedded is not None
    accounts = [account.account for account in handle.embedded.dev_accounts[1:4]]
    return Target(name=name, handle=handle, sender=sender, accounts=accounts)


def anvil_target(node: AnvilNode, settings: Settings, label: str) -> Target:
    """A target on anvil, sending from three fresh keys funded with anvil_setBalance."""
    handle = connect("permissionless", settings, rpc_url=node.url)
    signers = Signers(Keystore.from_settings(settings), chain="permissionless")
    accounts = derived_keys(f"custody {label}", 3)
    for account in accounts:
        handle.w3.provider.make_request(
            RPCEndpoint("anvil_setBalance"), [account.address, hex(10**6 * ETHER)]
        )
        signers.add(account, "anvil test key")
    sender = TransactionSender.for_chain(handle, signers, timeout=settings.transaction_timeout_seconds)
    return Target(name="anvil", handle=handle, sender=sender, accounts=accounts)


@pytest.fixture(params=["permissionless", "permissioned", "anvil"])
def target(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Target]:
    """Each test runs on both embedded chains and on anvil."""
    if request.param == "anvil":
        node: AnvilNode = request.getfixturevalue("anvil_node")
        made = anvil_target(node, settings, request.node.name)
    else:
        made = embedded_target(request.param, settings)
    yield made
    made.sender.close()
    made.handle.close()


@pytest.fixture
def embedded(settings: Settings) -> Iterator[Callable[..., Target]]:
    """``embedded(name, sealing=...)``: a target on a fresh embedded chain, closed after the test."""
    made: list[Target] = []

    def _make(name: str = "permissionless", *, sealing: Sealing = "background") -> Target:
        target = embedded_target(name, settings, sealing=sealing)
        made.append(target)
        return target

    yield _make
    for target in made:
        target.sender.close()
        target.handle.close()
