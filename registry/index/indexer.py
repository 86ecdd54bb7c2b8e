"""The indexer: one per chain, following its blocks through a `Web3` only, reorganisation-aware.

    indexer = Indexer.for_handle(db, handle)      # or Indexer(db, "permissionless", w3)
    report = indexer.sync()                       # index everything up to the node's head
    follower = IndexFollower(indexer, handle).start()   # keep up with new blocks and rollbacks

What it does, step by step (`Indexer.sync`):

1. **Check its tip.** The block it indexed last is fetched again by number; if the node has another
   block there (a permissioned rollback, a reorganisation of an external node, anvil's
   ``evm_revert``), it walks down, block by block, until the node's block and its own agree (the
   common ancestor), undoes everything above that block in **one database transaction** (blocks,
   events, splits, and every versioned projection, see `registry.index.versioned`), and carries on
   from there. The walk stops at the oldest block the index kept (`ReorgTooDeepError`); a different
   genesis is another chain (`ChainMismatchError`).
2. **Catch up late contracts.** A contract catalogued after the indexer passed its first block is
   caught up alone from there to the indexer's tip, against the block hashes the index holds.
3. **Move forward** a range of blocks at a time: the headers (one batch request), whose parent hashes
   must chain onto the tip, then the logs of every followed contract with one ``eth_getLogs`` over the
   range (by block hash once at the head), each log checked against its header's hash. A mismatch is
   a reorganisation under way: nothing is written, and the next round sees it at step 1. The blocks,
   the decoded events, the projections and the new tip are written in **one transaction**; a crash
   anywhere leaves the index at the previous tip, and the next run resumes from there.

It is idempotent: running it twice, from two processes, or after a crash never indexes a block twice
(the write checks that the tip is still the one the step started from, and the events are unique by
chain, block hash and log index).

On the embedded permissioned chain it also mirrors the validators' desks: every intervention
proposal (freezes, rollbacks with their reports) and the validator changes on canonical blocks. An
external node has no such desks (`NotSupportedByBackendError`), so neither table has rows for it.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session
from web3 import Web3
from web3.exceptions import Web3Exception
from web3.types import RPCEndpoint

from registry.errors import (
    ChainMismatchError,
    IndexerNodeError,
    ReorgTooDeepError,
)
from registry.index.catalogue import KIND_ARTIFACTS
from registry.index.db import Database
from registry.index.decoding import DecodedLog, checksum, decode_log
from registry.index.models import (
    Asset,
    Block,
    Chain,
    ContractCursor,
    Event,
    IdentityRegistry,
    IndexerState,
    Intervention,
    Split,
    ValidatorChange,
)
from registry.index.projections import (
    AssetInfo,
    RegistryContext,
    apply_registry_logs,
    apply_token_logs,
    seed_investor,
)
from registry.index.versioned import VersionedRows, chain_condition, undo_after

if TYPE_CHECKING:
    from registry.chain.backend import ChainHandle

logger = logging.getLogger(__name__)

DEFAULT_RANGE = 1_000
"""Blocks fetched per catch-up step (fewer when a step holds many logs)."""

MAX_RANGE = 10_000
"""The widest range of blocks one step covers."""

MAX_LOGS_PER_STEP = 20_000
"""Above this many logs in a step, the next steps cover fewer blocks."""

HEADER_BATCH = 500
"""Block headers asked for in one batch request."""

MAX_RESTARTS = 20
"""Rounds in a row the chain may change under a step before the node is deemed inconsistent."""

_WALK_BATCH = 32
_BACKFILL_RANGE = 5_000


@dataclass(frozen=True)
class Header:
    """What the index keeps of a block."""

    number: int
    hash: str
    parent_hash: str
    timestamp: int

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> Header:
        """From a JSON-RPC block object."""
        return cls(
            number=int(raw["number"], 16),
            hash=str(raw["hash"]).lower(),
            parent_hash=str(raw["parentHash"]).lower(),
            timestamp=int(raw["timestamp"], 16),
        )


@dataclass(frozen=True)
class Reorganisation:
    """A reorganisation the indexer followed: it undid every block above ``fork_block``."""

    fork_block: int
    old_tip: int
    depth: int


@dataclass
class SyncReport:
    """What one `Indexer.sync` did."""

    blocks: int = 0
    """Blocks indexed (new or re-indexed)."""
    events: int = 0
    """Logs stored."""
    reorganisations: list[Reorganisation] = field(default_factory=list)
    head_number: int = -1
    head_hash: str = ""


@dataclass(frozen=True)
class _Followed:
    """A contract the indexer follows: an asset or an identity registry."""

    address: str
    first_block: int
    synced_block: int
    asset: AssetInfo | None
    """None for an identity registry."""
    symbol: str = ""
    """The asset's symbol (empty for an identity registry)."""


@dataclass(frozen=True)
class IndexedEvent:
    """A token event the index just stored (what `Indexer.on_events` receives)."""

    chain: str
    asset_id: str
    symbol: str
    name: str | None
    """The event's name (None when no ABI of the catalogue decodes it)."""
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int
    args: dict[str, Any]
    """JSON form (wide integers as decimal strings, bytes as hex)."""


_CURSOR_CHUNK = 500
"""Contract cursors moved per statement (`Indexer._move_cursors`)."""


class _ChainMovedError(Exception):
    """The chain moved under a step (a reorganisation under way): start the round again."""


class Indexer:
    """Indexes one chain's catalogued contracts into the index database (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        chain: str,
        w3: Web3,
        *,
        governance: Any = None,
        validator_votes: Any = None,
        block_range: int = DEFAULT_RANGE,
    ) -> None:
        """``governance`` and ``validator_votes`` are the permissioned chain's desks
        (`ChainHandle.interventions` and `ChainHandle.validator_votes`), None where the backend has none."""
        self.db = db
        self.chain = chain
        self.w3 = w3
        self._governance = governance
        self._votes = validator_votes
        self._range = block_range
        self._chain_checked = False
        self._initial_scales: dict[str, int] = {}
        self._mirrored: tuple[list[dict[str, Any]], list[dict[str, Any]]] | None = None
        """The governance rows this indexer last wrote (`_mirror_governance`)."""
        self._lock = threading.Lock()
        self.on_events: Callable[[Sequence[IndexedEvent]], None] | None = None
        """Called with the token events of each step once they are committed (on the syncing thread;
        it must be quick). A failure there is logged; the index is not affected."""

    @classmethod
    def for_handle(cls, db: Database, handle: ChainHandle, **options: Any) -> Indexer:
        """The indexer of ``handle``'s chain, with its validators' desks when the backend has them."""
        from registry.chain.errors import ImmutableChainError, NotSupportedByBackendError

        try:
            governance, votes = handle.interventions(), handle.validator_votes()
        except (ImmutableChainError, NotSupportedByBackendError):
            governance = votes = None
        return cls(db, handle.name, handle.w3, governance=governance, validator_votes=votes, **options)

    # ------------------------------------------------------------------------------------------ sync

    def sync(self, to_block: int | None = None) -> SyncReport:
        """Index every block up to ``to_block`` (default: the node's head at each round).

        Raises:
            IndexerNodeError: the node failed; the index keeps everything indexed before.
            ChainMismatchError: the node is another chain than the one indexed under this name.
            ReorgTooDeepError: a reorganisation reaches below the oldest indexed block.
            ProjectionError: the events contradict the index (events missing); that step is not written.
        """
        with self._lock:
            report = SyncReport()
            self._check_chain()
            restarts = 0
            while True:
                try:
                    if not self._round(to_block, report):
                        break
                    restarts = 0
                except _ChainMovedError as restart:
                    restarts += 1
                    if restarts > MAX_RESTARTS:
                        raise IndexerNodeError(
                            f"the {self.chain} chain's node kept answering inconsistently ({restart}) in "
                            f"{MAX_RESTARTS} rounds in a row; the index keeps what it had. Check the node "
                            "(a load balancer mixing nodes?) and sync again"
                        ) from restart
                    logger.info("%s: %s; starting the round again", self.chain, restart)
            tip = self._tip()
            self._mirror_governance(tip)
            if tip is not None:
                report.head_number, report.head_hash = tip
            return report

    def _round(self, to_block: int | None, report: SyncReport) -> bool:
        """One round: check the tip, catch up late contracts, move one range forward. False: done."""
        tip = self._tip()
        if tip is not None:
            remote = self._header(tip[0])
            if remote is None or remote.hash != tip[1]:
                report.reorganisations.append(self._reorganise(tip[0]))
                return True
        head = self._head_number()
        target = head if to_block is None else min(to_block, head)
        indexed = -1 if tip is None else tip[0]
        followed = self._followed()
        late = [c for c in followed if c.synced_block < indexed]
        if late:
            report.events += self._catch_up(late[0], indexed)
            return True
        if indexed >= target:
            return False
        start = indexed + 1
        end = min(target, start + self._range - 1)
        headers = self._headers(start, end)
        previous = None if tip is None else tip[1]
        for header in headers:
            if previous is not None and header.parent_hash != previous:
                raise _ChainMovedError(
                    f"block {header.number} does not follow the index's block {header.number - 1}"
                )
            previous = header.hash
        try:
            logs = self._logs([c.address for c in followed], headers)
        except IndexerNodeError:
            if len(headers) == 1:
                raise
            # Nodes cap eth_getLogs (results or range): try again with half the range.
            self._range = max(1, len(headers) // 2)
            return True
        if len(logs) > MAX_LOGS_PER_STEP and self._range > 1:
            self._range = max(1, self._range // 2)
        elif len(logs) < MAX_LOGS_PER_STEP // 4:
            self._range = min(MAX_RANGE, self._range * 2)
        report.events += self._write_step(tip, headers, followed, logs)
        report.blocks += len(headers)
        return True

    # ------------------------------------------------------------------------------------------ node

    def _request(self, method: str, params: Sequence[Any]) -> Any:
        try:
            response = self.w3.provider.make_request(RPCEndpoint(method), list(params))
        except (OSError, Web3Exception, ValueError) as exc:
            raise IndexerNodeError(f"the {self.chain} chain's node failed {method}: {exc}") from exc
        return self._result(method, response)

    def _batch(self, requests: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        if not requests:
            return []
        try:
            # Every provider web3.py ships (HTTP, IPC, the embedded one) answers batches.
            provider: Any = self.w3.provider
            responses = provider.make_batch_request(
                [(RPCEndpoint(method), list(params)) for method, params in requests]
            )
        except (OSError, Web3Exception, ValueError) as exc:
            raise IndexerNodeError(
                f"the {self.chain} chain's node failed a batch of {requests[0][0]}: {exc}"
            ) from exc
        if not isinstance(responses, list) or len(responses) != len(requests):
            raise IndexerNodeError(
                f"the {self.chain} chain's node answered a batch of {len(requests)} with {responses!r}"
            )
        return [
            self._result(method, response) for (method, _), response in zip(requests, responses, strict=True)
        ]

    def _result(self, method: str, response: Any) -> Any:
        if not isinstance(response, Mapping):
            raise IndexerNodeError(f"the {self.chain} chain's node answered {method} with {response!r}")
        if response.get("error"):
            raise IndexerNodeError(f"the {self.chain} chain's node refused {method}: {response['error']}")
        return response.get("result")

    def _head_number(self) -> int:
        return int(self._request("eth_blockNumber", []), 16)

    def _header(self, number: int) -> Header | None:
        raw = self._request("eth_getBlockByNumber", [hex(number), False])
        return None if raw is None else Header.of(raw)

    def _headers(self, start: int, end: int) -> list[Header]:
        raws: list[Any] = []
        for low in range(start, end + 1, HEADER_BATCH):
            high = min(end, low + HEADER_BATCH - 1)
            raws += self._batch([("eth_getBlockByNumber", [hex(n), False]) for n in range(low, high + 1)])
        headers = []
        for number, raw in zip(range(start, end + 1), raws, strict=True):
            if raw is None:
                raise _ChainMovedError(f"the node no longer has block {number}")
            header = Header.of(raw)
            if header.number != number:
                raise IndexerNodeError(
                    f"asked the {self.chain} chain for block {number}, got {header.number}"
                )
            headers.append(header)
        return headers

    def _logs(self, addresses: Sequence[str], headers: Sequence[Header]) -> list[DecodedLog]:
        """Every log of ``addresses`` in ``headers``' blocks, each checked against its header's hash."""
        if not addresses or not headers:
            return []
        if len(headers) == 1:
            raw = self._request("eth_getLogs", [{"address": list(addresses), "blockHash": headers[0].hash}])
        else:
            raw = self._request(
                "eth_getLogs",
                [
                    {
                        "address": list(addresses),
                        "fromBlock": hex(headers[0].number),
                        "toBlock": hex(headers[-1].number),
                    }
                ],
            )
        hashes = {header.number: header.hash for header in headers}
        logs = []
        for item in raw or []:
            if item.get("removed"):
                continue
            log = decode_log(item)
            if hashes.get(log.block_number) != log.block_hash:
                raise _ChainMovedError(
                    f"a log of block {log.block_number} belongs to another block than its header"
                )
            logs.append(log)
        logs.sort(key=lambda log: (log.block_number, log.log_index))
        return logs

    def _call(
        self,
        address: str,
        signature: str,
        *,
        types: Sequence[str],
        args: Sequence[Any],
        out: Sequence[str],
        block: int | str = "latest",
    ) -> tuple[Any, ...]:
        data = keccak(text=signature)[:4] + abi_encode(list(types), list(args))
        tag = block if isinstance(block, str) else hex(block)
        result = self._request("eth_call", [{"to": address, "data": "0x" + data.hex()}, tag])
        try:
            return tuple(abi_decode(list(out), bytes.fromhex(str(result)[2:])))
        except Exception as exc:
            raise IndexerNodeError(f"{signature} on {address} answered {result!r}, not {out}: {exc}") from exc

    # ------------------------------------------------------------------------------------------ state

    def _check_chain(self) -> None:
        """Record the chain (id, genesis) or check the node is the chain recorded under this name."""
        if self._chain_checked:
            return
        genesis = self._header(0)
        if genesis is None:
            raise IndexerNodeError(f"the {self.chain} chain's node has no block 0")
        chain_id = int(self._request("eth_chainId", []), 16)
        with self.db.write() as session:
            known = session.get(Chain, self.chain)
            if known is None:
                session.add(Chain(name=self.chain, chain_id=chain_id, genesis_hash=genesis.hash))
            elif known.genesis_hash != genesis.hash or known.chain_id != chain_id:
                raise ChainMismatchError(
                    f"the index followed the {self.chain} chain with chain id {known.chain_id} and genesis "
                    f"{known.genesis_hash}; the node now has chain id {chain_id} and genesis "
                    f"{genesis.hash}: it "
                    f"is another chain (a reset chain, or another node). Point the registry at the chain it "
                    f"indexed, or start a new index (delete {self.db.url}, or use another database)"
                )
            wrong = session.scalars(
                select(Asset).where(Asset.chain == self.chain, Asset.chain_id != chain_id)
            ).first()
            if wrong is not None:
                raise ChainMismatchError(
                    f"asset {wrong.asset_id} was catalogued on the {self.chain} chain with chain id "
                    f"{wrong.chain_id}, but that chain's node has chain id {chain_id}"
                )
        self._chain_checked = True

    def _tip(self) -> tuple[int, str] | None:
        with self.db.read() as session:
            state = session.get(IndexerState, self.chain)
            return None if state is None else (state.block_number, state.block_hash)

    def _followed(self) -> list[_Followed]:
        with self.db.read() as session:
            cursors = {
                row.address: row.synced_block
                for row in session.scalars(select(ContractCursor).where(ContractCursor.chain == self.chain))
            }
            assets = session.scalars(select(Asset).where(Asset.chain == self.chain)).all()
            registries = session.scalars(
                select(IdentityRegistry).where(IdentityRegistry.chain == self.chain)
            ).all()
        followed = [
            _Followed(
                row.address,
                row.deployed_block,
                cursors.get(row.address, row.deployed_block - 1),
                AssetInfo(row.asset_id, self._initial_scale(row)),
                row.symbol,
            )
            for row in assets
        ]
        followed += [
            _Followed(row.address, row.from_block, cursors.get(row.address, row.from_block - 1), None)
            for row in registries
        ]
        return followed

    def _initial_scale(self, asset: Asset) -> int:
        """Raw units per token unit at deployment: StockToken's constant, 1 for the others."""
        if asset.asset_id not in self._initial_scales:
            scale = 1
            if KIND_ARTIFACTS.get(asset.kind) == "StockToken":
                try:
                    (scale,) = self._call(
                        asset.address, "INITIAL_RAW_UNITS_PER_SHARE()", types=[], args=[], out=["uint256"]
                    )
                except IndexerNodeError as exc:
                    raise IndexerNodeError(
                        f"asset {asset.asset_id} is catalogued as a stock, but {asset.address} on the "
                        f"{self.chain} chain does not answer StockToken's INITIAL_RAW_UNITS_PER_SHARE(): "
                        f"is it a StockToken? ({exc})"
                    ) from exc
            self._initial_scales[asset.asset_id] = int(scale)
        return self._initial_scales[asset.asset_id]

    # ------------------------------------------------------------------------------------------ writing

    def _write_step(
        self,
        tip: tuple[int, str] | None,
        headers: Sequence[Header],
        followed: Sequence[_Followed],
        logs: Sequence[DecodedLog],
    ) -> int:
        end = headers[-1]
        stored: list[DecodedLog] = []
        with self.db.write() as session:
            self._claim_tip(session, tip)
            session.execute(
                insert(Block),
                [
                    {
                        "chain": self.chain,
                        "number": h.number,
                        "hash": h.hash,
                        "parent_hash": h.parent_hash,
                        "timestamp": h.timestamp,
                    }
                    for h in headers
                ],
            )
            stored = self._apply(session, followed, logs, headers[0].number)
            self._move_cursors(session, [contract.address for contract in followed], end.number)
            if tip is None:
                session.add(IndexerState(chain=self.chain, block_number=end.number, block_hash=end.hash))
            else:
                session.execute(
                    update(IndexerState)
                    .where(IndexerState.chain == self.chain)
                    .values(block_number=end.number, block_hash=end.hash)
                )
        self._announce(followed, stored)
        return len(stored)

    def _claim_tip(self, session: Session, tip: tuple[int, str] | None) -> None:
        """Check, inside the write transaction, that nobody moved the tip since the step began."""
        query = select(IndexerState).where(IndexerState.chain == self.chain)
        if self.db.dialect == "postgresql":
            query = query.with_for_update()
        state = session.scalars(query).first()
        now = None if state is None else (state.block_number, state.block_hash)
        if now != tip:
            raise _ChainMovedError(f"another indexer moved the {self.chain} tip from {tip} to {now}")

    def _apply(
        self, session: Session, followed: Sequence[_Followed], logs: Sequence[DecodedLog], first: int
    ) -> list[DecodedLog]:
        """Store ``logs`` and apply them to the projections; seed registries that start at genesis.
        Returns the logs stored."""
        contracts = {c.address: c for c in followed}
        # A contract's logs before its first block are not its own (the catalogue says it did not exist):
        # leaving them out keeps this step and a catch-up from the first block in agreement.
        logs = [log for log in logs if log.block_number > contracts[log.address].synced_block]
        by_address: dict[str, list[DecodedLog]] = defaultdict(list)
        for log in logs:
            by_address[log.address].append(log)
        rows = VersionedRows(session)
        for contract in followed:
            if (
                contract.asset is None
                and contract.synced_block == -1
                and first == 0
                and contract.first_block == 0
            ):
                self._seed_genesis_investors(rows, contract.address)
        if logs:
            session.execute(
                insert(Event),
                [
                    {
                        "chain": self.chain,
                        "block_number": log.block_number,
                        "block_hash": log.block_hash,
                        "tx_hash": log.tx_hash,
                        "tx_index": log.tx_index,
                        "log_index": log.log_index,
                        "address": log.address,
                        "asset_id": contract.asset.asset_id
                        if (contract := contracts[log.address]).asset
                        else None,
                        "name": log.name,
                        "signature": log.signature,
                        "args": log.to_json(),
                    }
                    for log in logs
                ],
            )
        for address, contract_logs in by_address.items():
            contract = contracts[address]
            if contract.asset is not None:
                apply_token_logs(rows, session, contract.asset, contract_logs)
            else:
                apply_registry_logs(rows, self.chain, address, contract_logs)
        rows.flush()
        return logs

    def _announce(self, followed: Sequence[_Followed], logs: Sequence[DecodedLog]) -> None:
        """Tell `on_events` of the token events just committed."""
        if self.on_events is None or not logs:
            return
        contracts = {c.address: c for c in followed}
        events = [
            IndexedEvent(
                chain=self.chain,
                asset_id=contract.asset.asset_id,
                symbol=contract.symbol,
                name=log.name,
                block_number=log.block_number,
                block_hash=log.block_hash,
                tx_hash=log.tx_hash,
                log_index=log.log_index,
                args=log.to_json(),
            )
            for log in logs
            if (contract := contracts[log.address]).asset is not None
        ]
        if not events:
            return
        try:
            self.on_events(events)
        except Exception:
            logger.exception("the %s indexer's event listener failed", self.chain)

    def _seed_genesis_investors(self, rows: VersionedRows, registry: str) -> None:
        """Investors a registry holds in the genesis state (registered without events)."""
        if self._request("eth_getCode", [registry, "0x0"]) in (None, "0x", ""):
            return
        (count,) = self._call(registry, "investorCount()", types=[], args=[], out=["uint32"], block=0)
        ctx = RegistryContext(rows, self.chain, registry)
        for investor_id in range(1, int(count) + 1):
            country, attributes, expiry, revoked, wallets = self._call(
                registry,
                "investor(uint32)",
                types=["uint32"],
                args=[investor_id],
                out=["uint16", "uint8", "uint40", "bool", "address[]"],
                block=0,
            )
            seed_investor(
                ctx,
                0,
                investor_id,
                country=int(country),
                attributes=int(attributes),
                kyc_expiry=int(expiry),
                revoked=bool(revoked),
                wallets=[checksum(w) for w in wallets],
            )

    def _stored_hashes(self, low: int, high: int) -> dict[int, str]:
        """The hashes of the blocks ``low`` to ``high`` the index holds, by number."""
        with self.db.read() as session:
            rows = session.execute(
                select(Block.number, Block.hash).where(
                    Block.chain == self.chain, Block.number >= low, Block.number <= high
                )
            )
            return {number: block_hash for number, block_hash in rows}

    def _move_cursors(self, session: Session, addresses: Sequence[str], block: int) -> None:
        """`_set_cursor` for many contracts in a few statements (each step moves every followed
        contract's cursor: one query per contract made the statements per block grow with the catalogue)."""
        for low in range(0, len(addresses), _CURSOR_CHUNK):
            chunk = addresses[low : low + _CURSOR_CHUNK]
            existing = set(
                session.scalars(
                    select(ContractCursor.address).where(
                        ContractCursor.chain == self.chain, ContractCursor.address.in_(chunk)
                    )
                )
            )
            if existing:
                session.execute(
                    update(ContractCursor)
                    .where(
                        ContractCursor.chain == self.chain,
                        ContractCursor.address.in_(existing),
                        ContractCursor.synced_block < block,
                    )
                    .values(synced_block=block)
                    .execution_options(synchronize_session=False)
                )
            session.add_all(
                ContractCursor(chain=self.chain, address=address, synced_block=block)
                for address in chunk
                if address not in existing
            )

    def _set_cursor(self, session: Session, address: str, block: int) -> None:
        cursor = session.get(ContractCursor, (self.chain, address))
        if cursor is None:
            session.add(ContractCursor(chain=self.chain, address=address, synced_block=block))
        else:
            cursor.synced_block = max(cursor.synced_block, block)

    # -------------------------------------------------------------------------------------- late contracts

    def _catch_up(self, contract: _Followed, tip: int) -> int:
        """Index one contract catalogued late, from its first block to the tip, against the stored hashes."""
        start = contract.synced_block + 1
        end = min(tip, start + _BACKFILL_RANGE - 1)
        hashes = self._stored_hashes(start, end)
        raw = self._request(
            "eth_getLogs", [{"address": [contract.address], "fromBlock": hex(start), "toBlock": hex(end)}]
        )
        logs = sorted(
            (decode_log(item) for item in raw or [] if not item.get("removed")),
            key=lambda log: (log.block_number, log.log_index),
        )
        for log in logs:
            if hashes.get(log.block_number) != log.block_hash:
                raise _ChainMovedError(
                    f"a log of block {log.block_number} belongs to a block the index does not hold"
                )
        with self.db.write() as session:
            cursor = session.get(ContractCursor, (self.chain, contract.address))
            if (contract.synced_block if cursor is None else cursor.synced_block) != contract.synced_block:
                raise _ChainMovedError(f"another indexer caught up {contract.address}")
            stored = self._apply(session, [contract], logs, start)
            self._set_cursor(session, contract.address, end)
        self._announce([contract], stored)
        return len(stored)

    # ------------------------------------------------------------------------------------- reorganisations

    def _reorganise(self, tip: int) -> Reorganisation:
        fork = self._find_fork(tip)
        logger.warning(
            "%s: the chain changed above block %d; undoing blocks %d..%d", self.chain, fork, fork + 1, tip
        )
        self.undo_to(fork)
        return Reorganisation(fork_block=fork, old_tip=tip, depth=tip - fork)

    def _find_fork(self, tip: int) -> int:
        """The highest block the index and the node agree on, at or below ``tip``."""
        with self.db.read() as session:
            oldest = session.scalar(
                select(Block.number).where(Block.chain == self.chain).order_by(Block.number).limit(1)
            )
        top = tip
        while top >= 0:
            low = max(0, top - _WALK_BATCH + 1)
            local = self._stored_hashes(low, top)
            remote = self._batch([("eth_getBlockByNumber", [hex(n), False]) for n in range(low, top + 1)])
            for number in range(top, low - 1, -1):
                raw = remote[number - low]
                if raw is not None and number in local and str(raw["hash"]).lower() == local[number]:
                    return number
            if oldest is None or low <= oldest:
                break
            top = low - 1
        if oldest == 0:
            raise ChainMismatchError(
                f"the {self.chain} chain's node shares no block with the index, not even genesis: it is "
                "another "
                f"chain. Point the registry at the chain it indexed, or start a new index"
            )
        raise ReorgTooDeepError(
            f"the {self.chain} chain changed below block {oldest}, the oldest block the index holds; "
            "re-index "
            "from scratch (a new index database)"
        )

    def undo_to(self, block: int) -> None:
        """Undo the index of this chain down to the end of ``block``, in one transaction."""
        self._mirrored = None
        with self.db.write() as session:
            session.execute(delete(Block).where(Block.chain == self.chain, Block.number > block))
            session.execute(delete(Event).where(Event.chain == self.chain, Event.block_number > block))
            session.execute(
                delete(Split).where(chain_condition(Split, self.chain), Split.block_number > block)
            )
            session.execute(
                delete(ValidatorChange).where(
                    ValidatorChange.chain == self.chain, ValidatorChange.block_number > block
                )
            )
            undo_after(session, self.chain, block)
            session.execute(
                update(ContractCursor)
                .where(ContractCursor.chain == self.chain, ContractCursor.synced_block > block)
                .values(synced_block=block)
            )
            kept = session.scalar(select(Block.hash).where(Block.chain == self.chain, Block.number == block))
            if kept is None:
                session.execute(delete(IndexerState).where(IndexerState.chain == self.chain))
            else:
                session.execute(
                    update(IndexerState)
                    .where(IndexerState.chain == self.chain)
                    .values(block_number=block, block_hash=kept)
                )

    # ------------------------------------------------------------------------------------------ governance

    def _mirror_governance(self, tip: tuple[int, str] | None) -> None:
        """Copy the validators' desks: every intervention proposal, and the validator changes on the
        canonical blocks the index holds up to ``tip`` (the embedded permissioned chain only)."""
        if self._governance is None and self._votes is None:
            return
        head = -1 if tip is None else tip[0]
        interventions = (
            [] if self._governance is None else [r.to_json() for r in self._governance.proposals()]
        )
        changes = (
            []
            if self._votes is None
            else [c.to_json() for c in self._votes.history() if c.block_number <= head]
        )
        # Most syncs follow a block without a governance change: rewriting the same rows would cost a
        # write transaction per block, paid by every client waiting for the index.
        mirrored = (interventions, changes)
        if mirrored == self._mirrored:
            return
        with self.db.write() as session:
            session.execute(delete(Intervention).where(Intervention.chain == self.chain))
            session.execute(delete(ValidatorChange).where(ValidatorChange.chain == self.chain))
            for data in interventions:
                message = data["proposal"]["message"]
                session.add(
                    Intervention(
                        chain=self.chain,
                        proposal_id=data["id"],
                        sequence=data["sequence"],
                        kind=_intervention_kind(data["proposal"]["kind"], message),
                        status=data["status"],
                        reason=str(message.get("reason", ""))[:1000],
                        created_at_block=data["createdAtBlock"],
                        executed_at_block=data["executedAtBlock"],
                        signers=sorted(data["signatures"]),
                        proposal=data["proposal"],
                        outcome=data["outcome"],
                    )
                )
            for data in changes:
                session.add(
                    ValidatorChange(
                        chain=self.chain,
                        block_number=data["blockNumber"],
                        block_hash=data["blockHash"],
                        action=data["action"],
                        validator=data["validator"],
                        voters=data["voters"],
                        proposal_id=data["proposalId"],
                        validators_after=data["validatorsAfter"],
                    )
                )
        self._mirrored = mirrored


def _intervention_kind(kind: str, message: Mapping[str, Any]) -> str:
    if kind == "AccountFreeze":
        return "freeze" if message.get("frozen") else "unfreeze"
    return "rollback" if kind == "Rollback" else kind


# ---------------------------------------------------------------------------------------------- following


class IndexFollower:
    """Keeps an index at the head of its chain: syncs in a thread whenever the chain reports a new block
    or a rollback (`ChainHandle.subscribe`; an external node is polled by its backend), and at least every
    ``interval`` seconds. Errors are logged and kept in `last_error`; the next wake-up tries again."""

    def __init__(self, indexer: Indexer, handle: ChainHandle | None = None, *, interval: float = 5.0) -> None:
        self.indexer = indexer
        self._handle = handle
        self._interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._synced = threading.Condition()
        self._head = -1
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self.last_error: BaseException | None = None
        """The error of the last failed sync (None after a good one)."""

    def start(self) -> IndexFollower:
        """Start following (returns self)."""
        if self._handle is not None:
            self._unsubscribe = self._handle.subscribe(lambda _event: self._wake.set())
        self._thread = threading.Thread(target=self._run, name=f"index-{self.indexer.chain}", daemon=True)
        self._thread.start()
        self._wake.set()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                report = self.indexer.sync()
                self.last_error = None
            except Exception as exc:  # a failing node or database must not end the following: retry
                logger.exception(
                    "indexing the %s chain failed; trying again at the next block", self.indexer.chain
                )
                self.last_error = exc
                continue
            with self._synced:
                self._head = report.head_number
                self._synced.notify_all()

    def wait_for(self, block: int, timeout: float = 30.0) -> bool:
        """Wait until the index reaches ``block`` (True) or ``timeout`` seconds pass (False)."""
        self._wake.set()
        with self._synced:
            return self._synced.wait_for(lambda: self._head >= block, timeout)

    def stop(self) -> None:
        """Stop following and wait for the thread."""
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
