"""Parties of the registry route tests: a KYC provider able to register investors, investors with wallets,
a kyc-mode bond of the issuer with holders, an agent assigned to it, a wallet of one's own that signs."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from registry.roles import role_id

from .conftest import Api, cash_for

CHAIN = "permissioned"
_count = itertools.count()


def fresh_wallet(label: str = "wallet") -> LocalAccount:
    """A new key pair nobody else uses (its address is a fresh wallet)."""
    account: LocalAccount = Account.from_key(
        keccak(text=f"registry routes {label} {next(_count)} {id(_count)}")
    )
    return account


def kyc_provider(api: Api, chain: str = CHAIN) -> str:
    """The kyc-provider key's address, made able to register investors on ``chain`` (once)."""
    address = api.records["kyc-provider"].addresses[0]
    investors = api.registry.investors
    registry = api.registry.registries.ensure(chain)
    contract = api.registry.context.chain(chain).contract("IdentityRegistry", registry)
    if not contract.functions.hasRole(role_id("kyc-provider"), address).call():
        api.registry.keys.provision(address, chain)
        investors.grant_kyc_provider(chain, address)
    return address


def register(api: Api, *wallets: str, chain: str = CHAIN, **fields: Any) -> dict[str, Any]:
    """Register an investor with ``wallets`` through the API as the kyc-provider key; its answer."""
    kyc_provider(api, chain)
    body = {"chain": chain, "wallets": list(wallets), "country": 756, **fields}
    response = api.call("POST", "/investors", "kyc-provider", json=body)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def investor_key(api: Api, *addresses: str) -> str:
    """An investor API key bound to ``addresses``."""
    token, _record = api.key("investor", addresses=addresses)
    return token


def kyc_bond(api: Api, chain: str = CHAIN, *, mode: str = "kyc") -> str:
    """A bond of the issuer key (issued through the API); its asset id."""
    cash = cash_for(api, chain)
    today = datetime.fromtimestamp(api.registry.context.chain(chain).now(), UTC).date()
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
    }
    body = {"kind": "bond", "chain": chain, "mode": mode, "terms": terms}
    issued = api.call("POST", "/assets", "issuer", json=body)
    assert issued.status_code == 201, issued.text
    asset_id: str = issued.json()["asset"]["asset_id"]
    return asset_id


def mint(api: Api, asset_id: str, wallet: str, amount: int) -> None:
    """Mint ``amount`` bonds to ``wallet`` as the issuer (through the service; minting routes are another
    router's), and let the index follow."""
    outcome = api.registry.tokens.mint(asset_id, wallet, amount, sender=api.issuer)
    api.registry.wait_for_index(outcome.chain, outcome.block_number)


def nonce(api: Api, address: str, chain: str = CHAIN) -> int:
    """``address``'s transaction count on ``chain`` (a refusal must leave it unchanged)."""
    return int(api.registry.chain(chain).w3.eth.get_transaction_count(address))  # type: ignore[arg-type]


def cap_table(api: Api, asset_id: str, **params: Any) -> dict[str, Any]:
    """The asset's cap table (first page of 500) as the auditor."""
    response = api.call("GET", f"/assets/{asset_id}/cap-table", "auditor", params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def holders(api: Api, asset_id: str) -> dict[str, dict[str, Any]]:
    """The cap table's holders by wallet."""
    return {holder["wallet"]: holder for holder in cap_table(api, asset_id)["items"]}


def sign_and_send(api: Api, token: str, wallet: LocalAccount, prepared: dict[str, Any]) -> Any:
    """Sign a prepared transaction with ``wallet`` and post it with ``token``; the response."""
    fields = {key: value for key, value in prepared["transaction"].items() if value is not None}
    raw = "0x" + bytes(wallet.sign_transaction(fields).raw_transaction).hex()
    return api.call(
        "POST",
        "/transactions",
        token=token,
        json={"prepared_id": prepared["prepared_id"], "raw_transaction": raw},
    )


@dataclass
class Holders:
    """A kyc-mode bond of the issuer with two investors holding it (the first with two wallets)."""

    asset_id: str
    alice: dict[str, Any]
    bob: dict[str, Any]

    @property
    def alice_wallet(self) -> str:
        """Alice's first wallet (holds 60)."""
        wallet: str = self.alice["wallets"][0]
        return wallet

    @property
    def alice_spare(self) -> str:
        """Alice's second wallet (holds nothing)."""
        wallet: str = self.alice["wallets"][1]
        return wallet

    @property
    def bob_wallet(self) -> str:
        """Bob's wallet (holds 40)."""
        wallet: str = self.bob["wallets"][0]
        return wallet


def bond_with_holders(api: Api) -> Holders:
    """A new kyc-mode bond; Alice holds 60 in her first wallet, Bob 40."""
    asset_id = kyc_bond(api)
    alice = register(api, fresh_wallet().address, fresh_wallet().address, accredited=True)
    bob = register(api, fresh_wallet().address, country="DE")
    mint(api, asset_id, alice["wallets"][0], 60)
    mint(api, asset_id, bob["wallets"][0], 40)
    return Holders(asset_id, alice, bob)
