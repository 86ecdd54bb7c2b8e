"""Polled filters: ``eth_newFilter``, ``eth_newBlockFilter``, ``eth_newPendingTransactionFilter``,
``eth_getFilterChanges``, ``eth_getFilterLogs``, ``eth_uninstallFilter``.

A filter remembers the last block it reported (number and hash). Each poll walks from
there to the head:

- when that block is still canonical, the blocks after it are new;
- when a permissioned rollback replaced it, the walk goes back through the dropped
  blocks (still stored by hash) to the first canonical ancestor. A **log filter** then
  reports the logs it had reported from the dropped blocks again, with
  ``"removed": true`` (newest first), followed by the logs of the new canonical blocks,
  so a client never keeps a dropped block's log as canonical; this is what geth does
  for a reorganisation. A **block filter** reports the hashes of the new canonical
  blocks.

A log filter reports only blocks added after it was installed (as geth does; anvil also
reports the blocks of an explicit past ``fromBlock`` once), within its ``fromBlock`` /
``toBlock`` range; ``eth_getFilterLogs`` answers its whole range like ``eth_getLogs``.
A pending-transaction filter reports the hash of every transaction accepted since the
last poll, even if it was mined meanwhile.

As in geth, a filter not polled for `FILTER_TIMEOUT` seconds is uninstalled; the clock is
injectable (``clock``), so tests move it instead of waiting.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from eth.abc import BlockHeaderAPI

from registry.chain.errors import RPC_SERVER_ERROR
from registry.chain.rpc import serializers as ser
from registry.chain.rpc.logs import LogCriteria, logs_of_block, scan_logs
from registry.chain.rpc.params import MethodSpec, Params, method, no_params
from registry.chain.rpc.serializers import JSON, RpcParamsError

if TYPE_CHECKING:
    from registry.chain.node.chain import EmbeddedChain

FILTER_TIMEOUT = 300.0
"""Seconds without a poll after which a filter is uninstalled (geth's five minutes)."""

MAX_FILTERS = 1_000
"""Filters one node keeps at once; more are refused until some are uninstalled or expire."""

MAX_PENDING_HASHES = 10_000
"""Transaction hashes a pending-transaction filter holds between polls; older ones are dropped.
Every filter holds the same hash objects, so all of them together cost at most
``MAX_FILTERS * MAX_PENDING_HASHES`` pointers (80 MB)."""

FilterKind = Literal["logs", "blocks", "pending"]


class FilterError(LookupError):
    """Raised for an unknown (uninstalled, expired) filter id, or when too many filters are installed."""

    rpc_code = RPC_SERVER_ERROR


@dataclass
class _Filter:
    kind: FilterKind
    last_used: float
    criteria: LogCriteria | None = None
    cursor: tuple[int, bytes] | None = None
    """(number, hash) of the last block reported."""
    floor: int = 0
    """Blocks at or below this number were never reported by this filter."""
    hashes: deque[bytes] = field(default_factory=lambda: deque(maxlen=MAX_PENDING_HASHES))
    lock: threading.Lock = field(default_factory=threading.Lock)


class Filters:
    """The filters installed on one node (one `registry.chain.rpc.dispatcher.RpcDispatcher`)."""

    def __init__(
        self,
        chain: EmbeddedChain,
        *,
        clock: Callable[[], float] = time.monotonic,
        timeout: float = FILTER_TIMEOUT,
    ) -> None:
        self.chain = chain
        """The chain the filters follow."""
        self.clock = clock
        """Seconds, monotonic; decides expiry."""
        self.timeout = timeout
        """Seconds a filter may go unpolled."""
        self._filters: dict[str, _Filter] = {}
        self._lock = threading.Lock()
        # The pending-transaction filters, replaced (never mutated) under the lock: the chain's
        # submission hook reads it without taking the lock.
        self._pending: tuple[_Filter, ...] = ()
        self._stop_watching: Callable[[], None] | None = None

    def __len__(self) -> int:
        with self._lock:
            return len(self._filters)

    def methods(self) -> dict[str, MethodSpec]:
        """The JSON-RPC methods, by name."""
        return {
            "eth_newFilter": method(lambda p: self.new_log_filter(LogCriteria.read(p.fields(0))), "filter"),
            "eth_newBlockFilter": no_params(self.new_block_filter),
            "eth_newPendingTransactionFilter": no_params(self.new_pending_filter),
            "eth_getFilterChanges": method(lambda p: self.changes(self._id(p)), "filterId"),
            "eth_getFilterLogs": method(
                lambda p: scan_logs(self.chain, self.criteria(self._id(p))), "filterId"
            ),
            "eth_uninstallFilter": method(lambda p: self.uninstall(self._id(p)), "filterId"),
        }

    @staticmethod
    def _id(params: Params) -> str:
        text = params.text(0)
        params.data(0)  # an id is hex, whatever its length
        return text.lower()

    # -- installing -------------------------------------------------------------------------------

    def new_log_filter(self, criteria: LogCriteria) -> str:
        """Install a log filter; return its id."""
        if criteria.block_hash is not None:
            raise RpcParamsError(
                "a filter follows new blocks, so it takes fromBlock/toBlock, not blockHash; "
                "use eth_getLogs for the logs of one block"
            )
        return self._install(_Filter("logs", self.clock(), criteria=criteria), with_cursor=True)

    def new_block_filter(self) -> str:
        """Install a filter of new canonical block hashes; return its id."""
        return self._install(_Filter("blocks", self.clock()), with_cursor=True)

    def new_pending_filter(self) -> str:
        """Install a filter of newly accepted transaction hashes; return its id."""
        return self._install(_Filter("pending", self.clock()), with_cursor=False)

    def _install(self, entry: _Filter, *, with_cursor: bool) -> str:
        if with_cursor:
            head = self.chain.head()
            entry.cursor = (int(head.block_number), bytes(head.hash))
            entry.floor = int(head.block_number)
        filter_id = "0x" + secrets.token_hex(16)
        with self._lock:
            self._expire_locked()
            if len(self._filters) >= MAX_FILTERS:
                raise FilterError(
                    f"too many filters installed ({MAX_FILTERS}): uninstall the ones you no longer poll "
                    f"(eth_uninstallFilter), or wait: a filter not polled for {self.timeout:.0f} s is removed"
                )
            self._filters[filter_id] = entry
            self._filters_changed()
        return filter_id

    def uninstall(self, filter_id: str) -> bool:
        """Remove a filter; False if no such filter was installed (or it expired)."""
        with self._lock:
            self._expire_locked()
            removed = self._filters.pop(filter_id, None) is not None
            self._filters_changed()
            return removed

    # -- polling ------------------------------------------------------------------------------------

    def changes(self, filter_id: str) -> list[JSON] | list[str]:
        """What happened since the last poll: logs, block hashes or transaction hashes."""
        entry = self._use(filter_id)
        with entry.lock:
            if entry.kind == "pending":
                hashes = [ser.data(tx_hash) for tx_hash in entry.hashes]
                entry.hashes.clear()
                return hashes
            with self.chain.lock:
                dropped, added = self._advance(entry)
                if entry.kind == "blocks":
                    return [ser.data(header.hash) for header in added]
                assert entry.criteria is not None
                low, high = self._range(entry.criteria)
                logs: list[JSON] = []
                for header in dropped:
                    if header.block_number > entry.floor and low <= header.block_number <= high:
                        logs.extend(reversed(logs_of_block(self.chain, header, entry.criteria, removed=True)))
                if dropped:
                    entry.floor = min(entry.floor, int(dropped[-1].block_number) - 1)
                for header in added:
                    if low <= header.block_number <= high:
                        logs.extend(logs_of_block(self.chain, header, entry.criteria))
                return logs

    def criteria(self, filter_id: str) -> LogCriteria:
        """The criteria of a log filter (for ``eth_getFilterLogs``).

        Raises:
            FilterError: no such filter, or it is not a log filter.
        """
        entry = self._use(filter_id)
        if entry.criteria is None:
            raise FilterError(
                f"filter not found: {filter_id} is a {entry.kind} filter; eth_getFilterLogs answers "
                "log filters only (use eth_getFilterChanges)"
            )
        return entry.criteria

    def expire(self) -> None:
        """Uninstall the filters not polled for `timeout` seconds (also done on every filter call)."""
        with self._lock:
            self._expire_locked()

    def _use(self, filter_id: str) -> _Filter:
        with self._lock:
            self._expire_locked()
            entry = self._filters.get(filter_id)
            if entry is None:
                raise FilterError(
                    f"filter not found: {filter_id} was never installed, was uninstalled, or expired after "
                    f"{self.timeout:.0f} s without a poll; install a new filter"
                )
            entry.last_used = self.clock()
            return entry

    def _expire_locked(self) -> None:
        now = self.clock()
        stale = [key for key, entry in self._filters.items() if now - entry.last_used > self.timeout]
        for key in stale:
            del self._filters[key]
        if stale:
            self._filters_changed()

    def _filters_changed(self) -> None:
        """Follow submissions only while a pending-transaction filter exists; the caller holds the lock."""
        self._pending = tuple(entry for entry in self._filters.values() if entry.kind == "pending")
        if self._pending and self._stop_watching is None:
            self._stop_watching = self.chain.watch_submissions(self._on_submitted)
        elif not self._pending and self._stop_watching is not None:
            self._stop_watching()
            self._stop_watching = None

    def _on_submitted(self, tx_hash: bytes) -> None:
        # Called by the chain, under its lock, for every accepted transaction: append only.
        for entry in self._pending:
            entry.hashes.append(tx_hash)

    def _advance(self, entry: _Filter) -> tuple[list[BlockHeaderAPI], list[BlockHeaderAPI]]:
        """(blocks dropped since the last poll, newest first; new canonical blocks, oldest first),
        moving the filter's cursor to the head. The caller holds the chain's lock."""
        assert entry.cursor is not None
        chain = self.chain
        head = chain.head()
        header = chain.get_header(entry.cursor[1])
        dropped: list[BlockHeaderAPI] = []
        while not chain.is_canonical(header):
            dropped.append(header)
            header = chain.get_header(header.parent_hash)
        added = [chain.get_header(number) for number in range(header.block_number + 1, head.block_number + 1)]
        entry.cursor = (int(head.block_number), bytes(head.hash))
        return dropped, added

    def _range(self, criteria: LogCriteria) -> tuple[int, int]:
        """The block numbers a log filter covers; tags other than "earliest" leave that end open."""

        def bound(block_id: object, open_end: int) -> int:
            if isinstance(block_id, dict):
                block_id = block_id.get("blockNumber")
            if isinstance(block_id, int):
                return block_id
            return 0 if block_id == "earliest" else open_end

        return bound(criteria.from_block, 0), bound(criteria.to_block, 2**63)
