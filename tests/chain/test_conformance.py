"""The conformance suite against the embedded permissionless chain (in process and over HTTP) and anvil.

The permissioned chain's run lives in test_permissioned_conformance.py (a subclass of
`ChainConformance` providing its own ``conformance_target``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from web3 import Web3
from web3.types import RPCEndpoint

from registry.chain.node.chain import EmbeddedChain
from registry.chain.rpc.dispatcher import RpcDispatcher
from registry.chain.rpc.provider import EmbeddedProvider
from registry.chain.rpc.server import RpcServerThread

from .conformance import ChainConformance, ConformanceTarget
from .conftest import AnvilNode, derived_keys


class TestEmbeddedPermissionless(ChainConformance):
    """The embedded permissionless chain through the in-process provider."""

    @pytest.fixture
    def conformance_target(self, permissionless_chain: EmbeddedChain) -> ConformanceTarget:
        w3 = Web3(EmbeddedProvider(permissionless_chain))
        accounts = [account.account for account in permissionless_chain.dev_accounts[:4]]
        return ConformanceTarget(name="embedded-permissionless", w3=w3, accounts=accounts)


class TestEmbeddedPermissionlessOverHttp(ChainConformance):
    """The same chain served over HTTP, read with web3's HTTPProvider."""

    @pytest.fixture
    def conformance_target(self, permissionless_chain: EmbeddedChain) -> Iterator[ConformanceTarget]:
        with RpcServerThread(RpcDispatcher(permissionless_chain)) as server:
            w3 = Web3(Web3.HTTPProvider(server.url, request_kwargs={"timeout": 30}))
            accounts = [account.account for account in permissionless_chain.dev_accounts[:4]]
            yield ConformanceTarget(name="embedded-permissionless-http", w3=w3, accounts=accounts)


class TestAnvil(ChainConformance):
    """anvil, as the reference node."""

    @pytest.fixture
    def conformance_target(self, anvil_node: AnvilNode) -> ConformanceTarget:
        w3 = anvil_node.w3()
        accounts = derived_keys("anvil conformance", 4)
        for account in accounts:
            w3.provider.make_request(RPCEndpoint("anvil_setBalance"), [account.address, hex(10**24)])
        return ConformanceTarget(name="anvil", w3=w3, accounts=accounts)
