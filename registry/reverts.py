"""Decode the custom error carried by a revert, by name, from a contract's ABI."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode
from eth_utils.abi import function_signature_to_4byte_selector


@dataclass(frozen=True)
class DecodedError:
    """A custom error: its name and its arguments by name."""

    name: str
    args: dict[str, Any]

    def __str__(self) -> str:
        rendered = ", ".join(f"{key}={value}" for key, value in self.args.items())
        return f"{self.name}({rendered})"


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
        types = [_type_of(arg) for arg in item["inputs"]]
        if function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})") != raw[:4]:
            continue
        values = decode(types, raw[4:])
        names = [arg["name"] or f"arg{i}" for i, arg in enumerate(item["inputs"])]
        return DecodedError(item["name"], dict(zip(names, values, strict=True)))
    return None
