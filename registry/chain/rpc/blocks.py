"""Resolving the block a request names: a number, a tag, or an EIP-1898 object."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eth.abc import BlockHeaderAPI

from registry.chain.errors import BlockNotFoundError
from registry.chain.rpc import serializers as ser

if TYPE_CHECKING:
    from registry.chain.node.chain import EmbeddedChain

HEAD_TAGS = ("latest", "pending", "safe", "finalized")
"""Tags that name the head: every sealed block is final on these chains, nothing is pending in a block."""


def resolve_header(chain: EmbeddedChain, block_id: Any) -> BlockHeaderAPI:
    """The canonical header named by ``block_id`` (checked for shape by `registry.chain.rpc.params`).

    Raises:
        BlockNotFoundError: no such block, or a hash that is not canonical with ``requireCanonical``.
    """
    if block_id is None or block_id in HEAD_TAGS:
        return chain.head()
    if block_id == "earliest":
        return chain.get_header(0)
    if isinstance(block_id, dict):
        if "blockHash" in block_id:
            header = chain.get_header(ser.parse_data(block_id["blockHash"], "blockHash", 32))
            if block_id.get("requireCanonical") and not chain.is_canonical(header):
                raise BlockNotFoundError(f"block 0x{header.hash.hex()} is not canonical")
            return header
        return resolve_header(chain, block_id.get("blockNumber"))
    return chain.get_header(ser.parse_quantity(block_id, "block number"))


def resolve_number(chain: EmbeddedChain, block_id: Any, head: int) -> int:
    """The number ``block_id`` names, which may lie past ``head`` (ranges are clamped by the caller)."""
    if isinstance(block_id, int):
        return block_id
    if isinstance(block_id, dict) and "blockHash" not in block_id:
        return resolve_number(chain, block_id.get("blockNumber"), head)
    if block_id is None or block_id in HEAD_TAGS:
        return head
    return int(resolve_header(chain, block_id).block_number)
