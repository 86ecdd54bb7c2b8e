"""The fast opcode table runs programs exactly as py-evm's own Prague table does.

Each program runs twice on the same state, once with py-evm's `PragueComputation` and
once with the registry's computation; success, error class, gas left, output, logs
and the final stack must agree.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eth.abc import ComputationAPI, StateAPI
from eth.vm import opcode_values as op
from eth.vm.forks.prague.computation import PragueComputation
from eth.vm.message import Message
from eth_typing import Address
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.chain.node.chain import EmbeddedChain
from registry.chain.node.interpreter import SPECIALISED, fast_opcode_table
from registry.chain.node.modes import PermissionlessMode
from registry.chain.node.vm import RegistryPragueComputation

CONTRACT = Address(b"\x0c" * 20)
CALLER = Address(b"\x0a" * 20)


@pytest.fixture(scope="module")
def state() -> Iterator[StateAPI]:
    chain = EmbeddedChain.open(PermissionlessMode(), data_dir=None, chain_id=771_099, sealing="manual")
    try:
        yield chain.state_at()
    finally:
        chain.close()


def run(
    computation_class: type[ComputationAPI], state: StateAPI, code: bytes, gas: int, data: bytes = b""
) -> dict[str, Any]:
    """Run ``code`` as the code of a call; return what a caller could observe, and the stack."""
    message = Message(
        gas=gas, to=CONTRACT, sender=CALLER, value=0, data=data, code=code, code_address=CONTRACT
    )
    context = state.get_transaction_context_class()(gas_price=1, origin=CALLER)
    snapshot = state.snapshot()
    try:
        computation = computation_class.apply_message(state, message, context)
    finally:
        state.revert(snapshot)
    values = computation._stack.values  # type: ignore[attr-defined]
    stack = [value if isinstance(value, int) else int.from_bytes(value, "big") for value in values]
    return {
        "error": type(computation.error) if computation.is_error else None,
        "gas": computation.get_gas_remaining(),
        "output": bytes(computation.output),
        "logs": computation.get_log_entries(),
        "stack": None if computation.is_error else stack,
    }


def assert_same(state: StateAPI, code: bytes, gas: int = 100_000, data: bytes = b"") -> dict[str, Any]:
    ours = run(RegistryPragueComputation, state, code, gas, data)
    theirs = run(PragueComputation, state, code, gas, data)
    assert ours == theirs, code.hex()
    return ours


def push(value: int, size: int = 32) -> bytes:
    return bytes([op.PUSH1 + size - 1]) + value.to_bytes(size, "big")


def test_every_specialised_opcode_is_in_the_fast_table() -> None:
    table = fast_opcode_table(PragueComputation.opcodes)
    stock = PragueComputation.opcodes
    for value, (mnemonic, _logic) in SPECIALISED.items():
        assert stock[value].mnemonic == mnemonic
        assert table[value] is not stock[value]
        assert table[value].mnemonic == mnemonic
    # Opcodes py-evm implements as classes (calls, creates) keep py-evm's entry.
    for value in (op.CALL, op.DELEGATECALL, op.STATICCALL, op.CREATE, op.CREATE2):
        assert table[value] is stock[value]


def test_arithmetic_wraps_and_shifts_saturate(state: StateAPI) -> None:
    top = 2**256 - 1
    cases = [
        push(top) + push(1) + bytes([op.ADD]),
        push(1) + push(0) + bytes([op.SUB]),
        push(3) + push(256) + bytes([op.SHL]),
        push(3) + push(255) + bytes([op.SHL]),
        push(top) + push(256) + bytes([op.SHR]),
        push(top) + push(255) + bytes([op.SHR]),
        push(0) + bytes([op.NOT, op.ISZERO]),
        push(5, 1) + push(7, 2) + bytes([op.LT]) + push(5, 1) + push(7, 2) + bytes([op.GT, op.EQ]),
        push(0b1100, 1)
        + push(0b1010, 1)
        + bytes([op.AND])
        + push(6, 1)
        + bytes([op.OR])
        + push(3, 1)
        + bytes([op.XOR]),
    ]
    results = [assert_same(state, code)["stack"] for code in cases]
    assert results[0] == [0]
    assert results[1] == [top]
    assert results[2] == [0]
    assert results[3] == [2**255]
    assert results[4] == [0]
    assert results[5] == [1]


def test_push_past_the_end_of_code_pads_with_zeros(state: StateAPI) -> None:
    assert assert_same(state, bytes([op.PUSH4, 0xAB]))["stack"] == [0xAB000000]


def test_stack_errors_match(state: StateAPI) -> None:
    assert assert_same(state, bytes([op.ADD]))["error"].__name__ == "InsufficientStack"
    assert assert_same(state, bytes([op.PUSH0, op.SWAP1]))["error"].__name__ == "InsufficientStack"
    assert assert_same(state, bytes([op.PUSH0, op.DUP2]))["error"].__name__ == "InsufficientStack"
    assert assert_same(state, bytes([op.POP]))["error"].__name__ == "InsufficientStack"
    full = bytes([op.PUSH0]) * 1024
    assert assert_same(state, full, gas=10_000)["stack"] == [0] * 1024
    for extra in (bytes([op.PUSH0]), bytes([op.PUSH1, 1]), bytes([op.DUP1])):
        assert assert_same(state, full + extra, gas=10_000)["error"].__name__ == "FullStack"


def test_jump_errors_match(state: StateAPI) -> None:
    # Into push data that looks like a JUMPDEST, past the end, and onto a non-JUMPDEST.
    into_push_data = push(4, 1) + bytes([op.JUMP, op.PUSH1, op.JUMPDEST])
    assert assert_same(state, into_push_data)["error"].__name__ == "InvalidInstruction"
    assert assert_same(state, push(200, 1) + bytes([op.JUMP]))["error"].__name__ == "InvalidJumpDestination"
    assert assert_same(state, push(2**255) + bytes([op.JUMP]))["error"].__name__ == "InvalidJumpDestination"
    assert assert_same(state, push(0, 1) + bytes([op.JUMP]))["error"].__name__ == "InvalidJumpDestination"
    taken = push(1, 1) + push(6, 1) + bytes([op.JUMPI, 0xFE, op.JUMPDEST]) + push(9, 1)
    assert assert_same(state, taken)["stack"] == [9]
    not_taken = push(0, 1) + push(200, 1) + bytes([op.JUMPI]) + push(9, 1)
    assert assert_same(state, not_taken)["stack"] == [9]


def test_running_out_of_gas_matches(state: StateAPI) -> None:
    code = bytes([op.PUSH0, op.PUSH0, op.ADD, op.JUMPDEST, op.PUSH0, op.DUP1, op.SWAP1])
    for gas in range(0, 20):
        assert_same(state, code, gas=gas)


INSTRUCTIONS = st.one_of(
    # Specialised instructions, with small immediates so that jumps land in the program.
    st.sampled_from(sorted(SPECIALISED)).flatmap(
        lambda value: (
            st.binary(min_size=value - op.PUSH1 + 1, max_size=value - op.PUSH1 + 1).map(
                lambda immediate: bytes([value]) + immediate
            )
            if op.PUSH1 <= value <= op.PUSH32
            else st.just(bytes([value]))
        )
    ),
    st.integers(0, 80).map(lambda target: bytes([op.PUSH1, target])),
    # Neighbours that go through py-evm's own logic: memory, calldata, signed maths, logs, return.
    st.sampled_from(
        [
            op.MSTORE,
            op.MLOAD,
            op.CALLDATALOAD,
            op.CALLDATASIZE,
            op.SLT,
            op.SGT,
            op.MUL,
            op.DIV,
            op.BYTE,
            op.SAR,
            op.LOG1,
            op.RETURN,
            op.REVERT,
            op.STOP,
            op.GAS,
            op.PC,
            op.MSIZE,
        ]
    ).map(lambda value: bytes([value])),
    # Any other byte but SELFDESTRUCT (py-evm warns about it on every run).
    st.integers(0, 0xFE).map(lambda value: bytes([value])),
)


STACK_MATERIAL = st.lists(
    st.one_of(st.integers(0, 2**256 - 1).map(push), st.integers(0, 300).map(lambda value: push(value, 2))),
    min_size=2,
    max_size=12,
).map(b"".join)
"""A few values pushed first, so that the instructions after them mostly have operands."""


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    program=st.tuples(STACK_MATERIAL, st.lists(INSTRUCTIONS, max_size=60).map(b"".join)).map(b"".join),
    gas=st.one_of(st.integers(0, 300), st.just(1_000_000)),
    data=st.binary(max_size=64),
)
def test_random_programs_run_identically(state: StateAPI, program: bytes, gas: int, data: bytes) -> None:
    assert_same(state, program, gas=gas, data=data)
