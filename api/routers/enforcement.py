"""Enforcement on an asset: pause and unpause, freezes (a whole account, or a number of its tokens),
forced transfers and wallet recovery; custodially or prepared for the enforcement agent's own wallet.

Who: an admin, the issuer of the asset, or an agent the asset is assigned to (`Principal.require_asset`);
the signing address must hold the token's enforcement role (else 403 ``chain-role-missing``, nothing
sent)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from api.deps import ClockDep, IdempotencyDep, PageDep, PrincipalDep, RegistryDep
from api.errors import not_found
from api.prepared import operation, plain_operation, prepare
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
from api.schemas.transactions import OperationResultPublic, PreparedPublic
from api.scope import await_index
from api.security import EVERY_ROLE, Principal, allow
from registry.access.prepared import Prepared
from registry.assets.tokens import REGULATED
from registry.context import check_address
from registry.custody.transactions import PreparedTransaction, TxOutcome
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

plain_operation(PAUSE)
plain_operation(UNPAUSE)


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


def _sent(registry: Registry, tx: PreparedTransaction, asset_id: str) -> TxOutcome:
    outcome = registry.context.send(tx, asset_id=asset_id)
    await_index(registry, outcome)
    return outcome


# -- pause ----------------------------------------------------------------------------------------------


def _prepared_pause(
    registry: Registry, caller: Principal, asset_id: str, body: EnforcementSender, *, pause: bool
) -> PreparedTransaction:
    sender = _scoped(registry, caller, asset_id, body.sender)
    if pause:
        return registry.tokens.prepare_pause(asset_id, sender=sender)
    return registry.tokens.prepare_unpause(asset_id, sender=sender)


_PAUSE_DESCRIPTION = (
    "Pauses the token: no transfer, mint, holder burn or payment until it is unpaused (forced transfers "
    "still work). Pausing a paused token is 409."
)
_UNPAUSE_DESCRIPTION = "Lifts the token's pause. Unpausing a token that is not paused is 409."


@router.post(
    "/pause",
    response_model=OperationResultPublic,
    dependencies=[ENFORCERS],
    summary="Pause an asset",
    description=_PAUSE_DESCRIPTION,
)
def pause(
    asset_id: AssetId,
    body: EnforcementSender,
    registry: RegistryDep,
    caller: PrincipalDep,
    idem: IdempotencyDep,
) -> Response:
    """Pause an asset."""

    def work() -> OperationResultPublic:
        tx = _prepared_pause(registry, caller, asset_id, body, pause=True)
        return OperationResultPublic(transaction=TransactionPublic.of(_sent(registry, tx, asset_id)))

    return idem.run(work)


@router.post(
    "/pause/prepare",
    status_code=201,
    dependencies=[ENFORCERS],
    summary="Prepare a pause for the enforcement agent to sign",
    description="The non-custodial twin of POST /assets/{asset_id}/pause. " + _PAUSE_DESCRIPTION,
)
def prepare_pause(
    asset_id: AssetId, body: EnforcementSender, registry: RegistryDep, caller: PrincipalDep, now: ClockDep
) -> PreparedPublic:
    """Prepare a pause for the enforcement agent to sign."""
    tx = _prepared_pause(registry, caller, asset_id, body, pause=True)
    return prepare(registry, caller, PAUSE, tx, now=now, context={"asset_id": asset_id})


@router.post(
    "/unpause",
    response_model=OperationResultPublic,
    dependencies=[ENFORCERS],
    summary="Unpause an asset",
    description=_UNPAUSE_DESCRIPTION,
)
def unpause(
    asset_id: AssetId,
    body: EnforcementSender,
    registry: RegistryDep,
    caller: PrincipalDep,
    idem: IdempotencyDep,
) -> Response:
    """Unpause an asset."""

    def work() -> OperationResultPublic:
        tx = _prepared_pause(registry, caller, asset_id, body, pause=False)
        return OperationResultPublic(transaction=TransactionPublic.of(_sent(registry, tx, asset_id)))

    return idem.run(work)


@router.post(
    "/unpause/prepare",
    status_code=201,
    dependencies=[ENFORCERS],
    summary="Prepare an unpause for the enforcement agent to sign",
    description="The non-custodial twin of POST /assets/{asset_id}/unpause. " + _UNPAUSE_DESCRIPTION,
)
def prepare_unpause(
    asset_id: AssetId, body: EnforcementSender, registry: RegistryDep, caller: PrincipalDep, now: ClockDep
) -> PreparedPublic:
    """Prepare an unpause for the enforcement agent to sign."""
    tx = _prepared_pause(registry, caller, asset_id, body, pause=False)
    return prepare(registry, caller, UNPAUSE, tx, now=now, context={"asset_id": asset_id})


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


def _prepared_freeze(
    registry: Registry, caller: Principal, asset_id: str, body: FreezeCreate
) -> PreparedTransaction:
    sender = _scoped(registry, caller, asset_id, body.sender)
    account = str(body.account)
    if body.amount is None:
        return registry.tokens.prepare_freeze_account(asset_id, account, sender=sender)
    amount = parse_amount(body.amount, registry.asset(asset_id).decimals, "amount")
    return registry.tokens.prepare_set_frozen_tokens(asset_id, account, amount, sender=sender)


def _freeze_changed(
    registry: Registry, asset_id: str, account: str, outcome: TxOutcome
) -> FreezeChangedPublic:
    return FreezeChangedPublic(
        freeze=freeze_public(registry, asset_id, account), transaction=TransactionPublic.of(outcome)
    )


def _complete_freeze(registry: Registry, prepared: Prepared, outcome: TxOutcome) -> FreezeChangedPublic:
    await_index(registry, outcome)
    context = prepared.context
    return _freeze_changed(registry, str(context["asset_id"]), str(context["account"]), outcome)


operation(FREEZE, FreezeChangedPublic, status_code=201)(_complete_freeze)
operation(UNFREEZE, FreezeChangedPublic)(_complete_freeze)

_FREEZE_DESCRIPTION = (
    "Without `amount`, freezes the account whole: it can neither send nor receive the token and payments "
    "to it are withheld. With `amount`, freezes exactly that many of its tokens (it may still move the "
    "rest; 0 lifts a partial freeze)."
)


@router.post(
    "/freezes",
    status_code=201,
    response_model=FreezeChangedPublic,
    dependencies=[ENFORCERS],
    summary="Freeze an account or some of its tokens",
    description=_FREEZE_DESCRIPTION,
)
def freeze(
    asset_id: AssetId, body: FreezeCreate, registry: RegistryDep, caller: PrincipalDep, idem: IdempotencyDep
) -> Response:
    """Freeze an account or some of its tokens."""

    def work() -> FreezeChangedPublic:
        tx = _prepared_freeze(registry, caller, asset_id, body)
        return _freeze_changed(registry, asset_id, str(body.account), _sent(registry, tx, asset_id))

    return idem.run(work, status_code=201)


@router.post(
    "/freezes/prepare",
    status_code=201,
    dependencies=[ENFORCERS],
    summary="Prepare a freeze for the enforcement agent to sign",
    description="The non-custodial twin of POST /assets/{asset_id}/freezes. " + _FREEZE_DESCRIPTION,
)
def prepare_freeze(
    asset_id: AssetId, body: FreezeCreate, registry: RegistryDep, caller: PrincipalDep, now: ClockDep
) -> PreparedPublic:
    """Prepare a freeze for the enforcement agent to sign."""
    tx = _prepared_freeze(registry, caller, asset_id, body)
    return prepare(
        registry, caller, FREEZE, tx, now=now, context={"asset_id": asset_id, "account": str(body.account)}
    )


def _prepared_unfreeze(
    registry: Registry, caller: Principal, asset_id: str, account: str, sender: str | None
) -> tuple[str, PreparedTransaction]:
    signer = _scoped(registry, caller, asset_id, sender)
    target = check_address(account, "account")
    state = freeze_public(registry, asset_id, target)
    if state.account_frozen:
        return target, registry.tokens.prepare_unfreeze_account(asset_id, target, sender=signer)
    if state.frozen != "0":
        return target, registry.tokens.prepare_set_frozen_tokens(asset_id, target, 0, sender=signer)
    raise not_found("freeze", f"{target} has no freeze on {asset_id}: nothing to lift")


_UNFREEZE_DESCRIPTION = (
    "Lifts an account's freeze, one transaction each: the whole-account freeze if there is one, else the "
    "partial freeze (its frozen tokens go to 0). The answer shows what remains; an account with neither "
    "is 404."
)


@router.delete(
    "/freezes/{account}",
    response_model=FreezeChangedPublic,
    dependencies=[ENFORCERS],
    summary="Lift an account's freeze",
    description=_UNFREEZE_DESCRIPTION,
)
def unfreeze(
    *,
    asset_id: AssetId,
    account: Account,
    registry: RegistryDep,
    caller: PrincipalDep,
    idem: IdempotencyDep,
    sender: SenderQuery = None,
) -> Response:
    """Lift an account's freeze."""

    def work() -> FreezeChangedPublic:
        target, tx = _prepared_unfreeze(registry, caller, asset_id, account, sender)
        return _freeze_changed(registry, asset_id, target, _sent(registry, tx, asset_id))

    return idem.run(work)


@router.delete(
    "/freezes/{account}/prepare",
    status_code=201,
    dependencies=[ENFORCERS],
    summary="Prepare lifting a freeze for the enforcement agent to sign",
    description="The non-custodial twin of DELETE /assets/{asset_id}/freezes/{account}. "
    + _UNFREEZE_DESCRIPTION,
)
def prepare_unfreeze(
    *,
    asset_id: AssetId,
    account: Account,
    registry: RegistryDep,
    caller: PrincipalDep,
    now: ClockDep,
    sender: SenderQuery = None,
) -> PreparedPublic:
    """Prepare lifting a freeze for the enforcement agent to sign."""
    target, tx = _prepared_unfreeze(registry, caller, asset_id, account, sender)
    return prepare(registry, caller, UNFREEZE, tx, now=now, context={"asset_id": asset_id, "account": target})


# -- forced transfers and recovery ----------------------------------------------------------------------


def _moved(
    registry: Registry, asset_id: str, source: str, destination: str, outcome: TxOutcome
) -> MovePublic:
    return MovePublic(
        source=freeze_public(registry, asset_id, source),
        destination=freeze_public(registry, asset_id, destination),
        transaction=TransactionPublic.of(outcome),
    )


def _complete_move(registry: Registry, prepared: Prepared, outcome: TxOutcome) -> MovePublic:
    await_index(registry, outcome)
    context = prepared.context
    return _moved(registry, str(context["asset_id"]), str(context["from"]), str(context["to"]), outcome)


operation(FORCED_TRANSFER, MovePublic, status_code=201)(_complete_move)
operation(RECOVERY, MovePublic, status_code=201)(_complete_move)


def _prepared_forced(
    registry: Registry, caller: Principal, asset_id: str, body: ForcedTransferCreate
) -> PreparedTransaction:
    sender = _scoped(registry, caller, asset_id, body.sender)
    amount = parse_amount(body.amount, registry.asset(asset_id).decimals, "amount")
    held = registry.tokens.balance_of(asset_id, str(body.source))
    if amount > held:
        raise OperationRefusedError(
            f"{body.source} holds {held} of {asset_id}, fewer than the {amount} to move; nothing was sent"
        )
    return registry.tokens.prepare_forced_transfer(
        asset_id, str(body.source), str(body.to), amount, sender=sender
    )


_FORCED_DESCRIPTION = (
    "Moves tokens from one account to another by force: pause, the source's freezes and the transfer rules "
    "do not apply; the receiver must still be able to hold them (a refusal lists every broken rule, 422, "
    "nothing sent). Moving more than the source holds is 409."
)


@router.post(
    "/forced-transfers",
    status_code=201,
    response_model=MovePublic,
    dependencies=[ENFORCERS],
    summary="Move tokens by force",
    description=_FORCED_DESCRIPTION,
)
def forced_transfer(
    asset_id: AssetId,
    body: ForcedTransferCreate,
    registry: RegistryDep,
    caller: PrincipalDep,
    idem: IdempotencyDep,
) -> Response:
    """Move tokens by force."""

    def work() -> MovePublic:
        tx = _prepared_forced(registry, caller, asset_id, body)
        return _moved(registry, asset_id, str(body.source), str(body.to), _sent(registry, tx, asset_id))

    return idem.run(work, status_code=201)


@router.post(
    "/forced-transfers/prepare",
    status_code=201,
    dependencies=[ENFORCERS],
    summary="Prepare a forced transfer for the enforcement agent to sign",
    description="The non-custodial twin of POST /assets/{asset_id}/forced-transfers. " + _FORCED_DESCRIPTION,
)
def prepare_forced_transfer(
    asset_id: AssetId, body: ForcedTransferCreate, registry: RegistryDep, caller: PrincipalDep, now: ClockDep
) -> PreparedPublic:
    """Prepare a forced transfer for the enforcement agent to sign."""
    tx = _prepared_forced(registry, caller, asset_id, body)
    context = {"asset_id": asset_id, "from": str(body.source), "to": str(body.to)}
    return prepare(registry, caller, FORCED_TRANSFER, tx, now=now, context=context)


def _prepared_recovery(
    registry: Registry, caller: Principal, asset_id: str, body: RecoveryCreate
) -> PreparedTransaction:
    sender = _scoped(registry, caller, asset_id, body.sender)
    return registry.tokens.prepare_recover_wallet(
        asset_id, str(body.lost), str(body.replacement), sender=sender
    )


_RECOVERY_DESCRIPTION = (
    "Recovers a lost wallet to another verified wallet of the same investor (kyc mode only): its balance, "
    "freezes and the entitlements it earned move, and the lost wallet is frozen. A replacement of another "
    "investor, or not verified, is 409 and nothing is sent."
)


@router.post(
    "/recoveries",
    status_code=201,
    response_model=MovePublic,
    dependencies=[ENFORCERS],
    summary="Recover a lost wallet",
    description=_RECOVERY_DESCRIPTION,
)
def recover_wallet(
    asset_id: AssetId, body: RecoveryCreate, registry: RegistryDep, caller: PrincipalDep, idem: IdempotencyDep
) -> Response:
    """Recover a lost wallet."""

    def work() -> MovePublic:
        tx = _prepared_recovery(registry, caller, asset_id, body)
        return _moved(
            registry, asset_id, str(body.lost), str(body.replacement), _sent(registry, tx, asset_id)
        )

    return idem.run(work, status_code=201)


@router.post(
    "/recoveries/prepare",
    status_code=201,
    dependencies=[ENFORCERS],
    summary="Prepare a wallet recovery for the enforcement agent to sign",
    description="The non-custodial twin of POST /assets/{asset_id}/recoveries. " + _RECOVERY_DESCRIPTION,
)
def prepare_recovery(
    asset_id: AssetId, body: RecoveryCreate, registry: RegistryDep, caller: PrincipalDep, now: ClockDep
) -> PreparedPublic:
    """Prepare a wallet recovery for the enforcement agent to sign."""
    tx = _prepared_recovery(registry, caller, asset_id, body)
    context = {"asset_id": asset_id, "from": str(body.lost), "to": str(body.replacement)}
    return prepare(registry, caller, RECOVERY, tx, now=now, context=context)
