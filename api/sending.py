"""One declaration per sending operation: the custodial route ``POST /x`` and its ``POST /x/prepare`` twin.

An operation that sends a transaction is declared once with `sending`: how a request becomes the
transaction and its context (``build``), and how the answer is made from what was sent (``answer``). The
declaration registers both routes and the operation's completer (`api.prepared.operation`):

- the custodial route runs, under the request's Idempotency-Key (`api.idempotency`), ``build``, sends the
  transaction through custody, and answers ``answer(registry, Sent(outcome, context))``;
- the prepare route runs ``build`` and stores the transaction for the caller to sign with its context
  (`api.prepared.prepare`); ``POST /transactions`` then answers with the same ``answer``.

So both forms answer from one function, with the same context: the custodial route gives ``answer`` the
context as the prepared record holds it (through JSON).

``build`` takes the registry and the caller, then the request's parameters by name, annotated as a route's
are (``asset_id: AssetId, body: MintCreate``): the routes declare exactly those parameters, with the
registry, the caller and the Idempotency-Key (custodial) or the clock (prepare) as dependencies.

An operation whose custodial form does more than send the prepared transaction (approving the cash first,
say) passes ``custody``: it takes the same arguments as ``build`` and sends itself.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from fastapi import APIRouter, params
from fastapi.responses import Response
from pydantic import BaseModel

from api.deps import ClockDep, IdempotencyDep, PrincipalDep, RegistryDep
from api.idempotency import Idempotent
from api.prepared import operation, prepare
from api.schemas.common import TransactionPublic
from api.schemas.transactions import OperationResultPublic, PreparedPublic
from api.security import Principal
from registry.access.prepared import Prepared
from registry.custody.transactions import PreparedTransaction, TxOutcome
from registry.runtime import Registry

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Built:
    """What one request of an operation would send, and what its answer needs to know."""

    tx: PreparedTransaction
    context: dict[str, Any] = field(default_factory=dict)
    """JSON-ready; kept with a prepared transaction until it is posted signed."""
    asset_id: str | None = None
    """The asset a refusal that the contract explains names (custodial form; see `RegistryContext.send`)."""

    @classmethod
    def on_asset(cls, tx: PreparedTransaction, asset_id: str, more: dict[str, Any] | None = None) -> Built:
        """An operation on asset ``asset_id``: its context names the asset (and ``more``), so does a
        refusal."""
        return cls(tx, {"asset_id": asset_id, **(more or {})}, asset_id=asset_id)


@dataclass(frozen=True)
class Sent:
    """What an operation sent: its transaction, mined, and the context it was built with."""

    outcome: TxOutcome
    context: dict[str, Any] = field(default_factory=dict)
    approval: TxOutcome | None = None
    """The allowance custody approved before a funding, if it had to (custodial form only)."""


@dataclass(frozen=True)
class Doc:
    """One route's name (its endpoint's, hence its operation id), summary and description."""

    name: str
    summary: str
    description: str


Answer = Callable[[Registry, Sent], M]


@dataclass(frozen=True)
class Declared:
    """A declared operation, as its routes appear in the OpenAPI document."""

    name: str
    method: str
    path: str
    """The custodial route's path, with its router's prefix; the twin's is ``path + "/prepare"``."""
    result: type[BaseModel]
    status_code: int
    custodial: Doc
    prepared: Doc


DECLARED: list[Declared] = []
"""Every operation declared with `sending`, in the order of declaration."""

_DEPENDENCIES = ("registry", "caller", "idem", "now")


def plain_answer(_registry: Registry, sent: Sent) -> OperationResultPublic:
    """The answer of an operation whose result is its transaction."""
    return OperationResultPublic(transaction=TransactionPublic.of(sent.outcome))


def send(registry: Registry, built: Built) -> Sent:
    """Send ``built`` custodially."""
    return Sent(registry.context.send(built.tx, asset_id=built.asset_id), built.context)


def _as_stored(sent: Sent) -> Sent:
    """``sent`` with its context as a prepared record keeps it (through JSON), for the answer."""
    return replace(sent, context=json.loads(json.dumps(sent.context)))


def _request_parameters(build: Callable[..., Any]) -> list[inspect.Parameter]:
    """The request's parameters of ``build``: all but the first two (the registry and the caller)."""
    found = list(inspect.signature(build, eval_str=True).parameters.values())
    first = [(p.name, p.kind) for p in found[:2]]
    if first != [
        ("registry", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        ("caller", inspect.Parameter.POSITIONAL_OR_KEYWORD),
    ]:
        raise TypeError(f"{build.__name__} must take the registry and the caller first")
    request = found[2:]
    clash = [p.name for p in request if p.name in _DEPENDENCIES]
    if clash or any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in request):
        raise TypeError(f"{build.__name__}: request parameters may not be {clash or '*args/**kwargs'}")
    return [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in request]


def _endpoint(
    run: Callable[..., Any], name: str, request: list[inspect.Parameter], extra: tuple[str, Any], returns: Any
) -> Callable[..., Any]:
    """``run`` as an endpoint named ``name`` whose signature declares ``request``, the registry, the caller
    and ``extra`` (name, annotation)."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    run.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            *request,
            inspect.Parameter("registry", keyword, annotation=RegistryDep),
            inspect.Parameter("caller", keyword, annotation=PrincipalDep),
            inspect.Parameter(extra[0], keyword, annotation=extra[1]),
        ],
        return_annotation=returns,
    )
    run.__name__ = run.__qualname__ = name
    return run


def sending(
    router: APIRouter,
    path: str,
    name: str,
    result: type[M],
    *,
    build: Callable[..., Built],
    answer: Answer[M],
    dependencies: Sequence[params.Depends],
    custodial: Doc,
    prepared: Doc,
    status_code: int = 200,
    method: str = "POST",
    custody: Callable[..., Sent] | None = None,
) -> None:
    """Declare operation ``name``: its custodial route (``method path``, answering ``result`` with
    ``status_code``) and its prepare twin (``path + "/prepare"``, 201), both gated by ``dependencies``
    (see the module docstring)."""
    request = _request_parameters(build)

    def complete(registry: Registry, record: Prepared, outcome: TxOutcome) -> M:
        return answer(registry, Sent(outcome, record.context))

    operation(name, result, status_code=status_code)(complete)
    DECLARED.append(
        Declared(
            name, method, router.prefix + path, result, status_code, custodial=custodial, prepared=prepared
        )
    )

    def run_custodial(*, registry: Registry, caller: Principal, idem: Idempotent, **values: Any) -> Response:
        def work() -> M:
            sent = (
                custody(registry, caller, **values)
                if custody is not None
                else send(registry, build(registry, caller, **values))
            )
            return answer(registry, _as_stored(sent))

        return idem.run(work, status_code=status_code)

    def run_prepare(*, registry: Registry, caller: Principal, now: int, **values: Any) -> PreparedPublic:
        built = build(registry, caller, **values)
        return prepare(registry, caller, name, built.tx, now=now, context=built.context)

    router.add_api_route(
        path,
        _endpoint(run_custodial, custodial.name, request, ("idem", IdempotencyDep), Response),
        methods=[method],
        status_code=status_code,
        response_model=result,
        dependencies=dependencies,
        summary=custodial.summary,
        description=custodial.description,
        name=custodial.name,
    )
    router.add_api_route(
        f"{path}/prepare",
        _endpoint(run_prepare, prepared.name, request, ("now", ClockDep), PreparedPublic),
        methods=[method],
        status_code=201,
        response_model=PreparedPublic,
        dependencies=dependencies,
        summary=prepared.summary,
        description=prepared.description,
        name=prepared.name,
    )
