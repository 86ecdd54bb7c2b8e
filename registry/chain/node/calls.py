"""Execution without a transaction: ``eth_call`` and ``eth_estimateGas`` on the state after a block.

`Calls` runs an unsigned transaction from any sender on a throw-away copy of the state after a
given block, inside that block's context, as geth and anvil do; nothing it does is kept. The
chain (`registry.chain.node.chain.EmbeddedChain`) holds its lock around every call.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, cast

from eth.abc import BlockHeaderAPI, SignedTransactionAPI, StateAPI
from eth.chains.base import Chain
from eth.vm.spoof import SpoofTransaction
from eth_typing import Address
from eth_utils.exceptions import ValidationError

from registry.chain.errors import ChainError, InsufficientFundsError, InvalidTransactionError
from registry.chain.node.builder import computation_error


class Calls:
    """Read-only execution on the states of one py-evm chain."""

    def __init__(self, py_evm: Chain) -> None:
        self._py_evm = py_evm

    @contextlib.contextmanager
    def state_after(self, target: BlockHeaderAPI) -> Iterator[StateAPI]:
        """The state after block ``target``, executing inside that block's context.

        As geth and anvil answer ``eth_call`` at a block: ``block.number`` and
        ``block.timestamp`` are the block's own (so a view at "latest" sees the time the
        clock was moved to), the base fee is zero, and every change is discarded.
        """
        vm: Any = self._py_evm.get_vm(target)  # chain_context is on py-evm's VM, not on its API class
        header = target.copy(base_fee_per_gas=0)
        state = vm.build_state(vm.chaindb.db, header, vm.chain_context, vm.previous_hashes or ())
        snapshot = state.snapshot()
        try:
            yield state
        finally:
            state.revert(snapshot)

    def call(self, tx: SignedTransactionAPI | Any, sender: bytes, target: BlockHeaderAPI) -> bytes:
        """Execute the unsigned ``tx`` from ``sender`` on the state after ``target`` and return its
        output, without a fee and without keeping any change.

        Raises:
            RevertError: the call reverted (``data`` holds the revert payload).
            ExecutionFailedError: it failed otherwise (out of gas, invalid opcode).
            InsufficientFundsError, NonceError: the call itself is invalid.
        """
        with self.state_after(target) as state:
            spoof = _spoof(tx, sender, state)
            try:
                computation = state.costless_execute_transaction(spoof)
            except ValidationError as exc:
                raise _call_validation_error(exc, sender) from exc
        error = computation_error(computation)
        if error is not None:
            raise error
        return bytes(computation.output)

    def estimate_gas(self, tx: SignedTransactionAPI | Any, sender: bytes, target: BlockHeaderAPI) -> int:
        """The smallest gas limit with which ``tx`` from ``sender`` succeeds on the state after ``target``.

        Runs the transaction once with the block gas limit, then checks the gas it
        consumed; only when that is not enough (63/64 rule, refunds) does it search.

        Raises:
            RevertError, ExecutionFailedError: the transaction fails even with all the block's gas.
        """
        with self.state_after(target) as state:
            cap = int(state.gas_limit)

            def attempt(gas: int) -> tuple[bool, Any]:
                spoof = _spoof(tx, sender, state, gas=gas)
                snapshot = state.snapshot()
                try:
                    computation = state.costless_execute_transaction(spoof)
                except ValidationError as exc:
                    raise _call_validation_error(exc, sender) from exc
                finally:
                    state.revert(snapshot)
                return (not computation.is_error), computation

            ok, computation = attempt(cap)
            if not ok:
                error = computation_error(computation)
                assert error is not None
                raise error
            consumed = cap - int(computation.get_gas_remaining())
            intrinsic = int(_spoof(tx, sender, state, gas=cap).intrinsic_gas)
            low = max(consumed, intrinsic)
            if attempt(low)[0]:
                return low
            high = cap
            # Binary search between a failing and a succeeding limit, to 1% precision.
            while high - low > max(1_000, low // 100):
                middle = (low + high) // 2
                if attempt(middle)[0]:
                    high = middle
                else:
                    low = middle
            return high

    def unsigned_transaction(
        self,
        head: BlockHeaderAPI,
        *,
        to: bytes,
        data: bytes,
        value: int = 0,
        gas: int | None = None,
        gas_price: int = 0,
    ) -> Any:
        """An unsigned legacy transaction for `call` and `estimate_gas` (``to=b""`` creates a contract)."""
        return self._py_evm.get_vm_class(head).create_unsigned_transaction(
            nonce=0,
            gas_price=gas_price,
            gas=gas if gas is not None else int(head.gas_limit),
            to=Address(to),
            value=value,
            data=data,
        )


def _spoof(tx: Any, sender: bytes, state: StateAPI, gas: int | None = None) -> SignedTransactionAPI:
    overrides: dict[str, Any] = {"nonce": state.get_nonce(Address(sender))}
    if gas is not None:
        overrides["gas"] = gas
    return cast(SignedTransactionAPI, SpoofTransaction(tx, from_=sender, **overrides))


def _call_validation_error(exc: ValidationError, sender: bytes) -> ChainError:
    text = str(exc)
    if "balance" in text.lower() or "afford" in text.lower():
        return InsufficientFundsError(
            f"insufficient funds for the call's value: sender 0x{sender.hex()}: {text}"
        )
    return InvalidTransactionError(f"the call from 0x{sender.hex()} is invalid: {text}")
