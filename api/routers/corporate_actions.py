"""Corporate actions: a stock's split (or reverse split); a bond's call, the funding of its redemption,
holders redeeming, and the sweep of redemption cash nobody can claim any more."""

from __future__ import annotations

from typing import Annotated

from eth_utils.address import to_checksum_address
from fastapi import APIRouter, Body, Path

from api.asset_ops import HOLDERS, ISSUERS, SENDING, cash_decimals, event, landed, operated
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
from api.security import Principal, allow
from api.sending import Built, Doc, Sent, sending
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


# -- answers (from the mined transaction; the custodial form and POST /transactions give the same) ------


def _split(registry: Registry, sent: Sent) -> SplitPublic:
    asset = _asset(registry, sent.context["asset_id"], "stock")
    args = event(registry, asset, sent.outcome, "StockSplit")
    landed(registry, sent.outcome)
    return SplitPublic(
        numerator=int(args["numerator"]),
        denominator=int(args["denominator"]),
        total_supply=format_amount(int(args["newTotalSupply"]), asset.decimals),
        transaction=TransactionPublic.of(sent.outcome),
    )


def _called(registry: Registry, sent: Sent) -> CalledPublic:
    asset = _asset(registry, sent.context["asset_id"], "bond")
    args = event(registry, asset, sent.outcome, "BondCalled")
    landed(registry, sent.outcome)
    return CalledPublic(
        called_at=iso(int(args["calledAt"])),
        call_price=format_amount(int(args["callPrice"]), cash_decimals(registry, asset)),
        transaction=TransactionPublic.of(sent.outcome),
    )


def _funded(registry: Registry, sent: Sent) -> RedemptionFundedPublic:
    asset = _asset(registry, sent.context["asset_id"], "bond")
    args = event(registry, asset, sent.outcome, "RedemptionFunded")
    landed(registry, sent.outcome)
    decimals = cash_decimals(registry, asset)
    return RedemptionFundedPublic(
        price=format_amount(int(args["price"]), decimals),
        amount=format_amount(int(args["amount"]), decimals),
        approval=TransactionPublic.of(sent.approval) if sent.approval is not None else None,
        transaction=TransactionPublic.of(sent.outcome),
    )


def _redeemed(registry: Registry, sent: Sent) -> RedeemedPublic:
    asset = _asset(registry, sent.context["asset_id"], "bond")
    args = event(registry, asset, sent.outcome, "Redeemed")
    landed(registry, sent.outcome)
    return RedeemedPublic(
        holder=to_checksum_address(args["holder"]),
        amount=format_amount(int(args["amount"]), asset.decimals),
        payout=format_amount(int(args["payout"]), cash_decimals(registry, asset)),
        transaction=TransactionPublic.of(sent.outcome),
    )


def _swept(registry: Registry, sent: Sent) -> SweptPublic:
    asset = _asset(registry, sent.context["asset_id"], "bond")
    args = event(registry, asset, sent.outcome, "RedemptionSwept")
    landed(registry, sent.outcome)
    return SweptPublic(
        funder=to_checksum_address(args["funder"]),
        amount=format_amount(int(args["amount"]), cash_decimals(registry, asset)),
        transaction=TransactionPublic.of(sent.outcome),
    )


# -- splits -------------------------------------------------------------------------------------------


def _split_tx(registry: Registry, caller: Principal, asset_id: AssetId, body: SplitCreate) -> Built:
    asset, sender = operated(registry, caller, asset_id, "stock", body.sender)
    tx = registry.stocks.prepare_split(asset.asset_id, body.numerator, body.denominator, sender=sender)
    return Built.on_asset(tx, asset_id)


sending(
    router,
    "/splits",
    SPLIT,
    SplitPublic,
    build=_split_tx,
    answer=_split,
    dependencies=[allow(*ISSUERS)],
    custodial=Doc(
        "split",
        "Split a stock",
        "Splits the shares `numerator` for `denominator` (2 for 1 doubles every balance; 1 for 10 is a "
        "reverse split), every balance at once. A ratio the token cannot represent exactly, or numerator = "
        "denominator, is 422 naming the field; nothing is sent. The stock's issuer (or an admin) sends it, "
        "with the supply role." + SENDING,
    ),
    prepared=Doc(
        "prepare_split", "Prepare a split for the issuer to sign", "The non-custodial twin of the split."
    ),
)


# -- call ---------------------------------------------------------------------------------------------


def _call_tx(registry: Registry, caller: Principal, asset_id: AssetId, body: Empty) -> Built:
    asset, sender = operated(registry, caller, asset_id, "bond", body.sender)
    tx = registry.bonds.prepare_call(asset.asset_id, sender=sender)
    return Built.on_asset(tx, asset.asset_id)


sending(
    router,
    "/call",
    CALL,
    CalledPublic,
    build=_call_tx,
    answer=_called,
    dependencies=[allow(*ISSUERS)],
    custodial=Doc(
        "call_bond",
        "Call a bond",
        "Calls the bond before maturity at its call price (supply role): no more coupon periods, and holders "
        "redeem at the call price once the redemption is funded. Not callable (call price 0), before "
        "`callable_from`, already called or matured: 409, nothing sent." + SENDING,
    ),
    prepared=Doc(
        "prepare_call_bond",
        "Prepare a bond's call for the issuer to sign",
        "The non-custodial twin of the call.",
    ),
)


# -- redemption ---------------------------------------------------------------------------------------


def _fund_tx(registry: Registry, caller: Principal, asset_id: AssetId, body: Empty) -> Built:
    asset, sender = operated(registry, caller, asset_id, "bond", body.sender)
    tx = registry.bonds.prepare_fund_redemption(asset.asset_id, sender=sender)
    return Built.on_asset(tx, asset.asset_id)


def _fund_custodially(registry: Registry, caller: Principal, asset_id: str, body: SenderBody) -> Sent:
    """Approves the bond for the cash first when the allowance is short (`Sent.approval`)."""
    asset, sender = operated(registry, caller, asset_id, "bond", body.sender)
    funding = registry.bonds.fund_redemption(asset.asset_id, sender=sender)
    return Sent(funding.outcome, {"asset_id": asset.asset_id}, approval=funding.approval)


sending(
    router,
    "/redemption/fund",
    FUND,
    RedemptionFundedPublic,
    build=_fund_tx,
    custody=_fund_custodially,
    answer=_funded,
    dependencies=[allow(*ISSUERS)],
    custodial=Doc(
        "fund_redemption",
        "Fund a bond's redemption",
        "Pays in the redemption of every outstanding bond at the redemption price (the call price once "
        "called, else the denomination), after maturity or a call, from the sender's cash (custody approves "
        "the bond first when the allowance is short). Before maturity without a call, funded already, or "
        "cash short: 409, nothing sent." + SENDING,
    ),
    prepared=Doc(
        "prepare_fund_redemption",
        "Prepare a redemption's funding for the issuer to sign",
        "The non-custodial twin of the funding. Approve the bond for the amount on the cash token first with "
        "your own wallet (an ERC-20 `approve` through the chain's JSON-RPC): the funding is refused (409, "
        "naming the amount) until the allowance is there.",
    ),
)


def _redeem_tx(registry: Registry, caller: Principal, asset_id: AssetId, body: RedeemCreate) -> Built:
    asset = _asset(registry, asset_id, "bond")
    sender = caller.sender(body.sender)
    amount = parse_amount(body.amount, asset.decimals, "amount")
    tx = registry.bonds.prepare_redeem(asset.asset_id, amount, sender=sender)
    return Built.on_asset(tx, asset_id)


sending(
    router,
    "/redemptions",
    REDEEM,
    RedeemedPublic,
    build=_redeem_tx,
    answer=_redeemed,
    dependencies=[allow(*HOLDERS)],
    custodial=Doc(
        "redeem",
        "Redeem bonds",
        "Redeems `amount` of the sender's bonds once the redemption is funded: they are burnt and the "
        "redemption price paid to the sender, until the claim period ends. An investor key redeems from its "
        "own wallets. A payment the bond would withhold (holder frozen, not verified, re-linked, token "
        "paused) is refused before sending: 422 `payment-withheld`, naming `RegulatedTokenPaymentWithheld`, "
        "the rule and what clears it. More than the sender holds: 422 naming `amount`; not funded: 409."
        + SENDING,
    ),
    prepared=Doc(
        "prepare_redeem",
        "Prepare a redemption for the holder's wallet to sign",
        "The non-custodial twin of the redemption: the same checks, then the unsigned transaction.",
    ),
)


def _sweep_tx(registry: Registry, caller: Principal, asset_id: AssetId, body: Empty) -> Built:
    asset, sender = operated(registry, caller, asset_id, "bond", body.sender)
    tx = registry.bonds.prepare_sweep_redemption(asset.asset_id, sender=sender)
    return Built.on_asset(tx, asset.asset_id)


sending(
    router,
    "/redemption/sweep",
    SWEEP,
    SweptPublic,
    build=_sweep_tx,
    answer=_swept,
    dependencies=[allow(*ISSUERS)],
    custodial=Doc(
        "sweep_redemption",
        "Sweep redemption cash nobody can claim",
        "Returns to the account that funded the redemption what no outstanding bond can claim: at once the "
        "cash of bonds burnt after funding, after the claim period everything left (supply role; never "
        "while paused). Nothing sweepable: 409, nothing sent." + SENDING,
    ),
    prepared=Doc(
        "prepare_sweep_redemption",
        "Prepare a redemption sweep for the issuer to sign",
        "The non-custodial twin of the redemption sweep.",
    ),
)
