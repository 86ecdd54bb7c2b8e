"""Run a batch operation: plan its chunks, dry-run every chunk, journal and send them, report item by item.

    report = BulkRunner(sender, journal).run(
        "batch_mint", items, build, fingerprint={...}, diagnose=explain_refused_chunk, batch_id=None)

1. **Plan.** Items go into batch calls (``batchMint(to[], amounts[])``...) of at most half the block gas
   limit. The gas of one and of two items is estimated (custody's estimate, margin included); a chunk
   of ``k`` items is given ``(fixed + k * per_item) * 1.1`` gas. Custody's `plan_chunks` estimates the
   whole first chunk instead, which for a chunk of hundreds of mints costs several full executions
   (the node searches for the limit); this costs two small estimates per batch.
2. **Check.** Every chunk is run as an ``eth_call`` with the gas it will be sent with, against the
   chain as it is, before anything is sent. A chunk that runs out of that gas is split in two and
   checked again; one that reverts goes to the operation's ``diagnose``, which names the refused items
   (every broken compliance rule of each, for mints and transfers) and raises. So a batch with one bad
   item sends nothing. (Chunks are checked against the same state: a limit crossed by the batch as a
   whole, e.g. the maximum number of investors, shows up when the chunk that crosses it reverts.)
3. **Journal and send.** The chunks are written to the journal, then sent pipelined by custody
   (`send_batch`); each transaction's hash is journaled before it is submitted. The first failure
   stops the sending; what was in flight is awaited.
4. **Report.** Every item's fate and transaction hash (`BatchReport`); the journal records each chunk's.

**Resuming.** Run the same operation with the same items and the ``batch_id`` of the interrupted
run (it is in the report, in `BatchStoppedError` and in the journal): chunks that landed are not sent
again; chunks signed before a crash are looked up on the chain (mined, pending: waited for, or gone);
only chunks that never landed are checked and sent again. A crash between journaling a hash and
submitting it leaves a transaction the node never saw: it is "gone", and sending its chunk again
reuses its nonce, so at most one of the two can ever land.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from registry.bulk.journal import ChunkRecord, Journal, JournalEntry, match_by_data
from registry.bulk.report import BatchReport, ItemResult, ItemStatus
from registry.custody.batches import BatchEntry, BatchOutcome, BatchResult, send_batch
from registry.custody.sender import TransactionSender
from registry.custody.transactions import PreparedTransaction, TxOutcome
from registry.dryrun import CallFailure, dry_run
from registry.errors import (
    BatchStoppedError,
    InvalidInputError,
    TransactionNotLandedError,
    TransactionRevertedError,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

DIAGNOSIS_CHUNK = 100
"""Items per dry run when a batch is refused before its gas could be measured."""

WINDOW_BLOCKS = 4
"""Blocks' worth of a batch sent before waiting: at 12.5% per full block the base fee grows 1.6x in four
blocks, within the 2x margin of custody's fees."""

GAS_HEADROOM = 1.1
"""Above the linear model (itself built from estimates with custody's margin): storage costs differ a
little from item to item."""

BulkProgress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: ``stage`` is ``checking`` or ``sending``; counts are items."""

Failed = tuple[int, Sequence[Any], CallFailure]
"""A chunk whose dry run failed: the position of its first item, its items, and why."""

Diagnose = Callable[[Sequence[Failed]], Exception | None]
"""``diagnose(failed)``: the precise refusal of a batch's failed chunks (naming every refused item),
or None: "no more to say" (the runner then raises the first chunk's decoded revert)."""

ValuesOf = Callable[[TxOutcome, range], Mapping[int, int]]
"""What each item of a landed chunk produced, read from its receipt (e.g. registered investor ids)."""


def fingerprint_of(fields: Mapping[str, Any]) -> str:
    """A stable digest of an operation's inputs (JSON-able values), to recognise a resumed batch."""
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class _GasModel:
    """A chunk's gas from a linear model of one and two items, within the gas budget."""

    def __init__(self, fixed: int, per_item: int, budget: int) -> None:
        self.fixed = fixed
        self.per_item = per_item
        self.budget = budget

    def size(self) -> int:
        """The most items a chunk can carry."""
        room = (self.budget / GAS_HEADROOM - self.fixed) / self.per_item
        return max(1, int(room))

    def gas(self, count: int) -> int:
        """The gas to send a chunk of ``count`` items with."""
        return min(self.budget, int((self.fixed + self.per_item * count) * GAS_HEADROOM))


class BulkRunner:
    """Plans, checks, journals and sends batch operations on one chain (see the module docstring)."""

    def __init__(self, sender: TransactionSender, journal: Journal, *, gas_budget: int | None = None) -> None:
        self.sender = sender
        """The chain's transaction sender."""
        self.journal = journal
        """Where batches are journaled."""
        self._gas_budget = gas_budget

    def budget(self) -> int:
        """Gas per transaction of a batch: half the block gas limit unless set."""
        return self._gas_budget or self.sender.block_gas_limit() // 2

    def run(
        self,
        operation: str,
        items: Sequence[T],
        build: Callable[[Sequence[T]], PreparedTransaction],
        *,
        fingerprint: Mapping[str, Any],
        diagnose: Diagnose,
        batch_id: str | None = None,
        max_items: int | None = None,
        progress: BulkProgress | None = None,
        values: ValuesOf | None = None,
    ) -> BatchReport:
        """Run (or resume, with ``batch_id``) a batch; see the module docstring.

        Raises:
            InvalidInputError: no items, or ``batch_id`` names a batch of other inputs.
            ComplianceRefusedError, OperationRefusedError, TransactionRevertedError: raised by
                ``diagnose`` or the plan for a refused chunk; nothing was sent.
            BatchStoppedError: the batch stopped half way; its ``report`` says item by item.
        """
        if not items:
            raise InvalidInputError("items", "a batch needs at least one item")
        digest = fingerprint_of({"operation": operation, "chain": self.sender.chain, **fingerprint})
        entry = self.journal.load(batch_id) if batch_id is not None else None
        if entry is None:
            chunks = self.plan(items, build, diagnose=diagnose, max_items=max_items, progress=progress)
            entry = self.journal.create(
                operation, self.sender.chain, digest, [chunk.items for chunk in chunks], entry_id=batch_id
            )
            return self._send(entry, chunks, {}, progress, values)
        if entry.fingerprint != digest:
            raise InvalidInputError(
                "batch_id",
                f"batch {batch_id!r} was a {entry.operation} of other inputs (another asset, sender or list "
                "of items); resume it with exactly its inputs, or use a new id",
            )
        known = self._settle_journaled(entry)
        pending = [chunk for chunk in entry.chunks if chunk.state in ("planned", "failed")]
        chunks = []
        if pending:
            try:
                model = self._model(items, build, pending[0].items)
            except TransactionRevertedError:
                self._check(
                    items, [chunk.items for chunk in pending], build, diagnose, progress=None, model=None
                )
                raise
            spans = [chunk.items for chunk in pending]
            chunks = self._check(items, spans, build, diagnose, progress=progress, model=model)
            self._replace_ranges(entry, pending, chunks)
        return self._send(entry, chunks, known, progress, values)

    # -- planning and checking -------------------------------------------------------------------

    def plan(
        self,
        items: Sequence[T],
        build: Callable[[Sequence[T]], PreparedTransaction],
        *,
        diagnose: Diagnose,
        max_items: int | None = None,
        progress: BulkProgress | None = None,
    ) -> list[BatchEntry]:
        """Steps 1 and 2 of the module docstring: the batch's transactions, each with its gas and the items
        it carries, every one dry-run. Nothing is sent or journaled (the non-custodial flow signs these).

        Raises:
            InvalidInputError: no items.
            ComplianceRefusedError, TransactionRevertedError...: a chunk would fail (see ``diagnose``).
        """
        if not items:
            raise InvalidInputError("items", "a batch needs at least one item")
        try:
            model = self._model(items, build, range(len(items)))
        except TransactionRevertedError:
            # The first items fail already: name every refused item of the batch, not just those.
            size = max_items or DIAGNOSIS_CHUNK
            spans = [range(start, min(start + size, len(items))) for start in range(0, len(items), size)]
            self._check(items, spans, build, diagnose, progress=None, model=None)
            raise
        size = min(model.size(), max_items or len(items))
        spans = [range(start, min(start + size, len(items))) for start in range(0, len(items), size)]
        return self._check(items, spans, build, diagnose, progress=progress, model=model)

    def _model(
        self, items: Sequence[T], build: Callable[[Sequence[T]], PreparedTransaction], where: range
    ) -> _GasModel:
        """The linear gas model from estimates of the first one and two items of ``where``.

        Raises:
            TransactionRevertedError: those items would revert (nothing was sent).
        """
        start = where.start
        one = self.sender.estimate(build(items[start : start + 1]))
        if len(where) < 2:
            return _GasModel(one, 1, self.budget())
        two = self.sender.estimate(build(items[start : start + 2]))
        per_item = max(two - one, 1)
        return _GasModel(max(one - per_item, 0), per_item, self.budget())

    def _check(
        self,
        items: Sequence[T],
        spans: Sequence[range],
        build: Callable[[Sequence[T]], PreparedTransaction],
        diagnose: Diagnose,
        *,
        progress: BulkProgress | None,
        model: _GasModel | None,
    ) -> list[BatchEntry]:
        """Dry-run every chunk with its gas (the node's default without a ``model``); split those that run
        out of it; diagnose those that revert (every one, so that a refusal names every refused item),
        and raise if any does."""
        total = sum(len(span) for span in spans)
        done = 0
        checked: list[BatchEntry] = []
        failed: list[tuple[BatchEntry, CallFailure]] = []
        queue = [
            BatchEntry(
                build(items[s.start : s.stop])
                if model is None
                else build(items[s.start : s.stop]).with_gas(model.gas(len(s))),
                s,
            )
            for s in spans
        ]
        while queue:
            entry = queue.pop(0)
            failure = dry_run(self.sender.w3, entry.tx)
            if failure is not None and failure.out_of_gas and len(entry.items) > 1:
                # More gas per item than the model said: halve the chunk, give each half the budget.
                middle = entry.items.start + len(entry.items) // 2
                halves = (range(entry.items.start, middle), range(middle, entry.items.stop))
                queue[0:0] = [
                    BatchEntry(build(items[h.start : h.stop]).with_gas(self.budget()), h) for h in halves
                ]
                continue
            if failure is not None:
                failed.append((entry, failure))
            checked.append(entry)
            done += len(entry.items)
            if progress is not None:
                progress("checking", done, total)
        if failed:
            explained = diagnose([(e.items.start, items[e.items.start : e.items.stop], f) for e, f in failed])
            entry, failure = failed[0]
            raise explained or TransactionRevertedError(
                f"{entry.tx.description} (items {entry.items.start}-{entry.items.stop - 1}): would fail "
                "on the "
                f"{self.sender.chain} chain with {failure}; nothing was sent",
                description=entry.tx.description,
                error=failure.error,
                data=failure.data,
                sent=False,
                sender=entry.tx.sender,
            )
        return checked

    # -- resuming --------------------------------------------------------------------------------

    def _settle_journaled(self, entry: JournalEntry) -> dict[int, TxOutcome]:
        """Find out what became of every chunk the journal says was signed or landed; returns the
        outcomes of those that landed, by chunk index."""
        landed: dict[int, TxOutcome] = {}
        for index, chunk in enumerate(entry.chunks):
            if chunk.tx_hash is None or chunk.state == "failed":
                continue
            try:
                outcome = self.sender.outcome_of(chunk.tx_hash)
            except TransactionRevertedError:
                chunk.state = "failed"
                continue
            except TransactionNotLandedError as exc:
                if self.sender.transaction_state(bytes.fromhex(chunk.tx_hash[2:])) == "pending":
                    # Still in the node's pool: sending its items again could do them twice.
                    self.journal.save(entry)
                    raise BatchStoppedError(
                        f"{entry.operation} {entry.id}: transaction {chunk.tx_hash} (items {chunk.start}-"
                        f"{chunk.stop - 1}) is still pending on the {entry.chain} chain: {exc}. Resume "
                        "again once it is mined",
                        outcome=BatchOutcome(()),
                        report=self._report(entry, {}, {}),
                    ) from exc
                chunk.state = "failed"
                continue
            chunk.state = "landed"
            chunk.block_number = outcome.block_number
            landed[index] = outcome
        self.journal.save(entry)
        return landed

    def _replace_ranges(
        self, entry: JournalEntry, pending: list[ChunkRecord], chunks: list[BatchEntry]
    ) -> None:
        """After a resumed check split chunks, make the journal's unsent chunks match the checked ones."""
        wanted = [entry_.items for entry_ in chunks]
        if wanted == [chunk.items for chunk in pending]:
            return
        kept = [chunk for chunk in entry.chunks if chunk not in pending]
        fresh = [ChunkRecord(start=r.start, stop=r.stop) for r in wanted]
        entry.chunks = sorted([*kept, *fresh], key=lambda chunk: chunk.start)
        self.journal.save(entry)

    # -- sending ---------------------------------------------------------------------------------

    def _send(
        self,
        entry: JournalEntry,
        chunks: list[BatchEntry],
        known: dict[int, TxOutcome],
        progress: BulkProgress | None,
        values: ValuesOf | None,
    ) -> BatchReport:
        index_of = {(chunk.start, chunk.stop): i for i, chunk in enumerate(entry.chunks)}
        positions = [index_of[(c.items.start, c.items.stop)] for c in chunks]
        data: list[bytes | None] = [None] * len(entry.chunks)
        for position, sending in zip(positions, chunks, strict=True):
            data[position] = sending.tx.data
        for position in positions:
            entry.chunks[position].state = "planned"
        with self.journal.recording(entry, match_by_data(entry, data)):
            outcome = self._send_windows(chunks, progress)
        results: dict[int, BatchResult] = {}
        for position, result in zip(positions, outcome.results, strict=True):
            chunk = entry.chunks[position]
            results[position] = result
            if result.status == "landed" and result.outcome is not None:
                chunk.state = "landed"
                chunk.block_number = result.outcome.block_number
                known[position] = result.outcome
            elif result.status == "not_landed":
                chunk.state = "signed"  # it may still land: the next resume looks it up
            elif result.status != "not_sent" or chunk.tx_hash is not None:
                chunk.state = "failed"
        produced: dict[int, int] = {}
        if values is not None:
            for position, landed in known.items():
                produced.update(values(landed, entry.chunks[position].items))
        if all(chunk.state == "landed" for chunk in entry.chunks):
            self.journal.finish(entry)
        else:
            self.journal.save(entry)
        report = self._report(entry, results, produced, known)
        if not report.ok:
            raise BatchStoppedError(
                f"{report.summary()}. Items that landed are done; resume with batch_id={entry.id!r} to "
                "send the rest (nothing is sent twice)",
                outcome=outcome,
                report=report,
            )
        return report

    def _send_windows(self, chunks: list[BatchEntry], progress: BulkProgress | None) -> BatchOutcome:
        """Send ``chunks`` pipelined, at most `WINDOW_BLOCKS` blocks' worth at a time with fees read
        afresh for each window: full blocks raise the base fee by 12.5% each (EIP-1559), so a transaction
        signed many blocks before it is mined would fall below the base fee and be dropped."""
        largest = max((entry.tx.gas or 1 for entry in chunks), default=1)
        per_block = max(1, self.sender.block_gas_limit() // largest)
        window = WINDOW_BLOCKS * per_block
        total = sum(len(entry.items) for entry in chunks)
        results: list[BatchResult] = []
        sent_items = 0
        for start in range(0, len(chunks), window):
            part = chunks[start : start + window]

            def relay(done: int, _total: int, before: int = sent_items) -> None:
                if progress is not None:
                    progress("sending", before + done, total)

            outcome = send_batch(self.sender, part, progress=relay)
            results.extend(replace(result, index=start + result.index) for result in outcome.results)
            sent_items += sum(len(entry.items) for entry in part)
            if not outcome.ok:
                results.extend(
                    BatchResult(start + len(part) + offset, entry.tx, entry.items, "not_sent")
                    for offset, entry in enumerate(chunks[start + len(part) :])
                )
                break
        return BatchOutcome(tuple(results))

    def _report(
        self,
        entry: JournalEntry,
        results: Mapping[int, BatchResult],
        produced: Mapping[int, int],
        known: Mapping[int, TxOutcome] | None = None,
    ) -> BatchReport:
        rows: list[ItemResult] = []
        gas = 0
        for position, chunk in enumerate(entry.chunks):
            result = results.get(position)
            status: ItemStatus
            error = None
            if chunk.state == "landed":
                status = "landed"
                if known is not None and position in known and result is not None:
                    gas += known[position].gas_used
            elif result is not None and result.status != "landed":
                status = result.status
                error = str(result.error) if result.error is not None else None
            elif chunk.state == "signed":
                status = "not_landed"
            else:
                status = "not_sent"
            for index in chunk.items:
                rows.append(
                    ItemResult(
                        index=index,
                        status=status,
                        tx_hash=chunk.tx_hash if status != "not_sent" else None,
                        block_number=chunk.block_number if status == "landed" else None,
                        error=error,
                        value=produced.get(index),
                    )
                )
        return BatchReport(
            batch_id=entry.id,
            operation=entry.operation,
            chain=entry.chain,
            items=tuple(sorted(rows, key=lambda row: row.index)),
            transactions=len(entry.chunks),
            gas_used=gas,
        )
