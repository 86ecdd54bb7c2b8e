"""The two RLP encodings the chain builds by hand on its hot paths.

The rlp package's generic serializer walks sedes objects for every value; an account
or a signature needs only these two rules of the encoding.
"""

from __future__ import annotations


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
