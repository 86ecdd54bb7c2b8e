"""An independent Merkle-Patricia proof checker (EIP-1186), written from the Yellow Paper for the tests.

It shares no code with the node: the node builds proofs with the ``trie`` package, this walks them.
"""

from __future__ import annotations

from typing import Any

import rlp
from eth_utils.crypto import keccak

EMPTY_TRIE_ROOT = keccak(rlp.encode(b""))


class InvalidProofError(AssertionError):
    """The proof does not lead from the root to the key."""


def _nibbles(key: bytes) -> list[int]:
    return [half for byte in key for half in (byte >> 4, byte & 0x0F)]


def _hex_prefix(encoded: bytes) -> tuple[list[int], bool]:
    """(nibbles, is_leaf) of a compact-encoded path."""
    flag = encoded[0] >> 4
    nibbles = _nibbles(encoded)[1 if flag & 1 else 2 :]
    return nibbles, bool(flag & 2)


def verify_proof(root: bytes, key: bytes, proof: list[bytes]) -> bytes | None:
    """The value stored under ``key`` in the trie with ``root``, as the proof shows it, or None when
    the proof shows there is none.

    Raises:
        InvalidProofError: a node the walk needs is missing or the path is malformed.
    """
    by_hash = {keccak(node): node for node in proof}
    path = _nibbles(key)
    position = 0
    reference: Any = root
    if root == EMPTY_TRIE_ROOT:
        return None
    while True:
        if isinstance(reference, bytes):
            if len(reference) != 32 or reference not in by_hash:
                raise InvalidProofError(f"the proof lacks node 0x{bytes(reference).hex()}")
            node = rlp.decode(by_hash[reference])
        else:
            node = reference  # a node shorter than 32 bytes, embedded in its parent
        if node == b"":
            return None
        if len(node) == 17:
            if position == len(path):
                return node[16] or None
            reference = node[path[position]]
            position += 1
            if reference == b"":
                return None
            continue
        if len(node) != 2:
            raise InvalidProofError(f"a trie node has {len(node)} items")
        nibbles, is_leaf = _hex_prefix(node[0])
        rest = path[position:]
        if is_leaf:
            return node[1] if rest == nibbles else None
        if rest[: len(nibbles)] != nibbles:
            return None
        position += len(nibbles)
        reference = node[1]
