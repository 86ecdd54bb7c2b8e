"""The terms of an asset, validated before anything is sent: a bond's, a stock's, a cash token's.

Each model checks what the contract would refuse (and a little more, such as the ISIN's check digit),
so a bad term is an `InvalidInputError` naming the field, not a reverted deployment:

    terms = parse_terms(BondTerms, {"name": "ACME 5% 2030", "isin": "US0378331005", ...})

Dates are Unix timestamps; a `datetime.date` (midnight UTC) or a timezone-aware `datetime` is
accepted too. Amounts are in the smallest units of the cash token (6 decimals for the registry's
cash). ``currency`` names the cash token by address or by its registry id (``cash-…``); the issuing
service resolves an id to the address before the terms are catalogued.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, Final, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from registry.assets.isin import check_isin
from registry.errors import InvalidInputError

DAY: Final = 86_400
MAX_UINT40: Final = 2**40 - 1
MAX_UINT128: Final = 2**128 - 1
MIN_CLAIM_PERIOD_DAYS: Final = 365
"""A claim period is 0 (no deadline) or at least a year (the contracts' rule)."""

COUPON_FREQUENCIES: Final = (1, 2, 3, 4, 6, 12)
"""Coupons per year: regular coupon dates fall every 12 / frequency months, so it must divide 12."""

DayCount = Literal["30/360", "ACT/360", "ACT/365", "ACT/ACT"]
"""Day-count bases of accrued interest (ACT/ACT is ICMA's, per regular coupon period)."""

DAY_COUNT_CODES: Final[dict[str, int]] = {"30/360": 0, "ACT/360": 1, "ACT/365": 2, "ACT/ACT": 3}
"""The contract's code of each day-count basis."""

M = TypeVar("M", bound=BaseModel)


def to_timestamp(value: object) -> object:
    """A date, an aware datetime or an integer timestamp as an integer timestamp (others unchanged,
    for the field's own check to refuse)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("give a timezone-aware datetime (e.g. datetime(2030, 1, 1, tzinfo=UTC))")
        return int(value.timestamp())
    if isinstance(value, date):
        return calendar.timegm(value.timetuple())
    return value


def _text(value: str, what: str) -> str:
    stripped = value.strip()
    if not stripped:
        raise ValueError(f"{what} cannot be empty")
    if any(ord(char) < 32 for char in stripped):
        raise ValueError(f"{what} cannot hold control characters")
    return stripped


class _Terms(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: str = Field(min_length=1, max_length=100)
    symbol: str = Field(min_length=1, max_length=20)

    @field_validator("name", "symbol")
    @classmethod
    def _clean(cls, value: str, info: ValidationInfo) -> str:
        return _text(value, str(info.field_name))


class CashTerms(_Terms):
    """A test stablecoin: a plain ERC-20 with 6 decimals, minted by its issuer."""


class _PaidTerms(_Terms):
    """Terms of an asset that pays its holders in a cash token, claimable for a claim period."""

    currency: str = Field(
        min_length=1, description="The cash token payments are made in (address or cash-…)."
    )
    claim_period_days: int = Field(default=0, ge=0, description="0: no deadline; else at least 365.")

    @field_validator("claim_period_days")
    @classmethod
    def _claim_period(cls, value: int) -> int:
        return _check_claim_period(value)

    @field_validator("isin", check_fields=False)
    @classmethod
    def _isin(cls, value: str | None) -> str | None:
        return None if value is None else _isin_or_value_error(value)


class StockTerms(_PaidTerms):
    """Shares: dividends in ``currency``, claimable for ``claim_period_days`` after each record date."""

    isin: str | None = Field(default=None, description="The share's ISIN, for the catalogue (optional).")


class BondTerms(_PaidTerms):
    """A bond under ERC-7092: one token is one bond of ``denomination`` cash units.

    ``coupon_rate_bps`` 0 makes a zero-coupon bond (then ``coupon_frequency`` is 0); a ``call_price``
    above 0 makes it callable from ``callable_from`` on.
    """

    isin: str
    denomination: int = Field(gt=0, le=MAX_UINT128, description="Cash units per bond.")
    issue_volume: int = Field(gt=0, le=MAX_UINT128, description="Total debt in cash units.")
    coupon_rate_bps: int = Field(ge=0, le=10_000, description="Annual coupon rate in basis points.")
    coupon_frequency: int = Field(ge=0, description="Coupons per year: 1, 2, 3, 4, 6 or 12 (0: zero coupon).")
    issue_date: int = Field(ge=0, description="Issue date (Unix time).")
    maturity_date: int = Field(gt=0, le=MAX_UINT40, description="Maturity date (Unix time).")
    day_count: DayCount = "ACT/365"
    call_price: int = Field(
        default=0, ge=0, le=MAX_UINT128, description="Cash per bond if called; 0: not callable."
    )
    callable_from: int | None = Field(
        default=None, ge=0, validate_default=True, description="First time the issuer may call."
    )

    @field_validator("issue_date", "maturity_date", "callable_from", mode="before")
    @classmethod
    def _dates(cls, value: object) -> object:
        return to_timestamp(value)

    @field_validator("issue_volume")
    @classmethod
    def _volume(cls, value: int, info: ValidationInfo) -> int:
        denomination = info.data.get("denomination")
        if denomination and value % denomination:
            raise ValueError(
                f"the issue volume ({value}) must be a whole number of bonds of {denomination} "
                f"(the largest supply is issue_volume / denomination)"
            )
        return value

    @field_validator("coupon_frequency")
    @classmethod
    def _frequency(cls, value: int, info: ValidationInfo) -> int:
        rate = info.data.get("coupon_rate_bps")
        if rate == 0 and value != 0:
            raise ValueError("a zero-coupon bond (coupon_rate_bps 0) has coupon_frequency 0")
        if rate and value not in COUPON_FREQUENCIES:
            raise ValueError(
                f"coupons per year must divide 12 (1, 2, 3, 4, 6 or 12): coupon dates fall every "
                f"12 / frequency months; got {value}"
            )
        return value

    @field_validator("maturity_date")
    @classmethod
    def _maturity(cls, value: int, info: ValidationInfo) -> int:
        issued = info.data.get("issue_date")
        if issued is not None and value <= issued:
            raise ValueError(
                f"the maturity date ({_show(value)}) must be after the issue date ({_show(issued)})"
            )
        return value

    @field_validator("callable_from")
    @classmethod
    def _callable_from(cls, value: int | None, info: ValidationInfo) -> int | None:
        price = info.data.get("call_price")
        maturity = info.data.get("maturity_date")
        if price and value is None:
            raise ValueError("a callable bond (call_price > 0) needs callable_from")
        if not price and value is not None:
            raise ValueError("callable_from needs a call_price above 0")
        if value is not None and maturity is not None and value >= maturity:
            raise ValueError(
                f"the bond must be callable before maturity ({_show(maturity)}); got {_show(value)}"
            )
        return value

    @property
    def zero_coupon(self) -> bool:
        """True for a zero-coupon bond."""
        return self.coupon_rate_bps == 0

    @property
    def max_bonds(self) -> int:
        """The largest supply."""
        return self.issue_volume // self.denomination


def _check_claim_period(days: int) -> int:
    if days and days < MIN_CLAIM_PERIOD_DAYS:
        raise ValueError(
            f"a claim period is 0 (no deadline) or at least {MIN_CLAIM_PERIOD_DAYS} days, like a "
            f"prescription period; got {days}"
        )
    if days * DAY > MAX_UINT40:
        raise ValueError(
            f"a claim period of {days} days does not fit the contract (at most {MAX_UINT40 // DAY})"
        )
    return days


def _isin_or_value_error(value: str) -> str:
    try:
        return check_isin(value)
    except InvalidInputError as exc:
        raise ValueError(str(exc).removeprefix("isin: ")) from None


def _show(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def parse_terms(model: type[M], terms: M | Mapping[str, Any]) -> M:
    """``terms`` as a valid ``model``.

    Raises:
        InvalidInputError: a term is missing or invalid; ``field`` names the first, the message every one.
    """
    if isinstance(terms, model):
        return terms
    if not isinstance(terms, Mapping):
        raise InvalidInputError("terms", f"expected {model.__name__} or a mapping of its fields")
    try:
        return model.model_validate(dict(terms))
    except ValidationError as exc:
        problems = [
            (".".join(str(part) for part in error["loc"]) or "terms", error["msg"]) for error in exc.errors()
        ]
        field_name, first = problems[0]
        more = "".join(f"; {name}: {_strip(message)}" for name, message in problems[1:])
        raise InvalidInputError(field_name, f"{_strip(first)}{more}") from None


def _strip(message: str) -> str:
    # pydantic prefixes the messages of our own checks.
    return message.removeprefix("Value error, ")
