"""Fixtures of the chain tests: embedded chains in temporary data directories, and anvil."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from web3 import Web3

from registry.chain.consensus.mode import PermissionedMode
from registry.chain.node.chain import EmbeddedChain, Sealing
from registry.chain.node.modes import PermissionlessMode

ROOT = Path(__file__).resolve().parents[2]
PERMISSIONLESS_CHAIN_ID = 771_002
ANVIL_CHAIN_ID = 31_337


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _load_installer():
    spec = importlib.util.spec_from_file_location("install_anvil", ROOT / "scripts" / "install_anvil.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def anvil_binary() -> Path:
    """The anvil binary, installed by scripts/install_anvil.py into .tools/ when missing."""
    installer = _load_installer()
    try:
        return Path(installer.ensure_anvil())
    except installer.AnvilUnavailableError as exc:
        pytest.skip(f"anvil cannot be had on this machine: {exc}")


@dataclass
class AnvilNode:
    """A running anvil process."""

    url: str
    process: subprocess.Popen[str]

    def w3(self) -> Web3:
        return Web3(Web3.HTTPProvider(self.url, request_kwargs={"timeout": 30}))


@pytest.fixture(scope="module")
def anvil_node(anvil_binary: Path) -> Iterator[AnvilNode]:
    """anvil on 127.0.0.1 on a free port, stopped after the module.

    Ready once it prints "Listening on": a thread reads its output (and keeps reading, so that
    its request log never fills the pipe), and the fixture waits for that line, not for a clock.
    """
    port = free_port()
    process = subprocess.Popen(
        [
            str(anvil_binary),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--chain-id",
            str(ANVIL_CHAIN_ID),
            "--hardfork",
            "prague",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    listening = threading.Event()
    recent: deque[str] = deque(maxlen=40)

    def read_output() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            recent.append(line)
            if line.startswith("Listening on"):
                listening.set()
        listening.set()  # anvil ended: stop waiting

    reader = threading.Thread(target=read_output, name="anvil-output", daemon=True)
    reader.start()
    node = AnvilNode(url=f"http://127.0.0.1:{port}", process=process)
    try:
        listening.wait(timeout=60)
        if process.poll() is not None or not listening.is_set():
            pytest.fail(f"anvil did not start on port {port}: {''.join(recent)[-1000:]}")
        assert node.w3().eth.chain_id == ANVIL_CHAIN_ID
        yield node
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def derived_keys(label: str, count: int) -> list[LocalAccount]:
    """``count`` deterministic keys for ``label`` (never funded anywhere real)."""
    return [Account.from_key(keccak(text=f"registry test key {label} {i}")) for i in range(count)]


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
