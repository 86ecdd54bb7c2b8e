"""The py-evm classes of an embedded chain: one Prague VM configured by the chain's mode.

Two departures from py-evm's defaults, both needed by a long-running private chain:

- the block gas limit stays constant (py-evm lowers a child's limit by 1/1024 of its
  parent's unless told otherwise, which starves a chain after about a thousand blocks);
- a child's timestamp is ``max(parent + 1, now + offset)``: never backwards, strictly
  increasing as py-evm's header validation demands, and following the wall clock (plus
  an offset that development tools may move forward) whenever blocks are sparser than
  one a second.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, ClassVar, cast

from eth.abc import (
    AccountStorageDatabaseAPI,
    BlockAPI,
    BlockHeaderAPI,
    ConsensusAPI,
    MessageAPI,
    StateAPI,
    TransactionContextAPI,
    VirtualMachineAPI,
)
from eth.chains.base import Chain
from eth.consensus.noproof import NoProofConsensus
from eth.db.account import AccountDB
from eth.rlp.accounts import Account
from eth.validation import validate_canonical_address, validate_uint64, validate_uint256
from eth.vm.code_stream import CodeStream
from eth.vm.forks.cancun.constants import BEACON_ROOTS_ADDRESS
from eth.vm.forks.prague import PragueVM
from eth.vm.forks.prague.blocks import PragueBlock
from eth.vm.forks.prague.computation import PragueComputation
from eth.vm.forks.prague.constants import (
    CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS,
    DEPOSIT_CONTRACT_ADDRESS,
    DEPOSIT_REQUEST_TYPE,
    HISTORY_STORAGE_ADDRESS,
    WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS,
)
from eth.vm.forks.prague.headers import create_prague_header_from_parent
from eth.vm.forks.prague.state import PragueState
from eth.vm.opcode_values import PUSH1, PUSH32
from eth_typing import Address
from eth_utils.logging import get_extended_debug_logger

from registry.chain.node.accountstorage import OnePassStorageDB
from registry.chain.node.interpreter import fast_opcode_table
from registry.chain.node.modes import ChainMode
from registry.chain.node.rlpcodec import encode_uint, list_prefix

_create_prague_header = create_prague_header_from_parent()


class ChainClock:
    """Wall-clock seconds plus an offset that only moves forward (``evm_increaseTime``).

    A timestamp can also be pinned for the next block (``evm_setNextBlockTimestamp``, or
    ``evm_mine`` with a timestamp): the first block built on a parent older than the pin
    carries it exactly, and later blocks follow the clock, which was moved up to the pin.
    """

    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self.wall = wall
        """The wall clock read by `now` (tests give a fixed one, so no result depends on a second ticking)."""
        self.offset = 0
        """Seconds added to the wall clock."""
        self.pinned: int | None = None
        """Timestamp of the next block, if one was asked for."""

    def now(self) -> int:
        """The current chain time in whole seconds."""
        return int(self.wall()) + self.offset

    def advance(self, seconds: int) -> int:
        """Move the clock ``seconds`` forward (negative values are refused); return the new offset."""
        if seconds < 0:
            raise ValueError(f"the chain clock never goes backwards; got {seconds} seconds")
        self.offset += seconds
        return self.offset

    def pin(self, timestamp: int) -> None:
        """Give the next block exactly ``timestamp`` and move the clock up to it."""
        self.pinned = timestamp
        self.offset += max(0, timestamp - self.now())

    def next_timestamp(self, parent_timestamp: int) -> int:
        """Timestamp of a block built on a parent with ``parent_timestamp``: never earlier than it."""
        if self.pinned is not None and parent_timestamp < self.pinned:
            return self.pinned
        return max(parent_timestamp + 1, self.now())


SYSTEM_CONTRACT_ADDRESSES: frozenset[bytes] = frozenset(
    bytes(address)
    for address in (
        BEACON_ROOTS_ADDRESS,
        HISTORY_STORAGE_ADDRESS,
        DEPOSIT_CONTRACT_ADDRESS,
        WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS,
        CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS,
    )
)
"""Addresses whose code Cancun and Prague consult around every block."""


JUMP_ANALYSIS_CACHE_SIZE = 256
"""Distinct contract codes whose push-data positions are kept between transactions."""

_push_data_cache: OrderedDict[bytes, frozenset[int]] = OrderedDict()
_push_data_lock = threading.Lock()


def push_data_positions(code: bytes) -> frozenset[int]:
    """Positions of ``code`` that are PUSH immediates, hence never valid jump targets (cached per code).

    py-evm works this out lazily per computation, walking back up to 32 bytes from every
    jump target, and forgets it when the computation ends; a token's ``transfer`` pays that
    on every transaction. One forward pass per distinct code gives the same answer.
    """
    with _push_data_lock:
        cached = _push_data_cache.get(code)
        if cached is not None:
            _push_data_cache.move_to_end(code)
            return cached
    positions: set[int] = set()
    index = 0
    length = len(code)
    while index < length:
        opcode = code[index]
        if PUSH1 <= opcode <= PUSH32:
            size = opcode - PUSH1 + 1
            positions.update(range(index + 1, min(index + 1 + size, length)))
            index += size + 1
        else:
            index += 1
    result = frozenset(positions)
    # The builder thread and callers' threads (eth_call, estimates) share the cache.
    with _push_data_lock:
        _push_data_cache[code] = result
        while len(_push_data_cache) > JUMP_ANALYSIS_CACHE_SIZE:
            _push_data_cache.popitem(last=False)
    return result


class AnalysedCodeStream(CodeStream):
    """A code stream whose jump-target validity comes from `push_data_positions`."""

    __slots__ = ["_push_data"]

    def __init__(self, code_bytes: bytes) -> None:
        super().__init__(code_bytes)
        self._push_data = push_data_positions(code_bytes)

    def is_valid_opcode(self, position: int) -> bool:
        """True if ``position`` holds an opcode (inside the code and not a PUSH immediate)."""
        return position < self._length_cache and position not in self._push_data


class RegistryPragueComputation(PragueComputation):
    """Prague's computation with jump-target analysis cached per contract code and fast opcodes.

    The opcode table is Prague's, rebuilt by `registry.chain.node.interpreter.fast_opcode_table`.
    """

    opcodes = fast_opcode_table(PragueComputation.opcodes)

    def __init__(
        self,
        state: StateAPI,
        message: MessageAPI,
        transaction_context: TransactionContextAPI,
    ) -> None:
        super().__init__(state, message, transaction_context)
        # Short codes (plain calls, tiny contracts) are cheaper to check py-evm's way than to hash.
        if len(message.code) > 64:
            self.code = AnalysedCodeStream(message.code)


def encode_account(account: Account) -> bytes:
    """The RLP encoding of ``account`` (what ``rlp.encode(account, sedes=Account)`` returns).

    A transfer writes the sender's, the recipient's and the fee recipient's accounts; the
    rlp package's generic serializer was a tenth of a block's building time for them.
    """
    payload = (
        encode_uint(account.nonce)
        + encode_uint(account.balance)
        + b"\xa0"
        + account.storage_root
        + b"\xa0"
        + account.code_hash
    )
    return list_prefix(len(payload)) + payload


class RegistryAccountDB(AccountDB):
    """py-evm's account database, building and encoding changed accounts directly.

    py-evm changes an account with ``Account.copy(field=value)``, which deep-copies every
    field; the fields are immutable ints and bytes, so a new `Account` from the old
    fields is the same value at a fraction of the cost (three balance changes per transfer).
    Accounts are encoded by `encode_account`. Each account's storage is a
    `OnePassStorageDB`, whose changed slots reach the storage trie in one pass per block.
    """

    def _get_address_store(self, address: Address) -> AccountStorageDatabaseAPI:
        store = self._account_stores.get(address)
        if store is None:
            store = OnePassStorageDB(self._raw_store_db, self._get_storage_root(address), address)
            self._account_stores[address] = store
        return store

    def _set_account(self, address: Address, account: Account) -> None:
        self._account_cache[address] = account
        self._journaltrie[address] = encode_account(account)

    def set_balance(self, address: Address, balance: int) -> None:
        """Set the balance of ``address``."""
        validate_canonical_address(address, title="Storage Address")
        validate_uint256(balance, title="Account Balance")
        account = self._get_account(address)
        self._set_account(address, Account(account.nonce, balance, account.storage_root, account.code_hash))

    def set_nonce(self, address: Address, nonce: int) -> None:
        """Set the nonce of ``address``."""
        validate_canonical_address(address, title="Storage Address")
        validate_uint64(nonce, title="Nonce")
        account = self._get_account(address)
        self._set_account(address, Account(nonce, account.balance, account.storage_root, account.code_hash))


class RegistryPragueState(PragueState):
    """Prague's state with the registry's computation and account database classes.

    py-evm looks its state logger up by name on every access, several times per
    transaction; the state class keeps one.
    """

    computation_class = RegistryPragueComputation
    account_db_class = RegistryAccountDB
    logger = get_extended_debug_logger("eth.vm.state.RegistryPragueState")


class RegistryPragueBlock(PragueBlock):
    """Prague's block, copied without deep-copying its transactions.

    rlp's ``copy`` deep-copies every field it is not given, and py-evm copies a block
    several times while finalising it: each time every transaction was rebuilt. Blocks,
    headers, transactions and withdrawals are immutable, so the copy shares them.
    """

    def copy(self, *args: Any, **kwargs: Any) -> RegistryPragueBlock:
        """A block with the fields in ``kwargs`` replaced and the others shared with this one."""
        if args:
            return cast(RegistryPragueBlock, super().copy(*args, **kwargs))
        return type(self)(**{**self.as_dict(), **kwargs})


class RegistryPragueVM(PragueVM):
    """Prague, skipping the per-block system-contract work on chains that have none of them.

    Around every block, Cancun and Prague look for five system contracts (beacon roots,
    block-hash history, deposits, withdrawal and consolidation requests) and read every
    receipt of the block for deposit logs. The registry's chains deploy none of them at
    genesis; `system_contracts_absent` is then set on the chain's VM class, and the hooks
    produce directly what py-evm computes when the contracts are missing: no state
    change before the block, and one empty deposit request after it. Both building and
    importing use this class, so a block re-executes identically. The flag is cleared
    if a transaction ever creates a contract at one of those addresses.
    """

    system_contracts_absent: ClassVar[bool] = False
    _state_class = RegistryPragueState
    block_class = RegistryPragueBlock

    def block_preprocessing(self, block: BlockAPI) -> None:
        """Nothing to record when the beacon-roots and history contracts are absent."""
        if not self.system_contracts_absent:
            super().block_preprocessing(block)

    def block_postprocessing(self, block: BlockAPI) -> BlockAPI:
        """The requests hash of a block without deposits, withdrawals or consolidations."""
        if not self.system_contracts_absent:
            return super().block_postprocessing(block)
        block.block_requests.append(DEPOSIT_REQUEST_TYPE)
        return self.compute_requests_hash(block)


def has_system_contracts(state: StateAPI) -> bool:
    """True if any system contract has code in ``state``."""
    return any(state.get_code(Address(address)) for address in SYSTEM_CONTRACT_ADDRESSES)


def make_vm_class(mode: ChainMode, clock: ChainClock) -> type[VirtualMachineAPI]:
    """A Prague VM class wired to ``mode``'s consensus, extra-data size and the chain ``clock``."""
    consensus: type[ConsensusAPI] = mode.consensus_class or NoProofConsensus

    def create_header_from_parent(parent: BlockHeaderAPI | None, **params: Any) -> BlockHeaderAPI:
        if parent is not None:
            params.setdefault("gas_limit", parent.gas_limit)
            params.setdefault("timestamp", clock.next_timestamp(parent.timestamp))
        return cast(BlockHeaderAPI, _create_prague_header(parent, **params))

    vm_class = RegistryPragueVM.configure(
        __name__=f"{mode.name.capitalize()}PragueVM",
        consensus_class=consensus,
        extra_data_max_bytes=mode.extra_data_max_bytes,
        create_header_from_parent=staticmethod(create_header_from_parent),
    )
    return cast(type[VirtualMachineAPI], vm_class)


def make_chain_class(mode: ChainMode, chain_id: int, clock: ChainClock) -> type[Chain]:
    """A py-evm `Chain` class for ``mode`` with ``chain_id``, running Prague from genesis."""
    vm_class = make_vm_class(mode, clock)
    chain_class: type[Chain] = Chain.configure(
        __name__=f"{mode.name.capitalize()}Chain",
        vm_configuration=((0, vm_class),),
        chain_id=chain_id,
    )
    return chain_class
