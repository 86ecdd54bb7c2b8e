"""Corporate actions: a stock's split (or reverse split); a bond's call, the funding of its redemption,
holders redeeming, and the sweep of redemption cash nobody can claim any more."""

from __future__ import annotations

from typing import Annotated

from eth_utils.address import to_checksum_address
from fastapi import APIRouter, Body, Path
from fastapi.responses import Response

from api.asset_ops import HOLDERS, ISSUERS, SENDING, cash_decimals, event, landed, operated
from api.deps import ClockDep, IdempotencyDep, PrincipalDep, RegistryDep
from api.prepared import operation, prepare
from api.schemas.common import TransactionPublic, format_amount, iso, parse_amount
from api.schemas.corporate_actions import (
    CalledPublic,
    RedeemCreate,
    RedeemedPublic,
    RedemptionFundedPublic,
    SplitCreate,
    SplitPublic,
)
from api.schemas.distributions import SenderBody, SweptPublic
from api.schemas.transactions import PreparedPublic
from api.security import Principal, allow
from registry.access.prepared import Prepared
from registry.custody.transactions import PreparedTransaction, TxOutcome
from registry.index.catalogue import AssetRecord
from registry.runtime import Registry

TAG = {
    "name": "corporate-actions",
    "description": "Splits of a stock; a bond's call before maturity, the funding of its redemption (after "
    "maturity or a call), holders redeeming their bonds for cash, and the sweep of what nobody can redeem "
    "any more. Bond amounts are whole bonds; cash amounts are in the cash token's units.",
}

router = APIRouter(prefix="/assets/{asset_id}", tags=["corporate-actions"])

AssetId = Annotated[
    str, Path(max_length=64, description="The asset's id.", examples=["bond-5f0c2a9d11e3b7a40c21"])
]
Empty = Annotated[SenderBody, Body(default_factory=SenderBody)]

SPLIT, CALL = "corporate-actions.split", "corporate-actions.call"
FUND, REDEEM, SWEEP = (
    "corporate-actions.fund-redemption",
    "corporate-actions.redeem",
    "corporate-actions.sweep-redemption",
)


def _asset(registry: Registry, asset_id: str, kind: str) -> AssetRecord:
    return registry.context.asset(asset_id, kinds=(kind,))


# -- answers ------------------------------------------------------------------------------------------


def _split(registry: Registry, asset_id: str, outcome: TxOutcome) -> SplitPublic:
    asset = _asset(registry, asset_id, "stock")
    args = event(registry, asset, outcome, "StockSplit")
    landed(registry, outcome)
    return SplitPublic(
        numerator=int(args["numerator"]),
        denominator=int(args["denominator"]),
        total_supply=format_amount(int(args["newTotalSupply"]), asset.decimals),
        transaction=TransactionPublic.of(outcome),
    )


def _called(registry: Registry, asset_id: str, outcome: TxOutcome) -> CalledPublic:
    asset = _asset(registry, asset_id, "bond")
    args = event(registry, asset, outcome, "BondCalled")
    landed(registry, outcome)
    return CalledPublic(
        called_at=iso(int(args["calledAt"])),
        call_price=format_amount(int(args["callPrice"]), cash_decimals(registry, asset)),
        transaction=TransactionPublic.of(outcome),
    )


def _funded(
    registry: Registry, asset_id: str, outcome: TxOutcome, approval: TxOutcome | None
) -> RedemptionFundedPublic:
    asset = _asset(registry, asset_id, "bond")
    args = event(registry, asset, outcome, "RedemptionFunded")
    landed(registry, outcome)
    decimals = cash_decimals(registry, asset)
    return RedemptionFundedPublic(
        price=format_amount(int(args["price"]), decimals),
        amount=format_amount(int(args["amount"]), decimals),
        approval=TransactionPublic.of(approval) if approval is not None else None,
        transaction=TransactionPublic.of(outcome),
    )


def _redeemed(registry: Registry, asset_id: str, outcome: TxOutcome) -> RedeemedPublic:
    asset = _asset(registry, asset_id, "bond")
    args = event(registry, asset, outcome, "Redeemed")
    landed(registry, outcome)
    return RedeemedPublic(
        holder=to_checksum_address(args["holder"]),
        amount=format_amount(int(args["amount"]), asset.decimals),
        payout=format_amount(int(args["payout"]), cash_decimals(registry, asset)),
        transaction=TransactionPublic.of(outcome),
    )


def _swept(registry: Registry, asset_id: str, outcome: TxOutcome) -> SweptPublic:
    asset = _asset(registry, asset_id, "bond")
    args = event(registry, asset, outcome, "RedemptionSwept")
    landed(registry, outcome)
    return SweptPublic(
        funder=to_checksum_address(args["funder"]),
        amount=format_amount(int(args["amount"]), cash_decimals(registry, asset)),
        transaction=TransactionPublic.of(outcome),
    )


@operation(SPLIT, SplitPublic)
def _complete_split(registry: Registry, prepared: Prepared, outcome: TxOutcome) -> SplitPublic:
    return _split(registry, prepared.context["asset_id"], outcome)


@operation(CALL, CalledPublic)
def _complete_call(registry: Registry, prepared: Prepared, outcome: TxOutcome) -> CalledPublic:
    return _called(registry, prepared.context["asset_id"], outcome)


@operation(FUND, RedemptionFundedPublic)
def _complete_fund(registry: Registry, prepared: Prepared, outcome: TxOutcome) -> RedemptionFundedPublic:
    return _funded(registry, prepared.context["asset_id"], outcome, None)


@operation(REDEEM, RedeemedPublic)
def _complete_redeem(registry: Registry, prepared: Prepared, outcome: TxOutcome) -> RedeemedPublic:
    return _redeemed(registry, prepared.context["asset_id"], outcome)


@operation(SWEEP, SweptPublic)
def _complete_sweep(registry: Registry, prepared: Prepared, outcome: TxOutcome) -> SweptPublic:
    return _swept(registry, prepared.context["asset_id"], outcome)


# -- splits -------------------------------------------------------------------------------------------


def _split_tx(registry: Registry, caller: Principal, asset_id: str, body: SplitCreate) -> PreparedTransaction:
    asset, sender = operated(registry, caller, asset_id, "stock", body.sender)
    return registry.stocks.prepare_split(asset.asset_id, body.numerator, body.denominator, sender=sender)


@router.post(
    "/splits",
    response_model=SplitPublic,
    dependencies=[allow(*ISSUERS)],
    summary="Split a stock",
    description="Splits the shares `numerator` for `denominator` (2 for 1 doubles every balance; 1 for 10 "
    "is a reverse split), every balance at once. A ratio the token cannot represent exactly, or "
    "numerator = denominator, is 422 naming the field; nothing is sent. The stock's issuer (or an admin) "
    "sends it, with the supply role." + SENDING,
)
def split(
    asset_id: AssetId, body: SplitCreate, registry: RegistryDep, caller: PrincipalDep, idem: IdempotencyDep
) -> Response:
    """Split a stock."""

    def work() -> SplitPublic:
        return _split(
            registry,
            asset_id,
            registry.context.send(_split_tx(registry, caller, asset_id, body), asset_id=asset_id),
        )

    return idem.run(work)


@router.post(
    "/splits/prepare",
    status_code=201,
    dependencies=[allow(*ISSUERS)],
    summary="Prepare a split for the issuer to sign",
    description="The non-custodial twin of the split.",
)
def prepare_split(
    asset_id: AssetId, body: SplitCreate, registry: RegistryDep, caller: PrincipalDep, now: ClockDep
) -> PreparedPublic:
    """Prepare a split."""
    tx = _split_tx(registry, caller, asset_id, body)
    return prepare(registry, caller, SPLIT, tx, now=now, context={"asset_id": asset_id})


# -- call ---------------------------------------------------------------------------------------------


@router.post(
    "/call",
    response_model=CalledPublic,
    dependencies=[allow(*ISSUERS)],
    summary="Call a bond",
    description="Calls the bond before maturity at its call price (supply role): no more coupon periods, "
    "and holders redeem at the call price once the redemption is funded. Not callable (call price 0), "
    "before `callable_from`, already called or matured: 409, nothing sent." + SENDING,
)
def call_bond(
    asset_id: AssetId, registry: RegistryDep, caller: PrincipalDep, idem: IdempotencyDep, body: Empty
) -> Response:
    """Call a bond."""

    def work() -> CalledPublic:
        asset, sender = operated(registry, caller, asset_id, "bond", body.sender)
        return _called(registry, asset.asset_id, registry.bonds.call(asset.asset_id, sender=sender))

    return idem.run(work)


@router.post(
    "/call/prepare",
    status_code=201,
    dependencies=[allow(*ISSUERS)],
    summary="Prepare a bond's call for the issuer to sign",
    description="The non-custodial twin of the call.",
)
def prepare_call_bond(
    asset_id: AssetId, registry: RegistryDep, caller: PrincipalDep, now: ClockDep, body: Empty
) -> PreparedPublic:
    """Prepare a bond's call."""
    asset, sender = operated(registry, caller, asset_id, "bond", body.sender)
    tx = registry.bonds.prepare_call(asset.asset_id, sender=sender)
    return prepare(registry, caller, CALL, tx, now=now, context={"asset_id": asset.asset_id})


# -- redemption ---------------------------------------------------------------------------------------


@router.post(
    "/redemption/fund",
    response_model=RedemptionFundedPublic,
    dependencies=[allow(*ISSUERS)],
    summary="Fund a bond's redemption",
    description="Pays in the redemption of every outstanding bond at the redemption price (the call price "
    "once called, else the denomination), after maturity or a call, from the sender's cash (custody "
    "approves the bond first when the allowance is short). Before maturity without a call, funded "
    "already, or cash short: 409, nothing sent." + SENDING,
)
def fund_redemption(
    asset_id: AssetId, registry: RegistryDep, caller: PrincipalDep, idem: IdempotencyDep, body: Empty
) -> Response:
    """Fund a bond's redemption."""

    def work() -> RedemptionFundedPublic:
        asset, sender = operated(registry, caller, asset_id, "bond", body.sender)
        funding = registry.bonds.fund_redemption(asset.asset_id, sender=sender)
        return _funded(registry, asset.asset_id, funding.outcome, funding.approval)

    return idem.run(work)


@router.post(
    "/redemption/fund/prepare",
    status_code=201,
    dependencies=[allow(*ISSUERS)],
    summary="Prepare a redemption's funding for the issuer to sign",
    description="The non-custodial twin of the funding. Approve the bond for the amount on the cash token "
    "first with your own wallet (an ERC-20 `approve` through the chain's JSON-RPC): the funding is "
    "refused (409, naming the amount) until the allowance is there.",
)
def prepare_fund_redemption(
    asset_id: AssetId, registry: RegistryDep, caller: PrincipalDep, now: ClockDep, body: Empty
) -> PreparedPublic:
    """Prepare a redemption's funding."""
    asset, sender = operated(registry, caller, asset_id, "bond", body.sender)
    tx = registry.bonds.prepare_fund_redemption(asset.asset_id, sender=sender)
    return prepare(registry, caller, FUND, tx, now=now, context={"asset_id": asset.asset_id})


def _redeem_tx(
    registry: Registry, caller: Principal, asset_id: str, body: RedeemCreate
) -> PreparedTransaction:
    asset = _asset(registry, asset_id, "bond")
    sender = caller.sender(body.sender)
    amount = parse_amount(body.amount, asset.decimals, "amount")
    return registry.bonds.prepare_redeem(asset.asset_id, amount, sender=sender)


@router.post(
    "/redemptions",
    response_model=RedeemedPublic,
    dependencies=[allow(*HOLDERS)],
    summary="Redeem bonds",
    description="Redeems `amount` of the sender's bonds once the redemption is funded: they are burnt and "
    "the redemption price paid to the sender, until the claim period ends. An investor key redeems from "
    "its own wallets. A payment the bond would withhold (holder frozen, not verified, re-linked, token "
    "paused) is refused before sending: 422 `payment-withheld`, naming `RegulatedTokenPaymentWithheld`, "
    "the rule and what clears it. More than the sender holds: 422 naming `amount`; not funded: 409."
    + SENDING,
)
def redeem(
    asset_id: AssetId, body: RedeemCreate, registry: RegistryDep, caller: PrincipalDep, idem: IdempotencyDep
) -> Response:
    """Redeem bonds."""

    def work() -> RedeemedPublic:
        tx = _redeem_tx(registry, caller, asset_id, body)
        return _redeemed(registry, asset_id, registry.context.send(tx, asset_id=asset_id))

    return idem.run(work)


@router.post(
    "/redemptions/prepare",
    status_code=201,
    dependencies=[allow(*HOLDERS)],
    summary="Prepare a redemption for the holder's wallet to sign",
    description="The non-custodial twin of the redemption: the same checks, then the unsigned transaction.",
)
def prepare_redeem(
    asset_id: AssetId, body: RedeemCreate, registry: RegistryDep, caller: PrincipalDep, now: ClockDep
) -> PreparedPublic:
    """Prepare a redemption."""
    tx = _redeem_tx(registry, caller, asset_id, body)
    return prepare(registry, caller, REDEEM, tx, now=now, context={"asset_id": asset_id})


@router.post(
    "/redemption/sweep",
    response_model=SweptPublic,
    dependencies=[allow(*ISSUERS)],
    summary="Sweep redemption cash nobody can claim",
    description="Returns to the account that funded the redemption what no outstanding bond can claim: "
    "at once the cash of bonds burnt after funding, after the claim period everything left (supply role; "
    "never while paused). Nothing sweepable: 409, nothing sent." + SENDING,
)
def sweep_redemption(
    asset_id: AssetId, registry: RegistryDep, caller: PrincipalDep, idem: IdempotencyDep, body: Empty
) -> Response:
    """Sweep a bond's redemption."""

    def work() -> SweptPublic:
        asset, sender = operated(registry, caller, asset_id, "bond", body.sender)
        return _swept(
            registry, asset.asset_id, registry.bonds.sweep_redemption(asset.asset_id, sender=sender)
        )

    return idem.run(work)


@router.post(
    "/redemption/sweep/prepare",
    status_code=201,
    dependencies=[allow(*ISSUERS)],
    summary="Prepare a redemption sweep for the issuer to sign",
    description="The non-custodial twin of the redemption sweep.",
)
def prepare_sweep_redemption(
    asset_id: AssetId, registry: RegistryDep, caller: PrincipalDep, now: ClockDep, body: Empty
) -> PreparedPublic:
    """Prepare a redemption sweep."""
    asset, sender = operated(registry, caller, asset_id, "bond", body.sender)
    tx = registry.bonds.prepare_sweep_redemption(asset.asset_id, sender=sender)
    return prepare(registry, caller, SWEEP, tx, now=now, context={"asset_id": asset.asset_id})
