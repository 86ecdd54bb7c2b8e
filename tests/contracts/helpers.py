"""Helpers of the contract suite: exact custom-error checks, event decoding, the chain clock.

Everything goes through the Web3 API so that the chain behind ``w3`` can be swapped; only
:class:`Clock` knows how a backend moves time, and only :func:`revert_data` knows how a backend
reports a revert.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pytest
from eth_abi.abi import decode as abi_decode
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError
from web3.types import RPCEndpoint

from registry.artifacts import known_contracts, load_artifact
from registry.chain.clock import latest_timestamp

DAY = 86_400
YEAR = 365 * DAY

# ISO 3166 numeric codes used by the fixtures.
FRANCE = 250
GERMANY = 276
USA = 840
NORTH_KOREA = 408

ACCREDITED = 1
PROFESSIONAL = 2
REVOKED_FLAG = 1 << 7

ADMIN_ROLE = b"\x00" * 32
ZERO_ADDRESS = "0x" + "00" * 20
MAX_UINT256 = 2**256 - 1
# Regulated tokens keep amounts in 80 bits (balance, frozen amount and investor total share a word).
MAX_AMOUNT = 2**80 - 1

# Cash and bond units of the fixtures.
CASH_UNIT = 10**6  # the cash token has 6 decimals
DENOMINATION = 1_000 * CASH_UNIT
COUPON_RATE_BPS = 500
COUPON_FREQUENCY = 2
BOND_TERM_FIELDS = (
    "name",
    "symbol",
    "isin",
    "currency",
    "denomination",
    "issueVolume",
    "couponRate",
    "couponType",
    "couponFrequency",
    "issueDate",
    "maturityDate",
    "dayCountBasis",
    "callPrice",
    "callableFrom",
    "claimPeriod",
)


def terms_tuple(terms: dict[str, object]) -> tuple[object, ...]:
    """The BondTerms struct as web3 encodes it: a tuple in field order."""
    assert set(terms) == set(BOND_TERM_FIELDS), f"unexpected bond terms {sorted(terms)}"
    return tuple(terms[name] for name in BOND_TERM_FIELDS)


SUPPLY = "SUPPLY_ROLE"
ENFORCEMENT = "ENFORCEMENT_ROLE"
COMPLIANCE = "COMPLIANCE_ROLE"


def role(name: str) -> bytes:
    """The id of an AccessControl role constant ``keccak256(name)``."""
    return bytes(Web3.keccak(text=name))


def selector(signature: str) -> int:
    """The 4-byte selector of ``name(types)`` as an int."""
    return int.from_bytes(bytes(Web3.keccak(text=signature))[:4], "big")


def interface_id(signatures: Iterable[str]) -> bytes:
    """An ERC-165 interface id: the XOR of the selectors of the interface's functions."""
    result = 0
    for signature in signatures:
        result ^= selector(signature)
    return result.to_bytes(4, "big")


class _Any:
    """Matches any decoded argument (for values a test cannot know, such as a timestamp)."""

    def __eq__(self, other: object) -> bool:
        return True

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "ANY"


ANY: Any = _Any()


# ---------------------------------------------------------------- transactions and events


# Enough for any single call of the suite, well under every backend's block gas limit.
TX_GAS = 10_000_000


def tx(call: Any, sender: str) -> Any:
    """Send ``call`` (a bound contract function) from ``sender``; return the receipt of its success.

    The gas limit is fixed: estimating it repeats the execution many times and would dominate the
    suite's runtime. If the transaction fails, the call is replayed to raise the revert with its data.
    """
    receipt = call.w3.eth.wait_for_transaction_receipt(call.transact({"from": sender, "gas": TX_GAS}))
    if receipt["status"] != 1:
        call.call({"from": sender})  # raises the revert, with its data, if it reproduces
        pytest.fail(f"transaction {call.fn_name} from {sender} failed: {receipt}")
    return receipt


# Contract creation gets its own limit: the biggest contracts approach the 24 KiB code size limit.
DEPLOY_GAS = 12_000_000


def deploy_contract(w3: Web3, name: str, *args: Any, sender: str) -> Contract:
    """Deploy compiled contract ``name`` from ``sender`` with a fixed gas limit (see :func:`tx`)."""
    artifact = load_artifact(name)
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    tx_hash = factory.constructor(*args).transact({"from": sender, "gas": DEPLOY_GAS})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    assert receipt["status"] == 1 and receipt["contractAddress"], f"deploying {name}{args} failed"
    return w3.eth.contract(address=receipt["contractAddress"], abi=artifact.abi)


def events(contract: Contract, receipt: Any) -> list[tuple[str, dict[str, Any]]]:
    """The events ``contract`` emitted in a receipt, in order, as ``(name, args)``."""
    by_topic = {}
    abi: list[Any] = list(contract.abi)
    for item in abi:
        if item.get("type") == "event":
            types = ",".join(_canonical_type(i) for i in item.get("inputs", []))
            by_topic[bytes(Web3.keccak(text=f"{item['name']}({types})"))] = item["name"]
    found = []
    for log in receipt["logs"]:
        if log["address"] != contract.address or not log["topics"]:
            continue
        name = by_topic.get(bytes(log["topics"][0]))
        assert name is not None, f"unknown event topic {log['topics'][0].hex()} from {contract.address}"
        decoded = contract.events[name]().process_log(log)
        found.append((name, dict(decoded["args"])))
    return found


def event_names(contract: Contract, receipt: Any) -> list[str]:
    """The names of the events ``contract`` emitted in a receipt, in order."""
    return [name for name, _ in events(contract, receipt)]


# ---------------------------------------------------------------- custom errors


def _canonical_type(item: Any) -> str:
    """The ABI type of an input as it appears in a signature (tuples expanded)."""
    kind = str(item["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_canonical_type(component) for component in item["components"])
        return f"({inner}){kind[len('tuple') :]}"
    return kind


@dataclass(frozen=True)
class ErrorSpec:
    """One custom error of an ABI."""

    name: str
    types: tuple[str, ...]

    @property
    def signature(self) -> str:
        """``Name(type1,type2)``, what the selector is the hash of."""
        return f"{self.name}({','.join(self.types)})"


def _errors_of(abi: Sequence[Any]) -> dict[bytes, ErrorSpec]:
    table = {}
    for item in abi:
        if item.get("type") == "error":
            spec = ErrorSpec(item["name"], tuple(_canonical_type(i) for i in item.get("inputs", [])))
            table[bytes(Web3.keccak(text=spec.signature))[:4]] = spec
    return table


@cache
def _all_known_errors() -> dict[bytes, ErrorSpec]:
    """Every custom error of every compiled contract, for errors raised by a callee."""
    table: dict[bytes, ErrorSpec] = {}
    for name in known_contracts():
        table.update(_errors_of(load_artifact(name).abi))
    return table


def _normalise(kind: str, value: Any) -> Any:
    """Make an expected or decoded value comparable: addresses lower-case, bytes as bytes."""
    if kind.endswith("]") and isinstance(value, list | tuple):
        inner = kind[: kind.rindex("[")]
        return tuple(_normalise(inner, v) for v in value)
    if kind == "address" and isinstance(value, str):
        return value.lower()
    if kind.startswith("bytes") and isinstance(value, str):
        return bytes.fromhex(value.removeprefix("0x"))
    return value


@dataclass
class Revert:
    """A decoded custom error; ``expect_revert`` fills it in when its block exits."""

    name: str = ""
    args: tuple[Any, ...] = field(default_factory=tuple)
    data: bytes = b""
    types: tuple[str, ...] = field(default_factory=tuple)


def decode_revert(contract: Contract, data: bytes) -> Revert:
    """Decode custom-error revert data with ``contract``'s ABI (falling back on every artifact)."""
    assert len(data) >= 4, f"revert data too short to hold a selector: 0x{data.hex()}"
    spec = _errors_of(contract.abi).get(data[:4]) or _all_known_errors().get(data[:4])
    assert spec is not None, f"revert with unknown selector 0x{data[:4].hex()} (data 0x{data.hex()})"
    return Revert(spec.name, tuple(abi_decode(list(spec.types), data[4:])), data, spec.types)


def revert_data(exc: BaseException) -> bytes | None:
    """The revert data an exception carries, or None if it is not a revert with data.

    The chain answers a revert as JSON-RPC error 3 with the data, which web3 raises as
    ``ContractCustomError`` holding the data as hex.
    """
    if isinstance(exc, ContractCustomError):
        return bytes.fromhex(str(exc.data).removeprefix("0x"))
    return None


@contextmanager
def expect_revert(contract: Contract, name: str, *args: Any) -> Iterator[Revert]:
    """The block must revert with the custom error ``name(*args)``, exactly.

    The selector and every decoded argument are compared (addresses case-insensitively; pass
    :data:`ANY` for an argument a test cannot predict). Works for ``.call()`` and ``.transact()``.
    """
    result = Revert()
    try:
        yield result
    except Exception as exc:
        data = revert_data(exc)
        if data is None:
            raise
    else:
        pytest.fail(f"did not revert; expected {name}{args}")
    decoded = decode_revert(contract, data)
    assert decoded.name == name, f"expected {name}{args}, got {decoded.name}{decoded.args}"
    assert len(args) == len(decoded.types), f"{name}{decoded.types} does not take arguments {args}"
    got = tuple(_normalise(kind, v) for kind, v in zip(decoded.types, decoded.args, strict=True))
    want = tuple(_normalise(kind, v) for kind, v in zip(decoded.types, args, strict=True))
    assert got == want, f"{name}: expected arguments {want}, got {got}"
    result.name, result.args, result.data, result.types = name, decoded.args, data, decoded.types


PANIC = bytes.fromhex("4e487b71")


def reverted(call: Any, sender: str) -> bytes | None:
    """Simulate ``call``: the custom-error revert data if it reverts, None if it would succeed.

    Any other failure (a panic, an error string, an error without data) is re-raised: random
    operations may be refused, but never by a bug.
    """
    try:
        call.call({"from": sender})
    except Exception as exc:
        data = revert_data(exc)
        if data is None or data[:4] == PANIC:
            raise
        return data
    return None


def attempt(call: Any, sender: str) -> bool:
    """Run ``call`` from ``sender``: True if it succeeded, False if it reverted with a custom error."""
    if reverted(call, sender) is not None:
        return False
    tx(call, sender)
    return True


def unauthorized(contract: Contract, account: str, role_name: str) -> Any:
    """``expect_revert`` for OpenZeppelin's missing-role error."""
    needed = ADMIN_ROLE if role_name == "DEFAULT_ADMIN_ROLE" else role(role_name)
    return expect_revert(contract, "AccessControlUnauthorizedAccount", account, needed)


# ---------------------------------------------------------------- time


class Clock:
    """The chain's time, and the only code that knows how a backend moves it.

    After :meth:`travel_to`, the latest block carries exactly that timestamp (``evm_mine`` with a
    timestamp, as the embedded chains and anvil answer it), so view calls (run at the latest block)
    see it, and the next transaction runs in a later block.
    """

    def __init__(self, w3: Web3) -> None:
        self._w3 = w3

    def now(self) -> int:
        """The timestamp of the latest block (what a view call sees as ``block.timestamp``)."""
        return latest_timestamp(self._w3)

    def travel_to(self, timestamp: int) -> None:
        """Mine a block at ``timestamp``, which must be later than the latest block."""
        assert timestamp > self.now(), f"cannot travel back from {self.now()} to {timestamp}"
        self._w3.manager.request_blocking(RPCEndpoint("evm_mine"), [timestamp])
        assert self.now() == timestamp, f"clock at {self.now()}, wanted {timestamp}"

    def advance(self, seconds: int) -> int:
        """Move time forward by ``seconds``; return the new time."""
        self.travel_to(self.now() + seconds)
        return self.now()
