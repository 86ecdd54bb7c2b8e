"""Logs -> named events, decoded from the ABIs of every compiled contract.

The decoder knows every event any artifact declares (`registry.artifacts.known_contracts`), by its
topic 0 and number of indexed arguments, so a contract's new event is decoded and stored as soon as
its artifact is, without code here. A log that matches no ABI is kept as an `DecodedLog` with no
name, its topics and data in ``args``.

Argument values come in two forms: ``args`` with Python values (``int``, checksummed address
``str``, ``bytes``, ``bool``, lists and tuples), for the projections, and `to_json` for storage:
integers of more than 53 bits (``uint64`` and wider, whatever the value) as decimal strings, so that
JavaScript clients read them exactly, narrower ones as numbers; bytes as ``0x`` hex; an indexed
argument of a dynamic type (a string, bytes or array: the log carries only its hash) as that hash.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from registry.artifacts import known_contracts, load_artifact

_DYNAMIC_SUFFIXES = ("[]", "]")

checksum = lru_cache(maxsize=1 << 16)(to_checksum_address)
"""``to_checksum_address``, remembered: the same holders come back in log after log."""


def _canonical_type(item: Mapping[str, Any]) -> str:
    kind = str(item["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_canonical_type(component) for component in item.get("components", []))
        return f"({inner}){kind[len('tuple') :]}"
    return kind


def _is_dynamic(abi_type: str) -> bool:
    return abi_type in ("string", "bytes") or abi_type.endswith(_DYNAMIC_SUFFIXES) or abi_type.startswith("(")


@dataclass(frozen=True)
class EventSpec:
    """One event declaration: its name, signature and argument layout."""

    name: str
    signature: str
    topic: bytes
    inputs: tuple[tuple[str, str, bool], ...]
    """Each argument's name, canonical type and whether it is indexed."""

    @property
    def indexed_count(self) -> int:
        """How many topics after topic 0 its logs carry."""
        return sum(1 for _, _, indexed in self.inputs if indexed)

    def decode(self, topics: Sequence[bytes], data: bytes) -> dict[str, Any]:
        """Decode a log's topics (without topic 0) and data into named Python values.

        Raises:
            DecodingError, ValueError: the log does not fit this declaration.
        """
        data_types = [abi_type for _, abi_type, indexed in self.inputs if not indexed]
        data_values = iter(abi_decode(data_types, data, strict=False)) if data_types else iter(())
        topic_values = iter(topics)
        args: dict[str, Any] = {}
        for position, (name, abi_type, indexed) in enumerate(self.inputs):
            key = name or f"arg{position}"
            if indexed:
                topic = next(topic_values)
                # A dynamic indexed argument is only its hash in the log.
                args[key] = topic if _is_dynamic(abi_type) else abi_decode([abi_type], topic)[0]
            else:
                args[key] = next(data_values)
        return _checksum_addresses(self.inputs, args)


def _checksum_addresses(inputs: tuple[tuple[str, str, bool], ...], args: dict[str, Any]) -> dict[str, Any]:
    """Addresses checksummed, arrays as lists (eth_abi gives tuples)."""
    for position, (name, abi_type, indexed) in enumerate(inputs):
        key = name or f"arg{position}"
        if indexed and _is_dynamic(abi_type):
            continue  # only its hash is in the log
        if abi_type == "address":
            args[key] = checksum(args[key])
        elif abi_type.endswith("]"):
            args[key] = _as_lists(args[key], abi_type)
    return args


def _as_lists(value: Any, abi_type: str) -> Any:
    if abi_type.endswith("]"):
        element = abi_type[: abi_type.rfind("[")]
        return [_as_lists(item, element) for item in value]
    return checksum(value) if abi_type == "address" else value


@dataclass(frozen=True)
class DecodedLog:
    """A log of a followed contract, with its place in the chain and, when an ABI matched, its name."""

    block_number: int
    block_hash: str
    tx_hash: str
    tx_index: int
    log_index: int
    address: str
    name: str | None
    signature: str | None
    args: dict[str, Any] = field(hash=False, compare=False)
    spec: EventSpec | None = field(default=None, hash=False, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        """``args`` as JSON: wide integers as decimal strings, bytes as hex (see the module docstring)."""
        if self.spec is None:
            return dict(self.args)
        return {
            (name or f"arg{position}"): _json_value(abi_type, self.args[name or f"arg{position}"])
            for position, (name, abi_type, _) in enumerate(self.spec.inputs)
        }


def _json_value(abi_type: str, value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        bits = int("".join(ch for ch in abi_type if ch.isdigit()) or 256)
        return value if bits <= 53 else str(value)
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, list | tuple):
        element = abi_type[: abi_type.rfind("[")] if abi_type.endswith("]") else "uint256"
        return [_json_value(element, item) for item in value]
    return value


@cache
def event_specs() -> dict[tuple[bytes, int], EventSpec]:
    """Every event of every artifact, by (topic 0, number of indexed arguments)."""
    specs: dict[tuple[bytes, int], EventSpec] = {}
    for contract in known_contracts():
        for item in load_artifact(contract).abi:
            if item.get("type") != "event" or item.get("anonymous"):
                continue
            inputs = tuple(
                (str(arg.get("name", "")), _canonical_type(arg), bool(arg.get("indexed")))
                for arg in item["inputs"]
            )
            signature = f"{item['name']}({','.join(abi_type for _, abi_type, _ in inputs)})"
            spec = EventSpec(item["name"], signature, keccak(text=signature), inputs)
            specs.setdefault((spec.topic, spec.indexed_count), spec)
    return specs


def decode_log(raw: Mapping[str, Any]) -> DecodedLog:
    """Decode one JSON-RPC log object (hex strings as a node sends them)."""
    topics = [bytes.fromhex(t[2:]) for t in raw["topics"]]
    data = bytes.fromhex(str(raw["data"])[2:])
    spec = event_specs().get((topics[0], len(topics) - 1)) if topics else None
    args: dict[str, Any]
    if spec is not None:
        try:
            args = spec.decode(topics[1:], data)
        except (DecodingError, ValueError, StopIteration):
            spec = None
    if spec is None:
        args = {"topics": list(raw["topics"]), "data": str(raw["data"])}
    return DecodedLog(
        block_number=int(raw["blockNumber"], 16),
        block_hash=str(raw["blockHash"]).lower(),
        tx_hash=str(raw["transactionHash"]).lower(),
        tx_index=int(raw["transactionIndex"], 16),
        log_index=int(raw["logIndex"], 16),
        address=checksum(raw["address"]),
        name=spec.name if spec else None,
        signature=spec.signature if spec else None,
        args=args,
        spec=spec,
    )
