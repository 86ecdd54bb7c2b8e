"""Serve a chain's JSON-RPC over HTTP for any Ethereum client (web3.py, ethers, cast, a wallet).

POST a JSON-RPC request or batch to ``/``. CORS is open (any origin, the headers
browsers send with JSON), so a wallet or a page served from elsewhere can call it.
Each connection is served on its own thread; the chain's lock keeps answers consistent.
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

from registry.chain.rpc.dispatcher import RpcDispatcher

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 16 * 1024 * 1024
"""Largest request body accepted (a batch of big deployments fits)."""

_CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, GET, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Authorization, X-Requested-With",
    "Access-Control-Max-Age": "86400",
}


class _RpcHandler(BaseHTTPRequestHandler):
    """One HTTP exchange; the dispatcher is set on the server."""

    server: RpcHTTPServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm on, a keep-alive client
    # waits for the delayed ACK (about 40 ms) on every request.
    disable_nagle_algorithm = True
    error_content_type = "application/json"
    _quiet: ClassVar[bool] = True

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        for name, value in _CORS_HEADERS.items():
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_OPTIONS(self) -> None:
        """CORS preflight."""
        self._send(204, b"")

    def do_GET(self) -> None:
        """A short description for people who open the URL in a browser."""
        chain = self.server.dispatcher.chain
        info = {
            "chain": chain.name,
            "chainId": chain.chain_id,
            "blockNumber": chain.block_number,
            "usage": "POST JSON-RPC 2.0 requests (or batches) to this URL",
        }
        self._send(200, json.dumps(info).encode())

    def do_POST(self) -> None:
        """Answer a JSON-RPC request or batch."""
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._send(
                413, json.dumps({"error": f"request body larger than {MAX_BODY_BYTES} bytes"}).encode()
            )
            return
        body = self.rfile.read(length)
        answer = self.server.dispatcher.handle_bytes(body)
        self._send(200, answer if answer is not None else b"")

    def log_message(self, format: str, *args: Any) -> None:
        """Log requests at debug level instead of printing each to stderr."""
        logger.debug("%s %s", self.address_string(), format % args)


class RpcHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server bound to one dispatcher."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], dispatcher: RpcDispatcher) -> None:
        self.dispatcher = dispatcher
        """Answers every request."""
        super().__init__(address, _RpcHandler)

    @property
    def url(self) -> str:
        """The URL clients use."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class RpcServerThread:
    """An `RpcHTTPServer` running on a background thread (for tests and the API server)."""

    def __init__(self, dispatcher: RpcDispatcher, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server = RpcHTTPServer((host, port), dispatcher)
        """The HTTP server; port 0 picks a free port."""
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name="rpc-http", daemon=True
        )

    @property
    def url(self) -> str:
        """The URL clients use."""
        return self.server.url

    def start(self) -> RpcServerThread:
        """Start serving; return self."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()

    def __enter__(self) -> RpcServerThread:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
