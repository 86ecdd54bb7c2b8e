"""Decode the custom error carried by a revert, by name: from one contract's ABI (`decode_revert`) or
from every compiled contract's ABI plus Solidity's built-in ``Error(string)`` and ``Panic(uint256)``
(`decode_any_revert`), for reverts whose contract is not known to the caller."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi.abi import decode
from eth_abi.exceptions import DecodingError
from eth_utils.abi import function_signature_to_4byte_selector

from registry.artifacts import known_contracts, load_artifact

BUILTIN_ERRORS: tuple[dict[str, Any], ...] = (
    {"type": "error", "name": "Error", "inputs": [{"name": "message", "type": "string"}]},
    {"type": "error", "name": "Panic", "inputs": [{"name": "code", "type": "uint256"}]},
)
"""Solidity's own errors: ``require(cond, "text")`` / ``revert("text")``, and panics (overflow, ...)."""


@dataclass(frozen=True)
class DecodedError:
    """A custom error: its name and its arguments by name."""

    name: str
    args: dict[str, Any]

    def __str__(self) -> str:
        rendered = ", ".join(f"{key}={_shown(value)}" for key, value in self.args.items())
        return f"{self.name}({rendered})"


def _shown(value: Any) -> str:
    # bytes32 role ids and hashes read better as hex than as Python byte strings.
    return "0x" + value.hex() if isinstance(value, bytes) else str(value)


def _type_of(item: Mapping[str, Any]) -> str:
    if item["type"].startswith("tuple"):
        inner = ",".join(_type_of(component) for component in item["components"])
        return f"({inner}){item['type'][len('tuple') :]}"
    return str(item["type"])


def decode_revert(abi: Sequence[Mapping[str, Any]], data: str | bytes | None) -> DecodedError | None:
    """The custom error of ``abi`` that ``data`` (selector + ABI-encoded arguments) encodes.

    Returns None when ``data`` is empty or matches none of the ABI's errors.
    """
    raw = bytes.fromhex(data.removeprefix("0x")) if isinstance(data, str) else (data or b"")
    if len(raw) < 4:
        return None
    for item in abi:
        if item.get("type") != "error":
            continue
        if function_signature_to_4byte_selector(_signature(item)) != raw[:4]:
            continue
        types = [_type_of(arg) for arg in item["inputs"]]
        values = decode(types, raw[4:])
        names = [arg["name"] or f"arg{i}" for i, arg in enumerate(item["inputs"])]
        return DecodedError(item["name"], dict(zip(names, values, strict=True)))
    return None


@cache
def _every_error() -> tuple[dict[str, Any], ...]:
    """The errors of every artifact's ABI and the built-in ones, one per signature."""
    errors: dict[str, dict[str, Any]] = {}
    for item in BUILTIN_ERRORS:
        errors[_signature(item)] = item
    for name in known_contracts():
        for item in load_artifact(name).abi:
            if item.get("type") == "error":
                errors.setdefault(_signature(item), item)
    return tuple(errors.values())


def _signature(item: Mapping[str, Any]) -> str:
    return f"{item['name']}({','.join(_type_of(arg) for arg in item['inputs'])})"


def decode_any_revert(data: str | bytes | None) -> DecodedError | None:
    """The error ``data`` encodes, searched in every compiled contract's ABI and Solidity's built-ins.

    Returns None when ``data`` is empty, matches no known error, or its arguments do not decode.
    """
    try:
        return decode_revert(_every_error(), data)
    except (DecodingError, ValueError):
        # A selector that collides with a known error but carries other arguments is not that error.
        return None
