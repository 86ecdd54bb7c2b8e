"""The transaction pool as geth and anvil show it: ``txpool_status``, ``txpool_content``, ``txpool_inspect``.

"pending" transactions are ready for the next block (each sender's run of consecutive
nonces from its account nonce); "queued" ones wait behind a missing nonce. Content is
grouped by sender (checksummed, as geth writes it) and then by nonce, written in decimal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from eth.abc import SignedTransactionAPI

from registry.chain.rpc import serializers as ser
from registry.chain.rpc.params import MethodSpec, no_params

if TYPE_CHECKING:
    from registry.chain.node.chain import EmbeddedChain


def _by_sender(
    transactions: Iterable[SignedTransactionAPI], shape: Callable[[SignedTransactionAPI], Any]
) -> dict[str, dict[str, Any]]:
    grouped: dict[str, dict[str, Any]] = {}
    for tx in transactions:
        grouped.setdefault(ser.address(tx.sender), {})[str(tx.nonce)] = shape(tx)
    return grouped


def _summary(tx: SignedTransactionAPI) -> str:
    to = ser.address(tx.to) if tx.to else "contract creation"
    return f"{to}: {tx.value} wei + {tx.gas} gas × {tx.max_fee_per_gas} wei"  # noqa: RUF001 (geth's sign)


class TxPoolMethods:
    """The ``txpool_*`` methods of one chain."""

    def __init__(self, chain: EmbeddedChain) -> None:
        self.chain = chain
        """The chain whose pool is shown."""

    def methods(self) -> dict[str, MethodSpec]:
        """The JSON-RPC methods, by name."""
        return {
            "txpool_status": no_params(self._status),
            "txpool_content": no_params(lambda: self._grouped(ser.transaction)),
            "txpool_inspect": no_params(lambda: self._grouped(_summary)),
        }

    def _status(self) -> dict[str, str]:
        pending, queued = self.chain.pool_content()
        return {"pending": ser.quantity(len(pending)), "queued": ser.quantity(len(queued))}

    def _grouped(self, shape: Callable[[SignedTransactionAPI], Any]) -> dict[str, Any]:
        pending, queued = self.chain.pool_content()
        return {"pending": _by_sender(pending, shape), "queued": _by_sender(queued, shape)}
