"""The non-custodial twin of an operation: prepare a transaction for the caller to sign, then finish it.

Every operation that sends a transaction comes in two forms: ``POST /x`` (custody signs) and
``POST /x/prepare`` (the caller signs). The prepare form builds the same `PreparedTransaction` with the
service's ``prepare_*`` method and hands it to `prepare`, which fills nonce, gas and fees, stores it
under the caller's key and answers a `PreparedPublic`. The client signs ``transaction`` and posts it to
``POST /transactions``, which checks it against what was stored, sends it, and asks the operation's
completer (registered here with `operation`) for the response: the same body the custodial form gives.

Most operations declare both forms and their completer at once with `api.sending.sending`, so that both
answer from one function. An operation whose forms differ more registers its completer itself:

    @operation("assets.issue", AssetIssuedPublic, status_code=201)
    def _complete(registry, prepared, outcome) -> AssetIssuedPublic: ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

from api.schemas.transactions import PreparedPublic
from api.security import Principal
from registry.access import prepared as store
from registry.access.prepared import Prepared
from registry.custody.transactions import PreparedTransaction, TxOutcome
from registry.runtime import Registry

M = TypeVar("M", bound=BaseModel)

Completer = Callable[[Registry, Prepared, TxOutcome], BaseModel]
"""Builds an operation's response from its prepared record and the mined transaction."""


@dataclass(frozen=True)
class Operation:
    """An operation that can be signed by the client: its name, its result and how to build it."""

    name: str
    result: type[BaseModel]
    status_code: int
    complete: Completer


OPERATIONS: dict[str, Operation] = {}
"""Every operation with a non-custodial twin, by name (``<router>.<operation>``)."""


def operation(
    name: str, result: type[M], *, status_code: int = 200
) -> Callable[[Callable[[Registry, Prepared, TxOutcome], M]], Callable[[Registry, Prepared, TxOutcome], M]]:
    """Register the completer of operation ``name``, whose response is ``result`` with ``status_code``."""

    def register(
        complete: Callable[[Registry, Prepared, TxOutcome], M],
    ) -> Callable[[Registry, Prepared, TxOutcome], M]:
        if name in OPERATIONS:
            raise ValueError(f"operation {name!r} is registered twice")
        OPERATIONS[name] = Operation(name=name, result=result, status_code=status_code, complete=complete)
        return complete

    return register


def prepare(
    registry: Registry,
    caller: Principal,
    name: str,
    tx: PreparedTransaction,
    *,
    now: int,
    context: dict[str, Any] | None = None,
) -> PreparedPublic:
    """Fill ``tx`` for its sender to sign and keep it under ``caller``'s key as operation ``name``."""
    if name not in OPERATIONS:
        raise ValueError(f"operation {name!r} has no completer: register it with operation()")
    unsigned = registry.prepare_unsigned(tx)
    with registry.db.write() as session:
        saved = store.save(
            session, key_id=caller.key_id, operation=name, unsigned=unsigned, context=context or {}, now=now
        )
    return PreparedPublic.of(saved)
