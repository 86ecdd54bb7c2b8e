"""Corporate actions: a stock's split, a bond's call, and its redemption (funding, redeeming, sweeping).

Bond amounts are decimal strings in the bond's units (whole bonds); cash amounts in the cash token's.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Address, DecimalString, TransactionPublic
from api.schemas.distributions import EXAMPLE_TX, EXAMPLE_WALLET, SenderField


class SplitCreate(BaseModel):
    """Split the shares ``numerator`` for ``denominator``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"numerator": 2, "denominator": 1}, {"numerator": 1, "denominator": 10}]
        },
    )

    numerator: int = Field(
        ge=1, le=2**32 - 1, description="New shares per `denominator` old ones (2 of 2-for-1).", examples=[2]
    )
    denominator: int = Field(
        ge=1, le=2**32 - 1, description="Old shares per `numerator` new ones (10 of 1-for-10).", examples=[1]
    )
    sender: SenderField = None


class SplitPublic(BaseModel):
    """A split done: every balance changed at once."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"numerator": 2, "denominator": 1, "total_supply": "800", "transaction": EXAMPLE_TX}]
        }
    )

    numerator: int = Field(description="New shares per `denominator` old ones.")
    denominator: int = Field(description="Old shares per `numerator` new ones.")
    total_supply: DecimalString = Field(description="The shares outstanding after the split.")
    transaction: TransactionPublic = Field(description="The split.")


class CalledPublic(BaseModel):
    """A bond called before maturity."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"called_at": "2027-03-01T10:00:00Z", "call_price": "1010", "transaction": EXAMPLE_TX}
            ]
        }
    )

    called_at: datetime = Field(description="When the call took effect (the block's time).")
    call_price: DecimalString = Field(
        description="Cash per bond paid on redemption, in the cash token's units."
    )
    transaction: TransactionPublic = Field(description="The call.")


class RedemptionFundedPublic(BaseModel):
    """The redemption paid in: every outstanding bond at the redemption price."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"price": "1000", "amount": "1000000", "approval": None, "transaction": EXAMPLE_TX}]
        }
    )

    price: DecimalString = Field(
        description="Cash per bond (the call price once called, else the denomination)."
    )
    amount: DecimalString = Field(description="Cash paid in, in the cash token's units.")
    approval: TransactionPublic | None = Field(
        description="The cash token's approve custody sent first (null when not needed, and in the "
        "non-custodial flow)."
    )
    transaction: TransactionPublic = Field(description="The funding.")


class RedeemCreate(BaseModel):
    """Redeem some of the sender's bonds."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"amount": "30"}]})

    amount: DecimalString = Field(description="Bonds to redeem (whole bonds).", examples=["30"])
    sender: SenderField = None


class RedeemedPublic(BaseModel):
    """Bonds redeemed: burnt, and their price paid to the holder."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"holder": EXAMPLE_WALLET, "amount": "30", "payout": "30000", "transaction": EXAMPLE_TX}
            ]
        }
    )

    holder: Address = Field(description="Whose bonds were redeemed and who was paid.")
    amount: DecimalString = Field(description="Bonds redeemed.")
    payout: DecimalString = Field(description="Cash paid, in the cash token's units.")
    transaction: TransactionPublic = Field(description="The redemption.")
