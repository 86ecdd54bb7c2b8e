"""The catalogue (assets, identity registries) and the chain data (chains, blocks, events, splits,
indexer progress).

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from registry.index.types import Amount

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ADDRESS = 42
HASH = 66


def upgrade() -> None:
    op.create_table(
        "assets",
        sa.Column("asset_id", sa.String(64), nullable=False),
        sa.Column("chain", sa.String(32), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("address", sa.String(ADDRESS), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("decimals", sa.Integer(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("deployed_block", sa.BigInteger(), nullable=False),
        sa.Column("identity_registry", sa.String(ADDRESS), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("asset_id", name=op.f("pk_assets")),
        sa.UniqueConstraint("chain", "address", name=op.f("uq_assets_chain_address")),
    )
    op.create_table(
        "identity_registries",
        sa.Column("chain", sa.String(32), nullable=False),
        sa.Column("address", sa.String(ADDRESS), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("from_block", sa.BigInteger(), nullable=False),
        sa.Column("label", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("chain", "address", name=op.f("pk_identity_registries")),
    )
    op.create_table(
        "chains",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("genesis_hash", sa.String(HASH), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_chains")),
    )
    op.create_table(
        "blocks",
        sa.Column("chain", sa.String(32), nullable=False),
        sa.Column("number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(HASH), nullable=False),
        sa.Column("parent_hash", sa.String(HASH), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["chain"], ["chains.name"], name=op.f("fk_blocks_chain_chains")),
        sa.PrimaryKeyConstraint("chain", "number", name=op.f("pk_blocks")),
        sa.UniqueConstraint("chain", "hash", name=op.f("uq_blocks_chain_hash")),
    )
    op.create_index(op.f("ix_blocks_chain_timestamp"), "blocks", ["chain", "timestamp"])
    op.create_table(
        "indexer_state",
        sa.Column("chain", sa.String(32), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.String(HASH), nullable=False),
        sa.ForeignKeyConstraint(["chain"], ["chains.name"], name=op.f("fk_indexer_state_chain_chains")),
        sa.PrimaryKeyConstraint("chain", name=op.f("pk_indexer_state")),
    )
    op.create_table(
        "contract_cursors",
        sa.Column("chain", sa.String(32), nullable=False),
        sa.Column("address", sa.String(ADDRESS), nullable=False),
        sa.Column("synced_block", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain", "address", name=op.f("pk_contract_cursors")),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chain", sa.String(32), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.String(HASH), nullable=False),
        sa.Column("tx_hash", sa.String(HASH), nullable=False),
        sa.Column("tx_index", sa.Integer(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(ADDRESS), nullable=False),
        sa.Column("asset_id", sa.String(64), nullable=True),
        sa.Column("name", sa.String(100), nullable=True),
        sa.Column("signature", sa.String(400), nullable=True),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint(
            "chain", "block_hash", "log_index", name=op.f("uq_events_chain_block_hash_log_index")
        ),
    )
    op.create_index(
        op.f("ix_events_asset_id_block_number_log_index"), "events", ["asset_id", "block_number", "log_index"]
    )
    op.create_index(
        op.f("ix_events_chain_address_block_number_log_index"),
        "events",
        ["chain", "address", "block_number", "log_index"],
    )
    op.create_index(op.f("ix_events_chain_block_number"), "events", ["chain", "block_number"])
    op.create_table(
        "splits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.String(64), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(HASH), nullable=False),
        sa.Column("numerator", Amount(), nullable=False),
        sa.Column("denominator", Amount(), nullable=False),
        sa.Column("scale_before", Amount(), nullable=False),
        sa.Column("scale_after", Amount(), nullable=False),
        sa.Column("total_supply_after", Amount(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_splits")),
        sa.UniqueConstraint(
            "asset_id", "block_number", "log_index", name=op.f("uq_splits_asset_id_block_number_log_index")
        ),
    )


def downgrade() -> None:
    op.drop_table("splits")
    op.drop_index(op.f("ix_events_chain_block_number"), table_name="events")
    op.drop_index(op.f("ix_events_chain_address_block_number_log_index"), table_name="events")
    op.drop_index(op.f("ix_events_asset_id_block_number_log_index"), table_name="events")
    op.drop_table("events")
    op.drop_table("contract_cursors")
    op.drop_table("indexer_state")
    op.drop_index(op.f("ix_blocks_chain_timestamp"), table_name="blocks")
    op.drop_table("blocks")
    op.drop_table("chains")
    op.drop_table("identity_registries")
    op.drop_table("assets")
