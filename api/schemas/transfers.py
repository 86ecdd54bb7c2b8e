"""Schemas of mints, burns, transfers and batches: the requests (``MintCreate``, ``BatchMintCreate``...),
their results (``SupplyChangePublic``, ``TransferPublic``, ``BatchPublic``) and a batch's progress.

Amounts are decimal strings in the asset's units (bonds and stocks have 0 decimals: whole units).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Address, ChainName, DecimalString, TransactionPublic, TxHash
from api.schemas.investors import Country

_WALLET = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
_OTHER = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
_ASSET = "bond-5f0c2a9d11e3b7a40c21"
_HASH = "0x" + "3f" * 32

MAX_BATCH_ITEMS = 20_000
"""The most items one batch request carries (a batch of 10,000 is a few hundred kilobytes of JSON)."""


class MintCreate(BaseModel):
    """Mint new tokens to a wallet."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"to": _WALLET, "amount": "100"}]}
    )

    to: Address = Field(description="The receiving wallet (in kyc mode: a verified investor's wallet).")
    amount: DecimalString = Field(description="How many, in the asset's units.", examples=["100"])
    sender: Address | None = Field(
        default=None,
        description="The address that signs: it holds the token's supply role. One of the key's addresses "
        "(may be left out when the key has one); an admin key names it.",
    )


class BurnCreate(BaseModel):
    """Destroy tokens of a wallet (frozen ones included)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"account": _WALLET, "amount": "10"}]}
    )

    account: Address = Field(description="The wallet whose tokens are destroyed.")
    amount: DecimalString = Field(description="How many, in the asset's units.", examples=["10"])
    sender: Address | None = Field(
        default=None,
        description="The address that signs: it holds the token's supply role (an agent's address too, if "
        "the asset's admin granted it that role). Left out when the key has one address.",
    )


class TransferCreate(BaseModel):
    """Transfer tokens from the sender's wallet to another."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"to": _OTHER, "amount": "5", "sender": _WALLET}]}
    )

    to: Address = Field(description="The receiving wallet.")
    amount: DecimalString = Field(description="How many, in the asset's units.", examples=["5"])
    sender: Address | None = Field(
        default=None,
        description="The holding wallet that signs: one of an investor key's wallets (may be left out when "
        "the key has one); an admin key names it.",
    )


class SupplyChangePublic(BaseModel):
    """A mint or a burn that landed."""

    asset_id: str = Field(description="The asset.", examples=[_ASSET])
    account: Address = Field(description="The wallet minted to or burnt from.")
    amount: DecimalString = Field(description="How many, in the asset's units.", examples=["100"])
    transaction: TransactionPublic = Field(description="The transaction.")


class TransferPublic(BaseModel):
    """A transfer that landed."""

    asset_id: str = Field(description="The asset.", examples=[_ASSET])
    sender: Address = Field(description="The wallet the tokens left.")
    to: Address = Field(description="The wallet that received them.")
    amount: DecimalString = Field(description="How many, in the asset's units.", examples=["5"])
    transaction: TransactionPublic = Field(description="The transaction.")


# -- batches -------------------------------------------------------------------------------------------


class AllocationItem(BaseModel):
    """One item of a batch mint or transfer."""

    model_config = ConfigDict(extra="forbid")

    to: Address = Field(description="The receiving wallet (once per batch).")
    amount: DecimalString = Field(description="How many, in the asset's units.", examples=["10"])


_ITEMS_PER_TX = Field(
    default=None,
    ge=1,
    le=MAX_BATCH_ITEMS,
    description="At most this many items per transaction (default: as many as fit half a block's gas).",
)


class BatchMintCreate(BaseModel):
    """Mint to many wallets."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"items": [{"to": _WALLET, "amount": "10"}, {"to": _OTHER, "amount": "25"}]}]
        },
    )

    items: list[AllocationItem] = Field(
        min_length=1, max_length=MAX_BATCH_ITEMS, description="The wallets and amounts, each wallet once."
    )
    sender: Address | None = Field(
        default=None, description="The address with the supply role that signs (as for a single mint)."
    )
    max_items_per_transaction: int | None = _ITEMS_PER_TX


class BatchTransferCreate(BaseModel):
    """Transfer from one holding wallet to many."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"sender": _WALLET, "items": [{"to": _OTHER, "amount": "5"}]}]},
    )

    items: list[AllocationItem] = Field(
        min_length=1,
        max_length=MAX_BATCH_ITEMS,
        description="The receiving wallets and amounts, each wallet once; together within the sender's "
        "unfrozen balance.",
    )
    sender: Address | None = Field(
        default=None, description="The holding wallet that signs (as for a single transfer)."
    )
    max_items_per_transaction: int | None = _ITEMS_PER_TX


class InvestorItem(BaseModel):
    """One investor of a batch onboarding."""

    model_config = ConfigDict(extra="forbid")

    wallet: Address = Field(description="Its wallet (its first and key wallet; once per batch).")
    country: Country
    kyc_expires_at: datetime | date | None = Field(
        default=None,
        description="When its KYC expires (ISO 8601; a date is midnight UTC); default a year from now.",
        examples=["2027-06-30T00:00:00Z"],
    )
    accredited: bool = Field(default=False, description="An accredited investor.")
    professional: bool = Field(default=False, description="A professional investor.")


class InvestorBatchCreate(BaseModel):
    """Register many investors, one wallet each."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "chain": "permissioned",
                    "investors": [
                        {"wallet": _WALLET, "country": 756, "accredited": True},
                        {"wallet": _OTHER, "country": 276, "kyc_expires_at": "2027-06-30"},
                    ],
                }
            ]
        },
    )

    chain: ChainName = Field(description="Whose identity registry.")
    investors: list[InvestorItem] = Field(
        min_length=1, max_length=MAX_BATCH_ITEMS, description="The investors, each wallet once."
    )
    sender: Address | None = Field(
        default=None,
        description="The address with the registry's kyc-provider role that signs; default the chain's "
        "KYC provider custody holds (an admin key), or the key's own address.",
    )
    max_items_per_transaction: int | None = _ITEMS_PER_TX


BatchItemStatus = Literal[
    "landed", "reverted", "rejected", "not_landed", "not_sent", "failed", "pending", "sent"
]


class BatchProgressPublic(BaseModel):
    """Where a running batch is: checking its chunks (dry runs) or sending them."""

    stage: Literal["checking", "sending"] = Field(description="What it is doing.")
    done: int = Field(description="Items checked or sent so far in this stage.")
    total: int = Field(description="Items of this stage.")


class BatchItemPublic(BaseModel):
    """One item of a batch and its fate."""

    index: int = Field(ge=0, description="Its position in the request's list.")
    status: BatchItemStatus = Field(
        description="`landed`: mined and successful; `reverted`/`rejected`: its transaction failed or was "
        "refused; `not_landed`: sent, not mined in time (retry to find out); `not_sent`: the batch stopped "
        "before it; `failed`: its transaction is known not to have landed; while running, `pending` (not "
        "sent yet) and `sent` (signed and submitted)."
    )
    tx_hash: TxHash | None = Field(default=None, description="The transaction carrying it, once signed.")
    block_number: int | None = Field(default=None, description="The block it landed in.")
    error: str | None = Field(default=None, description="Why its transaction did not land.")
    investor_id: int | None = Field(default=None, description="Batch onboarding: the investor's id.")


class BatchPublic(BaseModel):
    """A batch: its id, its progress and every item's fate."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "batch_id": "api-k1a2b3c4d5e6f708-0c1d2e3f405162738495a6b7c8d9e0f1",
                    "operation": "batch_mint",
                    "chain": "permissioned",
                    "state": "done",
                    "items_total": 2,
                    "items_landed": 2,
                    "transactions": 1,
                    "gas_used": 180_412,
                    "items": [
                        {"index": 0, "status": "landed", "tx_hash": _HASH, "block_number": 41},
                        {"index": 1, "status": "landed", "tx_hash": _HASH, "block_number": 41},
                    ],
                    "next_cursor": None,
                }
            ]
        }
    )

    batch_id: str = Field(description="The batch's id: GET /batches/{batch_id} reads it.")
    operation: Literal["batch_mint", "batch_transfer", "batch_register"] | str = Field(
        description="What it does."
    )
    chain: ChainName | str = Field(description="The chain it runs on.")
    state: Literal["running", "done", "stopped"] = Field(
        description="`done`: every item landed; `stopped`: it stopped half way (retry it with the same "
        "Idempotency-Key to send only what did not land); `running`: under way."
    )
    items_total: int = Field(description="How many items.")
    items_landed: int = Field(description="How many landed.")
    transactions: int = Field(description="How many transactions carry the items.")
    gas_used: int | None = Field(
        default=None,
        description="Gas of the transactions the run that answered sent (not in progress reads).",
    )
    progress: BatchProgressPublic | None = Field(
        default=None, description="While running in this server: its stage and counts."
    )
    items: list[BatchItemPublic] = Field(description="The items (a page of them in GET /batches/{batch_id}).")
    next_cursor: str | None = Field(default=None, description="The next page of items; null: the last.")

    @classmethod
    def of_report(cls, report: Any, *, investor_ids: bool = False) -> BatchPublic:
        """The public form of a finished run's `registry.bulk.report.BatchReport`."""
        items = [
            BatchItemPublic(
                index=item.index,
                status=item.status,
                tx_hash=item.tx_hash,
                block_number=item.block_number,
                error=item.error,
                investor_id=item.value if investor_ids else None,
            )
            for item in report.items
        ]
        return cls(
            batch_id=report.batch_id,
            operation=report.operation,
            chain=report.chain,
            state="done" if report.ok else "stopped",
            items_total=len(items),
            items_landed=sum(1 for item in items if item.status == "landed"),
            transactions=report.transactions,
            gas_used=report.gas_used,
            items=items,
        )
