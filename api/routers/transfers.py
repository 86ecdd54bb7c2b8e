"""Mint, burn and transfer a regulated token (bond or stock), custodially or prepared for the caller's own
wallet to sign.

Before anything is sent, the token is asked which of its rules the mint or transfer would break
(`registry.assets.tokens.TokenService.violations`, through the service's ``prepare_*``): a refusal is 422
``compliance-refused`` listing every broken rule, and nothing is sent. A sender without the contract role
(supply for mints and burns) is 403 ``chain-role-missing``.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Path

from api.schemas.common import TransactionPublic, format_amount, parse_amount
from api.schemas.transfers import (
    BurnCreate,
    MintCreate,
    SupplyChangePublic,
    TransferCreate,
    TransferPublic,
)
from api.scope import await_index
from api.security import Principal, allow
from api.sending import Built, Doc, Sent, sending
from registry.access.keys import Role
from registry.runtime import Registry

TAG = {
    "name": "transfers",
    "description": "Mint, burn and transfer bonds and stocks. Each is checked against the token's "
    "compliance rules before it is sent (a refusal names every broken rule and sends nothing), takes an "
    "Idempotency-Key, and has a `/prepare` twin for the caller's own wallet to sign.",
}

router = APIRouter(prefix="/assets", tags=["transfers"])

AssetId = Annotated[
    str, Path(max_length=64, description="The asset's id.", examples=["bond-5f0c2a9d11e3b7a40c21"])
]

MINT = "transfers.mint"
BURN = "transfers.burn"
TRANSFER = "transfers.transfer"

_SUPPLY: Final[tuple[Role, ...]] = ("admin", "issuer")
_BURNERS: Final[tuple[Role, ...]] = ("admin", "issuer", "agent")
_HOLDERS: Final[tuple[Role, ...]] = ("admin", "issuer", "investor")
"""Who moves tokens it holds: an investor key from its wallets, an issuer key from its own addresses (the
cash it minted itself, say), an admin as any address custody holds."""


def _amount(registry: Registry, asset_id: str, text: str, field: str = "amount") -> int:
    return parse_amount(text, registry.asset(asset_id).decimals, field)


def _is_cash(registry: Registry, asset_id: str) -> bool:
    """Cash tokens are plain ERC-20s: their own service mints and moves them (no compliance rules)."""
    return registry.asset(asset_id).kind == "cash"


def _supply_changed(registry: Registry, sent: Sent) -> SupplyChangePublic:
    await_index(registry, sent.outcome)
    context = sent.context
    return SupplyChangePublic(
        asset_id=context["asset_id"],
        account=context["account"],
        amount=format_amount(int(context["amount"]), registry.asset(context["asset_id"]).decimals),
        transaction=TransactionPublic.of(sent.outcome),
    )


def _transferred(registry: Registry, sent: Sent) -> TransferPublic:
    await_index(registry, sent.outcome)
    context = sent.context
    return TransferPublic(
        asset_id=context["asset_id"],
        sender=sent.outcome.sender,
        to=context["to"],
        amount=format_amount(int(context["amount"]), registry.asset(context["asset_id"]).decimals),
        transaction=TransactionPublic.of(sent.outcome),
    )


# -- mint ---------------------------------------------------------------------------------------------------


def _mint(registry: Registry, caller: Principal, asset_id: AssetId, body: MintCreate) -> Built:
    caller.require_asset(registry, asset_id)
    sender = caller.sender(body.sender)
    amount = _amount(registry, asset_id, body.amount)
    service = registry.cash if _is_cash(registry, asset_id) else registry.tokens
    tx = service.prepare_mint(asset_id, body.to, amount, sender=sender)
    context = {"asset_id": registry.asset(asset_id).asset_id, "account": body.to, "amount": str(amount)}
    return Built(tx, context, asset_id=asset_id)


sending(
    router,
    "/{asset_id}/mint",
    MINT,
    SupplyChangePublic,
    build=_mint,
    answer=_supply_changed,
    dependencies=[allow(*_SUPPLY)],
    custodial=Doc(
        "mint",
        "Mint",
        "Creates `amount` new tokens in wallet `to`, signed by an address holding the token's supply role "
        "(the issuer's, unless its admin granted the role to another). The token's rules are checked first: "
        "in kyc mode the receiver must be a verified investor and within the country, investor-count, "
        "balance and accredited rules; a refusal is 422 `compliance-refused` listing every broken rule, and "
        "nothing is sent. An issuer operates only the assets it administers.",
    ),
    prepared=Doc(
        "prepare_mint",
        "Prepare a mint for the supply key to sign",
        "The non-custodial twin of POST /assets/{asset_id}/mint: the same checks, then the unsigned "
        "transaction. Sign it and POST /transactions with the `prepared_id`: the answer is the mint's.",
    ),
)


# -- burn ---------------------------------------------------------------------------------------------------


def _burn(registry: Registry, caller: Principal, asset_id: AssetId, body: BurnCreate) -> Built:
    caller.require_asset(registry, asset_id)
    sender = caller.sender(body.sender)
    amount = _amount(registry, asset_id, body.amount)
    tx = registry.tokens.prepare_burn(asset_id, body.account, amount, sender=sender)
    context = {"asset_id": registry.asset(asset_id).asset_id, "account": body.account, "amount": str(amount)}
    return Built(tx, context, asset_id=asset_id)


sending(
    router,
    "/{asset_id}/burn",
    BURN,
    SupplyChangePublic,
    build=_burn,
    answer=_supply_changed,
    dependencies=[allow(*_BURNERS)],
    custodial=Doc(
        "burn",
        "Burn",
        "Destroys `amount` of `account`'s tokens, frozen ones included (they are unfrozen first), signed by "
        "an address with the token's supply role: the issuer's, or an agent's if the asset's admin granted "
        "it that role (otherwise 403 `chain-role-missing`). More than the account holds is 409 "
        "`operation-refused`; nothing is sent.",
    ),
    prepared=Doc(
        "prepare_burn",
        "Prepare a burn for the supply key to sign",
        "The non-custodial twin of POST /assets/{asset_id}/burn.",
    ),
)


# -- transfer -----------------------------------------------------------------------------------------------


def _transfer(registry: Registry, caller: Principal, asset_id: AssetId, body: TransferCreate) -> Built:
    sender = caller.sender(body.sender)
    amount = _amount(registry, asset_id, body.amount)
    service = registry.cash if _is_cash(registry, asset_id) else registry.tokens
    tx = service.prepare_transfer(asset_id, body.to, amount, sender=sender)
    context = {"asset_id": registry.asset(asset_id).asset_id, "to": body.to, "amount": str(amount)}
    return Built(tx, context, asset_id=asset_id)


sending(
    router,
    "/{asset_id}/transfers",
    TRANSFER,
    TransferPublic,
    build=_transfer,
    answer=_transferred,
    dependencies=[allow(*_HOLDERS)],
    custodial=Doc(
        "transfer",
        "Transfer",
        "Moves `amount` from the sender's wallet to `to`. The sender is the holder: one of an investor key's "
        "wallets (an admin names any wallet custody holds). The token's rules are checked first (pause, "
        "freezes, both parties' eligibility, lock-up, country, investor-count, balance and accredited "
        "rules, the balance): a refusal is 422 `compliance-refused` listing every broken rule, and nothing "
        "is sent.",
    ),
    prepared=Doc(
        "prepare_transfer",
        "Prepare a transfer for the holder to sign",
        "The non-custodial twin of POST /assets/{asset_id}/transfers: the holder signs with its own wallet.",
    ),
)
