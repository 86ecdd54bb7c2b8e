"""Roots of a block's transaction and receipt tries, built in one pass.

A block's transactions and receipts are stored in Merkle-Patricia tries keyed by
``rlp(index)``. py-evm inserts the items one by one into a `HexaryTrie`, re-hashing
the path at each insertion, which costs about a quarter of the time of a block of
simple transfers. Here the whole trie is built at once from the complete list, each
node encoded and hashed exactly once. The result is identical (the tests compare it
with py-evm's on random inputs), and the nodes are stored the same way, so py-evm reads
transactions and receipts back from them unchanged.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import rlp
from eth.constants import BLANK_ROOT_HASH
from eth_hash.auto import keccak

from registry.chain.node.rlpcodec import decode_node, encode_node

_Node = list[Any]
_Ref = bytes | _Node


def _nibbles(key: bytes) -> tuple[int, ...]:
    out: list[int] = []
    for byte in key:
        out.append(byte >> 4)
        out.append(byte & 0x0F)
    return tuple(out)


def _hex_prefix(nibbles: Sequence[int], leaf: bool) -> bytes:
    flag = 2 if leaf else 0
    if len(nibbles) % 2:
        packed = [((flag + 1) << 4) | nibbles[0]]
        rest = nibbles[1:]
    else:
        packed = [flag << 4]
        rest = nibbles
    packed.extend((rest[i] << 4) | rest[i + 1] for i in range(0, len(rest), 2))
    return bytes(packed)


def _common_prefix_length(keys: Sequence[tuple[int, ...]], depth: int) -> int:
    first = keys[0]
    length = len(first) - depth
    for key in keys[1:]:
        limit = min(length, len(key) - depth)
        i = 0
        while i < limit and key[depth + i] == first[depth + i]:
            i += 1
        length = i
        if length == 0:
            break
    return length


class _Builder:
    def __init__(self, nodes: dict[bytes, bytes] | None = None) -> None:
        self.nodes: dict[bytes, bytes] = {} if nodes is None else nodes

    def reference(self, node: _Node) -> _Ref:
        encoded = encode_node(node)
        if len(encoded) < 32:
            # Short nodes are embedded in their parent instead of referenced by hash.
            return node
        node_hash = keccak(encoded)
        self.nodes[node_hash] = encoded
        return node_hash

    def build(self, pairs: list[tuple[tuple[int, ...], bytes]], depth: int) -> _Node:
        if len(pairs) == 1:
            key, value = pairs[0]
            return [_hex_prefix(key[depth:], leaf=True), value]
        prefix = _common_prefix_length([key for key, _ in pairs], depth)
        if prefix:
            child = self.build(pairs, depth + prefix)
            return [_hex_prefix(pairs[0][0][depth : depth + prefix], leaf=False), self.reference(child)]
        branch: list[Any] = [b""] * 17
        groups: dict[int, list[tuple[tuple[int, ...], bytes]]] = {}
        for key, value in pairs:
            if len(key) == depth:
                branch[16] = value
            else:
                groups.setdefault(key[depth], []).append((key, value))
        for nibble, group in groups.items():
            branch[nibble] = self.reference(self.build(group, depth + 1))
        return branch


def ordered_trie_root_and_nodes(items: Sequence[bytes]) -> tuple[bytes, dict[bytes, bytes]]:
    """Root hash and nodes (hash -> encoded node) of the trie mapping ``rlp(i)`` to ``items[i]``."""
    if not items:
        return BLANK_ROOT_HASH, {}
    builder = _Builder()
    pairs = [(_nibbles(rlp.encode(index)), item) for index, item in enumerate(items)]
    root = builder.build(pairs, 0)
    encoded = encode_node(root)
    root_hash = keccak(encoded)
    # The root is always stored by hash, even when short, because readers start from it.
    builder.nodes[root_hash] = encoded
    return root_hash, builder.nodes


_BLANK: Any = b""
_Changes = list[tuple[tuple[int, ...], bytes | None]]


def _decode_path(encoded: bytes) -> tuple[tuple[int, ...], bool]:
    """The nibbles of a hex-prefixed path and whether it ends a leaf."""
    nibbles = _nibbles(encoded)
    flag = nibbles[0]
    leaf = flag >= 2
    return (nibbles[1:] if flag & 1 else nibbles[2:]), leaf


class TrieUpdate:
    """Apply a set of changes to a stored Merkle-Patricia trie in one pass.

    py-evm writes a storage trie one key at a time (`HexaryTrie.__setitem__`), re-encoding
    and re-hashing every node on the key's path for each of them: an account given a
    thousand new slots in a block hashes its upper nodes a thousand times. Here all the
    changes are routed down the trie together and each changed node is encoded and hashed
    once, bottom up. The root is the one the one-by-one writes give, and the nodes written
    are the nodes of the new trie on the changed paths (the ones py-evm's pruning trie
    keeps); nodes replaced are listed in `replaced`.
    """

    def __init__(self, read: Any) -> None:
        self._read = read
        self.nodes: dict[bytes, bytes] = {}
        """New nodes, hash -> encoding."""
        self.replaced: list[bytes] = []
        """Hashes of stored nodes that the new trie no longer holds at their place."""
        self._builder = _Builder(self.nodes)

    def apply(self, root_hash: bytes, changes: dict[bytes, bytes | None]) -> bytes:
        """The root after setting each key of ``changes`` to its value (None or b"" deletes it)."""
        items: _Changes = sorted((_nibbles(key), value or None) for key, value in changes.items())
        if not items:
            return root_hash
        root = self._resolve(root_hash) if root_hash != BLANK_ROOT_HASH else _BLANK
        new_root = self._update(root, 0, items)
        if new_root == _BLANK:
            return BLANK_ROOT_HASH
        encoded = encode_node(new_root)
        new_hash = keccak(encoded)
        # The root is stored by hash even when short, as py-evm stores it.
        self.nodes[new_hash] = encoded
        return new_hash

    def _resolve(self, ref: Any) -> Any:
        if isinstance(ref, list) or ref == _BLANK:
            return ref
        self.replaced.append(ref)
        return decode_node(self._read(ref))

    def _reference(self, node: Any) -> Any:
        return _BLANK if node == _BLANK else self._builder.reference(node)

    def _build(self, pairs: list[tuple[tuple[int, ...], bytes]], depth: int) -> Any:
        return self._builder.build(pairs, depth)

    def _update(self, node: Any, depth: int, changes: _Changes) -> Any:
        if node == _BLANK:
            puts = [(key, value) for key, value in changes if value is not None]
            return self._build(puts, depth) if puts else _BLANK
        if len(node) == 17:
            return self._update_branch(list(node), depth, changes)
        path, leaf = _decode_path(node[0])
        if leaf:
            merged: dict[tuple[int, ...], bytes | None] = {changes[0][0][:depth] + path: node[1]}
            merged.update(changes)
            puts = sorted((key, value) for key, value in merged.items() if value is not None)
            return self._build(puts, depth) if puts else _BLANK
        # An extension: follow it if every change goes through it, else split it where they part.
        length = len(path)
        shared = length
        for key, _ in changes:
            limit = min(shared, len(key) - depth)
            i = 0
            while i < limit and key[depth + i] == path[i]:
                i += 1
            shared = i
            if shared == 0:
                break
        if shared == length:
            child = self._update(self._resolve(node[1]), depth + length, changes)
            return self._prefixed(path, child)
        branch: list[Any] = [_BLANK] * 17
        rest = path[shared + 1 :]
        branch[path[shared]] = [_hex_prefix(rest, leaf=False), node[1]] if rest else node[1]
        return self._prefixed(path[:shared], self._update_branch(branch, depth + shared, changes))

    def _update_branch(self, branch: list[Any], depth: int, changes: _Changes) -> Any:
        groups: dict[int, _Changes] = {}
        for key, value in changes:
            if len(key) == depth:
                branch[16] = value if value is not None else _BLANK
            else:
                groups.setdefault(key[depth], []).append((key, value))
        changed: set[int] = set()
        for nibble, group in groups.items():
            branch[nibble] = self._update(self._resolve(branch[nibble]), depth + 1, group)
            changed.add(nibble)
        occupied = [nibble for nibble in range(16) if branch[nibble] != _BLANK]
        if len(occupied) + (branch[16] != _BLANK) >= 2:
            for nibble in occupied:
                # Changed children are decoded nodes; an unchanged one may be a node made
                # from a split extension, which is stored here if it is long enough.
                if nibble in changed or isinstance(branch[nibble], list):
                    branch[nibble] = self._reference(branch[nibble])
            return branch
        if not occupied:
            return [_hex_prefix((), leaf=True), branch[16]] if branch[16] != _BLANK else _BLANK
        nibble = occupied[0]
        child = branch[nibble]
        if nibble not in changed and not isinstance(child, list):
            decoded = decode_node(self._read(child))
            if len(decoded) == 17:
                # A branch keeps its place (and its stored node) under a one-nibble extension.
                return [_hex_prefix((nibble,), leaf=False), child]
            self.replaced.append(child)
            child = decoded
        return self._prefixed((nibble,), child)

    def _prefixed(self, prefix: tuple[int, ...], node: Any) -> Any:
        """``node`` reached through the nibbles ``prefix``, merged into it where it is a leaf or extension."""
        if not prefix or node == _BLANK:
            return node
        if len(node) == 17:
            return [_hex_prefix(prefix, leaf=False), self._reference(node)]
        path, leaf = _decode_path(node[0])
        return [_hex_prefix(prefix + path, leaf=leaf), node[1]]


def update_trie(
    read: Any, root_hash: bytes, changes: dict[bytes, bytes | None]
) -> tuple[bytes, dict[bytes, bytes], list[bytes]]:
    """New root, new nodes and replaced node hashes after applying ``changes`` to the trie at ``root_hash``.

    ``read`` returns a stored node's encoding from its hash. A value of None or b"" deletes the key.
    """
    update = TrieUpdate(read)
    root = update.apply(root_hash, changes)
    return root, update.nodes, update.replaced


class TrieReader:
    """Reads of stored tries by key, through a bounded cache of decoded nodes.

    Nodes are keyed by their hash, which fixes their content, so a cached node is never
    stale (rollbacks and reopening only leave some unused). py-evm's `HexaryTrie` decodes
    every node on a key's path at each read; the upper nodes of a contract's storage trie
    are on every path.
    """

    def __init__(self, entries: int) -> None:
        self._nodes: dict[bytes, Any] = {}
        self._entries = entries
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._nodes)

    def _node(self, read: Callable[[bytes], bytes], node_hash: bytes) -> Any:
        node = self._nodes.get(node_hash)
        if node is None:
            node = decode_node(read(node_hash))
            with self._lock:
                nodes = self._nodes
                nodes[node_hash] = node
                if len(nodes) > self._entries:
                    # Drop the oldest tenth at once (dicts keep insertion order).
                    for old in list(nodes)[: self._entries // 10]:
                        del nodes[old]
        return node

    def get(self, read: Callable[[bytes], bytes], root_hash: bytes, key: bytes) -> bytes:
        """The value under ``key`` in the trie at ``root_hash`` (b"" if none); ``read`` gives a stored node.

        Raises:
            KeyError: a node on the key's path is not stored (its hash is the argument).
        """
        if root_hash == BLANK_ROOT_HASH:
            return b""
        nibbles = _nibbles(key)
        node = self._node(read, root_hash)
        depth = 0
        while True:
            if node == _BLANK:
                return b""
            if len(node) == 17:
                if depth == len(nibbles):
                    return bytes(node[16])
                ref = node[nibbles[depth]]
                depth += 1
            else:
                path, leaf = _decode_path(node[0])
                end = depth + len(path)
                if nibbles[depth:end] != path:
                    return b""
                if leaf:
                    return bytes(node[1]) if end == len(nibbles) else b""
                ref = node[1]
                depth = end
            node = ref if isinstance(ref, list) or ref == _BLANK else self._node(read, ref)
