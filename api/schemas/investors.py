"""Investors and their wallets: register one (KYC), change its country, accreditation and KYC expiry,
revoke it, link and unlink wallets; its public form with its KYC state."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Address, ChainName, Page, TransactionPublic, iso
from api.schemas.countries import NUMERIC
from registry.investors.onboarding import MAX_EXPIRY, InvestorRecord

_WALLET = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
_OTHER = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
_PROVIDER = "0x1dF62f291b2E969fB0849d99D9Ce41e2F137006e"
_TX: dict[str, Any] = {
    "chain": "permissioned",
    "hash": "0x" + "3f" * 32,
    "sender": _PROVIDER,
    "nonce": 7,
    "block_number": 21,
    "block_hash": "0x" + "7a" * 32,
    "gas_used": 121_000,
    "description": f"register {_WALLET} (identity registry of the permissioned chain)",
}

KycState = Literal["verified", "expired", "revoked"]

Country = Annotated[
    int | str,
    Field(
        description="ISO 3166 country: numeric code (756) or alpha-2 code ('CH').",
        examples=[756, "CH"],
    ),
]
Sender = Annotated[
    Address | None,
    Field(
        description="The KYC provider's address that signs: one of the key's addresses (may be left out "
        "when the key has one); an admin key names it (e.g. the chain operator).",
    ),
]


class InvestorCreate(BaseModel):
    """Register a new investor with its wallets (the first is its permanent key wallet)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "chain": "permissioned",
                    "wallets": [_WALLET, _OTHER],
                    "country": "CH",
                    "kyc_expires_at": "2027-12-31T00:00:00Z",
                    "accredited": True,
                }
            ]
        },
    )

    chain: ChainName = Field(description="The chain whose identity registry records the investor.")
    wallets: list[Address] = Field(
        min_length=1, max_length=16, description="Its wallets; the first becomes its key wallet."
    )
    country: Country
    kyc_expires_at: datetime | None = Field(
        default=None,
        description="When its KYC expires (ISO 8601, UTC when no offset is given), after the chain's time; "
        "default: a year from now.",
    )
    accredited: bool = Field(default=False, description="An accredited investor.")
    professional: bool = Field(default=False, description="A professional investor.")
    sender: Sender = None


class InvestorUpdate(BaseModel):
    """Change an investor's country, attributes or KYC expiry (a renewal); fields left out keep their
    value."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"kyc_expires_at": "2028-12-31T00:00:00Z", "accredited": False}]},
    )

    country: Country | None = Field(default=None, description="The new ISO 3166 country (756 or 'CH').")
    kyc_expires_at: datetime | None = Field(
        default=None, description="The new KYC expiry (ISO 8601), after the chain's time."
    )
    accredited: bool | None = Field(default=None, description="Whether it is accredited.")
    professional: bool | None = Field(default=None, description="Whether it is professional.")
    sender: Sender = None


class SenderOnly(BaseModel):
    """Who signs (the KYC provider or enforcement agent's address); may be empty for a key with one
    address."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"sender": _PROVIDER}, {}]})

    sender: Address | None = Field(
        default=None,
        description="The signing address: one of the key's (may be left out when the key has one); an admin "
        "key names it.",
    )


class WalletCreate(BaseModel):
    """Link another wallet to an investor."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"wallet": _OTHER}]})

    wallet: Address = Field(description="The wallet to link; it must belong to no investor.")
    sender: Sender = None


class InvestorPublic(BaseModel):
    """An investor of a chain's identity registry, with its KYC state now."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "chain": "permissioned",
                    "investor_id": 3,
                    "registry": "0x1D00000000000000000000000000000000000001",
                    "wallets": [_WALLET, _OTHER],
                    "country": 756,
                    "country_alpha2": "CH",
                    "accredited": True,
                    "professional": False,
                    "kyc_expires_at": "2027-12-31T00:00:00Z",
                    "kyc_state": "verified",
                }
            ]
        }
    )

    chain: ChainName = Field(description="The chain of its identity registry.")
    investor_id: int = Field(ge=1, description="Its id in that registry.")
    registry: Address = Field(description="The identity registry's address.")
    wallets: list[Address] = Field(description="Its linked wallets, the key wallet first.")
    country: int = Field(description="ISO 3166 numeric country code.")
    country_alpha2: str | None = Field(description="The same as an ISO 3166-1 alpha-2 code, when it is one.")
    accredited: bool = Field(description="An accredited investor.")
    professional: bool = Field(description="A professional investor.")
    kyc_expires_at: datetime | None = Field(description="When its KYC expires (null: never).")
    kyc_state: KycState = Field(
        description="verified (may hold and transfer), expired (renew it) or revoked (final)."
    )

    @classmethod
    def of(cls, record: InvestorRecord, state: str) -> InvestorPublic:
        """The public form of ``record`` whose KYC state is ``state``."""
        return cls(
            chain=record.chain,  # type: ignore[arg-type]
            investor_id=record.investor_id,
            registry=record.registry,
            wallets=list(record.wallets),
            country=record.country,
            country_alpha2=NUMERIC.get(record.country),
            accredited=record.accredited,
            professional=record.professional,
            kyc_expires_at=iso(record.kyc_expiry) if record.kyc_expiry < MAX_EXPIRY else None,
            kyc_state=state,  # type: ignore[arg-type]
        )


class InvestorsPublic(Page[InvestorPublic]):
    """A page of investors, by chain then investor id."""


class InvestorCreatedPublic(InvestorPublic):
    """An investor just registered, with the registration and each wallet linked after it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "chain": "permissioned",
                    "investor_id": 3,
                    "registry": "0x1D00000000000000000000000000000000000001",
                    "wallets": [_WALLET],
                    "country": 756,
                    "country_alpha2": "CH",
                    "accredited": True,
                    "professional": False,
                    "kyc_expires_at": "2027-12-31T00:00:00Z",
                    "kyc_state": "verified",
                    "transaction": _TX,
                    "transactions": [_TX],
                }
            ]
        }
    )

    transaction: TransactionPublic = Field(description="The registration.")
    transactions: list[TransactionPublic] = Field(
        description="Every transaction it took: the registration, then one per further wallet."
    )


class InvestorChangedPublic(BaseModel):
    """An investor after a change (update, revocation, wallet linked or unlinked), and the transaction."""

    investor: InvestorPublic = Field(description="The investor as it is now.")
    transaction: TransactionPublic = Field(description="The change.")
