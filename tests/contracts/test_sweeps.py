"""Claim deadlines and sweeps: the issuer takes back exactly what can never be claimed.

- Redemption cash of bonds burnt after the redemption was funded: sweepable at once.
- A dividend whose record date passed with no shares outstanding: sweepable at once.
- Everything left of a coupon, a dividend (rounding dust included) or the redemption once its claim
  period (a term fixed at deployment, like a prescription period) has ended.

A sweep never touches what is still claimable, needs SUPPLY_ROLE, is refused while paused, and pays
the account that paid the cash in, never the caller.
"""

from __future__ import annotations

import pytest

from .helpers import CASH_UNIT, DAY, SUPPLY, YEAR, events, expect_revert, role, tx, unauthorized

COUPON = 25 * CASH_UNIT
CLAIM_PERIOD = 2 * YEAR


@pytest.fixture
def dated_bond(new_bond, investors, issuer_cash, actors, bond_terms):
    """A bond like ``issued`` (alice 10, bob 30, carol 60) with a two-year claim period and coupon period
    0 recorded 180 days after issue."""
    bond = new_bond(claimPeriod=CLAIM_PERIOD)
    issuer_cash(bond)
    tx(bond.functions.batchMint([actors.alice, actors.bob, actors.carol], [10, 30, 60]), actors.admin)
    tx(bond.functions.scheduleCouponPeriod(bond_terms["issueDate"] + 180 * DAY), actors.admin)
    return bond


# ---------------------------------------------------------------- redemption


def test_redemption_cash_of_bonds_burnt_after_funding_is_swept_at_once(
    issued, *, issuer_cash, cash, actors, clock, bond_terms
):
    issuer_cash(issued)
    clock.travel_to(bond_terms["maturityDate"])
    tx(issued.functions.fundRedemption(), actors.admin)
    funded_at = clock.now()
    denomination = issued.functions.denomination().call()
    assert issued.functions.redemption().call() == [funded_at, actors.admin, 100 * denomination]
    assert issued.functions.sweepableRedemption().call() == 0
    with expect_revert(issued, "BondTokenNothingToSweep"):
        issued.functions.sweepRedemption().transact({"from": actors.admin})
    tx(issued.functions.redeem(5), actors.alice)
    tx(issued.functions.burn(actors.carol, 20), actors.admin)
    assert issued.functions.sweepableRedemption().call() == 20 * denomination
    before = cash.functions.balanceOf(actors.admin).call()
    receipt = tx(issued.functions.sweepRedemption(), actors.admin)
    assert events(issued, receipt) == [
        ("RedemptionSwept", {"funder": actors.admin, "amount": 20 * denomination})
    ]
    assert cash.functions.balanceOf(actors.admin).call() == before + 20 * denomination
    with expect_revert(issued, "BondTokenNothingToSweep"):
        issued.functions.sweepRedemption().transact({"from": actors.admin})
    # Every bond still outstanding can be redeemed, to the last unit of cash.
    for holder, bonds in ((actors.alice, 5), (actors.bob, 30), (actors.carol, 40)):
        tx(issued.functions.redeem(bonds), holder)
    assert cash.functions.balanceOf(issued.address).call() == 0
    assert issued.functions.redemption().call() == [funded_at, actors.admin, 0]


def test_the_rest_of_the_redemption_is_swept_after_its_claim_period(
    dated_bond, *, cash, actors, clock, bond_terms
):
    bond = dated_bond
    clock.travel_to(bond_terms["maturityDate"])
    tx(bond.functions.fundRedemption(), actors.admin)
    funded_at = clock.now()
    tx(bond.functions.redeem(10), actors.alice)
    clock.travel_to(funded_at + CLAIM_PERIOD - 1)
    assert bond.functions.sweepableRedemption().call() == 0
    clock.travel_to(funded_at + CLAIM_PERIOD)
    with expect_revert(bond, "BondTokenRedemptionExpired", funded_at + CLAIM_PERIOD):
        bond.functions.redeem(30).transact({"from": actors.bob})
    denomination = bond.functions.denomination().call()
    assert bond.functions.sweepableRedemption().call() == 90 * denomination
    tx(bond.functions.sweepRedemption(), actors.admin)
    assert cash.functions.balanceOf(bond.address).call() == 0


# ---------------------------------------------------------------- coupons


def test_a_coupon_is_swept_only_after_its_claim_period(dated_bond, *, cash, actors, clock, bond_terms):
    bond = dated_bond
    clock.travel_to(bond_terms["issueDate"] + 180 * DAY)
    tx(bond.functions.fundCoupon(0), actors.admin)
    funded_at = clock.now()
    tx(bond.functions.claimCoupon(0), actors.alice)
    tx(bond.functions.freezeAccount(actors.bob), actors.admin)  # bob's coupon is withheld
    # Coupon funding is exact: before the deadline nothing is unclaimable, withheld coupons included.
    clock.travel_to(funded_at + CLAIM_PERIOD - 2)
    assert bond.functions.sweepableCoupon(0).call() == 0
    tx(bond.functions.claimCoupon(0), actors.carol)  # mined at the last second of the period
    with expect_revert(bond, "BondTokenNothingToSweep"):
        bond.functions.sweepCoupon(0).call({"from": actors.admin})
    clock.travel_to(funded_at + CLAIM_PERIOD + 1)
    assert bond.functions.claimableCoupon(0, actors.bob).call() == 0
    with expect_revert(bond, "BondTokenCouponExpired", 0, funded_at + CLAIM_PERIOD):
        bond.functions.claimCoupon(0).transact({"from": actors.bob})
    before = cash.functions.balanceOf(actors.admin).call()
    receipt = tx(bond.functions.sweepCoupon(0), actors.admin)
    assert events(bond, receipt) == [
        ("CouponSwept", {"periodId": 0, "funder": actors.admin, "amount": 30 * COUPON})
    ]
    assert cash.functions.balanceOf(actors.admin).call() == before + 30 * COUPON
    assert bond.functions.couponPeriod(0).call()[4] == 0
    assert cash.functions.balanceOf(bond.address).call() == 0


def test_without_a_claim_period_coupons_stay_claimable_and_are_never_swept(
    issued, *, period, issuer_cash, actors, clock
):
    issuer_cash(issued)
    clock.travel_to(period)
    tx(issued.functions.fundCoupon(0), actors.admin)
    clock.advance(9 * YEAR)  # within the holders' KYC
    assert issued.functions.sweepableCoupon(0).call() == 0
    with expect_revert(issued, "BondTokenNothingToSweep"):
        issued.functions.sweepCoupon(0).transact({"from": actors.admin})
    tx(issued.functions.claimCoupon(0), actors.bob)


# ---------------------------------------------------------------- dividends


def test_a_dividend_nobody_can_claim_is_swept_once_its_record_date_passed(
    new_stock, investors, *, issuer_cash, cash, actors, clock
):
    stock = new_stock()
    issuer_cash(stock)
    record = clock.now() + DAY
    tx(stock.functions.declareDividend(record, 100), actors.admin)
    assert stock.functions.sweepableDividend(0).call() == 0  # shares may still be issued before the date
    clock.travel_to(record)
    tx(stock.functions.mint(actors.alice, 5), actors.admin)  # after the record date: not entitled
    assert stock.functions.sweepableDividend(0).call() == 100
    before = cash.functions.balanceOf(actors.admin).call()
    receipt = tx(stock.functions.sweepDividend(0), actors.admin)
    assert events(stock, receipt) == [
        ("DividendSwept", {"dividendId": 0, "declarer": actors.admin, "amount": 100})
    ]
    assert cash.functions.balanceOf(actors.admin).call() == before + 100
    with expect_revert(stock, "StockTokenNothingToSweep", 0):
        stock.functions.sweepDividend(0).transact({"from": actors.admin})


def test_dividend_rounding_dust_and_unclaimed_parts_are_swept_after_the_claim_period(
    new_stock, investors, *, issuer_cash, cash, actors, clock
):
    stock = new_stock(claim_period=YEAR)
    issuer_cash(stock)
    tx(stock.functions.batchMint([actors.alice, actors.bob, actors.carol], [15, 10, 5]), actors.admin)
    record = clock.now() + DAY
    tx(stock.functions.declareDividend(record, 100), actors.admin)  # 100 units over 30 shares
    clock.travel_to(record)
    tx(stock.functions.claimDividend(0), actors.alice)  # 50
    tx(stock.functions.claimDividend(0), actors.bob)  # 33
    # carol's 16 and 1 unit of rounding dust stay until the deadline: nothing is swept before.
    assert stock.functions.sweepableDividend(0).call() == 0
    clock.travel_to(record + YEAR)
    with expect_revert(stock, "StockTokenDividendExpired", 0, record + YEAR):
        stock.functions.claimDividend(0).transact({"from": actors.carol})
    assert stock.functions.sweepableDividend(0).call() == 17
    tx(stock.functions.sweepDividend(0), actors.admin)
    assert cash.functions.balanceOf(stock.address).call() == 0
    assert stock.functions.dividend(0).call()[3] == 0


# ---------------------------------------------------------------- who can sweep, and for whom


def test_only_the_supply_role_sweeps_and_the_cash_goes_back_to_whoever_paid_it_in(
    issued, *, issuer_cash, cash, actors, clock, bond_terms
):
    issuer_cash(issued)
    clock.travel_to(bond_terms["maturityDate"])
    tx(issued.functions.fundRedemption(), actors.admin)
    tx(issued.functions.burn(actors.carol, 60), actors.admin)
    for intruder in (actors.alice, actors.mallory):
        with unauthorized(issued, intruder, SUPPLY):
            issued.functions.sweepRedemption().transact({"from": intruder})
    # A second holder of the supply role (say a compromised key) gains nothing: the funder is paid.
    tx(issued.functions.grantRole(role(SUPPLY), actors.agent), actors.admin)
    before = cash.functions.balanceOf(actors.admin).call()
    tx(issued.functions.sweepRedemption(), actors.agent)
    assert cash.functions.balanceOf(actors.agent).call() == 0
    assert (
        cash.functions.balanceOf(actors.admin).call() == before + 60 * issued.functions.denomination().call()
    )


def test_no_sweep_while_paused(issued, *, issuer_cash, actors, clock, bond_terms):
    issuer_cash(issued)
    clock.travel_to(bond_terms["maturityDate"])
    tx(issued.functions.fundRedemption(), actors.admin)
    tx(issued.functions.burn(actors.carol, 60), actors.admin)
    tx(issued.functions.pause(), actors.admin)
    with expect_revert(issued, "EnforcedPause"):
        issued.functions.sweepRedemption().transact({"from": actors.admin})
    tx(issued.functions.unpause(), actors.admin)
    tx(issued.functions.sweepRedemption(), actors.admin)
