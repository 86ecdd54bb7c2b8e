"""Helpers of the tests of an asset's operations over HTTP (coupons, dividends, corporate actions, events):
a bond or a stock of the issuer key with holders, the chain's clock, and the cash the contracts hold."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from registry.chain.clock import advance_to, latest_timestamp

from .conftest import Api, cash_for

DAY = 86_400
YEAR = 365 * DAY
USD = 10**6
COUPON = 25 * USD
"""The coupon per bond of `issue_bond`'s bond: 1,000 at 5% a year, paid twice a year."""

_wallets = itertools.count()


@dataclass
class Asset:
    """An asset the issuer key issued through the API, its cash token and its holders."""

    api: Api
    chain: str
    asset_id: str
    cash_id: str
    holders: list[str]

    @property
    def token(self) -> Any:
        """The asset's contract."""
        return self.api.registry.context.token(self.api.registry.asset(self.asset_id))

    def path(self, suffix: str = "") -> str:
        """The asset's path, with ``suffix``."""
        return f"/assets/{self.asset_id}{suffix}"

    def cash(self, wallet: str) -> int:
        """``wallet``'s raw cash units."""
        return self.api.registry.cash.balance_of(self.cash_id, wallet)


def raw(text: str) -> int:
    """A cash amount of the API (decimal text, 6 decimals) in raw units."""
    return int(Decimal(text).scaleb(6))


def now(api: Api, chain: str) -> int:
    """The chain's time (its latest block's)."""
    return latest_timestamp(api.registry.chain(chain).w3)


def travel(api: Api, chain: str, timestamp: int) -> None:
    """Move the chain's clock to ``timestamp`` (through the `Web3` seam, as demos and benches do)."""
    advance_to(api.registry.chain(chain).w3, timestamp)


def iso(timestamp: int) -> str:
    """A Unix time as ISO 8601 UTC text."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


def indexed(api: Api, chain: str) -> None:
    """Let the index reach the chain's head (the fixture runs no follower; writes made through the services
    rather than the API are indexed here)."""
    api.registry.wait_for_index(chain, api.registry.chain(chain).w3.eth.block_number)


def wallet(api: Api, chain: str) -> LocalAccount:
    """A new wallet nobody's custody holds, able to send on ``chain`` (gas, and KYC where the chain asks)."""
    account: LocalAccount = Account.from_key(keccak(text=f"api ops wallet {next(_wallets)} {id(api)}"))
    api.registry.keys.provision(account.address, chain)
    return account


def holder(api: Api, chain: str) -> str:
    """A new custodial wallet able to send on ``chain``."""
    return api.registry.keys.create(f"api ops holder {next(_wallets)} {id(api)}", chains=[chain]).address


def investor_wallet(api: Api, chain: str) -> str:
    """The investor key's wallet, able to send on ``chain``."""
    address = api.records["investor"].addresses[0]
    api.registry.keys.provision(address, chain)
    return address


def funded_cash(api: Api, chain: str) -> str:
    """A new cash token of the issuer, with plenty of it in the issuer's wallet; its asset id."""
    cash = cash_for(api, chain)
    api.registry.cash.mint(cash, api.issuer, 10**9 * USD, sender=api.issuer)
    return cash


def issue_bond(api: Api, chain: str = "permissionless", *, holdings: tuple[int, ...] = (30, 10)) -> Asset:
    """A 5% semi-annual bond of the issuer key (open mode; callable at 1,010 from today; claim period a
    year), minted to the investor key's wallet and then to new custodial wallets, ``holdings`` each."""
    cash = funded_cash(api, chain)
    today = datetime.fromtimestamp(now(api, chain), UTC).date()
    terms = {
        "name": "ACME 5% bond",
        "symbol": "ACME",
        "isin": "US0378331005",
        "currency": cash,
        "denomination": "1000",
        "issue_volume": "1000000",
        "coupon_rate_bps": 500,
        "coupon_frequency": 2,
        "issue_date": (today - timedelta(days=1)).isoformat(),
        "maturity_date": (today + timedelta(days=5 * 365)).isoformat(),
        "call_price": "1010",
        "callable_from": today.isoformat(),
        "claim_period_days": 365,
    }
    body = {"kind": "bond", "chain": chain, "mode": "open", "terms": terms}
    return _issued(api, chain, body, cash, holdings)


def issue_stock(
    api: Api, chain: str = "permissionless", *, holdings: tuple[int, ...] = (30, 10), mode: str = "open"
) -> Asset:
    """Shares of the issuer key (claim period a year), minted like `issue_bond`'s bonds."""
    cash = funded_cash(api, chain)
    terms = {"name": "ACME shares", "symbol": "ACMS", "currency": cash, "claim_period_days": 365}
    body = {"kind": "stock", "chain": chain, "mode": mode, "terms": terms}
    return _issued(api, chain, body, cash, holdings)


def _issued(api: Api, chain: str, body: dict[str, Any], cash: str, holdings: tuple[int, ...]) -> Asset:
    issued = api.call("POST", "/assets", "issuer", json=body)
    assert issued.status_code == 201, issued.text
    asset_id = issued.json()["asset"]["asset_id"]
    wallets = [investor_wallet(api, chain)] + [holder(api, chain) for _ in holdings[1:]]
    for account, amount in zip(wallets, holdings, strict=True):
        api.registry.tokens.mint(asset_id, account, amount, sender=api.issuer)
    return Asset(api=api, chain=chain, asset_id=asset_id, cash_id=cash, holders=wallets)


def signed(account: LocalAccount, prepared: dict[str, Any]) -> str:
    """``account``'s signature of a prepared transaction, as the raw transaction to post."""
    transaction = {key: value for key, value in prepared["transaction"].items() if value is not None}
    return "0x" + bytes(account.sign_transaction(transaction).raw_transaction).hex()
