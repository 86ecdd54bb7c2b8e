"""eth_estimateGas answers the smallest gas limit that succeeds, whichever way it finds it.

Each case compares `EmbeddedChain.estimate_gas` with a plain binary search over "does the
call succeed with this gas limit", on contracts whose cost depends on the gas limit in the
ways that matter: storage refunds, the 63/64 rule of a call forwarding all its gas (one and
two levels deep), the EIP-2200 sentry of a last SSTORE, and a contract reading ``GAS``. The
contracts are placed with state overrides, so overrides are exercised too.
"""

from __future__ import annotations

from typing import Any

import pytest
from web3 import Web3

from registry.chain.errors import ChainError
from registry.chain.node import calls
from registry.chain.node.calls import AccountOverride
from registry.chain.node.gas import data_floor_gas, intrinsic_gas
from registry.chain.rpc.provider import EmbeddedProvider
from registry.deploy import deploy

STORE = bytes.fromhex("1" * 40)
CALLER = bytes.fromhex("2" * 40)
OUTER = bytes.fromhex("3" * 40)
CLEARER = bytes.fromhex("4" * 40)
TWICE = bytes.fromhex("5" * 40)
GAS_GATE = bytes.fromhex("6" * 40)

# PUSH1 1, PUSH1 0, SSTORE, STOP: one fresh slot (22,100 gas).
STORES_SLOT_0 = bytes.fromhex("600160005500")
# PUSH1 0, PUSH1 0, SSTORE, STOP: clears slot 0, which earns a refund when it held a value.
CLEARS_SLOT_0 = bytes.fromhex("600060005500")
# Stores 1 in slot 0 twice: the second SSTORE costs 100 gas but needs more than 2,300 left.
STORES_TWICE = bytes.fromhex("60016000556001600055" + "00")
# Reverts unless GAS finds at least 100,000 left: PUSH3 100000, GAS, LT, PUSH1 10, JUMPI, STOP,
# JUMPDEST, PUSH1 0, DUP1, REVERT.
NEEDS_100K_LEFT = bytes.fromhex("620186a05a10600a5700" + "5b600080fd")


def forwards_all_gas_to(callee: bytes) -> bytes:
    """CALL ``callee`` with all the gas left (as Solidity does) and revert if that call failed."""
    # PUSH1 0 x5 (ret size/offset, args size/offset, value), PUSH20 callee, GAS, CALL, ISZERO,
    # PUSH1 38, JUMPI, STOP, JUMPDEST, PUSH1 0, DUP1, REVERT.
    return bytes.fromhex("6000600060006000600073" + callee.hex() + "5af11560265700" + "5b600080fd")


VIEW = bytes.fromhex("7" * 40)
VIEW_CALLER = bytes.fromhex("8" * 40)
GAS_READER = bytes.fromhex("9" * 40)
FIXED_REQUEST = bytes.fromhex("a" * 40)
BURNT = bytes.fromhex("b" * 40)
BURNER = bytes.fromhex("c" * 40)
TWICE_CALLER = bytes.fromhex("d" * 40)

# PUSH1 42, PUSH1 0, MSTORE, PUSH1 32, PUSH1 0, RETURN: a view answering one word.
ANSWERS_42 = bytes.fromhex("602a60005260206000f3")
# INVALID: burns all the gas it is given.
INVALID = bytes.fromhex("fe")


def calling(
    callee: bytes, *, before: str = "", request: str = "5a", opcode: str = "f1", after: str = ""
) -> bytes:
    """Call ``callee`` (CALL ``f1`` with value 0, or STATICCALL ``fa``) asking for ``request`` gas (the
    hex of the instructions that push it; ``GAS`` by default, as Solidity does), revert if it failed,
    then run ``after``; ``before`` runs first."""
    arguments = "6000" * (5 if opcode == "f1" else 4) + "73" + callee.hex() + request + opcode
    body = before + arguments + "15"  # ISZERO of the call's result
    destination = len(bytes.fromhex(body)) + 3 + len(bytes.fromhex(after)) + 1
    return bytes.fromhex(body + f"60{destination:02x}57" + after + "00" + "5b600080fd")


OVERRIDES = {
    STORE: AccountOverride(code=STORES_SLOT_0),
    CALLER: AccountOverride(code=forwards_all_gas_to(STORE)),
    OUTER: AccountOverride(code=forwards_all_gas_to(CALLER)),
    CLEARER: AccountOverride(code=CLEARS_SLOT_0, state_diff={0: 7}),
    TWICE: AccountOverride(code=STORES_TWICE),
    GAS_GATE: AccountOverride(code=NEEDS_100K_LEFT),
    VIEW: AccountOverride(code=ANSWERS_42),
    # A view asked with all the gas left, then a fresh slot stored: a token asking a registry first.
    VIEW_CALLER: AccountOverride(code=calling(VIEW, opcode="fa", after="6001600155")),
    # GAS read for something else than a call's request (GAS, POP) before the call.
    GAS_READER: AccountOverride(code=calling(VIEW, before="5a50", opcode="fa", after="6001600155")),
    # A call asking for 50,000 gas (PUSH3 50000) to store a fresh slot.
    FIXED_REQUEST: AccountOverride(code=calling(STORE, request="62" + (50_000).to_bytes(3, "big").hex())),
    BURNT: AccountOverride(code=INVALID),
    # A callee that burns all it gets, its failure ignored (CALL, POP, STOP).
    BURNER: AccountOverride(code=bytes.fromhex("6000600060006000600073" + BURNT.hex() + "5af15000")),
    # The EIP-2200 sentry of a cheap last SSTORE inside a callee.
    TWICE_CALLER: AccountOverride(code=calling(TWICE)),
}


def searched(chain, to: bytes, data: bytes, sender: bytes, overrides=None) -> int:
    """The smallest gas limit with which the call succeeds, by bisection from the cheapest valid limit."""

    def succeeds(gas: int) -> bool:
        try:
            chain.call(chain.unsigned_transaction(to=to, data=data, gas=gas), sender, overrides=overrides)
        except ChainError:
            return False
        return True

    probe = chain.unsigned_transaction(to=to, data=data)
    low = max(intrinsic_gas(probe), data_floor_gas(probe))
    high = int(chain.head().gas_limit)
    assert succeeds(high)
    if succeeds(low):
        return low
    while high - low > 1:
        middle = (low + high) // 2
        if succeeds(middle):
            high = middle
        else:
            low = middle
    return high


@pytest.mark.parametrize(
    "target",
    [
        pytest.param(STORE, id="a fresh slot: nothing depends on the gas left"),
        pytest.param(CLEARER, id="a refund, paid after the execution"),
        pytest.param(CALLER, id="the 63/64 rule: a call forwarding all its gas"),
        pytest.param(OUTER, id="the 63/64 rule two calls deep"),
        pytest.param(TWICE, id="the EIP-2200 sentry of a cheap last SSTORE"),
        pytest.param(GAS_GATE, id="a contract branching on GAS"),
        pytest.param(VIEW_CALLER, id="a view asked with all the gas, then a fresh slot"),
        pytest.param(GAS_READER, id="GAS read before a call, not as its request"),
        pytest.param(FIXED_REQUEST, id="a call asking for a fixed amount of gas"),
        pytest.param(TWICE_CALLER, id="the EIP-2200 sentry inside a callee"),
    ],
)
def test_the_estimate_is_the_smallest_gas_limit_that_succeeds(manual_chain, target):
    sender = bytes.fromhex(manual_chain.dev_accounts[0].address[2:])
    tx = manual_chain.unsigned_transaction(to=target, data=b"")
    estimate = manual_chain.estimate_gas(tx, sender, overrides=OVERRIDES)
    assert estimate == searched(manual_chain, target, b"", sender, OVERRIDES)
    assert estimate >= intrinsic_gas(tx)


def test_a_call_to_a_view_with_all_the_gas_is_estimated_from_one_execution(manual_chain, monkeypatch):
    sender = bytes.fromhex(manual_chain.dev_accounts[0].address[2:])
    tx = manual_chain.unsigned_transaction(to=VIEW_CALLER, data=b"")
    expected = searched(manual_chain, VIEW_CALLER, b"", sender, OVERRIDES)
    runs: list[int] = []
    spoof = calls._spoof

    def counted(*args: Any, **kwargs: Any) -> Any:
        runs.append(1)
        return spoof(*args, **kwargs)

    monkeypatch.setattr(calls, "_spoof", counted)
    assert manual_chain.estimate_gas(tx, sender, overrides=OVERRIDES) == expected
    assert len(runs) == 1
    # GAS read for anything else, or a callee that burns its gas, takes the runs that check.
    runs.clear()
    reader = manual_chain.unsigned_transaction(to=GAS_READER, data=b"")
    assert manual_chain.estimate_gas(reader, sender, overrides=OVERRIDES) == searched(
        manual_chain, GAS_READER, b"", sender, OVERRIDES
    )
    assert len(runs) >= 2
    # A callee that burns all its gas, its failure ignored, uses what it is given: the answer is the gas
    # the run with the whole block's gas consumed, found to suffice by a second run (as geth's lower
    # bound would; any limit goes through, so "smallest" has no other meaning here).
    runs.clear()
    burner = manual_chain.unsigned_transaction(to=BURNER, data=b"")
    estimate = manual_chain.estimate_gas(burner, sender, overrides=OVERRIDES)
    assert len(runs) == 2
    assert estimate > int(manual_chain.head().gas_limit) * 63 // 64


def test_the_estimate_follows_the_overrides(manual_chain):
    sender = bytes.fromhex(manual_chain.dev_accounts[0].address[2:])
    tx = manual_chain.unsigned_transaction(to=TWICE, data=b"")
    once = {TWICE: AccountOverride(code=STORES_SLOT_0)}
    # The same address, asked about with two different codes in a row: each answer is its own.
    assert manual_chain.estimate_gas(tx, sender, overrides=once) == searched(
        manual_chain, TWICE, b"", sender, once
    )
    assert manual_chain.estimate_gas(tx, sender, overrides=OVERRIDES) == searched(
        manual_chain, TWICE, b"", sender, OVERRIDES
    )
    assert manual_chain.estimate_gas(tx, sender, overrides=once) < manual_chain.estimate_gas(
        tx, sender, overrides=OVERRIDES
    )
    assert manual_chain.state_at().get_code(TWICE) == b""


def test_an_erc20_transfer_estimate_is_the_searched_one_and_follows_the_head(instant_chain):
    w3 = Web3(EmbeddedProvider(instant_chain))
    owner = instant_chain.dev_accounts[0].address
    token = deploy(w3, "PlainERC20", 10**6, sender=owner)
    sender = bytes.fromhex(owner[2:])
    to = bytes.fromhex(token.address[2:])
    data = bytes.fromhex(token.encode_abi("transfer", [instant_chain.dev_accounts[1].address, 5])[2:])
    tx = instant_chain.unsigned_transaction(to=to, data=data)
    first = instant_chain.estimate_gas(tx, sender)
    assert first == searched(instant_chain, to, data, sender)
    # The recipient's balance is no longer zero: the same transfer costs less on the new head
    # (answers are never served from the state of an older block).
    token.functions.transfer(instant_chain.dev_accounts[1].address, 5).transact({"from": owner})
    second = instant_chain.estimate_gas(tx, sender)
    assert second < first
    assert second == searched(instant_chain, to, data, sender)
    # To oneself: the second SSTORE puts the balance back (100 gas) near the end, under the sentry.
    own = bytes.fromhex(token.encode_abi("transfer", [owner, 5])[2:])
    to_oneself = instant_chain.unsigned_transaction(to=to, data=own)
    assert instant_chain.estimate_gas(to_oneself, sender) == searched(instant_chain, to, own, sender)


def test_after_a_rewind_the_estimate_is_the_searched_one_on_the_head_left(instant_chain):
    w3 = Web3(EmbeddedProvider(instant_chain))
    owner = instant_chain.dev_accounts[0].address
    token = deploy(w3, "PlainERC20", 10**6, sender=owner)
    sender = bytes.fromhex(owner[2:])
    to = bytes.fromhex(token.address[2:])
    receiver = instant_chain.dev_accounts[2].address
    data = bytes.fromhex(token.encode_abi("transfer", [receiver, 5])[2:])
    tx = instant_chain.unsigned_transaction(to=to, data=data)
    before = instant_chain.estimate_gas(tx, sender)
    kept = instant_chain.block_number
    token.functions.transfer(receiver, 5).transact({"from": owner})
    moved = instant_chain.estimate_gas(tx, sender)
    assert moved < before
    # The transfer's block is rewound: the answer is the one on the head left, computed afresh.
    instant_chain.rewind(kept)
    assert instant_chain.estimate_gas(tx, sender) == before == searched(instant_chain, to, data, sender)
