"""What the running app holds: the open registry, this process's id, the clock, the chains' RPC apps."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import Request

from api.errors import ApiProblemError
from registry.chain.rpc.asgi import RpcApp
from registry.runtime import Registry


def wall_clock() -> int:
    """Unix seconds now (idempotency and prepared-transaction expiry, key creation times)."""
    return int(time.time())


@dataclass
class ApiState:
    """``app.state.api`` while the app runs."""

    registry: Registry
    """The registry every route works through."""
    clock: Callable[[], int] = wall_clock
    """Unix seconds now; tests move it."""
    owner: str = field(default_factory=lambda: uuid.uuid4().hex)
    """This process's id in idempotency records (a record running under another id was left by a
    process that stopped)."""
    rpc_apps: dict[str, RpcApp] = field(default_factory=dict)
    """The JSON-RPC app of each embedded chain, mounted at /chains/{name}/rpc."""
    keep_alive_seconds: float = 15.0
    """Seconds without traffic after which the event stream sends a ``: keep-alive`` comment."""


def api_state(request: Request) -> ApiState:
    """The running app's state.

    Raises:
        ApiProblemError service-unavailable: the registry is not open (the app is starting or stopping).
    """
    state = getattr(request.app.state, "api", None)
    if not isinstance(state, ApiState):
        raise ApiProblemError(
            "service-unavailable", "the registry is not open yet (or any more); retry shortly"
        )
    return state
