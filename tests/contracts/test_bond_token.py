"""BondToken: terms, issuance limits, coupons and claims, accrued interest, call, redemption.

ERC-7092's transfer and allowance functions are in test_erc7092.py; the payment policy (pause,
withheld payments, claims on behalf) in test_payments.py; claim deadlines and sweeps in test_sweeps.py.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

import pytest

from registry.artifacts import load_artifact

from .helpers import (
    COUPON_FREQUENCY,
    COUPON_RATE_BPS,
    DAY,
    DENOMINATION,
    MAX_UINT256,
    SUPPLY,
    ZERO_ADDRESS,
    event_names,
    events,
    expect_revert,
    terms_tuple,
    tx,
    unauthorized,
)

COUPON = DENOMINATION * COUPON_RATE_BPS // 10_000 // COUPON_FREQUENCY  # 25 cash per bond per period


def ts(year: int, month: int, day: int, hour: int = 0) -> int:
    return int(datetime(year, month, day, hour, tzinfo=UTC).timestamp())


def days_30_360(start: int, end: int) -> int:
    """30/360 bond basis, computed independently from the contract's calendar code."""
    a = datetime.fromtimestamp(start, UTC)
    b = datetime.fromtimestamp(end, UTC)
    d1 = min(a.day, 30)
    d2 = 30 if b.day == 31 and d1 == 30 else b.day
    return max(0, 360 * (b.year - a.year) + 30 * (b.month - a.month) + (d2 - d1))


def actual_days(start: int, end: int) -> int:
    return (datetime.fromtimestamp(end, UTC).date() - datetime.fromtimestamp(start, UTC).date()).days


def terms_of(bond) -> dict[str, object]:
    return {
        "name": bond.functions.name().call(),
        "symbol": bond.functions.symbol().call(),
        "isin": bond.functions.isin().call(),
        "currency": bond.functions.currency().call(),
        "denomination": bond.functions.denomination().call(),
        "issueVolume": bond.functions.issueVolume().call(),
        "couponRate": bond.functions.couponRate().call(),
        "couponType": bond.functions.couponType().call(),
        "couponFrequency": bond.functions.couponFrequency().call(),
        "issueDate": bond.functions.issueDate().call(),
        "maturityDate": bond.functions.maturityDate().call(),
        "dayCountBasis": bond.functions.dayCountBasis().call(),
        "callPrice": bond.functions.callPrice().call(),
        "callableFrom": bond.functions.callableFrom().call(),
        "claimPeriod": bond.functions.claimPeriod().call(),
    }


# ---------------------------------------------------------------- terms


def test_getters_return_the_terms(bond, bond_terms, cash, actors):
    assert terms_of(bond) == bond_terms
    assert bond.functions.currencyOfCoupon().call() == cash.address
    assert bond.functions.decimals().call() == 0
    assert bond.functions.maxBonds().call() == 1_000
    assert bond.functions.couponPerBond().call() == COUPON == 25 * 10**6
    assert bond.functions.ZERO_COUPON().call() == 0
    assert bond.functions.FIXED_RATE().call() == 1
    assert bond.functions.calledAt().call() == 0
    assert bond.functions.redemptionPrice().call() == DENOMINATION
    assert bond.functions.redemptionFunded().call() is False
    assert bond.functions.couponPeriodCount().call() == 0
    assert bond.functions.kycMode().call() is True
    assert bond.functions.principalOf(actors.alice).call() == 0


def test_principal_is_balance_times_denomination(issued, actors):
    assert issued.functions.principalOf(actors.bob).call() == 30 * DENOMINATION
    assert issued.functions.principalOf(actors.dave).call() == 0


def test_coupon_per_bond_rounds_down(new_bond, investors):
    bond = new_bond(denomination=1_000_003, issueVolume=1_000_003 * 7, couponRate=333, couponFrequency=4)
    assert bond.functions.couponPerBond().call() == 1_000_003 * 333 // 40_000


def test_a_non_callable_bond_reports_no_call_date(new_bond, investors, bond_terms):
    bond = new_bond(callPrice=0, callableFrom=bond_terms["issueDate"] + DAY)
    assert bond.functions.callableFrom().call() == 0


def test_zero_coupon_bond(new_bond, investors, actors, bond_terms):
    bond = new_bond(couponType=0, couponRate=0, couponFrequency=0)
    assert bond.functions.couponPerBond().call() == 0
    assert bond.functions.accruedInterest(bond_terms["issueDate"] + 100 * DAY).call() == 0
    with expect_revert(bond, "BondTokenZeroCoupon"):
        bond.functions.scheduleCouponPeriod(bond_terms["issueDate"] + DAY).transact({"from": actors.admin})


INVALID_TERMS = [
    ({"denomination": 0}, "denomination"),
    ({"issueVolume": 0}, "issueVolume"),
    ({"issueVolume": DENOMINATION * 10 + 1}, "issueVolume"),
    ({"maturityDate": "issue"}, "maturityDate"),
    ({"maturityDate": "issue-1"}, "maturityDate"),
    ({"maturityDate": 2**40}, "maturityDate"),
    ({"couponType": 0}, "coupon"),  # a zero coupon with a rate
    ({"couponType": 0, "couponRate": 0}, "coupon"),  # ... or with a frequency
    ({"couponRate": 0}, "coupon"),
    ({"couponFrequency": 0}, "coupon"),
    ({"couponType": 2}, "coupon"),
    ({"dayCountBasis": 4}, "dayCountBasis"),
    ({"issueVolume": 2**128 * DENOMINATION}, "issueVolume"),
    ({"couponRate": 10_001}, "coupon"),
    ({"callPrice": 2**128}, "callPrice"),
    ({"callPrice": 1, "callableFrom": "maturity"}, "callableFrom"),
    ({"callPrice": 2**128, "callableFrom": "maturity"}, "callPrice"),
    # Check order: the first invalid term in declaration order is named.
    ({"denomination": 0, "maturityDate": 0}, "denomination"),
    ({"couponRate": 0, "dayCountBasis": 9}, "coupon"),
    # Regular coupon dates fall every 12 / couponFrequency months: the frequency must divide 12.
    ({"couponFrequency": 5}, "coupon"),
    ({"couponFrequency": 24}, "coupon"),
    # A claim period is none (0) or at least a year, like a prescription period.
    ({"claimPeriod": 364 * DAY}, "claimPeriod"),
    ({"claimPeriod": 1}, "claimPeriod"),
    ({"claimPeriod": 2**40}, "claimPeriod"),
]


@pytest.mark.parametrize(("overrides", "term"), INVALID_TERMS)
def test_invalid_terms_are_refused_by_name(w3, *, actors, registry, bond_terms, overrides, term):
    symbolic = {
        "issue": bond_terms["issueDate"],
        "issue-1": bond_terms["issueDate"] - 1,
        "maturity": bond_terms["maturityDate"],
    }
    terms = {**bond_terms, **{key: symbolic.get(value, value) for key, value in overrides.items()}}
    artifact = load_artifact("BondToken")
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    with expect_revert(factory, "BondTokenInvalidTerms", term):
        factory.constructor(terms_tuple(terms), actors.admin, registry.address, True).transact(
            {"from": actors.admin}
        )


@pytest.mark.parametrize("where", ["zero", "wallet"])
def test_currency_must_be_a_contract(w3, actors, registry, bond_terms, where):
    terms = {**bond_terms, "currency": ZERO_ADDRESS if where == "zero" else actors.alice}
    artifact = load_artifact("BondToken")
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    with expect_revert(factory, "BondTokenInvalidTerms", "currency"):
        factory.constructor(terms_tuple(terms), actors.admin, registry.address, True).transact(
            {"from": actors.admin}
        )
    # The base's registry check comes first.
    with expect_revert(factory, "RegulatedTokenInvalidRegistry", ZERO_ADDRESS):
        factory.constructor(terms_tuple(terms), actors.admin, ZERO_ADDRESS, True).transact(
            {"from": actors.admin}
        )


# ---------------------------------------------------------------- issuance


def test_issuance_is_capped_by_the_issue_volume(bond, actors):
    with expect_revert(bond, "BondTokenIssueVolumeExceeded", 1_001, 1_000):
        bond.functions.mint(actors.alice, 1_001).transact({"from": actors.admin})
    tx(bond.functions.mint(actors.alice, 999), actors.admin)
    with expect_revert(bond, "BondTokenIssueVolumeExceeded", 2, 1):
        bond.functions.mint(actors.bob, 2).transact({"from": actors.admin})
    # In a batch the second mint finds the room used by the first.
    with expect_revert(bond, "BondTokenIssueVolumeExceeded", 1, 0):
        bond.functions.batchMint([actors.bob, actors.carol], [1, 1]).transact({"from": actors.admin})
    # An absurd amount gets the same error, not an overflow.
    with expect_revert(bond, "BondTokenIssueVolumeExceeded", MAX_UINT256, 1):
        bond.functions.mint(actors.bob, MAX_UINT256).transact({"from": actors.admin})
    tx(bond.functions.mint(actors.bob, 1), actors.admin)
    assert bond.functions.totalSupply().call() == 1_000
    # Burnt bonds free room under the cap.
    tx(bond.functions.burn(actors.bob, 1), actors.admin)
    tx(bond.functions.mint(actors.carol, 1), actors.admin)


def test_bond_checks_come_before_the_base_rules(bond, actors, clock, bond_terms):
    tx(bond.functions.mint(actors.alice, 1_000), actors.admin)
    with expect_revert(bond, "BondTokenIssueVolumeExceeded", 1, 0):
        bond.functions.mint(actors.outsider, 1).transact({"from": actors.admin})
    clock.travel_to(bond_terms["maturityDate"])
    with expect_revert(bond, "BondTokenMatured", bond_terms["maturityDate"]):
        bond.functions.mint(actors.outsider, 1).call({"from": actors.admin})


def test_no_issuance_from_maturity_on(bond, actors, clock, bond_terms):
    maturity = bond_terms["maturityDate"]
    clock.travel_to(maturity - 1)
    bond.functions.mint(actors.alice, 1).call({"from": actors.admin})
    clock.travel_to(maturity)
    with expect_revert(bond, "BondTokenMatured", maturity):
        bond.functions.mint(actors.alice, 1).call({"from": actors.admin})
    with expect_revert(bond, "BondTokenMatured", maturity):
        bond.functions.batchMint([actors.alice], [1]).transact({"from": actors.admin})


@pytest.mark.parametrize(
    "name",
    ["scheduleCouponPeriod", "fundCoupon", "callBond", "fundRedemption"],
)
def test_issuer_actions_need_the_supply_role(bond, actors, name):
    args = {"scheduleCouponPeriod": (2**40 - 1,), "fundCoupon": (0,), "callBond": (), "fundRedemption": ()}[
        name
    ]
    with unauthorized(bond, actors.alice, SUPPLY):
        getattr(bond.functions, name)(*args).transact({"from": actors.alice})


# ---------------------------------------------------------------- coupon periods


def test_schedule_coupon_periods(bond, actors, bond_terms):
    first = bond_terms["issueDate"] + 180 * DAY
    fn = bond.functions.scheduleCouponPeriod(first)
    assert fn.call({"from": actors.admin}) == 0
    receipt = tx(fn, actors.admin)
    assert events(bond, receipt) == [
        ("RecordDateScheduled", {"recordId": 0, "recordDate": first}),
        (
            "CouponPeriodScheduled",
            {"periodId": 0, "recordId": 0, "recordDate": first, "couponPerBond": COUPON},
        ),
    ]
    second = bond_terms["maturityDate"]  # a record date may fall on the maturity date itself
    tx(bond.functions.scheduleCouponPeriod(second), actors.admin)
    assert bond.functions.couponPeriodCount().call() == 2
    assert bond.functions.couponPeriod(0).call() == [first, 0, False, 0, 0]
    assert bond.functions.couponPeriod(1).call() == [second, 1, False, 0, 0]
    assert bond.functions.recordDate(1).call() == second


def test_schedule_coupon_period_errors(bond, actors, bond_terms, clock):
    issue, maturity = bond_terms["issueDate"], bond_terms["maturityDate"]
    for bad in (issue, issue - 1, maturity + 1):
        with expect_revert(bond, "BondTokenInvalidCouponDate", bad):
            bond.functions.scheduleCouponPeriod(bad).transact({"from": actors.admin})
    tx(bond.functions.scheduleCouponPeriod(issue + 100 * DAY), actors.admin)
    for bad in (issue + 100 * DAY, issue + 99 * DAY):
        with expect_revert(bond, "RegulatedTokenInvalidRecordDate", bad):
            bond.functions.scheduleCouponPeriod(bad).transact({"from": actors.admin})
    clock.travel_to(issue + 150 * DAY)
    past = issue + 120 * DAY
    with expect_revert(bond, "RegulatedTokenInvalidRecordDate", past):
        bond.functions.scheduleCouponPeriod(past).transact({"from": actors.admin})


@pytest.mark.parametrize(
    "call",
    [
        lambda bond, a: bond.functions.couponPeriod(5).call(),
        lambda bond, a: bond.functions.claimableCoupon(5, a.alice).call(),
        lambda bond, a: bond.functions.fundCoupon(5).transact({"from": a.admin}),
        lambda bond, a: bond.functions.claimCoupon(5).transact({"from": a.alice}),
        lambda bond, a: bond.functions.claimCouponFor(5, a.alice).transact({"from": a.bob}),
    ],
    ids=["couponPeriod", "claimableCoupon", "fundCoupon", "claimCoupon", "claimCouponFor"],
)
def test_unknown_coupon_period(bond, actors, call):
    with expect_revert(bond, "BondTokenUnknownCouponPeriod", 5):
        call(bond, actors)


def test_fund_coupon_pulls_exactly_the_supply_at_record_times_the_coupon(
    issued, *, period, cash, issuer_cash, actors, clock
):
    issuer_cash(issued)
    with expect_revert(issued, "BondTokenRecordDateNotReached", 0, period):
        issued.functions.fundCoupon(0).transact({"from": actors.admin})
    clock.travel_to(period - 2)
    tx(issued.functions.mint(actors.dave, 5), actors.admin)  # last change before the record date
    clock.travel_to(period)
    tx(issued.functions.mint(actors.dave, 7), actors.admin)  # after: not entitled
    before = cash.functions.balanceOf(actors.admin).call()
    fn = issued.functions.fundCoupon(0)
    assert fn.call({"from": actors.admin}) == 105 * COUPON
    receipt = tx(fn, actors.admin)
    assert events(issued, receipt) == [("CouponFunded", {"periodId": 0, "amount": 105 * COUPON})]
    assert cash.functions.balanceOf(actors.admin).call() == before - 105 * COUPON
    assert cash.functions.balanceOf(issued.address).call() == 105 * COUPON
    assert issued.functions.couponPeriod(0).call() == [period, 0, True, clock.now(), 105 * COUPON]
    with expect_revert(issued, "BondTokenCouponAlreadyFunded", 0):
        issued.functions.fundCoupon(0).transact({"from": actors.admin})


def test_fund_coupon_needs_cash_and_allowance(issued, period, cash, actors, clock):
    clock.travel_to(period)
    amount = 100 * COUPON
    with expect_revert(cash, "ERC20InsufficientAllowance", issued.address, 0, amount):
        issued.functions.fundCoupon(0).transact({"from": actors.admin})
    tx(cash.functions.approve(issued.address, amount), actors.admin)
    with expect_revert(cash, "ERC20InsufficientBalance", actors.admin, 0, amount):
        issued.functions.fundCoupon(0).transact({"from": actors.admin})
    assert issued.functions.couponPeriod(0).call()[2] is False


def test_claims_pay_the_balance_at_the_record_date(issued, *, period, cash, issuer_cash, actors, clock):
    issuer_cash(issued)
    clock.travel_to(period)
    tx(issued.functions.transfer(actors.dave, 10), actors.alice)  # after the record date
    with expect_revert(issued, "BondTokenCouponNotFunded", 0):
        issued.functions.claimCoupon(0).transact({"from": actors.alice})
    assert issued.functions.claimableCoupon(0, actors.alice).call() == 0
    tx(issued.functions.fundCoupon(0), actors.admin)
    assert issued.functions.claimableCoupon(0, actors.alice).call() == 10 * COUPON
    assert issued.functions.claimableCoupon(0, actors.dave).call() == 0
    fn = issued.functions.claimCoupon(0)
    assert fn.call({"from": actors.alice}) == 10 * COUPON
    receipt = tx(fn, actors.alice)
    assert events(issued, receipt) == [
        (
            "CouponClaimed",
            {"periodId": 0, "holder": actors.alice, "payee": actors.alice, "amount": 10 * COUPON},
        )
    ]
    assert cash.functions.balanceOf(actors.alice).call() == 10 * COUPON
    assert issued.functions.claimableCoupon(0, actors.alice).call() == 0
    with expect_revert(issued, "BondTokenCouponAlreadyClaimed", 0, actors.alice):
        issued.functions.claimCoupon(0).transact({"from": actors.alice})
    with expect_revert(issued, "BondTokenNothingToClaim", 0, actors.dave):
        issued.functions.claimCoupon(0).transact({"from": actors.dave})


def test_funding_pays_every_claim_exactly(issued, *, period, cash, issuer_cash, actors, clock):
    issuer_cash(issued)
    clock.travel_to(period)
    funded = issued.functions.fundCoupon(0).call({"from": actors.admin})
    tx(issued.functions.fundCoupon(0), actors.admin)
    paid = 0
    for holder in (actors.alice, actors.bob, actors.carol):
        paid += issued.functions.claimCoupon(0).call({"from": holder})
        tx(issued.functions.claimCoupon(0), holder)
    assert paid == funded
    assert cash.functions.balanceOf(issued.address).call() == 0


def test_each_period_has_its_own_entitlement(issued, *, cash, issuer_cash, actors, clock, bond_terms):
    issuer_cash(issued)
    first, second = bond_terms["issueDate"] + 100 * DAY, bond_terms["issueDate"] + 200 * DAY
    tx(issued.functions.scheduleCouponPeriod(first), actors.admin)
    tx(issued.functions.scheduleCouponPeriod(second), actors.admin)
    clock.travel_to(first)
    tx(issued.functions.transfer(actors.dave, 60), actors.carol)
    clock.travel_to(second)
    tx(issued.functions.fundCoupon(1), actors.admin)
    tx(issued.functions.fundCoupon(0), actors.admin)
    assert issued.functions.claimableCoupon(0, actors.carol).call() == 60 * COUPON
    assert issued.functions.claimableCoupon(1, actors.carol).call() == 0
    assert issued.functions.claimableCoupon(0, actors.dave).call() == 0
    assert issued.functions.claimableCoupon(1, actors.dave).call() == 60 * COUPON


# ---------------------------------------------------------------- accrued interest
# An independent model of the terms-only schedule: regular coupon dates every 12 / frequency months
# counted back from maturity (day capped at the month's length; last day of the month when maturity
# is), accrual from the regular date before the date (or the issue date in a short first period).


def months_before(timestamp: int, months: int, end_of_month: bool) -> int:
    moment = datetime.fromtimestamp(timestamp, UTC)
    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    last = calendar.monthrange(year, month + 1)[1]
    day = last if end_of_month else min(moment.day, last)
    return int(moment.replace(year=year, month=month + 1, day=day).timestamp())


def regular_period(t: int, maturity: int, frequency: int) -> tuple[int, int]:
    moment = datetime.fromtimestamp(maturity, UTC)
    eom = moment.day == calendar.monthrange(moment.year, moment.month)[1]
    dates = [months_before(maturity, k * 12 // frequency, eom) for k in range(0, 12 * frequency)]
    if t >= maturity:
        return dates[1], dates[0]
    return next((dates[k + 1], dates[k]) for k in range(len(dates) - 1) if dates[k + 1] <= t < dates[k])


def model_accrued(t: int, *, issue: int, maturity: int, basis: int, frequency: int = 2, end: int = 0) -> int:
    t = min(t, end or maturity)
    if t <= issue:
        return 0
    start, following = regular_period(t, maturity, frequency)
    accrual_start = max(start, issue)
    annual = DENOMINATION * COUPON_RATE_BPS
    if basis == 3:
        return annual * actual_days(accrual_start, t) // (10_000 * frequency * actual_days(start, following))
    elapsed = days_30_360(accrual_start, t) if basis == 0 else actual_days(accrual_start, t)
    return annual * elapsed // (10_000 * (365 if basis == 2 else 360))


ISSUE_2027 = ts(2027, 1, 31)
JULY_2027 = ts(2027, 7, 31)
MATURITY_2028 = ts(2028, 1, 31)


@pytest.fixture
def calendar_bond(new_bond, investors):
    """``calendar_bond(basis, **terms)``: a semi-annual bond issued 2027-01-31, maturing 2028-01-31
    (in the chain's future); its regular coupon dates are 2027-07-31 and the maturity date."""

    def _make(basis: int, **terms: object):
        dates = {"issueDate": ISSUE_2027, "maturityDate": MATURITY_2028}
        return new_bond(**{**dates, "dayCountBasis": basis, **terms})

    return _make


def test_the_model_schedule_matches_hand_counted_dates():
    assert regular_period(ts(2027, 4, 30), MATURITY_2028, 2) == (ISSUE_2027, JULY_2027)
    assert regular_period(JULY_2027, MATURITY_2028, 2) == (JULY_2027, MATURITY_2028)
    # End of month: a maturity on Feb 29 puts quarterly dates on Nov 30, Aug 31, May 31.
    leap = ts(2028, 2, 29)
    assert regular_period(ts(2027, 12, 25), leap, 4) == (ts(2027, 11, 30), leap)
    assert regular_period(ts(2027, 6, 1), leap, 4) == (ts(2027, 5, 31), ts(2027, 8, 31))
    # Capped, not end of month: a maturity on the 30th of a 31-day month.
    assert regular_period(ts(2027, 3, 1), ts(2027, 5, 30), 4) == (ts(2027, 2, 28), ts(2027, 5, 30))
    assert days_30_360(ISSUE_2027, ts(2027, 3, 31)) == 60
    assert days_30_360(ISSUE_2027, ts(2027, 2, 28)) == 28


@pytest.mark.parametrize("basis", [0, 1, 2, 3])
@pytest.mark.parametrize(
    "end",
    [
        ts(2027, 2, 28),
        ts(2027, 3, 1),
        ts(2027, 3, 31),
        ts(2027, 5, 15, 13),
        JULY_2027 - 1,
        JULY_2027,
        ts(2027, 10, 15),
        ts(2027, 12, 31, 23),
        MATURITY_2028,
    ],
)
def test_accrued_interest_follows_the_regular_coupon_periods(calendar_bond, basis, end):
    bond = calendar_bond(basis)
    expected = model_accrued(end, issue=ISSUE_2027, maturity=MATURITY_2028, basis=basis)
    assert bond.functions.accruedInterest(end).call() == expected


def test_accrued_interest_known_values(calendar_bond):
    # 30/360: Jan 31 to Mar 31 is 60 days; a full period is 180 days, half the annual coupon.
    assert calendar_bond(0).functions.accruedInterest(ts(2027, 3, 31)).call() == (
        DENOMINATION * COUPON_RATE_BPS * 60 // 3_600_000
    )
    assert calendar_bond(0).functions.accruedInterest(MATURITY_2028).call() == COUPON
    # ACT/ACT: 76 of the 184 days from July 31 to January 31 have passed on October 15.
    assert calendar_bond(3).functions.accruedInterest(ts(2027, 10, 15)).call() == 25 * 10**6 * 76 // 184
    # On a regular coupon date the accrual restarts at zero; at maturity it is the whole coupon.
    for basis in (0, 1, 2, 3):
        assert calendar_bond(basis).functions.accruedInterest(JULY_2027).call() == 0
    assert calendar_bond(3).functions.accruedInterest(MATURITY_2028).call() == COUPON


@pytest.mark.parametrize("basis", [1, 3])
def test_accrued_interest_depends_only_on_the_terms_and_the_date(calendar_bond, actors, basis):
    # Defect 7: with ACT/ACT the value used to jump when the next period was scheduled. Record dates
    # are the issuer's operational choice and need not fall on coupon dates.
    bond = calendar_bond(basis)
    dates = [ts(2027, 4, 30), ts(2027, 10, 15), ts(2027, 12, 31)]
    before = [bond.functions.accruedInterest(d).call() for d in dates]
    tx(bond.functions.scheduleCouponPeriod(ts(2027, 7, 24)), actors.admin)
    after_one = [bond.functions.accruedInterest(d).call() for d in dates]
    tx(bond.functions.scheduleCouponPeriod(ts(2028, 1, 24)), actors.admin)
    after_two = [bond.functions.accruedInterest(d).call() for d in dates]
    assert before == after_one == after_two
    assert before == [model_accrued(d, issue=ISSUE_2027, maturity=MATURITY_2028, basis=basis) for d in dates]


def test_a_short_first_period_accrues_from_the_issue_date(calendar_bond):
    # Issued mid-period: the regular period (Jan 31 to Jul 31) is the divisor, the issue date the start.
    issue = ts(2027, 3, 15)
    bond = calendar_bond(3, issueDate=issue)
    end = ts(2027, 5, 1)
    assert bond.functions.accruedInterest(end).call() == 25 * 10**6 * 47 // 181
    assert bond.functions.accruedInterest(end).call() == model_accrued(
        end, issue=issue, maturity=MATURITY_2028, basis=3
    )


@pytest.mark.parametrize("frequency", [1, 3, 4, 6, 12])
def test_accrued_interest_for_every_frequency(new_bond, investors, frequency):
    maturity = ts(2028, 2, 29)
    bond = new_bond(
        issueDate=ISSUE_2027,
        maturityDate=maturity,
        dayCountBasis=3,
        couponFrequency=frequency,
        issueVolume=1_000 * DENOMINATION,
    )
    for end in (ts(2027, 3, 3), ts(2027, 6, 17, 5), ts(2027, 11, 30), ts(2028, 1, 1)):
        expected = model_accrued(end, issue=ISSUE_2027, maturity=maturity, basis=3, frequency=frequency)
        assert bond.functions.accruedInterest(end).call() == expected


def test_accrued_interest_is_zero_up_to_the_issue_date_and_stops_at_maturity(calendar_bond):
    bond = calendar_bond(1)
    assert bond.functions.accruedInterest(0).call() == 0
    assert bond.functions.accruedInterest(ISSUE_2027).call() == 0
    at_maturity = bond.functions.accruedInterest(MATURITY_2028).call()
    assert at_maturity == DENOMINATION * COUPON_RATE_BPS * actual_days(JULY_2027, MATURITY_2028) // 3_600_000
    assert bond.functions.accruedInterest(MATURITY_2028 + 40 * DAY).call() == at_maturity
    assert bond.functions.accruedInterest(MAX_UINT256).call() == at_maturity


# ---------------------------------------------------------------- call


@pytest.fixture
def callable_bond(new_bond, investors, bond_terms, actors):
    """A bond callable at 1,010 cash from 180 days after issue; alice 10, bob 30 bonds."""
    bond = new_bond(callPrice=1_010 * 10**6, callableFrom=bond_terms["issueDate"] + 180 * DAY)
    tx(bond.functions.batchMint([actors.alice, actors.bob], [10, 30]), actors.admin)
    return bond


def test_call_errors(issued, callable_bond, actors, clock, bond_terms):
    with expect_revert(issued, "BondTokenNotCallable"):
        issued.functions.callBond().transact({"from": actors.admin})
    callable_from = bond_terms["issueDate"] + 180 * DAY
    assert callable_bond.functions.callableFrom().call() == callable_from
    with expect_revert(callable_bond, "BondTokenCallNotAllowedYet", callable_from):
        callable_bond.functions.callBond().transact({"from": actors.admin})
    clock.travel_to(bond_terms["maturityDate"])
    with expect_revert(callable_bond, "BondTokenMatured", bond_terms["maturityDate"]):
        callable_bond.functions.callBond().call({"from": actors.admin})


def test_call_fixes_the_redemption_price_and_stops_issuance(callable_bond, actors, clock, bond_terms):
    clock.travel_to(bond_terms["issueDate"] + 180 * DAY - 1)
    receipt = tx(callable_bond.functions.callBond(), actors.admin)  # mined at callableFrom exactly
    called_at = clock.now()
    assert called_at == bond_terms["issueDate"] + 180 * DAY
    assert events(callable_bond, receipt) == [
        ("BondCalled", {"calledAt": called_at, "callPrice": 1_010 * 10**6})
    ]
    assert callable_bond.functions.calledAt().call() == called_at
    assert callable_bond.functions.redemptionPrice().call() == 1_010 * 10**6
    with expect_revert(callable_bond, "BondTokenAlreadyCalled"):
        callable_bond.functions.callBond().transact({"from": actors.admin})
    with expect_revert(callable_bond, "BondTokenAlreadyCalled"):
        callable_bond.functions.mint(actors.alice, 1).transact({"from": actors.admin})
    with expect_revert(callable_bond, "BondTokenAlreadyCalled"):
        callable_bond.functions.scheduleCouponPeriod(bond_terms["maturityDate"]).transact(
            {"from": actors.admin}
        )
    # Accrual stops at the call.
    assert callable_bond.functions.accruedInterest(bond_terms["maturityDate"]).call() == (
        callable_bond.functions.accruedInterest(called_at).call()
    )


def test_coupons_after_the_call_are_cancelled(callable_bond, *, cash, issuer_cash, actors, clock, bond_terms):
    issuer_cash(callable_bond)
    before, after = bond_terms["issueDate"] + 190 * DAY, bond_terms["issueDate"] + 300 * DAY
    tx(callable_bond.functions.scheduleCouponPeriod(before), actors.admin)
    tx(callable_bond.functions.scheduleCouponPeriod(after), actors.admin)
    clock.travel_to(before + DAY)
    tx(callable_bond.functions.callBond(), actors.admin)
    clock.travel_to(after)
    with expect_revert(callable_bond, "BondTokenCouponCancelled", 1):
        callable_bond.functions.fundCoupon(1).transact({"from": actors.admin})
    assert callable_bond.functions.fundCoupon(0).call({"from": actors.admin}) == 40 * COUPON
    tx(callable_bond.functions.fundCoupon(0), actors.admin)


# ---------------------------------------------------------------- redemption


def test_redemption_errors_before_maturity(issued, actors):
    with expect_revert(issued, "BondTokenNotMatured", issued.functions.maturityDate().call()):
        issued.functions.fundRedemption().transact({"from": actors.admin})
    with expect_revert(issued, "BondTokenRedemptionNotFunded"):
        issued.functions.redeem(1).transact({"from": actors.alice})


def test_redemption_at_maturity(issued, *, cash, issuer_cash, actors, clock, bond_terms):
    issuer_cash(issued)
    clock.travel_to(bond_terms["maturityDate"] - 1)
    fn = issued.functions.fundRedemption()
    receipt = tx(fn, actors.admin)  # mined at the maturity date
    assert events(issued, receipt) == [
        ("RedemptionFunded", {"price": DENOMINATION, "amount": 100 * DENOMINATION})
    ]
    assert cash.functions.balanceOf(issued.address).call() == 100 * DENOMINATION
    assert issued.functions.redemptionFunded().call() is True
    with expect_revert(issued, "BondTokenRedemptionAlreadyFunded"):
        issued.functions.fundRedemption().transact({"from": actors.admin})
    fn = issued.functions.redeem(4)
    assert fn.call({"from": actors.alice}) == 4 * DENOMINATION
    receipt = tx(fn, actors.alice)
    assert events(issued, receipt) == [
        ("Transfer", {"from": actors.alice, "to": ZERO_ADDRESS, "value": 4}),
        ("Redeemed", {"holder": actors.alice, "amount": 4, "payout": 4 * DENOMINATION}),
    ]
    assert cash.functions.balanceOf(actors.alice).call() == 4 * DENOMINATION
    assert issued.functions.balanceOf(actors.alice).call() == 6
    assert issued.functions.totalSupply().call() == 96
    # Bonds still trade after maturity.
    tx(issued.functions.transfer(actors.dave, 6), actors.alice)
    tx(issued.functions.redeem(6), actors.dave)
    assert cash.functions.balanceOf(actors.dave).call() == 6 * DENOMINATION


def test_redeem_errors(issued, *, cash, issuer_cash, registry, actors, clock, bond_terms):
    issuer_cash(issued)
    clock.travel_to(bond_terms["maturityDate"])
    tx(issued.functions.fundRedemption(), actors.admin)
    with expect_revert(issued, "BondTokenNothingToRedeem", actors.alice):
        issued.functions.redeem(0).transact({"from": actors.alice})
    with expect_revert(issued, "ERC20InsufficientBalance", actors.alice, 10, 11):
        issued.functions.redeem(11).transact({"from": actors.alice})
    tx(issued.functions.setFrozenTokens(actors.bob, 25), actors.admin)
    with expect_revert(issued, "ERC7943InsufficientUnfrozenBalance", actors.bob, 6, 5):
        issued.functions.redeem(6).transact({"from": actors.bob})
    tx(issued.functions.freezeAccount(actors.alice), actors.admin)
    with expect_revert(issued, "ERC7943CannotSend", actors.alice):
        issued.functions.redeem(1).transact({"from": actors.alice})
    tx(registry.functions.revokeInvestor(3), actors.kyc)
    with expect_revert(issued, "ERC7943CannotSend", actors.carol):
        issued.functions.redeem(1).transact({"from": actors.carol})
    tx(issued.functions.pause(), actors.admin)
    with expect_revert(issued, "EnforcedPause"):
        issued.functions.redeem(1).transact({"from": actors.bob})
    with expect_revert(issued, "BondTokenNothingToRedeem", actors.outsider):
        issued.functions.redeem(0).transact({"from": actors.outsider})


def test_redemption_after_a_call_pays_the_call_price(
    callable_bond, *, cash, issuer_cash, actors, clock, bond_terms
):
    issuer_cash(callable_bond)
    clock.travel_to(bond_terms["issueDate"] + 200 * DAY)
    tx(callable_bond.functions.callBond(), actors.admin)
    receipt = tx(callable_bond.functions.fundRedemption(), actors.admin)
    assert event_names(callable_bond, receipt) == ["RedemptionFunded"]
    assert events(callable_bond, receipt)[0][1] == {"price": 1_010 * 10**6, "amount": 40 * 1_010 * 10**6}
    assert callable_bond.functions.redeem(30).call({"from": actors.bob}) == 30 * 1_010 * 10**6
    tx(callable_bond.functions.redeem(30), actors.bob)
    tx(callable_bond.functions.redeem(10), actors.alice)
    assert cash.functions.balanceOf(callable_bond.address).call() == 0


def test_open_mode_bond_serves_anyone(new_bond, cash, issuer_cash, *, actors, clock, bond_terms):
    bond = new_bond(kyc=False)
    issuer_cash(bond)
    tx(bond.functions.mint(actors.outsider, 3), actors.admin)
    tx(bond.functions.transfer(actors.mallory, 1), actors.outsider)
    record = bond_terms["issueDate"] + 10 * DAY
    tx(bond.functions.scheduleCouponPeriod(record), actors.admin)
    clock.travel_to(bond_terms["maturityDate"])
    tx(bond.functions.fundCoupon(0), actors.admin)
    tx(bond.functions.fundRedemption(), actors.admin)
    tx(bond.functions.claimCoupon(0), actors.mallory)
    tx(bond.functions.redeem(2), actors.outsider)
    assert cash.functions.balanceOf(actors.mallory).call() == COUPON
    assert cash.functions.balanceOf(actors.outsider).call() == 2 * DENOMINATION
