"""A web3.py provider answering from an embedded chain in the same process: ``Web3(EmbeddedProvider(chain))``.

Requests go through the same `RpcDispatcher` as HTTP, after a JSON round trip of the
parameters, so that in process and over the network a client gets exactly the same
answers; only the socket is skipped.
"""

from __future__ import annotations

import itertools
import json
from typing import Any, cast

from web3 import Web3
from web3._utils.encoding import Web3JsonEncoder
from web3.providers.base import BaseProvider
from web3.types import RPCEndpoint, RPCResponse

from registry.chain.node.chain import EmbeddedChain
from registry.chain.rpc import serializers as ser
from registry.chain.rpc.dispatcher import RpcDispatcher


class EmbeddedProvider(BaseProvider):
    """web3.py provider for an `EmbeddedChain` (or any `RpcDispatcher`)."""

    def __init__(self, chain: EmbeddedChain | RpcDispatcher) -> None:
        super().__init__()
        self.dispatcher = chain if isinstance(chain, RpcDispatcher) else RpcDispatcher(chain)
        """The dispatcher answering the requests."""
        self._ids = itertools.count()

    @property
    def chain(self) -> EmbeddedChain:
        """The chain this provider answers from."""
        return self.dispatcher.chain

    def _request(self, method: str, params: Any) -> dict[str, Any]:
        # The JSON round trip turns web3's Python values (bytes, HexBytes, ints) into the
        # wire format a remote client would send.
        wire_params = json.loads(json.dumps(params if params is not None else [], cls=Web3JsonEncoder))
        return {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": wire_params}

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        """Answer one request.

        ``eth_chainId`` without parameters is answered here, with what the dispatcher would answer: a
        chain's id never changes, and web3.py asks it before every ``eth_call``, ``eth_estimateGas``
        and ``eth_sendTransaction`` to check the transaction's ``chainId``.
        """
        if method == "eth_chainId" and not params:
            return cast(
                RPCResponse,
                {"jsonrpc": "2.0", "id": next(self._ids), "result": ser.quantity(self.chain.chain_id)},
            )
        return cast(RPCResponse, self.dispatcher.handle(self._request(method, params)))

    def make_batch_request(self, requests: list[tuple[RPCEndpoint, Any]]) -> list[RPCResponse] | RPCResponse:
        """Answer a batch (``w3.batch_requests()``)."""
        batch = [self._request(method, params) for method, params in requests]
        return cast(list[RPCResponse], self.dispatcher.handle(batch))

    def is_connected(self, show_traceback: bool = False) -> bool:
        """True while the chain is open."""
        return not self.chain.closed


def adapt_to_long_extra_data(w3: Web3) -> Web3:
    """Let web3.py read blocks whose ``extraData`` exceeds 32 bytes (validators and seals).

    web3.py refuses such blocks unless its proof-of-authority middleware moves the field to
    ``proofOfAuthorityData``; the middleware is added only when the chain needs it, so
    other chains keep their usual block shape.
    """
    from web3.middleware import ExtraDataToPOAMiddleware

    response = w3.provider.make_request(RPCEndpoint("eth_getBlockByNumber"), ["latest", False])
    block = response.get("result") or {}
    extra_data = block.get("extraData") or "0x"
    if len(extra_data) > 2 + 2 * 32:
        w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    return w3
