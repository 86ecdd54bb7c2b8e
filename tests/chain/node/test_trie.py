"""The one-pass transaction/receipt trie equals py-evm's incremental trie."""

from __future__ import annotations

from eth.db.trie import make_trie_root_and_nodes
from hypothesis import given, settings
from hypothesis import strategies as st
from trie.hexary import HexaryTrie

from registry.chain.node.trie import ordered_trie_root_and_nodes


class _Item:
    def __init__(self, encoded: bytes) -> None:
        self._encoded = encoded

    def encode(self) -> bytes:
        return self._encoded


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=80), max_size=300))
def test_root_matches_py_evm(items):
    expected_root, _ = make_trie_root_and_nodes([_Item(item) for item in items])  # type: ignore[arg-type]
    root, _ = ordered_trie_root_and_nodes(items)
    assert root == expected_root


@settings(max_examples=20, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=120), min_size=1, max_size=200))
def test_stored_nodes_let_a_trie_read_every_item_back(items):
    import rlp

    root, nodes = ordered_trie_root_and_nodes(items)
    trie = HexaryTrie(dict(nodes), root)
    for index, item in enumerate(items):
        assert trie[rlp.encode(index)] == item


def test_known_sizes_around_branch_boundaries():
    for count in (0, 1, 2, 16, 17, 127, 128, 129, 256, 1000):
        items = [bytes([i % 251]) * (1 + i % 40) for i in range(count)]
        expected = make_trie_root_and_nodes([_Item(i) for i in items])[0]  # type: ignore[arg-type]
        assert ordered_trie_root_and_nodes(items)[0] == expected
