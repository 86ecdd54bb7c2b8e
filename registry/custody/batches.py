"""Batches: many transactions sent pipelined, chunked to fit a block, reported item by item.

- `plan_chunks` splits a list of items (investors to onboard, mints...) into transactions of a
  batch call (``batchMint(to[], amounts[])``...) that each fit a gas budget (by default half the
  block gas limit, so that a block holds two): it measures one and two items, extrapolates, and
  checks the first chunk with a real estimate.
- `send_batch` sends every transaction without waiting between them (the embedded chains, anvil and
  geth take many pending transactions per sender), up to ``max_in_flight`` unconfirmed at a time,
  then awaits the receipts. At the first failure it stops sending, still awaits what is in flight,
  and returns a `BatchOutcome` saying which transactions (and so which items) landed, which
  reverted (decoded), which were refused or did not land, and which were never sent. With
  ``keep_going`` it sends the rest anyway (for independent items).
- ``progress(done, total)`` is called, in items, each time a transaction's fate is known.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeVar

from registry.custody.transactions import PendingTransaction, PreparedTransaction, TxOutcome
from registry.errors import (
    BatchIncompleteError,
    CustodyError,
    InvalidInputError,
    SubmissionRejectedError,
    TransactionNotLandedError,
    TransactionRevertedError,
)

if TYPE_CHECKING:
    from registry.custody.sender import Fees, TransactionSender

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_MAX_IN_FLIGHT = 256
"""Transactions of a batch sent and not yet confirmed at most (the embedded pool queues up to 1,000
per sender; geth's pool keeps fewer per account)."""

FEE_REFRESH = 32
"""Fees are read again every this many transactions of a batch (large blocks raise the base fee)."""

Progress = Callable[[int, int], None]
"""``progress(done, total)``: items whose transaction's fate is known, out of all items."""

ItemStatus = Literal["landed", "reverted", "rejected", "not_landed", "not_sent"]
"""What became of a batch's transaction: mined; reverted (in the estimate or on chain); refused by
the node; sent but not mined by the deadline (or dropped); never sent because the batch stopped."""


@dataclass(frozen=True)
class BatchEntry:
    """One transaction of a batch and the caller's items it carries (indices into the caller's list)."""

    tx: PreparedTransaction
    items: range


@dataclass(frozen=True)
class BatchResult:
    """What became of one transaction of a batch."""

    index: int
    """Its position in the batch."""
    tx: PreparedTransaction
    items: range
    """The caller's items it carried."""
    status: ItemStatus
    outcome: TxOutcome | None = None
    """The mined transaction, when ``landed``."""
    error: Exception | None = None
    """Why it did not land: a `TransactionRevertedError` (decoded), `SubmissionRejectedError`,
    `TransactionNotLandedError`, or another registry error met while sending it."""

    @property
    def sent(self) -> bool:
        """True if the transaction reached the node (and may have cost gas)."""
        if self.status in ("landed", "not_landed"):
            return True
        return isinstance(self.error, TransactionRevertedError) and self.error.sent


@dataclass(frozen=True)
class BatchOutcome:
    """A batch, transaction by transaction, in the order given."""

    results: tuple[BatchResult, ...]

    @property
    def ok(self) -> bool:
        """True when every transaction landed."""
        return all(result.status == "landed" for result in self.results)

    @property
    def total_items(self) -> int:
        """The number of the caller's items in the batch."""
        return sum(len(result.items) for result in self.results)

    def with_status(self, *statuses: ItemStatus) -> tuple[BatchResult, ...]:
        """The transactions whose status is one of ``statuses``."""
        return tuple(result for result in self.results if result.status in statuses)

    def items(self, *statuses: ItemStatus) -> list[int]:
        """The caller's items carried by transactions with one of ``statuses``, in order."""
        return [item for result in self.with_status(*statuses) for item in result.items]

    @property
    def landed(self) -> tuple[BatchResult, ...]:
        """The transactions that were mined successfully."""
        return self.with_status("landed")

    @property
    def reverted(self) -> tuple[BatchResult, ...]:
        """The transactions that reverted (``error`` decoded), in the estimate or on chain."""
        return self.with_status("reverted")

    @property
    def not_sent(self) -> tuple[BatchResult, ...]:
        """The transactions never sent because the batch stopped."""
        return self.with_status("not_sent")

    def summary(self) -> str:
        """One paragraph: what landed, what failed and why, what was not sent (with item ranges)."""
        parts = []
        for status, label in (
            ("landed", "landed"),
            ("reverted", "reverted"),
            ("rejected", "were refused by the node"),
            ("not_landed", "did not land"),
            ("not_sent", "were not sent"),
        ):
            chosen = self.with_status(status)  # type: ignore[arg-type]
            if not chosen:
                continue
            text = f"{len(chosen)} {label} (items {item_ranges(self.items(status))})"  # type: ignore[arg-type]
            if status not in ("landed", "not_sent"):
                reasons = "; ".join(f"transaction {result.index}: {result.error}" for result in chosen)
                text += f": {reasons}"
            parts.append(text)
        return f"batch of {len(self.results)} transactions, {self.total_items} items: " + ", ".join(parts)

    def raise_for_failure(self) -> None:
        """Raise `BatchIncompleteError` (carrying this outcome) unless every transaction landed."""
        if not self.ok:
            raise BatchIncompleteError(self.summary(), outcome=self)


def item_ranges(indices: Sequence[int]) -> str:
    """Item positions as ranges for people: ``0-4, 7, 9-10`` for ``[0, 1, 2, 3, 4, 7, 9, 10]``."""
    if not indices:
        return "none"
    spans: list[str] = []
    start = previous = indices[0]
    for index in [*indices[1:], None]:
        if index is not None and index == previous + 1:
            previous = index
            continue
        spans.append(str(start) if start == previous else f"{start}-{previous}")
        if index is not None:
            start = previous = index
    return ", ".join(spans)


def plan_chunks(
    items: Sequence[T],
    build: Callable[[Sequence[T]], PreparedTransaction],
    *,
    estimate: Callable[[PreparedTransaction], int],
    gas_budget: int,
    max_items: int | None = None,
) -> list[BatchEntry]:
    """Split ``items`` into consecutive chunks whose transaction ``build(chunk)`` fits ``gas_budget``.

    ``estimate`` is ``TransactionSender.estimate`` (margin included). The first chunk carries its
    measured gas; the others are estimated when sent (the state may have changed by then).

    Raises:
        InvalidInputError: one item alone exceeds the budget, or a bad budget/size.
        TransactionRevertedError: a measured chunk would revert (decoded); nothing was sent.
    """
    if gas_budget <= 0:
        raise InvalidInputError("gas_budget", f"a gas budget is positive, got {gas_budget}")
    if max_items is not None and max_items < 1:
        raise InvalidInputError("max_items", f"a chunk holds at least one item, got {max_items}")
    count = len(items)
    if count == 0:
        return []
    limit = min(count, max_items or count)
    one = estimate(build(items[:1]))
    if one > gas_budget:
        raise InvalidInputError(
            "items", f"one item alone needs {one} gas, more than the {gas_budget} allowed per transaction"
        )
    measured: dict[int, int | None] = {1: one}

    def measure(size: int) -> int | None:
        if size not in measured:
            try:
                measured[size] = estimate(build(items[:size]))
            except SubmissionRejectedError:
                measured[size] = None  # too large to estimate at all: more than a block
        return measured[size]

    size = 1
    if limit > 1:
        two = measure(2)
        if two is not None:
            per_item = max(two - one, 1)
            fixed = max(one - per_item, 0)
            # 10% below the straight line: storage costs vary from item to item.
            size = max(1, min(limit, (gas_budget - fixed) * 9 // (per_item * 10)))
    while True:
        gas = measure(size)
        if gas is not None and gas <= gas_budget:
            break
        size = max(1, size // 2 if gas is None else min(size - 1, size * gas_budget * 9 // (gas * 10)))
    entries = []
    for start in range(0, count, size):
        chunk = items[start : start + size]
        tx = build(chunk)
        entries.append(BatchEntry(tx.with_gas(gas) if start == 0 else tx, range(start, start + len(chunk))))
    return entries


def send_batch(
    sender: TransactionSender,
    txs: Sequence[PreparedTransaction | BatchEntry],
    *,
    progress: Progress | None = None,
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    keep_going: bool = False,
) -> BatchOutcome:
    """Send ``txs`` pipelined and report each one's fate (see the module docstring).

    A plain `PreparedTransaction` carries one item (its own index). Every sender's key is looked up
    before anything is sent.

    Raises:
        InvalidInputError: a transaction is for another chain, or ``max_in_flight`` < 1.
        NoSigningKeyError (and keystore errors): custody cannot sign for one of the senders;
            nothing was sent.
    """
    if max_in_flight < 1:
        raise InvalidInputError("max_in_flight", f"at least one transaction in flight, got {max_in_flight}")
    entries = [
        entry if isinstance(entry, BatchEntry) else BatchEntry(entry, range(index, index + 1))
        for index, entry in enumerate(txs)
    ]
    for entry in entries:
        if entry.tx.chain != sender.chain:
            raise InvalidInputError(
                "chain",
                f"'{entry.tx.description}' is for the {entry.tx.chain} chain, the batch for the "
                f"{sender.chain} chain",
            )
    sender.signers.each(dict.fromkeys(entry.tx.sender for entry in entries))
    total = sum(len(entry.items) for entry in entries)
    results: list[BatchResult | None] = [None] * len(entries)
    in_flight: deque[tuple[int, PendingTransaction]] = deque()
    # Each sender's lowest nonce that did not land: its later transactions cannot land before it.
    stuck: dict[str, int] = {}
    deadline = time.monotonic()
    done = 0
    stop = False

    def record(index: int, result: BatchResult) -> None:
        nonlocal done, stop
        results[index] = result
        done += len(result.items)
        if result.status != "landed" and not keep_going:
            stop = True
        if progress is not None:
            progress(done, total)

    def settle() -> None:
        index, pending = in_flight.popleft()
        entry = entries[index]
        # One deadline for the batch, counted from its last submission, not one per transaction.
        timeout = max(deadline - time.monotonic(), 0.0)
        behind = stuck.get(pending.sender)
        if behind is not None and behind < pending.nonce:
            state = sender.transaction_state(pending.tx_hash)
            if state == "pending":
                # Waiting would only run out the clock (an embedded chain holds each receipt request).
                record(
                    index,
                    BatchResult(index, entry.tx, entry.items, "not_landed", error=_behind(pending, behind)),
                )
                return
            if state == "unknown":
                timeout = 0.0  # dropped with the one before it: say so at once
        try:
            outcome = sender.wait(pending, timeout=timeout)
        except TransactionRevertedError as exc:
            record(index, BatchResult(index, entry.tx, entry.items, "reverted", error=exc))
        except TransactionNotLandedError as exc:
            stuck[pending.sender] = min(stuck.get(pending.sender, pending.nonce), pending.nonce)
            record(index, BatchResult(index, entry.tx, entry.items, "not_landed", error=exc))
        else:
            record(index, BatchResult(index, entry.tx, entry.items, "landed", outcome=outcome))

    fees: Fees | None = None
    since_fees = 0
    for index, entry in enumerate(entries):
        while len(in_flight) >= max_in_flight and not stop:
            settle()
        if stop:
            break
        try:
            if fees is None or since_fees >= FEE_REFRESH:
                fees, since_fees = sender.fees(), 0
            pending = sender.broadcast(entry.tx, fees=fees)
        except TransactionRevertedError as exc:
            record(index, BatchResult(index, entry.tx, entry.items, "reverted", error=exc))
        except TransactionNotLandedError as exc:
            record(index, BatchResult(index, entry.tx, entry.items, "not_landed", error=exc))
        except (CustodyError, InvalidInputError, OSError) as exc:
            # Refused, or something else stopped this one; what was sent before is still awaited.
            record(index, BatchResult(index, entry.tx, entry.items, "rejected", error=exc))
        else:
            in_flight.append((index, pending))
            since_fees += 1
            deadline = time.monotonic() + sender.timeout
    while in_flight:
        settle()
    outcome = BatchOutcome(
        tuple(
            result or BatchResult(index, entries[index].tx, entries[index].items, "not_sent")
            for index, result in enumerate(results)
        )
    )
    if not outcome.ok:
        logger.warning("%s", outcome.summary())
    return outcome


def _behind(pending: PendingTransaction, behind: int) -> TransactionNotLandedError:
    return TransactionNotLandedError(
        f"{pending.description}: transaction {pending.hash_hex} (nonce {pending.nonce} of {pending.sender}) "
        f"waits behind nonce {behind}, which did not land. It lands only once nonce {behind} is used: the "
        "sender's next transaction will use it, and this one may then land after it. Look it up with "
        "outcome_of(tx_hash) before sending it again",
        description=pending.description,
        sender=pending.sender,
        tx_hash=pending.tx_hash,
        nonce=pending.nonce,
    )


def send_chunked(
    sender: TransactionSender,
    items: Sequence[T],
    build: Callable[[Sequence[T]], PreparedTransaction],
    *,
    gas_budget: int | None = None,
    max_items: int | None = None,
    progress: Progress | None = None,
    keep_going: bool = False,
) -> BatchOutcome:
    """`plan_chunks` then `send_batch`: ``items`` in transactions that each fit ``gas_budget`` (default
    half the block gas limit). The outcome's item indices are positions in ``items``."""
    budget = gas_budget if gas_budget is not None else sender.block_gas_limit() // 2
    entries = plan_chunks(items, build, estimate=sender.estimate, gas_budget=budget, max_items=max_items)
    return send_batch(sender, entries, progress=progress, keep_going=keep_going)
