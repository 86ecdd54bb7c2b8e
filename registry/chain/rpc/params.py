"""Reading a JSON-RPC request's parameters, with errors that name the parameter and what it should be.

Every method of the dispatcher declares its positional parameters by name
(`MethodSpec`); the handler reads them through `Params`, whose readers raise
`RpcParamsError` with messages such as::

    parameter 1 (address) must be a 20-byte address as 0x-prefixed hex (40 hex digits), got '0x1234'
    parameter 1 (transaction): field 'gas' must be a hex quantity such as 0x5208, got 'lots'

The dispatcher puts the method's name in front, so a client always learns which
method, which parameter and what was expected, never a Python exception's name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eth_typing import Address

from registry.chain.rpc.serializers import RpcParamsError

BLOCK_TAGS = ("latest", "earliest", "pending", "safe", "finalized")
"""Block tags every method that takes a block accepts."""

_BLOCK_EXPECTED = (
    "a block number (hex quantity such as 0x1a), a tag ("
    + ", ".join(BLOCK_TAGS)
    + ") or an object with blockHash or blockNumber"
)
_SHOWN_LENGTH = 80


def shown(value: Any) -> str:
    """``value`` as JSON-ish text for an error message, cut to a readable length."""
    if value is None:
        text = "null"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = repr(value)
    elif isinstance(value, dict):
        text = "an object" if value else "an empty object"
    elif isinstance(value, list):
        text = f"an array of {len(value)}" if value else "an empty array"
    else:
        text = repr(value)
    return text if len(text) <= _SHOWN_LENGTH else text[: _SHOWN_LENGTH - 3] + "..."


def _ordinal(index: int) -> str:
    return f"parameter {index + 1}"


class _Reader:
    """Typed readers over named values; subclasses say where a value came from."""

    def _where(self, key: Any) -> str:
        raise NotImplementedError

    def _value(self, key: Any) -> Any:
        raise NotImplementedError

    def _problem(self, key: Any, expected: str, value: Any) -> RpcParamsError:
        return RpcParamsError(f"{self._where(key)} must be {expected}, got {shown(value)}")

    def has(self, key: Any) -> bool:
        """True if the value is present and not null."""
        return self._value(key) is not None

    def raw(self, key: Any, default: Any = None) -> Any:
        """The value as sent (``default`` when absent or null)."""
        value = self._value(key)
        return default if value is None else value

    def quantity(self, key: Any, default: int | None = None, *, minimum: int = 0) -> int:
        """A JSON-RPC quantity (``0x`` hex, or a plain non-negative integer from lenient clients)."""
        value = self._value(key)
        if value is None:
            if default is None:
                raise self._problem(key, "a hex quantity such as 0x1a", value)
            return default
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str):
            try:
                number = int(value, 16) if value[:2].lower() == "0x" and len(value) > 2 else int(value, 10)
            except ValueError:
                number = None
        if number is None:
            raise self._problem(key, "a hex quantity such as 0x1a", value)
        if number < minimum:
            raise self._problem(key, f"a quantity of at least {minimum}", value)
        if number >= 2**256:
            raise self._problem(key, "a quantity below 2**256", value)
        return number

    def data(self, key: Any, length: int | None = None, *, default: bytes | None = None) -> bytes:
        """JSON-RPC data (``0x`` hex); with ``length``, exactly that many bytes."""
        value = self._value(key)
        if value is None and default is not None:
            return default
        expected = "0x-prefixed hex data" if length is None else f"{length} bytes of 0x-prefixed hex data"
        if not isinstance(value, str) or value[:2].lower() != "0x":
            raise self._problem(key, expected, value)
        text = value[2:]
        if len(text) % 2:
            text = "0" + text
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise self._problem(key, expected + " (only the digits 0-9 and a-f)", value) from None
        if length is not None and len(raw) != length:
            raise self._problem(key, f"{expected} ({2 * length} hex digits)", value)
        return raw

    def word(self, key: Any) -> int:
        """A 256-bit value given as up to 32 bytes of hex (storage keys and values)."""
        value = self._value(key)
        raw = self.data(key)
        if len(raw) > 32:
            raise self._problem(key, "at most 32 bytes of 0x-prefixed hex data", value)
        return int.from_bytes(raw, "big")

    def address(self, key: Any) -> Address:
        """A 20-byte address (any letter case)."""
        value = self._value(key)
        if not isinstance(value, str) or value[:2].lower() != "0x" or len(value) != 42:
            raise self._problem(key, "a 20-byte address as 0x-prefixed hex (40 hex digits)", value)
        return Address(self.data(key, 20))

    def boolean(self, key: Any, default: bool) -> bool:
        """A JSON boolean (``default`` when absent)."""
        value = self._value(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self._problem(key, "true or false", value)
        return value

    def text(self, key: Any) -> str:
        """A string."""
        value = self._value(key)
        if not isinstance(value, str):
            raise self._problem(key, "a string", value)
        return value

    def block(self, key: Any, default: Any = "latest") -> Any:
        """A block: number, tag or EIP-1898 object, checked for shape (not for existence)."""
        value = self._value(key)
        if value is None:
            return default
        if isinstance(value, str) and value in BLOCK_TAGS:
            return value
        if isinstance(value, dict):
            fields = self.fields(key)
            if fields.has("blockHash"):
                fields.data("blockHash", 32)
                fields.boolean("requireCanonical", False)
            elif fields.has("blockNumber"):
                return {"blockNumber": Fields(fields.where, value).block("blockNumber")}
            else:
                raise self._problem(key, _BLOCK_EXPECTED, value)
            return value
        try:
            return self.quantity(key)
        except RpcParamsError:
            raise self._problem(key, _BLOCK_EXPECTED, value) from None

    def array(self, key: Any, default: list[Any] | None = None) -> list[Any]:
        """A JSON array (``default`` when absent)."""
        value = self._value(key)
        if value is None and default is not None:
            return default
        if not isinstance(value, list):
            raise self._problem(key, "an array", value)
        return value

    def fields(self, key: Any) -> Fields:
        """A JSON object, read field by field."""
        value = self._value(key)
        if not isinstance(value, dict):
            raise self._problem(key, "an object", value)
        return Fields(self._where(key), value)

    def items(self, key: Any) -> Items:
        """A JSON array, read item by item."""
        return Items(self._where(key), self.array(key))


class Fields(_Reader):
    """The fields of one JSON object parameter."""

    def __init__(self, where: str, values: dict[str, Any]) -> None:
        self.where = where
        """Which parameter this object is (for messages)."""
        self.values = values
        """The object as sent."""

    def _where(self, key: Any) -> str:
        return f"{self.where}: field {key!r}"

    def _value(self, key: Any) -> Any:
        return self.values.get(key)

    def names(self) -> list[str]:
        """The field names present."""
        return list(self.values)

    def refuse_unknown(self, known: Sequence[str], what: str) -> None:
        """Refuse a field outside ``known``: silently ignoring it would give a wrong answer."""
        for name in self.values:
            if name not in known:
                raise RpcParamsError(
                    f"{self.where}: {what} field {name!r} is not supported; "
                    f"the supported fields are {', '.join(known)}"
                )


class Items(_Reader):
    """The items of one JSON array parameter."""

    def __init__(self, where: str, values: list[Any]) -> None:
        self.where = where
        """Which parameter this array is (for messages)."""
        self.values = values
        """The array as sent."""

    def _where(self, key: Any) -> str:
        return f"{self.where}: item {key + 1}"

    def _value(self, key: Any) -> Any:
        return self.values[key]

    def __len__(self) -> int:
        return len(self.values)


class Params(_Reader):
    """The positional parameters of one request, checked in number against the method's `MethodSpec`."""

    def __init__(self, spec: MethodSpec, values: list[Any]) -> None:
        self.spec = spec
        """What the method takes."""
        self.values = values
        """The parameters as sent."""
        if len(values) > len(spec.names):
            sent = "1 was" if len(values) == 1 else f"{len(values)} were"
            raise RpcParamsError(f"takes {spec.signature()}, but {sent} sent")
        missing = [name for index, name in enumerate(spec.names[: spec.required]) if index >= len(values)]
        if missing:
            raise RpcParamsError(
                f"takes {spec.signature()}; missing: {', '.join(missing)}"
                + (f" ({spec.hint})" if spec.hint else "")
            )

    def _where(self, key: Any) -> str:
        return f"{_ordinal(key)} ({self.spec.names[key]})"

    def _value(self, key: Any) -> Any:
        return self.values[key] if key < len(self.values) else None


@dataclass(frozen=True)
class MethodSpec:
    """One JSON-RPC method: its handler and the names of its positional parameters."""

    handler: Callable[[Params], Any]
    names: tuple[str, ...] = ()
    """Parameter names, in order."""
    required: int = 0
    """How many leading parameters must be present."""
    hint: str = ""
    """What the parameters mean, shown when one is missing."""

    def signature(self) -> str:
        """The parameters for messages, e.g. ``(address, block?)``; optional ones end with ``?``."""
        if not self.names:
            return "no parameters"
        shown_names = [name if index < self.required else f"{name}?" for index, name in enumerate(self.names)]
        return "(" + ", ".join(shown_names) + ")"


def method(
    handler: Callable[[Params], Any], *names: str, required: int | None = None, hint: str = ""
) -> MethodSpec:
    """A `MethodSpec`; every parameter is required unless ``required`` says how many are."""
    return MethodSpec(handler, tuple(names), len(names) if required is None else required, hint)


def no_params(value: Callable[[], Any]) -> MethodSpec:
    """A method without parameters answering ``value()``."""
    return MethodSpec(lambda _params: value())
