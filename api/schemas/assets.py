"""Assets: issue a bond, a stock or a cash token; the catalogue's public form; pages.

Amounts of bond terms (denomination, issue volume, call price) are decimal strings in the units of the
bond's cash token (6 decimals for the registry's cash), dates are ISO 8601 (a date is midnight UTC).
"""

from __future__ import annotations

import calendar
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import (
    Address,
    ChainName,
    DecimalString,
    Isin,
    Page,
    TransactionPublic,
    format_amount,
    iso,
    parse_amount,
)
from registry.index.catalogue import AssetRecord

_CASH_ID = "cash-0b6f3c1d2e4a5968778f"
_ISSUER = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
DayCount = Literal["30/360", "ACT/360", "ACT/365", "ACT/ACT"]
Name = Annotated[
    str, Field(min_length=1, max_length=100, description="The token's name.", examples=["ACME 5% 2030"])
]
Symbol = Annotated[
    str, Field(min_length=1, max_length=20, description="The token's symbol.", examples=["ACME30"])
]
Currency = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="The cash token payments are made in: its asset id (`cash-…`) or address; a cash token "
        "of the catalogue on the same chain.",
        examples=[_CASH_ID],
    ),
]
ClaimPeriod = Annotated[
    int,
    Field(ge=0, le=12_000, description="Days a payment stays claimable: 0 (no deadline) or at least 365."),
]


def _midnight(day: date) -> int:
    return calendar.timegm(day.timetuple())


class BondTermsCreate(BaseModel):
    """A bond's terms (ERC-7092)."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    symbol: Symbol
    isin: Isin
    currency: Currency
    denomination: DecimalString = Field(
        description="Cash per bond, in the cash token's units.", examples=["1000"]
    )
    issue_volume: DecimalString = Field(
        description="Total debt in the cash token's units: a whole number of bonds.", examples=["1000000000"]
    )
    coupon_rate_bps: int = Field(
        ge=0, le=10_000, description="Annual coupon in basis points (0: zero coupon).", examples=[500]
    )
    coupon_frequency: int = Field(
        ge=0,
        le=12,
        description="Coupons per year: 1, 2, 3, 4, 6 or 12 (0 for a zero-coupon bond).",
        examples=[2],
    )
    issue_date: date = Field(description="Issue date (ISO 8601).", examples=["2026-01-01"])
    maturity_date: date = Field(
        description="Maturity date (ISO 8601), in the future.", examples=["2031-01-01"]
    )
    day_count: DayCount = Field(default="ACT/365", description="Day-count basis of accrued interest.")
    call_price: DecimalString = Field(
        default="0", description="Cash per bond if the issuer calls it; 0: not callable.", examples=["0"]
    )
    callable_from: date | None = Field(
        default=None, description="First date the issuer may call (with a call price).", examples=[None]
    )
    claim_period_days: ClaimPeriod = 0

    def service_terms(self, currency: str, decimals: int) -> dict[str, Any]:
        """The terms as `registry.assets.terms.BondTerms` takes them (raw cash units, Unix times)."""
        return {
            "name": self.name,
            "symbol": self.symbol,
            "isin": self.isin,
            "currency": currency,
            "denomination": parse_amount(self.denomination, decimals, "terms.denomination"),
            "issue_volume": parse_amount(self.issue_volume, decimals, "terms.issue_volume"),
            "coupon_rate_bps": self.coupon_rate_bps,
            "coupon_frequency": self.coupon_frequency,
            "issue_date": _midnight(self.issue_date),
            "maturity_date": _midnight(self.maturity_date),
            "day_count": self.day_count,
            "call_price": parse_amount(self.call_price, decimals, "terms.call_price"),
            "callable_from": _midnight(self.callable_from) if self.callable_from is not None else None,
            "claim_period_days": self.claim_period_days,
        }


class StockTermsCreate(BaseModel):
    """A stock's terms."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    symbol: Symbol
    currency: Currency
    isin: Isin | None = Field(default=None, description="The share's ISIN (optional).")
    claim_period_days: ClaimPeriod = 0


class CashTermsCreate(BaseModel):
    """A test stablecoin's terms (6 decimals)."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    symbol: Symbol


class _Create(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chain: ChainName = Field(description="The chain to issue it on.")
    issuer: Address | None = Field(
        default=None,
        description="The issuing address (becomes the token's admin with every role): one of the key's "
        "addresses (may be left out when the key has one); an admin key names it.",
    )


class BondCreate(_Create):
    """Issue a bond."""

    kind: Literal["bond"] = Field(description="What to issue.")
    mode: Literal["kyc", "open"] = Field(
        description="`kyc`: holders must be verified investors and the compliance rules apply; `open`: any "
        "holder (pause, freezes and forced transfers only)."
    )
    terms: BondTermsCreate = Field(description="The bond's terms.")


class StockCreate(_Create):
    """Issue a stock."""

    kind: Literal["stock"] = Field(description="What to issue.")
    mode: Literal["kyc", "open"] = Field(description="`kyc` or `open`, as for bonds.")
    terms: StockTermsCreate = Field(description="The stock's terms.")


class CashCreate(_Create):
    """Issue a cash token (always open: a plain ERC-20)."""

    kind: Literal["cash"] = Field(description="What to issue.")
    mode: Literal["open"] = Field(default="open", description="Cash tokens run in `open` mode only.")
    terms: CashTermsCreate = Field(description="The cash token's name and symbol.")


AssetCreate = Annotated[BondCreate | StockCreate | CashCreate, Field(discriminator="kind")]
"""What ``POST /assets`` takes."""

ASSET_CREATE_EXAMPLES: dict[str, dict[str, Any]] = {
    "bond": {
        "summary": "A 5% semi-annual bond in kyc mode",
        "value": {
            "kind": "bond",
            "chain": "permissioned",
            "mode": "kyc",
            "issuer": _ISSUER,
            "terms": {
                "name": "ACME 5% 2031",
                "symbol": "ACME31",
                "isin": "US0378331005",
                "currency": _CASH_ID,
                "denomination": "1000",
                "issue_volume": "1000000000",
                "coupon_rate_bps": 500,
                "coupon_frequency": 2,
                "issue_date": "2026-01-01",
                "maturity_date": "2031-01-01",
                "claim_period_days": 730,
            },
        },
    },
    "stock": {
        "summary": "Shares in open mode",
        "value": {
            "kind": "stock",
            "chain": "permissionless",
            "mode": "open",
            "terms": {
                "name": "ACME shares",
                "symbol": "ACMS",
                "currency": _CASH_ID,
                "claim_period_days": 365,
            },
        },
    },
    "cash": {
        "summary": "A test stablecoin",
        "value": {"kind": "cash", "chain": "permissioned", "terms": {"name": "Test USD", "symbol": "tUSD"}},
    },
}


class BondTermsPublic(BaseModel):
    """A bond's terms as catalogued."""

    kind: Literal["bond"] = Field(description="The asset kind these terms are of.")
    isin: str = Field(description="The bond's ISIN.")
    currency: Address = Field(description="The cash token's address.")
    currency_asset_id: str | None = Field(description="The cash token's asset id, when catalogued.")
    denomination: DecimalString = Field(description="Cash per bond.")
    issue_volume: DecimalString = Field(description="Total debt in cash.")
    max_supply: DecimalString = Field(
        description="The most bonds that can exist (issue volume / denomination)."
    )
    coupon_rate_bps: int = Field(description="Annual coupon in basis points.")
    coupon_frequency: int = Field(description="Coupons per year.")
    issue_date: datetime = Field(description="Issue date (UTC).")
    maturity_date: datetime = Field(description="Maturity date (UTC).")
    day_count: str = Field(description="Day-count basis.")
    call_price: DecimalString = Field(description="Cash per bond if called (0: not callable).")
    callable_from: datetime | None = Field(description="First time the issuer may call.")
    claim_period_days: int = Field(description="Days a payment stays claimable (0: forever).")


class StockTermsPublic(BaseModel):
    """A stock's terms as catalogued."""

    kind: Literal["stock"] = Field(description="The asset kind these terms are of.")
    isin: str | None = Field(description="The share's ISIN, if given.")
    currency: Address = Field(description="The cash token dividends are paid in.")
    currency_asset_id: str | None = Field(description="The cash token's asset id, when catalogued.")
    claim_period_days: int = Field(description="Days a dividend stays claimable after its record date.")


class CashTermsPublic(BaseModel):
    """A cash token has no terms beyond its name and symbol."""

    kind: Literal["cash"] = Field(description="The asset kind these terms are of.")


class AssetPublic(BaseModel):
    """A catalogued asset."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "asset_id": "bond-5f0c2a9d11e3b7a40c21",
                    "kind": "bond",
                    "chain": "permissioned",
                    "chain_id": 771001,
                    "address": "0x4a8C0bD3e7E3a6D32e1A8Bc14dC4E9B1D2eA8F10",
                    "mode": "kyc",
                    "name": "ACME 5% 2031",
                    "symbol": "ACME31",
                    "decimals": 0,
                    "identity_registry": "0x1D00000000000000000000000000000000000001",
                    "status": "active",
                    "deployed_block": 12,
                    "terms": {
                        "kind": "bond",
                        "isin": "US0378331005",
                        "currency": "0x9cA2f3d0b6E1C5f77A2Bd0e7A4F7D37c5F1e2B34",
                        "currency_asset_id": _CASH_ID,
                        "denomination": "1000",
                        "issue_volume": "1000000000",
                        "max_supply": "1000000",
                        "coupon_rate_bps": 500,
                        "coupon_frequency": 2,
                        "issue_date": "2026-01-01T00:00:00Z",
                        "maturity_date": "2031-01-01T00:00:00Z",
                        "day_count": "ACT/365",
                        "call_price": "0",
                        "callable_from": None,
                        "claim_period_days": 730,
                    },
                }
            ]
        }
    )

    asset_id: str = Field(description="The registry's stable id: kind and a hash of chain id and address.")
    kind: Literal["bond", "stock", "cash"] = Field(description="What it is.")
    chain: ChainName = Field(description="The chain it lives on.")
    chain_id: int = Field(description="That chain's id.")
    address: Address = Field(description="The token contract's address.")
    mode: Literal["kyc", "open"] = Field(description="How it checks transfers.")
    name: str = Field(description="The token's name.")
    symbol: str = Field(description="The token's symbol.")
    decimals: int = Field(description="Decimals of its amounts (0 for bonds and stocks, 6 for cash).")
    identity_registry: Address | None = Field(description="The identity registry a kyc-mode asset checks.")
    status: str = Field(
        description="Where it stands in its life (active, called, matured, redeemed, retired)."
    )
    deployed_block: int = Field(description="The block it was deployed in.")
    terms: BondTermsPublic | StockTermsPublic | CashTermsPublic = Field(
        discriminator="kind", description="Its terms."
    )

    @classmethod
    def of(cls, asset: AssetRecord, currency: AssetRecord | None = None) -> AssetPublic:
        """The public form of a catalogue record (``currency``: its cash token's record, when known)."""
        return cls(
            asset_id=asset.asset_id,
            kind=asset.kind,  # type: ignore[arg-type]
            chain=asset.chain,  # type: ignore[arg-type]
            chain_id=asset.chain_id,
            address=asset.address,
            mode=asset.mode,  # type: ignore[arg-type]
            name=asset.name,
            symbol=asset.symbol,
            decimals=asset.decimals,
            identity_registry=asset.identity_registry,
            status=asset.status,
            deployed_block=asset.deployed_block,
            terms=_terms(asset, currency),
        )


def _terms(
    asset: AssetRecord, currency: AssetRecord | None
) -> BondTermsPublic | StockTermsPublic | CashTermsPublic:
    terms = asset.terms
    decimals = currency.decimals if currency is not None else 6
    currency_id = currency.asset_id if currency is not None else None
    if asset.kind == "bond":
        denomination = int(terms["denomination"])
        callable_from = terms.get("callable_from")
        return BondTermsPublic(
            kind="bond",
            isin=str(terms["isin"]),
            currency=str(terms["currency"]),
            currency_asset_id=currency_id,
            denomination=format_amount(denomination, decimals),
            issue_volume=format_amount(int(terms["issue_volume"]), decimals),
            max_supply=str(int(terms["issue_volume"]) // denomination),
            coupon_rate_bps=int(terms["coupon_rate_bps"]),
            coupon_frequency=int(terms["coupon_frequency"]),
            issue_date=iso(int(terms["issue_date"])),
            maturity_date=iso(int(terms["maturity_date"])),
            day_count=str(terms.get("day_count", "ACT/365")),
            call_price=format_amount(int(terms.get("call_price", 0)), decimals),
            callable_from=iso(int(callable_from)) if callable_from is not None else None,
            claim_period_days=int(terms.get("claim_period_days", 0)),
        )
    if asset.kind == "stock":
        return StockTermsPublic(
            kind="stock",
            isin=terms.get("isin"),
            currency=str(terms["currency"]),
            currency_asset_id=currency_id,
            claim_period_days=int(terms.get("claim_period_days", 0)),
        )
    return CashTermsPublic(kind="cash")


class AssetsPublic(Page[AssetPublic]):
    """A page of assets, by asset id."""


class AssetIssuedPublic(BaseModel):
    """An asset just issued: its catalogue record and the deployment transaction."""

    asset: AssetPublic = Field(description="The new asset.")
    transaction: TransactionPublic = Field(description="The contract creation.")
