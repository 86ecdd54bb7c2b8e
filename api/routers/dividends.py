"""Dividends of a stock: declare one (paid in at once), claim, sweep what is left; list them from the
index with what was claimed and swept."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query

from api.asset_ops import (
    CLAIMERS,
    ISSUERS,
    SENDING,
    cash_amount,
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
    DividendCreate,
    DividendDeclaredPublic,
    DividendPublic,
    DividendsPublic,
    SenderBody,
    SweptPublic,
)
from api.security import EVERY_ROLE, Principal, allow
from api.sending import Built, Doc, Sent, sending
from registry.index import queries
from registry.index.catalogue import AssetRecord
from registry.runtime import Registry

TAG = {
    "name": "dividends",
    "description": "A stock's dividends: the issuer declares one for the holders at a record date and pays "
    "it in at once from its cash; once the date has passed holders claim their part (pro rata, fixed at the "
    "record date) until the claim period ends; then the issuer sweeps back what is left. Amounts are in the "
    "cash token's units.",
}

router = APIRouter(prefix="/assets/{asset_id}/dividends", tags=["dividends"])

AssetId = Annotated[
    str, Path(max_length=64, description="The stock's asset id.", examples=["stock-1c2d3e4f5a6b7c8d9e0f"])
]
DividendId = Annotated[int, Path(ge=0, le=2**32, description="The dividend's id.", examples=[0])]
Empty = Annotated[SenderBody, Body(default_factory=SenderBody)]
Claim = Annotated[ClaimCreate, Body(default_factory=ClaimCreate)]

DECLARE, CLAIM, SWEEP = "dividends.declare", "dividends.claim", "dividends.sweep"


def _stock(registry: Registry, asset_id: str) -> AssetRecord:
    return registry.context.asset(asset_id, kinds=("stock",))


# -- answers (from the mined transaction; the custodial form and POST /transactions give the same) ------


def _declared(registry: Registry, sent: Sent) -> DividendDeclaredPublic:
    asset = _stock(registry, sent.context["asset_id"])
    args = event(registry, asset, sent.outcome, "DividendDeclared")
    landed(registry, sent.outcome)
    return DividendDeclaredPublic(
        dividend_id=int(args["dividendId"]),
        record_date=iso(int(args["recordDate"])),
        amount=format_amount(int(args["amount"]), cash_decimals(registry, asset)),
        approval=TransactionPublic.of(sent.approval) if sent.approval is not None else None,
        transaction=TransactionPublic.of(sent.outcome),
    )


def _claimed(registry: Registry, sent: Sent) -> ClaimedPublic:
    return claimed(registry, _stock(registry, sent.context["asset_id"]), sent.outcome, "DividendClaimed")


def _swept(registry: Registry, sent: Sent) -> SweptPublic:
    return swept(
        registry, _stock(registry, sent.context["asset_id"]), sent.outcome, "DividendSwept", "declarer"
    )


# -- reads --------------------------------------------------------------------------------------------


@router.get(
    "",
    dependencies=[allow(*EVERY_ROLE)],
    summary="List a stock's dividends",
    description="The dividends the index holds, by dividend id, as of `block` (default: the index's head; "
    "the pages of one listing stay at the first page's block): record date, and the cash paid in, "
    "claimed, swept and still outstanding, in the cash token's units (amount = claimed + swept + "
    "outstanding).",
)
def list_dividends(
    asset_id: AssetId,
    registry: RegistryDep,
    page: PageDep,
    block: Annotated[
        int | None, Query(ge=0, description="As of this indexed block (default: the head).")
    ] = None,
) -> DividendsPublic:
    """List a stock's dividends."""
    asset = _stock(registry, asset_id)
    decimals = cash_decimals(registry, asset)
    with registry.db.read() as session:
        position = page_position(session, asset.chain, page.cursor, block)
        at = position.block
        found = [
            d for d in queries.dividends(session, asset.asset_id, block=at) if d.dividend_id > position.after
        ]
        items = found[: page.limit]
        following = (
            next_page(session, asset.chain, items[-1].dividend_id, at) if len(found) > page.limit else None
        )
    return DividendsPublic(
        items=[
            DividendPublic(
                dividend_id=d.dividend_id,
                record_date=iso(d.record_date),
                amount=format_amount(d.amount, decimals),
                claimed_amount=format_amount(d.claimed_amount, decimals),
                claims=d.claims,
                swept_amount=format_amount(d.swept_amount, decimals),
                outstanding=format_amount(d.amount - d.claimed_amount - d.swept_amount, decimals),
            )
            for d in items
        ],
        next_cursor=following,
        block=at,
    )


# -- declare ------------------------------------------------------------------------------------------


def _declaration(
    registry: Registry, caller: Principal, asset_id: str, body: DividendCreate
) -> tuple[AssetRecord, str, int, int]:
    asset, sender = operated(registry, caller, asset_id, "stock", body.sender)
    amount = cash_amount(registry, asset, body.amount, "amount")
    return asset, sender, int(body.record_date.timestamp()), amount


def _declare(registry: Registry, caller: Principal, asset_id: AssetId, body: DividendCreate) -> Built:
    asset, sender, record_date, amount = _declaration(registry, caller, asset_id, body)
    tx = registry.stocks.prepare_declare_dividend(asset.asset_id, record_date, amount, sender=sender)
    return Built.on_asset(tx, asset.asset_id)


def _declare_custodially(registry: Registry, caller: Principal, asset_id: str, body: DividendCreate) -> Sent:
    """Approves the stock for the cash first when the allowance is short (`Sent.approval`)."""
    asset, sender, record_date, amount = _declaration(registry, caller, asset_id, body)
    done = registry.stocks.declare_dividend(asset.asset_id, record_date, amount, sender=sender)
    return Sent(done.funding.outcome, {"asset_id": asset.asset_id}, approval=done.funding.approval)


sending(
    router,
    "",
    DECLARE,
    DividendDeclaredPublic,
    status_code=201,
    build=_declare,
    custody=_declare_custodially,
    answer=_declared,
    dependencies=[allow(*ISSUERS)],
    custodial=Doc(
        "declare_dividend",
        "Declare a dividend",
        "Declares a dividend of `amount` (cash token units) for the holders at `record_date` and pays it in "
        "at once from the sender's cash (custody approves the stock for it first when the allowance is "
        "short). The stock's issuer (or an admin) sends it; the sender needs the supply role. A record date "
        "not in the chain's future or not after the last one is 422 naming it; cash short: 409, nothing "
        "sent." + SENDING,
    ),
    prepared=Doc(
        "prepare_declare_dividend",
        "Prepare a dividend's declaration for the issuer to sign",
        "The non-custodial twin of the declaration. Approve the stock for `amount` on the cash token first "
        "with your own wallet (an ERC-20 `approve` through the chain's JSON-RPC): the declaration is "
        "refused (409, naming the amount) until the allowance is there.",
    ),
)


# -- claim --------------------------------------------------------------------------------------------


def _claim(
    registry: Registry, caller: Principal, asset_id: AssetId, dividend_id: DividendId, body: Claim
) -> Built:
    asset = _stock(registry, asset_id)
    sender, holder = claimer(registry, caller, asset, body.holder, body.sender)
    if holder is None:
        tx = registry.stocks.prepare_claim_dividend(asset.asset_id, dividend_id, sender=sender)
    else:
        tx = registry.stocks.prepare_claim_dividend_for(asset.asset_id, dividend_id, holder, sender=sender)
    return Built.on_asset(tx, asset_id)


sending(
    router,
    "/{dividend_id}/claim",
    CLAIM,
    ClaimedPublic,
    build=_claim,
    answer=_claimed,
    dependencies=[allow(*CLAIMERS)],
    custodial=Doc(
        "claim_dividend",
        "Claim a dividend",
        "Claims `holder`'s part of dividend `dividend_id` (default: the sender's), paid to the holder, never "
        "to the sender. An investor key claims for its own wallets; the stock's issuer (the paying agent, "
        "with the supply role) or an admin may claim on a holder's behalf. A payment the stock would "
        "withhold (holder frozen, not verified, wallet re-linked, token paused) is refused before sending: "
        "422 `payment-withheld`, naming `RegulatedTokenPaymentWithheld`, the rule and what clears it; it "
        "stays owed. Record date not reached, already claimed or past the claim period: 409 with the "
        "contract's error." + SENDING,
    ),
    prepared=Doc(
        "prepare_claim_dividend",
        "Prepare a dividend claim for the holder's wallet to sign",
        "The non-custodial twin of the claim: the same checks, then the unsigned transaction.",
    ),
)


# -- sweep --------------------------------------------------------------------------------------------


def _sweep(
    registry: Registry, caller: Principal, asset_id: AssetId, dividend_id: DividendId, body: Empty
) -> Built:
    asset, sender = operated(registry, caller, asset_id, "stock", body.sender)
    tx = registry.stocks.prepare_sweep_dividend(asset.asset_id, dividend_id, sender=sender)
    return Built.on_asset(tx, asset.asset_id)


sending(
    router,
    "/{dividend_id}/sweep",
    SWEEP,
    SweptPublic,
    build=_sweep,
    answer=_swept,
    dependencies=[allow(*ISSUERS)],
    custodial=Doc(
        "sweep_dividend",
        "Sweep what is left of a dividend",
        "Returns to the declarer the part of dividend `dividend_id` nobody can claim any more: after the "
        "claim period everything left, at once a dividend whose record date passed with no shares (supply "
        "role; never while paused). Otherwise 409, nothing sent." + SENDING,
    ),
    prepared=Doc(
        "prepare_sweep_dividend",
        "Prepare a dividend sweep for the issuer to sign",
        "The non-custodial twin of the sweep.",
    ),
)
