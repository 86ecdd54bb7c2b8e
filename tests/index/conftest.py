"""Fixtures of the index tests: an index database on SQLite or PostgreSQL, chains to index, tokens.

PostgreSQL: the session creates its own database (``registry_test_<pid>``) on the server of
``REGISTRY_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``) and drops it
at the end; each test gets its own schema in it. When the server cannot be reached the PostgreSQL
variants are skipped, saying why, unless ``REGISTRY_TEST_REQUIRE_POSTGRES=1`` (CI), where they fail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract
from web3.middleware import SignAndSendRawMiddlewareBuilder
from web3.types import Wei

from registry.artifacts import load_artifact
from registry.chain.backend import ChainHandle, connect
from registry.chain.consensus.kyc import IDENTITY_REGISTRY_ADDRESS
from registry.chain.rpc.provider import EmbeddedProvider, adapt_to_long_extra_data
from registry.deploy import deploy_with_receipt
from registry.index import Database, Indexer, catalogue
from registry.index.catalogue import AssetRecord
from registry.settings import Settings
from tests.conftest import postgres_schema_url

GAS = 600_000
FAR_FUTURE = 2**40 - 1


@pytest.fixture
def postgres_url(postgres_database: str) -> Iterator[str]:
    """A fresh schema of the session's PostgreSQL database, as the search path of the URL."""
    with postgres_schema_url(postgres_database) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty index database: a SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'index.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """The index database, migrated to head, on each backend."""
    database = Database.open(db_url)
    yield database
    database.close()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    """The index database on SQLite only (for tests of logic that does not depend on the database)."""
    database = Database.open(f"sqlite:///{tmp_path / 'index.sqlite3'}")
    yield database
    database.close()


@pytest.fixture
def fresh_db(tmp_path: Path) -> Iterator[Callable[[], Database]]:
    """``fresh_db()``: another empty SQLite index (for re-indexing the same chain from scratch)."""
    opened: list[Database] = []

    def _make() -> Database:
        database = Database.open(f"sqlite:///{tmp_path / f'fresh-{len(opened)}.sqlite3'}")
        opened.append(database)
        return database

    yield _make
    for database in opened:
        database.close()


# ---------------------------------------------------------------------------------------------- chains


@dataclass
class Chain:
    """An embedded chain to index, with a `Web3` that signs for its development accounts."""

    handle: ChainHandle
    w3: Web3
    accounts: list[LocalAccount]
    operator: LocalAccount | None = None
    contracts: dict[str, Contract] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.handle.name

    def send(self, call: Any, sender: LocalAccount | str, *, gas: int = GAS) -> Any:
        """Send ``call`` from ``sender`` with a fixed gas (no estimate: a revert lands with status 0)."""
        address = sender if isinstance(sender, str) else sender.address
        tx_hash = call.transact({"from": address, "gas": gas})
        return self.w3.eth.wait_for_transaction_receipt(tx_hash)

    def deploy(self, name: str, *args: Any, sender: LocalAccount | None = None) -> tuple[Contract, int]:
        contract, receipt = deploy_with_receipt(
            self.w3, name, *args, sender=(sender or self.accounts[0]).address
        )
        return contract, int(receipt["blockNumber"])

    def indexer(self, db: Database, **options: Any) -> Indexer:
        return Indexer.for_handle(db, self.handle, **options)


def open_chain(name: str, settings: Settings) -> Chain:
    handle = connect(name, settings, in_memory=True, embedded=True, sealing="instant")
    assert handle.embedded is not None
    accounts = [dev.account for dev in handle.embedded.dev_accounts]
    operator = None
    signers = list(accounts)
    if name == "permissioned":
        operator = handle.embedded.mode.keyring.operator  # type: ignore[attr-defined]
        signers.append(operator)
    w3 = adapt_to_long_extra_data(Web3(EmbeddedProvider(handle.embedded)))
    w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(signers), layer=0)
    return Chain(handle=handle, w3=w3, accounts=accounts, operator=operator)


@pytest.fixture
def chain_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", dev_accounts=8, receipt_wait_seconds=0.2)


@pytest.fixture
def permissionless(chain_settings: Settings) -> Iterator[Chain]:
    """A fresh in-memory permissionless chain, one block per transaction."""
    made = open_chain("permissionless", chain_settings)
    yield made
    made.handle.close()


@pytest.fixture
def permissioned(chain_settings: Settings) -> Iterator[Chain]:
    """A fresh in-memory permissioned chain (development accounts KYC'd at genesis), one block per
    transaction."""
    made = open_chain("permissioned", chain_settings)
    yield made
    made.handle.close()


# ---------------------------------------------------------------------------------------------- assets


def catalogue_asset(
    db: Database, chain: Chain, contract: Contract, block: int, kind: str, **fields: Any
) -> AssetRecord:
    """Catalogue ``contract`` (deployed at ``block``) as a ``kind`` asset of ``chain``."""
    kyc = fields.pop("identity_registry", None)
    with db.write() as session:
        return catalogue.add_asset(
            session,
            chain=chain.name,
            chain_id=chain.handle.chain_id,
            address=contract.address,
            kind=kind,  # type: ignore[arg-type]
            mode="kyc" if kyc else "open",
            name=fields.get("name", f"{kind} token"),
            symbol=fields.get("symbol", kind.upper()[:4]),
            decimals=fields.get("decimals", 0),
            terms=fields.get("terms", {}),
            deployed_block=block,
            identity_registry=kyc,
        )


def deploy_cash(chain: Chain) -> tuple[Contract, int]:
    return chain.deploy("CashToken", "Test Cash", "CASH", chain.accounts[0].address)


def constructor_args(contract: str, values: dict[str, Any]) -> list[Any]:
    """The constructor arguments of ``contract`` from ``values`` by name (a trailing ``_`` ignored), in the
    order of its artifact; an argument ``values`` does not name (one a later contract version added, such
    as a claim period) gets its zero value, so that these tests deploy every version of the contracts."""

    def build(inputs: list[dict[str, Any]], given: dict[str, Any]) -> list[Any]:
        built: list[Any] = []
        for item in inputs:
            name = str(item["name"]).rstrip("_")
            if item["type"] == "tuple":
                built.append(tuple(build(item["components"], given.get(name, {}))))
            else:
                built.append(given.get(name, _zero(str(item["type"]))))
        return built

    (constructor,) = [item for item in load_artifact(contract).abi if item["type"] == "constructor"]
    return build(constructor["inputs"], values)


def _zero(abi_type: str) -> Any:
    if abi_type == "bool":
        return False
    if abi_type == "string":
        return ""
    if abi_type == "address":
        return "0x" + "00" * 20
    return 0


def deploy_stock(chain: Chain, cash: Contract, *, kyc: bool, claim_period: int = 0) -> tuple[Contract, int]:
    """A StockToken paying in ``cash`` (the admin is account 0); ``claim_period`` in seconds (0: forever)."""
    registry = IDENTITY_REGISTRY_ADDRESS if kyc else "0x" + "00" * 20
    values = {
        "name": "Test Shares",
        "symbol": "SHR",
        "currency": cash.address,
        "admin": chain.accounts[0].address,
        "identityRegistry": Web3.to_checksum_address(registry),
        "kyc": kyc,
        "claimPeriod": claim_period,
    }
    return chain.deploy("StockToken", *constructor_args("StockToken", values))


def deploy_bond(chain: Chain, terms: dict[str, Any]) -> tuple[Contract, int]:
    """An open-mode BondToken with ``terms`` (ERC-7092 fields by name; the admin is account 0)."""
    values = {"terms": terms, "admin": chain.accounts[0].address, "kyc": False}
    return chain.deploy("BondToken", *constructor_args("BondToken", values))


def second_wallet(chain: Chain, holder: str, label: str) -> LocalAccount:
    """A new wallet of ``holder``'s investor in the permissioned chain's registry, funded with gas and
    signed for by ``chain.w3``."""
    assert chain.operator is not None
    wallet: LocalAccount = Account.from_key(keccak(text=f"index test wallet {label}"))
    registry = chain.w3.eth.contract(address=genesis_registry(), abi=load_artifact("IdentityRegistry").abi)
    investor = registry.functions.investorOf(holder).call()
    assert chain.send(registry.functions.addWallet(investor, wallet.address), chain.operator)["status"] == 1
    funding = {"from": chain.accounts[0].address, "to": wallet.address, "value": Wei(10**18)}
    chain.w3.eth.wait_for_transaction_receipt(chain.w3.eth.send_transaction(funding))  # type: ignore[arg-type]
    chain.w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build([wallet]), layer=0)
    return wallet


def genesis_registry() -> ChecksumAddress:
    """The permissioned chain's identity registry, created in genesis."""
    return Web3.to_checksum_address(IDENTITY_REGISTRY_ADDRESS)
