"""Fixtures of the chain tests: embedded chains in temporary data directories (anvil: tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount

from registry.chain.consensus.mode import PermissionedMode
from registry.chain.node.chain import EmbeddedChain, Sealing
from registry.chain.node.modes import PermissionlessMode
from tests.conftest import AnvilNode, derived_keys, free_port

__all__ = ["AnvilNode", "derived_keys", "free_port"]  # the chain tests import them from here

ROOT = Path(__file__).resolve().parents[2]
PERMISSIONLESS_CHAIN_ID = 771_002


def _permissionless(tmp_path: Path, sealing: Sealing) -> Iterator[EmbeddedChain]:
    chain = EmbeddedChain.open(
        PermissionlessMode(),
        data_dir=tmp_path / "permissionless",
        chain_id=PERMISSIONLESS_CHAIN_ID,
        sealing=sealing,
    )
    yield chain
    chain.close()


@pytest.fixture
def permissionless_chain(tmp_path: Path) -> Iterator[EmbeddedChain]:
    """A fresh permissionless chain on disk, sealing in the background like a node."""
    yield from _permissionless(tmp_path, "background")


@pytest.fixture
def instant_chain(tmp_path: Path) -> Iterator[EmbeddedChain]:
    """A fresh permissionless chain on disk that seals each transaction as it is submitted."""
    yield from _permissionless(tmp_path, "instant")


@pytest.fixture
def manual_chain(tmp_path: Path) -> Iterator[EmbeddedChain]:
    """A fresh permissionless chain on disk that seals only when told to."""
    yield from _permissionless(tmp_path, "manual")


@pytest.fixture
def permissioned() -> Iterator[tuple[EmbeddedChain, PermissionedMode]]:
    """A fresh permissioned chain in memory (4 validators, sealing instantly) and its mode."""
    from .permissioned_support import open_permissioned

    chain, mode = open_permissioned()
    yield chain, mode
    chain.close()


GWEI = 10**9


def sign(
    account: LocalAccount,
    *,
    nonce: int,
    to: str | None = None,
    value: int = 0,
    data: bytes = b"",
    gas: int = 21_000,
    max_fee: int = 5 * GWEI,
    tip: int = GWEI,
    chain_id: int = PERMISSIONLESS_CHAIN_ID,
) -> bytes:
    """A signed EIP-1559 transaction (raw bytes)."""
    tx: dict[str, Any] = {
        "type": 2,
        "chainId": chain_id,
        "nonce": nonce,
        "value": value,
        "data": data,
        "gas": gas,
        "maxFeePerGas": max_fee,
        "maxPriorityFeePerGas": tip,
    }
    if to is not None:
        tx["to"] = to
    return bytes(account.sign_transaction(tx).raw_transaction)
