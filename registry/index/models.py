"""The index's tables, as SQLAlchemy 2 typed models.

Three kinds of table:

- **the catalogue** (`Asset`, `IdentityRegistry`): what the registry deployed or follows, written by
  the services through `registry.index.catalogue`; never touched by a rollback;
- **chain data** the indexer copies (`Chain`, `Block`, `Event`, `Split`, `IndexerState`,
  `ContractCursor`), keyed by block so that undoing to a block is one ``DELETE`` per table;
- **versioned projections** (`Holding`, `AssetState`, `Investor`, `Wallet`, `CouponPeriod`,
  `Dividend`, `Redemption`): each row is one version of an entity, true for the blocks
  ``[block_from, block_to)`` (graph-node's time travel). "As of block B" is
  ``block_from <= B < block_to``; the version true now has ``block_to = FOREVER``. A change at
  block B closes the open version (``block_to = B``) and opens a new one; undoing to block F
  deletes the versions that start after F and reopens those closed after F.
- **mirrors** of the permissioned chain's governance desks (`Intervention`, `ValidatorChange`).

Addresses are stored checksummed (``0xAbC…``, 42 characters), hashes as ``0x`` + 64 lowercase hex
digits, amounts as `registry.index.types.Amount` (exact uint256 on both databases). Token
balances and frozen amounts are kept in the token's **raw units** (see `AssetState.scale`): a stock
split changes the scale, not the rows.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from registry.index.types import Amount

FOREVER = 2**62
"""``block_to`` of a version that is still true (a block number no chain reaches)."""

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Constraint names that Alembic can find again on every database (batch mode on SQLite needs them)."""

ADDRESS = 42
HASH = 66


class Base(DeclarativeBase):
    """Base of every model of the index."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# ---------------------------------------------------------------------------------------------- catalogue


class Asset(Base):
    """A catalogued token: what the registry deployed, with its terms. Written by the services."""

    __tablename__ = "assets"
    __table_args__ = (UniqueConstraint("chain", "address"),)

    asset_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    chain: Mapped[str] = mapped_column(String(32))
    chain_id: Mapped[int] = mapped_column(BigInteger)
    address: Mapped[str] = mapped_column(String(ADDRESS))
    kind: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(200))
    symbol: Mapped[str] = mapped_column(String(64))
    decimals: Mapped[int] = mapped_column(Integer)
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    deployed_block: Mapped[int] = mapped_column(BigInteger)
    identity_registry: Mapped[str | None] = mapped_column(String(ADDRESS))
    status: Mapped[str] = mapped_column(String(16), default="active")


class IdentityRegistry(Base):
    """A catalogued identity registry: its investors and wallets are indexed from ``from_block`` on."""

    __tablename__ = "identity_registries"

    chain: Mapped[str] = mapped_column(String(32), primary_key=True)
    address: Mapped[str] = mapped_column(String(ADDRESS), primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    from_block: Mapped[int] = mapped_column(BigInteger)
    label: Mapped[str | None] = mapped_column(String(200))


# ---------------------------------------------------------------------------------------------- chain data


class Chain(Base):
    """A chain the index follows under one of the registry's chain names."""

    __tablename__ = "chains"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    genesis_hash: Mapped[str] = mapped_column(String(HASH))


class Block(Base):
    """A canonical block the index went through: for reorganisation checks and date -> block."""

    __tablename__ = "blocks"
    __table_args__ = (
        UniqueConstraint("chain", "hash"),
        Index(None, "chain", "timestamp"),
    )

    chain: Mapped[str] = mapped_column(ForeignKey("chains.name"), primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(HASH))
    parent_hash: Mapped[str] = mapped_column(String(HASH))
    timestamp: Mapped[int] = mapped_column(BigInteger)


class IndexerState(Base):
    """How far the index of a chain goes: every block up to ``block_number`` is indexed."""

    __tablename__ = "indexer_state"

    chain: Mapped[str] = mapped_column(ForeignKey("chains.name"), primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
    block_hash: Mapped[str] = mapped_column(String(HASH))


class ContractCursor(Base):
    """How far the events of one followed contract are indexed (a contract catalogued late is caught up
    from its first block while the others wait at the head)."""

    __tablename__ = "contract_cursors"

    chain: Mapped[str] = mapped_column(String(32), primary_key=True)
    address: Mapped[str] = mapped_column(String(ADDRESS), primary_key=True)
    synced_block: Mapped[int] = mapped_column(BigInteger)


class Event(Base):
    """Every log of a followed contract, decoded from the contract artifacts' ABIs when one matches."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("chain", "block_hash", "log_index"),
        Index(None, "asset_id", "block_number", "log_index"),
        Index(None, "chain", "address", "block_number", "log_index"),
        Index(None, "chain", "block_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chain: Mapped[str] = mapped_column(String(32))
    block_number: Mapped[int] = mapped_column(BigInteger)
    block_hash: Mapped[str] = mapped_column(String(HASH))
    tx_hash: Mapped[str] = mapped_column(String(HASH))
    tx_index: Mapped[int] = mapped_column(Integer)
    log_index: Mapped[int] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(String(ADDRESS))
    asset_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(100))
    """The event's name, or None when no artifact declares it (``args`` then holds topics and data)."""
    signature: Mapped[str | None] = mapped_column(String(400))
    args: Mapped[dict[str, Any]] = mapped_column(JSON)


class Split(Base):
    """A stock split (or reverse split) and the raw-unit scale before and after it."""

    __tablename__ = "splits"
    __table_args__ = (UniqueConstraint("asset_id", "block_number", "log_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_id: Mapped[str] = mapped_column(String(64))
    block_number: Mapped[int] = mapped_column(BigInteger)
    log_index: Mapped[int] = mapped_column(Integer)
    tx_hash: Mapped[str] = mapped_column(String(HASH))
    numerator: Mapped[int] = mapped_column(Amount)
    denominator: Mapped[int] = mapped_column(Amount)
    scale_before: Mapped[int] = mapped_column(Amount)
    scale_after: Mapped[int] = mapped_column(Amount)
    total_supply_after: Mapped[int] = mapped_column(Amount)


# ---------------------------------------------------------------------------------------------- versioned


class Versioned:
    """Columns of a versioned projection: the version is true for the blocks ``[block_from, block_to)``."""

    key_columns: ClassVar[tuple[str, ...]]
    """The columns naming the entity (the same for all its versions)."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    block_from: Mapped[int] = mapped_column(BigInteger)
    block_to: Mapped[int] = mapped_column(BigInteger)


class Holding(Versioned, Base):
    """A wallet's position in an asset: the cap table. Amounts in the asset's raw units."""

    __tablename__ = "holdings"
    __table_args__ = (
        # The cap table at any block: scanned backwards (largest first), it covers the range test, so a
        # page reads about (page size) x (versions per holder) index entries, whatever the block.
        Index(None, "asset_id", "balance_raw", "wallet", "block_from", "block_to"),
        Index(None, "asset_id", "wallet", "block_to"),
        Index(None, "wallet", "block_to"),
    )
    key_columns = ("asset_id", "wallet")

    asset_id: Mapped[str] = mapped_column(String(64))
    wallet: Mapped[str] = mapped_column(String(ADDRESS))
    balance_raw: Mapped[int] = mapped_column(Amount)
    frozen_raw: Mapped[int] = mapped_column(Amount)
    account_frozen: Mapped[bool] = mapped_column(Boolean)


class AssetState(Versioned, Base):
    """An asset's supply, raw-unit scale (raw units per token unit; changed by splits) and pause flag."""

    __tablename__ = "asset_states"
    __table_args__ = (Index(None, "asset_id", "block_from"),)
    key_columns = ("asset_id",)

    asset_id: Mapped[str] = mapped_column(String(64))
    scale: Mapped[int] = mapped_column(Amount)
    supply_raw: Mapped[int] = mapped_column(Amount)
    paused: Mapped[bool] = mapped_column(Boolean)


class Investor(Versioned, Base):
    """An investor of an identity registry, with its KYC state."""

    __tablename__ = "investors"
    __table_args__ = (Index(None, "chain", "registry_address", "investor_id", "block_from"),)
    key_columns = ("chain", "registry_address", "investor_id")

    chain: Mapped[str] = mapped_column(String(32))
    registry_address: Mapped[str] = mapped_column(String(ADDRESS))
    investor_id: Mapped[int] = mapped_column(BigInteger)
    key_wallet: Mapped[str] = mapped_column(String(ADDRESS))
    country: Mapped[int] = mapped_column(Integer)
    attributes: Mapped[int] = mapped_column(Integer)
    kyc_expiry: Mapped[int] = mapped_column(BigInteger)
    revoked: Mapped[bool] = mapped_column(Boolean)


class Wallet(Versioned, Base):
    """A wallet linked to an investor of an identity registry (no open version once removed)."""

    __tablename__ = "wallets"
    __table_args__ = (
        Index(None, "chain", "registry_address", "wallet", "block_from"),
        Index(None, "chain", "registry_address", "investor_id", "block_to"),
    )
    key_columns = ("chain", "registry_address", "wallet")

    chain: Mapped[str] = mapped_column(String(32))
    registry_address: Mapped[str] = mapped_column(String(ADDRESS))
    wallet: Mapped[str] = mapped_column(String(ADDRESS))
    investor_id: Mapped[int] = mapped_column(BigInteger)


class CouponPeriod(Versioned, Base):
    """A bond's coupon period: record date, coupon per bond, what the issuer funded and holders claimed."""

    __tablename__ = "coupon_periods"
    __table_args__ = (Index(None, "asset_id", "period_id", "block_from"),)
    key_columns = ("asset_id", "period_id")

    asset_id: Mapped[str] = mapped_column(String(64))
    period_id: Mapped[int] = mapped_column(BigInteger)
    record_id: Mapped[int] = mapped_column(BigInteger)
    record_date: Mapped[int] = mapped_column(BigInteger)
    coupon_per_bond: Mapped[int] = mapped_column(Amount)
    funded: Mapped[bool] = mapped_column(Boolean)
    funded_amount: Mapped[int] = mapped_column(Amount)
    claimed_amount: Mapped[int] = mapped_column(Amount)
    claims: Mapped[int] = mapped_column(Integer)
    swept_amount: Mapped[int] = mapped_column(Amount)
    """Cash returned to the funder by ``sweepCoupon`` (funded = claimed + swept + still owed)."""


class Dividend(Versioned, Base):
    """A stock dividend: record date, the cash paid in at declaration, what holders claimed and what was
    swept back to the declarer."""

    __tablename__ = "dividends"
    __table_args__ = (Index(None, "asset_id", "dividend_id", "block_from"),)
    key_columns = ("asset_id", "dividend_id")

    asset_id: Mapped[str] = mapped_column(String(64))
    dividend_id: Mapped[int] = mapped_column(BigInteger)
    record_id: Mapped[int] = mapped_column(BigInteger)
    record_date: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(Amount)
    claimed_amount: Mapped[int] = mapped_column(Amount)
    claims: Mapped[int] = mapped_column(Integer)
    swept_amount: Mapped[int] = mapped_column(Amount)
    """Cash returned to the declarer by ``sweepDividend`` (amount = claimed + swept + still owed)."""


class Redemption(Versioned, Base):
    """A bond's call and redemption: when it was called (0: not called), the price per bond, the cash paid
    in, the bonds redeemed and the cash paid for them, and what was swept back to the funder."""

    __tablename__ = "redemptions"
    __table_args__ = (Index(None, "asset_id", "block_from"),)
    key_columns = ("asset_id",)

    asset_id: Mapped[str] = mapped_column(String(64))
    called_at: Mapped[int] = mapped_column(BigInteger)
    call_price: Mapped[int] = mapped_column(Amount)
    funded: Mapped[bool] = mapped_column(Boolean)
    price: Mapped[int] = mapped_column(Amount)
    """Cash per bond of the funded redemption (0 until funded)."""
    funded_amount: Mapped[int] = mapped_column(Amount)
    redeemed_bonds: Mapped[int] = mapped_column(Amount)
    paid_amount: Mapped[int] = mapped_column(Amount)
    redemptions: Mapped[int] = mapped_column(Integer)
    swept_amount: Mapped[int] = mapped_column(Amount)


VERSIONED_MODELS: tuple[type[Versioned], ...] = (
    Holding,
    AssetState,
    Investor,
    Wallet,
    CouponPeriod,
    Dividend,
    Redemption,
)
"""Every versioned projection (what an undo reopens and trims)."""


# ---------------------------------------------------------------------------------------------- governance


class Intervention(Base):
    """A freeze, unfreeze or rollback proposal of the permissioned chain's validators, and its outcome."""

    __tablename__ = "interventions"

    chain: Mapped[str] = mapped_column(String(32), primary_key=True)
    proposal_id: Mapped[str] = mapped_column(String(HASH), primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(1000))
    created_at_block: Mapped[int] = mapped_column(BigInteger)
    executed_at_block: Mapped[int | None] = mapped_column(BigInteger)
    signers: Mapped[list[str]] = mapped_column(JSON)
    proposal: Mapped[dict[str, Any]] = mapped_column(JSON)
    outcome: Mapped[dict[str, Any]] = mapped_column(JSON)


class ValidatorChange(Base):
    """A change of the permissioned chain's validator set, at the canonical block where it took effect."""

    __tablename__ = "validator_changes"

    chain: Mapped[str] = mapped_column(String(32), primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    block_hash: Mapped[str] = mapped_column(String(HASH))
    action: Mapped[str] = mapped_column(String(16))
    validator: Mapped[str] = mapped_column(String(ADDRESS))
    voters: Mapped[list[str]] = mapped_column(JSON)
    proposal_id: Mapped[str] = mapped_column(String(HASH))
    validators_after: Mapped[list[str]] = mapped_column(JSON)
