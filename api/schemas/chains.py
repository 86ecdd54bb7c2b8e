"""Chains and their blocks."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Address, ChainName, Page, TxHash, iso


class ChainPublic(BaseModel):
    """One of the registry's chains."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "permissioned",
                    "chain_id": 771001,
                    "backend": "embedded",
                    "rpc_url": "http://127.0.0.1:8000/chains/permissioned/rpc",
                    "head": 42,
                    "indexed_head": 42,
                }
            ]
        }
    )

    name: ChainName = Field(description="The chain's name in the registry.")
    chain_id: int = Field(description="Its EIP-155 chain id.")
    backend: Literal["embedded", "external"] = Field(
        description="`embedded`: run by this server; `external`: a JSON-RPC node set by "
        "REGISTRY_<NAME>_RPC_URL."
    )
    rpc_url: str | None = Field(
        description="Where Ethereum tools (cast, ethers, a wallet) reach its JSON-RPC: this server's "
        "/chains/{name}/rpc for an embedded chain; null for an external node (its URL may hold credentials)."
    )
    head: int = Field(ge=0, description="Its latest block number.")
    indexed_head: int | None = Field(description="The latest block the index holds (null: none yet).")


class ChainsPublic(Page[ChainPublic]):
    """The open chains (one page)."""


class BlockPublic(BaseModel):
    """A block of a chain."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "chain": "permissioned",
                    "number": 42,
                    "hash": "0x" + "7a" * 32,
                    "parent_hash": "0x" + "6b" * 32,
                    "timestamp": "2026-12-01T09:30:12Z",
                    "miner": "0x0000000000000000000000000000000000000000",
                    "gas_used": 1_203_334,
                    "gas_limit": 30_000_000,
                    "base_fee_per_gas": "7",
                    "transactions": ["0x" + "3f" * 32],
                }
            ]
        }
    )

    chain: ChainName = Field(description="The chain.")
    number: int = Field(ge=0, description="The block number.")
    hash: TxHash = Field(description="The block hash.")
    parent_hash: TxHash = Field(description="The parent block's hash.")
    timestamp: datetime = Field(description="The block's time (UTC).")
    miner: Address = Field(description="The block's beneficiary (coinbase).")
    gas_used: int = Field(ge=0, description="Gas its transactions used.")
    gas_limit: int = Field(ge=0, description="Its gas limit.")
    base_fee_per_gas: str | None = Field(description="EIP-1559 base fee in wei, as decimal text.")
    transactions: list[TxHash] = Field(description="Its transactions' hashes, in order.")

    @classmethod
    def of(cls, chain: str, block: Any) -> BlockPublic:
        """From web3.py's block (``get_block(n)``)."""
        base_fee = block.get("baseFeePerGas")
        return cls(
            chain=chain,  # type: ignore[arg-type]
            number=int(block["number"]),
            hash="0x" + bytes(block["hash"]).hex(),
            parent_hash="0x" + bytes(block["parentHash"]).hex(),
            timestamp=iso(int(block["timestamp"])),
            miner=str(block["miner"]),
            gas_used=int(block["gasUsed"]),
            gas_limit=int(block["gasLimit"]),
            base_fee_per_gas=str(int(base_fee)) if base_fee is not None else None,
            transactions=["0x" + bytes(tx).hex() for tx in block["transactions"]],
        )


class BlocksPublic(Page[BlockPublic]):
    """A page of blocks, newest first."""
