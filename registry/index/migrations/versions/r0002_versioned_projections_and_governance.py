"""Versioned projections (holdings, asset states, investors, wallets, coupon periods, dividends) and
the permissioned chain's governance mirrors (interventions, validator changes).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from registry.index.types import Amount

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ADDRESS = 42
HASH = 66


def _versioned(name: str, *columns: sa.Column[object]) -> None:
    """A versioned table: ``columns``, then the id and the block range of the version."""
    op.create_table(
        name,
        *columns,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("block_from", sa.BigInteger(), nullable=False),
        sa.Column("block_to", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
    )


def upgrade() -> None:
    _versioned(
        "holdings",
        sa.Column("asset_id", sa.String(64), nullable=False),
        sa.Column("wallet", sa.String(ADDRESS), nullable=False),
        sa.Column("balance_raw", Amount(), nullable=False),
        sa.Column("frozen_raw", Amount(), nullable=False),
        sa.Column("account_frozen", sa.Boolean(), nullable=False),
    )
    op.create_index(
        op.f("ix_holdings_asset_id_balance_raw_wallet_block_from_block_to"),
        "holdings",
        ["asset_id", "balance_raw", "wallet", "block_from", "block_to"],
    )
    op.create_index(
        op.f("ix_holdings_asset_id_wallet_block_to"), "holdings", ["asset_id", "wallet", "block_to"]
    )
    op.create_index(op.f("ix_holdings_wallet_block_to"), "holdings", ["wallet", "block_to"])
    _versioned(
        "asset_states",
        sa.Column("asset_id", sa.String(64), nullable=False),
        sa.Column("scale", Amount(), nullable=False),
        sa.Column("supply_raw", Amount(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
    )
    op.create_index(op.f("ix_asset_states_asset_id_block_from"), "asset_states", ["asset_id", "block_from"])
    _versioned(
        "investors",
        sa.Column("chain", sa.String(32), nullable=False),
        sa.Column("registry_address", sa.String(ADDRESS), nullable=False),
        sa.Column("investor_id", sa.BigInteger(), nullable=False),
        sa.Column("key_wallet", sa.String(ADDRESS), nullable=False),
        sa.Column("country", sa.Integer(), nullable=False),
        sa.Column("attributes", sa.Integer(), nullable=False),
        sa.Column("kyc_expiry", sa.BigInteger(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
    )
    op.create_index(
        op.f("ix_investors_chain_registry_address_investor_id_block_from"),
        "investors",
        ["chain", "registry_address", "investor_id", "block_from"],
    )
    _versioned(
        "wallets",
        sa.Column("chain", sa.String(32), nullable=False),
        sa.Column("registry_address", sa.String(ADDRESS), nullable=False),
        sa.Column("wallet", sa.String(ADDRESS), nullable=False),
        sa.Column("investor_id", sa.BigInteger(), nullable=False),
    )
    op.create_index(
        op.f("ix_wallets_chain_registry_address_wallet_block_from"),
        "wallets",
        ["chain", "registry_address", "wallet", "block_from"],
    )
    op.create_index(
        op.f("ix_wallets_chain_registry_address_investor_id_block_to"),
        "wallets",
        ["chain", "registry_address", "investor_id", "block_to"],
    )
    _versioned(
        "coupon_periods",
        sa.Column("asset_id", sa.String(64), nullable=False),
        sa.Column("period_id", sa.BigInteger(), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.Column("record_date", sa.BigInteger(), nullable=False),
        sa.Column("coupon_per_bond", Amount(), nullable=False),
        sa.Column("funded", sa.Boolean(), nullable=False),
        sa.Column("funded_amount", Amount(), nullable=False),
        sa.Column("claimed_amount", Amount(), nullable=False),
        sa.Column("claims", sa.Integer(), nullable=False),
    )
    op.create_index(
        op.f("ix_coupon_periods_asset_id_period_id_block_from"),
        "coupon_periods",
        ["asset_id", "period_id", "block_from"],
    )
    _versioned(
        "dividends",
        sa.Column("asset_id", sa.String(64), nullable=False),
        sa.Column("dividend_id", sa.BigInteger(), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.Column("record_date", sa.BigInteger(), nullable=False),
        sa.Column("amount", Amount(), nullable=False),
        sa.Column("claimed_amount", Amount(), nullable=False),
        sa.Column("claims", sa.Integer(), nullable=False),
    )
    op.create_index(
        op.f("ix_dividends_asset_id_dividend_id_block_from"),
        "dividends",
        ["asset_id", "dividend_id", "block_from"],
    )
    op.create_table(
        "interventions",
        sa.Column("chain", sa.String(32), nullable=False),
        sa.Column("proposal_id", sa.String(HASH), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(1000), nullable=False),
        sa.Column("created_at_block", sa.BigInteger(), nullable=False),
        sa.Column("executed_at_block", sa.BigInteger(), nullable=True),
        sa.Column("signers", sa.JSON(), nullable=False),
        sa.Column("proposal", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("chain", "proposal_id", name=op.f("pk_interventions")),
    )
    op.create_table(
        "validator_changes",
        sa.Column("chain", sa.String(32), nullable=False),
        sa.Column("block_number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("block_hash", sa.String(HASH), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("validator", sa.String(ADDRESS), nullable=False),
        sa.Column("voters", sa.JSON(), nullable=False),
        sa.Column("proposal_id", sa.String(HASH), nullable=False),
        sa.Column("validators_after", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("chain", "block_number", name=op.f("pk_validator_changes")),
    )


def downgrade() -> None:
    op.drop_table("validator_changes")
    op.drop_table("interventions")
    for table in ("dividends", "coupon_periods", "wallets", "investors", "asset_states", "holdings"):
        op.drop_table(table)
