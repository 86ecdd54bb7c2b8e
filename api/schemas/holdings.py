"""Holdings and cap tables, read from the index: an investor's or a wallet's positions, an asset's holders
as of a block or a date."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Address, ChainName, Page, TxHash, format_amount, iso
from api.schemas.investors import InvestorPublic, KycState
from registry.index.queries import BlockRef, CapTableEntry, InvestorRef, Position

_WALLET = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
_POSITION: dict[str, Any] = {
    "asset_id": "bond-5f0c2a9d11e3b7a40c21",
    "chain": "permissioned",
    "symbol": "ACME31",
    "wallet": _WALLET,
    "balance": "120",
    "frozen": "0",
    "account_frozen": False,
}


class PositionPublic(BaseModel):
    """A wallet's position in one asset, now."""

    model_config = ConfigDict(json_schema_extra={"examples": [_POSITION]})

    asset_id: str = Field(description="The asset.")
    chain: ChainName = Field(description="Its chain.")
    symbol: str = Field(description="Its symbol.")
    wallet: Address = Field(description="The wallet holding it.")
    balance: str = Field(description="The balance, in the asset's units.")
    frozen: str = Field(description="The part of it that is frozen, in the asset's units.")
    account_frozen: bool = Field(description="The whole account is frozen for this asset.")

    @classmethod
    def of(cls, position: Position, decimals: int) -> PositionPublic:
        """The public form of an index position (amounts of ``decimals`` decimals)."""
        return cls(
            asset_id=position.asset_id,
            chain=position.chain,  # type: ignore[arg-type]
            symbol=position.symbol,
            wallet=position.wallet,
            balance=format_amount(position.balance, decimals),
            frozen=format_amount(position.frozen, decimals),
            account_frozen=position.account_frozen,
        )


class HoldingsPublic(Page[PositionPublic]):
    """A page of an investor's positions through its current wallets, by asset id then wallet."""

    chain: ChainName = Field(description="The chain of the investor's identity registry.")
    investor_id: int = Field(description="The investor.")
    wallets: list[Address] = Field(description="Its current wallets.")


class WalletPublic(BaseModel):
    """A wallet: the investor it belongs to on the chain (if any) and what it holds there."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"chain": "permissioned", "address": _WALLET, "investor": None, "holdings": [_POSITION]}
            ]
        }
    )

    chain: ChainName = Field(description="The chain.")
    address: Address = Field(description="The wallet.")
    investor: InvestorPublic | None = Field(
        description="The investor it belongs to in the chain's identity registry (null: none)."
    )
    holdings: list[PositionPublic] = Field(
        description="Its positive positions in the chain's assets, by asset."
    )


class BlockRefPublic(BaseModel):
    """The block a read is as of."""

    number: int = Field(ge=0, description="Block number.", examples=[42])
    hash: TxHash = Field(description="Block hash.")
    timestamp: datetime = Field(description="Its time (UTC).")

    @classmethod
    def of(cls, ref: BlockRef) -> BlockRefPublic:
        """The public form of an index block reference."""
        return cls(number=ref.number, hash=ref.hash, timestamp=iso(ref.timestamp))


class HolderInvestorPublic(BaseModel):
    """The investor behind a holder, as of the cap table's block."""

    investor_id: int = Field(description="Its id in the asset's identity registry.")
    country: int = Field(description="ISO 3166 numeric country code.")
    accredited: bool = Field(description="Accredited at that block.")
    kyc_state: KycState = Field(description="Its KYC state at the block's time.")

    @classmethod
    def of(cls, ref: InvestorRef) -> HolderInvestorPublic:
        """The public form of an index investor reference."""
        return cls(
            investor_id=ref.investor_id,
            country=ref.country,
            accredited=bool(ref.attributes & 1),
            kyc_state=ref.kyc_status,  # type: ignore[arg-type]
        )


class HolderPublic(BaseModel):
    """One holder of a cap table."""

    wallet: Address = Field(description="The holding wallet.")
    balance: str = Field(description="Its balance, in the asset's units.")
    frozen: str = Field(description="The frozen part, in the asset's units.")
    account_frozen: bool = Field(description="The whole account is frozen.")
    share: str = Field(description="Its share of the supply, 0 to 1, as a decimal string.")
    investor: HolderInvestorPublic | None = Field(
        description="The investor the wallet belongs to (null: none, e.g. an open-mode asset)."
    )

    @classmethod
    def of(cls, entry: CapTableEntry, decimals: int) -> HolderPublic:
        """The public form of a cap-table entry."""
        return cls(
            wallet=entry.wallet,
            balance=format_amount(entry.balance, decimals),
            frozen=format_amount(entry.frozen, decimals),
            account_frozen=entry.account_frozen,
            share=format(entry.share.normalize(), "f"),
            investor=HolderInvestorPublic.of(entry.investor) if entry.investor is not None else None,
        )


class CapTablePublic(Page[HolderPublic]):
    """A page of an asset's cap table at one block, largest holders first; the cursor keeps the block."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "asset_id": "bond-5f0c2a9d11e3b7a40c21",
                    "block": {"number": 42, "hash": "0x" + "7a" * 32, "timestamp": "2026-11-30T12:00:00Z"},
                    "total_supply": "1000",
                    "paused": False,
                    "items": [
                        {
                            "wallet": _WALLET,
                            "balance": "600",
                            "frozen": "0",
                            "account_frozen": False,
                            "share": "0.6",
                            "investor": {
                                "investor_id": 3,
                                "country": 756,
                                "accredited": True,
                                "kyc_state": "verified",
                            },
                        }
                    ],
                    "next_cursor": None,
                }
            ]
        }
    )

    asset_id: str = Field(description="The asset.")
    block: BlockRefPublic = Field(description="The block the table is as of.")
    total_supply: str = Field(description="The supply at that block, in the asset's units.")
    paused: bool = Field(description="Whether the asset was paused at that block.")
