"""One-pass storage-trie updates give py-evm's roots and store py-evm's nodes."""

from __future__ import annotations

from typing import Any

import pytest
import rlp
from eth.constants import BLANK_ROOT_HASH
from eth.db.atomic import AtomicDB
from eth.db.backends.memory import MemoryDB
from eth.db.batch import BatchDB
from eth.db.journal import JournalDB
from eth.db.storage import AccountStorageDB
from eth.vm.interrupt import MissingStorageTrieNode
from eth_typing import Address, Hash32
from hypothesis import given, settings
from hypothesis import strategies as st
from trie.hexary import HexaryTrie

from registry.chain.node.accountstorage import OnePassStorageDB, SlotCache
from registry.chain.node.rlpcodec import decode_node, encode_node
from registry.chain.node.trie import TrieReader, update_trie

ADDRESS = Address(b"\x11" * 20)

# Keys from a small alphabet share long prefixes (extensions, splits, collapses); values
# of one byte make short nodes that are embedded in their parents.
_keys = st.one_of(
    st.binary(min_size=32, max_size=32),
    st.lists(st.sampled_from([b"\x00", b"\x01", b"\x10", b"\xff"]), min_size=4, max_size=4).map(b"".join),
)
_values = st.one_of(st.none(), st.binary(min_size=1, max_size=2), st.binary(min_size=1, max_size=40))


@settings(max_examples=300, deadline=None)
@given(
    start=st.dictionaries(_keys, st.binary(min_size=1, max_size=40), max_size=60),
    changes=st.dictionaries(_keys, _values, max_size=60),
)
def test_update_matches_one_by_one_writes(
    start: dict[bytes, bytes], changes: dict[bytes, bytes | None]
) -> None:
    keys = {len(key) for key in [*start, *changes]}
    if len(keys) > 1:
        # A hexary trie holds keys of one length (one key never a prefix of another).
        start = {key: value for key, value in start.items() if len(key) == 32}
        changes = {key: value for key, value in changes.items() if len(key) == 32}
    stored: dict[bytes, bytes] = {}
    reference = HexaryTrie(stored)
    for key, value in start.items():
        reference[key] = value
    base = dict(stored)
    root, nodes, _replaced = update_trie(base.__getitem__, reference.root_hash, dict(changes))
    # py-evm's storage trie: pruning, over a batch that reads through its deletes and is
    # committed without them.
    batch = BatchDB(MemoryDB(dict(base)), read_through_deletes=True)
    pruning = HexaryTrie(batch, reference.root_hash, prune=True)
    for key, change in changes.items():
        if change is None:
            del reference[key]
            del pruning[key]
        else:
            reference[key] = change
            pruning[key] = change
    assert root == reference.root_hash == pruning.root_hash
    committed = MemoryDB(dict(base))
    batch.commit_to(committed, apply_deletes=False)
    assert {**base, **nodes} == committed.kv_store
    readable = HexaryTrie({**base, **nodes}, root)
    reader = TrieReader(entries=20)
    for key in {*start, *changes, b"\x00" * 32, b"\x01\x00\x00\x00"}:
        assert readable[key] == reference[key]
        assert reader.get({**base, **nodes}.__getitem__, root, key) == reference[key]


_slot_writes = st.lists(
    st.tuples(st.integers(0, 400), st.one_of(st.just(0), st.integers(1, 2**256 - 1))), max_size=40
)
_step: st.SearchStrategy[tuple[str, list[tuple[int, int]]]] = st.one_of(
    st.tuples(st.just("write"), _slot_writes),
    st.tuples(st.just("revert"), _slot_writes),
    st.tuples(st.just("root"), st.just([])),
    st.tuples(st.just("persist"), st.just([])),
    st.tuples(st.just("wipe"), st.just([])),
)


def _run(store_class: type[AccountStorageDB], steps: list[tuple[str, list[tuple[int, int]]]]) -> Any:
    memory = MemoryDB()
    db = AtomicDB(memory)
    root = BLANK_ROOT_HASH
    store = store_class(db, Hash32(root), ADDRESS)
    checkpoints = JournalDB(MemoryDB())
    wiped = False
    roots: list[bytes] = []
    reads: list[int] = []
    for kind, writes in steps:
        if kind in ("write", "revert"):
            checkpoint = checkpoints.record()
            store.record(checkpoint)
            for slot, value in writes:
                store.set(slot, value)
            if kind == "revert":
                store.discard(checkpoint)
            else:
                store.commit(checkpoint)
            store.lock_changes()
        elif kind == "root":
            store.make_storage_root()
            if store.has_changed_root:
                roots.append(store.get_changed_root())
        elif kind == "persist":
            store.make_storage_root()
            if store.has_changed_root:
                root = store.get_changed_root()
                roots.append(root)
            store.persist(db)
            # py-evm opens an account's storage afresh after each persist.
            store = store_class(db, Hash32(root), ADDRESS)
            wiped = False
        elif kind == "wipe" and not wiped:
            # py-evm wipes an account's storage at most once per transaction.
            checkpoint = checkpoints.record()
            store.record(checkpoint)
            store.delete()
            store.commit(checkpoint)
            store.lock_changes()
            wiped = True
        reads.extend(store.get(slot) for slot in range(0, 401, 29))
    store.make_storage_root()
    if store.has_changed_root:
        roots.append(store.get_changed_root())
        root = store.get_changed_root()
    store.persist(db)
    reopened = store_class(db, Hash32(root), ADDRESS)
    reads.extend(reopened.get(slot) for slot in range(401))
    return roots, reads, dict(memory.kv_store)


@settings(max_examples=60, deadline=None)
@given(st.lists(_step, max_size=10))
def test_account_storage_matches_py_evm(steps: list[tuple[str, list[tuple[int, int]]]]) -> None:
    theirs = _run(AccountStorageDB, steps)
    ours = _run(OnePassStorageDB, steps)
    assert ours[0] == theirs[0]
    assert ours[1] == theirs[1]
    assert ours[2] == theirs[2]


def test_many_new_slots_in_one_block_match_py_evm() -> None:
    steps = [("write", [(slot, slot * 7 + 1) for slot in range(3000)]), ("persist", [])]
    cleared = [(slot, 0) for slot in range(0, 3000, 3)]
    steps += [("write", cleared + [(slot, 5) for slot in range(1, 3000, 3)])]
    assert _run(OnePassStorageDB, steps) == _run(AccountStorageDB, steps)


def test_roots_computed_twice_before_a_persist_store_only_the_last_trie() -> None:
    steps = [
        ("write", [(slot, slot + 1) for slot in range(200)]),
        ("persist", []),
        ("write", [(slot, slot + 2) for slot in range(0, 200, 2)]),
        ("root", []),
        ("write", [(slot, 0) for slot in range(0, 200, 4)] + [(slot, 9) for slot in range(200, 260)]),
        ("root", []),
        ("persist", []),
    ]
    assert _run(OnePassStorageDB, steps) == _run(AccountStorageDB, steps)


_nested = st.recursive(
    st.one_of(st.binary(max_size=3), st.binary(min_size=50, max_size=70), st.binary(max_size=300)),
    lambda children: st.lists(children, max_size=18),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(_nested)
def test_node_codec_matches_rlp(item: bytes | list[Any]) -> None:
    encoded = encode_node(item)
    assert encoded == rlp.encode(item)
    assert decode_node(encoded) == rlp.decode(encoded)


def test_slot_cache_answers_each_root_with_its_own_values() -> None:
    db = AtomicDB(MemoryDB())
    first = OnePassStorageDB(db, BLANK_ROOT_HASH, ADDRESS)
    first.set(1, 10)
    first.make_storage_root()
    old_root = first.get_changed_root()
    first.persist(db)
    assert OnePassStorageDB(db, old_root, ADDRESS).get(1) == 10  # read, and now cached
    later = OnePassStorageDB(db, old_root, ADDRESS)
    later.set(1, 20)
    later.set(2, 30)
    later.make_storage_root()
    new_root = later.get_changed_root()
    later.persist(db)
    # A rollback or a reopened chain reads the old root again: its values, never the newer ones.
    reopened_old = OnePassStorageDB(db, old_root, ADDRESS)
    reopened_new = OnePassStorageDB(db, new_root, ADDRESS)
    assert (reopened_old.get(1), reopened_old.get(2)) == (10, 0)
    assert (reopened_new.get(1), reopened_new.get(2)) == (20, 30)
    wiped = OnePassStorageDB(db, new_root, ADDRESS)
    wiped.delete()
    assert (wiped.get(1), wiped.get(2)) == (0, 0)


def test_slot_cache_stays_within_its_size() -> None:
    cache = SlotCache(entries=100)
    for slot in range(1_000):
        cache.put(b"root", slot.to_bytes(32, "big"), b"\x01")
    assert cache.get(b"root", (999).to_bytes(32, "big")) == b"\x01"
    assert cache.get(b"root", (0).to_bytes(32, "big")) is None
    assert len(cache) <= 100


def test_a_missing_storage_node_is_reported_as_py_evm_reports_it() -> None:
    db = AtomicDB(MemoryDB())
    store = OnePassStorageDB(db, BLANK_ROOT_HASH, ADDRESS)
    # A value no other test stores: no cache of the process has read this trie before.
    store.set(1, 0x5EED0FA1551)
    store.make_storage_root()
    root = store.get_changed_root()
    # Not persisted: the root node is nowhere in the database.
    with pytest.raises(MissingStorageTrieNode):
        OnePassStorageDB(db, root, ADDRESS).get(1)
