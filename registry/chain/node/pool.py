"""The transaction pool: transactions accepted but not yet in a block.

Each sender has a queue keyed by nonce. A transaction is *ready* when every nonce
between the sender's account nonce and its own is in the queue; the block builder takes
the ready ones, each sender's in nonce order, senders interleaved by arrival. A
transaction whose predecessor is missing waits (as in geth's queue) until the gap is
filled. Sending a second transaction with the same sender and nonce replaces the first
if it pays a strictly higher fee.

The pool is not thread-safe by itself: the chain calls it under its lock.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass

from eth.abc import SignedTransactionAPI

from registry.chain.errors import NonceError, TransactionRejectedError

MAX_NONCE_GAP = 1_000
"""How far ahead of the account nonce a transaction may be queued."""


@dataclass(frozen=True)
class PoolEntry:
    """A pooled transaction with its arrival order."""

    tx: SignedTransactionAPI
    sender: bytes
    sequence: int


def _fee(tx: SignedTransactionAPI) -> int:
    return int(tx.max_fee_per_gas)


class TransactionPool:
    """Pending transactions by sender and nonce."""

    def __init__(self) -> None:
        self._by_sender: dict[bytes, dict[int, PoolEntry]] = {}
        self._by_hash: dict[bytes, PoolEntry] = {}
        self._sequence = itertools.count()

    def __len__(self) -> int:
        return len(self._by_hash)

    def __contains__(self, tx_hash: object) -> bool:
        return tx_hash in self._by_hash

    def get(self, tx_hash: bytes) -> SignedTransactionAPI | None:
        """The pooled transaction with this hash, or None."""
        entry = self._by_hash.get(tx_hash)
        return None if entry is None else entry.tx

    def add(self, tx: SignedTransactionAPI, account_nonce: int) -> SignedTransactionAPI | None:
        """Add ``tx``; return the transaction it replaced, if any.

        ``account_nonce`` is the sender's nonce in the head state.

        Raises:
            NonceError: the nonce is already used or too far ahead.
            TransactionRejectedError: already pooled, or a replacement that does not pay more.
        """
        sender = bytes(tx.sender)
        if tx.hash in self._by_hash:
            raise TransactionRejectedError(f"transaction 0x{tx.hash.hex()} is already known (pending)")
        if tx.nonce < account_nonce:
            raise NonceError(
                f"nonce too low: transaction 0x{tx.hash.hex()} from 0x{sender.hex()} has nonce {tx.nonce}, "
                f"the account's next nonce is {account_nonce}"
            )
        if tx.nonce > account_nonce + MAX_NONCE_GAP:
            raise NonceError(
                f"nonce too high: transaction 0x{tx.hash.hex()} from 0x{sender.hex()} has nonce {tx.nonce}, "
                f"more than {MAX_NONCE_GAP} above the account's next nonce {account_nonce}"
            )
        queue = self._by_sender.setdefault(sender, {})
        previous = queue.get(tx.nonce)
        if previous is not None and _fee(tx) <= _fee(previous.tx):
            raise TransactionRejectedError(
                f"replacement transaction underpriced: 0x{previous.tx.hash.hex()} already uses nonce "
                f"{tx.nonce} of 0x{sender.hex()}; a replacement must pay a higher max fee per gas"
            )
        entry = PoolEntry(tx=tx, sender=sender, sequence=next(self._sequence))
        queue[tx.nonce] = entry
        self._by_hash[tx.hash] = entry
        if previous is not None:
            del self._by_hash[previous.tx.hash]
            return previous.tx
        return None

    def pending_nonce(self, sender: bytes, account_nonce: int) -> int:
        """The nonce the sender's next transaction should use, counting ready pooled ones."""
        queue = self._by_sender.get(sender)
        nonce = account_nonce
        if queue:
            while nonce in queue:
                nonce += 1
        return nonce

    def ready(self, account_nonce: Callable[[bytes], int]) -> list[SignedTransactionAPI]:
        """Every ready transaction: each sender's contiguous run from its account nonce, in nonce order,
        senders interleaved by arrival."""
        runs: list[list[PoolEntry]] = []
        for sender, queue in self._by_sender.items():
            nonce = account_nonce(sender)
            run = []
            while nonce in queue:
                run.append(queue[nonce])
                nonce += 1
            if run:
                runs.append(run)
        if len(runs) == 1:
            return [entry.tx for entry in runs[0]]
        # Merge the runs by arrival of each run's next transaction: a fair interleaving that
        # never reorders a sender's nonces.
        heap = [(run[0].sequence, index, 0) for index, run in enumerate(runs)]
        heapq.heapify(heap)
        ordered: list[SignedTransactionAPI] = []
        while heap:
            _, index, position = heapq.heappop(heap)
            run = runs[index]
            ordered.append(run[position].tx)
            if position + 1 < len(run):
                heapq.heappush(heap, (run[position + 1].sequence, index, position + 1))
        return ordered

    def split(
        self, account_nonce: Callable[[bytes], int]
    ) -> tuple[list[SignedTransactionAPI], list[SignedTransactionAPI]]:
        """(ready, waiting): each sender's contiguous run from its account nonce, and the transactions
        behind a missing nonce, each in nonce order, senders in arrival order."""
        ready: list[SignedTransactionAPI] = []
        waiting: list[SignedTransactionAPI] = []
        for sender, queue in self._by_sender.items():
            expected = account_nonce(sender)
            for nonce in sorted(queue):
                if nonce < expected:
                    continue  # already mined; dropped with the next block
                if nonce == expected:
                    ready.append(queue[nonce].tx)
                    expected += 1
                else:
                    waiting.append(queue[nonce].tx)
        return ready, waiting

    def remove(self, tx_hash: bytes) -> None:
        """Forget the transaction with this hash (no error if absent)."""
        entry = self._by_hash.pop(tx_hash, None)
        if entry is None:
            return
        queue = self._by_sender.get(entry.sender)
        if queue is not None and queue.get(entry.tx.nonce) is entry:
            del queue[entry.tx.nonce]
            if not queue:
                del self._by_sender[entry.sender]

    def drop_stale(self, account_nonce: Callable[[bytes], int]) -> list[SignedTransactionAPI]:
        """Remove and return transactions whose nonce is below their sender's account nonce."""
        stale: list[SignedTransactionAPI] = []
        for sender in list(self._by_sender):
            nonce = account_nonce(sender)
            stale.extend(entry.tx for n, entry in self._by_sender[sender].items() if n < nonce)
        for tx in stale:
            self.remove(tx.hash)
        return stale

    def senders(self) -> list[bytes]:
        """Senders with at least one pooled transaction."""
        return list(self._by_sender)

    def clear(self) -> list[SignedTransactionAPI]:
        """Empty the pool and return what it held."""
        held = [entry.tx for entry in self._by_hash.values()]
        self._by_sender.clear()
        self._by_hash.clear()
        return held
