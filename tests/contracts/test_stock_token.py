"""StockToken: raw units and splits, record-date snapshots across splits, dividends."""

from __future__ import annotations

import pytest

from registry.artifacts import load_artifact

from .helpers import (
    CASH_UNIT,
    DAY,
    MAX_AMOUNT,
    SUPPLY,
    ZERO_ADDRESS,
    events,
    expect_revert,
    tx,
    unauthorized,
)

SCALE = 2**12 * 3**6 * 5**4 * 7**2 * 11 * 13  # the initial raw units per share
MAX_SHARES = MAX_AMOUNT // SCALE


def balances(token, accounts) -> list[int]:
    return [token.functions.balanceOf(a).call() for a in accounts]


def raw_balances(token, accounts) -> list[int]:
    return [token.functions.rawBalanceOf(a).call() for a in accounts]


# ---------------------------------------------------------------- deployment and units


def test_deployment(stock, cash, actors):
    assert stock.functions.currency().call() == cash.address
    assert stock.functions.INITIAL_RAW_UNITS_PER_SHARE().call() == SCALE == 13_076_743_680_000
    assert stock.functions.rawUnitsPerShare().call() == SCALE
    assert stock.functions.decimals().call() == 0
    assert stock.functions.dividendCount().call() == 0
    assert stock.functions.kycMode().call() is True


@pytest.mark.parametrize("where", ["zero", "wallet"])
def test_currency_must_be_a_contract(w3, actors, registry, where):
    bad = ZERO_ADDRESS if where == "zero" else actors.alice
    artifact = load_artifact("StockToken")
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    with expect_revert(factory, "StockTokenInvalidCurrency", bad):
        factory.constructor("A", "A", bad, actors.admin, registry.address, True, 0).transact(
            {"from": actors.admin}
        )
    with expect_revert(factory, "RegulatedTokenInvalidRegistry", ZERO_ADDRESS):
        factory.constructor("A", "A", bad, actors.admin, ZERO_ADDRESS, True, 0).transact(
            {"from": actors.admin}
        )


@pytest.mark.parametrize("period", [1, 364 * DAY, 2**40])
def test_a_claim_period_is_none_or_at_least_a_year(w3, actors, registry, cash, period):
    artifact = load_artifact("StockToken")
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    with expect_revert(factory, "StockTokenInvalidClaimPeriod", period):
        factory.constructor("A", "A", cash.address, actors.admin, registry.address, True, period).transact(
            {"from": actors.admin}
        )


def test_balances_are_kept_in_raw_units(stock, actors):
    assert balances(stock, [actors.alice, actors.bob, actors.carol]) == [15, 10, 5]
    assert raw_balances(stock, [actors.alice, actors.bob, actors.carol]) == [
        15 * SCALE,
        10 * SCALE,
        5 * SCALE,
    ]
    assert stock.functions.totalSupply().call() == 30
    assert stock.functions.rawTotalSupply().call() == 30 * SCALE
    receipt = tx(stock.functions.transfer(actors.dave, 4), actors.alice)
    # Events speak in shares.
    assert events(stock, receipt) == [("Transfer", {"from": actors.alice, "to": actors.dave, "value": 4})]
    assert stock.functions.rawBalanceOf(actors.dave).call() == 4 * SCALE


def test_supply_limits_in_shares(new_stock, investors, actors):
    token = new_stock()
    with expect_revert(token, "RegulatedTokenAmountTooLarge", MAX_SHARES + 1, MAX_SHARES):
        token.functions.mint(actors.alice, MAX_SHARES + 1).transact({"from": actors.admin})
    tx(token.functions.mint(actors.alice, MAX_SHARES), actors.admin)
    with expect_revert(token, "RegulatedTokenSupplyCapExceeded", MAX_SHARES + 1, MAX_SHARES):
        token.functions.mint(actors.bob, 1).transact({"from": actors.admin})


def test_huge_amounts_do_not_break_the_views(stock, actors):
    for amount in (MAX_SHARES + 1, MAX_AMOUNT, 2**256 - 1):
        assert stock.functions.canTransfer(actors.alice, actors.bob, amount).call() is True  # balance aside
        assert stock.functions.transferViolations(actors.alice, actors.bob, amount).call() == [12]


# ---------------------------------------------------------------- splits


def test_forward_split_multiplies_everything_exactly(stock, actors):
    tx(stock.functions.setFrozenTokens(actors.alice, 6), actors.admin)
    tx(stock.functions.setMaxBalancePerInvestor(100), actors.admin)
    tx(stock.functions.approve(actors.dave, 7), actors.bob)
    raw_before = raw_balances(stock, [actors.alice, actors.bob, actors.carol])
    receipt = tx(stock.functions.split(2, 1), actors.admin)
    assert events(stock, receipt) == [
        ("StockSplit", {"numerator": 2, "denominator": 1, "newTotalSupply": 60})
    ]
    assert stock.functions.rawUnitsPerShare().call() == SCALE // 2
    assert balances(stock, [actors.alice, actors.bob, actors.carol]) == [30, 20, 10]
    assert raw_balances(stock, [actors.alice, actors.bob, actors.carol]) == raw_before
    assert stock.functions.totalSupply().call() == 60
    assert stock.functions.getFrozenTokens(actors.alice).call() == 12
    assert stock.functions.complianceRules().call()[3] == 200
    assert stock.functions.investorBalance(1).call() == 30
    # Allowances are in shares and are not rescaled.
    assert stock.functions.allowance(actors.bob, actors.dave).call() == 7


def test_three_for_two_split_is_exact(stock, actors):
    tx(stock.functions.split(3, 2), actors.admin)
    assert stock.functions.rawUnitsPerShare().call() == SCALE * 2 // 3
    assert balances(stock, [actors.alice, actors.bob, actors.carol]) == [22, 15, 7]  # 22.5 and 7.5 floor
    assert stock.functions.totalSupply().call() == 45


def test_twelve_two_for_one_splits_then_the_thirteenth_is_inexact(stock, actors):
    for _ in range(12):
        tx(stock.functions.split(2, 1), actors.admin)
    assert stock.functions.rawUnitsPerShare().call() == SCALE // 4096
    assert stock.functions.balanceOf(actors.alice).call() == 15 * 4096
    with expect_revert(stock, "StockTokenInexactSplit", 2, 1, SCALE // 4096):
        stock.functions.split(2, 1).transact({"from": actors.admin})


def test_an_inexact_split_is_refused(stock, actors):
    with expect_revert(stock, "StockTokenInexactSplit", 17, 1, SCALE):
        stock.functions.split(17, 1).transact({"from": actors.admin})


@pytest.mark.parametrize(("numerator", "denominator"), [(0, 1), (1, 0), (2, 2), (2**32, 1), (1, 2**32)])
def test_invalid_splits(stock, actors, numerator, denominator):
    with expect_revert(stock, "StockTokenInvalidSplit", numerator, denominator):
        stock.functions.split(numerator, denominator).transact({"from": actors.admin})


def test_a_split_whose_scale_would_not_fit_is_refused(stock, actors):
    tx(stock.functions.split(1, 2**32 - 1), actors.admin)
    with expect_revert(stock, "StockTokenInvalidSplit", 1, 2**32 - 1):
        stock.functions.split(1, 2**32 - 1).transact({"from": actors.admin})


def test_reverse_split_keeps_fractions_that_a_forward_split_restores(stock, actors):
    holders = [actors.alice, actors.bob, actors.carol]
    tx(stock.functions.split(1, 10), actors.admin)
    assert balances(stock, holders) == [1, 1, 0]  # 1.5, 1.0 and 0.5 shares
    assert stock.functions.totalSupply().call() == 3
    assert 0 <= stock.functions.totalSupply().call() - sum(balances(stock, holders)) < len(holders)
    assert raw_balances(stock, holders) == [15 * SCALE, 10 * SCALE, 5 * SCALE]
    # The fraction cannot be sent.
    with expect_revert(stock, "ERC20InsufficientBalance", actors.alice, 1, 2):
        stock.functions.transfer(actors.dave, 2).transact({"from": actors.alice})
    tx(stock.functions.transfer(actors.dave, 1), actors.alice)
    assert stock.functions.rawBalanceOf(actors.alice).call() == 5 * SCALE
    tx(stock.functions.split(10, 1), actors.admin)
    assert balances(stock, [*holders, actors.dave]) == [5, 10, 5, 10]


def test_split_needs_the_supply_role_and_works_while_paused(stock, actors):
    with unauthorized(stock, actors.alice, SUPPLY):
        stock.functions.split(2, 1).transact({"from": actors.alice})
    tx(stock.functions.pause(), actors.admin)
    tx(stock.functions.split(2, 1), actors.admin)
    assert stock.functions.totalSupply().call() == 60


# ---------------------------------------------------------------- snapshots across splits


# ---------------------------------------------------------------- dividends


def test_declare_dividend_pulls_the_cash_at_once(stock, cash, issuer_cash, actors, clock):
    issuer_cash(stock)
    record = clock.now() + 10 * DAY
    fn = stock.functions.declareDividend(record, 3_000 * CASH_UNIT)
    assert fn.call({"from": actors.admin}) == 0
    before = cash.functions.balanceOf(actors.admin).call()
    receipt = tx(fn, actors.admin)
    assert events(stock, receipt) == [
        ("RecordDateScheduled", {"recordId": 0, "recordDate": record}),
        (
            "DividendDeclared",
            {"dividendId": 0, "recordId": 0, "recordDate": record, "amount": 3_000 * CASH_UNIT},
        ),
    ]
    assert cash.functions.balanceOf(actors.admin).call() == before - 3_000 * CASH_UNIT
    assert cash.functions.balanceOf(stock.address).call() == 3_000 * CASH_UNIT
    assert stock.functions.dividend(0).call() == [record, 0, 3_000 * CASH_UNIT, 3_000 * CASH_UNIT]
    assert stock.functions.dividendCount().call() == 1


def test_declare_dividend_errors(stock, cash, issuer_cash, actors, clock):
    now = clock.now()
    with expect_revert(stock, "StockTokenZeroDividend"):
        stock.functions.declareDividend(now + DAY, 0).transact({"from": actors.admin})
    with expect_revert(stock, "RegulatedTokenInvalidRecordDate", now):
        stock.functions.declareDividend(now, 1).call({"from": actors.admin})
    with expect_revert(cash, "ERC20InsufficientAllowance", stock.address, 0, 5):
        stock.functions.declareDividend(now + DAY, 5).transact({"from": actors.admin})
    issuer_cash(stock)
    tx(stock.functions.declareDividend(now + 2 * DAY, 5), actors.admin)
    with expect_revert(stock, "RegulatedTokenInvalidRecordDate", now + DAY):
        stock.functions.declareDividend(now + DAY, 5).transact({"from": actors.admin})
    with unauthorized(stock, actors.alice, SUPPLY):
        stock.functions.declareDividend(now + 3 * DAY, 5).transact({"from": actors.alice})


@pytest.mark.parametrize(
    "call",
    [
        lambda s, a: s.functions.dividend(3).call(),
        lambda s, a: s.functions.claimableDividend(3, a.alice).call(),
        lambda s, a: s.functions.claimDividend(3).transact({"from": a.alice}),
        lambda s, a: s.functions.claimDividendFor(3, a.alice).transact({"from": a.bob}),
    ],
    ids=["dividend", "claimableDividend", "claimDividend", "claimDividendFor"],
)
def test_unknown_dividend(stock, actors, call):
    with expect_revert(stock, "StockTokenUnknownDividend", 3):
        call(stock, actors)


@pytest.fixture
def declared(stock, issuer_cash, actors, clock):
    """A dividend of 3,000 cash on ``stock`` (30 shares), record date in ten days; returns the date."""
    issuer_cash(stock)
    record = clock.now() + 10 * DAY
    tx(stock.functions.declareDividend(record, 3_000 * CASH_UNIT), actors.admin)
    return record


def test_claims_follow_the_record_date(stock, declared, cash, actors, clock):
    with expect_revert(stock, "StockTokenRecordDateNotReached", 0, declared):
        stock.functions.claimDividend(0).transact({"from": actors.alice})
    assert stock.functions.claimableDividend(0, actors.alice).call() == 0
    clock.travel_to(declared - 2)
    tx(stock.functions.transfer(actors.dave, 5), actors.alice)  # before the record date: dave is entitled
    clock.travel_to(declared)
    tx(stock.functions.transfer(actors.dave, 10), actors.bob)  # after: bob keeps his part
    expected = {actors.alice: 1_000, actors.bob: 1_000, actors.carol: 500, actors.dave: 500}
    for holder, amount in expected.items():
        assert stock.functions.claimableDividend(0, holder).call() == amount * CASH_UNIT
    receipt = tx(stock.functions.claimDividend(0), actors.alice)
    assert events(stock, receipt) == [
        (
            "DividendClaimed",
            {"dividendId": 0, "holder": actors.alice, "payee": actors.alice, "amount": 1_000 * CASH_UNIT},
        )
    ]
    with expect_revert(stock, "StockTokenDividendAlreadyClaimed", 0, actors.alice):
        stock.functions.claimDividend(0).transact({"from": actors.alice})
    assert stock.functions.claimableDividend(0, actors.alice).call() == 0
    tx(stock.functions.claimDividendFor(0, actors.bob), actors.admin)  # the paying agent
    assert cash.functions.balanceOf(actors.bob).call() == 1_000 * CASH_UNIT
    assert cash.functions.balanceOf(actors.mallory).call() == 0
    with expect_revert(stock, "StockTokenNothingToClaim", 0, actors.erin):
        stock.functions.claimDividend(0).transact({"from": actors.erin})


def test_dividend_rounding_leaves_dust_in_the_contract(stock, issuer_cash, cash, actors, clock):
    issuer_cash(stock)
    record = clock.now() + DAY
    tx(stock.functions.declareDividend(record, 100), actors.admin)  # 100 cash units over 30 shares
    clock.travel_to(record)
    paid = 0
    for holder, shares in ((actors.alice, 15), (actors.bob, 10), (actors.carol, 5)):
        amount = stock.functions.claimDividend(0).call({"from": holder})
        assert amount == 100 * shares // 30
        tx(stock.functions.claimDividend(0), holder)
        paid += amount
    assert paid == 50 + 33 + 16
    assert cash.functions.balanceOf(stock.address).call() == 100 - paid


def test_fractions_earn_dividends(stock, issuer_cash, actors, clock):
    issuer_cash(stock)
    tx(stock.functions.split(1, 10), actors.admin)  # alice 1.5, bob 1, carol 0.5 shares
    record = clock.now() + DAY
    tx(stock.functions.declareDividend(record, 3_000), actors.admin)
    clock.travel_to(record)
    assert stock.functions.claimableDividend(0, actors.carol).call() == 500
    assert stock.functions.claimableDividend(0, actors.alice).call() == 1_500


def test_a_split_after_the_record_date_changes_no_entitlement(stock, declared, actors, clock):
    clock.travel_to(declared)
    tx(stock.functions.split(2, 1), actors.admin)
    assert stock.functions.balanceAtRecord(actors.alice, 0).call() == 15
    assert stock.functions.totalSupplyAtRecord(0).call() == 30
    assert stock.functions.balanceOf(actors.alice).call() == 30
    assert stock.functions.claimableDividend(0, actors.alice).call() == 1_500 * CASH_UNIT


def test_a_split_before_the_record_date_shows_in_the_snapshot(stock, declared, actors, clock):
    tx(stock.functions.split(3, 1), actors.admin)
    clock.travel_to(declared)
    assert stock.functions.balanceAtRecord(actors.alice, 0).call() == 45
    assert stock.functions.totalSupplyAtRecord(0).call() == 90
    assert stock.functions.claimableDividend(0, actors.alice).call() == 1_500 * CASH_UNIT


def test_snapshots_of_several_record_dates_around_splits(stock, issuer_cash, actors, clock):
    issuer_cash(stock)
    first, second = clock.now() + 10 * DAY, clock.now() + 20 * DAY
    tx(stock.functions.declareDividend(first, 1), actors.admin)
    tx(stock.functions.declareDividend(second, 1), actors.admin)
    clock.travel_to(first + DAY)
    tx(stock.functions.split(2, 1), actors.admin)  # between the two record dates
    tx(stock.functions.transfer(actors.dave, 10), actors.alice)
    clock.travel_to(second + DAY)
    tx(stock.functions.split(1, 2), actors.admin)  # after both
    assert [stock.functions.balanceAtRecord(actors.alice, r).call() for r in (0, 1)] == [15, 20]
    assert [stock.functions.totalSupplyAtRecord(r).call() for r in (0, 1)] == [30, 60]
    assert stock.functions.balanceAtRecord(actors.dave, 0).call() == 0
    assert stock.functions.balanceAtRecord(actors.dave, 1).call() == 10
    assert stock.functions.balanceOf(actors.alice).call() == 10


def test_dividends_of_a_recovered_wallet_are_paid_to_its_replacement(
    stock, declared, cash, *, registry, actors, clock
):
    tx(registry.functions.addWallet(3, actors.outsider), actors.kyc)
    clock.travel_to(declared)
    tx(stock.functions.recoverWallet(actors.carol, actors.outsider), actors.admin)
    receipt = tx(stock.functions.claimDividendFor(0, actors.carol), actors.outsider)
    assert events(stock, receipt)[0][1]["payee"] == actors.outsider
    assert cash.functions.balanceOf(actors.outsider).call() == 500 * CASH_UNIT
    assert stock.functions.claimableDividend(0, actors.carol).call() == 0


def test_a_record_date_without_supply_pays_nobody(new_stock, investors, issuer_cash, actors, clock):
    token = new_stock()
    issuer_cash(token)
    record = clock.now() + DAY
    tx(token.functions.declareDividend(record, 100), actors.admin)
    clock.travel_to(record)
    tx(token.functions.mint(actors.alice, 5), actors.admin)
    assert token.functions.claimableDividend(0, actors.alice).call() == 0
    with expect_revert(token, "StockTokenNothingToClaim", 0, actors.alice):
        token.functions.claimDividend(0).transact({"from": actors.alice})


def test_open_mode_stock_pays_anyone(new_stock, issuer_cash, cash, actors, clock):
    token = new_stock(kyc=False)
    issuer_cash(token)
    tx(token.functions.mint(actors.outsider, 3), actors.admin)
    record = clock.now() + DAY
    tx(token.functions.declareDividend(record, 30), actors.admin)
    clock.travel_to(record)
    tx(token.functions.claimDividend(0), actors.outsider)
    assert cash.functions.balanceOf(actors.outsider).call() == 30
