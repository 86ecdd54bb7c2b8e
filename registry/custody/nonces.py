"""Nonces per sender on one chain, so that concurrent callers never sign two transactions alike.

web3.py keeps no nonce counter (it asks the node each time), so two threads sending from one key
would both get nonce 7. A `NonceBook` keeps each sender's next nonce and a lock per sender:
`NonceBook.reserve` holds the lock while one transaction is signed and submitted, and the nonce
advances only when the caller `NonceSlot.commit`\\ s, i.e. when the node accepted the
transaction. A refused submission thus leaves no gap: the next transaction takes the same nonce.
Different senders never wait for each other.

The counter is read from the chain (``eth_getTransactionCount(sender, "pending")``) on first use
and again after anything that may have moved the chain's count without us: a refused or
unanswered submission, a transaction that did not land, a rollback (`resync` with ``reason``).
When the chain's count is *below* ours (a permissioned rollback dropped our transactions, or the
node dropped them from its pool) the book says so in a warning and continues from the chain's
count, so later transactions do not queue forever behind a gap.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from eth_typing import ChecksumAddress

logger = logging.getLogger(__name__)


@dataclass
class _SenderState:
    lock: threading.Lock = field(default_factory=threading.Lock)
    next: int | None = None
    stale: str | None = None
    """Why the counter must be read from the chain again before its next use (None: it is current)."""


class NonceSlot:
    """One reserved nonce, valid while the `NonceBook.reserve` block runs."""

    def __init__(self, book: NonceBook, sender: ChecksumAddress, state: _SenderState) -> None:
        self._book = book
        self._state = state
        self.sender = sender
        """The sender the nonce is for."""
        assert state.next is not None
        self.nonce: int = state.next
        """The nonce to sign with."""
        self.committed = False
        """True once the transaction with this nonce was accepted by the node."""

    def commit(self) -> None:
        """The node accepted the transaction: the sender's next nonce is this one plus one."""
        self.committed = True

    def refresh(self, reason: str) -> int:
        """Read the sender's count from the chain again now (e.g. after "nonce too low"); returns it."""
        self._book._sync(self.sender, self._state, reason)
        assert self._state.next is not None
        self.nonce = self._state.next
        return self.nonce


class NonceBook:
    """The next nonce of each sender of one chain; ``fetch(sender)`` reads the chain's pending count."""

    def __init__(self, fetch: Callable[[ChecksumAddress], int], *, chain: str | None = None) -> None:
        self._fetch = fetch
        self._where = f" on the {chain} chain" if chain else ""
        self._states: dict[ChecksumAddress, _SenderState] = {}
        self._lock = threading.Lock()

    def _state(self, sender: ChecksumAddress) -> _SenderState:
        with self._lock:
            return self._state_unlocked(sender)

    @contextmanager
    def reserve(self, sender: ChecksumAddress) -> Iterator[NonceSlot]:
        """Hold ``sender``'s next nonce while the block signs and submits one transaction.

        Call ``slot.commit()`` once the node accepted it; otherwise the nonce is not used up.
        """
        state = self._state(sender)
        with state.lock:
            if state.next is None or state.stale is not None:
                self._sync(sender, state, state.stale or "first use")
            slot = NonceSlot(self, sender, state)
            yield slot
            if slot.committed:
                state.next = slot.nonce + 1

    def resync(self, sender: ChecksumAddress | None = None, *, reason: str) -> None:
        """Read ``sender``'s count (every sender's if None) from the chain before its next use."""
        with self._lock:
            states = list(self._states.values()) if sender is None else [self._state_unlocked(sender)]
        for state in states:
            # A plain assignment: the holder of the sender's lock, if any, sees it at the next reserve.
            state.stale = reason

    def _state_unlocked(self, sender: ChecksumAddress) -> _SenderState:
        state = self._states.get(sender)
        if state is None:
            state = self._states[sender] = _SenderState()
        return state

    def observe(self, sender: ChecksumAddress, nonce: int) -> None:
        """The node accepted a transaction of ``sender`` with ``nonce`` signed elsewhere (by a client)."""
        state = self._state(sender)
        with state.lock:
            if state.next is None:
                return
            if nonce >= state.next:
                state.next = nonce + 1
            else:
                state.stale = (
                    f"a transaction signed elsewhere used nonce {nonce}, below the next {state.next}"
                )

    def peek(self, sender: ChecksumAddress) -> int | None:
        """The next nonce the book would give ``sender`` without reading the chain (None: unknown)."""
        state = self._state(sender)
        with state.lock:
            return None if state.stale is not None else state.next

    def suggest(self, sender: ChecksumAddress) -> int:
        """A nonce for a transaction someone else signs: the chain's pending count, or the book's next
        nonce if this process has sent beyond it. Reserves nothing."""
        chain_next = self._fetch(sender)
        known = self.peek(sender)
        return chain_next if known is None else max(chain_next, known)

    def _sync(self, sender: ChecksumAddress, state: _SenderState, reason: str) -> None:
        """Set ``state.next`` from the chain; the caller holds ``state.lock``."""
        chain_next = int(self._fetch(sender))
        previous = state.next
        if previous is not None and chain_next < previous:
            logger.warning(
                "the nonce of %s%s went down from %d to %d (%s): transactions with nonces "
                "%d to %d were dropped or rolled back, and any of them not yet reported is reported as not "
                "landed; continuing at %d",
                sender,
                self._where,
                previous,
                chain_next,
                reason,
                chain_next,
                previous - 1,
                chain_next,
            )
        elif previous is not None and chain_next > previous:
            logger.info(
                "the nonce of %s%s moved from %d to %d (%s): another client sent with this key",
                sender,
                self._where,
                previous,
                chain_next,
                reason,
            )
        state.next = chain_next
        state.stale = None
