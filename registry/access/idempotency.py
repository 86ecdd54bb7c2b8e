"""Idempotency records: what a caller's Idempotency-Key did, kept in the database across restarts.

A record is keyed by the caller's API key id and the Idempotency-Key. `begin` claims it for a request
and answers what to do (`Claim.action`):

- ``run``: a new key (or an expired one, or a retry the previous attempt left safe to run): go on;
- ``replay``: the first request finished: answer its stored status and body, send nothing;
- ``mismatch``: the key was used for another request (another fingerprint): refuse;
- ``in_flight``: the first request is still running in this process: refuse, retry later;
- ``interrupted``: a previous process died while running it: the caller looks at the transactions it
  signed (`IdempotencyRecord.transactions`) and either takes the record over (`take_over`) or explains.

While a request runs, each transaction custody signs is added (`add_transaction`) before it is
submitted, so a process killed half way leaves the hashes of everything that may be on the chain. A batch
request carries a batch id of its own (`batch_id_for`), which the services' journal resumes from.
Keys expire (`DEFAULT_TTL`, a day) and are then forgotten (`purge_expired`).

"This process" is the record's ``owner``: an id made when the API starts. One process serves a data
directory (the chains' folder lock makes sure), so a record running under another owner was left by a
process that is gone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Final, Literal

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from registry.access.models import IdempotencyRecord
from registry.index.db import Database

DEFAULT_TTL: Final = 86_400
"""Seconds an Idempotency-Key is remembered."""

Action = Literal["run", "replay", "mismatch", "in_flight", "interrupted"]
"""What `begin` tells the request to do (see the module docstring)."""

State = Literal["running", "done", "retryable"]
"""A record's state: a request under way (or cut short), finished, or failed in a way that is safe to
run again (a batch, whose journal resumes it)."""


@dataclass(frozen=True)
class Record:
    """A stored idempotency record."""

    key_id: str
    idempotency_key: str
    fingerprint: str
    operation: str
    state: State
    owner: str
    status_code: int | None
    response: Any
    transactions: tuple[dict[str, Any], ...]
    batch_id: str | None
    expires_at: int

    @classmethod
    def of(cls, row: IdempotencyRecord) -> Record:
        """The record of a row."""
        return cls(
            key_id=row.key_id,
            idempotency_key=row.idempotency_key,
            fingerprint=row.fingerprint,
            operation=row.operation,
            state=row.state,  # type: ignore[arg-type]
            owner=row.owner,
            status_code=row.status_code,
            response=row.response,
            transactions=tuple(row.transactions or ()),
            batch_id=row.batch_id,
            expires_at=row.expires_at,
        )


@dataclass(frozen=True)
class Claim:
    """`begin`'s answer: what to do, and the record as it stands."""

    action: Action
    record: Record


def fingerprint_of(*parts: bytes) -> str:
    """The SHA-256 (hex) of a request's parts (method, path, query, canonical body)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def batch_id_for(key_id: str, idempotency_key: str) -> str:
    """The journal batch id of a batch request: fixed by the caller and its key, so a retry resumes it."""
    digest = hashlib.sha256(f"{key_id}\0{idempotency_key}".encode()).hexdigest()
    return f"api-{key_id}-{digest[:32]}"


def begin(
    db: Database,
    *,
    key_id: str,
    idempotency_key: str,
    fingerprint: str,
    operation: str,
    owner: str,
    now: int,
    ttl: int = DEFAULT_TTL,
    batch: bool = False,
) -> Claim:
    """Claim ``idempotency_key`` of ``key_id`` for a request (see the module docstring)."""
    for _attempt in range(2):
        try:
            with db.write() as session:
                row = session.get(IdempotencyRecord, (key_id, idempotency_key))
                if row is not None and row.expires_at <= now:
                    session.delete(row)
                    session.flush()
                    row = None
                if row is None:
                    row = IdempotencyRecord(
                        key_id=key_id,
                        idempotency_key=idempotency_key,
                        fingerprint=fingerprint,
                        operation=operation,
                        state="running",
                        owner=owner,
                        status_code=None,
                        response=None,
                        transactions=[],
                        batch_id=batch_id_for(key_id, idempotency_key) if batch else None,
                        created_at=now,
                        expires_at=now + ttl,
                    )
                    session.add(row)
                    session.flush()
                    return Claim("run", Record.of(row))
                return Claim(_decide(row, fingerprint, owner), Record.of(row))
        except IntegrityError:
            # Another request inserted the same key between our read and our insert: look again.
            continue
    raise AssertionError("unreachable: the second look finds the row the other request inserted")


def _decide(row: IdempotencyRecord, fingerprint: str, owner: str) -> Action:
    if row.fingerprint != fingerprint:
        return "mismatch"
    if row.state == "done":
        return "replay"
    if row.state == "retryable":
        row.state = "running"
        row.owner = owner
        return "run"
    if row.owner == owner:
        return "in_flight"
    return "interrupted"


def take_over(db: Database, record: Record, *, owner: str) -> bool:
    """Claim an interrupted record for this process (True), unless someone else took it first (False)."""
    with db.write() as session:
        row = session.get(IdempotencyRecord, (record.key_id, record.idempotency_key))
        if row is None or row.state != "running" or row.owner != record.owner:
            return False
        row.owner = owner
        return True


def add_transaction(db: Database, record: Record, transaction: dict[str, Any], *, owner: str) -> None:
    """Note a transaction signed for the request of ``record`` (before it is submitted)."""
    with db.write() as session:
        row = _owned(session, record, owner)
        row.transactions = [*(row.transactions or []), transaction]


def finish(db: Database, record: Record, *, owner: str, status_code: int, response: Any) -> None:
    """Store the request's response: later requests with the key replay it."""
    with db.write() as session:
        row = _owned(session, record, owner)
        row.state = "done"
        row.status_code = status_code
        row.response = response


def release(db: Database, record: Record, *, owner: str, retryable: bool = False) -> None:
    """The request ended without a response worth replaying: forget the key (a retry runs afresh), or
    with ``retryable`` keep it (fingerprint, batch id, transactions) for a retry to run again."""
    with db.write() as session:
        row = _owned(session, record, owner)
        if retryable:
            row.state = "retryable"
        else:
            session.delete(row)


def purge_expired(db: Database, *, now: int) -> int:
    """Forget every expired key; returns how many."""
    with db.write() as session:
        result = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= now))
        return int(getattr(result, "rowcount", 0) or 0)


def _owned(session: Session, record: Record, owner: str) -> IdempotencyRecord:
    row = session.get(IdempotencyRecord, (record.key_id, record.idempotency_key))
    if row is None or row.owner != owner:
        raise RuntimeError(
            f"idempotency record {record.key_id}/{record.idempotency_key!r} is no longer this process's"
        )
    return row
