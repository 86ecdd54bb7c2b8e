"""Account storage whose trie is updated once per block, all changed slots in one pass.

py-evm keeps an account's storage changes in journals during a block and, when the
state root is computed, writes them into the account's storage trie one slot at a
time (`HexaryTrie.__setitem__`, which re-hashes the slot's whole path and prunes the
nodes it replaces). A batch of registrations gives the registry contract thousands
of new slots per block; those writes were about a third of the builder's time.
`OnePassStorageDB` hands the same changes to `registry.chain.node.trie.update_trie`
instead: the same root, the same nodes written to the same pending batch (which
py-evm commits with the block), the replaced nodes of that batch dropped as py-evm's
pruning drops them. Reads, journals, reverts and storage deletion are py-evm's.
"""

from __future__ import annotations

import threading

from eth.db.batch import BatchDB
from eth.db.cache import CacheDB
from eth.db.journal import JournalDB
from eth.db.storage import AccountStorageDB, StorageLookup
from eth.vm.interrupt import MissingStorageTrieNode
from eth_typing import Hash32
from trie.hexary import HexaryTrie

from registry.chain.node.trie import TrieReader, update_trie


class _NodeBatch(BatchDB):
    """py-evm's pending batch of trie nodes, knowing which nodes it wrote itself."""

    def __init__(self, wrapped_db: object) -> None:
        super().__init__(wrapped_db, read_through_deletes=True)  # type: ignore[arg-type]
        self.written: set[bytes] = set()

    def write_nodes(self, nodes: dict[bytes, bytes], replaced: list[bytes]) -> None:
        """Drop the ``replaced`` nodes written since the last commit, then add ``nodes``."""
        for node_hash in replaced:
            if node_hash in self.written and node_hash not in nodes:
                del self[node_hash]
                self.written.discard(node_hash)
        for node_hash, encoded in nodes.items():
            self[node_hash] = encoded
        self.written.update(nodes)

    def clear(self) -> None:
        super().clear()
        self.written = set()


SLOT_CACHE_ENTRIES = 100_000
"""Slot values kept by `SlotCache` (about 250 bytes each in memory: 25 MB at most)."""


class SlotCache:
    """Slot values read from storage tries, keyed by the trie's root hash and the hashed slot.

    A root hash fixes a trie's whole content, so an entry is never stale: rollbacks,
    reorganisations and reopening a chain only make some entries unused. A batch reads
    the same slots (roles, settings, counters) in every chunk's dry run and again when
    the chunk is executed, all at the same storage root until the block is sealed; py-evm
    walks the trie for each (its own read cache is emptied whenever a call is reverted).
    Shared by every chain of the process and its threads.
    """

    def __init__(self, entries: int = SLOT_CACHE_ENTRIES) -> None:
        self._values: dict[tuple[bytes, bytes], bytes] = {}
        self._entries = entries
        self._lock = threading.Lock()

    def get(self, root: bytes, hashed_slot: bytes) -> bytes | None:
        """The value stored under ``hashed_slot`` in the trie at ``root`` (b"" if none), if known."""
        return self._values.get((root, hashed_slot))

    def put(self, root: bytes, hashed_slot: bytes, value: bytes) -> None:
        """Remember ``value`` (b"" for an empty slot) for ``hashed_slot`` in the trie at ``root``."""
        with self._lock:
            values = self._values
            values[(root, hashed_slot)] = value
            if len(values) > self._entries:
                # Drop the oldest tenth at once (dicts keep insertion order).
                for old in list(values)[: self._entries // 10]:
                    del values[old]

    def __len__(self) -> int:
        return len(self._values)


slot_cache = SlotCache()
"""The process's `SlotCache`."""

NODE_CACHE_ENTRIES = 20_000
"""Decoded storage-trie nodes kept by `node_reader` (a branch takes about 1.4 KB decoded: 28 MB at most)."""

node_reader = TrieReader(NODE_CACHE_ENTRIES)
"""Reads of storage tries for every chain of the process."""


class OnePassStorageLookup(StorageLookup):
    """py-evm's slot-to-trie lookup, able to apply many slot changes at once (`apply`), reading
    through `slot_cache`."""

    def __getitem__(self, key: bytes) -> bytes:
        hashed_slot = self._decode_key(key)
        trie = self._write_trie
        if trie is None:
            root, db = self._starting_root_hash, self._db
        else:
            root, db = trie.root_hash, trie.db
        value = slot_cache.get(root, hashed_slot)
        if value is None:
            try:
                value = node_reader.get(db.__getitem__, root, hashed_slot)
            except KeyError as exc:
                raise MissingStorageTrieNode(
                    Hash32(exc.args[0]), self._starting_root_hash, Hash32(hashed_slot), None, self._address
                ) from exc
            slot_cache.put(root, hashed_slot, value)
        return value

    def _get_write_trie(self) -> HexaryTrie:
        if self._trie_nodes_batch is None:
            self._trie_nodes_batch = _NodeBatch(self._db)
        return super()._get_write_trie()

    def apply(self, puts: dict[bytes, bytes], deletes: list[bytes]) -> None:
        """Set the slots (big-endian keys) in ``puts`` and delete those in ``deletes``, in one trie pass."""
        write_trie = self._get_write_trie()
        batch = self._trie_nodes_batch
        assert isinstance(batch, _NodeBatch)
        changes: dict[bytes, bytes | None] = {self._decode_key(key): None for key in deletes}
        for key, value in puts.items():
            changes[self._decode_key(key)] = value
        try:
            root, nodes, replaced = update_trie(batch.__getitem__, write_trie.root_hash, changes)
        except KeyError as exc:
            raise MissingStorageTrieNode(
                Hash32(exc.args[0]), self._starting_root_hash, Hash32(b""), None, self._address
            ) from exc
        batch.write_nodes(nodes, replaced)
        # The pruning trie's reference counts are not kept: every write goes through here.
        self._write_trie = HexaryTrie(batch, root_hash=Hash32(root), prune=True)


class _WrittenCacheDB(CacheDB):
    """py-evm's read cache of decoded slots, told about the slots written past it."""

    def note_written(self, puts: dict[bytes, bytes], deletes: list[bytes]) -> None:
        """Keep the cache as py-evm's item-by-item writes through it would have left it."""
        cache = self._cached_values
        for key in deletes:
            if key in cache:
                del cache[key]
        for key, value in puts.items():
            cache[key] = value


class OnePassStorageDB(AccountStorageDB):
    """py-evm's account storage, committing a block's slot changes to the trie in one pass."""

    def __init__(self, db: object, storage_root: Hash32, address: object) -> None:
        super().__init__(db, storage_root, address)  # type: ignore[arg-type]
        self._storage_lookup = OnePassStorageLookup(db, storage_root, address)  # type: ignore[arg-type]
        self._storage_cache = _WrittenCacheDB(self._storage_lookup)
        self._locked_changes = JournalDB(self._storage_cache)
        self._journal_storage = JournalDB(self._locked_changes)

    def make_storage_root(self) -> None:
        """Lock the pending changes and apply them to the storage trie (what py-evm does, in one pass)."""
        self.lock_changes()
        diff = self._locked_changes.diff()
        puts = dict(diff.pending_items())
        deletes = list(diff.deleted_keys())
        if not puts and not deletes:
            self._locked_changes.reset()
            return
        lookup = self._storage_lookup
        assert isinstance(lookup, OnePassStorageLookup)
        lookup.apply(puts, deletes)
        cache = self._storage_cache
        assert isinstance(cache, _WrittenCacheDB)
        cache.note_written(puts, deletes)
        self._locked_changes.reset()
