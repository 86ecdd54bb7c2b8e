"""What a chain tells its subscribers: a new canonical block, or a rollback.

Subscribers (the index, the dashboard) register with ``EmbeddedChain.subscribe`` and
receive every event in order, on the thread that sealed or rewound the chain. A
callback must be quick; one that raises is logged and kept.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NewBlock:
    """A block became the canonical head."""

    number: int
    hash: bytes
    transaction_hashes: tuple[bytes, ...]


@dataclass(frozen=True)
class Rollback:
    """The chain was rolled back: every block from ``first_changed_block`` on may differ now.

    Published by the permissioned mode right after it rewound the chain, before the
    replayed blocks' `NewBlock` events: a follower drops what it holds from
    ``first_changed_block`` on, then follows the new blocks as usual.
    """

    first_changed_block: int
    new_head_number: int
    new_head_hash: bytes


@dataclass(frozen=True)
class Refusal:
    """The chain refused a sender (or a transaction a rollback excluded) at submission or gas estimate.

    Not a `ChainEvent`: nothing changed on the chain. Watchers (``EmbeddedChain.watch_refusals``, the
    activity stream) learn who was refused and why, in the chain's own words.
    """

    sender: bytes
    tx_hash: bytes | None
    """None when refused at a gas estimate (nothing was signed yet)."""
    error: Exception
    """The refusal: a ``SenderNotPermittedError`` subclass or ``TransactionExcludedError``."""


ChainEvent = NewBlock | Rollback
"""Any event a chain publishes."""

ChainListener = Callable[[ChainEvent], None]
"""A subscriber's callback."""


class Subscribers:
    """A thread-safe list of listeners that each receive every published event."""

    def __init__(self) -> None:
        self._listeners: list[ChainListener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: ChainListener) -> Callable[[], None]:
        """Add ``listener``; return a function that removes it again."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def publish(self, event: ChainEvent) -> None:
        """Call every listener with ``event``; a failing listener is logged, not removed."""
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:
                # One broken subscriber must not stop the chain or starve the others.
                logger.exception("chain listener %r failed on %r", listener, event)

    def __len__(self) -> int:
        return len(self._listeners)
