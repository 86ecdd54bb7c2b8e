"""Quorum-signed interventions on the permissioned chain: chain-wide account freezes and rollbacks.

Each intervention is a `registry.chain.consensus.Proposal` (EIP-712) that changes nothing until
``ceil(2N/3)`` current validators have signed it (a quorum certificate); it is then executed
once, and the proposal, its signatures and its outcome stay in the chain's database.

- **Freeze / unfreeze** an account chain-wide: from the next block on, the account's
  transactions are refused at submission, dropped by the block builder, and make an imported
  block invalid; pending ones in the pool are dropped when their block is built.
- **Rollback** to block ``K``: the canonical chain is rewound to ``K`` (a `Rollback` event tells
  listeners that history changed from ``K + 1``), then the transactions of the dropped blocks
  are replayed in their original order, except those excluded by hash or by sender, into new
  blocks. The `RollbackReport` records the old and new heads, every dropped transaction, which
  were excluded, replayed (with old and new block and status) or failed on replay, and why.
  Transactions of the excluded ones' senders that came later usually fail on replay (their
  nonce no longer follows), which the report shows.

**All or nothing, across a crash.** When the quorum is reached, the proposal is first stored as
``approved`` together with the signature that completed it (one commit). The intervention then
runs inside one database transaction (`ChainHost.atomic`): for a rollback, the rewind, every
replay block, the report and the ``executed`` status are committed together, and listeners hear
of it only after that commit. A process killed before the commit leaves the chain exactly as it
was, with the proposal ``approved``; the next start finishes it (`Interventions.resume`, run when
the mode is bound, before the chain takes any transaction) rather than undoing it, because the
quorum certificate is a decision the validators already took: undoing it would need them to sign
again while the exploit's state stays live, and anyone could execute the stored certificate later
anyway, over more history. Nothing was sealed in between, so the resumed rollback drops and
replays exactly what the interrupted one would have. A killed process after the commit has
nothing left to do.

**Exclusions last.** Transactions a rollback excluded (by hash, or with every transaction of an
excluded sender among the dropped ones) and the blocks it dropped are refused from then on:
at submission (`registry.chain.errors.TransactionExcludedError`, e.g. the attacker's original
raw transactions, whose nonces the rollback made valid again) and on import (a block holding
one, or a dropped block itself: `registry.chain.errors.DroppedBlockError`), each error naming the
rollback. They are read from the executed rollbacks' reports (`ExclusionList`), so they are as
durable as the reports. New transactions of an excluded sender are judged on their own: to stop
a sender, freeze it.

Usage (``desk = mode.interventions()``)::

    record = desk.propose_rollback(5, exclude_senders=[attacker], reason="bridge exploit")
    for validator in desk.signers_available()[:desk.threshold()]:
        record = desk.sign(record.id, validator)       # executes when the quorum is reached
    report = desk.report(record.id)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

from eth.abc import BlockAPI, BlockHeaderAPI, ReceiptAPI, SignedTransactionAPI
from eth_typing import Address, ChecksumAddress

from registry.chain.consensus.proposals import (
    FrozenAccount,
    GovernanceContext,
    GovernanceStore,
    InvalidProposalError,
    ProposalDesk,
    ProposalKind,
    ProposalRecord,
    ProposalStatus,
    QuorumNotReachedError,
    parse_address,
)
from registry.chain.consensus.seals import quorum_size, short
from registry.chain.errors import DroppedBlockError, TransactionExcludedError
from registry.chain.events import Rollback

if TYPE_CHECKING:
    from registry.chain.node.host import ChainHost

logger = logging.getLogger(__name__)


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def _parse_hash(value: str | bytes) -> bytes:
    if isinstance(value, bytes | bytearray):
        raw = bytes(value)
    else:
        try:
            raw = bytes.fromhex(str(value).removeprefix("0x"))
        except ValueError as exc:
            raise InvalidProposalError(f"{value!r} is not a transaction hash: {exc}") from exc
    if len(raw) != 32:
        raise InvalidProposalError(f"{value!r} is not a 32-byte transaction hash")
    return raw


def _succeeded(receipt: ReceiptAPI) -> bool:
    # Since Byzantium the receipt's first field is the status: 0x01 success, empty failure.
    return bytes(receipt.state_root) == b"\x01"


@dataclass(frozen=True)
class DroppedTransaction:
    """A transaction of a block removed by a rollback, and what became of it."""

    hash: bytes
    sender: Address
    original_block: int
    original_status: bool
    fate: str
    """``"replayed"``, ``"excluded-by-hash"``, ``"excluded-by-sender"`` or ``"failed"``."""
    new_block: int | None = None
    """Block where it was replayed."""
    status: bool | None = None
    """Its status on replay (False: it reverted this time)."""
    error: str | None = None
    """Why it failed on replay."""

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable form."""
        return {
            "hash": _hex(self.hash),
            "sender": short(self.sender),
            "originalBlock": self.original_block,
            "originalStatus": self.original_status,
            "fate": self.fate,
            "newBlock": self.new_block,
            "status": self.status,
            "error": self.error,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DroppedTransaction:
        """Rebuild an entry written by `to_json`."""
        return cls(
            hash=_parse_hash(data["hash"]),
            sender=parse_address(data["sender"]),
            original_block=int(data["originalBlock"]),
            original_status=bool(data["originalStatus"]),
            fate=str(data["fate"]),
            new_block=data["newBlock"],
            status=data["status"],
            error=data["error"],
        )


@dataclass(frozen=True)
class RollbackReport:
    """What a rollback did: heads before and after, and the fate of every dropped transaction."""

    proposal_id: bytes
    to_block: int
    old_head_number: int
    old_head_hash: bytes
    new_head_number: int
    new_head_hash: bytes
    dropped_blocks: tuple[tuple[int, bytes], ...]
    """Number and hash of each removed block, oldest first."""
    transactions: tuple[DroppedTransaction, ...]
    """Every transaction of the removed blocks, in original order."""

    @property
    def first_changed_block(self) -> int:
        """The first block number whose content may differ after the rollback."""
        return self.to_block + 1

    def _with(self, *fates: str) -> list[DroppedTransaction]:
        return [t for t in self.transactions if t.fate in fates]

    @property
    def excluded(self) -> list[DroppedTransaction]:
        """Transactions left out on purpose (by hash or by sender)."""
        return self._with("excluded-by-hash", "excluded-by-sender")

    @property
    def replayed(self) -> list[DroppedTransaction]:
        """Transactions included again, in their new blocks."""
        return self._with("replayed")

    @property
    def failed(self) -> list[DroppedTransaction]:
        """Transactions that could not be included again, with the reason."""
        return self._with("failed")

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable form (the proposal's ``outcome``)."""
        return {
            "proposalId": _hex(self.proposal_id),
            "toBlock": self.to_block,
            "firstChangedBlock": self.first_changed_block,
            "oldHead": {"number": self.old_head_number, "hash": _hex(self.old_head_hash)},
            "newHead": {"number": self.new_head_number, "hash": _hex(self.new_head_hash)},
            "droppedBlocks": [{"number": n, "hash": _hex(h)} for n, h in self.dropped_blocks],
            "transactions": [t.to_json() for t in self.transactions],
            "summary": {
                "dropped": len(self.transactions),
                "excluded": len(self.excluded),
                "replayed": len(self.replayed),
                "failed": len(self.failed),
            },
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RollbackReport:
        """Rebuild a report written by `to_json`."""
        return cls(
            proposal_id=_parse_hash(data["proposalId"]),
            to_block=int(data["toBlock"]),
            old_head_number=int(data["oldHead"]["number"]),
            old_head_hash=_parse_hash(data["oldHead"]["hash"]),
            new_head_number=int(data["newHead"]["number"]),
            new_head_hash=_parse_hash(data["newHead"]["hash"]),
            dropped_blocks=tuple((int(b["number"]), _parse_hash(b["hash"])) for b in data["droppedBlocks"]),
            transactions=tuple(DroppedTransaction.from_json(t) for t in data["transactions"]),
        )


@dataclass(frozen=True)
class Exclusion:
    """Why a transaction or a block is refused for good: the rollback that left it out."""

    proposal_id: bytes
    to_block: int
    reason: str
    original_block: int
    """The block it was in (for a dropped block: its own number)."""
    fate: str
    """``"excluded-by-hash"`` or ``"excluded-by-sender"`` for a transaction, ``"dropped"`` for a block."""

    def rollback(self) -> str:
        """The rollback, as error messages name it."""
        reason = self.reason or "no reason given"
        return f"the rollback 0x{self.proposal_id.hex()} to block #{self.to_block} ({reason})"


class ExclusionList:
    """What executed rollbacks left out for good: the transactions they excluded, the blocks they dropped.

    Built from the rollback reports kept in the chain database (`from_records`) and extended when a
    rollback commits, so it needs no storage of its own and is exactly as durable as the reports.
    """

    def __init__(self) -> None:
        self._transactions: dict[bytes, Exclusion] = {}
        self._blocks: dict[bytes, Exclusion] = {}

    @classmethod
    def from_records(cls, records: Iterable[ProposalRecord]) -> ExclusionList:
        """The exclusions of every executed rollback among ``records``."""
        exclusions = cls()
        for record in records:
            if record.proposal.kind is ProposalKind.ROLLBACK and record.status is ProposalStatus.EXECUTED:
                exclusions.add(
                    RollbackReport.from_json(record.outcome), str(record.proposal.message["reason"])
                )
        return exclusions

    def __bool__(self) -> bool:
        return bool(self._transactions or self._blocks)

    def add(self, report: RollbackReport, reason: str) -> None:
        """Refuse from now on what ``report``'s rollback excluded and dropped."""
        for entry in report.excluded:
            self._transactions[entry.hash] = Exclusion(
                report.proposal_id, report.to_block, reason, entry.original_block, entry.fate
            )
        for number, block_hash in report.dropped_blocks:
            self._blocks[block_hash] = Exclusion(
                report.proposal_id, report.to_block, reason, number, "dropped"
            )

    def check_transaction(self, tx_hash: bytes) -> None:
        """Refuse a transaction a rollback excluded.

        Raises:
            TransactionExcludedError: naming the rollback, and why it cannot be sent again.
        """
        exclusion = self._transactions.get(bytes(tx_hash))
        if exclusion is None:
            return
        how = (
            "by hash" if exclusion.fate == "excluded-by-hash" else "with the other transactions of its sender"
        )
        raise TransactionExcludedError(
            f"transaction 0x{bytes(tx_hash).hex()} was in block #{exclusion.original_block} and was excluded "
            f"{how} by {exclusion.rollback()}; it stays excluded for good, at submission and in any block. "
            "Signing the same fields again gives the same transaction; one that differs in any field (a "
            "new hash) is judged on its own (stopping a sender is a freeze)",
            exclusion.proposal_id,
        )

    def check_block(self, header: BlockHeaderAPI, is_canonical: Callable[[int, bytes], bool]) -> None:
        """Refuse a block a rollback dropped (unless its replay rebuilt the very same block).

        Raises:
            DroppedBlockError: naming the rollback.
        """
        exclusion = self._blocks.get(bytes(header.hash))
        if exclusion is None or is_canonical(int(header.block_number), bytes(header.hash)):
            return
        raise DroppedBlockError(
            f"block #{header.block_number} 0x{bytes(header.hash).hex()} was dropped by "
            f"{exclusion.rollback()}; a dropped block is refused for good: the chain after "
            f"#{exclusion.to_block} is the one the validators replayed",
            exclusion.proposal_id,
        )


class Interventions(ProposalDesk):
    """Freezes and rollbacks of the permissioned chain, each needing ``ceil(2N/3)`` validator signatures."""

    kinds: ClassVar[frozenset[ProposalKind]] = frozenset({ProposalKind.ACCOUNT_FREEZE, ProposalKind.ROLLBACK})

    def __init__(
        self,
        context: GovernanceContext,
        store: GovernanceStore,
        chain: ChainHost,
        *,
        on_frozen: Callable[[dict[Address, FrozenAccount]], None],
        on_rewind: Callable[[int], None],
        on_rolled_back: Callable[[RollbackReport, str], None],
    ) -> None:
        super().__init__(context)
        self._store = store
        self._chain = chain
        self._on_frozen = on_frozen
        self._on_rewind = on_rewind
        self._on_rolled_back = on_rolled_back

    def threshold(self, kind: ProposalKind = ProposalKind.ROLLBACK) -> int:
        """Signatures an intervention needs now: ``ceil(2N/3)`` of the current validators."""
        return quorum_size(len(self._current()))

    def validators(self) -> list[ChecksumAddress]:
        """The current validators (who may sign)."""
        return [short(v) for v in self._current()]

    def signers_available(self) -> list[ChecksumAddress]:
        """Current validators whose key this node holds (it can sign for them with `sign`)."""
        return [short(v) for v in self._current() if self._ctx.held_key(v) is not None]

    # -- freeze -----------------------------------------------------------------------------------

    def frozen(self) -> list[FrozenAccount]:
        """Accounts frozen chain-wide now."""
        return list(self._store.frozen().values())

    def propose_freeze(self, account: str | bytes, *, reason: str = "") -> ProposalRecord:
        """Open a proposal to freeze ``account`` chain-wide.

        Raises:
            InvalidProposalError: the account is already frozen.
        """
        subject = parse_address(account)
        if subject in self._store.frozen():
            raise InvalidProposalError(f"{short(subject)} is already frozen on the permissioned chain")
        return self._open(
            ProposalKind.ACCOUNT_FREEZE, {"account": short(subject), "frozen": True, "reason": reason}
        )

    def propose_unfreeze(self, account: str | bytes, *, reason: str = "") -> ProposalRecord:
        """Open a proposal to lift the chain-wide freeze of ``account``.

        Raises:
            InvalidProposalError: the account is not frozen.
        """
        subject = parse_address(account)
        if subject not in self._store.frozen():
            raise InvalidProposalError(f"{short(subject)} is not frozen on the permissioned chain")
        return self._open(
            ProposalKind.ACCOUNT_FREEZE, {"account": short(subject), "frozen": False, "reason": reason}
        )

    # -- rollback ---------------------------------------------------------------------------------

    def propose_rollback(
        self,
        to_block: int,
        *,
        exclude_transactions: Sequence[str | bytes] = (),
        exclude_senders: Sequence[str | bytes] = (),
        reason: str = "",
    ) -> ProposalRecord:
        """Open a proposal to rewind to block ``to_block`` and replay the later transactions but the excluded.

        The proposal names ``to_block`` by number and hash, so it cannot apply to another history.

        Raises:
            InvalidProposalError: ``to_block`` is not below the head, or an excluded transaction is not in a
                block after ``to_block``.
        """
        head = self._chain.head()
        if not 0 <= to_block < head.block_number:
            raise InvalidProposalError(
                f"cannot roll back to block {to_block}: it must be below the head #{head.block_number}"
            )
        hashes = [_parse_hash(h) for h in exclude_transactions]
        for tx_hash in hashes:
            location = self._chain.find_transaction(tx_hash)
            if location is None or location.header.block_number <= to_block:
                raise InvalidProposalError(
                    f"transaction {_hex(tx_hash)} is not in a block after #{to_block}; a rollback to "
                    f"#{to_block} can only exclude transactions it drops"
                )
        senders = [short(parse_address(s)) for s in exclude_senders]
        target = self._chain.get_header(to_block)
        return self._open(
            ProposalKind.ROLLBACK,
            {
                "toBlock": to_block,
                "toBlockHash": _hex(target.hash),
                "excludedTransactions": [_hex(h) for h in hashes],
                "excludedSenders": senders,
                "reason": reason,
            },
        )

    def rollbacks(self) -> list[RollbackReport]:
        """Reports of every executed rollback, oldest first."""
        return [
            RollbackReport.from_json(r.outcome)
            for r in self.proposals(ProposalStatus.EXECUTED)
            if r.proposal.kind is ProposalKind.ROLLBACK
        ]

    def report(self, proposal_id: bytes) -> RollbackReport:
        """The report of the executed rollback ``proposal_id``.

        Raises:
            InvalidProposalError: the proposal is not an executed rollback.
        """
        record = self.get(proposal_id)
        if record.proposal.kind is not ProposalKind.ROLLBACK or record.status is not ProposalStatus.EXECUTED:
            raise InvalidProposalError(
                f"proposal {_hex(record.id)} is a {record.status} {record.proposal.kind}, "
                "not an executed rollback"
            )
        return RollbackReport.from_json(record.outcome)

    # -- execution ----------------------------------------------------------------------------------

    def resume(self) -> list[ProposalRecord]:
        """Finish the interventions a crash interrupted: approved by a quorum, not yet carried out.

        Called when the chain is opened, before it takes any transaction (see the module docstring for
        why an interrupted intervention is finished, not undone). Returns the records, now executed or
        failed. One whose quorum no longer holds fails without changing anything.
        """
        finished: list[ProposalRecord] = []
        with self._ctx.exclusive():
            for record in self.proposals(ProposalStatus.APPROVED):
                logger.warning(
                    "the %s 0x%s was approved by a quorum but not carried out before the node stopped; "
                    "carrying it out now",
                    record.proposal.kind,
                    record.id.hex(),
                )
                try:
                    finished.append(self._execute_locked(record))
                except QuorumNotReachedError as exc:
                    finished.append(self._fail(record, f"its quorum no longer held after a restart: {exc}"))
                    self._ctx.persist()
        return finished

    def _carry_out(self, record: ProposalRecord) -> ProposalRecord:
        if record.status is not ProposalStatus.APPROVED:
            # The decision is durable before anything changes: from here on, a crash is finished at the next
            # start (resume), and the signature that completed the quorum is kept.
            record.status = ProposalStatus.APPROVED
            self._store.save(record)
            self._ctx.persist()
        if record.proposal.kind is ProposalKind.ACCOUNT_FREEZE:
            return self._freeze(record)
        return self._rollback(record)

    def _fail(self, record: ProposalRecord, error: str) -> ProposalRecord:
        record.status = ProposalStatus.FAILED
        record.outcome = {"error": error}
        self._store.save(record)
        return record

    def _freeze(self, record: ProposalRecord) -> ProposalRecord:
        message = record.proposal.message
        subject = parse_address(message["account"])
        frozen = self._store.frozen()
        if bool(message["frozen"]):
            if subject in frozen:
                return self._fail(record, f"{short(subject)} was already frozen")
            since = self._ctx.head_number() + 1
            frozen[subject] = FrozenAccount(subject, bytes(record.id), since, str(message.get("reason", "")))
        else:
            if subject not in frozen:
                return self._fail(record, f"{short(subject)} was not frozen")
            since = self._ctx.head_number() + 1
            del frozen[subject]
        record.status = ProposalStatus.EXECUTED
        record.executed_at_block = since
        record.outcome = {"account": short(subject), "frozen": bool(message["frozen"]), "fromBlock": since}
        self._store.set_frozen(frozen, record)
        self._on_frozen(frozen)
        return record

    def _rollback(self, record: ProposalRecord) -> ProposalRecord:
        message = record.proposal.message
        to_block = int(message["toBlock"])
        chain = self._chain
        # One database transaction: the rewind, every replay block, the report and the status reach the disk
        # together or not at all, and listeners hear of them only after the commit.
        with chain.atomic():
            head = chain.head()
            if to_block >= head.block_number:
                return self._fail(record, f"block {to_block} is not below the head #{head.block_number}")
            target = chain.get_header(to_block)
            if _hex(target.hash) != str(message["toBlockHash"]).lower():
                return self._fail(
                    record,
                    f"block #{to_block} is now {_hex(target.hash)}, not the block {message['toBlockHash']} "
                    "the validators signed for",
                )
            dropped = chain.rewind(to_block)
            self._on_rewind(to_block)
            # Listeners learn first that history from K + 1 is void, then get the replay blocks as new.
            chain.publish(
                Rollback(
                    first_changed_block=to_block + 1,
                    new_head_number=to_block,
                    new_head_hash=bytes(target.hash),
                )
            )
            excluded_hashes = {_parse_hash(h) for h in message["excludedTransactions"]}
            excluded_senders = {parse_address(s) for s in message["excludedSenders"]}
            entries, replay = self._sort_dropped(dropped, excluded_hashes, excluded_senders)
            outcomes = self._replay(replay)
            new_head = chain.head()
            report = RollbackReport(
                proposal_id=bytes(record.id),
                to_block=to_block,
                old_head_number=int(head.block_number),
                old_head_hash=bytes(head.hash),
                new_head_number=int(new_head.block_number),
                new_head_hash=bytes(new_head.hash),
                dropped_blocks=tuple((int(b.number), bytes(b.hash)) for b in dropped),
                transactions=tuple(
                    _settle(entry, outcomes.get(entry.hash)) if entry.fate == "replayed" else entry
                    for entry in entries
                ),
            )
            record.status = ProposalStatus.EXECUTED
            record.executed_at_block = int(new_head.block_number)
            record.outcome = report.to_json()
            self._store.save(record)
        self._on_rolled_back(report, str(message["reason"]))
        return record

    def _sort_dropped(
        self, dropped: Sequence[BlockAPI], excluded_hashes: set[bytes], excluded_senders: set[Address]
    ) -> tuple[list[DroppedTransaction], list[SignedTransactionAPI]]:
        entries: list[DroppedTransaction] = []
        replay: list[SignedTransactionAPI] = []
        for block in dropped:
            receipts = block.get_receipts(self._chain.py_evm.chaindb)
            for tx, receipt in zip(block.transactions, receipts, strict=True):
                sender = Address(bytes(tx.sender))
                if bytes(tx.hash) in excluded_hashes:
                    fate = "excluded-by-hash"
                elif sender in excluded_senders:
                    fate = "excluded-by-sender"
                else:
                    fate = "replayed"
                    replay.append(tx)
                entries.append(
                    DroppedTransaction(bytes(tx.hash), sender, int(block.number), _succeeded(receipt), fate)
                )
        return entries, replay

    def _replay(self, transactions: list[SignedTransactionAPI]) -> dict[bytes, tuple[int, bool] | str]:
        """Replay ``transactions`` in order into new blocks; per hash, (block, status) or an error."""
        outcomes: dict[bytes, tuple[int, bool] | str] = {}
        pending = list(transactions)
        while pending:
            built = self._chain.build_block(pending)
            for tx_hash, error in built.failed.items():
                outcomes[bytes(tx_hash)] = str(error)
            if built.block is not None:
                receipts = self._chain.receipts_of(built.block.header)
                for tx, receipt in zip(built.block.transactions, receipts, strict=True):
                    outcomes[bytes(tx.hash)] = (int(built.block.number), _succeeded(receipt))
            deferred = {bytes(h) for h in built.deferred}
            remaining = [tx for tx in pending if bytes(tx.hash) in deferred]
            # A failure holds back its sender's later transactions; the next round gives each its own reason
            # (usually its nonce) instead of a blanket one. Every round includes or fails one at least.
            if len(remaining) == len(pending):
                for tx in remaining:
                    outcomes[bytes(tx.hash)] = "could not be included in a replay block"
                break
            pending = remaining
        return outcomes


def _settle(entry: DroppedTransaction, outcome: tuple[int, bool] | str | None) -> DroppedTransaction:
    if isinstance(outcome, tuple):
        return replace(entry, new_block=outcome[0], status=outcome[1])
    return replace(entry, fate="failed", error=outcome if isinstance(outcome, str) else "not replayed")
