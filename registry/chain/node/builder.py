"""Execute a list of transactions on top of a parent header and produce a block.

One function, `execute_block` (over `OpenBlock`, which the background builder also fills
one transaction at a time), serves both sides of the chain:

- **building** (``strict=False``): transactions come from the pool; one that the
  mode refuses or that is invalid against the state (nonce, funds) is reported in
  ``failed`` and left out; one that no longer fits the block's gas is left for the next
  block (``deferred``), as is every later transaction of the same sender, so that each
  sender's nonces stay in order;
- **importing** (``strict=True``): every transaction of the received block must apply,
  or the block is refused with `InvalidBlockError`.

The state is kept in one py-evm VM for the whole block and its root is computed once,
when the block is finalised: per-transaction state roots do not exist after Byzantium.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from eth.abc import (
    BlockAPI,
    BlockHeaderAPI,
    ComputationAPI,
    ReceiptAPI,
    SignedTransactionAPI,
    StateAPI,
)
from eth.chains.base import Chain
from eth.exceptions import Revert
from eth.vm.base import VM
from eth.vm.forks.cancun.state import get_total_blob_gas
from eth.vm.message import Message
from eth_typing import Address, BlockNumber, Hash32
from eth_utils.exceptions import ValidationError

from registry.chain.errors import (
    ChainError,
    ExecutionFailedError,
    FeeTooLowError,
    InsufficientFundsError,
    InvalidBlockError,
    InvalidTransactionError,
    NonceError,
    RevertError,
    TransactionRejectedError,
)
from registry.chain.node.modes import ChainMode
from registry.chain.node.trie import ordered_trie_root_and_nodes

VIEW_CALL_GAS = 10_000_000
"""Gas given to a read-only call made by a mode while checking a transaction."""


class VMStateView:
    """A `StateView` over a py-evm state: what a mode sees when it checks a transaction."""

    def __init__(self, state: StateAPI, block_number: int, timestamp: int | None = None) -> None:
        self._state = state
        self._block_number = block_number
        # None: the state's own block (building, importing), whose context carries its timestamp.
        self._timestamp = timestamp

    @property
    def state(self) -> StateAPI:
        """The py-evm state; read it, never write through it."""
        return self._state

    @property
    def block_number(self) -> int:
        """Number of the block the checked transaction would land in."""
        return self._block_number

    @property
    def timestamp(self) -> int:
        """Timestamp of the block the checked transaction would land in."""
        if self._timestamp is None:
            return int(self._state.execution_context.timestamp)
        return self._timestamp

    def call(self, to: bytes, data: bytes, sender: bytes | None = None) -> bytes:
        """Run a read-only message call to ``to`` and return its output; the state is left untouched.

        Raises:
            RevertError: the call reverted or failed.
        """
        origin = Address(sender or b"\x00" * 20)
        target = Address(to)
        state = self._state
        message = Message(
            gas=VIEW_CALL_GAS,
            to=target,
            sender=origin,
            value=0,
            data=data,
            code=state.get_code(target),
            code_address=target,
        )
        context = state.get_transaction_context_class()(gas_price=0, origin=origin)
        snapshot = state.snapshot()
        try:
            computation = state.computation_class.apply_message(state, message, context)
        finally:
            state.revert(snapshot)
        if computation.is_error:
            raise RevertError(
                f"view call to 0x{to.hex()} failed: {computation.error}", data=bytes(computation.output)
            )
        return bytes(computation.output)


@dataclass
class BlockOutcome:
    """What executing a block produced."""

    block: BlockAPI
    """The finalised block (state root set), not yet sealed nor persisted."""
    receipts: tuple[ReceiptAPI, ...]
    included: tuple[SignedTransactionAPI, ...]
    failed: dict[bytes, ChainError] = field(default_factory=dict)
    """Transactions left out for good, by hash, with the reason."""
    state: StateAPI | None = None
    """The state after the block (persisted); it can serve reads of the new head."""
    deferred: tuple[SignedTransactionAPI, ...] = ()
    """Transactions left for a later block: they did not fit, or follow one of their sender's that did not."""


def translate_validation_error(exc: Exception, tx: SignedTransactionAPI) -> TransactionRejectedError:
    """Turn py-evm's ValidationError about ``tx`` into the most specific chain error."""
    text = str(exc)
    lowered = text.lower()
    sender = "0x" + bytes(tx.sender).hex()
    if "nonce" in lowered:
        return NonceError(f"transaction 0x{tx.hash.hex()} from {sender}: {text}")
    if "balance" in lowered or "afford" in lowered or "insufficient" in lowered:
        return InsufficientFundsError(f"insufficient funds for gas * price + value: sender {sender}: {text}")
    if "base fee" in lowered or "max fee" in lowered or "fee per gas" in lowered:
        return FeeTooLowError(f"transaction 0x{tx.hash.hex()} from {sender}: {text}")
    return InvalidTransactionError(f"transaction 0x{tx.hash.hex()} from {sender}: {text}")


def execute_block(
    chain: Chain,
    mode: ChainMode,
    parent: BlockHeaderAPI,
    transactions: Iterable[SignedTransactionAPI],
    *,
    header_params: Mapping[str, Any],
    strict: bool,
) -> BlockOutcome:
    """Apply ``transactions`` in order on top of ``parent`` and finalise the resulting block.

    ``header_params`` go to the VM's ``create_header_from_parent`` (coinbase, timestamp,
    extra_data...). Raises `InvalidBlockError` in strict mode when a transaction does not apply.
    """
    block = OpenBlock(chain, mode, parent, header_params=header_params, strict=strict)
    for tx in transactions:
        block.apply(tx)
    return block.finish()


class OpenBlock:
    """A block being filled one transaction at a time, then finalised once (see `execute_block`).

    The background builder keeps one open while a burst arrives: each transaction is executed
    as soon as it is pooled, so that when the burst ends only the block's finalisation (state
    root, tries) is left to do. Nothing reaches the database before `finish`: an open block
    that is given up leaves no trace.
    """

    def __init__(
        self,
        chain: Chain,
        mode: ChainMode,
        parent: BlockHeaderAPI,
        *,
        header_params: Mapping[str, Any],
        strict: bool,
    ) -> None:
        self._chain = chain
        self._mode = mode
        self._strict = strict
        self.parent = parent
        """The header this block is built on."""
        vm_class = chain.get_vm_class_for_block_number(BlockNumber(parent.block_number + 1))
        header = vm_class.create_header_from_parent(parent, **header_params)
        self.header = header
        """The header as opened (number, timestamp, base fee); `finish` fills in gas used and roots."""
        # The concrete VM class: the block pre- and post-processing hooks are not on the API class.
        vm = cast(VM, chain.get_vm(header))
        vm.block_preprocessing(vm.get_block())
        self._vm = vm
        self._state = vm.state
        self._view = VMStateView(self._state, header.block_number)
        # py-evm copies the whole header after every transaction to carry gas used and bloom;
        # a running view with a mutable gas counter serves the same checks, and the header is
        # copied once at the end.
        self._running = _RunningHeader(header)
        self._bloom = int(header.bloom)
        self._blob_gas_used = 0
        self.included: list[SignedTransactionAPI] = []
        """Transactions applied, in block order."""
        self._receipts: list[ReceiptAPI] = []
        self.failed: dict[bytes, ChainError] = {}
        """Transactions left out for good, by hash, with the reason."""
        self.deferred: list[SignedTransactionAPI] = []
        """Transactions left for a later block (no room, or behind one of their sender's that did not fit)."""
        self._held_senders: set[bytes] = set()

    def apply(self, tx: SignedTransactionAPI) -> None:
        """Execute ``tx`` on the block's state and add it, or record why it was left out.

        Raises:
            InvalidBlockError: strict mode only, when ``tx`` does not apply.
        """
        header = self.header
        running = self._running
        sender = tx.sender
        if sender in self._held_senders:
            self.deferred.append(tx)
            return
        if running.gas_used + tx.gas > running.gas_limit:
            if self._strict:
                raise InvalidBlockError(
                    f"block #{header.block_number}: transaction 0x{tx.hash.hex()} exceeds the block gas limit"
                )
            self._held_senders.add(sender)
            self.deferred.append(tx)
            return
        state = self._state
        try:
            self._mode.check_transaction(tx, self._view)
            self._vm.validate_transaction_against_header(cast(BlockHeaderAPI, running), tx)
            state.lock_changes()
            computation = state.apply_transaction(tx)
        except ChainError as exc:
            if self._strict:
                raise InvalidBlockError(
                    f"block #{header.block_number}: transaction 0x{tx.hash.hex()} is refused: {exc}"
                ) from exc
            self.failed[tx.hash] = exc
            self._held_senders.add(sender)
            return
        except ValidationError as exc:
            if self._strict:
                raise InvalidBlockError(
                    f"block #{header.block_number}: transaction 0x{tx.hash.hex()} is invalid: {exc}"
                ) from exc
            self.failed[tx.hash] = translate_validation_error(exc, tx)
            self._held_senders.add(sender)
            return
        receipt = self._vm.make_receipt(cast(BlockHeaderAPI, running), tx, computation, state)
        running.gas_used = receipt.gas_used
        self._bloom |= int(receipt.bloom)
        self._blob_gas_used += get_total_blob_gas(tx)
        self.included.append(tx)
        self._receipts.append(receipt)

    def finish(self) -> BlockOutcome:
        """Finalise the block (state root, transaction and receipt tries); call it once."""
        chain, vm, included, receipts = self._chain, self._vm, self.included, self._receipts
        tx_root, tx_nodes = ordered_trie_root_and_nodes([tx.encode() for tx in included])
        receipt_root, receipt_nodes = ordered_trie_root_and_nodes([receipt.encode() for receipt in receipts])
        chain.chaindb.persist_trie_data_dict({Hash32(key): value for key, value in tx_nodes.items()})
        chain.chaindb.persist_trie_data_dict({Hash32(key): value for key, value in receipt_nodes.items()})
        filled_header = self.header.copy(
            gas_used=self._running.gas_used,
            bloom=self._bloom,
            blob_gas_used=self._blob_gas_used,
            transaction_root=tx_root,
            receipt_root=receipt_root,
        )
        filled = vm.get_block().copy(header=filled_header, transactions=tuple(included))
        processed = vm.block_postprocessing(filled)
        finalized = vm.finalize_block(processed).block
        return BlockOutcome(
            block=finalized,
            receipts=tuple(receipts),
            included=tuple(included),
            failed=dict(self.failed),
            state=self._state,
            deferred=tuple(self.deferred),
        )


class _RunningHeader:
    """The header being filled, as py-evm's per-transaction checks read it: only gas used changes."""

    def __init__(self, header: BlockHeaderAPI) -> None:
        self._header = header
        self.gas_used = int(header.gas_used)
        self.gas_limit = int(header.gas_limit)
        self.base_fee_per_gas = int(header.base_fee_per_gas or 0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._header, name)


def computation_error(computation: ComputationAPI) -> ChainError | None:
    """The chain error matching a failed computation (revert data kept), or None on success."""
    if not computation.is_error:
        return None
    output = bytes(computation.output)
    if isinstance(computation.error, Revert):
        return RevertError("execution reverted", data=output)
    return ExecutionFailedError(f"execution failed: {type(computation.error).__name__} {computation.error}")
