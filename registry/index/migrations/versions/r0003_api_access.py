"""The HTTP API's tables: API keys and their bindings, idempotency records, prepared operations
(`registry.access.models`).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY_ID = 32
HASH = 66


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(KEY_ID), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.Column("bootstrap", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_api_keys_secret_hash")),
    )
    op.create_index(op.f("ix_api_keys_role"), "api_keys", ["role"])
    op.create_table(
        "api_key_bindings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key_id", sa.String(KEY_ID), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"], ["api_keys.key_id"], name=op.f("fk_api_key_bindings_key_id_api_keys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key_bindings")),
        sa.UniqueConstraint("key_id", "kind", "value", name=op.f("uq_api_key_bindings_key_id_kind_value")),
    )
    op.create_index(op.f("ix_api_key_bindings_kind_value"), "api_key_bindings", ["kind", "value"])
    op.create_table(
        "idempotency_records",
        sa.Column("key_id", sa.String(KEY_ID), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("operation", sa.String(200), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response", sa.JSON(), nullable=True),
        sa.Column("transactions", sa.JSON(), nullable=False),
        sa.Column("batch_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key_id", "idempotency_key", name=op.f("pk_idempotency_records")),
    )
    op.create_index(op.f("ix_idempotency_records_expires_at"), "idempotency_records", ["expires_at"])
    op.create_table(
        "prepared_operations",
        sa.Column("prepared_id", sa.String(KEY_ID), nullable=False),
        sa.Column("key_id", sa.String(KEY_ID), nullable=False),
        sa.Column("operation", sa.String(64), nullable=False),
        sa.Column("chain", sa.String(32), nullable=False),
        sa.Column("unsigned", sa.JSON(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("tx_hash", sa.String(HASH), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("prepared_id", name=op.f("pk_prepared_operations")),
    )
    op.create_index(op.f("ix_prepared_operations_expires_at"), "prepared_operations", ["expires_at"])
    op.create_index(op.f("ix_prepared_operations_key_id"), "prepared_operations", ["key_id"])


def downgrade() -> None:
    op.drop_table("prepared_operations")
    op.drop_table("idempotency_records")
    op.drop_table("api_key_bindings")
    op.drop_table("api_keys")
