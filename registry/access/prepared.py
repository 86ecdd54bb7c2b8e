"""Prepared operations: the unsigned transactions handed to clients, kept until they come back signed.

`registry.runtime.Registry.submit_signed` relays only a transaction that matches what was prepared, so the
API keeps what it prepared (`save`), under the caller's key, with the context its result needs (e.g. the
issue to catalogue once the creation landed). `load` finds it again for the same key only; it expires
after `DEFAULT_TTL`. `mark_submitted` records the signed transaction's hash before it is sent, so one
prepared transaction is relayed once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import delete
from sqlalchemy.orm import Session

from registry.access.models import PreparedOperation
from registry.custody.transactions import UnsignedTransaction
from registry.errors import OperationRefusedError, UnknownPreparedOperationError

DEFAULT_TTL: Final = 3_600
"""Seconds a prepared transaction may wait for its signature (fees and nonces go stale)."""


@dataclass(frozen=True)
class Prepared:
    """A prepared operation as stored."""

    prepared_id: str
    key_id: str
    operation: str
    chain: str
    unsigned: UnsignedTransaction
    context: dict[str, Any]
    state: str
    tx_hash: str | None
    expires_at: int


def unsigned_to_json(tx: UnsignedTransaction) -> dict[str, Any]:
    """JSON form of an unsigned transaction (what is stored)."""
    return {
        "chain": tx.chain,
        "chain_id": tx.chain_id,
        "sender": tx.sender,
        "to": tx.to,
        "data": "0x" + tx.data.hex(),
        "value": str(tx.value),
        "nonce": tx.nonce,
        "gas": tx.gas,
        "max_fee_per_gas": str(tx.max_fee_per_gas),
        "max_priority_fee_per_gas": str(tx.max_priority_fee_per_gas),
        "description": tx.description,
    }


def unsigned_from_json(data: dict[str, Any]) -> UnsignedTransaction:
    """The unsigned transaction of `unsigned_to_json`'s form."""
    return UnsignedTransaction(
        chain=data["chain"],
        chain_id=int(data["chain_id"]),
        sender=data["sender"],
        to=data["to"],
        data=bytes.fromhex(str(data["data"]).removeprefix("0x")),
        value=int(data["value"]),
        nonce=int(data["nonce"]),
        gas=int(data["gas"]),
        max_fee_per_gas=int(data["max_fee_per_gas"]),
        max_priority_fee_per_gas=int(data["max_priority_fee_per_gas"]),
        description=data["description"],
    )


def save(
    session: Session,
    *,
    key_id: str,
    operation: str,
    unsigned: UnsignedTransaction,
    context: dict[str, Any],
    now: int,
    ttl: int = DEFAULT_TTL,
) -> Prepared:
    """Keep ``unsigned`` (for ``operation``, with ``context``) for key ``key_id``."""
    row = PreparedOperation(
        prepared_id=secrets.token_hex(16),
        key_id=key_id,
        operation=operation,
        chain=unsigned.chain,
        unsigned=unsigned_to_json(unsigned),
        context=context,
        state="prepared",
        tx_hash=None,
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(row)
    session.flush()
    return _of(row)


def load(session: Session, prepared_id: str, *, key_id: str, now: int) -> Prepared:
    """The operation ``prepared_id`` that key ``key_id`` prepared.

    Raises:
        UnknownPreparedOperationError: none (never prepared, prepared by another key, or expired).
    """
    row = session.get(PreparedOperation, prepared_id) if isinstance(prepared_id, str) else None
    if row is None or row.key_id != key_id:
        raise UnknownPreparedOperationError(
            f"no prepared transaction {prepared_id!r} for this API key: prepare it first (the prepare "
            "endpoint of the operation), then post its signed form"
        )
    if row.expires_at <= now:
        raise UnknownPreparedOperationError(
            f"prepared transaction {prepared_id!r} expired (prepared transactions are kept "
            f"{DEFAULT_TTL // 60} minutes; fees and nonces go stale): prepare it again"
        )
    return _of(row)


def mark_submitted(session: Session, prepared_id: str, tx_hash: str) -> Prepared:
    """Record that the signed transaction ``tx_hash`` of ``prepared_id`` is being sent.

    Raises:
        OperationRefusedError: it was submitted already (another signed transaction is on its way).
    """
    row = session.get(PreparedOperation, prepared_id)
    if row is None:
        raise UnknownPreparedOperationError(f"no prepared transaction {prepared_id!r}")
    if row.state != "prepared" and row.tx_hash != tx_hash:
        raise OperationRefusedError(
            f"prepared transaction {prepared_id} was already submitted as {row.tx_hash}: look that "
            "transaction up, or prepare the operation again"
        )
    row.state = "submitted"
    row.tx_hash = tx_hash
    session.flush()
    return _of(row)


def purge_expired(session: Session, *, now: int) -> None:
    """Forget every expired prepared operation."""
    session.execute(delete(PreparedOperation).where(PreparedOperation.expires_at <= now))


def _of(row: PreparedOperation) -> Prepared:
    return Prepared(
        prepared_id=row.prepared_id,
        key_id=row.key_id,
        operation=row.operation,
        chain=row.chain,
        unsigned=unsigned_from_json(row.unsigned),
        context=dict(row.context),
        state=row.state,
        tx_hash=row.tx_hash,
        expires_at=row.expires_at,
    )
