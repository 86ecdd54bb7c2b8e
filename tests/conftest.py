"""Shared fixtures: the project's embedded chain behind a `Web3`, funded local accounts, a deployer,
and anvil (installed into .tools/ on first use, started on a free port)."""

from __future__ import annotations

import importlib.util
import itertools
import os
import socket
import subprocess
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from hypothesis import settings
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import SQLAlchemyError
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
ROOT = Path(__file__).resolve().parents[1]
ANVIL_CHAIN_ID = 31_337


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


# ---------------------------------------------------------------------------------------------- PostgreSQL

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def _require_postgres() -> bool:
    return os.environ.get("REGISTRY_TEST_REQUIRE_POSTGRES", "") == "1"


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A database of its own on the PostgreSQL server, dropped at the end of the session."""
    server = make_url(os.environ.get("REGISTRY_TEST_POSTGRES_URL", DEFAULT_POSTGRES)).set(
        drivername="postgresql+psycopg"
    )
    name = f"registry_test_{os.getpid()}"
    try:
        admin = create_engine(server, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except SQLAlchemyError as exc:
        where = server.render_as_string(hide_password=True)
        reason = f"PostgreSQL at {where} is unreachable: {exc.__class__.__name__}"
        if _require_postgres():
            pytest.fail(f"{reason}, and REGISTRY_TEST_REQUIRE_POSTGRES=1 requires it")
        pytest.skip(f"{reason} (set REGISTRY_TEST_POSTGRES_URL, or REGISTRY_TEST_REQUIRE_POSTGRES=1 to fail)")
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


_schemas = itertools.count()


@contextmanager
def postgres_schema_url(database: str) -> Iterator[str]:
    """A fresh schema of the PostgreSQL ``database`` (dropped at the end), as the search path of its URL."""
    schema = f"t{os.getpid()}_{next(_schemas)}"
    engine = create_engine(database, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield (
            make_url(database)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
