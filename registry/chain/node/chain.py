"""The embedded chain: py-evm driven directly, with a transaction pool and a block builder.

Life of a transaction::

    submit / send_raw_transaction --checks--> pool --builder--> block --seal--> SQLite commit --> listeners

- *Submission* checks the transaction against the head state (signature, chain id, gas;
  then the mode's `check_transaction`, at the timestamp the next block will carry; then
  fee, funds, nonce) and returns its hash at once.
- The *builder* seals a block as soon as the pool holds work, packing every ready
  transaction (several per sender, nonces in order) up to the constant block gas limit.
  A burst of transactions therefore lands in a few blocks, not one block each. Three
  sealing policies:

  ``"background"``  a builder thread keeps a block open and executes each transaction
                    as it is pooled; it seals the block when a client waits for a
                    receipt, when the stream pauses (``batch_window``, stretched to the
                    stream's pace), when the block is full or after ``MAX_BATCH_DELAY``
                    (the default);
  ``"instant"``     every submission seals its block before returning (automine: handy
                    for synchronous tests; one block per transaction);
  ``"manual"``      nothing is sealed until `EmbeddedChain.seal_pending` is called.

- A receipt exists once its block is sealed. Asking for the receipt of a transaction that
  is still in the pool waits (up to ``receipt_wait`` seconds) for the builder, so clients
  that poll (web3's ``wait_for_transaction_receipt``) get it with the block, not a poll
  interval later.

Every public method is thread-safe: one re-entrant lock (`EmbeddedChain.lock`) covers the
database, the pool and the builder; `EmbeddedChain.exclusive` holds it across several
calls, and `EmbeddedChain.atomic` also makes their writes one database transaction (a
rollback's rewind, replay blocks and report: all of them reach the disk, or none).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, cast

import rlp
from eth._utils.address import generate_contract_address
from eth.abc import BlockAPI, BlockHeaderAPI, ReceiptAPI, SignedTransactionAPI, StateAPI
from eth.chains.base import Chain
from eth.constants import BLANK_ROOT_HASH, ZERO_ADDRESS
from eth.db.schema import SchemaV1
from eth.exceptions import BlockNotFound, HeaderNotFound, TransactionNotFound, UnrecognizedTransactionType
from eth.rlp.sedes import chain_gaps
from eth.vm.forks.london.headers import calculate_expected_base_fee_per_gas
from eth_typing import Address, BlockNumber, Hash32
from eth_utils.exceptions import ValidationError

from registry.chain.accounts import ETHER, DevAccount, dev_accounts, write_dev_accounts
from registry.chain.errors import (
    BlockNotFoundError,
    ChainClosedError,
    ChainDataError,
    ChainError,
    FeeTooLowError,
    InsufficientFundsError,
    InvalidBlockError,
    InvalidTransactionError,
    NonceError,
    SenderNotPermittedError,
    TransactionExcludedError,
)
from registry.chain.events import ChainEvent, ChainListener, NewBlock, Refusal, Subscribers
from registry.chain.node.builder import BlockOutcome, OpenBlock, VMStateView, execute_block
from registry.chain.node.calls import AccessList, Calls, StateOverrides
from registry.chain.node.gas import data_floor_gas, intrinsic_gas
from registry.chain.node.host import BuiltBlock, TransactionLocation
from registry.chain.node.lock import FolderLock
from registry.chain.node.modes import ChainMode, GenesisAccount
from registry.chain.node.pool import TransactionPool
from registry.chain.node.proofs import AccountProof, prove
from registry.chain.node.senders import recover_sender, remember_hash
from registry.chain.node.storage import ChainDatabase
from registry.chain.node.vm import (
    SYSTEM_CONTRACT_ADDRESSES,
    ChainClock,
    RegistryPragueVM,
    has_system_contracts,
    make_chain_class,
)

logger = logging.getLogger(__name__)

Sealing = Literal["background", "instant", "manual"]
"""When blocks are sealed; see the module docstring."""

CHAIN_DB_FILE = "chain.sqlite3"
DEFAULT_GAS_LIMIT = 30_000_000
DEFAULT_DEV_ACCOUNT_BALANCE = 1_000_000 * ETHER
DEFAULT_BATCH_WINDOW = 0.002
MAX_BATCH_DELAY = 1.0
"""Longest a background build waits for a steady stream of transactions to pause before sealing.

A block's finalisation costs much the same whether a storage slot was changed by one of its
transactions or by fifty (each changed slot is written into its trie once), so a stream cut into
many blocks pays it many times; a client sending over HTTP on a busy machine, 10 ms or more between
two transactions, got blocks of about 20 transfers from a quarter of a second (README, "Throughput,
memory, reopening"). A client that waits for a receipt has its block sealed at once regardless."""
STREAM_PAUSE_FACTOR = 2.0
"""A stream has paused when no transaction came for this many times its usual gap between arrivals."""
MAX_STREAM_WINDOW = 0.05
"""Longest pause (seconds) that a stream's pace may stretch the batching window to."""
STREAM_IDLE_GAP = 0.25
"""A transaction arriving this long (seconds) after the previous one starts a new stream.

Shorter gaps belong to the stream and stretch its pace: a client that the machine's scheduler
held back for a few tens of milliseconds is still sending the same burst, and sealing its block
then would cut the burst into small blocks, each paying a block's whole finalisation."""
MAX_REQUEST_DEFERRAL = 0.002
"""Longest the background builder waits, before executing a transaction, for requests being answered."""
DEFAULT_RECEIPT_WAIT = 2.0
MAX_REMEMBERED_FAILURES = 10_000
RECENT_BLOCKS = 64
"""Blocks kept decoded in memory, with their receipts, for queries about recent transactions."""
RECENT_TRANSACTIONS = 20_000
"""Transactions of recently added canonical blocks whose place is kept in memory."""
MAX_TRANSACTION_SIZE = 128 * 1024
"""Largest raw transaction accepted, in bytes (geth's pool limit: 4 slots of 32 KiB)."""
MAX_INITCODE_SIZE = 2 * 24_576
"""Largest contract-creation code a transaction may carry (EIP-3860)."""

_META_CHAIN_ID = b"registry:meta:chain-id"
_META_MODE = b"registry:meta:mode"


class EmbeddedChain:
    """One embedded chain (see the module docstring). Create it with `EmbeddedChain.open`."""

    def __init__(
        self,
        *,
        mode: ChainMode,
        database: ChainDatabase,
        py_evm: Chain,
        chain_id: int,
        clock: ChainClock,
        accounts: list[DevAccount],
        sealing: Sealing,
        batch_window: float,
        receipt_wait: float,
    ) -> None:
        self.mode = mode
        """The chain's mode (permissioned or permissionless)."""
        self.name = mode.name
        """``"permissioned"`` or ``"permissionless"``."""
        self.chain_id = chain_id
        """The EIP-155 chain id."""
        self.py_evm = py_evm
        """The py-evm `Chain` (its ``chaindb`` and ``get_vm(header).state`` read any past block)."""
        self.clock = clock
        """The chain clock (wall clock plus a forward-only offset)."""
        self.dev_accounts = accounts
        """Development accounts funded at genesis; account 0 is the faucet."""
        self.sealing: Sealing = sealing
        self.batch_window = batch_window
        """Least pause (seconds) in a stream of transactions after which the open block is sealed."""
        self.receipt_wait = receipt_wait
        """Seconds a receipt request waits for a pending transaction's block."""
        self.lock = threading.RLock()
        """The chain's lock; held while sealing, importing, rewinding and answering queries."""
        self._database = database
        self._pool = TransactionPool()
        self._changed = threading.Condition(self.lock)
        """Notified when the head moves or a transaction is dropped (receipt waiters wait on it)."""
        self._wakeup = threading.Condition(self.lock)
        """Notified when the background builder has something new: an arrival, a waiter, closing."""
        # Writers (builder, import, rewind) take the build lock first, then the chain lock.
        self._build_lock = _CountedLock()
        self._work = False
        self._arrivals = 0
        self._last_arrival = 0.0
        self._arrival_gap = 0.0
        """Usual gap (seconds) between arrivals of the current stream: a moving average of the short gaps."""
        self._clock_changes = 0
        self._answering = 0
        self._answered = threading.Condition(threading.Lock())
        """Guards `_answering`; notified when no request is being answered (see `request_started`)."""
        self._awaited = threading.Event()
        """Set when someone waits for a pooled transaction's receipt: seal the open block now."""
        self._closed = False
        # An atomic scope (see `atomic`): its depth, the events it holds back until the commit, and
        # whether a write inside it was discarded (then it must not commit what is left).
        self._atomic_depth = 0
        self._atomic_events: list[ChainEvent] = []
        self._atomic_broken = False
        self._failed: OrderedDict[bytes, ChainError] = OrderedDict()
        self._recent: OrderedDict[bytes, tuple[BlockAPI, tuple[ReceiptAPI, ...]]] = OrderedDict()
        # Hash -> (header, index) for the transactions of the blocks this process added to
        # the canonical chain; emptied when the canonical chain is rewound or a write is discarded.
        self._recent_txs: OrderedDict[bytes, tuple[BlockHeaderAPI, int]] = OrderedDict()
        self._subscribers = Subscribers()
        self._submission_watchers: tuple[Callable[[bytes], None], ...] = ()
        self._refusal_watchers: tuple[Callable[[Refusal], None], ...] = ()
        self._folder_lock: FolderLock | None = None
        self._head_cache: tuple[bytes, BlockHeaderAPI, StateAPI, int] | None = None
        # One VM class serves the whole chain (Prague from genesis), hence one transaction codec.
        genesis_vm_class = py_evm.get_vm_class_for_block_number(BlockNumber(0))
        self._transaction_builder = genesis_vm_class.get_transaction_builder()
        self._calls = Calls(py_evm)
        self._builder: threading.Thread | None = None
        if sealing == "background":
            self._builder = threading.Thread(
                target=self._builder_loop, name=f"{self.name}-builder", daemon=True
            )
            self._builder.start()

    # -- opening and closing ------------------------------------------------------------

    @classmethod
    def open(
        cls,
        mode: ChainMode,
        *,
        data_dir: Path | None,
        chain_id: int,
        sealing: Sealing = "background",
        batch_window: float = DEFAULT_BATCH_WINDOW,
        gas_limit: int = DEFAULT_GAS_LIMIT,
        dev_account_count: int = 10,
        dev_account_balance: int = DEFAULT_DEV_ACCOUNT_BALANCE,
        receipt_wait: float = DEFAULT_RECEIPT_WAIT,
        wall_clock: Callable[[], float] | None = None,
    ) -> EmbeddedChain:
        """Open the chain stored in ``data_dir`` (the chain's own folder), creating it if empty.

        ``data_dir=None`` keeps the chain in memory. ``gas_limit`` and the development
        accounts only matter when the chain is created. ``wall_clock`` replaces the wall clock
        the chain's time follows (genesis included): a fixed one makes every block one second
        after its parent, so that a run repeats block for block.

        Raises:
            ChainDataError: the folder holds a chain with another chain id or mode.
            ChainInUseError: another process has this folder's chain open.
        """
        clock = ChainClock() if wall_clock is None else ChainClock(wall_clock)
        chain_class = make_chain_class(mode, chain_id, clock)
        # Taken first and given up on any failure below: a second process never opens the database.
        lock = None if data_dir is None else FolderLock(data_dir)
        if lock is not None:
            lock.acquire()
        database: ChainDatabase | None = None
        try:
            database = ChainDatabase(None if data_dir is None else data_dir / CHAIN_DB_FILE)
            accounts = dev_accounts(mode.name, chain_id, dev_account_count, dev_account_balance)
            py_evm = cls._open_or_create(
                chain_class=chain_class,
                database=database,
                mode=mode,
                chain_id=chain_id,
                gas_limit=gas_limit,
                accounts=accounts,
                genesis_time=clock.now(),
            )
            if data_dir is not None:
                write_dev_accounts(data_dir, mode.name, chain_id, accounts)
        except BaseException:
            if database is not None:
                database.close()
            if lock is not None:
                lock.release()
            raise
        chain = cls(
            mode=mode,
            database=database,
            py_evm=py_evm,
            chain_id=chain_id,
            clock=clock,
            accounts=accounts,
            sealing=sealing,
            batch_window=batch_window,
            receipt_wait=receipt_wait,
        )
        chain._folder_lock = lock
        try:
            chain._watch_system_contracts()
            # The mode may finish work a crash interrupted (an approved rollback) before anyone else
            # reaches the chain.
            mode.bind(chain)
        except BaseException:
            chain.close()
            raise
        return chain

    @staticmethod
    def _open_or_create(
        *,
        chain_class: type[Chain],
        database: ChainDatabase,
        mode: ChainMode,
        chain_id: int,
        gas_limit: int,
        accounts: list[DevAccount],
        genesis_time: int,
    ) -> Chain:
        db = database.db
        stored_id = db.get(_META_CHAIN_ID)
        if stored_id is not None:
            stored_mode = db.get(_META_MODE, b"").decode()
            if int(stored_id) != chain_id or stored_mode != mode.name:
                raise ChainDataError(
                    f"{database.path} holds the {stored_mode} chain with chain id {int(stored_id)}, "
                    f"not the {mode.name} chain with chain id {chain_id}; point the data directory elsewhere "
                    "or delete that folder to start over"
                )
            return chain_class(db)
        genesis_state: dict[bytes, GenesisAccount] = {
            bytes.fromhex(account.address[2:]): {"balance": account.balance} for account in accounts
        }
        for address, extra in mode.genesis_alloc().items():
            genesis_state[address] = {**genesis_state.get(address, {}), **extra}
        full_state = {
            address: {
                "balance": entry.get("balance", 0),
                "nonce": entry.get("nonce", 0),
                "code": entry.get("code", b""),
                "storage": entry.get("storage", {}),
            }
            for address, entry in genesis_state.items()
        }
        genesis_params = {
            "coinbase": ZERO_ADDRESS,
            "difficulty": 0,
            "extra_data": mode.genesis_extra_data(),
            "gas_limit": gas_limit,
            "timestamp": genesis_time,
            "transaction_root": BLANK_ROOT_HASH,
            "receipt_root": BLANK_ROOT_HASH,
        }
        py_evm = cast(Chain, chain_class.from_genesis(db, cast(Any, genesis_params), cast(Any, full_state)))
        db.set(_META_CHAIN_ID, str(chain_id).encode())
        db.set(_META_MODE, mode.name.encode())
        database.flush()
        return py_evm

    @property
    def database(self) -> ChainDatabase:
        """The chain's database (py-evm's ``chaindb.db`` sits on top of it)."""
        return self._database

    def flush_metadata(self) -> None:
        """Commit writes made outside a block (e.g. governance records in ``py_evm.chaindb.db``).

        Takes the build lock, so no half-built block is committed with them.
        """
        with self._build_lock, self.lock:
            self._ensure_open()
            self._commit()

    def _commit(self) -> None:
        """Commit the pending writes now, unless an atomic scope commits them when it ends."""
        if self._atomic_depth == 0:
            self._database.flush()

    @contextlib.contextmanager
    def atomic(self) -> Iterator[EmbeddedChain]:
        """Hold the chain still (as `exclusive`) and make everything written meanwhile one database
        transaction.

        Blocks sealed, imported or rewound inside the scope, and the mode's records, are committed
        together when it ends; a ``kill -9`` before that leaves the database as it was when the
        scope began. If the scope raises, or a write inside it was discarded (a block that failed
        halfway), everything written since it began is dropped, with what memory derived from it,
        and the chain is as before. Events published inside reach subscribers only after the
        commit, in order. Scopes nest: an inner one joins the outermost.

        Raises:
            ChainError: a write inside the scope was discarded but the scope did not raise; nothing
                of it was kept.
        """
        # The build lock stays held until the events are out, so that no block sealed after the scope
        # is announced before the scope's own events.
        with self._build_lock:
            with self.lock:
                self._ensure_open()
                outer = self._atomic_depth == 0
                if outer:
                    # What came before is committed on its own: the transaction holds this scope's writes.
                    self._database.flush()
                    self._atomic_events = []
                    self._atomic_broken = False
                self._atomic_depth += 1
                try:
                    yield self
                except BaseException:
                    self._atomic_depth -= 1
                    self._abandon_atomic()
                    raise
                self._atomic_depth -= 1
                if not outer:
                    return
                if self._atomic_broken:
                    self._abandon_atomic()
                    raise ChainError(
                        f"a write on the {self.name} chain failed inside an atomic change and was dropped; "
                        "the whole change was abandoned and the chain is as it was before it"
                    )
                try:
                    self._database.flush()
                except BaseException:
                    self._abandon_atomic()
                    raise
                events, self._atomic_events = self._atomic_events, []
            for event in events:
                self._subscribers.publish(event)

    def _abandon_atomic(self) -> None:
        """Drop every write of the atomic scope and what memory derived from it; the caller holds the lock."""
        self._atomic_broken = True
        self._database.discard()
        self._forget_head()
        self._recent.clear()
        if self._atomic_depth == 0:
            self._atomic_events = []

    def _watch_system_contracts(self) -> None:
        """Let the VM skip the system-contract hooks while no system contract exists (RegistryPragueVM)."""
        vm_class = self.py_evm.get_vm_class(self.head())
        if issubclass(vm_class, RegistryPragueVM):
            vm_class.system_contracts_absent = not has_system_contracts(self.state_at())

    def _note_system_contracts(self, block: BlockAPI) -> None:
        vm_class = self.py_evm.get_vm_class(block.header)
        if not getattr(vm_class, "system_contracts_absent", False):
            return
        for tx in block.transactions:
            created = None if tx.to else generate_contract_address(tx.sender, tx.nonce)
            if created is not None and bytes(created) in SYSTEM_CONTRACT_ADDRESSES:
                self._watch_system_contracts()
                return

    def close(self) -> None:
        """Stop the builder and release the database; pending (unsealed) transactions are dropped.

        Writes made outside a block and not yet flushed are committed first.
        """
        with self.lock:
            if self._closed:
                return
            self._closed = True
            self._changed.notify_all()
            self._wakeup.notify_all()  # a builder waiting for more of a burst seals what it has
        if self._builder is not None and self._builder is not threading.current_thread():
            self._builder.join()
        with self._build_lock, self.lock:
            self._database.flush()
            self._database.close()
            if self._folder_lock is not None:
                self._folder_lock.release()

    def advertise(self, url: str) -> None:
        """Record in the chain's folder that this process serves its JSON-RPC at ``url``, so that other
        commands on the same data directory send there instead of opening the database
        (see `registry.chain.node.lock`)."""
        if self._folder_lock is not None:
            self._folder_lock.advertise(url)

    @property
    def closed(self) -> bool:
        """True once `close` was called."""
        return self._closed

    def __enter__(self) -> EmbeddedChain:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _ensure_open(self) -> None:
        if self._closed:
            raise ChainClosedError(f"the {self.name} chain is closed; open it again with EmbeddedChain.open")

    # -- reading the chain ----------------------------------------------------------------

    def head(self) -> BlockHeaderAPI:
        """The header of the canonical head block."""
        with self.lock:
            self._ensure_open()
            return self.py_evm.get_canonical_head()

    @property
    def block_number(self) -> int:
        """Number of the canonical head block."""
        return int(self.head().block_number)

    def get_header(self, block_id: int | bytes) -> BlockHeaderAPI:
        """The canonical header with this number, or any stored header with this hash.

        Raises:
            BlockNotFoundError: no such block.
        """
        with self.lock:
            self._ensure_open()
            try:
                if isinstance(block_id, int):
                    return self.py_evm.get_canonical_block_header_by_number(BlockNumber(block_id))
                return self.py_evm.get_block_header_by_hash(Hash32(block_id))
            except (HeaderNotFound, BlockNotFound, ValidationError) as exc:
                shown = block_id if isinstance(block_id, int) else "0x" + block_id.hex()
                raise BlockNotFoundError(f"the {self.name} chain has no block {shown}") from exc

    def get_block(self, block_id: int | bytes) -> BlockAPI:
        """The canonical block with this number, or the stored block with this hash."""
        with self.lock:
            header = self.get_header(block_id)
            return self.py_evm.get_block_by_header(header)

    def is_canonical(self, header: BlockHeaderAPI) -> bool:
        """True if ``header`` is the canonical block at its height."""
        with self.lock:
            try:
                return bool(self.py_evm.get_canonical_block_hash(header.block_number) == header.hash)
            except HeaderNotFound:
                return False

    def state_at(self, header: BlockHeaderAPI | None = None) -> StateAPI:
        """The state after block ``header`` (the head by default); read it only."""
        with self.lock:
            self._ensure_open()
            if header is None:
                return self._head()[2]
            return self.py_evm.get_vm(header).state

    def state_view(self, header: BlockHeaderAPI | None = None) -> VMStateView:
        """A `StateView` of the state after ``header`` (the head by default), as modes see it."""
        with self.lock:
            target = header or self.head()
            return VMStateView(self.state_at(target), int(target.block_number) + 1)

    def _head(self) -> tuple[bytes, BlockHeaderAPI, StateAPI, int]:
        """(hash, header, state, next base fee) of the head, cached until the head moves."""
        head = self.py_evm.get_canonical_head()
        cached = self._head_cache
        if cached is not None and cached[0] == head.hash:
            return cached
        state = self.py_evm.get_vm(head).state
        # The child's base fee follows from the head alone (EIP-1559); no need to build a header.
        entry = (head.hash, head, state, int(calculate_expected_base_fee_per_gas(head)))
        self._head_cache = entry
        return entry

    def next_block_view(self) -> VMStateView:
        """A `StateView` of the head state as the next block will see it: its number and the timestamp
        the chain clock gives it (what submission checks a sender against)."""
        with self.lock:
            self._ensure_open()
            head, state = self._head()[1:3]
            return self._next_view(head, state)

    def _next_view(self, head: BlockHeaderAPI, state: StateAPI) -> VMStateView:
        return VMStateView(state, int(head.block_number) + 1, self.clock.next_timestamp(int(head.timestamp)))

    def next_base_fee(self) -> int:
        """The base fee per gas of the next block."""
        with self.lock:
            self._ensure_open()
            return self._head()[3]

    def find_transaction(self, tx_hash: bytes) -> TransactionLocation | None:
        """Where a mined transaction is, or None if it is not in a canonical block."""
        with self.lock:
            self._ensure_open()
            recent = self._recent_txs.get(tx_hash)
            if recent is not None:
                header, index = recent
                block, _receipts = self.block_with_receipts(header)
                return TransactionLocation(tx=block.transactions[index], header=header, index=index)
            try:
                block_number, index = self.py_evm.chaindb.get_transaction_index(Hash32(tx_hash))
                header = self.py_evm.get_canonical_block_header_by_number(block_number)
            except (TransactionNotFound, HeaderNotFound, KeyError):
                return None
            block, _receipts = self.block_with_receipts(header)
            if index >= len(block.transactions) or block.transactions[index].hash != tx_hash:
                return None
            return TransactionLocation(tx=block.transactions[index], header=header, index=index)

    def block_with_receipts(self, header: BlockHeaderAPI) -> tuple[BlockAPI, tuple[ReceiptAPI, ...]]:
        """The block of ``header`` and its receipts; recent blocks come from memory.

        Blocks this chain sealed keep the transaction objects they were built from, so
        their senders are not recovered from signatures again.
        """
        with self.lock:
            cached = self._recent.get(header.hash)
            if cached is not None:
                self._recent.move_to_end(header.hash)
                return cached
            self._ensure_open()
            block = self.py_evm.get_block_by_header(header)
            entry = (block, self.receipts_of(header))
            self._remember_block(block, entry[1])
            return entry

    def _remember_block(self, block: BlockAPI, receipts: tuple[ReceiptAPI, ...]) -> None:
        self._recent[block.hash] = (block, receipts)
        while len(self._recent) > RECENT_BLOCKS:
            self._recent.popitem(last=False)

    def receipts_of(self, header: BlockHeaderAPI) -> tuple[ReceiptAPI, ...]:
        """Every receipt of the block ``header``, in transaction order."""
        with self.lock:
            self._ensure_open()
            vm_class = self.py_evm.get_vm_class(header)
            return tuple(self.py_evm.chaindb.get_receipts(header, vm_class.get_receipt_builder()))

    def pending_transaction(self, tx_hash: bytes) -> SignedTransactionAPI | None:
        """The transaction with this hash if it waits in the pool."""
        with self.lock:
            return self._pool.get(tx_hash)

    def failure(self, tx_hash: bytes) -> ChainError | None:
        """Why an accepted transaction was dropped by the builder, if it was."""
        with self.lock:
            return self._failed.get(tx_hash)

    def pending_count(self) -> int:
        """Number of transactions waiting in the pool."""
        with self.lock:
            return len(self._pool)

    def pool_content(self) -> tuple[list[SignedTransactionAPI], list[SignedTransactionAPI]]:
        """The pooled transactions as (ready to be sealed, waiting for a missing nonce), each in nonce
        order per sender (geth's "pending" and "queued")."""
        with self.lock:
            self._ensure_open()
            state = self._head()[2]
            return self._pool.split(lambda sender: int(state.get_nonce(Address(sender))))

    def watch_submissions(self, watcher: Callable[[bytes], None]) -> Callable[[], None]:
        """Call ``watcher`` with the hash of every transaction accepted into the pool from now on.

        It runs on the submitting thread, under the chain's lock: it must only record the hash.
        Returns the function that stops the watching.
        """
        with self.lock:
            self._submission_watchers = (*self._submission_watchers, watcher)

        def stop() -> None:
            with self.lock:
                self._submission_watchers = tuple(w for w in self._submission_watchers if w is not watcher)

        return stop

    def watch_refusals(self, watcher: Callable[[Refusal], None]) -> Callable[[], None]:
        """Call ``watcher`` with every `Refusal` from now on: a sender the mode refuses, or a transaction a
        rollback excluded, at submission or at a gas estimate (how a wallet or custody asks first).

        It runs on the refused caller's thread, outside the chain's locks, and must be quick. Returns the
        function that stops the watching.
        """
        with self.lock:
            self._refusal_watchers = (*self._refusal_watchers, watcher)

        def stop() -> None:
            with self.lock:
                self._refusal_watchers = tuple(w for w in self._refusal_watchers if w is not watcher)

        return stop

    def _tell_refusal(self, refusal: Refusal) -> None:
        for watcher in self._refusal_watchers:
            try:
                watcher(refusal)
            except Exception:
                # A broken watcher must not change what the refused caller is told.
                logger.exception("refusal watcher %r failed", watcher)

    def nonce(self, address: bytes, *, pending: bool = False) -> int:
        """The account nonce at the head; with ``pending``, counting its ready pooled transactions."""
        with self.lock:
            state_nonce = int(self.state_at().get_nonce(Address(address)))
            return self._pool.pending_nonce(address, state_nonce) if pending else state_nonce

    def wait_until_mined(self, tx_hash: bytes, timeout: float | None = None) -> bool:
        """Wait while ``tx_hash`` is in the pool (at most ``timeout`` seconds, default ``receipt_wait``).

        Returns True when the transaction left the pool (mined or dropped).
        """
        deadline = time.monotonic() + (self.receipt_wait if timeout is None else timeout)
        with self._changed:
            while tx_hash in self._pool and not self._closed:
                if self.sealing == "manual":
                    return False
                if not self._awaited.is_set():
                    # Someone waits for the open block: the builder seals it now.
                    self._awaited.set()
                    self._wakeup.notify_all()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return tx_hash not in self._pool

    def request_started(self) -> None:
        """Say that a request is being answered on this thread and will not wait for anything.

        The background builder lets such requests finish before it executes the next transaction
        (for `MAX_REQUEST_DEFERRAL` at most). Python runs one thread at a time: a builder that
        takes the interpreter while a server answers a request (py-evm's signature recovery and
        SQLite let it go briefly) would otherwise hold the answer back for a whole transaction's
        execution. `registry.chain.rpc.asgi.RpcApp` calls it around each request it answers on
        its event loop; call `request_finished` after, also on failure.
        """
        with self._answered:
            self._answering += 1

    def request_finished(self) -> None:
        """End what `request_started` began."""
        with self._answered:
            self._answering -= 1
            if not self._answering:
                self._answered.notify_all()

    def _defer_to_requests(self) -> None:
        """Wait while requests are being answered, `MAX_REQUEST_DEFERRAL` at most (see `request_started`)."""
        if not self._answering:
            return
        deadline = time.monotonic() + MAX_REQUEST_DEFERRAL
        with self._answered:
            while self._answering:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._answered.wait(remaining)

    # -- execution without a transaction ------------------------------------------------------

    def call(
        self,
        tx: SignedTransactionAPI | Any,
        sender: bytes,
        header: BlockHeaderAPI | None = None,
        overrides: StateOverrides | None = None,
    ) -> bytes:
        """Run the unsigned ``tx`` from ``sender`` after ``header`` (the head); see `Calls.call`."""
        with self.lock:
            return self._calls.call(tx, sender, header or self.head(), overrides)

    def estimate_gas(
        self,
        tx: SignedTransactionAPI | Any,
        sender: bytes,
        header: BlockHeaderAPI | None = None,
        overrides: StateOverrides | None = None,
    ) -> int:
        """The smallest gas limit with which ``tx`` succeeds after ``header``; see `Calls.estimate_gas`.

        A sender the mode refuses is refused here too, with the error submission would give, checked
        as submission checks it (head state, next block's timestamp) whichever block is asked: an
        estimate is how a wallet learns, before signing, whether the chain will take the
        transaction. The zero address (no ``from`` given) is no sender and is not checked.

        Raises:
            SenderNotPermittedError (from the mode), RevertError, ExecutionFailedError.
        """
        try:
            with self.lock:
                if bytes(sender) != bytes(ZERO_ADDRESS):
                    self.mode.check_sender(bytes(sender), self.next_block_view())
                return self._calls.estimate_gas(tx, sender, header or self.head(), overrides)
        except SenderNotPermittedError as exc:
            self._tell_refusal(Refusal(bytes(sender), None, exc))
            raise

    def create_access_list(
        self, tx: SignedTransactionAPI | Any, sender: bytes, header: BlockHeaderAPI | None = None
    ) -> tuple[AccessList, int]:
        """The access list ``tx`` needs after ``header`` and the gas it then uses; see
        `Calls.create_access_list`."""
        with self.lock:
            return self._calls.create_access_list(tx, sender, header or self.head())

    def proof(
        self, address: bytes, slots: Sequence[int], header: BlockHeaderAPI | None = None
    ) -> AccountProof:
        """The Merkle proof of ``address`` and its storage ``slots`` after ``header`` (the head); see
        `registry.chain.node.proofs`."""
        with self.lock:
            self._ensure_open()
            target = header or self.head()
            return prove(self.py_evm.chaindb.db, bytes(target.state_root), address, slots)

    def unsigned_transaction(
        self,
        *,
        to: bytes,
        data: bytes,
        value: int = 0,
        gas: int | None = None,
        gas_price: int = 0,
        access_list: AccessList = (),
    ) -> Any:
        """An unsigned transaction for `call`, `estimate_gas` and `create_access_list` (``to=b""``
        creates a contract); see `Calls.unsigned_transaction`."""
        with self.lock:
            return self._calls.unsigned_transaction(
                self.head(),
                to=to,
                data=data,
                value=value,
                gas=gas,
                gas_price=gas_price,
                access_list=access_list,
            )

    # -- submitting transactions ------------------------------------------------------------

    def decode_transaction(self, raw: bytes) -> SignedTransactionAPI:
        """Decode a signed raw transaction (legacy or typed).

        Raises:
            InvalidTransactionError: the bytes are not a transaction this chain accepts; the message
                says whether the type, the encoding or the signature is wrong.
        """
        builder = self._transaction_builder
        try:
            tx = builder.decode(raw)
        except UnrecognizedTransactionType:
            raise InvalidTransactionError(
                f"transaction type not supported: 0x{raw[0]:02x}; this chain takes legacy transactions and "
                "the EIP-2718 types 0x01 (access list), 0x02 (EIP-1559), 0x03 (blob) and 0x04 (set code)"
            ) from None
        except Exception as exc:
            # rlp and py-evm report malformed bytes with assorted exception types; the text is what helps.
            raise InvalidTransactionError(
                f"cannot decode the raw transaction: {exc or 'malformed bytes'}; send an RLP-encoded, "
                "signed legacy or EIP-2718 typed transaction"
            ) from exc
        try:
            # Recovering the sender checks the signature once; the value is cached on tx.
            recover_sender(raw, tx)
        except Exception as exc:
            raise InvalidTransactionError(
                f"invalid sender: the signature of the raw transaction does not recover an address ({exc})"
            ) from exc
        remember_hash(raw, tx)
        return tx

    def send_raw_transaction(self, raw: bytes) -> bytes:
        """Decode, check and pool a signed raw transaction; return its hash (see `submit`).

        Raises:
            InvalidTransactionError: also when ``raw`` is larger than `MAX_TRANSACTION_SIZE`.
        """
        if len(raw) > MAX_TRANSACTION_SIZE:
            raise InvalidTransactionError(
                f"oversized data: transaction size {len(raw)}, limit {MAX_TRANSACTION_SIZE}; "
                "split the work over several transactions"
            )
        return self.submit(self.decode_transaction(raw))

    def submit(self, tx: SignedTransactionAPI) -> bytes:
        """Check ``tx`` against the head state and add it to the pool; return its hash.

        With ``sealing="instant"`` the transaction's block is sealed before this returns.

        Raises:
            InvalidTransactionError, NonceError, InsufficientFundsError, FeeTooLowError,
            SenderNotPermittedError (from the mode): the transaction is refused.
        """
        try:
            with self._changed:
                self._ensure_open()
                _head_hash, head, state, base_fee = self._head()
                self._check_transaction(tx, head, state, base_fee)
                self._pool.add(tx, int(state.get_nonce(tx.sender)))
                self._failed.pop(tx.hash, None)
                for watcher in self._submission_watchers:
                    watcher(bytes(tx.hash))
                if self.sealing == "background":
                    self._arrivals += 1
                    self._note_arrival(time.monotonic())
                    self._work = True
                    self._wakeup.notify_all()
        except (SenderNotPermittedError, TransactionExcludedError) as exc:
            # Told outside the chain's lock: a watcher may take its time without holding the chain.
            self._tell_refusal(Refusal(bytes(tx.sender), bytes(tx.hash), exc))
            raise
        if self.sealing == "instant":
            # Sealed outside the chain lock: sealing takes the build lock first (lock order).
            self._seal_from_pool()
            error = self.failure(tx.hash)
            if error is not None:
                raise error
        return bytes(tx.hash)

    def _check_transaction(
        self, tx: SignedTransactionAPI, head: BlockHeaderAPI, state: StateAPI, base_fee: int
    ) -> None:
        """The checks geth's pool makes at submission, each refusal starting with geth's words."""
        sender = bytes(tx.sender)
        shown = f"transaction 0x{tx.hash.hex()} from 0x{sender.hex()}"
        chain_id = getattr(tx, "chain_id", None)
        if chain_id is not None and chain_id != self.chain_id:
            raise InvalidTransactionError(
                f"invalid chain id for signer: {shown} is signed for chain id {chain_id}; "
                f"the {self.name} chain has chain id {self.chain_id}"
            )
        intrinsic = intrinsic_gas(tx)
        if tx.gas < intrinsic:
            raise InvalidTransactionError(
                f"intrinsic gas too low: gas {tx.gas}, minimum needed {intrinsic} "
                f"({shown}); ask eth_estimateGas for the gas limit"
            )
        try:
            tx.validate()
        except ValidationError as exc:
            raise InvalidTransactionError(f"{shown} is invalid: {exc}") from exc
        creates = not tx.to
        if creates and len(tx.data) > MAX_INITCODE_SIZE:
            raise InvalidTransactionError(
                f"max initcode size exceeded: code size {len(tx.data)}, limit {MAX_INITCODE_SIZE} "
                f"({shown} creates a contract)"
            )
        if tx.gas > head.gas_limit:
            raise InvalidTransactionError(
                f"exceeds block gas limit: {shown} asks for {tx.gas} gas, the block gas limit is "
                f"{head.gas_limit}"
            )
        if tx.max_priority_fee_per_gas > tx.max_fee_per_gas:
            raise InvalidTransactionError(
                f"max priority fee per gas higher than max fee per gas: {shown} offers a tip of "
                f"{tx.max_priority_fee_per_gas} wei and a max fee of {tx.max_fee_per_gas} wei"
            )
        floor = data_floor_gas(tx)
        if tx.gas < floor:
            raise InvalidTransactionError(
                f"insufficient gas for floor data gas cost: gas {tx.gas}, minimum needed {floor} "
                f"({shown}: EIP-7623 charges at least 10 gas per calldata token)"
            )
        # The mode first: a sender it refuses (not KYC'd, frozen) cannot fix that by adding funds.
        self.mode.check_transaction(tx, self._next_view(head, state))
        if tx.max_fee_per_gas < base_fee:
            raise FeeTooLowError(
                f"max fee per gas less than block base fee: {shown} offers {tx.max_fee_per_gas} wei, "
                f"the next block's base fee is {base_fee} wei; ask eth_gasPrice"
            )
        balance = int(state.get_balance(Address(sender)))
        cost = tx.gas * tx.max_fee_per_gas + tx.value
        if balance < cost:
            raise InsufficientFundsError(
                f"insufficient funds for gas * price + value: {shown} costs up to {cost} wei, "
                f"balance {balance} wei; fund the account first"
            )
        account_nonce = int(state.get_nonce(Address(sender)))
        if tx.nonce < account_nonce:
            raise NonceError(
                f"nonce too low: {shown} has nonce {tx.nonce}, the account's next nonce is {account_nonce}"
            )

    # -- sealing --------------------------------------------------------------------------------

    def seal_pending(self) -> BlockAPI | None:
        """Seal one block from the pool now; return it, or None if nothing was ready."""
        self._ensure_open()
        return self._seal_from_pool().block

    def build_block(
        self, transactions: Sequence[SignedTransactionAPI], *, allow_empty: bool = False
    ) -> BuiltBlock:
        """Seal one block holding ``transactions`` (in this order) that apply; bypasses the pool.

        Used to replay transactions after a rewind. Transactions that fail are reported in
        ``failed``; if none applies, no block is sealed (``block`` is None) unless
        ``allow_empty``, which seals an empty block (e.g. for a validator-set change).
        """
        self._ensure_open()
        with self._build_lock:
            return self._seal(list(transactions), allow_empty=allow_empty)

    def _seal_from_pool(self) -> BuiltBlock:
        with self._build_lock:
            with self.lock:
                if self._closed:
                    return BuiltBlock(block=None)
                ready = self._ready()
            return self._seal(ready, from_pool=True)

    def mine(self) -> BlockAPI:
        """Seal a block now: the ready pooled transactions, or an empty block if there are none."""
        self._ensure_open()
        with self._build_lock:
            built = self._seal_from_pool()
            if built.block is not None:
                return built.block
            block = self._seal([], allow_empty=True).block
            assert block is not None
            return block

    def _seal(
        self, transactions: list[SignedTransactionAPI], allow_empty: bool = False, from_pool: bool = False
    ) -> BuiltBlock:
        """Execute, seal, persist and announce one block; the caller holds the build lock.

        Execution runs without the chain lock so that submissions and queries continue
        meanwhile (they read the committed head; trie nodes being written are new keys).
        """
        if not transactions and not allow_empty:
            return BuiltBlock(block=None)
        with self.lock:
            parent = self.py_evm.get_canonical_head()
        try:
            block = self._open_block(parent)
            for tx in transactions:
                block.apply(tx)
        except BaseException:
            with self.lock:
                self._discard_unsaved()
            raise
        return self._complete(block, allow_empty=allow_empty, from_pool=from_pool)

    def _open_block(self, parent: BlockHeaderAPI) -> OpenBlock:
        return OpenBlock(
            self.py_evm, self.mode, parent, header_params={"coinbase": ZERO_ADDRESS}, strict=False
        )

    def _complete(
        self, open_block: OpenBlock, allow_empty: bool = False, from_pool: bool = False
    ) -> BuiltBlock:
        """Finalise, seal, persist and announce ``open_block``; the caller holds the build lock.

        With nothing included (and not ``allow_empty``) no block is sealed; the failures are recorded,
        and with ``from_pool`` the failed transactions leave the pool before receipt waiters are woken.
        """
        block = None
        try:
            outcome = open_block.finish()
            if outcome.included or allow_empty:
                block = outcome.block.copy(header=self.mode.seal(outcome.block.header))
            with self._changed:
                # Receipt waiters from now on wait for the next block: they may have it sealed at once.
                self._awaited.clear()
                if block is not None:
                    self._persist(block)
                    self._remember_block(block, outcome.receipts)
                    if outcome.state is not None:
                        # The builder's state is the new head's state, its caches warm.
                        base_fee = int(calculate_expected_base_fee_per_gas(block.header))
                        self._head_cache = (block.hash, block.header, outcome.state, base_fee)
                self._remember_failures(outcome)
                if from_pool:
                    for tx_hash in outcome.failed:
                        self._pool.remove(tx_hash)
                if block is not None:
                    self._after_block_locked(block)
                elif outcome.failed:
                    self._changed.notify_all()
        except BaseException:
            with self.lock:
                self._discard_unsaved()
            raise
        if block is not None:
            self._announce(block)
        return BuiltBlock(
            block=block,
            included=[tx.hash for tx in outcome.included],
            failed=dict(outcome.failed),
            deferred=[tx.hash for tx in outcome.deferred],
        )

    def _forget_head(self) -> None:
        """Drop what is derived from the canonical chain: the head's state, the recent-transaction index."""
        self._head_cache = None
        self._recent_txs.clear()

    def _discard_unsaved(self) -> None:
        """Drop the writes not yet committed, and what was derived from them; the caller holds the lock.

        Inside an atomic scope that drops the scope's earlier writes too: the scope is marked broken and
        will not commit.
        """
        self._database.discard()
        self._forget_head()
        if self._atomic_depth:
            self._atomic_broken = True

    def _remember_failures(self, outcome: BlockOutcome) -> None:
        for tx_hash, error in outcome.failed.items():
            self._failed[tx_hash] = error
            logger.info("%s chain dropped transaction 0x%s: %s", self.name, tx_hash.hex(), error)
        while len(self._failed) > MAX_REMEMBERED_FAILURES:
            self._failed.popitem(last=False)

    def _persist(self, block: BlockAPI) -> None:
        """Write ``block`` as the new head and commit it (one SQLite transaction)."""
        new_hashes, _old = self.py_evm.chaindb.persist_block(block)
        if block.hash not in new_hashes:
            raise InvalidBlockError(
                f"block #{block.number} 0x{block.hash.hex()} did not become the canonical head"
            )
        self._commit()
        self._head_cache = None

    def _after_block_locked(self, block: BlockAPI) -> None:
        """Bookkeeping once ``block`` is persisted as the new canonical head."""
        self._note_system_contracts(block)
        for index, tx in enumerate(block.transactions):
            self._recent_txs[tx.hash] = (block.header, index)
        while len(self._recent_txs) > RECENT_TRANSACTIONS:
            self._recent_txs.popitem(last=False)
        for tx in block.transactions:
            self._pool.remove(tx.hash)
        if len(self._pool):
            state = self._head()[2]
            self._pool.drop_stale(lambda sender: int(state.get_nonce(Address(sender))))
        self.mode.on_block(block)
        self._changed.notify_all()

    def _announce(self, block: BlockAPI) -> None:
        self.publish(
            NewBlock(
                number=int(block.number),
                hash=bytes(block.hash),
                transaction_hashes=tuple(bytes(tx.hash) for tx in block.transactions),
            )
        )

    def _builder_loop(self) -> None:
        while True:
            with self._changed:
                while not self._work and not self._closed:
                    self._wakeup.wait()
                if self._closed:
                    return
                self._work = False
            try:
                built = self._fill_and_seal()
            except Exception as exc:
                logger.exception("the %s chain failed to seal a block", self.name)
                self._fail_ready(exc)
                continue
            if built.deferred:
                with self.lock:
                    self._work = True

    def _note_arrival(self, now: float) -> None:
        """Follow the pace of the stream of submissions; the caller holds the lock."""
        gap = now - self._last_arrival
        self._last_arrival = now
        if gap <= STREAM_IDLE_GAP:
            if self._arrival_gap == 0.0:
                self._arrival_gap = gap  # the stream's first gap sets its pace
            else:
                # A quarter of the newest gap: the pace follows the stream within a few arrivals.
                self._arrival_gap += (gap - self._arrival_gap) / 4
        else:
            self._arrival_gap = 0.0  # a new stream, or a lone transaction

    def _stream_window(self) -> float:
        """How long the open block waits for the next arrival before it is sealed: ``batch_window``,
        stretched to the pace of the current stream (a client sending one transaction after another
        over HTTP leaves a few milliseconds between them), up to `MAX_STREAM_WINDOW`."""
        paced = min(STREAM_PAUSE_FACTOR * self._arrival_gap, MAX_STREAM_WINDOW)
        return max(self.batch_window, paced)

    def _fill_and_seal(self) -> BuiltBlock:
        """Open a block on the head and execute each ready transaction as soon as it is pooled; seal the
        block when the burst pauses (`_stream_window`), when a client waits for a receipt, when the
        block is full, or ``MAX_BATCH_DELAY`` after it was opened.

        Executing while the burst is still arriving is what keeps a client that sends a batch and
        then awaits its receipts from waiting for the whole batch's execution: by its first receipt
        request only the block's finalisation is left. The build lock is let go between arrivals,
        so other writers (a rollback, an import, `mine`) are never held up for long; if one of them
        took it meanwhile, or the chain clock was moved, the open block is given up (nothing of it
        was written) and its transactions, still pooled, go into a new one.
        """
        open_block: OpenBlock | None = None
        handled: set[bytes] = set()
        deadline = time.monotonic() + MAX_BATCH_DELAY
        entries = clock_changes = 0
        paused = False
        while True:
            with self._build_lock:
                with self.lock:
                    if self._closed:
                        return BuiltBlock(block=None)
                    if open_block is not None and (
                        self._build_lock.entries != entries + 1
                        or self._clock_changes != clock_changes
                        or self.py_evm.get_canonical_head().hash != open_block.parent.hash
                    ):
                        open_block = None
                        handled.clear()
                    if open_block is None:
                        parent = self.py_evm.get_canonical_head()
                        clock_changes = self._clock_changes
                    fresh = [tx for tx in self._ready() if tx.hash not in handled]
                    arrivals = self._arrivals
                try:
                    if open_block is None:
                        if not fresh:
                            return BuiltBlock(block=None)
                        open_block = self._open_block(parent)
                    for tx in fresh:
                        self._defer_to_requests()
                        open_block.apply(tx)
                        handled.add(tx.hash)
                except BaseException:
                    with self.lock:
                        self._discard_unsaved()
                    raise
                entries = self._build_lock.entries
                if (
                    paused
                    or open_block.deferred
                    or self._awaited.is_set()
                    or self.batch_window <= 0
                    or time.monotonic() >= deadline
                ):
                    if self._clock_changes == clock_changes:
                        return self._complete(open_block, from_pool=True)
                    # The clock moved while the block was being filled (after the check above):
                    # the block carries the old time. Round the loop: it is rebuilt, then sealed.
                    continue
            with self._changed:
                if self._arrivals == arrivals and not self._awaited.is_set() and not self._closed:
                    self._wakeup.wait(max(0.0, min(self._stream_window(), deadline - time.monotonic())))
                paused = self._arrivals == arrivals

    def _ready(self) -> list[SignedTransactionAPI]:
        """The pooled transactions ready on the head (`TransactionPool.ready`); the caller holds the lock."""
        state = self._head()[2]
        return self._pool.ready(lambda sender: int(state.get_nonce(Address(sender))))

    def _fail_ready(self, exc: Exception) -> None:
        """Drop the transactions a failed build was given, so that the builder does not loop on them."""
        with self._changed:
            if self._closed:
                return
            for tx in self._ready():
                self._pool.remove(tx.hash)
                self._failed[tx.hash] = ChainError(
                    f"the block holding this transaction could not be built: {exc}"
                )
            self._changed.notify_all()

    # -- importing and rewinding ---------------------------------------------------------------

    def import_block(self, block: BlockAPI) -> BlockAPI:
        """Validate ``block`` fully and append it to the head.

        Checks: it extends the head; its header is a valid child (number, gas limit,
        timestamp, extra-data size); its seal (the mode's consensus class); every
        transaction passes the mode's `check_transaction` and applies; re-executing it
        gives exactly the same header (state, receipts, gas, bloom).

        Raises:
            InvalidBlockError: any check failed; the chain is unchanged.
        """
        with self._build_lock:
            rebuilt = self._import_locked(block)
            self._announce(rebuilt)
            return rebuilt

    def _import_locked(self, block: BlockAPI) -> BlockAPI:
        with self._changed:
            self._ensure_open()
            parent = self.py_evm.get_canonical_head()
            header = block.header
            where = f"block #{header.block_number} 0x{header.hash.hex()}"
            self.mode.check_block(header)
            if header.parent_hash != parent.hash:
                raise InvalidBlockError(
                    f"{where} does not extend the head #{parent.block_number} 0x{parent.hash.hex()}"
                )
            vm_class = self.py_evm.get_vm_class(header)
            try:
                vm_class.validate_header(header, parent)
                vm = self.py_evm.get_vm(header)
                vm.validate_seal(header)
                vm.validate_seal_extension(header, ())
            except InvalidBlockError:
                raise
            except ChainError as exc:
                raise InvalidBlockError(f"{where} is refused: {exc}") from exc
            except Exception as exc:
                # Consensus classes raise ValidationError, but signature libraries raise their own types.
                raise InvalidBlockError(f"{where} has an invalid header or seal: {exc}") from exc
            params = {
                "coinbase": header.coinbase,
                "timestamp": header.timestamp,
                "extra_data": header.extra_data,
                "gas_limit": header.gas_limit,
                "mix_hash": header.mix_hash,
                "nonce": header.nonce,
                "difficulty": header.difficulty,
                "parent_beacon_block_root": header.parent_beacon_block_root,
            }
            try:
                outcome = execute_block(
                    self.py_evm, self.mode, parent, block.transactions, header_params=params, strict=True
                )
                rebuilt = outcome.block
                if rebuilt.hash != header.hash:
                    raise InvalidBlockError(
                        f"{where} does not match its re-execution: {_header_diff(header, rebuilt.header)}"
                    )
                self._persist(rebuilt)
                self._remember_block(rebuilt, outcome.receipts)
            except ValidationError as exc:
                self._discard_unsaved()
                raise InvalidBlockError(f"{where} is invalid: {exc}") from exc
            except BaseException:
                self._discard_unsaved()
                raise
            self._after_block_locked(rebuilt)
            return rebuilt

    def rewind(self, to_number: int) -> list[BlockAPI]:
        """Make block ``to_number`` the head; return the dropped blocks, oldest first.

        The dropped blocks stay stored by hash, but nothing canonical points to them any
        more: their numbers, their transactions' lookups and the head are rewritten in one
        database transaction. Nothing is published: the caller (a rollback) announces the
        change once it has replayed what it keeps. Pooled transactions stay pooled.

        Raises:
            BlockNotFoundError: ``to_number`` is negative or above the head.
        """
        with self._build_lock, self._changed:
            self._ensure_open()
            head = self.py_evm.get_canonical_head()
            if to_number < 0 or to_number > head.block_number:
                raise BlockNotFoundError(
                    f"cannot rewind the {self.name} chain to block {to_number}: "
                    f"the head is #{head.block_number}"
                )
            target = self.py_evm.get_canonical_block_header_by_number(BlockNumber(to_number))
            dropped = [
                self.py_evm.get_canonical_block_by_number(BlockNumber(number))
                for number in range(to_number + 1, head.block_number + 1)
            ]
            try:
                with self.py_evm.chaindb.db.atomic_batch() as db:
                    for block in dropped:
                        for tx in block.transactions:
                            db.delete(SchemaV1.make_transaction_hash_to_block_lookup_key(tx.hash))
                        db.delete(SchemaV1.make_block_number_to_hash_lookup_key(block.number))
                    db.set(SchemaV1.make_canonical_head_hash_lookup_key(), target.hash)
                    # The gap trackers record the highest known block; move them back so later
                    # blocks at the freed heights are treated as plain extensions of the chain.
                    tip = ((), to_number + 1)
                    db.set(SchemaV1.make_header_chain_gaps_lookup_key(), rlp.encode(tip, sedes=chain_gaps))
                    db.set(SchemaV1.make_chain_gaps_lookup_key(), rlp.encode(tip, sedes=chain_gaps))
                self._commit()
            except BaseException:
                self._discard_unsaved()
                raise
            finally:
                self._forget_head()
            self._changed.notify_all()
            return dropped

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[EmbeddedChain]:
        """Hold the build lock and the chain lock: nothing is sealed, imported or read by others meanwhile."""
        with self._build_lock, self.lock:
            yield self

    # -- listeners ------------------------------------------------------------------------------

    def subscribe(self, listener: ChainListener) -> Callable[[], None]:
        """Call ``listener`` with every `ChainEvent` from now on; return a function that unsubscribes."""
        return self._subscribers.subscribe(listener)

    def publish(self, event: ChainEvent) -> None:
        """Send ``event`` to every subscriber (the permissioned mode publishes rollbacks).

        Inside an atomic scope the event waits for the scope's commit (and is dropped if it is abandoned).
        """
        with self.lock:
            if self._atomic_depth:
                self._atomic_events.append(event)
                return
        self._subscribers.publish(event)

    # -- development helpers ----------------------------------------------------------------------

    def dev_account(self, address: bytes) -> DevAccount | None:
        """The development account with this address, if it is one."""
        wanted = "0x" + address.hex()
        for account in self.dev_accounts:
            if account.address.lower() == wanted:
                return account
        return None

    def increase_time(self, seconds: int) -> int:
        """Move the chain clock forward; later blocks carry the later time. Returns the total offset."""
        with self.lock:
            self._head_cache = None
            self._clock_changes += 1
            return self.clock.advance(seconds)

    def set_next_block_timestamp(self, timestamp: int) -> None:
        """Give the next block exactly ``timestamp``.

        Raises:
            ValueError: ``timestamp`` is not later than the head's (time never goes back).
        """
        with self.lock:
            head = self.head().timestamp
            if timestamp <= head:
                raise ValueError(
                    f"the next block's timestamp must be later than the head's ({head}); got {timestamp}"
                )
            self._head_cache = None
            self._clock_changes += 1
            self.clock.pin(timestamp)


class _CountedLock:
    """A re-entrant lock that counts how often it was taken, so that a holder that let it go can
    tell whether anyone else took it meanwhile (the background builder's open block)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.entries = 0
        """Acquisitions so far (read it while holding the lock)."""

    def __enter__(self) -> None:
        self._lock.acquire()
        self.entries += 1

    def __exit__(self, *exc_info: object) -> None:
        self._lock.release()


def _header_diff(expected: BlockHeaderAPI, actual: BlockHeaderAPI) -> str:
    differences = []
    for name in (
        "state_root",
        "receipt_root",
        "transaction_root",
        "gas_used",
        "bloom",
        "base_fee_per_gas",
        "extra_data",
    ):
        mine, theirs = getattr(actual, name, None), getattr(expected, name, None)
        if mine != theirs:
            shown_mine = mine.hex() if isinstance(mine, bytes) else mine
            shown_theirs = theirs.hex() if isinstance(theirs, bytes) else theirs
            differences.append(f"{name} is {shown_theirs} in the block, {shown_mine} when re-executed")
    return "; ".join(differences) or "the header hash differs"


__all__ = [
    "DEFAULT_GAS_LIMIT",
    "BuiltBlock",
    "EmbeddedChain",
    "Sealing",
    "TransactionLocation",
]
