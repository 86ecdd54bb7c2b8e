"""One bond from issue to redemption, with the cash reconciled to the unit at every step.

Issue and subscription (investors pay the issuer), a secondary trade before the first record date,
another after it, two coupon periods funded and claimed, maturity and redemption. A ledger kept
here, independently of the contracts, says where every cash unit should be; after each phase the
on-chain balances of every party must equal it, and the cash total never changes.
"""

from __future__ import annotations

from collections import Counter

from .helpers import CASH_UNIT, DAY, DENOMINATION, events, expect_revert, tx

COUPON = 25 * CASH_UNIT  # 5% a year, paid twice a year, on 1,000 cash


def test_bond_lifecycle_reconciles_cash_to_the_unit(bond, cash, actors, clock, bond_terms):
    issuer = actors.admin
    holders = [actors.alice, actors.bob, actors.carol, actors.dave, actors.erin]
    parties = [issuer, *holders, bond.address]
    ledger: Counter[str] = Counter()

    def pay(frm: str, to: str, amount: int) -> None:
        ledger[frm] -= amount
        ledger[to] += amount

    def reconcile() -> None:
        actual = {p: cash.functions.balanceOf(p).call() for p in parties}
        assert actual == {p: ledger[p] for p in parties}
        assert sum(actual.values()) == cash.functions.totalSupply().call() == total_cash

    # Everyone starts with cash; from here on no cash is created or destroyed.
    start = {
        issuer: 10_000,
        actors.alice: 20_000,
        actors.bob: 50_000,
        actors.carol: 100_000,
        actors.dave: 30_000,
    }
    start[actors.erin] = 15_000
    for party, amount in start.items():
        tx(cash.functions.mint(party, amount * CASH_UNIT), issuer)
        ledger[party] += amount * CASH_UNIT
    total_cash = sum(ledger.values())
    reconcile()

    # ---- issue: investors subscribe at par and receive their bonds.
    subscriptions = {actors.alice: 10, actors.bob: 30, actors.carol: 60}
    for investor, bonds in subscriptions.items():
        tx(cash.functions.transfer(issuer, bonds * DENOMINATION), investor)
        pay(investor, issuer, bonds * DENOMINATION)
    tx(bond.functions.batchMint(list(subscriptions), list(subscriptions.values())), issuer)
    assert bond.functions.totalSupply().call() == 100
    reconcile()

    first = bond_terms["issueDate"] + 180 * DAY
    second = bond_terms["maturityDate"]
    tx(bond.functions.scheduleCouponPeriod(first), issuer)
    tx(bond.functions.scheduleCouponPeriod(second), issuer)

    # ---- trade before the first record date: carol sells 20 bonds to dave at 990.
    def trade(seller: str, buyer: str, bonds: int, price: int) -> None:
        tx(cash.functions.transfer(seller, bonds * price), buyer)
        pay(buyer, seller, bonds * price)
        tx(bond.functions.transfer(buyer, bonds), seller)

    trade(actors.carol, actors.dave, 20, 990 * CASH_UNIT)
    reconcile()

    # ---- first record date passes; bob then sells 10 to erin (bob keeps that coupon).
    clock.travel_to(first)
    trade(actors.bob, actors.erin, 10, 1_005 * CASH_UNIT)
    reconcile()
    at_first = {h: bond.functions.balanceAtRecord(h, 0).call() for h in holders}
    assert at_first == {actors.alice: 10, actors.bob: 30, actors.carol: 40, actors.dave: 20, actors.erin: 0}

    # ---- fund and claim coupon 0.
    tx(cash.functions.approve(bond.address, 2**256 - 1), issuer)
    receipt = tx(bond.functions.fundCoupon(0), issuer)
    assert events(bond, receipt) == [("CouponFunded", {"periodId": 0, "amount": 100 * COUPON})]
    pay(issuer, bond.address, 100 * COUPON)
    reconcile()
    for holder in holders:
        if at_first[holder] == 0:
            with expect_revert(bond, "BondTokenNothingToClaim", 0, holder):
                bond.functions.claimCoupon(0).transact({"from": holder})
            continue
        # dave's coupon is pushed to him by the paying agent (the issuer); the cash still goes to dave.
        claimer = issuer if holder == actors.dave else holder
        tx(bond.functions.claimCouponFor(0, holder), claimer)
        pay(bond.address, holder, at_first[holder] * COUPON)
    reconcile()
    assert cash.functions.balanceOf(bond.address).call() == 0

    # ---- maturity: the second record date is the maturity date itself.
    clock.travel_to(second)
    at_second = {h: bond.functions.balanceAtRecord(h, 1).call() for h in holders}
    assert at_second == {actors.alice: 10, actors.bob: 20, actors.carol: 40, actors.dave: 20, actors.erin: 10}
    coupon_1 = bond.functions.fundCoupon(1).call({"from": issuer})
    assert coupon_1 == 100 * COUPON
    tx(bond.functions.fundCoupon(1), issuer)
    pay(issuer, bond.address, coupon_1)
    redemption = bond.functions.fundRedemption().call({"from": issuer})
    assert redemption == 100 * DENOMINATION
    # The issuer's own cash is short by now: subscriptions came in, coupons went out.
    assert ledger[issuer] >= redemption
    tx(bond.functions.fundRedemption(), issuer)
    pay(issuer, bond.address, redemption)
    reconcile()

    # ---- holders claim the last coupon and redeem every bond.
    for holder in holders:
        tx(bond.functions.claimCoupon(1), holder)
        pay(bond.address, holder, at_second[holder] * COUPON)
        bonds = bond.functions.balanceOf(holder).call()
        assert bonds == at_second[holder]
        receipt = tx(bond.functions.redeem(bonds), holder)
        assert events(bond, receipt)[-1] == (
            "Redeemed",
            {"holder": holder, "amount": bonds, "payout": bonds * DENOMINATION},
        )
        pay(bond.address, holder, bonds * DENOMINATION)
        reconcile()

    assert bond.functions.totalSupply().call() == 0
    assert cash.functions.balanceOf(bond.address).call() == 0
    # Net result per investor: what it paid for its bonds against coupons and principal received.
    net = {p: ledger[p] - start[p] * CASH_UNIT for p in [issuer, *holders]}
    assert net[actors.alice] == 2 * 10 * COUPON
    assert net[actors.bob] == 30 * COUPON + 20 * COUPON + 10 * (1_005 * CASH_UNIT - DENOMINATION)
    assert net[actors.carol] == 40 * COUPON * 2 + 20 * (990 * CASH_UNIT - DENOMINATION)
    assert net[actors.dave] == 20 * COUPON * 2 + 20 * (DENOMINATION - 990 * CASH_UNIT)
    assert net[actors.erin] == 10 * COUPON + 10 * (DENOMINATION - 1_005 * CASH_UNIT)
    assert net[issuer] == -200 * COUPON
    assert sum(net.values()) == 0
