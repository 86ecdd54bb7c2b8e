"""The non-custodial flow: a transaction to sign, and the signed transaction coming back."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Address, ChainName, TransactionPublic, iso
from registry.access.prepared import Prepared

_EXAMPLE_SENDER = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


class TransactionToSign(BaseModel):
    """An EIP-1559 (type 2) transaction as wallets and ``eth_account.Account.sign_transaction`` take it."""

    model_config = ConfigDict(populate_by_name=True)

    type: int = Field(description="Transaction type: 2 (EIP-1559).", examples=[2])
    chain_id: int = Field(alias="chainId", description="The chain id to sign for.", examples=[771001])
    nonce: int = Field(description="The sender's next nonce when prepared.", examples=[4])
    gas: int = Field(description="Gas limit.", examples=[9_921_442])
    max_fee_per_gas: int = Field(alias="maxFeePerGas", description="Max fee per gas, in wei.", examples=[15])
    max_priority_fee_per_gas: int = Field(
        alias="maxPriorityFeePerGas", description="Max priority fee per gas, in wei.", examples=[1]
    )
    value: int = Field(description="Ether sent with it, in wei.", examples=[0])
    data: str = Field(description="Call data (or creation code), 0x-hex.", examples=["0x6080604052"])
    to: Address | None = Field(default=None, description="The target; absent for a contract creation.")


class PreparedPublic(BaseModel):
    """A transaction prepared for its sender to sign; post the signed form to POST /transactions."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "prepared_id": "5d1c8b2f0a9e4d3c8b7a6f5e4d3c2b1a",
                    "operation": "assets.issue",
                    "chain": "permissioned",
                    "sender": _EXAMPLE_SENDER,
                    "description": "issue the bond ACME31 (kyc mode) on the permissioned chain",
                    "transaction": {
                        "type": 2,
                        "chainId": 771001,
                        "nonce": 4,
                        "gas": 9921442,
                        "maxFeePerGas": 15,
                        "maxPriorityFeePerGas": 1,
                        "value": 0,
                        "data": "0x6080604052",
                    },
                    "expires_at": "2026-12-01T10:30:00Z",
                }
            ]
        }
    )

    prepared_id: str = Field(description="Name it when posting the signed transaction.")
    operation: str = Field(description="What the transaction does, as the API names it.")
    chain: ChainName = Field(description="The chain it is for.")
    sender: Address = Field(description="Who must sign it.")
    description: str = Field(description="What it does, in one line.")
    transaction: TransactionToSign = Field(
        description="The transaction to sign, unchanged but for fees and gas."
    )
    expires_at: datetime = Field(description="Post the signed transaction before this time (UTC).")

    @classmethod
    def of(cls, prepared: Prepared) -> PreparedPublic:
        """The public form of a stored prepared operation."""
        unsigned = prepared.unsigned
        return cls(
            prepared_id=prepared.prepared_id,
            operation=prepared.operation,
            chain=unsigned.chain,
            sender=unsigned.sender,
            description=unsigned.description,
            transaction=TransactionToSign.model_validate(unsigned.as_dict()),
            expires_at=iso(prepared.expires_at),
        )


class SignedTransactionCreate(BaseModel):
    """A prepared transaction, signed by its sender."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "prepared_id": "5d1c8b2f0a9e4d3c8b7a6f5e4d3c2b1a",
                    "raw_transaction": "0x02f8b1830bc3b90480…",
                }
            ]
        },
    )

    prepared_id: str = Field(min_length=1, max_length=64, description="The prepared transaction it signs.")
    raw_transaction: str = Field(
        min_length=4,
        max_length=262_144,
        pattern=r"^0x[0-9a-fA-F]+$",
        description="The signed transaction, 0x-hex (what `eth_sendRawTransaction` takes).",
    )


class OperationResultPublic(BaseModel):
    """The result of an operation that sends one transaction and creates nothing."""

    transaction: TransactionPublic = Field(description="The transaction, mined and successful.")
