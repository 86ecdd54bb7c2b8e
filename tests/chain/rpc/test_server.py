"""JSON-RPC over HTTP: CORS for browser wallets, batches, and a readable GET."""

from __future__ import annotations

import json
import socket
import urllib.request

import pytest

from registry.chain.rpc.dispatcher import RpcDispatcher
from registry.chain.rpc.server import RpcServerThread, listen, url_of


@pytest.fixture
def server(instant_chain):
    with RpcServerThread(RpcDispatcher(instant_chain)) as running:
        yield running


def post(url, payload, headers=None):
    body = json.dumps(payload).encode()
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json", **(headers or {})}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.headers, json.loads(response.read())


def test_preflight_allows_any_origin_to_post_json(server):
    request = urllib.request.Request(
        server.url,
        method="OPTIONS",
        headers={
            "Origin": "http://wallet.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
        assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]


def test_post_answers_with_cors_headers(server, instant_chain):
    status, headers, body = post(
        server.url, {"jsonrpc": "2.0", "id": 7, "method": "eth_chainId"}, {"Origin": "http://page.example"}
    )
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert body == {"jsonrpc": "2.0", "id": 7, "result": hex(instant_chain.chain_id)}


def test_post_without_origin_gets_no_cors_headers(server, instant_chain):
    # Only browsers send Origin; other clients parse every header of every answer.
    status, headers, body = post(server.url, {"jsonrpc": "2.0", "id": 8, "method": "eth_chainId"})
    assert status == 200
    assert body == {"jsonrpc": "2.0", "id": 8, "result": hex(instant_chain.chain_id)}
    assert not [name for name in headers if name.lower().startswith("access-control-")]
    assert headers["Content-Type"] == "application/json"


def test_get_varies_by_origin(server):
    request = urllib.request.Request(server.url, headers={"Origin": "http://page.example"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert response.headers["Vary"] == "origin"
    with urllib.request.urlopen(server.url, timeout=10) as response:
        assert response.headers["Access-Control-Allow-Origin"] is None


def test_batch_over_http(server):
    _, _, body = post(
        server.url,
        [
            {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []},
            {"jsonrpc": "2.0", "id": 2, "method": "net_version", "params": []},
        ],
    )
    assert [item["id"] for item in body] == [1, 2]


def test_get_describes_the_endpoint(server, instant_chain):
    with urllib.request.urlopen(server.url, timeout=10) as response:
        info = json.loads(response.read())
    assert info["chainId"] == instant_chain.chain_id
    assert info["chain"] == "permissionless"


def test_the_listening_socket_says_it_is_tcp_so_that_nagle_is_turned_off():
    # asyncio sets TCP_NODELAY only on sockets whose protocol is TCP; with Nagle's algorithm
    # on, each response would wait for the client's delayed ACK.
    sock = listen("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        assert url_of(sock).startswith("http://127.0.0.1:")
    finally:
        sock.close()


def test_a_taken_port_is_reported_before_serving():
    first = listen("127.0.0.1", 0)
    try:
        with pytest.raises(OSError, match="in use"):
            listen("127.0.0.1", first.getsockname()[1])
    finally:
        first.close()
