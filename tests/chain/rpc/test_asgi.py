"""The JSON-RPC ASGI app: what HTTP clients get back, standalone and mounted in a larger app."""

from __future__ import annotations

import http.client
import json
import threading
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from eth_account import Account

from registry.chain.node.chain import EmbeddedChain
from registry.chain.node.modes import PermissionlessMode
from registry.chain.rpc.asgi import RpcApp
from registry.chain.rpc.dispatcher import RpcDispatcher
from registry.chain.rpc.server import RpcServerThread

from ..conftest import PERMISSIONLESS_CHAIN_ID, sign


class Client:
    """One keep-alive HTTP connection to a URL (with a path prefix when the app is mounted)."""

    def __init__(self, url: str, timeout: float = 10) -> None:
        parts = urllib.parse.urlsplit(url)
        self.path = parts.path or "/"
        self.connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)

    def send(
        self, method: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        self.connection.request(method, self.path, body=body, headers=headers or {})
        response = self.connection.getresponse()
        return response.status, response.headers, response.read()

    def post(self, payload: Any) -> tuple[int, bytes]:
        status, _headers, body = self.send(
            "POST", json.dumps(payload).encode(), {"Content-Type": "application/json"}
        )
        return status, body

    def close(self) -> None:
        self.connection.close()


@pytest.fixture
def served(instant_chain: EmbeddedChain) -> Iterator[Client]:
    with RpcServerThread(RpcDispatcher(instant_chain)) as server:
        client = Client(server.url)
        yield client
        client.close()


def test_a_notification_gets_204_and_no_body(served: Client) -> None:
    status, body = served.post({"jsonrpc": "2.0", "method": "eth_blockNumber", "params": []})
    assert (status, body) == (204, b"")


def test_a_batch_of_notifications_gets_204_and_a_mixed_batch_only_the_answers(served: Client) -> None:
    notification = {"jsonrpc": "2.0", "method": "eth_chainId"}
    assert served.post([notification, notification]) == (204, b"")
    status, body = served.post([notification, {"jsonrpc": "2.0", "id": "a", "method": "eth_chainId"}])
    assert status == 200
    assert json.loads(body) == [{"jsonrpc": "2.0", "id": "a", "result": hex(PERMISSIONLESS_CHAIN_ID)}]


def test_bad_json_gets_the_json_rpc_parse_error(served: Client) -> None:
    status, _headers, body = served.send("POST", b'{"jsonrpc": "2.0", "id": 1,', {})
    answer = json.loads(body)
    assert status == 200
    assert answer["id"] is None
    assert answer["error"]["code"] == -32700


def test_an_empty_batch_and_a_non_object_are_invalid_requests(served: Client) -> None:
    _, body = served.post([])
    assert json.loads(body)["error"]["code"] == -32600
    _, body = served.post([7])
    assert json.loads(body)[0]["error"]["code"] == -32600


def test_a_body_over_the_limit_is_refused_with_413_and_a_json_rpc_error(instant_chain: EmbeddedChain) -> None:
    with RpcServerThread(RpcApp(RpcDispatcher(instant_chain), max_body_bytes=1_000)) as server:
        client = Client(server.url)
        request = {"jsonrpc": "2.0", "id": 1, "method": "web3_sha3", "params": ["0x" + "ab" * 600]}
        status, body = client.post(request)
        assert status == 413
        assert json.loads(body)["error"]["code"] == -32600
        assert "1000 bytes" in json.loads(body)["error"]["message"]
        client.close()
        # Without a Content-Length (chunked), the limit holds as the body streams in.
        chunked = Client(server.url)
        chunked.connection.putrequest("POST", "/")
        chunked.connection.putheader("Transfer-Encoding", "chunked")
        chunked.connection.endheaders()
        for _ in range(3):
            chunk = b" " * 600
            chunked.connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        chunked.connection.send(b"0\r\n\r\n")
        response = chunked.connection.getresponse()
        assert response.status == 413
        chunked.close()
        # A body within the limit is answered.
        small = Client(server.url)
        assert small.post({"jsonrpc": "2.0", "id": 2, "method": "eth_chainId"})[0] == 200
        small.close()


def test_other_http_methods_get_405_with_the_allowed_ones(served: Client) -> None:
    status, headers, body = served.send("PUT", b"{}")
    assert status == 405
    assert "POST" in headers["Allow"]
    assert json.loads(body)["error"]["code"] == -32600


def test_head_describes_without_a_body(served: Client) -> None:
    status, headers, body = served.send("HEAD")
    assert status == 200
    assert body == b""
    assert headers["Content-Type"] == "application/json"


def test_the_same_app_answers_when_mounted_under_a_prefix(instant_chain: EmbeddedChain) -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount, Route

    rpc = RpcApp(RpcDispatcher(instant_chain))
    prefix = "/chains/permissionless/rpc"
    # Mount alone would answer the bare prefix with a redirect; the Route serves it as is.
    outer = Starlette(routes=[Route(prefix, endpoint=rpc), Mount(prefix, app=rpc)])
    try:
        with RpcServerThread(outer) as server:
            for path in (prefix, prefix + "/"):
                client = Client(server.url + path)
                status, body = client.post({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"})
                assert (status, json.loads(body)["result"]) == (200, hex(PERMISSIONLESS_CHAIN_ID))
                assert client.post({"jsonrpc": "2.0", "method": "eth_chainId"}) == (204, b"")
                status, headers, _ = client.send("OPTIONS", headers={"Origin": "http://wallet.example"})
                assert (status, headers["Access-Control-Allow-Origin"]) == (204, "*")
                status, _, body = client.send("GET")
                assert json.loads(body)["chainId"] == PERMISSIONLESS_CHAIN_ID
                client.close()
    finally:
        rpc.close()


class _ReportingDispatcher(RpcDispatcher):
    """A dispatcher that says when it starts answering a receipt request."""

    def __init__(self, chain: EmbeddedChain) -> None:
        super().__init__(chain)
        self.receipt_asked = threading.Event()

    def handle(self, request: Any) -> Any:
        if isinstance(request, dict) and request.get("method") == "eth_getTransactionReceipt":
            self.receipt_asked.set()
        return super().handle(request)


def call(client: Client, method: str, *params: Any) -> Any:
    """The result of one JSON-RPC call (fails the test on an error)."""
    status, body = client.post({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
    answer = json.loads(body)
    assert status == 200 and "error" not in answer, answer
    return answer["result"]


def test_a_receipt_that_waits_for_its_block_does_not_hold_up_other_requests(tmp_path) -> None:
    chain = EmbeddedChain.open(
        PermissionlessMode(),
        data_dir=tmp_path / "chain",
        chain_id=PERMISSIONLESS_CHAIN_ID,
        sealing="background",
        receipt_wait=60,
    )
    # A listener that holds the builder after each block it seals, until released.
    release = threading.Event()

    def hold(_event: object) -> None:
        release.wait(60)

    unsubscribe = chain.subscribe(hold)
    dispatcher = _ReportingDispatcher(chain)
    sender = chain.dev_accounts[0].account
    recipient = Account.create().address
    try:
        with RpcServerThread(dispatcher) as server:
            first, second = Client(server.url, timeout=60), Client(server.url, timeout=10)
            # Block 1 is sealed; the builder then waits in the listener, so the next
            # transaction stays in the pool.
            sealed = call(first, "eth_sendRawTransaction", "0x" + sign(sender, nonce=0, to=recipient).hex())
            assert call(first, "eth_getTransactionReceipt", sealed)["blockNumber"] == "0x1"
            pooled = call(first, "eth_sendRawTransaction", "0x" + sign(sender, nonce=1, to=recipient).hex())
            dispatcher.receipt_asked.clear()
            answers: dict[str, Any] = {}
            waiting = threading.Thread(
                target=lambda: answers.update(receipt=call(first, "eth_getTransactionReceipt", pooled))
            )
            waiting.start()
            assert dispatcher.receipt_asked.wait(30)
            # While that receipt waits for a block that cannot come yet, others are served.
            assert call(second, "eth_blockNumber") == "0x1"
            assert "receipt" not in answers
            release.set()
            waiting.join(60)
            assert answers["receipt"]["transactionHash"] == pooled
            assert answers["receipt"]["blockNumber"] == "0x2"
            first.close()
            second.close()
    finally:
        release.set()
        unsubscribe()
        chain.close()
