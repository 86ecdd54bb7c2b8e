"""One-pass storage-trie updates give py-evm's roots and store py-evm's nodes."""

from __future__ import annotations

from typing import Any

import rlp
from eth.constants import BLANK_ROOT_HASH
from eth.db.atomic import AtomicDB
from eth.db.backends.memory import MemoryDB
from eth.db.batch import BatchDB
from eth.db.journal import JournalDB
from eth.db.storage import AccountStorageDB
from eth_typing import Address, Hash32
from hypothesis import given, settings
from hypothesis import strategies as st
from trie.hexary import HexaryTrie

from registry.chain.node.accountstorage import OnePassStorageDB
from registry.chain.node.rlpcodec import decode_node, encode_node
from registry.chain.node.trie import update_trie

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
    for key in {*start, *changes}:
        assert readable[key] == reference[key]


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
