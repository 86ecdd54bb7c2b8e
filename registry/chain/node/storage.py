"""The chain database: py-evm's key-value store kept in one SQLite table, one transaction per block.

py-evm 0.12 ships only in-memory databases. `BlockBufferedDB` gives it a key-value
database whose writes stay in memory until `BlockBufferedDB.flush` commits them to
SQLite in a single transaction; the chain calls ``flush`` once per sealed block, after
the block and its canonical-head pointer are written. A crash (even ``kill -9``) before
the commit loses only the unsealed block; after it, the block is on disk. SQLite runs
in WAL mode with ``synchronous=NORMAL``, which keeps committed transactions through a
process crash (only a power loss may drop the last ones).

Reads go through a bounded cache of recently used entries so that the trie nodes
touched by every transaction (the sender's account, a token's balances) are not read
from SQLite each time.

A chain kept in memory uses the same buffer over a `MemoryStore`, so that a discarded
write (a block that failed halfway, an abandoned atomic change) is dropped there too.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Final, Protocol

from eth.db.atomic import AtomicDB
from eth.db.backends.base import BaseDB

from registry.chain.errors import ChainDataError

_DELETED: Final = None
DEFAULT_CACHE_ENTRIES: Final = 100_000
"""Entries kept in the read cache; trie nodes are 100-600 bytes, so about 50 MB at most."""


class KeyValueStore(Protocol):
    """Where `BlockBufferedDB` commits its writes."""

    def get(self, key: bytes) -> bytes | None:
        """The value stored under ``key``, or None."""
        ...

    def write_batch(self, puts: dict[bytes, bytes], deletes: list[bytes]) -> None:
        """Apply ``puts`` and ``deletes``: all of them or none."""
        ...

    def close(self) -> None:
        """Release the store."""
        ...


class MemoryStore:
    """A key-value table in memory (nothing survives the process), written in batches like `SQLiteStore`."""

    def __init__(self) -> None:
        self._data: dict[bytes, bytes] = {}
        self._lock = threading.Lock()

    def get(self, key: bytes) -> bytes | None:
        """The value stored under ``key``, or None."""
        return self._data.get(key)

    def write_batch(self, puts: dict[bytes, bytes], deletes: list[bytes]) -> None:
        """Apply ``puts`` and ``deletes`` (one lock, so a reader never sees half a batch of one key set)."""
        with self._lock:
            for key in deletes:
                self._data.pop(key, None)
            self._data.update(puts)

    def close(self) -> None:
        """Forget everything."""
        with self._lock:
            self._data.clear()


class SQLiteStore:
    """A key-value table in one SQLite file; every write goes through `write_batch`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        """The database file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # isolation_level=None: transactions are opened explicitly, one per batch.
            self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID"
            )
        except sqlite3.DatabaseError as exc:
            raise ChainDataError(
                f"cannot open the chain database {path}: {exc}; "
                "delete the chain's folder in the data directory to start a fresh chain"
            ) from exc
        # One connection is shared by the builder and the RPC threads; sqlite3 objects
        # are not safe to use from two threads at once.
        self._lock = threading.Lock()

    def get(self, key: bytes) -> bytes | None:
        """The value stored under ``key``, or None."""
        with self._lock:
            row = self._conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def write_batch(self, puts: dict[bytes, bytes], deletes: list[bytes]) -> None:
        """Apply ``puts`` and ``deletes`` in one transaction: all of them or none."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                if deletes:
                    self._conn.executemany("DELETE FROM kv WHERE key = ?", [(key,) for key in deletes])
                if puts:
                    self._conn.executemany(
                        "INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", puts.items()
                    )
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def count(self) -> int:
        """Number of stored entries (for diagnostics and tests)."""
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM kv").fetchone()[0])

    def close(self) -> None:
        """Close the connection; pending WAL content is checkpointed by SQLite."""
        with self._lock:
            self._conn.close()


class BlockBufferedDB(BaseDB):
    """A py-evm database over a `SQLiteStore` that holds writes in memory until `flush`."""

    def __init__(self, store: KeyValueStore, cache_entries: int = DEFAULT_CACHE_ENTRIES) -> None:
        self.store = store
        """Where flushed writes go."""
        self._pending: dict[bytes, bytes | None] = {}
        self._cache: dict[bytes, bytes] = {}
        self._cache_entries = cache_entries
        # Queries read while the builder writes the next block's trie nodes; the lock keeps
        # the pending map and the cache consistent between those threads.
        self._lock = threading.RLock()

    def __getitem__(self, key: bytes) -> bytes:
        with self._lock:
            if key in self._pending:
                value = self._pending[key]
                if value is _DELETED:
                    raise KeyError(key)
                return value
            cached = self._cache.get(key)
            if cached is not None:
                return cached
        stored = self.store.get(key)
        if stored is None:
            raise KeyError(key)
        with self._lock:
            self._remember(key, stored)
        return stored

    def __setitem__(self, key: bytes, value: bytes) -> None:
        with self._lock:
            self._pending[key] = value

    def __delitem__(self, key: bytes) -> None:
        with self._lock:
            if not self._exists(key):
                raise KeyError(key)
            self._pending[key] = _DELETED

    def _exists(self, key: bytes) -> bool:
        try:
            self[key]
        except KeyError:
            return False
        return True

    @property
    def pending_writes(self) -> int:
        """Number of writes waiting for the next `flush`."""
        return len(self._pending)

    def flush(self) -> None:
        """Commit every pending write to SQLite in one transaction."""
        with self._lock:
            if not self._pending:
                return
            puts = {key: value for key, value in self._pending.items() if value is not _DELETED}
            deletes = [key for key, value in self._pending.items() if value is _DELETED]
            self.store.write_batch(puts, deletes)
            for key in deletes:
                self._cache.pop(key, None)
            for key, value in puts.items():
                self._remember(key, value)
            self._pending.clear()

    def discard(self) -> None:
        """Forget every pending write (a block that failed halfway)."""
        with self._lock:
            self._pending.clear()

    def _remember(self, key: bytes, value: bytes) -> None:
        if self._cache_entries <= 0:
            return
        cache = self._cache
        cache[key] = value
        if len(cache) > self._cache_entries:
            # Drop the oldest tenth at once (dicts keep insertion order): cheaper than a
            # true LRU on every read, and recent trie nodes are what execution touches.
            for old in list(cache)[: self._cache_entries // 10]:
                del cache[old]


class ChainDatabase:
    """The database of one chain: py-evm's `AtomicDB` over a `BlockBufferedDB`, plus flush and close.

    ``path=None`` keeps everything in memory (nothing survives `close`); writes are buffered and
    committed (or discarded) the same way.
    """

    def __init__(self, path: Path | None, cache_entries: int = DEFAULT_CACHE_ENTRIES) -> None:
        self.path = path
        """The SQLite file, or None in memory."""
        # In memory the store is itself a dict: a read cache in front of it would only copy it.
        store: KeyValueStore = MemoryStore() if path is None else SQLiteStore(path)
        self._buffer = BlockBufferedDB(store, cache_entries if path is not None else 0)
        self.db = AtomicDB(self._buffer)
        self._closed = False

    @property
    def persistent(self) -> bool:
        """True when the chain lives on disk."""
        return self.path is not None

    def flush(self) -> None:
        """Commit everything written since the last flush (one SQLite transaction on disk)."""
        self._buffer.flush()

    def discard(self) -> None:
        """Drop everything written since the last flush."""
        self._buffer.discard()

    def close(self) -> None:
        """Flush nothing more and release the file."""
        if not self._closed:
            self._buffer.discard()
            self._buffer.store.close()
        self._closed = True
