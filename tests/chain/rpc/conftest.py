"""Fixtures of the JSON-RPC tests."""

from __future__ import annotations

import pytest

from registry.chain.rpc.dispatcher import RpcDispatcher


@pytest.fixture
def rpc(instant_chain):
    """A dispatcher over a fresh permissionless chain that seals each transaction as it is sent."""
    return RpcDispatcher(instant_chain)
