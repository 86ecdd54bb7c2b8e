"""A chain's JSON-RPC as a plain ASGI application, served alone by ``registry node`` or mounted.

``RpcApp(dispatcher)`` is an ASGI callable: uvicorn serves it standalone (see
`registry.chain.rpc.server`), and an HTTP API mounts the same object at a prefix such as
``/chains/{name}/rpc``. It answers on whatever path it is given. (Starlette's ``Mount``,
which FastAPI's ``app.mount`` uses, answers the bare prefix with a redirect to the prefix
plus ``/``; add a ``Route(prefix, endpoint=app)`` beside it so that clients may post to
the prefix itself, as tests/chain/rpc/test_asgi.py does.)

==========  ===================================================================================
``POST``    a JSON-RPC request or batch; 200 with the response, or 204 and no body when every
            request was a notification (no ``id``); bad JSON gets the JSON-RPC parse error
            (-32700); a body larger than ``max_body_bytes`` gets 413 and a JSON-RPC error
``GET``     a short JSON description of the chain (``HEAD`` the same without the body)
``OPTIONS`` the CORS preflight: any origin may post JSON (browser wallets, pages served elsewhere)
==========  ===================================================================================

A response to a request that carries an ``Origin`` header (a browser's) allows any origin;
the preflight answer also names the methods and headers allowed. Other clients get only
the two headers they read (content type and length): each header costs an HTTP client
parsing time, twice per transaction sent and awaited. The dispatcher is synchronous and takes the
chain's lock. A request whose methods answer from memory at once (a submission, the
receipt of a mined transaction, a nonce, a balance...) is answered on the event loop,
which spares a hop to a worker thread per request; anything that may take long (an
``eth_call``, a log query, a receipt that waits for its block) runs in a worker thread,
so that it never holds up the other requests.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from registry.chain.rpc.dispatcher import RPC_INVALID_REQUEST, RpcDispatcher, parse_error
from registry.chain.rpc.serializers import parse_data

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY_BYTES = 16 * 1024 * 1024
"""Largest request body accepted (a batch of big deployments fits)."""

WORKER_THREADS = 32
"""Requests that may take long run in at most this many threads at once; the rest queue."""

QUICK_METHODS = frozenset(
    {
        "web3_clientVersion",
        "web3_sha3",
        "net_version",
        "net_listening",
        "net_peerCount",
        "eth_chainId",
        "eth_syncing",
        "eth_mining",
        "eth_coinbase",
        "eth_accounts",
        "eth_blockNumber",
        "eth_gasPrice",
        "eth_maxPriorityFeePerGas",
        "eth_blobBaseFee",
        "eth_getTransactionCount",
        "eth_getBalance",
        "eth_getCode",
        "eth_getStorageAt",
        "eth_getTransactionByHash",
        "eth_sendRawTransaction",
    }
)
"""Methods answered from the head state or memory with one short hold of the chain's lock.

``eth_getTransactionReceipt`` is quick too, unless its transaction is still pooled: then
it waits for the block, and runs in a worker thread. A submission on a chain that seals
each transaction at once (``sealing="instant"``) seals a block, and runs in a worker thread.
"""

_RECEIPT = "eth_getTransactionReceipt"

_ALLOW_ANY_ORIGIN = [(b"access-control-allow-origin", b"*")]
_PREFLIGHT_HEADERS = [
    *_ALLOW_ANY_ORIGIN,
    (b"access-control-allow-methods", b"POST, GET, OPTIONS"),
    (b"access-control-allow-headers", b"Content-Type, Authorization, X-Requested-With"),
    (b"access-control-max-age", b"86400"),
]
_JSON = (b"content-type", b"application/json")
_COMPACT = (",", ":")
"""JSON separators without spaces: the bytes anvil and geth send."""


class RpcApp:
    """The ASGI application answering JSON-RPC for one `RpcDispatcher` (see the module docstring)."""

    def __init__(self, dispatcher: RpcDispatcher, *, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.dispatcher = dispatcher
        """Answers every JSON-RPC request."""
        self.max_body_bytes = max_body_bytes
        """Bodies larger than this are refused with HTTP 413."""
        self._executor = ThreadPoolExecutor(WORKER_THREADS, thread_name_prefix=f"rpc-{dispatcher.chain.name}")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry point."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            # A websocket: not served (yet); refuse the handshake.
            await send({"type": "websocket.close", "code": 1003})
            return
        method = scope["method"]
        cors = _cors_headers(scope, preflight=method == "OPTIONS")
        if method == "POST":
            await self._post(scope, receive, send, cors)
        elif method in ("GET", "HEAD"):
            # The description may be cached: its CORS header depends on the request's origin.
            await _respond(
                send, 200, self._describe(), head_only=method == "HEAD", extra=[*cors, (b"vary", b"origin")]
            )
        elif method == "OPTIONS":
            await _respond(send, 204, b"", extra=cors)
        else:
            await _respond(
                send,
                405,
                _error_body(RPC_INVALID_REQUEST, f"HTTP {method} is not served: POST JSON-RPC requests"),
                extra=[*cors, (b"allow", b"POST, GET, HEAD, OPTIONS")],
            )

    def close(self) -> None:
        """Stop the worker threads once the requests they run are answered."""
        self._executor.shutdown(wait=True)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        # The chain's life belongs to whoever opened it (the CLI, the API): nothing to start here.
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _describe(self) -> bytes:
        chain = self.dispatcher.chain
        info = {
            "chain": chain.name,
            "chainId": chain.chain_id,
            "blockNumber": chain.block_number,
            "usage": "POST JSON-RPC 2.0 requests (or batches) to this URL",
        }
        return json.dumps(info).encode()

    async def _post(
        self, scope: Scope, receive: Receive, send: Send, cors: list[tuple[bytes, bytes]]
    ) -> None:
        too_large = _error_body(
            RPC_INVALID_REQUEST,
            f"request body larger than {self.max_body_bytes} bytes; send smaller batches",
        )
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await _respond(send, 413, too_large, extra=cors)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await _respond(send, 413, too_large, extra=cors)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        answer = await self._answer(b"".join(chunks))
        if answer is None:
            await _respond(send, 204, b"", extra=cors)
        else:
            await _respond(send, 200, answer, extra=cors)

    async def _answer(self, body: bytes) -> bytes | None:
        """The encoded response to a request body, or None when only notifications were sent."""
        try:
            request = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            return json.dumps(parse_error(exc), separators=_COMPACT).encode()
        if self._quick(request):
            chain = self.dispatcher.chain
            chain.request_started()
            try:
                response = self.dispatcher.handle(request)
            finally:
                chain.request_finished()
        else:
            loop = asyncio.get_running_loop()
            response = await loop.run_in_executor(self._executor, self.dispatcher.handle, request)
        return None if response is None else json.dumps(response, separators=_COMPACT).encode()

    def _quick(self, request: Any) -> bool:
        """True if every request of ``request`` answers at once (see `QUICK_METHODS`)."""
        items = request if isinstance(request, list) else [request]
        chain = self.dispatcher.chain
        for item in items:
            if not isinstance(item, dict):
                continue  # answered with an error at once
            method = item.get("method")
            if method == _RECEIPT:
                quick = _receipt_is_ready(chain, item.get("params"))
            elif method == "eth_sendRawTransaction":
                quick = chain.sealing != "instant"
            else:
                quick = method in QUICK_METHODS
            if not quick:
                return False
        return True


def _receipt_is_ready(chain: Any, params: Any) -> bool:
    """False when the receipt asked for may wait: its transaction is still in the pool."""
    try:
        tx_hash = parse_data(params[0], "transaction hash", 32)
    except Exception:
        return True  # malformed: the dispatcher answers with a parameter error at once
    return chain.pending_transaction(tx_hash) is None


def _cors_headers(scope: Scope, *, preflight: bool) -> list[tuple[bytes, bytes]]:
    """The CORS headers of the answer: none unless the request names its ``Origin`` (browsers do)."""
    if _header(scope, b"origin") is None:
        return []
    return _PREFLIGHT_HEADERS if preflight else _ALLOW_ANY_ORIGIN


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _error_body(code: int, message: str) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}}).encode()


async def _respond(
    send: Send,
    status: int,
    body: bytes,
    *,
    head_only: bool = False,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = list(extra or ())
    if status != 204:
        headers += [_JSON, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head_only or status == 204 else body})
