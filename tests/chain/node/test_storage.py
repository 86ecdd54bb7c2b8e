"""The SQLite key-value store under py-evm: writes wait for flush, one transaction per flush."""

from __future__ import annotations

import sqlite3

import pytest

from registry.chain.node.storage import BlockBufferedDB, ChainDatabase, SQLiteStore


@pytest.fixture
def store(tmp_path):
    store = SQLiteStore(tmp_path / "chain.sqlite3")
    yield store
    store.close()


def test_pending_writes_are_visible_before_flush_but_not_stored(store):
    db = BlockBufferedDB(store)
    db[b"k"] = b"v"
    assert db[b"k"] == b"v"
    assert b"k" in db
    assert store.get(b"k") is None
    assert db.pending_writes == 1


def test_flush_commits_puts_and_deletes_together(store):
    db = BlockBufferedDB(store)
    db[b"a"] = b"1"
    db[b"b"] = b"2"
    db.flush()
    assert (store.get(b"a"), store.get(b"b")) == (b"1", b"2")
    del db[b"a"]
    db[b"c"] = b"3"
    assert b"a" not in db
    assert store.get(b"a") == b"1"
    db.flush()
    assert store.get(b"a") is None
    assert store.get(b"c") == b"3"
    assert db.pending_writes == 0


def test_discard_forgets_pending_writes(store):
    db = BlockBufferedDB(store)
    db[b"kept"] = b"1"
    db.flush()
    db[b"lost"] = b"2"
    del db[b"kept"]
    db.discard()
    assert db[b"kept"] == b"1"
    assert b"lost" not in db


def test_deleting_a_missing_key_raises_key_error(store):
    db = BlockBufferedDB(store)
    with pytest.raises(KeyError):
        del db[b"nothing"]


def test_reads_survive_cache_eviction(store):
    db = BlockBufferedDB(store, cache_entries=20)
    for i in range(100):
        db[i.to_bytes(2, "big")] = bytes([i])
    db.flush()
    assert all(db[i.to_bytes(2, "big")] == bytes([i]) for i in range(100))


def test_a_failed_batch_leaves_the_store_unchanged(store):
    store.write_batch({b"x": b"1"}, [])
    with pytest.raises(sqlite3.IntegrityError):
        store.write_batch({b"y": b"2", b"z": None}, [])
    assert store.get(b"y") is None
    assert store.get(b"x") == b"1"


def test_chain_database_reopens_with_flushed_data_only(tmp_path):
    path = tmp_path / "chain.sqlite3"
    database = ChainDatabase(path)
    database.db[b"flushed"] = b"yes"
    database.flush()
    database.db[b"unflushed"] = b"no"
    database.close()
    reopened = ChainDatabase(path)
    assert reopened.db[b"flushed"] == b"yes"
    assert b"unflushed" not in reopened.db
    reopened.close()


def test_in_memory_database_is_not_persistent():
    database = ChainDatabase(None)
    database.db[b"k"] = b"v"
    database.flush()
    assert not database.persistent
    assert database.db[b"k"] == b"v"


def test_in_memory_database_drops_discarded_writes_like_a_persistent_one():
    database = ChainDatabase(None)
    database.db[b"kept"] = b"1"
    database.flush()
    database.db[b"dropped"] = b"2"
    del database.db[b"kept"]
    database.discard()
    assert database.db[b"kept"] == b"1"
    assert b"dropped" not in database.db
