"""A faster opcode table for py-evm: the same EVM, fewer Python calls per instruction.

py-evm runs every instruction through three layers before its logic: the opcode
object's ``__call__``, the computation's ``consume_gas`` and the gas meter's
``consume_gas``; a ``PUSH1`` then goes through four more (``push_XX``, ``code.read``,
``stack_push_bytes``, the stack's checks). An ERC-20 transfer executes about 300
instructions, half of them pushes, dups, swaps and pops, so those calls are most of
the interpreter's time.

`fast_opcode_table` builds, from a computation class's own table, one plain function
per opcode that charges the constant gas itself and then runs:

- for the stack instructions (PUSH0-PUSH32, DUP1-DUP16, SWAP1-SWAP16, POP, JUMPDEST)
  and the simple arithmetic, comparison and bitwise ones, the operation itself,
  written against py-evm's stack list (ints and big-endian bytes, as py-evm keeps it);
- for every other instruction, py-evm's own logic function, unchanged.

Opcodes that py-evm implements as classes or wrappers (calls, creates, the
static-call guard of ``LOG``) keep their py-evm entry. Gas, stack contents, errors
(`OutOfGas`, `InsufficientStack`, `FullStack`, the jump errors) and results are
those of py-evm's table; the differential test in ``tests/chain/node/test_interpreter.py``
runs random programs on both.

This relies on three attributes of py-evm 0.12 (pinned): ``computation._gas_meter``,
``computation._stack.values`` and ``CodeStream._raw_code_bytes``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from eth.abc import OpcodeAPI
from eth.exceptions import FullStack, InsufficientStack, InvalidInstruction, InvalidJumpDestination, OutOfGas
from eth.vm import opcode_values as op

UINT_256_MAX = 2**256 - 1
STACK_LIMIT = 1024
_JUMPDEST = op.JUMPDEST

Logic = Callable[[Any], None]
"""An instruction's work, given the computation; its constant gas is already charged."""


def _out_of_gas(needed: int, remaining: int, mnemonic: str) -> OutOfGas:
    return OutOfGas(f"Out of gas: Needed {needed} - Remaining {remaining} - Reason: {mnemonic}")


def _charged(logic: Logic, gas_cost: int, mnemonic: str) -> Callable[..., None]:
    """``logic`` preceded by the charge of ``gas_cost``, as one function of the computation."""

    def instruction(computation: Any) -> None:
        meter = computation._gas_meter
        remaining = meter.gas_remaining
        if gas_cost > remaining:
            raise _out_of_gas(gas_cost, remaining, mnemonic)
        meter.gas_remaining = remaining - gas_cost
        logic(computation)

    instruction.mnemonic = mnemonic  # type: ignore[attr-defined]  # py-evm's debug log reads it
    return instruction


def _as_int(value: int | bytes) -> int:
    return value if type(value) is int else int.from_bytes(value, "big")  # type: ignore[arg-type]


# -- stack instructions ----------------------------------------------------------------------------


def _push(size: int) -> Logic:
    def push(computation: Any) -> None:
        values = computation._stack.values
        if len(values) >= STACK_LIMIT:
            raise FullStack("Stack limit reached")
        code = computation.code
        start = code.program_counter
        code.program_counter = start + size
        raw = code._raw_code_bytes[start : start + size]
        values.append(raw if len(raw) == size else raw.ljust(size, b"\x00"))

    return push


def _dup(position: int) -> Logic:
    def dup(computation: Any) -> None:
        values = computation._stack.values
        if len(values) >= STACK_LIMIT:
            raise FullStack("Stack limit reached")
        if len(values) < position:
            raise InsufficientStack(f"Insufficient stack items for DUP{position}")
        values.append(values[-position])

    return dup


def _swap(position: int) -> Logic:
    other = -position - 1

    def swap(computation: Any) -> None:
        values = computation._stack.values
        if len(values) <= position:
            raise InsufficientStack(f"Insufficient stack items for SWAP{position}")
        values[-1], values[other] = values[other], values[-1]

    return swap


def _pop(computation: Any) -> None:
    values = computation._stack.values
    if not values:
        raise InsufficientStack("Wanted 1 stack item, had none")
    values.pop()


def _jumpdest(computation: Any) -> None:
    return None


# -- jumps ------------------------------------------------------------------------------------------


def _jump_to(computation: Any, destination: int) -> None:
    code = computation.code
    code.program_counter = destination
    if destination >= len(code) or code._raw_code_bytes[destination] != _JUMPDEST:
        raise InvalidJumpDestination("Invalid Jump Destination")
    if not code.is_valid_opcode(destination):
        raise InvalidInstruction("Jump resulted in invalid instruction")


def _jump(computation: Any) -> None:
    values = computation._stack.values
    if not values:
        raise InsufficientStack("Wanted 1 stack item, had none")
    _jump_to(computation, _as_int(values.pop()))


def _jumpi(computation: Any) -> None:
    values = computation._stack.values
    if len(values) < 2:
        raise InsufficientStack(f"Wanted 2 stack items, only had {len(values)}")
    destination, condition = values.pop(), values.pop()
    if _as_int(condition):
        _jump_to(computation, _as_int(destination))


# -- arithmetic, comparison, bitwise ------------------------------------------------------------------


def _binary(operation: Callable[[int, int], int]) -> Logic:
    """An instruction popping ``a`` (the top) then ``b`` and pushing ``operation(a, b)``."""

    def binary(computation: Any) -> None:
        values = computation._stack.values
        if len(values) < 2:
            raise InsufficientStack(f"Wanted 2 stack items, only had {len(values)}")
        a = values.pop()
        b = values.pop()
        values.append(operation(_as_int(a), _as_int(b)))

    return binary


def _unary(operation: Callable[[int], int]) -> Logic:
    def unary(computation: Any) -> None:
        values = computation._stack.values
        if not values:
            raise InsufficientStack("Wanted 1 stack item, had none")
        values.append(operation(_as_int(values.pop())))

    return unary


def _shl(shift: int, value: int) -> int:
    return 0 if shift >= 256 else (value << shift) & UINT_256_MAX


def _shr(shift: int, value: int) -> int:
    return 0 if shift >= 256 else value >> shift


SPECIALISED: dict[int, tuple[str, Logic]] = {
    op.POP: ("POP", _pop),
    op.JUMPDEST: ("JUMPDEST", _jumpdest),
    op.JUMP: ("JUMP", _jump),
    op.JUMPI: ("JUMPI", _jumpi),
    op.ADD: ("ADD", _binary(lambda a, b: (a + b) & UINT_256_MAX)),
    op.SUB: ("SUB", _binary(lambda a, b: (a - b) & UINT_256_MAX)),
    op.LT: ("LT", _binary(lambda a, b: int(a < b))),
    op.GT: ("GT", _binary(lambda a, b: int(a > b))),
    op.EQ: ("EQ", _binary(lambda a, b: int(a == b))),
    op.AND: ("AND", _binary(lambda a, b: a & b)),
    op.OR: ("OR", _binary(lambda a, b: a | b)),
    op.XOR: ("XOR", _binary(lambda a, b: a ^ b)),
    op.SHL: ("SHL", _binary(_shl)),
    op.SHR: ("SHR", _binary(_shr)),
    op.ISZERO: ("ISZERO", _unary(lambda a: int(a == 0))),
    op.NOT: ("NOT", _unary(lambda a: UINT_256_MAX - a)),
    op.PUSH0: ("PUSH0", _push(0)),
    **{op.PUSH1 + n: (f"PUSH{n + 1}", _push(n + 1)) for n in range(32)},
    **{op.DUP1 + n: (f"DUP{n + 1}", _dup(n + 1)) for n in range(16)},
    **{op.SWAP1 + n: (f"SWAP{n + 1}", _swap(n + 1)) for n in range(16)},
}
"""Instructions written here in full, by opcode: (py-evm's mnemonic, logic)."""


def fast_opcode_table(opcodes: Mapping[int, OpcodeAPI]) -> dict[int, OpcodeAPI]:
    """A copy of ``opcodes`` (a py-evm computation's table) with the fast instructions in place.

    Every entry made by py-evm's ``as_opcode`` (a logic function and a gas cost; dynamic
    costs are charged inside the logic) becomes one function; other entries are kept.
    An opcode is specialised only where py-evm's entry carries the expected mnemonic, so
    a changed py-evm table falls back to its own logic rather than to a wrong one.
    """
    table: dict[int, OpcodeAPI] = {}
    for value, opcode in opcodes.items():
        logic = getattr(opcode, "logic_fn", None)
        gas_cost = getattr(opcode, "gas_cost", None)
        if logic is None or not isinstance(gas_cost, int):
            table[value] = opcode
            continue
        mnemonic = opcode.mnemonic
        special = SPECIALISED.get(value)
        if special is not None and special[0] == mnemonic:
            logic = special[1]
        table[value] = _charged(logic, gas_cost, mnemonic)  # type: ignore[assignment]
    return table
