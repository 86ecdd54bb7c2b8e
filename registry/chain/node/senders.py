"""Recover the sender of a typed transaction from the bytes it arrived in.

py-evm recovers a sender by re-encoding the decoded transaction without its signature
(pure-Python RLP), hashing it, and recovering the key through eth-keys' objects. For a
typed transaction (EIP-2718: ``type || rlp([fields..., y_parity, r, s])``) the signed
message is the same bytes without the three signature items, under a new list prefix,
so it can be cut out of the raw bytes and the key recovered by coincurve directly:
about a third of the cost, paid on every submission.

The raw bytes are the decoded transaction's own (py-evm decodes canonical RLP only),
and the cut is checked against the decoded signature; anything unexpected falls back
to py-evm's recovery.
"""

from __future__ import annotations

import coincurve
from eth.abc import SignedTransactionAPI
from eth_hash.auto import keccak
from eth_keys.exceptions import BadSignature

from registry.chain.node.rlpcodec import encode_uint, list_prefix

SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def signing_message(raw: bytes, tx: SignedTransactionAPI) -> bytes | None:
    """The message a typed transaction's signature covers, cut from ``raw``; None if not typed."""
    if not raw or raw[0] >= 0x7F or len(raw) < 3:
        return None
    y_parity = getattr(tx, "y_parity", None)
    if y_parity not in (0, 1):
        return None
    signature = encode_uint(y_parity) + encode_uint(tx.r) + encode_uint(tx.s)
    if not raw.endswith(signature):
        return None
    first = raw[1]
    if first < 0xC0:
        return None
    start = 2 if first < 0xF8 else 2 + (first - 0xF7)
    unsigned = raw[start : len(raw) - len(signature)]
    return raw[:1] + list_prefix(len(unsigned)) + unsigned


def remember_hash(raw: bytes, tx: SignedTransactionAPI) -> bytes:
    """Cache ``keccak(raw)`` as the hash of ``tx`` decoded from ``raw``, and return it.

    The hash of a signed transaction is the keccak of its canonical encoding, which ``raw``
    is; py-evm would otherwise re-encode the decoded transaction (pure-Python RLP) the first
    time the hash is read, and every submission reads it.
    """
    tx_hash = keccak(raw)
    tx.__dict__["hash"] = tx_hash
    return tx_hash


def recover_sender(raw: bytes, tx: SignedTransactionAPI) -> bytes:
    """The sender of ``tx``, decoded from ``raw``; cached on ``tx`` as py-evm caches it.

    Raises:
        eth_keys.exceptions.BadSignature: no key signed this message with this signature
            (and whatever else py-evm raises, on transactions the fast path does not take).
    """
    message = signing_message(raw, tx)
    if message is None or not (0 < tx.r < SECP256K1_ORDER and 0 < tx.s < SECP256K1_ORDER):
        return bytes(tx.sender)
    signature = tx.r.to_bytes(32, "big") + tx.s.to_bytes(32, "big") + bytes((tx.y_parity,))
    try:
        public_key = coincurve.PublicKey.from_signature_and_message(signature, keccak(message), hasher=None)
    except ValueError as exc:
        raise BadSignature(str(exc)) from exc  # what eth-keys raises for the same signature
    sender = keccak(public_key.format(compressed=False)[1:])[12:]
    # py-evm keeps a recovered sender in the transaction's ``sender`` cached property.
    tx.__dict__["sender"] = sender
    return sender
