"""Enforcement on an asset: pause, freezes (whole account or a number of tokens), forced transfers and
wallet recovery."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Address, DecimalString, Page, TransactionPublic

_AGENT = "0x1dF62f291b2E969fB0849d99D9Ce41e2F137006e"
_WALLET = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
_OTHER = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"

_SENDER_DESCRIPTION = (
    "The signing address (it holds the token's enforcement role): one of the key's (may be left out when "
    "the key has one); an admin key names it."
)


class EnforcementSender(BaseModel):
    """Who signs a pause or an unpause."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"sender": _AGENT}, {}]})

    sender: Address | None = Field(default=None, description=_SENDER_DESCRIPTION)


class FreezeCreate(BaseModel):
    """Freeze an account whole (no amount) or exactly an amount of its tokens (0 lifts a partial freeze)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"account": _WALLET}, {"account": _WALLET, "amount": "40"}]},
    )

    account: Address = Field(description="The account to freeze.")
    amount: DecimalString | None = Field(
        default=None,
        description="Freeze exactly this many of its tokens, in the asset's units; left out: the whole "
        "account (it can neither send nor receive).",
    )
    sender: Address | None = Field(default=None, description=_SENDER_DESCRIPTION)


class FreezePublic(BaseModel):
    """An account's freezes on an asset."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"account": _WALLET, "account_frozen": False, "frozen": "40", "balance": "100"}]
        }
    )

    account: Address = Field(description="The account.")
    account_frozen: bool = Field(description="The whole account is frozen.")
    frozen: str = Field(description="Frozen tokens, in the asset's units.")
    balance: str = Field(description="Its balance, in the asset's units.")


class FreezesPublic(Page[FreezePublic]):
    """A page of an asset's frozen accounts (whole or in part), by address."""


class FreezeChangedPublic(BaseModel):
    """An account's freezes after a change, and the transaction."""

    freeze: FreezePublic = Field(description="The account's freezes now.")
    transaction: TransactionPublic = Field(description="The change.")


class ForcedTransferCreate(BaseModel):
    """Move tokens from one account to another by force (pause, the source's freezes and the transfer
    rules do not apply; the receiver must be able to hold them)."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={"examples": [{"from": _WALLET, "to": _OTHER, "amount": "25"}]},
    )

    source: Address = Field(alias="from", description="The account the tokens leave.")
    to: Address = Field(description="The account they go to.")
    amount: DecimalString = Field(description="How many, in the asset's units.")
    sender: Address | None = Field(default=None, description=_SENDER_DESCRIPTION)


class RecoveryCreate(BaseModel):
    """Recover a lost wallet to another verified wallet of the same investor (kyc mode)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"lost": _WALLET, "replacement": _OTHER}]}
    )

    lost: Address = Field(
        description="The lost wallet: its balance, freezes and entitlements move; it is frozen."
    )
    replacement: Address = Field(description="A verified wallet of the same investor.")
    sender: Address | None = Field(default=None, description=_SENDER_DESCRIPTION)


class MovePublic(BaseModel):
    """The two accounts after a forced transfer or a recovery, and the transaction."""

    source: FreezePublic = Field(description="The account the tokens left, now.")
    destination: FreezePublic = Field(description="The account they went to, now.")
    transaction: TransactionPublic = Field(description="The transfer or recovery.")
