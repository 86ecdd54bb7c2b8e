"""Fixtures of the service tests: a `Registry` on fresh in-memory chains, and a world on one chain (an
issuer key, a cash token, bonds in both modes, verified investors).

Test modules import the fixtures they use from here in their package's ``conftest.py``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from pydantic import SecretStr
from web3.types import RPCEndpoint

from registry.chain.accounts import ETHER
from registry.index.catalogue import AssetRecord
from registry.runtime import Registry
from registry.settings import Settings
from tests.conftest import AnvilNode, derived_keys

PASSPHRASE = "service tests passphrase 51c2"
"""The keystore passphrase of the tests; no error text may ever contain it."""

USD = 10**6
DENOMINATION = 1_000 * USD
YEAR = 365 * 86_400

_labels = itertools.count()


def service_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings in ``data_dir`` with the test passphrase and a cheap scrypt work factor."""
    return Settings(
        data_dir=data_dir,
        keystore_passphrase=SecretStr(PASSPHRASE),
        keystore_kdf_n=2,
        receipt_wait_seconds=0.2,
        transaction_timeout_seconds=30,
        **overrides,
    )


def bond_terms(registry: Registry, chain: str, currency: str, **changes: Any) -> dict[str, Any]:
    """Terms of a 5% semi-annual bond issued now, maturing in five years, claim period two years."""
    now = registry.context.chain(chain).now()
    terms: dict[str, Any] = {
        "name": "ACME 5% bond",
        "symbol": "ACME",
        "isin": "US0378331005",
        "currency": currency,
        "denomination": DENOMINATION,
        "issue_volume": 1_000_000 * DENOMINATION,
        "coupon_rate_bps": 500,
        "coupon_frequency": 2,
        "issue_date": now - 86_400,
        "maturity_date": now + 5 * YEAR,
        "claim_period_days": 730,
    }
    terms.update(changes)
    return terms


@dataclass
class World:
    """Assets and parties on one chain of a registry."""

    registry: Registry
    chain: str
    issuer: str
    cash: str
    investors: list[LocalAccount] = field(default_factory=list)
    assets: dict[str, AssetRecord] = field(default_factory=dict)

    def bond(self, mode: str = "kyc", **changes: Any) -> str:
        """Issue a bond (``mode``) with `bond_terms` and ``changes``; returns its asset id."""
        issued = self.registry.bonds.issue(
            self.chain, mode, bond_terms(self.registry, self.chain, self.cash, **changes), issuer=self.issuer
        )
        self.assets[issued.asset.asset_id] = issued.asset
        return issued.asset.asset_id

    def stock(self, mode: str = "kyc", **changes: Any) -> str:
        """Issue a stock (``mode``) paying dividends in the world's cash; returns its asset id."""
        terms = {"name": "ACME shares", "symbol": "ACMS", "currency": self.cash, "claim_period_days": 365}
        terms.update(changes)
        issued = self.registry.stocks.issue(self.chain, mode, terms, issuer=self.issuer)
        self.assets[issued.asset.asset_id] = issued.asset
        return issued.asset.asset_id

    def onboard(self, count: int, *, country: int = 756, **options: Any) -> list[LocalAccount]:
        """``count`` fresh wallets, each registered as an investor, funded with gas, and held by custody
        (tests act as the holders)."""
        made = derived_keys(f"world {next(_labels)}", count)
        for account in made:
            self.registry.investors.register(self.chain, account.address, country=country, **options)
            self.fund(account.address)
            self.hold(account)
        self.investors.extend(made)
        return made

    def fund(self, address: str) -> None:
        """Give ``address`` gas: the faucet of an embedded chain, anvil_setBalance on anvil."""
        if self.registry.chain(self.chain).embedded is None:
            anvil_fund(self.registry, address)
        else:
            self.registry.keys.provision(address, self.chain)

    def hold(self, account: LocalAccount) -> None:
        """Let custody sign for ``account``."""
        self.registry.context.chain(self.chain).sender.signers.add(account, "test holder")


def new_label(prefix: str) -> str:
    """A keystore label unique in the session."""
    return f"{prefix} {next(_labels)}"


def make_world(registry: Registry, chain: str) -> World:
    """An issuer (provisioned), a cash token with cash for the issuer."""
    issuer = registry.keys.create(new_label("issuer"), chains=[chain]).address
    cash = registry.cash.issue(chain, {"name": "Test USD", "symbol": "tUSD"}, issuer=issuer).asset.asset_id
    registry.cash.mint(cash, issuer, 10**9 * USD, sender=issuer)
    return World(registry=registry, chain=chain, issuer=issuer, cash=cash)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A registry on two fresh in-memory embedded chains, shared by a test module (each test makes its own
    assets and wallets); the index is synced on demand (no follower thread)."""
    opened = Registry.open(
        service_settings(tmp_path_factory.mktemp("registry")), in_memory=True, follow=False
    )
    yield opened
    opened.close()


@pytest.fixture(params=["permissioned", "permissionless"])
def world(request: pytest.FixtureRequest, registry: Registry) -> World:
    """A world on each embedded chain."""
    return make_world(registry, request.param)


@pytest.fixture(scope="module")
def anvil_registry(anvil_node: AnvilNode, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A registry whose permissionless chain is anvil."""
    settings = service_settings(
        tmp_path_factory.mktemp("anvil-registry"), permissionless_rpc_url=anvil_node.url
    )
    opened = Registry.open(settings, chains=["permissionless"], follow=False)
    yield opened
    opened.close()


def anvil_fund(registry: Registry, address: str) -> None:
    """Give ``address`` ether on anvil (anvil_setBalance), as an external node's faucet would."""
    registry.chain("permissionless").w3.provider.make_request(
        RPCEndpoint("anvil_setBalance"), [address, hex(10**6 * ETHER)]
    )


@pytest.fixture
def anvil_world(anvil_registry: Registry) -> World:
    """A world on anvil: an issuer key funded by anvil, a cash token."""
    registry = anvil_registry
    issuer = registry.keys.create(new_label("anvil issuer"), chains=["permissionless"]).address
    anvil_fund(registry, issuer)
    provider = registry.registries.provider("permissionless", create=True)
    assert provider is not None
    anvil_fund(registry, provider)
    cash = registry.cash.issue("permissionless", {"name": "Test USD", "symbol": "tUSD"}, issuer=issuer)
    return World(registry=registry, chain="permissionless", issuer=issuer, cash=cash.asset.asset_id)
