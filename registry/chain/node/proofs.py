"""Merkle proofs of accounts and storage slots (``eth_getProof``, EIP-1186).

The state of a block is a Merkle-Patricia trie keyed by ``keccak(address)``; each account's
storage is another keyed by ``keccak(slot)``. A proof is the list of RLP-encoded trie nodes
on the path from the root to the key (or to where the key would be, proving its absence),
which anyone can check against the block header's ``stateRoot`` without trusting the node.
Nodes shorter than 32 bytes are embedded in their parent and not listed separately, as in
geth.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import rlp
from eth.abc import DatabaseAPI
from eth.constants import BLANK_ROOT_HASH, EMPTY_SHA3
from eth.rlp.accounts import Account
from eth_utils.crypto import keccak
from rlp.sedes import big_endian_int


@dataclass(frozen=True)
class StorageProof:
    """One storage slot, its value and the proof of it."""

    slot: int
    value: int
    nodes: tuple[bytes, ...]


@dataclass(frozen=True)
class AccountProof:
    """An account's fields, the proof of them, and proofs of some of its storage slots."""

    address: bytes
    balance: int
    nonce: int
    code_hash: bytes
    storage_root: bytes
    nodes: tuple[bytes, ...]
    storage: tuple[StorageProof, ...]


def _encoded(path: Sequence[Any]) -> tuple[bytes, ...]:
    nodes = []
    for position, node in enumerate(path):
        encoded = rlp.encode(node)
        if position == 0 or len(encoded) >= 32:
            nodes.append(encoded)
    return tuple(nodes)


def prove(db: DatabaseAPI, state_root: bytes, address: bytes, slots: Sequence[int]) -> AccountProof:
    """The proof of ``address`` and its ``slots`` in the state with root ``state_root``, read from ``db``."""
    from trie.hexary import HexaryTrie

    accounts: Any = HexaryTrie(db, state_root)
    key = keccak(address)
    encoded_account = accounts.get(key)
    account = rlp.decode(encoded_account, sedes=Account) if encoded_account else Account()
    storage_root = bytes(account.storage_root)
    storage: Any = HexaryTrie(db, storage_root)
    storage_proofs = []
    for slot in slots:
        slot_key = keccak(slot.to_bytes(32, "big"))
        encoded_value = storage.get(slot_key) if storage_root != BLANK_ROOT_HASH else b""
        value = rlp.decode(encoded_value, sedes=big_endian_int) if encoded_value else 0
        nodes = _encoded(storage.get_proof(slot_key)) if storage_root != BLANK_ROOT_HASH else ()
        storage_proofs.append(StorageProof(slot=slot, value=value, nodes=nodes))
    return AccountProof(
        address=bytes(address),
        balance=int(account.balance),
        nonce=int(account.nonce),
        code_hash=bytes(account.code_hash) if encoded_account else bytes(EMPTY_SHA3),
        storage_root=storage_root,
        nodes=_encoded(accounts.get_proof(key)),
        storage=tuple(storage_proofs),
    )
