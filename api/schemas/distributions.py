"""Coupons and dividends: schedule or declare one, fund it, claim, sweep; their public form from the index.

Cash amounts (coupon per bond, funded, claimed, swept, still owed) are decimal strings in the units of the
asset's cash token (6 decimals for the registry's cash); record dates are ISO 8601 with a time zone.
At every block ``funded == claimed + swept + outstanding``: ``outstanding`` is the cash still in the
token for this payment (claimable by the holders who have not claimed, or withheld until a block clears).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api.schemas.common import Address, DecimalString, Page, TransactionPublic

EXAMPLE_WALLET = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
EXAMPLE_HOLDER = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
EXAMPLE_TX: dict[str, Any] = {
    "chain": "permissioned",
    "hash": "0x" + "3f" * 32,
    "sender": EXAMPLE_WALLET,
    "nonce": 7,
    "block_number": 42,
    "block_hash": "0x" + "7a" * 32,
    "gas_used": 61_204,
    "description": "fund coupon period 0 with 25000000000",
}

SenderField = Annotated[
    Address | None,
    Field(
        description="The address custody signs with: one of the key's addresses (may be left out when the "
        "key has one); an admin key names it.",
        examples=[EXAMPLE_WALLET],
    ),
]
"""Who sends an operation."""


class SenderBody(BaseModel):
    """An operation with nothing to say but who sends it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"sender": EXAMPLE_WALLET}]})

    sender: SenderField = None


class ClaimCreate(BaseModel):
    """Claim a coupon or a dividend: the sender's own, or (the paying agent) a holder's on its behalf."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{}, {"holder": EXAMPLE_HOLDER}, {"holder": EXAMPLE_HOLDER, "sender": EXAMPLE_WALLET}]
        },
    )

    holder: Address | None = Field(
        default=None,
        description="The holder whose entitlement is claimed; the cash always goes to it (or to the wallet "
        "it was recovered to), never to the sender. Left out: the sender's own. An investor key claims for "
        "its own wallets only; a holder other than the sender is claimed for by the paying agent (the "
        "asset's issuer, holding the supply role).",
        examples=[EXAMPLE_HOLDER],
    )
    sender: SenderField = None


class CouponCreate(BaseModel):
    """Schedule a coupon period."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"record_date": "2026-07-01T00:00:00Z"}]}
    )

    record_date: AwareDatetime = Field(
        description="Holders at this moment earn the coupon: after the issue date, at most the maturity, in "
        "the chain's future and after every earlier record date (ISO 8601 with a time zone).",
        examples=["2026-07-01T00:00:00Z"],
    )
    sender: SenderField = None


class CouponPeriodPublic(BaseModel):
    """A coupon period as the index holds it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "period_id": 0,
                    "record_date": "2026-07-01T00:00:00Z",
                    "coupon_per_bond": "25",
                    "funded": True,
                    "funded_amount": "25000",
                    "claimed_amount": "20000",
                    "claims": 3,
                    "swept_amount": "0",
                    "outstanding": "5000",
                }
            ]
        }
    )

    period_id: int = Field(ge=0, description="The period's id (what fund, claim and sweep name).")
    record_date: datetime = Field(description="Holders at this moment earn the coupon.")
    coupon_per_bond: DecimalString = Field(description="Cash per bond, in the cash token's units.")
    funded: bool = Field(description="Whether the issuer paid the coupons in.")
    funded_amount: DecimalString = Field(
        description="Cash paid in: the supply at the record date times the coupon."
    )
    claimed_amount: DecimalString = Field(description="Cash the holders claimed.")
    claims: int = Field(ge=0, description="How many claims were paid.")
    swept_amount: DecimalString = Field(description="Cash swept back to the funder after the claim period.")
    outstanding: DecimalString = Field(description="Cash still in the token: funded - claimed - swept.")


class CouponPeriodsPublic(Page[CouponPeriodPublic]):
    """A page of a bond's coupon periods, by period id, as of ``block``."""

    block: int = Field(ge=0, description="The indexed block the page describes.")


class CouponScheduledPublic(BaseModel):
    """A coupon period just scheduled."""

    period_id: int = Field(ge=0, description="The new period's id.")
    record_date: datetime = Field(description="Its record date.")
    transaction: TransactionPublic = Field(description="The transaction that scheduled it.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"period_id": 0, "record_date": "2026-07-01T00:00:00Z", "transaction": EXAMPLE_TX}]
        }
    )


class FundedPublic(BaseModel):
    """Cash paid into a token (a coupon period, or the redemption)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"amount": "25000", "approval": None, "transaction": EXAMPLE_TX}]}
    )

    amount: DecimalString = Field(description="Cash paid in, in the cash token's units.")
    approval: TransactionPublic | None = Field(
        description="The cash token's approve that custody sent first (null when the allowance sufficed, "
        "and always in the non-custodial flow, where the funder approves the token beforehand)."
    )
    transaction: TransactionPublic = Field(description="The funding transaction.")


class ClaimedPublic(BaseModel):
    """A coupon or a dividend claimed."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "holder": EXAMPLE_HOLDER,
                    "payee": EXAMPLE_HOLDER,
                    "amount": "1250",
                    "transaction": EXAMPLE_TX,
                }
            ]
        }
    )

    holder: Address = Field(description="Whose entitlement was claimed.")
    payee: Address = Field(
        description="Who received the cash (the holder, or the wallet it was recovered to)."
    )
    amount: DecimalString = Field(description="Cash paid, in the cash token's units.")
    transaction: TransactionPublic = Field(description="The claim.")


class SweptPublic(BaseModel):
    """Cash nobody can claim any more, returned to whoever paid it in."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"funder": EXAMPLE_WALLET, "amount": "5000", "transaction": EXAMPLE_TX}]
        }
    )

    funder: Address = Field(description="Who received it back: the account that paid it in.")
    amount: DecimalString = Field(description="Cash returned, in the cash token's units.")
    transaction: TransactionPublic = Field(description="The sweep.")


class DividendCreate(BaseModel):
    """Declare a dividend, paid in at once from the sender's cash."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"record_date": "2026-07-01T00:00:00Z", "amount": "40000"}]},
    )

    record_date: AwareDatetime = Field(
        description="Holders at this moment share the dividend: in the chain's future and after every "
        "earlier record date (ISO 8601 with a time zone).",
        examples=["2026-07-01T00:00:00Z"],
    )
    amount: DecimalString = Field(
        description="The whole dividend, in the cash token's units, shared pro rata.", examples=["40000"]
    )
    sender: SenderField = None


class DividendPublic(BaseModel):
    """A dividend as the index holds it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "dividend_id": 0,
                    "record_date": "2026-07-01T00:00:00Z",
                    "amount": "40000",
                    "claimed_amount": "30000",
                    "claims": 2,
                    "swept_amount": "0",
                    "outstanding": "10000",
                }
            ]
        }
    )

    dividend_id: int = Field(ge=0, description="The dividend's id (what claim and sweep name).")
    record_date: datetime = Field(description="Holders at this moment share it.")
    amount: DecimalString = Field(description="Cash paid in at declaration.")
    claimed_amount: DecimalString = Field(description="Cash the holders claimed.")
    claims: int = Field(ge=0, description="How many claims were paid.")
    swept_amount: DecimalString = Field(description="Cash swept back to the declarer.")
    outstanding: DecimalString = Field(description="Cash still in the token: amount - claimed - swept.")


class DividendsPublic(Page[DividendPublic]):
    """A page of a stock's dividends, by dividend id, as of ``block``."""

    block: int = Field(ge=0, description="The indexed block the page describes.")


class DividendDeclaredPublic(BaseModel):
    """A dividend just declared and paid in."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "dividend_id": 0,
                    "record_date": "2026-07-01T00:00:00Z",
                    "amount": "40000",
                    "approval": None,
                    "transaction": EXAMPLE_TX,
                }
            ]
        }
    )

    dividend_id: int = Field(ge=0, description="The new dividend's id.")
    record_date: datetime = Field(description="Its record date.")
    amount: DecimalString = Field(description="Cash paid in, in the cash token's units.")
    approval: TransactionPublic | None = Field(
        description="The cash token's approve custody sent first (null when not needed)."
    )
    transaction: TransactionPublic = Field(description="The declaration.")
