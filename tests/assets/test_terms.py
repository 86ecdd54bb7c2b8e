"""Terms are validated before anything is sent; every refusal names the field and says what is expected."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from registry.assets.terms import BondTerms, CashTerms, StockTerms, parse_terms
from registry.errors import InvalidInputError

CASH = "0x" + "11" * 20
BOND: dict[str, Any] = {
    "name": "ACME 5% 2030",
    "symbol": "ACME30",
    "isin": "US0378331005",
    "currency": CASH,
    "denomination": 1_000_000_000,
    "issue_volume": 1_000 * 1_000_000_000,
    "coupon_rate_bps": 500,
    "coupon_frequency": 2,
    "issue_date": date(2025, 1, 1),
    "maturity_date": date(2030, 1, 1),
}


def test_valid_bond_terms_are_kept_with_dates_as_timestamps() -> None:
    terms = parse_terms(BondTerms, BOND)
    assert terms.issue_date == 1_735_689_600
    assert terms.maturity_date == 1_893_456_000
    assert terms.max_bonds == 1_000
    assert not terms.zero_coupon
    assert terms.day_count == "ACT/365"
    assert parse_terms(BondTerms, terms) is terms


@pytest.mark.parametrize(
    ("changes", "field", "said"),
    [
        ({"isin": "US0378331006"}, "isin", "check digit 6"),
        ({"maturity_date": date(2024, 12, 31)}, "maturity_date", "must be after the issue date"),
        ({"maturity_date": date(2025, 1, 1)}, "maturity_date", "must be after the issue date"),
        ({"coupon_rate_bps": 10_001}, "coupon_rate_bps", "10000"),
        ({"coupon_rate_bps": -1}, "coupon_rate_bps", "greater than or equal to 0"),
        ({"coupon_frequency": 5}, "coupon_frequency", "must divide 12"),
        ({"coupon_frequency": 0}, "coupon_frequency", "must divide 12"),
        ({"coupon_rate_bps": 0}, "coupon_frequency", "zero-coupon bond"),
        ({"issue_volume": 1_500_000_000}, "issue_volume", "whole number of bonds"),
        ({"denomination": 0}, "denomination", "greater than 0"),
        ({"call_price": 1}, "callable_from", "needs callable_from"),
        ({"callable_from": date(2027, 1, 1)}, "callable_from", "needs a call_price"),
        ({"call_price": 1, "callable_from": date(2031, 1, 1)}, "callable_from", "before maturity"),
        ({"claim_period_days": 30}, "claim_period_days", "at least 365 days"),
        ({"day_count": "ACT/366"}, "day_count", "30/360"),
        ({"name": "  "}, "name", "cannot be empty"),
        ({"symbol": "A\nB"}, "symbol", "control characters"),
        ({"issue_date": datetime(2025, 1, 1)}, "issue_date", "timezone-aware"),
        ({"denomination": "1000"}, "denomination", "valid integer"),
        ({"surprise": 1}, "surprise", "Extra inputs"),
        ({"maturity_date": 2**40}, "maturity_date", "less than or equal to"),
    ],
)
def test_each_bad_bond_term_is_refused_by_name(changes: dict[str, Any], field: str, said: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_terms(BondTerms, {**BOND, **changes})
    assert caught.value.field == field
    assert said in str(caught.value)
    assert "Value error" not in str(caught.value)


def test_a_missing_term_is_named_and_every_problem_is_listed() -> None:
    terms = {k: v for k, v in BOND.items() if k != "isin"}
    terms["coupon_rate_bps"] = 20_000
    with pytest.raises(InvalidInputError) as caught:
        parse_terms(BondTerms, terms)
    assert caught.value.field == "isin"
    assert "coupon_rate_bps" in str(caught.value)


def test_a_zero_coupon_and_a_callable_bond_are_valid() -> None:
    zero = parse_terms(BondTerms, {**BOND, "coupon_rate_bps": 0, "coupon_frequency": 0})
    assert zero.zero_coupon
    callable_ = parse_terms(
        BondTerms, {**BOND, "call_price": 1_010_000_000, "callable_from": datetime(2028, 1, 1, tzinfo=UTC)}
    )
    assert callable_.callable_from == 1_830_297_600


def test_stock_and_cash_terms() -> None:
    stock = parse_terms(
        StockTerms, {"name": "ACME", "symbol": "ACM", "currency": CASH, "isin": "us0378331005"}
    )
    assert stock.isin == "US0378331005" and stock.claim_period_days == 0
    with pytest.raises(InvalidInputError) as caught:
        parse_terms(StockTerms, {"name": "ACME", "symbol": "ACM", "currency": CASH, "claim_period_days": 364})
    assert caught.value.field == "claim_period_days"
    with pytest.raises(InvalidInputError) as caught:
        parse_terms(StockTerms, {"name": "ACME", "symbol": "ACM", "currency": CASH, "isin": "US0378331006"})
    assert caught.value.field == "isin"
    assert parse_terms(CashTerms, {"name": "Test USD", "symbol": "tUSD"}).symbol == "tUSD"
    with pytest.raises(InvalidInputError) as caught:
        parse_terms(CashTerms, {"name": "Test USD"})
    assert caught.value.field == "symbol"
    with pytest.raises(InvalidInputError) as caught:
        parse_terms(CashTerms, ["not", "a", "mapping"])  # type: ignore[arg-type]
    assert caught.value.field == "terms"
