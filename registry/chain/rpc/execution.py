"""The methods that run transactions: ``eth_call``, ``eth_estimateGas``, ``eth_createAccessList``,
``eth_sendTransaction`` and ``eth_sendRawTransaction``.

A transaction object (``from``, ``to``, ``gas``, ``value``, ``input`` or ``data``,
``accessList``; fee fields are accepted and do not change a call's result) is read by
`read_transaction`. ``eth_call`` and ``eth_estimateGas`` take geth's state overrides as
their third parameter (`read_state_overrides`): per account ``balance``, ``nonce``,
``code``, ``state`` (the whole storage) or ``stateDiff`` (some slots). Anything else in an
override (geth's ``movePrecompileToAddress``) and ``eth_call``'s fourth parameter (block
overrides) are refused with a message saying so, never ignored: an ignored override would
answer a different question than the one asked.

``eth_createAccessList`` answers ``{"accessList": [...], "gasUsed": "0x..."}``; a
transaction that reverts is answered with the revert error (code 3 and its data), as anvil
does (geth puts the error text in the result instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eth.abc import BlockHeaderAPI

from registry.chain.errors import InvalidTransactionError
from registry.chain.node.calls import AccessList, AccountOverride, StateOverrides
from registry.chain.rpc import serializers as ser
from registry.chain.rpc.params import Fields, MethodSpec, Params, method
from registry.chain.rpc.serializers import JSON, RpcParamsError

if TYPE_CHECKING:
    from registry.chain.node.chain import EmbeddedChain

PRIORITY_FEE = 10**9
"""Suggested tip per gas (1 gwei), as anvil suggests."""

OVERRIDE_FIELDS = ("balance", "nonce", "code", "state", "stateDiff")
"""What a state override may change in an account."""

MAX_NONCE = 2**64 - 1


@dataclass(frozen=True)
class TransactionRequest:
    """A transaction object of a request, read and checked."""

    sender: bytes | None
    to: bytes
    """Empty for a contract creation."""
    data: bytes
    value: int
    gas: int | None
    access_list: AccessList


def read_access_list(fields: Fields, key: str) -> AccessList:
    """An EIP-2930 access list: ``[{"address": ..., "storageKeys": [...]}, ...]``."""
    if not fields.has(key):
        return ()
    items = fields.items(key)
    entries = []
    for index in range(len(items)):
        entry = items.fields(index)
        keys = entry.items("storageKeys") if entry.has("storageKeys") else None
        slots = tuple(keys.word(i) for i in range(len(keys))) if keys is not None else ()
        entries.append((bytes(entry.address("address")), slots))
    return tuple(entries)


def read_transaction(params: Params, index: int) -> TransactionRequest:
    """The transaction object at ``index``."""
    fields = params.fields(index)
    data = fields.data("input") if fields.has("input") else None
    if fields.has("data"):
        other = fields.data("data")
        if data is not None and other != data:
            raise RpcParamsError(
                f"{fields.where}: fields 'input' and 'data' are both set and differ; send one of them"
            )
        data = other
    return TransactionRequest(
        sender=bytes(fields.address("from")) if fields.has("from") else None,
        to=bytes(fields.address("to")) if fields.has("to") else b"",
        data=data or b"",
        value=fields.quantity("value", 0),
        gas=fields.quantity("gas") if fields.has("gas") else None,
        access_list=read_access_list(fields, "accessList"),
    )


def _slots(fields: Fields, key: str) -> dict[int, int]:
    slots = fields.fields(key)
    result = {}
    for slot_text in slots.names():
        slot = Fields(f"{slots.where}: slot {slot_text!r}", {"slot": slot_text}).word("slot")
        result[slot] = slots.word(slot_text)
    return result


def read_state_overrides(params: Params, index: int) -> StateOverrides | None:
    """geth's state override set at ``index`` (None when absent): ``{address: {balance, nonce, code,
    state | stateDiff}}``.

    Raises:
        RpcParamsError: a malformed or unsupported override, or ``state`` with ``stateDiff``.
    """
    if not params.has(index):
        return None
    accounts = params.fields(index)
    overrides: dict[bytes, AccountOverride] = {}
    for address_text in accounts.names():
        address = Fields(f"{accounts.where}: account {address_text!r}", {"key": address_text}).address("key")
        change = accounts.fields(address_text)
        change.refuse_unknown(OVERRIDE_FIELDS, "state override")
        if change.has("state") and change.has("stateDiff"):
            raise RpcParamsError(
                f"{change.where}: 'state' replaces the whole storage and 'stateDiff' changes some slots; "
                "send one of them"
            )
        nonce = change.quantity("nonce") if change.has("nonce") else None
        if nonce is not None and nonce > MAX_NONCE:
            raise RpcParamsError(f"{change.where}: field 'nonce' must be below 2**64, got {nonce}")
        overrides[bytes(address)] = AccountOverride(
            balance=change.quantity("balance") if change.has("balance") else None,
            nonce=nonce,
            code=change.data("code") if change.has("code") else None,
            state=_slots(change, "state") if change.has("state") else None,
            state_diff=_slots(change, "stateDiff") if change.has("stateDiff") else None,
        )
    return overrides


class Execution:
    """The transaction-running methods of one chain."""

    def __init__(self, chain: EmbeddedChain, header_for: Any) -> None:
        self.chain = chain
        """The chain answered for."""
        self._header_for = header_for

    def methods(self) -> dict[str, MethodSpec]:
        """The JSON-RPC methods, by name."""
        return {
            "eth_call": method(
                self._call, "transaction", "block", "stateOverrides", "blockOverrides", required=1
            ),
            "eth_estimateGas": method(
                self._estimate_gas, "transaction", "block", "stateOverrides", required=1
            ),
            "eth_createAccessList": method(self._create_access_list, "transaction", "block", required=1),
            "eth_sendRawTransaction": method(self._send_raw_transaction, "signedTransaction"),
            "eth_sendTransaction": method(self._send_transaction, "transaction"),
        }

    def _unsigned(self, request: TransactionRequest, head: BlockHeaderAPI) -> tuple[Any, bytes]:
        """An unsigned transaction and its sender (the zero address if none) for calls."""
        gas = min(request.gas if request.gas is not None else int(head.gas_limit), int(head.gas_limit))
        tx = self.chain.unsigned_transaction(
            to=request.to, data=request.data, value=request.value, gas=gas, access_list=request.access_list
        )
        return tx, request.sender or b"\x00" * 20

    def _call(self, params: Params) -> str:
        header = self._header_for(params.block(1))
        if params.has(3) and params.raw(3) != {}:
            raise RpcParamsError(
                "parameter 4 (blockOverrides) is not supported by this node: calls run in the context of "
                "the block asked for; leave it out (or pass {}), or mine the block you need (evm_mine)"
            )
        tx, sender = self._unsigned(read_transaction(params, 0), header)
        return ser.data(self.chain.call(tx, sender, header, read_state_overrides(params, 2)))

    def _estimate_gas(self, params: Params) -> str:
        header = self._header_for(params.block(1))
        tx, sender = self._unsigned(read_transaction(params, 0), header)
        return ser.quantity(self.chain.estimate_gas(tx, sender, header, read_state_overrides(params, 2)))

    def _create_access_list(self, params: Params) -> JSON:
        header = self._header_for(params.block(1))
        tx, sender = self._unsigned(read_transaction(params, 0), header)
        access_list, gas_used = self.chain.create_access_list(tx, sender, header)
        return {
            "accessList": [
                {"address": ser.address(address), "storageKeys": [ser.word(slot) for slot in slots]}
                for address, slots in access_list
            ],
            "gasUsed": ser.quantity(gas_used),
        }

    def _send_raw_transaction(self, params: Params) -> str:
        return ser.data(self.chain.send_raw_transaction(params.data(0)))

    def _send_transaction(self, params: Params) -> str:
        fields = params.fields(0)
        request = read_transaction(params, 0)
        if request.sender is None:
            raise RpcParamsError(f"{fields.where}: field 'from' is missing: name one of eth_accounts")
        account = self.chain.dev_account(request.sender)
        if account is None:
            raise InvalidTransactionError(
                f"unknown account {ser.address(request.sender)}: this node signs only for its development "
                "accounts (eth_accounts); sign locally and use eth_sendRawTransaction"
            )
        head = self.chain.head()
        tx: dict[str, Any] = {
            "chainId": self.chain.chain_id,
            "nonce": fields.quantity("nonce")
            if fields.has("nonce")
            else self.chain.nonce(request.sender, pending=True),
            "value": request.value,
            "data": request.data,
        }
        if request.to:
            tx["to"] = ser.address(request.to)
        if request.access_list:
            tx["accessList"] = [
                {"address": ser.address(address), "storageKeys": [ser.word(slot) for slot in slots]}
                for address, slots in request.access_list
            ]
        if request.gas is not None:
            tx["gas"] = request.gas
        else:
            unsigned, _ = self._unsigned(request, head)
            tx["gas"] = self.chain.estimate_gas(unsigned, request.sender, head)
        if fields.has("gasPrice"):
            tx["gasPrice"] = fields.quantity("gasPrice")
        else:
            tip = fields.quantity("maxPriorityFeePerGas", PRIORITY_FEE)
            tx["type"] = 2
            tx["maxPriorityFeePerGas"] = tip
            tx["maxFeePerGas"] = fields.quantity("maxFeePerGas", 2 * self.chain.next_base_fee() + tip)
        signed = account.account.sign_transaction(tx)
        return ser.data(self.chain.send_raw_transaction(bytes(signed.raw_transaction)))
