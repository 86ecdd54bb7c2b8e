"""Idempotency-Key on every POST that sends transactions (the IETF httpapi draft, Stripe's semantics).

A route takes ``idem: IdempotencyDep`` and wraps its work: ``return idem.run(lambda: ..., status_code=201)``.
With the header, the key plus the caller's API key id plus a fingerprint of the request (method, path,
query, canonical JSON body) is recorded in the database (`registry.access.idempotency`):

- the same key and request again: the first status and body, replayed (header ``Idempotent-Replayed:
  true``), nothing sent again;
- the same key with another request: 422 ``idempotency-key-reused``;
- the same key while the first is still running: 409 ``idempotency-in-flight``;
- keys expire after a day.

Each transaction custody signs during the request is written to the record *before* it is submitted
(the journal's watcher hook), and the response is written when the request ends. After a crash, a retry
finds the record running under a dead process: if it signed nothing, or nothing it signed reached the
chain, the retry runs the request again; otherwise it answers 409 ``idempotency-interrupted`` with the
transactions and their state on chain, and sends nothing. A batch route passes ``batch=True`` and gives
the services ``batch_id=idem.batch_id``: the journal then resumes the batch on a retry (landed chunks are
not sent again), so a batch that failed or was cut short is always safe to run again with the same key.

Which outcomes are replayed: every response the work produced (a success, or a refusal before anything
was sent), except a server error (5xx) before any transaction was signed, which is forgotten so that a
retry runs afresh; and a batch's errors, kept as "retryable".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, Final
from urllib.parse import parse_qsl

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse, Response
from hexbytes import HexBytes
from pydantic import BaseModel

from api.errors import ApiProblemError, problem_for, problem_response
from api.security import Principal, authenticate
from api.state import ApiState, api_state
from registry.access import idempotency as store
from registry.custody.transactions import PendingTransaction

HEADER: Final = "Idempotency-Key"

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=HEADER,
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Makes the request safe to retry: a retry with the same key and body gets the first "
        "response and sends nothing again (a day). Printable ASCII, at most 255 characters; a UUID is "
        "a good key.",
        examples=["0b5a0c8e-7f1d-4d43-9c3c-5c1d27d3b0f4"],
    ),
]


def _canonical(body: bytes) -> bytes:
    if not body:
        return b""
    try:
        return json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError):
        return body


class Idempotent:
    """One request's idempotency: `run` its work (see the module docstring)."""

    def __init__(
        self,
        state: ApiState,
        principal: Principal,
        key: str | None,
        fingerprint: str,
        *,
        operation: str,
        instance: str,
    ) -> None:
        self._state = state
        self._principal = principal
        self.key = key
        """The Idempotency-Key header (None: none sent)."""
        self._fingerprint = fingerprint
        self._operation = operation
        self._instance = instance

    @property
    def batch_id(self) -> str | None:
        """The batch id to give a batch service call: fixed by the caller and the key (None: no key)."""
        if self.key is None:
            return None
        return store.batch_id_for(self._principal.key_id, self.key)

    def run(self, work: Callable[[], BaseModel], *, status_code: int = 200, batch: bool = False) -> Response:
        """Run ``work`` once per key; its model is the response (``status_code``)."""
        if self.key is None:
            return JSONResponse(work().model_dump(mode="json"), status_code=status_code)
        state = self._state
        claim = store.begin(
            state.registry.db,
            key_id=self._principal.key_id,
            idempotency_key=self.key,
            fingerprint=self._fingerprint,
            operation=self._operation,
            owner=state.owner,
            now=state.clock(),
            batch=batch,
        )
        record = claim.record
        if claim.action == "replay":
            return _replay(record)
        if claim.action == "mismatch":
            raise ApiProblemError(
                "idempotency-key-reused",
                f"the Idempotency-Key {self.key!r} was first used for another request ({record.operation} "
                "with another body); use a new key for a new request",
                field=f"header {HEADER}",
            )
        if claim.action == "in_flight":
            raise ApiProblemError(
                "idempotency-in-flight",
                f"the first request with Idempotency-Key {self.key!r} is still running; retry when it has "
                "finished to get its response",
                headers={"Retry-After": "1"},
            )
        if claim.action == "interrupted":
            self._resume_or_explain(record, batch=batch)
        return self._first_run(record, work, status_code, batch)

    def _resume_or_explain(self, record: store.Record, *, batch: bool) -> None:
        """A previous process died running this request: take it over if running it again cannot send
        anything twice; else explain (409) which transactions it signed."""
        states = [(tx, self._chain_state(tx)) for tx in record.transactions]
        if (batch or all(found == "unknown" for _tx, found in states)) and store.take_over(
            self._state.registry.db, record, owner=self._state.owner
        ):
            return
        raise ApiProblemError(
            "idempotency-interrupted",
            f"the server stopped while running the first request with Idempotency-Key {self.key!r}, after "
            f"it signed {len(states)} transaction(s); they are not sent again: look them up on the chain",
            transactions=[{**tx, "state": found} for tx, found in states],
        )

    def _chain_state(self, tx: dict[str, Any]) -> str:
        sender = self._state.registry.sender(str(tx["chain"]))
        return sender.transaction_state(bytes(HexBytes(str(tx["hash"]))))

    def _first_run(
        self, record: store.Record, work: Callable[[], BaseModel], status_code: int, batch: bool
    ) -> Response:
        registry, owner = self._state.registry, self._state.owner
        signed: list[str] = []

        def watch(pending: PendingTransaction) -> None:
            transaction = {
                "chain": pending.chain,
                "hash": pending.hash_hex,
                "sender": pending.sender,
                "nonce": pending.nonce,
            }
            store.add_transaction(registry.db, record, transaction, owner=owner)
            signed.append(pending.hash_hex)

        try:
            with registry.context.journal.watching(watch):
                result = work()
        except Exception as exc:
            status, body, headers = problem_for(exc, self._instance)
            if batch:
                store.release(registry.db, record, owner=owner, retryable=True)
            elif status >= 500 and not signed:
                store.release(registry.db, record, owner=owner)
            else:
                store.finish(registry.db, record, owner=owner, status_code=status, response=body)
            return problem_response(status, body, headers)
        content = result.model_dump(mode="json")
        store.finish(registry.db, record, owner=owner, status_code=status_code, response=content)
        return JSONResponse(content, status_code=status_code)


def _replay(record: store.Record) -> Response:
    status = record.status_code or 200
    headers = {"Idempotent-Replayed": "true"}
    if status >= 400:
        return problem_response(status, record.response, headers)
    return JSONResponse(record.response, status_code=status, headers=headers)


def request_fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """The fingerprint of a request: its method, path, query (in any order) and JSON body (in any key
    order or spacing)."""
    pairs = json.dumps(sorted(parse_qsl(query, keep_blank_values=True))).encode()
    return store.fingerprint_of(method.encode(), path.encode(), pairs, _canonical(body))


async def idempotency(
    request: Request,
    principal: Annotated[Principal, Depends(authenticate)],
    state: Annotated[ApiState, Depends(api_state)],
    key: IdempotencyKey = None,
) -> Idempotent:
    """The request's `Idempotent` (the body is read here, once, for its fingerprint)."""
    body = await request.body()
    fingerprint = request_fingerprint(request.method, request.url.path, request.url.query, body)
    return Idempotent(
        state,
        principal,
        key,
        fingerprint,
        operation=f"{request.method} {request.url.path}",
        instance=request.url.path,
    )
