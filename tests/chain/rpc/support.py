"""Sending one JSON-RPC request to a dispatcher and reading its answer, for the tests."""

from __future__ import annotations

from typing import Any

from registry.chain.rpc.dispatcher import RpcDispatcher


def request(rpc: RpcDispatcher, method: str, *params: Any, request_id: Any = 1) -> Any:
    """The whole response to ``method(*params)``."""
    return rpc.handle({"jsonrpc": "2.0", "id": request_id, "method": method, "params": list(params)})


def result(rpc: RpcDispatcher, method: str, *params: Any) -> Any:
    """The result of ``method(*params)``, which must not fail."""
    response = request(rpc, method, *params)
    assert "error" not in response, response
    return response["result"]


def error(rpc: RpcDispatcher, method: str, *params: Any) -> Any:
    """The error object of ``method(*params)``, which must fail."""
    response = request(rpc, method, *params)
    assert "error" in response, response
    return response["error"]
