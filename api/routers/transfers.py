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
from fastapi.responses import Response

from api.deps import ClockDep, IdempotencyDep, PrincipalDep, RegistryDep
from api.prepared import operation, prepare
from api.schemas.common import TransactionPublic, format_amount, parse_amount
from api.schemas.transactions import PreparedPublic
from api.schemas.transfers import (
    BurnCreate,
    MintCreate,
    SupplyChangePublic,
    TransferCreate,
    TransferPublic,
)
from api.scope import await_index
from api.security import allow
from registry.access.keys import Role
from registry.access.prepared import Prepared
from registry.custody.transactions import PreparedTransaction, TxOutcome
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


def _prepare_mint(
    registry: Registry, asset_id: str, to: str, amount: int, sender: str
) -> PreparedTransaction:
    if _is_cash(registry, asset_id):
        return registry.cash.prepare_mint(asset_id, to, amount, sender=sender)
    return registry.tokens.prepare_mint(asset_id, to, amount, sender=sender)


def _prepare_transfer(
    registry: Registry, asset_id: str, to: str, amount: int, sender: str
) -> PreparedTransaction:
    if _is_cash(registry, asset_id):
        return registry.cash.prepare_transfer(asset_id, to, amount, sender=sender)
    return registry.tokens.prepare_transfer(asset_id, to, amount, sender=sender)


def _supply_change(
    registry: Registry, asset_id: str, account: str, amount: int, outcome: TxOutcome
) -> SupplyChangePublic:
    return SupplyChangePublic(
        asset_id=asset_id,
        account=account,
        amount=format_amount(amount, registry.asset(asset_id).decimals),
        transaction=TransactionPublic.of(outcome),
    )


def _transfer(
    registry: Registry, asset_id: str, sender: str, to: str, amount: int, *, outcome: TxOutcome
) -> TransferPublic:
    return TransferPublic(
        asset_id=asset_id,
        sender=sender,
        to=to,
        amount=format_amount(amount, registry.asset(asset_id).decimals),
        transaction=TransactionPublic.of(outcome),
    )


@operation(MINT, SupplyChangePublic)
def _complete_mint(registry: Registry, prepared: Prepared, outcome: TxOutcome) -> SupplyChangePublic:
    await_index(registry, outcome)
    context = prepared.context
    return _supply_change(registry, context["asset_id"], context["account"], int(context["amount"]), outcome)


@operation(BURN, SupplyChangePublic)
def _complete_burn(registry: Registry, prepared: Prepared, outcome: TxOutcome) -> SupplyChangePublic:
    await_index(registry, outcome)
    context = prepared.context
    return _supply_change(registry, context["asset_id"], context["account"], int(context["amount"]), outcome)


@operation(TRANSFER, TransferPublic)
def _complete_transfer(registry: Registry, prepared: Prepared, outcome: TxOutcome) -> TransferPublic:
    await_index(registry, outcome)
    context = prepared.context
    return _transfer(
        registry,
        context["asset_id"],
        prepared.unsigned.sender,
        context["to"],
        int(context["amount"]),
        outcome=outcome,
    )


# -- mint ---------------------------------------------------------------------------------------------------

_MINT_DESCRIPTION = (
    "Creates `amount` new tokens in wallet `to`, signed by an address holding the token's supply role (the "
    "issuer's, unless its admin granted the role to another). The token's rules are checked first: in kyc "
    "mode the receiver must be a verified investor and within the country, investor-count, balance and "
    "accredited rules; a refusal is 422 `compliance-refused` listing every broken rule, and nothing is "
    "sent. An issuer operates only the assets it administers."
)


@router.post(
    "/{asset_id}/mint",
    response_model=SupplyChangePublic,
    dependencies=[allow(*_SUPPLY)],
    summary="Mint",
    description=_MINT_DESCRIPTION,
)
def mint(
    asset_id: AssetId, body: MintCreate, registry: RegistryDep, caller: PrincipalDep, idem: IdempotencyDep
) -> Response:
    """Mint."""

    def work() -> SupplyChangePublic:
        caller.require_asset(registry, asset_id)
        sender = caller.sender(body.sender)
        amount = _amount(registry, asset_id, body.amount)
        outcome = (
            registry.cash.mint(asset_id, body.to, amount, sender=sender)
            if _is_cash(registry, asset_id)
            else registry.tokens.mint(asset_id, body.to, amount, sender=sender)
        )
        await_index(registry, outcome)
        return _supply_change(registry, asset_id, body.to, amount, outcome)

    return idem.run(work)


@router.post(
    "/{asset_id}/mint/prepare",
    status_code=201,
    dependencies=[allow(*_SUPPLY)],
    summary="Prepare a mint for the supply key to sign",
    description="The non-custodial twin of POST /assets/{asset_id}/mint: the same checks, then the unsigned "
    "transaction. Sign it and POST /transactions with the `prepared_id`: the answer is the mint's.",
)
def prepare_mint(
    asset_id: AssetId, body: MintCreate, registry: RegistryDep, caller: PrincipalDep, now: ClockDep
) -> PreparedPublic:
    """Prepare a mint."""
    caller.require_asset(registry, asset_id)
    sender = caller.sender(body.sender)
    amount = _amount(registry, asset_id, body.amount)
    tx = _prepare_mint(registry, asset_id, body.to, amount, sender)
    context = {"asset_id": registry.asset(asset_id).asset_id, "account": body.to, "amount": str(amount)}
    return prepare(registry, caller, MINT, tx, now=now, context=context)


# -- burn ---------------------------------------------------------------------------------------------------

_BURN_DESCRIPTION = (
    "Destroys `amount` of `account`'s tokens, frozen ones included (they are unfrozen first), signed by an "
    "address with the token's supply role: the issuer's, or an agent's if the asset's admin granted it "
    "that role (otherwise 403 `chain-role-missing`). More than the account holds is 409 "
    "`operation-refused`; nothing is sent."
)


@router.post(
    "/{asset_id}/burn",
    response_model=SupplyChangePublic,
    dependencies=[allow(*_BURNERS)],
    summary="Burn",
    description=_BURN_DESCRIPTION,
)
def burn(
    asset_id: AssetId, body: BurnCreate, registry: RegistryDep, caller: PrincipalDep, idem: IdempotencyDep
) -> Response:
    """Burn."""

    def work() -> SupplyChangePublic:
        caller.require_asset(registry, asset_id)
        sender = caller.sender(body.sender)
        amount = _amount(registry, asset_id, body.amount)
        outcome = registry.tokens.burn(asset_id, body.account, amount, sender=sender)
        await_index(registry, outcome)
        return _supply_change(registry, asset_id, body.account, amount, outcome)

    return idem.run(work)


@router.post(
    "/{asset_id}/burn/prepare",
    status_code=201,
    dependencies=[allow(*_BURNERS)],
    summary="Prepare a burn for the supply key to sign",
    description="The non-custodial twin of POST /assets/{asset_id}/burn.",
)
def prepare_burn(
    asset_id: AssetId, body: BurnCreate, registry: RegistryDep, caller: PrincipalDep, now: ClockDep
) -> PreparedPublic:
    """Prepare a burn."""
    caller.require_asset(registry, asset_id)
    sender = caller.sender(body.sender)
    amount = _amount(registry, asset_id, body.amount)
    tx = registry.tokens.prepare_burn(asset_id, body.account, amount, sender=sender)
    context = {"asset_id": registry.asset(asset_id).asset_id, "account": body.account, "amount": str(amount)}
    return prepare(registry, caller, BURN, tx, now=now, context=context)


# -- transfer -----------------------------------------------------------------------------------------------

_TRANSFER_DESCRIPTION = (
    "Moves `amount` from the sender's wallet to `to`. The sender is the holder: one of an investor key's "
    "wallets (an admin names any wallet custody holds). The token's rules are checked first (pause, "
    "freezes, both parties' eligibility, lock-up, country, investor-count, balance and accredited rules, "
    "the balance): a refusal is 422 `compliance-refused` listing every broken rule, and nothing is sent."
)


@router.post(
    "/{asset_id}/transfers",
    response_model=TransferPublic,
    dependencies=[allow(*_HOLDERS)],
    summary="Transfer",
    description=_TRANSFER_DESCRIPTION,
)
def transfer(
    asset_id: AssetId, body: TransferCreate, registry: RegistryDep, caller: PrincipalDep, idem: IdempotencyDep
) -> Response:
    """Transfer."""

    def work() -> TransferPublic:
        sender = caller.sender(body.sender)
        amount = _amount(registry, asset_id, body.amount)
        outcome = (
            registry.cash.transfer(asset_id, body.to, amount, sender=sender)
            if _is_cash(registry, asset_id)
            else registry.tokens.transfer(asset_id, body.to, amount, sender=sender)
        )
        await_index(registry, outcome)
        return _transfer(registry, asset_id, sender, body.to, amount, outcome=outcome)

    return idem.run(work)


@router.post(
    "/{asset_id}/transfers/prepare",
    status_code=201,
    dependencies=[allow(*_HOLDERS)],
    summary="Prepare a transfer for the holder to sign",
    description="The non-custodial twin of POST /assets/{asset_id}/transfers: the holder signs with its own "
    "wallet.",
)
def prepare_transfer(
    asset_id: AssetId, body: TransferCreate, registry: RegistryDep, caller: PrincipalDep, now: ClockDep
) -> PreparedPublic:
    """Prepare a transfer."""
    sender = caller.sender(body.sender)
    amount = _amount(registry, asset_id, body.amount)
    tx = _prepare_transfer(registry, asset_id, body.to, amount, sender)
    context = {"asset_id": registry.asset(asset_id).asset_id, "to": body.to, "amount": str(amount)}
    return prepare(registry, caller, TRANSFER, tx, now=now, context=context)
