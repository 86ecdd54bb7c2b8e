"""The journal: entries written atomically, found again, never reused for other inputs; hashes written
before submission only for the operation being recorded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from registry.bulk.journal import ChunkRecord, Journal, JournalEntry, check_entry_id, match_by_data
from registry.custody.transactions import PendingTransaction
from registry.errors import InvalidInputError

SENDER = "0x" + "ab" * 20


def pending(data: bytes, nonce: int = 3) -> PendingTransaction:
    return PendingTransaction(
        chain="permissionless",
        tx_hash=bytes([nonce]) * 32,
        sender=SENDER,  # type: ignore[arg-type]
        nonce=nonce,
        to=None,
        data=data,
        value=0,
        gas=21_000,
        description="test",
    )


def test_an_entry_round_trips_and_its_file_is_replaced_atomically(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal")
    entry = journal.create(
        "batch_mint", "permissionless", "digest", [range(0, 2), range(2, 3)], data={"x": 1}
    )
    assert journal.load(entry.id) == entry
    entry.chunks[1].state = "landed"
    journal.save(entry)
    assert journal.load(entry.id) == entry
    assert sorted(os.listdir(tmp_path / "journal")) == [f"{entry.id}.json"]  # no temporary file left
    journal.finish(entry)
    assert journal.entries(state="open") == [] and journal.entries(operation="batch_mint")[0].state == "done"
    assert journal.load("unknown") is None


def test_ids_are_checked_and_never_reused(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.create("batch_mint", "permissionless", "d", [range(0, 1)], entry_id="order-42")
    with pytest.raises(InvalidInputError, match="already holds"):
        journal.create("batch_mint", "permissionless", "d", [range(0, 1)], entry_id="order-42")
    for bad in ("", "a/b", "x" * 65, "../etc"):
        with pytest.raises(InvalidInputError) as caught:
            check_entry_id(bad)
        assert caught.value.field == "batch_id"
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(InvalidInputError, match="damaged"):
        journal.load("broken")


def test_hashes_are_journaled_only_while_recording_that_operation(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    entry = journal.create("batch_mint", "permissionless", "d", [range(0, 1), range(1, 2)])
    journal.on_signed(pending(b"\x01"))  # not recording: ignored
    assert journal.load(entry.id) == entry
    with journal.recording(entry, match_by_data(entry, [b"\x01", b"\x02"])):
        journal.on_signed(pending(b"\x09"))  # another transaction of the thread: not this entry's
        journal.on_signed(pending(b"\x02", nonce=7))
    stored = journal.load(entry.id)
    assert stored is not None
    assert [c.state for c in stored.chunks] == ["planned", "signed"]
    assert stored.chunks[1].tx_hash == "0x" + "07" * 32 and stored.chunks[1].nonce == 7
    journal.on_signed(pending(b"\x01"))  # recording ended
    assert journal.load(entry.id).chunks[0].state == "planned"  # type: ignore[union-attr]


def test_chunk_and_entry_json() -> None:
    chunk = ChunkRecord(
        start=0, stop=3, state="landed", tx_hash="0x" + "aa" * 32, nonce=1, sender=SENDER, block_number=9
    )
    assert ChunkRecord.from_json(chunk.to_json()) == chunk and chunk.items == range(0, 3)
    entry = JournalEntry(id="x", operation="issue", chain="permissioned", fingerprint="f", chunks=[chunk])
    assert JournalEntry.from_json(entry.to_json()) == entry
