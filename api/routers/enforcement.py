"""Enforcement on an asset: pause and unpause, freezes (a whole account, or a number of its tokens),
forced transfers and wallet recovery; custodially or prepared for the enforcement agent's own wallet.

Who: an admin, the issuer of the asset, or an agent the asset is assigned to (`Principal.require_asset`);
the signing address must hold the token's enforcement role (else 403 ``chain-role-missing``, nothing
sent)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import PageDep, RegistryDep
from api.errors import not_found
from api.schemas.common import TransactionPublic, format_amount, parse_amount
from api.schemas.enforcement import (
    EnforcementSender,
    ForcedTransferCreate,
    FreezeChangedPublic,
    FreezeCreate,
    FreezePublic,
    FreezesPublic,
    MovePublic,
    RecoveryCreate,
)
from api.schemas.transactions import OperationResultPublic
from api.scope import await_index
from api.security import EVERY_ROLE, Principal, allow
from api.sending import Built, Doc, Sent, plain_answer, sending
from registry.assets.tokens import REGULATED
from registry.context import check_address
from registry.errors import OperationRefusedError
from registry.index import queries
from registry.runtime import Registry

TAG = {
    "name": "enforcement",
    "description": "What an asset's enforcement agent does: pause and unpause the token, freeze an account "
    "whole or a number of its tokens, move tokens by force, recover a lost wallet to another wallet of the "
    "same investor. An issuer acts on the assets it administers, an agent on the assets assigned to it.",
}

router = APIRouter(prefix="/assets/{asset_id}", tags=["enforcement"])

ENFORCERS = allow("admin", "issuer", "agent")

AssetId = Annotated[
    str, Path(max_length=64, description="The asset's id.", examples=["bond-5f0c2a9d11e3b7a40c21"])
]
Account = Annotated[
    str,
    Path(
        max_length=42,
        description="The frozen account (0x and 40 hex digits).",
        examples=["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"],
    ),
]
SenderQuery = Annotated[
    str | None,
    Query(
        max_length=42,
        description="The enforcement agent's signing address (may be left out when the key has one; an admin "
        "key names it).",
    ),
]

PAUSE = "enforcement.pause"
UNPAUSE = "enforcement.unpause"
FREEZE = "enforcement.freeze"
UNFREEZE = "enforcement.unfreeze"
FORCED_TRANSFER = "enforcement.forced_transfer"
RECOVERY = "enforcement.recovery"


def freeze_public(registry: Registry, asset_id: str, account: str) -> FreezePublic:
    """``account``'s freezes and balance on ``asset_id`` now, read from the contract."""
    asset = registry.context.asset(asset_id, kinds=REGULATED)
    token = registry.context.token(asset)
    return FreezePublic(
        account=account,
        account_frozen=bool(token.functions.isAccountFrozen(account).call()),
        frozen=format_amount(int(token.functions.getFrozenTokens(account).call()), asset.decimals),
        balance=format_amount(int(token.functions.balanceOf(account).call()), asset.decimals),
    )


def _scoped(registry: Registry, caller: Principal, asset_id: str, sender: str | None) -> str:
    caller.require_asset(registry, asset_id)
    return caller.sender(sender)


def _indexed(registry: Registry, sent: Sent) -> OperationResultPublic:
    await_index(registry, sent.outcome)
    return plain_answer(registry, sent)


# -- pause ----------------------------------------------------------------------------------------------


def _pause(registry: Registry, caller: Principal, asset_id: AssetId, body: EnforcementSender) -> Built:
    sender = _scoped(registry, caller, asset_id, body.sender)
    return Built.on_asset(registry.tokens.prepare_pause(asset_id, sender=sender), asset_id)


def _unpause(registry: Registry, caller: Principal, asset_id: AssetId, body: EnforcementSender) -> Built:
    sender = _scoped(registry, caller, asset_id, body.sender)
    return Built.on_asset(registry.tokens.prepare_unpause(asset_id, sender=sender), asset_id)


_PAUSE_DESCRIPTION = (
    "Pauses the token: no transfer, mint, holder burn or payment until it is unpaused (forced transfers "
    "still work). Pausing a paused token is 409."
)
_UNPAUSE_DESCRIPTION = "Lifts the token's pause. Unpausing a token that is not paused is 409."

sending(
    router,
    "/pause",
    PAUSE,
    OperationResultPublic,
    build=_pause,
    answer=_indexed,
    dependencies=[ENFORCERS],
    custodial=Doc("pause", "Pause an asset", _PAUSE_DESCRIPTION),
    prepared=Doc(
        "prepare_pause",
        "Prepare a pause for the enforcement agent to sign",
        "The non-custodial twin of POST /assets/{asset_id}/pause. " + _PAUSE_DESCRIPTION,
    ),
)
sending(
    router,
    "/unpause",
    UNPAUSE,
    OperationResultPublic,
    build=_unpause,
    answer=_indexed,
    dependencies=[ENFORCERS],
    custodial=Doc("unpause", "Unpause an asset", _UNPAUSE_DESCRIPTION),
    prepared=Doc(
        "prepare_unpause",
        "Prepare an unpause for the enforcement agent to sign",
        "The non-custodial twin of POST /assets/{asset_id}/unpause. " + _UNPAUSE_DESCRIPTION,
    ),
)


# -- freezes --------------------------------------------------------------------------------------------


@router.get(
    "/freezes",
    dependencies=[allow(*EVERY_ROLE)],
    summary="An asset's frozen accounts",
    description="The accounts of an asset frozen whole or holding frozen tokens, now (as far as the index "
    "has followed the chain), by address, with their balance.",
)
def list_freezes(asset_id: AssetId, registry: RegistryDep, page: PageDep) -> FreezesPublic:
    """An asset's frozen accounts."""
    asset = registry.asset(asset_id)
    with registry.db.read() as session:
        found = queries.freezes(session, asset.asset_id, limit=page.limit, cursor=page.cursor)
    return FreezesPublic(
        items=[
            FreezePublic(
                account=entry.wallet,
                account_frozen=entry.account_frozen,
                frozen=format_amount(entry.frozen, asset.decimals),
                balance=format_amount(entry.balance, asset.decimals),
            )
            for entry in found.entries
        ],
        next_cursor=found.next_cursor,
    )


def _freeze_changed(registry: Registry, sent: Sent) -> FreezeChangedPublic:
    await_index(registry, sent.outcome)
    context = sent.context
    return FreezeChangedPublic(
        freeze=freeze_public(registry, str(context["asset_id"]), str(context["account"])),
        transaction=TransactionPublic.of(sent.outcome),
    )


def _freeze(registry: Registry, caller: Principal, asset_id: AssetId, body: FreezeCreate) -> Built:
    sender = _scoped(registry, caller, asset_id, body.sender)
    account = str(body.account)
    if body.amount is None:
        tx = registry.tokens.prepare_freeze_account(asset_id, account, sender=sender)
    else:
        amount = parse_amount(body.amount, registry.asset(asset_id).decimals, "amount")
        tx = registry.tokens.prepare_set_frozen_tokens(asset_id, account, amount, sender=sender)
    return Built.on_asset(tx, asset_id, {"account": account})


_FREEZE_DESCRIPTION = (
    "Without `amount`, freezes the account whole: it can neither send nor receive the token and payments "
    "to it are withheld. With `amount`, freezes exactly that many of its tokens (it may still move the "
    "rest; 0 lifts a partial freeze)."
)

sending(
    router,
    "/freezes",
    FREEZE,
    FreezeChangedPublic,
    status_code=201,
    build=_freeze,
    answer=_freeze_changed,
    dependencies=[ENFORCERS],
    custodial=Doc("freeze", "Freeze an account or some of its tokens", _FREEZE_DESCRIPTION),
    prepared=Doc(
        "prepare_freeze",
        "Prepare a freeze for the enforcement agent to sign",
        "The non-custodial twin of POST /assets/{asset_id}/freezes. " + _FREEZE_DESCRIPTION,
    ),
)


def _unfreeze(
    registry: Registry, caller: Principal, asset_id: AssetId, account: Account, sender: SenderQuery = None
) -> Built:
    signer = _scoped(registry, caller, asset_id, sender)
    target = check_address(account, "account")
    state = freeze_public(registry, asset_id, target)
    if state.account_frozen:
        tx = registry.tokens.prepare_unfreeze_account(asset_id, target, sender=signer)
    elif state.frozen != "0":
        tx = registry.tokens.prepare_set_frozen_tokens(asset_id, target, 0, sender=signer)
    else:
        raise not_found("freeze", f"{target} has no freeze on {asset_id}: nothing to lift")
    return Built.on_asset(tx, asset_id, {"account": target})


_UNFREEZE_DESCRIPTION = (
    "Lifts an account's freeze, one transaction each: the whole-account freeze if there is one, else the "
    "partial freeze (its frozen tokens go to 0). The answer shows what remains; an account with neither "
    "is 404."
)

sending(
    router,
    "/freezes/{account}",
    UNFREEZE,
    FreezeChangedPublic,
    method="DELETE",
    build=_unfreeze,
    answer=_freeze_changed,
    dependencies=[ENFORCERS],
    custodial=Doc("unfreeze", "Lift an account's freeze", _UNFREEZE_DESCRIPTION),
    prepared=Doc(
        "prepare_unfreeze",
        "Prepare lifting a freeze for the enforcement agent to sign",
        "The non-custodial twin of DELETE /assets/{asset_id}/freezes/{account}. " + _UNFREEZE_DESCRIPTION,
    ),
)


# -- forced transfers and recovery ----------------------------------------------------------------------


def _moved(registry: Registry, sent: Sent) -> MovePublic:
    await_index(registry, sent.outcome)
    context = sent.context
    asset_id = str(context["asset_id"])
    return MovePublic(
        source=freeze_public(registry, asset_id, str(context["from"])),
        destination=freeze_public(registry, asset_id, str(context["to"])),
        transaction=TransactionPublic.of(sent.outcome),
    )


def _forced(registry: Registry, caller: Principal, asset_id: AssetId, body: ForcedTransferCreate) -> Built:
    sender = _scoped(registry, caller, asset_id, body.sender)
    amount = parse_amount(body.amount, registry.asset(asset_id).decimals, "amount")
    held = registry.tokens.balance_of(asset_id, str(body.source))
    if amount > held:
        raise OperationRefusedError(
            f"{body.source} holds {held} of {asset_id}, fewer than the {amount} to move; nothing was sent"
        )
    tx = registry.tokens.prepare_forced_transfer(
        asset_id, str(body.source), str(body.to), amount, sender=sender
    )
    return Built.on_asset(tx, asset_id, {"from": str(body.source), "to": str(body.to)})


_FORCED_DESCRIPTION = (
    "Moves tokens from one account to another by force: pause, the source's freezes and the transfer rules "
    "do not apply; the receiver must still be able to hold them (a refusal lists every broken rule, 422, "
    "nothing sent). Moving more than the source holds is 409."
)

sending(
    router,
    "/forced-transfers",
    FORCED_TRANSFER,
    MovePublic,
    status_code=201,
    build=_forced,
    answer=_moved,
    dependencies=[ENFORCERS],
    custodial=Doc("forced_transfer", "Move tokens by force", _FORCED_DESCRIPTION),
    prepared=Doc(
        "prepare_forced_transfer",
        "Prepare a forced transfer for the enforcement agent to sign",
        "The non-custodial twin of POST /assets/{asset_id}/forced-transfers. " + _FORCED_DESCRIPTION,
    ),
)


def _recovery(registry: Registry, caller: Principal, asset_id: AssetId, body: RecoveryCreate) -> Built:
    sender = _scoped(registry, caller, asset_id, body.sender)
    lost, replacement = str(body.lost), str(body.replacement)
    tx = registry.tokens.prepare_recover_wallet(asset_id, lost, replacement, sender=sender)
    return Built.on_asset(tx, asset_id, {"from": lost, "to": replacement})


_RECOVERY_DESCRIPTION = (
    "Recovers a lost wallet to another verified wallet of the same investor (kyc mode only): its balance, "
    "freezes and the entitlements it earned move, and the lost wallet is frozen. A replacement of another "
    "investor, or not verified, is 409 and nothing is sent."
)

sending(
    router,
    "/recoveries",
    RECOVERY,
    MovePublic,
    status_code=201,
    build=_recovery,
    answer=_moved,
    dependencies=[ENFORCERS],
    custodial=Doc("recover_wallet", "Recover a lost wallet", _RECOVERY_DESCRIPTION),
    prepared=Doc(
        "prepare_recovery",
        "Prepare a wallet recovery for the enforcement agent to sign",
        "The non-custodial twin of POST /assets/{asset_id}/recoveries. " + _RECOVERY_DESCRIPTION,
    ),
)
