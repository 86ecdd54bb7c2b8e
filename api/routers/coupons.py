"""Coupons of a bond: schedule a period (its record date), fund it, claim, sweep what is left; list the
periods from the index with what was funded, claimed and swept."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query

from api.asset_ops import (
    CLAIMERS,
    ISSUERS,
    SENDING,
    cash_decimals,
    claimed,
    claimer,
    event,
    landed,
    next_page,
    operated,
    page_position,
    swept,
)
from api.deps import PageDep, RegistryDep
from api.schemas.common import TransactionPublic, format_amount, iso
from api.schemas.distributions import (
    ClaimCreate,
    ClaimedPublic,
    CouponCreate,
    CouponPeriodPublic,
    CouponPeriodsPublic,
    CouponScheduledPublic,
    FundedPublic,
    SenderBody,
    SweptPublic,
)
from api.security import EVERY_ROLE, Principal, allow
from api.sending import Built, Doc, Sent, sending
from registry.index import queries
from registry.index.catalogue import AssetRecord
from registry.runtime import Registry

TAG = {
    "name": "coupons",
    "description": "A bond's coupons: the issuer schedules a period with a record date, funds it once the "
    "date has passed (the supply at the record date times the coupon per bond, from its cash), holders "
    "claim (pull-based: the cost is the same for 10 or 10,000 holders), and after the claim period the "
    "issuer sweeps back what is left. Amounts are in the cash token's units.",
}

router = APIRouter(prefix="/assets/{asset_id}/coupons", tags=["coupons"])

AssetId = Annotated[
    str, Path(max_length=64, description="The bond's asset id.", examples=["bond-5f0c2a9d11e3b7a40c21"])
]
PeriodId = Annotated[int, Path(ge=0, le=2**32, description="The coupon period's id.", examples=[0])]
Empty = Annotated[SenderBody, Body(default_factory=SenderBody)]
Claim = Annotated[ClaimCreate, Body(default_factory=ClaimCreate)]

SCHEDULE, FUND, CLAIM, SWEEP = "coupons.schedule", "coupons.fund", "coupons.claim", "coupons.sweep"


def _bond(registry: Registry, asset_id: str) -> AssetRecord:
    return registry.context.asset(asset_id, kinds=("bond",))


# -- answers (from the mined transaction; the custodial form and POST /transactions give the same) ------


def _scheduled(registry: Registry, sent: Sent) -> CouponScheduledPublic:
    args = event(registry, _bond(registry, sent.context["asset_id"]), sent.outcome, "CouponPeriodScheduled")
    landed(registry, sent.outcome)
    return CouponScheduledPublic(
        period_id=int(args["periodId"]),
        record_date=iso(int(args["recordDate"])),
        transaction=TransactionPublic.of(sent.outcome),
    )


def _funded(registry: Registry, sent: Sent) -> FundedPublic:
    asset = _bond(registry, sent.context["asset_id"])
    args = event(registry, asset, sent.outcome, "CouponFunded")
    landed(registry, sent.outcome)
    return FundedPublic(
        amount=format_amount(int(args["amount"]), cash_decimals(registry, asset)),
        approval=TransactionPublic.of(sent.approval) if sent.approval is not None else None,
        transaction=TransactionPublic.of(sent.outcome),
    )


def _claimed(registry: Registry, sent: Sent) -> ClaimedPublic:
    return claimed(registry, _bond(registry, sent.context["asset_id"]), sent.outcome, "CouponClaimed")


def _swept(registry: Registry, sent: Sent) -> SweptPublic:
    return swept(registry, _bond(registry, sent.context["asset_id"]), sent.outcome, "CouponSwept", "funder")


# -- reads --------------------------------------------------------------------------------------------


@router.get(
    "",
    dependencies=[allow(*EVERY_ROLE)],
    summary="List a bond's coupon periods",
    description="The coupon periods the index holds, by period id, as of `block` (default: the index's "
    "head; the pages of one listing stay at the first page's block): record date, coupon per bond, and "
    "the cash funded, claimed, swept and still outstanding, in the cash token's units "
    "(funded = claimed + swept + outstanding).",
)
def list_coupons(
    asset_id: AssetId,
    registry: RegistryDep,
    page: PageDep,
    block: Annotated[
        int | None, Query(ge=0, description="As of this indexed block (default: the head).")
    ] = None,
) -> CouponPeriodsPublic:
    """List a bond's coupon periods."""
    asset = _bond(registry, asset_id)
    decimals = cash_decimals(registry, asset)
    with registry.db.read() as session:
        position = page_position(session, asset.chain, page.cursor, block)
        at = position.block
        periods = [
            p
            for p in queries.coupon_periods(session, asset.asset_id, block=at)
            if p.period_id > position.after
        ]
        items = periods[: page.limit]
        following = (
            next_page(session, asset.chain, items[-1].period_id, at) if len(periods) > page.limit else None
        )
    return CouponPeriodsPublic(
        items=[
            CouponPeriodPublic(
                period_id=p.period_id,
                record_date=iso(p.record_date),
                coupon_per_bond=format_amount(p.coupon_per_bond, decimals),
                funded=p.funded,
                funded_amount=format_amount(p.funded_amount, decimals),
                claimed_amount=format_amount(p.claimed_amount, decimals),
                claims=p.claims,
                swept_amount=format_amount(p.swept_amount, decimals),
                outstanding=format_amount(p.funded_amount - p.claimed_amount - p.swept_amount, decimals),
            )
            for p in items
        ],
        next_cursor=following,
        block=at,
    )


# -- schedule -----------------------------------------------------------------------------------------


def _schedule(registry: Registry, caller: Principal, asset_id: AssetId, body: CouponCreate) -> Built:
    asset, sender = operated(registry, caller, asset_id, "bond", body.sender)
    tx = registry.bonds.prepare_schedule_coupon(
        asset.asset_id, int(body.record_date.timestamp()), sender=sender
    )
    return Built.on_asset(tx, asset.asset_id)


sending(
    router,
    "",
    SCHEDULE,
    CouponScheduledPublic,
    status_code=201,
    build=_schedule,
    answer=_scheduled,
    dependencies=[allow(*ISSUERS)],
    custodial=Doc(
        "schedule_coupon",
        "Schedule a coupon period",
        "Schedules a coupon period whose holders are those at `record_date` (after the issue date, at most "
        "the maturity, in the chain's future, after every earlier record date: a bad date is 422 naming "
        "it). The bond's issuer (or an admin) sends it; the sender needs the bond's supply role. A "
        "zero-coupon or called bond refuses it (409)." + SENDING,
    ),
    prepared=Doc(
        "prepare_schedule_coupon",
        "Prepare a coupon period's scheduling for the issuer to sign",
        "The non-custodial twin of POST /assets/{asset_id}/coupons: the same checks, then the unsigned "
        "transaction. Post it signed to POST /transactions: the answer is the custodial form's.",
    ),
)


# -- fund ---------------------------------------------------------------------------------------------


def _fund(
    registry: Registry, caller: Principal, asset_id: AssetId, period_id: PeriodId, body: Empty
) -> Built:
    asset, sender = operated(registry, caller, asset_id, "bond", body.sender)
    tx = registry.bonds.prepare_fund_coupon(asset.asset_id, period_id, sender=sender)
    return Built.on_asset(tx, asset.asset_id)


def _fund_custodially(
    registry: Registry, caller: Principal, asset_id: str, period_id: int, body: SenderBody
) -> Sent:
    """Approves the bond for the cash first when the allowance is short (`Sent.approval`)."""
    asset, sender = operated(registry, caller, asset_id, "bond", body.sender)
    funding = registry.bonds.fund_coupon(asset.asset_id, period_id, sender=sender)
    return Sent(funding.outcome, {"asset_id": asset.asset_id}, approval=funding.approval)


sending(
    router,
    "/{period_id}/fund",
    FUND,
    FundedPublic,
    build=_fund,
    custody=_fund_custodially,
    answer=_funded,
    dependencies=[allow(*ISSUERS)],
    custodial=Doc(
        "fund_coupon",
        "Fund a coupon period",
        "Pays coupon period `period_id` into the bond once its record date has passed: the supply at the "
        "record date times the coupon per bond, from the sender's cash (custody approves the bond for it "
        "first when the allowance is short, and answers that approval too). Refused before anything is sent "
        "(409) when the record date has not passed, the period is funded already, or the sender's cash is "
        "short; an unknown period is 422 naming `period_id`." + SENDING,
    ),
    prepared=Doc(
        "prepare_fund_coupon",
        "Prepare a coupon period's funding for the issuer to sign",
        "The non-custodial twin of the funding. Approve the bond for the amount on the cash token first, "
        "with your own wallet (an ERC-20 `approve` through the chain's JSON-RPC): the funding is refused "
        "(409, naming the amount) until the allowance is there.",
    ),
)


# -- claim --------------------------------------------------------------------------------------------


def _claim(
    registry: Registry, caller: Principal, asset_id: AssetId, period_id: PeriodId, body: Claim
) -> Built:
    asset = _bond(registry, asset_id)
    sender, holder = claimer(registry, caller, asset, body.holder, body.sender)
    if holder is None:
        tx = registry.bonds.prepare_claim_coupon(asset.asset_id, period_id, sender=sender)
    else:
        tx = registry.bonds.prepare_claim_coupon_for(asset.asset_id, period_id, holder, sender=sender)
    return Built.on_asset(tx, asset_id)


sending(
    router,
    "/{period_id}/claim",
    CLAIM,
    ClaimedPublic,
    build=_claim,
    answer=_claimed,
    dependencies=[allow(*CLAIMERS)],
    custodial=Doc(
        "claim_coupon",
        "Claim a coupon",
        "Claims the coupon of period `period_id` for `holder` (default: the sender): the holder's bonds at "
        "the record date times the coupon per bond, paid to the holder or to the wallet it was recovered "
        "to, never to the sender. An investor key claims for its own wallets; the bond's issuer (the paying "
        "agent, with the supply role) or an admin may claim on a holder's behalf, as the contract allows "
        "(README, Claims on behalf). A payment the bond would withhold (holder frozen, not verified, wallet "
        "re-linked, token paused) is refused before sending: 422 `payment-withheld`, naming the custom "
        "error `RegulatedTokenPaymentWithheld`, the rule, and what clears it; the entitlement stays owed. "
        "Already claimed, not funded or past the claim period: 409 with the contract's error." + SENDING,
    ),
    prepared=Doc(
        "prepare_claim_coupon",
        "Prepare a coupon claim for the holder's wallet to sign",
        "The non-custodial twin of the claim: the same checks (a withheld payment is refused here already), "
        "then the unsigned transaction.",
    ),
)


# -- sweep --------------------------------------------------------------------------------------------


def _sweep(
    registry: Registry, caller: Principal, asset_id: AssetId, period_id: PeriodId, body: Empty
) -> Built:
    asset, sender = operated(registry, caller, asset_id, "bond", body.sender)
    tx = registry.bonds.prepare_sweep_coupon(asset.asset_id, period_id, sender=sender)
    return Built.on_asset(tx, asset.asset_id)


sending(
    router,
    "/{period_id}/sweep",
    SWEEP,
    SweptPublic,
    build=_sweep,
    answer=_swept,
    dependencies=[allow(*ISSUERS)],
    custodial=Doc(
        "sweep_coupon",
        "Sweep what is left of a coupon period",
        "Returns to the account that funded period `period_id` the cash nobody can claim any more, once its "
        "claim period has ended (supply role; never while paused). Before that, or with nothing left: 409, "
        "nothing sent." + SENDING,
    ),
    prepared=Doc(
        "prepare_sweep_coupon",
        "Prepare a coupon sweep for the issuer to sign",
        "The non-custodial twin of the sweep.",
    ),
)
