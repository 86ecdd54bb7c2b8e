"""The journal: what a batch (or an issue) sent, written before each transaction is submitted.

A batch of mints killed half way must not mint twice when it is run again. So before custody submits
each transaction of a journaled operation, the transaction's hash and nonce are written here (custody's
``on_signed`` hook, `Journal.on_signed`); a process that dies after that line finds, on the next run,
every transaction that may have reached the chain, and asks the chain what became of it instead of
sending its items again.

One JSON file per operation in ``<data dir>/journal/``, named after the operation's id, replaced
atomically (written to a temporary file, flushed, renamed), so a crash leaves the previous version or
the new one. An entry holds the operation's name, chain, a fingerprint of its inputs (so an id is never
reused for other items), its chunks (item ranges) with their transaction hashes and fates, and what the
operation needs to finish (e.g. an issue's terms, to catalogue the asset once it is deployed).

The hook finds the entry through a context variable set by `Journal.recording` on the thread that
sends, so one `TransactionSender` serves journaled and plain operations alike.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from registry.custody.transactions import PendingTransaction
from registry.errors import InvalidInputError

logger = logging.getLogger(__name__)

ChunkState = Literal["planned", "signed", "landed", "failed"]
"""A chunk's fate as far as the journal knows: not signed yet; signed (it may be on chain); mined and
successful; known not to have landed (reverted, refused, dropped)."""

EntryState = Literal["open", "done"]
"""An operation still under way (or interrupted), or finished."""

_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass
class ChunkRecord:
    """One transaction of a journaled operation and the caller's items it carries."""

    start: int
    stop: int
    state: ChunkState = "planned"
    tx_hash: str | None = None
    nonce: int | None = None
    sender: str | None = None
    block_number: int | None = None

    @property
    def items(self) -> range:
        """The caller's items (positions) this chunk carries."""
        return range(self.start, self.stop)

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "start": self.start,
            "stop": self.stop,
            "state": self.state,
            "tx_hash": self.tx_hash,
            "nonce": self.nonce,
            "sender": self.sender,
            "block_number": self.block_number,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChunkRecord:
        """From `to_json`'s form."""
        return cls(
            start=int(data["start"]),
            stop=int(data["stop"]),
            state=data["state"],
            tx_hash=data.get("tx_hash"),
            nonce=data.get("nonce"),
            sender=data.get("sender"),
            block_number=data.get("block_number"),
        )


@dataclass
class JournalEntry:
    """A journaled operation."""

    id: str
    operation: str
    chain: str
    fingerprint: str
    chunks: list[ChunkRecord]
    data: dict[str, Any] = field(default_factory=dict)
    state: EntryState = "open"

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "id": self.id,
            "operation": self.operation,
            "chain": self.chain,
            "fingerprint": self.fingerprint,
            "state": self.state,
            "data": self.data,
            "chunks": [chunk.to_json() for chunk in self.chunks],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> JournalEntry:
        """From `to_json`'s form."""
        return cls(
            id=str(data["id"]),
            operation=str(data["operation"]),
            chain=str(data["chain"]),
            fingerprint=str(data["fingerprint"]),
            chunks=[ChunkRecord.from_json(chunk) for chunk in data["chunks"]],
            data=dict(data.get("data") or {}),
            state=data.get("state", "open"),
        )


def check_entry_id(entry_id: str, field_name: str = "batch_id") -> str:
    """``entry_id`` if it can name a journal entry (1 to 64 letters, digits, ``_`` or ``-``).

    Raises:
        InvalidInputError: it cannot.
    """
    if not isinstance(entry_id, str) or not _ID.match(entry_id):
        raise InvalidInputError(field_name, f"an id is 1 to 64 letters, digits, '_' or '-'; got {entry_id!r}")
    return entry_id


@dataclass
class _Recording:
    entry: JournalEntry
    match: Callable[[PendingTransaction], int | None]


_current: contextvars.ContextVar[_Recording | None] = contextvars.ContextVar(
    "journal_recording", default=None
)
_watchers: contextvars.ContextVar[tuple[Callable[[PendingTransaction], None], ...]] = contextvars.ContextVar(
    "journal_watchers", default=()
)


class Journal:
    """The journal folder (see the module docstring). Safe to use from several threads."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        """Where the entries live."""
        self._lock = threading.Lock()

    def new_id(self) -> str:
        """A fresh operation id."""
        return uuid.uuid4().hex

    def create(
        self,
        operation: str,
        chain: str,
        fingerprint: str,
        ranges: Sequence[range],
        *,
        entry_id: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> JournalEntry:
        """Write a new open entry whose chunks carry ``ranges`` of the caller's items.

        Raises:
            InvalidInputError: ``entry_id`` is malformed or already names an entry.
        """
        chosen = check_entry_id(entry_id) if entry_id is not None else self.new_id()
        entry = JournalEntry(
            id=chosen,
            operation=operation,
            chain=chain,
            fingerprint=fingerprint,
            chunks=[ChunkRecord(start=r.start, stop=r.stop) for r in ranges],
            data=dict(data or {}),
        )
        with self._lock:
            if self._path(chosen).exists():
                raise InvalidInputError("batch_id", f"the journal already holds an operation {chosen!r}")
            self._write(entry)
        return entry

    def load(self, entry_id: str) -> JournalEntry | None:
        """The entry ``entry_id``, or None if there is none.

        Raises:
            InvalidInputError: the id is malformed, or its file is not a journal entry.
        """
        path = self._path(check_entry_id(entry_id))
        try:
            text = path.read_text()
        except FileNotFoundError:
            return None
        try:
            return JournalEntry.from_json(json.loads(text))
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidInputError(
                "batch_id", f"the journal file {path} is damaged ({exc}); look at it before resuming"
            ) from exc

    def entries(self, *, operation: str | None = None, state: EntryState | None = None) -> list[JournalEntry]:
        """Every readable entry (of ``operation`` and in ``state`` when given), by id."""
        found: list[JournalEntry] = []
        if not self.folder.is_dir():
            return found
        for path in sorted(self.folder.glob("*.json")):
            entry = self.load(path.stem)
            if entry is None:
                continue
            if operation is not None and entry.operation != operation:
                continue
            if state is not None and entry.state != state:
                continue
            found.append(entry)
        return found

    def save(self, entry: JournalEntry) -> None:
        """Write ``entry`` as it is now."""
        with self._lock:
            self._write(entry)

    def finish(self, entry: JournalEntry) -> None:
        """Mark ``entry`` done."""
        entry.state = "done"
        self.save(entry)

    @contextmanager
    def recording(
        self, entry: JournalEntry, match: Callable[[PendingTransaction], int | None]
    ) -> Iterator[None]:
        """While the block runs on this thread, every transaction custody signs and ``match`` maps to a
        chunk of ``entry`` (its index, or None for none) is written to the journal before it is sent."""
        token = _current.set(_Recording(entry, match))
        try:
            yield
        finally:
            _current.reset(token)

    @contextmanager
    def watching(self, watcher: Callable[[PendingTransaction], None]) -> Iterator[None]:
        """While the block runs on this thread, ``watcher`` sees every transaction custody signs, journaled
        or not, after the journal wrote it and before it is submitted (the API records each one against
        the request's Idempotency-Key). Watchers nest; raising stops the submission, as in `on_signed`."""
        token = _watchers.set((*_watchers.get(), watcher))
        try:
            yield
        finally:
            _watchers.reset(token)

    def on_signed(self, pending: PendingTransaction) -> None:
        """Custody's ``on_signed`` hook: journal ``pending`` if the thread records an entry it belongs to,
        then hand it to the thread's watchers (`watching`).

        Raising here stops the submission (custody's contract): a transaction whose hash could not be
        written is never sent.
        """
        self._journal(pending)
        for watcher in _watchers.get():
            watcher(pending)

    def _journal(self, pending: PendingTransaction) -> None:
        recording = _current.get()
        if recording is None:
            return
        index = recording.match(pending)
        if index is None:
            return
        chunk = recording.entry.chunks[index]
        chunk.state = "signed"
        chunk.tx_hash = pending.hash_hex
        chunk.nonce = pending.nonce
        chunk.sender = pending.sender
        self.save(recording.entry)

    def _path(self, entry_id: str) -> Path:
        return self.folder / f"{entry_id}.json"

    def _write(self, entry: JournalEntry) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(entry.id)
        temporary = path.with_name(f".{path.name}.tmp")
        with open(temporary, "w") as handle:
            json.dump(entry.to_json(), handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        # The rename itself must reach the disk before the transaction does.
        descriptor = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def match_by_data(
    entry: JournalEntry, data: Sequence[bytes | None]
) -> Callable[[PendingTransaction], int | None]:
    """A ``match`` for `Journal.recording`: the first chunk not yet signed whose call data (``data``,
    index by index; None for a chunk not being sent) equals the transaction's."""

    def match(pending: PendingTransaction) -> int | None:
        for index, chunk in enumerate(entry.chunks):
            if chunk.state in ("planned", "failed") and data[index] == pending.data:
                return index
        return None

    return match
