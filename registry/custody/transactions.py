"""What custody sends and what comes back: prepared, unsigned, pending and mined transactions.

- `PreparedTransaction`: what a service call produces before anything is signed (sender, target,
  call data, value, a one-line description); gas is estimated when not given.
- `UnsignedTransaction`: the same with nonce, gas, fees and chain id filled, for a client to sign
  (the non-custodial flow).
- `PendingTransaction`: signed and accepted by the node, not yet mined.
- `TxOutcome`: mined and successful (a reverted transaction raises instead).
- `decode_signed`: the fields of a client's signed raw transaction, with its recovered sender.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import rlp
from eth_account import Account
from eth_account.typed_transactions.typed_transaction import TypedTransaction
from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3.types import LogReceipt, TxParams, TxReceipt

from registry.chain.names import CHAIN_NAMES, ChainName
from registry.custody.keystore import check_address
from registry.errors import InvalidInputError


def _check_description(description: str) -> str:
    if not isinstance(description, str) or not description.strip():
        raise InvalidInputError(
            "description", "a transaction needs a one-line description, e.g. 'mint 100 ACME'"
        )
    if "\n" in description or "\r" in description:
        raise InvalidInputError("description", "the description is one line")
    return description.strip()


def _check_chain(chain: str) -> ChainName:
    for known in CHAIN_NAMES:
        if chain == known:
            return known
    raise InvalidInputError("chain", f"unknown chain {chain!r}; the chains are {', '.join(CHAIN_NAMES)}")


def _check_bytes(value: object, name: str) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        try:
            return bytes.fromhex(value.removeprefix("0x"))
        except ValueError:
            raise InvalidInputError(name, "expected bytes or 0x-prefixed hex") from None
    raise InvalidInputError(name, f"expected bytes or hex, got {type(value).__name__}")


def _check_quantity(value: object, name: str, *, positive: bool = False) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < (1 if positive else 0):
        raise InvalidInputError(name, f"expected an integer {'> 0' if positive else '>= 0'}, got {value!r}")
    return value


@dataclass(frozen=True, kw_only=True)
class PreparedTransaction:
    """A transaction a service wants sent, before nonce, fees and signature.

    ``to`` None creates a contract (``data`` is then the bytecode with the constructor's arguments).
    ``data`` also accepts 0x-hex text (as ``contract.encode_abi`` returns). Addresses are stored in
    checksum form. ``gas`` None lets custody estimate it (and refuse, decoded, what would revert).

    Raises:
        InvalidInputError: a field is invalid (the error's ``field`` names it).
    """

    chain: ChainName
    sender: ChecksumAddress
    to: ChecksumAddress | None
    data: bytes
    description: str
    value: int = 0
    gas: int | None = None

    def __post_init__(self) -> None:
        # Normalised in place: callers pass lowercase addresses and hex data all the time.
        object.__setattr__(self, "chain", _check_chain(self.chain))
        object.__setattr__(self, "sender", check_address(self.sender, "sender"))
        if self.to is not None:
            object.__setattr__(self, "to", check_address(self.to, "to"))
        object.__setattr__(self, "data", _check_bytes(self.data, "data"))
        object.__setattr__(self, "description", _check_description(self.description))
        _check_quantity(self.value, "value")
        if self.gas is not None:
            _check_quantity(self.gas, "gas", positive=True)
        if self.to is None and not self.data:
            raise InvalidInputError("data", "a contract creation (to=None) needs the bytecode as data")

    def with_gas(self, gas: int) -> PreparedTransaction:
        """The same transaction with an explicit gas limit."""
        return replace(self, gas=gas)

    def call_params(self) -> TxParams:
        """The parameters of ``eth_call`` / ``eth_estimateGas`` for this transaction."""
        params: TxParams = {"from": self.sender, "data": self.data, "value": self.value}  # type: ignore[typeddict-item]
        if self.to is not None:
            params["to"] = self.to
        if self.gas is not None:
            params["gas"] = self.gas
        return params


@dataclass(frozen=True, kw_only=True)
class UnsignedTransaction:
    """A transaction ready for its sender to sign (EIP-1559, type 2), with what it is for.

    ``nonce`` is the sender's next nonce when it was prepared; nothing is reserved, so prepare the
    next one after submitting this one (or pass ``nonce=`` to ``prepare_unsigned``).
    """

    chain: ChainName
    chain_id: int
    sender: ChecksumAddress
    to: ChecksumAddress | None
    data: bytes
    value: int
    nonce: int
    gas: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    description: str

    def as_dict(self) -> dict[str, Any]:
        """The dict a wallet or ``Account.sign_transaction`` signs (JSON-ready: ints and 0x-hex)."""
        transaction: dict[str, Any] = {
            "type": 2,
            "chainId": self.chain_id,
            "nonce": self.nonce,
            "gas": self.gas,
            "maxFeePerGas": self.max_fee_per_gas,
            "maxPriorityFeePerGas": self.max_priority_fee_per_gas,
            "value": self.value,
            "data": "0x" + self.data.hex(),
        }
        if self.to is not None:
            transaction["to"] = self.to
        return transaction


@dataclass(frozen=True, kw_only=True)
class PendingTransaction:
    """A signed transaction the node accepted; ``TransactionSender.wait`` turns it into a `TxOutcome`."""

    chain: ChainName
    tx_hash: bytes
    sender: ChecksumAddress
    nonce: int
    to: ChecksumAddress | None
    data: bytes
    value: int
    gas: int
    description: str

    @property
    def hash_hex(self) -> str:
        """The transaction hash as 0x-hex."""
        return "0x" + self.tx_hash.hex()


@dataclass(frozen=True, kw_only=True)
class TxOutcome:
    """A mined, successful transaction: where it landed, what it cost, what it logged."""

    chain: ChainName
    description: str
    tx_hash: bytes
    sender: ChecksumAddress
    nonce: int
    block_number: int
    block_hash: bytes
    status: int
    gas_used: int
    effective_gas_price: int
    contract_address: ChecksumAddress | None
    """The created contract's address, for a contract creation."""
    logs: tuple[LogReceipt, ...]
    receipt: TxReceipt = field(repr=False)
    """The receipt as web3.py returns it (e.g. for ``contract.events.X().process_receipt``)."""

    @property
    def hash_hex(self) -> str:
        """The transaction hash as 0x-hex."""
        return "0x" + self.tx_hash.hex()


@dataclass(frozen=True)
class SignedFields:
    """What a signed raw transaction says, with the sender recovered from its signature."""

    raw: bytes
    tx_hash: bytes
    type: int
    chain_id: int
    sender: ChecksumAddress
    to: ChecksumAddress | None
    data: bytes
    value: int
    nonce: int
    gas: int


def decode_signed(raw: bytes | str) -> SignedFields:
    """Decode a signed raw transaction: legacy with a chain id (EIP-155), EIP-2930 or EIP-1559.

    Raises:
        InvalidInputError: not such a transaction, badly signed, or a legacy one without chain id
            (which any chain would accept: a replay risk).
    """
    payload = _check_bytes(raw, "raw")
    if not payload:
        raise InvalidInputError("raw", "the signed transaction is empty")
    try:
        if payload[0] >= 0xC0:
            fields = _legacy_fields(payload)
        elif payload[0] in (1, 2):
            fields = _typed_fields(payload)
        else:
            raise InvalidInputError(
                "raw", f"transaction type {payload[0]} is not accepted; sign a type 2 (EIP-1559) transaction"
            )
        sender = to_checksum_address(Account.recover_transaction(payload))
    except InvalidInputError:
        raise
    except Exception as exc:
        # rlp, signature and field errors all mean one thing to the client.
        raise InvalidInputError(
            "raw", f"not a signed Ethereum transaction ({type(exc).__name__}: {exc})"
        ) from None
    return SignedFields(raw=payload, tx_hash=keccak(payload), sender=sender, **fields)


def _legacy_fields(payload: bytes) -> dict[str, Any]:
    nonce, _gas_price, gas, to, value, data, v, _r, _s = rlp.decode(payload)
    v_int = int.from_bytes(v, "big")
    if v_int < 35:
        raise InvalidInputError(
            "raw",
            "a legacy transaction without chain id (pre-EIP-155) is valid on every chain; sign it with "
            "this chain's id",
        )
    return {
        "type": 0,
        "chain_id": (v_int - 35) // 2,
        "to": to_checksum_address(to) if to else None,
        "data": bytes(data),
        "value": int.from_bytes(value, "big"),
        "nonce": int.from_bytes(nonce, "big"),
        "gas": int.from_bytes(gas, "big"),
    }


def _typed_fields(payload: bytes) -> dict[str, Any]:
    decoded = TypedTransaction.from_bytes(HexBytes(payload)).as_dict()
    to = decoded.get("to")
    return {
        "type": int(decoded["type"]),
        "chain_id": int(decoded["chainId"]),
        "to": to_checksum_address(to) if to else None,
        "data": bytes(decoded.get("data") or b""),
        "value": int(decoded["value"]),
        "nonce": int(decoded["nonce"]),
        "gas": int(decoded["gas"]),
    }
