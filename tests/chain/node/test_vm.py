"""The registry's py-evm subclasses behave exactly as py-evm's own classes."""

from __future__ import annotations

import rlp
from eth.rlp.accounts import Account
from eth.vm.code_stream import CodeStream
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.chain.node.vm import AnalysedCodeStream, encode_account, push_data_positions

PUSH2, JUMPDEST = 0x61, 0x5B


def test_push_immediates_are_not_jump_targets() -> None:
    code = bytes([PUSH2, JUMPDEST, JUMPDEST, JUMPDEST])
    assert push_data_positions(code) == frozenset({1, 2})
    stream = AnalysedCodeStream(code)
    assert [stream.is_valid_opcode(i) for i in range(5)] == [True, False, False, True, False]


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=0, max_size=300))
def test_jump_analysis_matches_py_evm_on_any_code(code: bytes) -> None:
    ours, theirs = AnalysedCodeStream(code), CodeStream(code)
    for position in range(len(code) + 2):
        assert ours.is_valid_opcode(position) == theirs.is_valid_opcode(position), position


@settings(max_examples=300, deadline=None)
@given(
    nonce=st.integers(0, 2**64 - 1),
    balance=st.one_of(st.integers(0, 300), st.integers(0, 2**256 - 1)),
    storage_root=st.binary(min_size=32, max_size=32),
    code_hash=st.binary(min_size=32, max_size=32),
)
def test_account_encoding_matches_rlp(
    nonce: int, balance: int, storage_root: bytes, code_hash: bytes
) -> None:
    account = Account(nonce, balance, storage_root, code_hash)
    assert encode_account(account) == rlp.encode(account, sedes=Account)
    assert rlp.decode(encode_account(account), sedes=Account) == account
