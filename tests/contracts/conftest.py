"""Fixtures of the contract suite: named accounts, the clock, a registry with KYC'd investors,
regulated tokens in kyc and open mode, cash, bonds and stocks.

Every fixture is function-scoped, like the ``w3`` chain it deploys on: each test gets a fresh chain
and fresh contracts (a deployment costs tens of milliseconds), so tests never share state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from .helpers import (
    ACCREDITED,
    CASH_UNIT,
    COUPON_FREQUENCY,
    COUPON_RATE_BPS,
    DAY,
    DENOMINATION,
    FRANCE,
    GERMANY,
    PROFESSIONAL,
    USA,
    YEAR,
    ZERO_ADDRESS,
    Clock,
    deploy_contract,
    role,
    terms_tuple,
    tx,
)


@pytest.fixture
def clock(w3: Web3) -> Clock:
    """The test chain's clock."""
    return Clock(w3)


@dataclass(frozen=True)
class Actors:
    """Named accounts, all funded. The ``investors`` fixture KYCs alice to erin."""

    admin: str
    kyc: str
    agent: str
    alice: str
    bob: str
    carol: str
    dave: str
    erin: str
    outsider: str
    mallory: str


@pytest.fixture
def actors(chain_accounts: list[LocalAccount]) -> Actors:
    """Accounts by role: admin (the deployer), a KYC provider, an operations agent, five investors,
    and two wallets that are never registered (``outsider`` and ``mallory``)."""
    return Actors(*(account.address for account in chain_accounts[:10]))


@dataclass(frozen=True)
class Investor:
    """How the ``investors`` fixture registered an investor."""

    investor_id: int
    wallet: str
    country: int
    attributes: int
    kyc_expiry: int


@pytest.fixture
def kyc_expiry(clock: Clock) -> int:
    """A KYC expiry comfortably in the future (ten years)."""
    return clock.now() + 10 * YEAR


@pytest.fixture
def registry(w3: Web3, actors: Actors) -> Contract:
    """A fresh identity registry; ``actors.kyc`` holds the KYC provider role (the admin holds both)."""
    contract = deploy_contract(w3, "IdentityRegistry", actors.admin, sender=actors.admin)
    tx(contract.functions.grantRole(role("KYC_PROVIDER_ROLE"), actors.kyc), actors.admin)
    return contract


INVESTOR_ROWS = (
    ("alice", FRANCE, ACCREDITED),
    ("bob", GERMANY, ACCREDITED | PROFESSIONAL),
    ("carol", USA, 0),
    ("dave", FRANCE, 0),
    ("erin", GERMANY, ACCREDITED),
)


@pytest.fixture
def investors(registry: Contract, actors: Actors, kyc_expiry: int) -> dict[str, Investor]:
    """Five KYC'd investors, ids 1 to 5: alice (FR, accredited), bob (DE, accredited and
    professional), carol (US), dave (FR), erin (DE, accredited)."""
    wallets = [getattr(actors, name) for name, _, _ in INVESTOR_ROWS]
    countries = [country for _, country, _ in INVESTOR_ROWS]
    attributes = [attrs for _, _, attrs in INVESTOR_ROWS]
    tx(
        registry.functions.batchRegisterInvestors(
            wallets, countries, attributes, [kyc_expiry] * len(wallets)
        ),
        actors.kyc,
    )
    return {
        name: Investor(index + 1, wallet, country, attrs, kyc_expiry)
        for index, ((name, country, attrs), wallet) in enumerate(zip(INVESTOR_ROWS, wallets, strict=True))
    }


# ---------------------------------------------------------------- regulated tokens


@pytest.fixture
def new_token(w3: Web3, actors: Actors, registry: Contract) -> Callable[..., Contract]:
    """``new_token(kyc=True)``: deploy a RegulatedTestToken (admin holds every role); a kyc-mode
    token consults ``registry``, an open-mode one has no registry."""

    def _new(kyc: bool = True, name: str = "Regulated Note", symbol: str = "RGN") -> Contract:
        registry_address = registry.address if kyc else ZERO_ADDRESS
        return deploy_contract(
            w3, "RegulatedTestToken", name, symbol, actors.admin, registry_address, kyc, sender=actors.admin
        )

    return _new


@pytest.fixture
def kyc_token(new_token: Callable[..., Contract], investors: dict[str, Investor]) -> Contract:
    """A kyc-mode regulated token with no supply; alice to erin are KYC'd."""
    return new_token(kyc=True)


@pytest.fixture
def open_token(new_token: Callable[..., Contract]) -> Contract:
    """An open-mode regulated token with no supply."""
    return new_token(kyc=False)


@pytest.fixture(params=["kyc", "open"])
def token(
    request: pytest.FixtureRequest, new_token: Callable[..., Contract], investors: dict[str, Investor]
) -> Contract:
    """The same regulated token in each mode (behaviour that both modes share)."""
    return new_token(kyc=request.param == "kyc")


@pytest.fixture
def funded(actors: Actors) -> Callable[[Contract], Contract]:
    """``funded(token)``: mint alice 1,000 and bob 500 (both KYC'd), return the token."""

    def _fund(token: Contract) -> Contract:
        tx(token.functions.batchMint([actors.alice, actors.bob], [1_000, 500]), actors.admin)
        return token

    return _fund


# ---------------------------------------------------------------- cash and bonds


@pytest.fixture
def cash(w3: Web3, actors: Actors) -> Contract:
    """The settlement stablecoin; the admin may mint it."""
    return deploy_contract(w3, "CashToken", "Test USD", "TUSD", actors.admin, sender=actors.admin)


@pytest.fixture
def bond_terms(clock: Clock, cash: Contract) -> dict[str, object]:
    """Terms of a 5%, semi-annual, one-year bond of 1,000 bonds of 1,000 cash each, ACT/360,
    issued now, claimable without deadline; tests override what they need."""
    issue = clock.now()
    return {
        "name": "Green Energy 2027",
        "symbol": "GE27",
        "isin": "XS0000000001",
        "currency": cash.address,
        "denomination": DENOMINATION,
        "issueVolume": 1_000 * DENOMINATION,
        "couponRate": COUPON_RATE_BPS,
        "couponType": 1,
        "couponFrequency": COUPON_FREQUENCY,
        "issueDate": issue,
        "maturityDate": issue + YEAR,
        "dayCountBasis": 1,
        "callPrice": 0,
        "callableFrom": 0,
        "claimPeriod": 0,
    }


@pytest.fixture
def new_bond(w3: Web3, actors: Actors, registry: Contract, bond_terms) -> Callable[..., Contract]:
    """``new_bond(kyc=True, **term_overrides)``: deploy a BondToken (admin holds every role)."""

    def _new(kyc: bool = True, **overrides: object) -> Contract:
        terms = {**bond_terms, **overrides}
        registry_address = registry.address if kyc else ZERO_ADDRESS
        return deploy_contract(
            w3, "BondToken", terms_tuple(terms), actors.admin, registry_address, kyc, sender=actors.admin
        )

    return _new


@pytest.fixture
def bond(new_bond: Callable[..., Contract], investors: dict[str, Investor]) -> Contract:
    """A kyc-mode bond with the default terms and no supply."""
    return new_bond()


@pytest.fixture
def issuer_cash(cash: Contract, actors: Actors) -> Callable[[Contract], None]:
    """``issuer_cash(bond)``: give the admin (the issuer) ample cash and approve ``bond`` to pull it."""

    def _fund(bond: Contract) -> None:
        tx(cash.functions.mint(actors.admin, 10**9 * CASH_UNIT), actors.admin)
        tx(cash.functions.approve(bond.address, 2**256 - 1), actors.admin)

    return _fund


@pytest.fixture
def issued(bond, actors):
    """The default bond with alice 10 bonds, bob 30, carol 60 (100 outstanding)."""
    tx(bond.functions.batchMint([actors.alice, actors.bob, actors.carol], [10, 30, 60]), actors.admin)
    return bond


@pytest.fixture
def period(issued, actors, bond_terms):
    """Period 0 of ``issued``, record date 180 days after issue; returns that record date."""
    record = bond_terms["issueDate"] + 180 * DAY
    tx(issued.functions.scheduleCouponPeriod(record), actors.admin)
    return record


@pytest.fixture
def new_stock(w3: Web3, actors: Actors, registry: Contract, cash: Contract) -> Callable[..., Contract]:
    """``new_stock(kyc=True, claim_period=0)``: deploy a StockToken paying dividends in ``cash`` (admin
    holds every role); ``claim_period`` 0 means no claim deadline."""

    def _new(kyc: bool = True, claim_period: int = 0) -> Contract:
        registry_address = registry.address if kyc else ZERO_ADDRESS
        return deploy_contract(
            w3,
            "StockToken",
            "Acme",
            "ACME",
            cash.address,
            actors.admin,
            registry_address,
            kyc,
            claim_period,
            sender=actors.admin,
        )

    return _new


@pytest.fixture(params=["RegulatedTestToken", "BondToken", "StockToken"])
def any_token(request: pytest.FixtureRequest, new_token, new_bond, new_stock, investors) -> Contract:
    """Each concrete regulated token in kyc mode, without supply: behaviour they all inherit."""
    factories = {
        "RegulatedTestToken": new_token,
        "BondToken": lambda: new_bond(issueVolume=1_000_000 * DENOMINATION),
        "StockToken": new_stock,
    }
    contract: Contract = factories[request.param]()
    return contract


@pytest.fixture
def stock(new_stock, investors, actors):
    """A kyc-mode stock with alice 15 shares, bob 10, carol 5."""
    token = new_stock()
    tx(token.functions.batchMint([actors.alice, actors.bob, actors.carol], [15, 10, 5]), actors.admin)
    return token
