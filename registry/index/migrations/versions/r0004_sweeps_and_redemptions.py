"""What sweeps returned (coupon periods, dividends) and each bond's call and redemption.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from registry.index.types import AMOUNT_DIGITS, Amount

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _zero() -> str:
    # Rows indexed before this revision were never swept. `Amount` stores zero-padded text on SQLite.
    return "0" if op.get_bind().dialect.name == "postgresql" else "0" * AMOUNT_DIGITS


def upgrade() -> None:
    for table in ("coupon_periods", "dividends"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("swept_amount", Amount(), nullable=False, server_default=_zero()))
        with op.batch_alter_table(table) as batch:
            batch.alter_column("swept_amount", server_default=None)
    op.create_table(
        "redemptions",
        sa.Column("asset_id", sa.String(64), nullable=False),
        sa.Column("called_at", sa.BigInteger(), nullable=False),
        sa.Column("call_price", Amount(), nullable=False),
        sa.Column("funded", sa.Boolean(), nullable=False),
        sa.Column("price", Amount(), nullable=False),
        sa.Column("funded_amount", Amount(), nullable=False),
        sa.Column("redeemed_bonds", Amount(), nullable=False),
        sa.Column("paid_amount", Amount(), nullable=False),
        sa.Column("redemptions", sa.Integer(), nullable=False),
        sa.Column("swept_amount", Amount(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("block_from", sa.BigInteger(), nullable=False),
        sa.Column("block_to", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redemptions")),
    )
    op.create_index(op.f("ix_redemptions_asset_id_block_from"), "redemptions", ["asset_id", "block_from"])


def downgrade() -> None:
    op.drop_index(op.f("ix_redemptions_asset_id_block_from"), table_name="redemptions")
    op.drop_table("redemptions")
    for table in ("dividends", "coupon_periods"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("swept_amount")
