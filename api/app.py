"""The FastAPI application: `create_app` opens the registry (or takes an open one), serves every router,
each embedded chain's JSON-RPC at ``/chains/{name}/rpc``, and the problem handlers.

    app = create_app(settings)             # the lifespan opens the registry: migrations, chains, indexers
    app = create_app(registry=registry)    # tests: an open registry, closed by its owner

Every route declares the roles that may call it (`api.security.allow`) or that it is public
(`api.security.PUBLIC`); `create_app` refuses a route that does neither, and writes the roles into the
route's OpenAPI operation (``x-roles`` and its description). The workshop dashboard is static files
(``api/static``): the page at ``/`` and its assets under ``/static``, public and holding no data (it asks
for a key and reads the API with it); they are plain routes, outside the OpenAPI document. Every 4XX
and 5XX answer is documented as ``application/problem+json`` (`api.errors`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any, Final

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from api import errors
from api.errors import PROBLEM_JSON, problem_body, problem_response
from api.routers import (
    asset_events,
    assets,
    batches,
    chains,
    compliance,
    corporate_actions,
    coupons,
    demos,
    dividends,
    enforcement,
    events,
    governance,
    holdings,
    investors,
    keys,
    meta,
    transactions,
    transfers,
)
from api.schemas.common import Problem
from api.security import RoleGate
from api.state import ApiState, wall_clock
from registry.access import idempotency as idempotency_store
from registry.access import prepared as prepared_store
from registry.chain.names import CHAIN_NAMES
from registry.chain.rpc.asgi import RpcApp
from registry.chain.rpc.dispatcher import RpcDispatcher
from registry.runtime import Registry
from registry.settings import Settings, load_settings

TITLE: Final = "Tokenized-asset registry"
VERSION: Final = "0.1.0"

DESCRIPTION: Final = """
Issue and track tokenized bonds, stocks and cash on two chains side by side: a **permissioned** chain
(validators, KYC'd senders, interventions) and a **permissionless** one.

**Keys.** Every operation but `/health` and `/problems` needs an API key:
`Authorization: Bearer rk_…`. Each key has a role (admin, issuer, agent, kyc-provider, validator,
investor, auditor); each operation lists the roles that may call it. No key or an invalid one: 401; a
role that may not: 403 naming the roles that may. A key acts only as the addresses it is bound to (an
admin as any address custody holds).

**Errors** are RFC 9457 problem details (`application/problem+json`): `type`, `title`, `status`,
`detail` (what went wrong and what to do), `instance`, plus fields of their type (`GET /problems`):
a malformed field is 422 naming it, a compliance refusal lists every broken rule, a revert names its
custom error and decoded arguments, the permissioned chain's refusal of an unverified sender says what
to do.

**Retries.** Every POST that sends transactions takes an `Idempotency-Key` header: a retry with the
same key and body answers the first response and sends nothing again; the same key with another body
is 422; a retry while the first still runs is 409. Keys are kept a day, across restarts.

**Your own wallet.** Each such operation has a `/prepare` twin that answers the unsigned transaction;
sign it and `POST /transactions`: the answer is the custodial form's.

**Values.** Amounts are decimal strings in the asset's units (never floats); addresses are 0x and 40
hex digits, checksummed or lower-case; times are ISO 8601 (UTC); lists are pages
(`?limit=&cursor=` → `{items, next_cursor}`).

**JSON-RPC.** Each embedded chain answers Ethereum JSON-RPC at `/chains/{name}/rpc` (no key: cast,
ethers, web3.py and browser wallets connect there).
""".strip()

ROUTERS: Final[tuple[ModuleType, ...]] = (
    meta,
    keys,
    chains,
    assets,
    transfers,
    batches,
    coupons,
    dividends,
    corporate_actions,
    asset_events,
    investors,
    holdings,
    compliance,
    enforcement,
    governance,
    events,
    demos,
)
"""The resource routers, in the order of the documentation (transactions comes last, built once every
operation has registered its result)."""


class ChainRpc:
    """ASGI app forwarding to the running app's JSON-RPC app of chain ``name`` (404 when not embedded)."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = getattr(getattr(scope.get("app"), "state", None), "api", None)
        rpc = state.rpc_apps.get(self.name) if isinstance(state, ApiState) else None
        if rpc is None:
            status, body = problem_body(
                "not-found",
                f"the {self.name} chain is not embedded in this server (an external node, or not open): "
                "no JSON-RPC here",
                str(scope.get("path", "")),
                resource="chain-rpc",
            )
            await problem_response(status, body)(scope, receive, send)
            return
        await rpc(scope, receive, send)


def create_app(
    settings: Settings | None = None,
    *,
    registry: Registry | None = None,
    clock: Callable[[], int] = wall_clock,
    open_options: dict[str, Any] | None = None,
    on_ready: Callable[[Registry], None] | None = None,
) -> FastAPI:
    """The API app. Without ``registry`` its lifespan opens one from ``settings`` (default: the
    environment) with ``open_options`` (`Registry.open`'s keywords) and closes it at shutdown; a given
    ``registry`` stays its owner's. ``on_ready`` runs once the registry is open, before requests."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = registry is None
        opened = (
            registry
            if registry is not None
            else await asyncio.to_thread(
                Registry.open, settings if settings is not None else load_settings(), **(open_options or {})
            )
        )
        state = ApiState(registry=opened, clock=clock)
        try:
            for name in CHAIN_NAMES:
                if name in opened.context.chains and (embedded := opened.chain(name).embedded) is not None:
                    state.rpc_apps[name] = RpcApp(RpcDispatcher(embedded))
            now = clock()
            idempotency_store.purge_expired(opened.db, now=now)
            with opened.db.write() as session:
                prepared_store.purge_expired(session, now=now)
            app.state.api = state
            if on_ready is not None:
                on_ready(opened)
            yield
        finally:
            app.state.api = None
            for rpc in state.rpc_apps.values():
                rpc.close()
            if owned:
                await asyncio.to_thread(opened.close)

    app = FastAPI(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        openapi_tags=[module.TAG for module in ROUTERS] + [transactions.TAG],
        lifespan=lifespan,
    )
    errors.install(app)
    for router in [*(module.router for module in ROUTERS), transactions.build_router()]:
        _declare_roles(router)
        app.include_router(router)
    for name in CHAIN_NAMES:
        forward = ChainRpc(name)
        # The bare prefix too: Starlette's Mount alone would redirect /chains/x/rpc to /chains/x/rpc/.
        app.router.routes.append(
            Route(f"/chains/{name}/rpc", endpoint=forward, methods=["GET", "HEAD", "POST", "OPTIONS"])
        )
        app.router.routes.append(Mount(f"/chains/{name}/rpc", app=forward))
    app.router.routes.append(Route("/", endpoint=dashboard_page, methods=["GET", "HEAD"]))
    app.router.routes.append(Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"))
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


STATIC_DIR: Final = Path(__file__).parent / "static"
"""The workshop dashboard's files (plain HTML, CSS and JavaScript, no build step)."""

DASHBOARD_HEADERS: Final = {
    # The page loads its own script and style only and talks to this origin only; the API key it holds
    # must not leak to a framing page or a third-party script.
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


async def dashboard_page(request: Request) -> Response:
    """The workshop dashboard at ``/``: public, like its assets under ``/static``, which hold no data (the
    page asks for an API key and reads everything through the API with it)."""
    return FileResponse(STATIC_DIR / "index.html", headers=DASHBOARD_HEADERS)


def _declare_roles(router: APIRouter) -> None:
    """Check that every route of ``router`` is documented and declares its roles or is public; write the
    roles into its documentation."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            continue
        if not route.include_in_schema:
            raise RuntimeError(f"route {route.path} must be in the OpenAPI document (the role walk reads it)")
        gates = [dep.dependency for dep in route.dependencies if isinstance(dep.dependency, RoleGate)]
        public = bool((route.openapi_extra or {}).get("x-public"))
        if len(gates) + int(public) != 1:
            raise RuntimeError(
                f"route {sorted(route.methods or ())} {route.path} must declare who may call it: "
                "dependencies=[allow(...)] or openapi_extra=PUBLIC, not both or neither"
            )
        if gates:
            roles = list(gates[0].roles)
            route.openapi_extra = {**(route.openapi_extra or {}), "x-roles": roles}
            route.description = f"{route.description}\n\n**Roles:** {', '.join(roles)}."


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, with every 4XX and 5XX answer an ``application/problem+json`` `Problem`."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    problem = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            public = bool(operation.get("x-public"))
            if not public:
                responses.setdefault("401", {"description": "No API key, or not a valid one."})
                responses.setdefault("403", {"description": "The key's role (or scope) does not allow this."})
            responses.setdefault("422", {"description": "A malformed field, parameter or header."})
            responses.setdefault("4XX", {"description": "Another client error (see GET /problems)."})
            responses.setdefault("5XX", {"description": "A server or chain error (see GET /problems)."})
            for code, response in responses.items():
                if code.startswith(("4", "5")):
                    response["content"] = problem
    app.openapi_schema = schema
    return schema
