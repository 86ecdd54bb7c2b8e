"""Senders recovered from raw typed transactions are those py-evm recovers."""

from __future__ import annotations

from typing import Any

import pytest
from eth._utils.transactions import extract_transaction_sender
from eth.vm.forks.prague.transactions import PragueTransactionBuilder
from eth_account import Account
from eth_utils.address import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.chain.node.senders import recover_sender, remember_hash, signing_message

KEYS = st.binary(min_size=32, max_size=32).filter(lambda key: 0 < int.from_bytes(key, "big") < 2**255)
ACCESS_LIST = [{"address": "0x" + "22" * 20, "storageKeys": ["0x" + "33" * 32]}]

FIELDS = st.fixed_dictionaries(
    {"chainId": st.just(771_002), "nonce": st.integers(0, 2**64 - 1), "value": st.integers(0, 2**200)},
    optional={
        "data": st.binary(max_size=300),
        "to": st.binary(min_size=20, max_size=20).map(to_checksum_address),
    },
)
"""Transaction fields common to every type; without ``to`` the transaction creates a contract."""


def typed(kind: int, fields: dict[str, Any]) -> dict[str, Any]:
    fields = {**fields, "gas": 10**6}
    if kind == 2:
        return {**fields, "type": 2, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9}
    if kind == 1:
        return {**fields, "type": 1, "gasPrice": 10**9, "accessList": ACCESS_LIST}
    return {**fields, "gasPrice": 10**9}


def signed(key: bytes, fields: dict[str, Any]) -> bytes:
    return bytes(Account.from_key(key).sign_transaction(fields).raw_transaction)


@settings(max_examples=60, deadline=None)
@given(key=KEYS, kind=st.sampled_from([0, 1, 2]), fields=FIELDS)
def test_recovered_sender_matches_py_evm(key: bytes, kind: int, fields: dict[str, Any]) -> None:
    raw = signed(key, typed(kind, fields))
    tx = PragueTransactionBuilder.decode(raw)
    expected = bytes(extract_transaction_sender(tx))
    assert expected == bytes.fromhex(Account.from_key(key).address[2:])
    # Legacy transactions have no raw cut: py-evm's recovery answers for them.
    assert (signing_message(raw, tx) is None) == (kind == 0)
    assert recover_sender(raw, tx) == expected
    assert bytes(tx.sender) == expected


@settings(max_examples=30, deadline=None)
@given(
    key=KEYS,
    kind=st.sampled_from([1, 2]),
    fields=FIELDS,
    part=st.sampled_from(["r", "s"]),
    bit=st.integers(0, 255),
)
def test_a_tampered_signature_gives_py_evm_s_answer(
    key: bytes, kind: int, fields: dict[str, Any], part: str, bit: int
) -> None:
    """Flipping a bit of r or s gives another sender, or the same error, in both ways."""
    genuine = PragueTransactionBuilder.decode(signed(key, typed(kind, fields)))
    raw = genuine.copy(**{part: getattr(genuine, part) ^ (1 << bit)}).encode()
    try:
        expected = bytes(extract_transaction_sender(PragueTransactionBuilder.decode(raw)))
    except Exception as exc:
        with pytest.raises(type(exc)):
            recover_sender(raw, PragueTransactionBuilder.decode(raw))
        return
    assert expected != bytes.fromhex(Account.from_key(key).address[2:])
    assert recover_sender(raw, PragueTransactionBuilder.decode(raw)) == expected


def test_bytes_that_are_not_the_transaction_fall_back_to_py_evm() -> None:
    key = b"\x01" * 32
    raw = signed(key, typed(2, {"chainId": 771_002, "nonce": 0, "value": 1}))
    tx = PragueTransactionBuilder.decode(raw)
    assert signing_message(raw[:-1], tx) is None
    assert recover_sender(b"", tx) == bytes.fromhex(Account.from_key(key).address[2:])


@settings(max_examples=30, deadline=None)
@given(key=KEYS, kind=st.sampled_from([0, 1, 2]), fields=FIELDS)
def test_the_hash_remembered_from_the_raw_bytes_is_py_evms(
    key: bytes, kind: int, fields: dict[str, Any]
) -> None:
    raw = signed(key, typed(kind, fields))
    expected = bytes(PragueTransactionBuilder.decode(raw).hash)  # py-evm re-encodes and hashes
    tx = PragueTransactionBuilder.decode(raw)
    assert remember_hash(raw, tx) == expected
    assert bytes(tx.hash) == expected
