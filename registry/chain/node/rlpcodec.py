"""The two RLP encodings the chain builds by hand on its hot paths.

The rlp package's generic serializer walks sedes objects for every value; an account
or a signature needs only these two rules of the encoding.
"""

from __future__ import annotations

from typing import Any


def encode_uint(value: int) -> bytes:
    """RLP of a non-negative integer (big-endian, no leading zeros; 0 is the empty string)."""
    if value == 0:
        return b"\x80"
    if value < 0x80:
        return bytes((value,))
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return bytes((0x80 + len(raw),)) + raw


def list_prefix(length: int) -> bytes:
    """The RLP prefix of a list whose encoded items take ``length`` bytes."""
    if length < 56:
        return bytes((0xC0 + length,))
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((0xF7 + len(size),)) + size


def _string_prefix(length: int) -> bytes:
    if length < 56:
        return bytes((0x80 + length,))
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((0xB7 + len(size),)) + size


def encode_node(item: bytes | list[Any]) -> bytes:
    """RLP of a trie node: a byte string, or a list of byte strings and nested lists."""
    if isinstance(item, bytes):
        if len(item) == 1 and item[0] < 0x80:
            return item
        return _string_prefix(len(item)) + item
    payload = b"".join([encode_node(child) for child in item])
    return list_prefix(len(payload)) + payload


def _item_bounds(data: bytes, start: int) -> tuple[int, int, bool]:
    """Where the payload of the item at ``start`` begins and ends, and whether it is a list."""
    first = data[start]
    if first < 0x80:
        return start, start + 1, False
    if first < 0xB8:
        return start + 1, start + 1 + first - 0x80, False
    if first < 0xC0:
        size = first - 0xB7
        length = int.from_bytes(data[start + 1 : start + 1 + size], "big")
        return start + 1 + size, start + 1 + size + length, False
    if first < 0xF8:
        return start + 1, start + 1 + first - 0xC0, True
    size = first - 0xF7
    length = int.from_bytes(data[start + 1 : start + 1 + size], "big")
    return start + 1 + size, start + 1 + size + length, True


def _decode_at(data: bytes, start: int) -> tuple[bytes | list[Any], int]:
    begin, end, is_list = _item_bounds(data, start)
    if not is_list:
        return data[begin:end], end
    items: list[Any] = []
    position = begin
    while position < end:
        item, position = _decode_at(data, position)
        items.append(item)
    return items, end


def decode_node(data: bytes) -> bytes | list[Any]:
    """The byte strings and lists of a trie node's RLP (what ``rlp.decode`` returns for it).

    Raises:
        ValueError: ``data`` is not exactly one RLP item.
    """
    item, end = _decode_at(data, 0)
    if end != len(data):
        raise ValueError(f"trailing bytes after an RLP item: {len(data) - end}")
    return item
