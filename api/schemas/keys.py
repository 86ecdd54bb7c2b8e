"""API keys: create, public form, pages; custodial signing keys bound to an API key."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Address, ChainName, Page, format_amount, iso
from registry.access.keys import ApiKeyRecord, Role
from registry.keys import ProvisionedKey, Provisioning

_ISSUER = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


class KeyCreate(BaseModel):
    """A new API key: its role, a label, and what it is bound to."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"role": "issuer", "label": "ACME treasury", "addresses": [_ISSUER]},
                {"role": "agent", "label": "ACME enforcement desk", "assets": ["bond-5f0c2a9d11e3b7a40c21"]},
                {"role": "auditor", "label": "external auditor"},
            ]
        },
    )

    role: Role = Field(
        description="What the key may do: admin, issuer, agent, kyc-provider, validator, investor or auditor."
    )
    label: str = Field(min_length=1, max_length=200, description="Who or what the key is for.")
    addresses: list[Address] = Field(
        default=[],
        max_length=100,
        description="Addresses the key acts as: an issuer's or agent's signing addresses, "
        "a KYC provider's, a "
        "validator's, an investor's wallets. Admin and auditor keys take none.",
    )
    assets: list[str] = Field(
        default=[],
        max_length=1000,
        description="Asset ids an agent key is assigned (enforcement on those only); other roles take none.",
    )


class KeyPublic(BaseModel):
    """An API key as listed: never its secret."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "key_id": "3f9a0c27d1b84e65",
                    "role": "issuer",
                    "label": "ACME treasury",
                    "active": True,
                    "bootstrap": False,
                    "created_at": "2026-12-01T09:30:00Z",
                    "revoked_at": None,
                    "addresses": [_ISSUER],
                    "assets": [],
                }
            ]
        }
    )

    key_id: str = Field(
        description="The key's public id (the part after `rk_`).", examples=["3f9a0c27d1b84e65"]
    )
    role: Role = Field(description="The key's role.")
    label: str = Field(description="Who or what the key is for.")
    active: bool = Field(description="False once revoked.")
    bootstrap: bool = Field(description="True for the admin key a server made at its first start (or reset).")
    created_at: datetime = Field(description="When it was made (UTC).")
    revoked_at: datetime | None = Field(description="When it was revoked (UTC); null while active.")
    addresses: list[Address] = Field(description="Addresses it acts as.")
    assets: list[str] = Field(description="Assets it is assigned (agents).")

    @classmethod
    def of(cls, record: ApiKeyRecord) -> KeyPublic:
        """The public form of a stored key."""
        return cls(
            key_id=record.key_id,
            role=record.role,
            label=record.label,
            active=record.active,
            bootstrap=record.bootstrap,
            created_at=iso(record.created_at),
            revoked_at=iso(record.revoked_at) if record.revoked_at is not None else None,
            addresses=list(record.addresses),
            assets=list(record.assets),
        )


class KeyCreatedPublic(BaseModel):
    """A key just made, with the key itself: shown this once, never stored, never shown again."""

    key: KeyPublic = Field(description="The key as it will be listed.")
    api_key: str = Field(
        description="The API key to send as `Authorization: Bearer …`. "
        "Keep it now: it cannot be shown again.",
        examples=["rk_3f9a0c27d1b84e65_Qm9vdHN0cmFwIGV4YW1wbGUga2V5IG5vdCBhIHJlYWwgb25l"],
    )


class KeysPublic(Page[KeyPublic]):
    """A page of API keys, by id."""


class SigningKeyCreate(BaseModel):
    """A custodial signing key to make for an API key: created in the keystore and made ready to send."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"label": "ACME treasury signer"}, {}]}
    )

    label: str | None = Field(
        default=None,
        min_length=1,
        max_length=150,
        description="Keystore label (default: the API key's label).",
    )
    chains: list[ChainName] | None = Field(
        default=None, description="Chains to make it ready on (default: every open chain)."
    )


class ProvisioningPublic(BaseModel):
    """What a signing key has on one chain."""

    chain: ChainName = Field(description="The chain.")
    balance: str = Field(description="Its ether balance (decimal text, in ether).", examples=["100"])
    funded: str = Field(description="Ether the faucet sent it now.", examples=["100"])
    chain_kyc: bool | None = Field(
        description="Verified by the chain's identity registry (null: the chain has none)."
    )
    registered: bool = Field(description="True if it was registered at the chain's level now.")
    ready: bool = Field(description="True when it can pay for gas and the chain lets it send.")
    notes: list[str] = Field(description="What it still needs (on an external node), in sentences.")

    @classmethod
    def of(cls, done: Provisioning) -> ProvisioningPublic:
        """The public form."""
        return cls(
            chain=done.chain,
            balance=format_amount(done.balance, 18),
            funded=format_amount(done.funded, 18),
            chain_kyc=done.chain_kyc,
            registered=done.registered,
            ready=done.ready,
            notes=list(done.notes),
        )


class SigningKeyPublic(BaseModel):
    """A custodial signing key made for an API key, and the API key now bound to it."""

    address: Address = Field(description="The signing key's address: the key now acts as it.")
    label: str = Field(description="Its keystore label.")
    chains: list[ProvisioningPublic] = Field(description="Its state on each chain.")
    key: KeyPublic = Field(description="The API key, with the new address among its bindings.")

    @classmethod
    def of(cls, made: ProvisionedKey, key: ApiKeyRecord) -> SigningKeyPublic:
        """The public form."""
        return cls(
            address=made.address,
            label=made.label,
            chains=[ProvisioningPublic.of(done) for done in made.chains.values()],
            key=KeyPublic.of(key),
        )
