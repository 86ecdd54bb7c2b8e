"""Move a development chain's clock forward, through the `Web3` seam.

Uses ``evm_increaseTime`` and ``evm_mine``, which the embedded chains and anvil answer,
so demos, tests and benchmarks reach a record date or a maturity on any of them.
"""

from __future__ import annotations

from web3 import Web3
from web3.types import RPCEndpoint


def latest_timestamp(w3: Web3) -> int:
    """Timestamp of the chain's latest block."""
    return int(w3.eth.get_block("latest")["timestamp"])


def advance_to(w3: Web3, timestamp: int) -> int:
    """Mine until the latest block's timestamp is at least ``timestamp``; return that timestamp.

    A burst of blocks can run a chain's clock a little ahead of the wall clock, so this
    moves forward until the head has really reached the target, not by a computed delta once.
    """
    while (delta := timestamp - latest_timestamp(w3)) > 0:
        w3.manager.request_blocking(RPCEndpoint("evm_increaseTime"), [delta])
        w3.manager.request_blocking(RPCEndpoint("evm_mine"), [])
    return latest_timestamp(w3)
