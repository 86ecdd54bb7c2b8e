"""The tables of API access: keys, their bindings, idempotency records, prepared operations.

They live in the registry's database on the index's declarative `registry.index.models.Base`, so that one
Alembic history (``registry/index/migrations``) creates and checks every table. Times are Unix seconds.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from registry.index.models import Base

KEY_ID = 32
HASH = 66


class ApiKey(Base):
    """An API key: its public id, the SHA-256 of its secret, its role; revoked keys are kept (audit)."""

    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(KEY_ID), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16), index=True)
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[int] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)
    bootstrap: Mapped[bool] = mapped_column(Boolean, default=False)


class ApiKeyBinding(Base):
    """What a key may act as or on: an ``address`` (a signing address, a wallet, a validator) or an
    ``asset`` (an agent's assigned asset)."""

    __tablename__ = "api_key_bindings"
    __table_args__ = (UniqueConstraint("key_id", "kind", "value"), Index(None, "kind", "value"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.key_id"))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(64))


class IdempotencyRecord(Base):
    """One Idempotency-Key of one caller: the request's fingerprint, its state, the first response, and
    each transaction signed while it ran (written before the transaction is submitted)."""

    __tablename__ = "idempotency_records"
    __table_args__ = (Index(None, "expires_at"),)

    key_id: Mapped[str] = mapped_column(String(KEY_ID), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    operation: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[Any] = mapped_column(JSON, nullable=True)
    transactions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    batch_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)


class PreparedOperation(Base):
    """An unsigned transaction handed to a client (the non-custodial flow), with what completing it needs."""

    __tablename__ = "prepared_operations"
    __table_args__ = (Index(None, "expires_at"),)

    prepared_id: Mapped[str] = mapped_column(String(KEY_ID), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(KEY_ID), index=True)
    operation: Mapped[str] = mapped_column(String(64))
    chain: Mapped[str] = mapped_column(String(32))
    unsigned: Mapped[dict[str, Any]] = mapped_column(JSON)
    context: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))
    tx_hash: Mapped[str | None] = mapped_column(String(HASH))
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
