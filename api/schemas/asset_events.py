"""An asset's indexed token events: what happened, where (block, transaction, log index), with which
arguments."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Address, ChainName, Page, TxHash


class EventPublic(BaseModel):
    """One log of the asset's contract, decoded by its ABI."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "chain": "permissioned",
                    "block_number": 42,
                    "block_hash": "0x" + "7a" * 32,
                    "tx_hash": "0x" + "3f" * 32,
                    "log_index": 1,
                    "address": "0x4a8C0bD3e7E3a6D32e1A8Bc14dC4E9B1D2eA8F10",
                    "event": "Transfer",
                    "signature": "Transfer(address,address,uint256)",
                    "args": {
                        "from": "0x0000000000000000000000000000000000000000",
                        "to": "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
                        "value": "30",
                    },
                }
            ]
        }
    )

    chain: ChainName = Field(description="The chain it happened on.")
    block_number: int = Field(ge=0, description="The block it is in.")
    block_hash: TxHash = Field(description="That block's hash.")
    tx_hash: TxHash = Field(description="The transaction that emitted it.")
    log_index: int = Field(ge=0, description="Its position among the block's logs.")
    address: Address = Field(description="The contract that emitted it (the asset's token).")
    event: str | None = Field(description="The event's name; null when no known ABI declares it.")
    signature: str | None = Field(
        description="The event's signature, e.g. `Transfer(address,address,uint256)`."
    )
    args: dict[str, Any] = Field(
        description="Its arguments by name: addresses checksummed, integers wider than 53 bits as decimal "
        "strings, in the contract's units (raw token units; cash units for payments); for an unknown event, "
        "its topics and data."
    )


class EventsPublic(Page[EventPublic]):
    """A page of an asset's events, oldest first."""
