"""An external JSON-RPC node (anvil, geth, Besu, an L2...) behind the same `Web3` seam as an embedded chain.

The node does everything a chain does for the registry: transactions, calls, logs.
What only the embedded chains have, interventions and validator votes, answers
`NotSupportedByBackendError`. New blocks are followed by polling, and a change of the
block at a height already seen is reported as a `Rollback`, so an index follows a
reorganisation of the node the same way it follows an embedded rollback.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, cast

from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import Web3Exception

from registry.chain.errors import ChainConnectionError, NotSupportedByBackendError
from registry.chain.events import ChainEvent, ChainListener, NewBlock, Rollback, Subscribers
from registry.chain.names import ChainName
from registry.chain.rpc.provider import adapt_to_long_extra_data

logger = logging.getLogger(__name__)

DEFAULT_POLL_INTERVAL = 0.5
"""Seconds between two looks at the node's head when someone subscribed."""

REMEMBERED_BLOCKS = 256
"""How many recent block hashes are kept to find where a reorganisation starts."""


class ExternalBackend:
    """A chain served by a JSON-RPC node at ``url``."""

    kind = "external"

    def __init__(
        self,
        name: ChainName,
        url: str,
        *,
        timeout: float = 10.0,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> None:
        """Connect to ``url`` and read its chain id.

        Raises:
            ChainConnectionError: the node does not answer like an Ethereum node.
        """
        self.name = name
        """Which of the registry's chains this node stands for."""
        self.url = url
        """The node's JSON-RPC URL."""
        self.w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": timeout}))
        """The seam everything above the chain layer uses."""
        try:
            self.chain_id = int(self.w3.eth.chain_id)
            """The node's chain id."""
            adapt_to_long_extra_data(self.w3)
        except (OSError, Web3Exception, ValueError) as exc:
            raise ChainConnectionError(
                f"cannot reach the {name} chain's JSON-RPC node at {url}: {exc}. Start the node, fix "
                f"REGISTRY_{name.upper()}_RPC_URL, or unset it to use the embedded {name} chain"
            ) from exc
        self._poll_interval = poll_interval
        self._subscribers = Subscribers()
        self._poller: threading.Thread | None = None
        self._stop = threading.Event()
        self._seen: dict[int, bytes] = {}
        self._lock = threading.Lock()

    def describe(self) -> str:
        """One line for people: what this backend is."""
        return f"{self.name} chain: external JSON-RPC node at {self.url} (chain id {self.chain_id})"

    def _unsupported(self, feature: str) -> NotSupportedByBackendError:
        return NotSupportedByBackendError(
            f"{feature} is not supported by this backend: the {self.name} chain is the external node at "
            f"{self.url}, and only the embedded permissioned chain has {feature}. Unset "
            f"REGISTRY_{self.name.upper()}_RPC_URL to use the embedded chain."
        )

    def interventions(self) -> Any:
        """Always refused: an external node offers no interventions through the registry."""
        raise self._unsupported("interventions (rollback, chain-wide freeze)")

    def validator_votes(self) -> Any:
        """Always refused: the node's validator set is managed by the node's own tooling."""
        raise self._unsupported("validator votes")

    # -- following the node ---------------------------------------------------------------------

    def subscribe(self, listener: ChainListener) -> Callable[[], None]:
        """Call ``listener`` with every new block (and reorganisation) the node reports from now on."""
        unsubscribe = self._subscribers.subscribe(listener)
        with self._lock:
            if self._poller is None:
                self._remember_head()
                self._poller = threading.Thread(
                    target=self._poll_loop, name=f"{self.name}-poller", daemon=True
                )
                self._poller.start()
        return unsubscribe

    def _remember_head(self) -> None:
        head = self.w3.eth.get_block("latest")
        self._seen = {int(head["number"]): bytes(head["hash"])}

    def _poll_loop(self) -> None:
        while not self._stop.wait(self._poll_interval):
            try:
                for event in self.poll():
                    self._subscribers.publish(event)
            except (OSError, Web3Exception, ValueError) as exc:
                # A node restarting is not fatal to the follower; try again at the next tick.
                logger.warning("polling the %s chain at %s failed: %s", self.name, self.url, exc)

    def poll(self) -> list[ChainEvent]:
        """Look at the node once and return the events since the last look (also used by tests)."""
        events: list[ChainEvent] = []
        latest = int(self.w3.eth.block_number)
        if self._seen:
            top = max(self._seen)
            check = min(top, latest)
            if latest < top or self._node_hash(check) != self._seen.get(check):
                fork = self._find_fork(check)
                for stale in [n for n in self._seen if n > fork]:
                    del self._seen[stale]
                events.append(
                    Rollback(
                        first_changed_block=fork + 1,
                        new_head_number=fork,
                        new_head_hash=self._seen.get(fork, b""),
                    )
                )
            start = max(self._seen) + 1 if self._seen else 0
        else:
            start = 0
        events.extend(self._blocks_from(start, latest))
        return events

    def _node_hash(self, number: int) -> bytes:
        return bytes(self.w3.eth.get_block(number)["hash"])

    def _find_fork(self, number: int) -> int:
        """The highest remembered height at or below ``number`` whose block the node still has (-1: none)."""
        candidate = number
        while candidate in self._seen:
            if self._node_hash(candidate) == self._seen[candidate]:
                return candidate
            candidate -= 1
        # Below the remembered window nothing can be compared: the rollback starts there.
        return candidate

    def _blocks_from(self, first: int, last: int) -> list[ChainEvent]:
        events: list[ChainEvent] = []
        for number in range(first, last + 1):
            block = self.w3.eth.get_block(number)
            block_hash = bytes(block["hash"])
            self._seen[number] = block_hash
            events.append(
                NewBlock(
                    number=number,
                    hash=block_hash,
                    transaction_hashes=tuple(bytes(cast(HexBytes, tx)) for tx in block["transactions"]),
                )
            )
        for old in [n for n in self._seen if n <= last - REMEMBERED_BLOCKS]:
            del self._seen[old]
        return events

    def close(self) -> None:
        """Stop following the node."""
        self._stop.set()
        if self._poller is not None:
            self._poller.join()
