"""Demo `bond`: a two-year 5% bond with semi-annual coupons, issued to a crowd of holders (50 by
default), on both chains: secondary trades around each record date, four coupons funded by the issuer
and claimed by the holders, then maturity and redemption. The cash reconciles to the unit on both.

The permissioned chain runs it in kyc mode (every holder a verified investor), the open chain in open
mode; everything else works the same. It moves both chains' clocks two years forward (record dates,
maturity): on a shared server that moves those chains' clocks forward for everyone using them.
"""

from __future__ import annotations

from collections.abc import Sequence

from registry.chain.clock import advance_to
from registry.demos.base import DAY, Demo, bond_terms, short, usd

NAME = "bond"
SUMMARY = (
    "a 2-year bond with semi-annual coupons for 50 holders, traded, paid and redeemed; cash reconciles "
    "to the unit (moves the chains' clocks 2 years forward)"
)
PERIODS = 4
HALF_YEAR = 182 * DAY
CLAIM_GAS = 400_000
"""Gas limit of a claim or a redemption sent in a crowd (each is checked by its service before; the unused
gas is not charged)."""


def run(demo: Demo) -> None:
    """Run the scenario (see the module docstring)."""
    for chain in ("permissioned", "permissionless"):
        _on(demo, chain)
    numbers = demo.report.numbers
    demo.report.columns = ["", "permissioned", "permissionless"]
    for label, key in (
        ("coupons paid (4)", "coupons paid"),
        ("principal paid", "principal paid"),
        ("issuer paid in total", "issuer paid"),
        ("holders received in total", "holders received"),
    ):
        demo.report.row(label, usd(numbers["permissioned"][key]), usd(numbers["permissionless"][key]))
    demo.report.row(
        "difference", *(f"{numbers[c]['difference']} units" for c in ("permissioned", "permissionless"))
    )
    demo.report.row("holders", numbers["permissioned"]["holders"], numbers["permissionless"]["holders"])


def _claim_all(demo: Demo, chain: str, bond: str, period: int, holders: Sequence[str]) -> None:
    """Every holder with a coupon due claims it (prepared and checked by the bond service, sent pipelined)."""
    token = demo.token(bond)
    due = [h for h in holders if int(token.functions.claimableCoupon(period, h).call())]
    txs = [demo.registry.bonds.prepare_claim_coupon(bond, period, sender=h) for h in due]
    demo.send_all(chain, txs, gas=CLAIM_GAS)


def _redeem_all(demo: Demo, chain: str, bond: str, holders: Sequence[str]) -> None:
    """Every holder redeems all its bonds (prepared and checked by the bond service, sent pipelined)."""
    held = [(h, demo.registry.tokens.balance_of(bond, h)) for h in holders]
    txs = [demo.registry.bonds.prepare_redeem(bond, amount, sender=h) for h, amount in held if amount]
    demo.send_all(chain, txs, gas=CLAIM_GAS)


def _on(demo: Demo, chain: str) -> None:
    """The scenario on ``chain``."""
    registry = demo.registry
    kyc = chain == "permissioned"
    issuer = demo.ready("issuer", chain)
    cash = demo.issue_cash(chain, issuer)
    start = demo.now(chain)
    bond = registry.bonds.issue(
        chain, "kyc" if kyc else "open", bond_terms(cash, start, years=2, frequency=2), issuer=issuer
    ).asset.asset_id
    labels = [f"holder {i}" for i in range(max(demo.holders, 2))]
    holders = demo.onboard_crowd(chain, labels)
    demo.fund_gas_all(chain, holders)
    allocations = [(wallet, 10 + 5 * (i % 4)) for i, wallet in enumerate(holders)]
    registry.tokens.batch_mint(bond, allocations, sender=issuer)
    supply = sum(amount for _, amount in allocations)
    demo.step(
        chain,
        "issue and distribute",
        "done",
        f"{supply:,} bonds of 1,000 dUSD ({'kyc' if kyc else 'open'} mode) to {len(holders)} holders",
    )
    parties = [issuer, *holders]
    cash_before = {p: registry.cash.balance_of(cash, p) for p in parties}
    coupons_paid = 0
    for period in range(PERIODS):
        record_date = start + (period + 1) * HALF_YEAR
        scheduled = registry.bonds.schedule_coupon(bond, record_date, sender=issuer)
        seller, buyer = holders[period % len(holders)], holders[(period + 1) % len(holders)]
        registry.tokens.transfer(bond, buyer, 2, sender=seller)
        advance_to(registry.chain(chain).w3, record_date)
        late_seller, late_buyer = buyer, seller
        registry.tokens.transfer(bond, late_buyer, 1, sender=late_seller)
        funding = registry.bonds.fund_coupon(bond, scheduled.period_id, sender=issuer)
        _claim_all(demo, chain, bond, scheduled.period_id, holders)
        coupons_paid += funding.amount
        demo.step(
            chain,
            f"coupon {period + 1}",
            "done",
            f"{short(seller)} sells 2 bonds before the record date, {short(late_seller)} 1 after it (the "
            f"seller keeps that coupon); the issuer funds {usd(funding.amount)} and every holder claims",
        )
    w3 = registry.chain(chain).w3
    advance_to(w3, int(demo.token(bond).functions.maturityDate().call()))
    redemption = registry.bonds.fund_redemption(bond, sender=issuer)
    _redeem_all(demo, chain, bond, holders)
    left = int(demo.token(bond).functions.totalSupply().call())
    demo.step(
        chain,
        "maturity and redemption",
        "done",
        f"the issuer funds {usd(redemption.amount)} of principal; every holder redeems; {left} bonds left",
    )
    moved = {p: registry.cash.balance_of(cash, p) - cash_before[p] for p in parties}
    in_contract = registry.cash.balance_of(cash, registry.asset(bond).address)
    paid = -moved[issuer]
    received = sum(moved[h] for h in holders)
    difference = paid - received - in_contract
    demo.step(
        chain,
        "cash reconciliation",
        "done" if difference == 0 else "refused",
        f"the issuer paid {usd(paid)}, the holders received {usd(received)}, {in_contract} units are left "
        "in the bond: " + ("reconciles to the unit" if difference == 0 else f"OFF BY {difference} units"),
    )
    demo.report.numbers[chain] = {
        "holders": len(holders),
        "coupons paid": coupons_paid,
        "principal paid": redemption.amount,
        "issuer paid": paid,
        "holders received": received,
        "left in the bond": in_contract,
        "difference": difference,
        "bonds left": left,
    }
