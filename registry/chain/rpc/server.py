"""Serve a chain's JSON-RPC ASGI app (`registry.chain.rpc.asgi.RpcApp`) with uvicorn.

`listen` binds the socket first, so that a busy port is reported before anything is
printed and port 0 yields the chosen port; `make_server` configures uvicorn (uvloop and
httptools when installed, no access log); `RpcServerThread` runs the app on a background
thread with its own event loop, for tests and for any process that embeds a chain and
wants to serve it too. ``registry node`` runs the same server in the main thread.
"""

from __future__ import annotations

import socket
import threading
import time

import uvicorn

from registry.chain.rpc.asgi import ASGIApp, RpcApp
from registry.chain.rpc.dispatcher import RpcDispatcher

SHUTDOWN_GRACE_SECONDS = 10
"""How long a stopping server lets requests in flight finish (a receipt waits 2 s at most)."""


def listen(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host``:``port`` (0 picks a free port) and listening.

    Raises:
        OSError: the address is taken or not available on this machine.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio turns Nagle's algorithm off only on sockets that say they
    # are TCP, and with it on, each response waits for a delayed ACK (about 40 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    """The URL clients use to reach ``sock``."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in str(host) else str(host)
    return f"http://{shown}:{port}"


def make_server(app: ASGIApp) -> uvicorn.Server:
    """A uvicorn server for ``app``: the fastest event loop and HTTP parser installed, no access log.

    Neither a ``server`` header nor the reading of proxy headers (the node serves its clients
    directly; the client's address is not used): less work on each request, and one header
    less for each client to parse.
    """
    config = uvicorn.Config(
        app,
        loop="auto",
        http="auto",
        ws="none",
        lifespan="on",
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
    )
    return uvicorn.Server(config)


class RpcServerThread:
    """An `RpcApp` (or any ASGI app) served by uvicorn on a background thread.

    ``with RpcServerThread(RpcDispatcher(chain)) as server: ... server.url ...``; for tests,
    and for a process that embeds a chain and serves it too.
    """

    def __init__(self, app: RpcDispatcher | ASGIApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self._owned: RpcApp | None = None
        if isinstance(app, RpcDispatcher):
            self._owned = app = RpcApp(app)
        self.app: ASGIApp = app
        """The ASGI app served."""
        self._socket = listen(host, port)
        self.url = url_of(self._socket)
        """The URL clients use (the socket listens already: early requests wait in its backlog)."""
        self.server = make_server(self.app)
        """The uvicorn server."""
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self._socket]}, name="rpc-http", daemon=True
        )

    def start(self, timeout: float = 30.0) -> RpcServerThread:
        """Start serving and return once uvicorn accepts connections.

        Raises:
            RuntimeError: the server did not start within ``timeout`` seconds.
        """
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the JSON-RPC server for {self.url} did not start")
            self._thread.join(0.005)
        return self

    def stop(self) -> None:
        """Stop serving (requests in flight finish first) and close the socket."""
        self.server.should_exit = True
        if self._thread.is_alive():
            self._thread.join()
        self._socket.close()
        if self._owned is not None:
            self._owned.close()

    def __enter__(self) -> RpcServerThread:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
