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

from collections.abc import Sequence
from typing import Any

import rlp
from eth.constants import BLANK_ROOT_HASH
from eth_utils.crypto import keccak

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
    def __init__(self) -> None:
        self.nodes: dict[bytes, bytes] = {}

    def reference(self, node: _Node) -> _Ref:
        encoded = rlp.encode(node)
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
    encoded = rlp.encode(root)
    root_hash = keccak(encoded)
    # The root is always stored by hash, even when short, because readers start from it.
    builder.nodes[root_hash] = encoded
    return root_hash, builder.nodes
