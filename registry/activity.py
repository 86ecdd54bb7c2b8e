"""The activity stream: what happens on the chains, published as it happens, for the dashboard and any
other live reader (the HTTP API serves it as server-sent events at ``GET /events``).

    hub = registry.activity
    with hub.subscribe(kinds={"block", "intervention"}, chain="permissioned") as feed:
        item = feed.get(timeout=5)          # an Activity: id, kind, data; None when nothing came

Kinds and their data (the format the dashboard reads; keep it stable):

- ``block``        {chain, number, hash, timestamp, tx_count, sealers[], validators[]}: a sealed block;
  ``sealers`` (who sealed it) and ``validators`` (the set that had to) on the permissioned chain only,
  empty lists elsewhere;
- ``token-event``  {chain, asset_id, symbol, event, block_number, tx_hash, log_index, args{}}: a token event
  the index stored;
- ``refusal``      {chain, sender, tx_hash?, error, reason}: the permissioned chain refused a sender
  (not KYC'd, KYC expired or revoked, frozen) or a transaction a rollback excluded; ``error`` is the
  refusal's kind, ``reason`` the chain's own sentence;
- ``intervention`` {chain, id, kind, status, signers[], dropped[], replayed[], excluded[]}: an intervention
  was proposed, signed or executed (the lists are transaction hashes, filled for an executed rollback);
- ``rollback``     {chain, first_changed_block, new_head}: the chain was rolled back;
- ``demo``         {run_id, name, chain?, step, status, detail}: a demo's progress.

**Never blocking the chain.** `ActivityHub.publish` is called on the threads that seal blocks, index and
govern: it appends to each subscriber's bounded queue and returns. A subscriber that does not keep up
loses its oldest items (``dropped`` counts them; the ids show the gap), so a stalled client never holds
a block back. Ids increase by one per published item, across kinds and chains; every subscriber sees
them in that order. The last `DEFAULT_REPLAY` items are kept, so a reader that reconnects resumes after
the last id it saw (``subscribe(after=...)``), or learns how many it missed.

**Ids across restarts.** A registry with a data directory numbers each run of its stream apart: run *n*
starts at ``n * RUN_SPAN + 1`` (`next_run_first_id` counts the runs in ``activity-run``), so an id of an
earlier run is always below every id of this one. A reader resuming from an id this run never issued (an
earlier run, or another server) gets everything this run still keeps and is told so
(`Subscription.other_run`), instead of waiting silently for the ids to catch up with its own.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from eth_utils.address import to_checksum_address
from hexbytes import HexBytes

from registry.chain.consensus.seals import ExtraData, sealers_of, short
from registry.chain.errors import (
    InvalidBlockError,
    KycExpiredError,
    KycRevokedError,
    SenderFrozenError,
    TransactionExcludedError,
    UnregisteredSenderError,
)
from registry.chain.events import ChainEvent, NewBlock, Refusal, Rollback

if TYPE_CHECKING:
    from registry.chain.backend import ChainHandle
    from registry.index.indexer import IndexedEvent

logger = logging.getLogger(__name__)

KINDS: Final[tuple[str, ...]] = ("block", "token-event", "refusal", "intervention", "rollback", "demo")
"""Every kind of activity, in the order of the documentation."""

DEFAULT_QUEUE: Final = 1_000
"""Items a subscriber may have unread before its oldest are dropped."""

DEFAULT_REPLAY: Final = 1_000
"""Items the hub keeps for readers that resume (``after``)."""

RUN_SPAN: Final = 10**12
"""Ids one run of a registry's stream may use: run *n* starts at ``n * RUN_SPAN + 1``."""

RUN_FILE: Final = "activity-run"
"""The file in the data directory that counts the runs of the activity stream."""


@dataclass(frozen=True)
class Activity:
    """One published item: its id (monotonic), kind and data (JSON-ready)."""

    id: int
    kind: str
    data: Mapping[str, Any]

    @property
    def chain(self) -> str | None:
        """The chain it concerns, when it concerns one."""
        chain = self.data.get("chain")
        return chain if isinstance(chain, str) else None


@dataclass
class _Filter:
    kinds: frozenset[str] | None
    chain: str | None

    def matches(self, activity: Activity) -> bool:
        if self.kinds is not None and activity.kind not in self.kinds:
            return False
        # Items of no chain (a demo's overall progress) reach every chain's readers.
        return self.chain is None or activity.chain in (None, self.chain)


@dataclass(eq=False)
class Subscription:
    """A reader's queue of activity (see `ActivityHub.subscribe`); close it when done (or use ``with``)."""

    _hub: ActivityHub
    _filter: _Filter
    _size: int
    _wake: Callable[[], None] | None
    _queue: deque[Activity] = field(default_factory=deque)
    _cond: threading.Condition = field(default_factory=threading.Condition)
    dropped: int = 0
    """Items lost since the reader last took some (its queue was full, or the replay did not reach back)."""
    closed: bool = False
    """True once closed (by the reader, or by the hub closing)."""
    other_run: bool = False
    """The reader resumed from an id this run of the hub never issued (the server restarted since, or it
    is another server): it was given everything kept from this run."""

    def _offer(self, activity: Activity) -> None:
        if not self._filter.matches(activity):
            return
        with self._cond:
            if self.closed:
                return
            if len(self._queue) >= self._size:
                self._queue.popleft()
                self.dropped += 1
            self._queue.append(activity)
            self._cond.notify_all()
        self._notify()

    def _notify(self) -> None:
        if self._wake is not None:
            try:
                self._wake()
            except Exception:  # a reader's wake-up (an event loop that closed) must not reach the chain
                logger.debug("an activity reader's wake-up failed", exc_info=True)

    def take(self) -> tuple[list[Activity], int]:
        """Everything queued now (oldest first) and how many items were dropped before it; never waits."""
        with self._cond:
            items = list(self._queue)
            self._queue.clear()
            dropped, self.dropped = self.dropped, 0
            return items, dropped

    def get(self, timeout: float | None = None) -> Activity | None:
        """The next item, waiting at most ``timeout`` seconds; None if none came or the hub closed."""
        with self._cond:
            self._cond.wait_for(lambda: bool(self._queue) or self.closed, timeout)
            return self._queue.popleft() if self._queue else None

    def close(self) -> None:
        """Stop receiving; wakes a reader waiting in `get`."""
        with self._cond:
            self.closed = True
            self._cond.notify_all()
        self._hub._remove(self)
        self._notify()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class ActivityHub:
    """Publishes activity to every subscriber (see the module docstring). Thread-safe."""

    def __init__(
        self, *, queue_size: int = DEFAULT_QUEUE, replay_size: int = DEFAULT_REPLAY, first_id: int = 1
    ) -> None:
        if queue_size < 1 or replay_size < 0 or first_id < 1:
            raise ValueError("queue_size and first_id must be at least 1 and replay_size at least 0")
        self._queue_size = queue_size
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._first_id = first_id
        self._next_id = first_id
        self._replay: deque[Activity] = deque(maxlen=replay_size)
        self._subscribers: list[Subscription] = []
        self._closed = False

    @property
    def first_id(self) -> int:
        """The id this run's first item has (or will have)."""
        return self._first_id

    @property
    def last_id(self) -> int:
        """The id of the newest item (``first_id - 1`` before the first)."""
        with self._lock:
            return self._next_id - 1

    @property
    def subscriber_count(self) -> int:
        """How many subscriptions are open."""
        with self._lock:
            return len(self._subscribers)

    def publish(self, kind: str, data: Mapping[str, Any]) -> Activity:
        """Give every subscriber an item of ``kind`` with ``data``; returns it. Never waits for a reader.

        Raises:
            ValueError: ``kind`` is not one of `KINDS`.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown activity kind {kind!r}; one of {', '.join(KINDS)}")
        with self._lock:
            activity = Activity(self._next_id, kind, dict(data))
            self._next_id += 1
            self._replay.append(activity)
            # Offered under the hub's lock, so that every subscriber sees the ids in order even when
            # several threads publish at once; an offer only appends to a bounded queue.
            for subscriber in self._subscribers:
                subscriber._offer(activity)
        return activity

    def subscribe(
        self,
        *,
        kinds: Collection[str] | None = None,
        chain: str | None = None,
        after: int | None = None,
        queue_size: int | None = None,
        wake: Callable[[], None] | None = None,
    ) -> Subscription:
        """A new subscription to items of ``kinds`` (default all) about ``chain`` (default all).

        ``after``: first replay the kept items with a larger id (a reader resuming after the last id it
        saw); items older than the replay buffer are counted in ``dropped``. An ``after`` this run never
        issued (below ``first_id - 1``, or beyond the newest id) replays everything kept from this run,
        counts this run's items no longer kept in ``dropped``, and sets the subscription's ``other_run``.
        ``wake`` is called (on the publishing thread, quickly) whenever an item is queued: an event loop's
        ``call_soon_threadsafe``.

        Raises:
            ValueError: an unknown kind.
        """
        chosen = None if kinds is None else frozenset(kinds)
        unknown = sorted((chosen or frozenset()) - set(KINDS))
        if unknown:
            raise ValueError(f"unknown activity kind(s) {', '.join(unknown)}; known: {', '.join(KINDS)}")
        subscription = Subscription(self, _Filter(chosen, chain), queue_size or self._queue_size, wake)
        with self._lock:
            if self._closed:
                subscription.closed = True
                return subscription
            if after is not None:
                if after < self._first_id - 1 or after >= self._next_id:
                    subscription.other_run = True
                    after = self._first_id - 1
                kept = [item for item in self._replay if item.id > after]
                first_kept = kept[0].id if kept else self._next_id
                subscription.dropped = max(0, first_kept - after - 1)
                for item in kept:
                    subscription._offer(item)
            self._subscribers.append(subscription)
            self._changed.notify_all()
        return subscription

    def wait_for_subscribers(self, count: int, timeout: float) -> bool:
        """Wait until exactly ``count`` subscriptions are open (True) or ``timeout`` seconds pass (False)."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self._subscribers) == count, timeout)

    def _remove(self, subscription: Subscription) -> None:
        with self._lock:
            if subscription in self._subscribers:
                self._subscribers.remove(subscription)
                self._changed.notify_all()

    def close(self) -> None:
        """Close every subscription (readers see the end); later subscriptions start closed."""
        with self._lock:
            self._closed = True
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            subscriber.close()

    def __iter__(self) -> Iterator[Activity]:
        """The kept items, oldest first."""
        with self._lock:
            return iter(list(self._replay))


def next_run_first_id(data_dir: Path) -> int:
    """Count one more run of the activity stream kept in ``data_dir`` and return its first id.

    The count is written (to a new file, then renamed over the old one) before the run publishes
    anything, so a run that dies leaves its number used, never reused. A missing or unreadable count
    starts again at run 1.
    """
    path = data_dir / RUN_FILE
    try:
        previous = int(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        previous = 0
    run = max(previous, 0) + 1
    data_dir.mkdir(parents=True, exist_ok=True)
    fresh = path.with_name(path.name + ".new")
    with fresh.open("w", encoding="ascii") as out:
        out.write(f"{run}\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(fresh, path)
    return run * RUN_SPAN + 1


# ---------------------------------------------------------------------------------------------- data


def iso_time(timestamp: int) -> str:
    """Unix seconds as ISO 8601 UTC (``2026-11-30T12:00:00Z``)."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def block_data(
    chain: str,
    *,
    number: int,
    block_hash: bytes,
    timestamp: int,
    tx_count: int,
    sealers: Sequence[str] = (),
    validators: Sequence[str] = (),
) -> dict[str, Any]:
    """The data of a ``block`` item."""
    return {
        "chain": chain,
        "number": number,
        "hash": "0x" + bytes(block_hash).hex(),
        "timestamp": iso_time(timestamp),
        "tx_count": tx_count,
        "sealers": list(sealers),
        "validators": list(validators),
    }


def intervention_data(chain: str, record: Any, signers: Sequence[str]) -> dict[str, Any]:
    """The data of an ``intervention`` item from a proposal record (`ProposalRecord`) and the validators
    whose signatures count."""
    message = record.proposal.message
    kind = str(record.proposal.kind)
    if kind == "AccountFreeze":
        kind = "freeze" if message.get("frozen") else "unfreeze"
    elif kind == "Rollback":
        kind = "rollback"
    transactions = record.outcome.get("transactions", []) if kind == "rollback" else []
    return {
        "chain": chain,
        "id": "0x" + bytes(record.id).hex(),
        "kind": kind,
        "status": str(record.status),
        "signers": list(signers),
        "dropped": [t["hash"] for t in transactions],
        "replayed": [t["hash"] for t in transactions if t["fate"] == "replayed"],
        "excluded": [t["hash"] for t in transactions if str(t["fate"]).startswith("excluded")],
    }


# ---------------------------------------------------------------------------------------------- sources


class ActivitySources:
    """Feeds a hub from the registry's parts: each chain's events (blocks, rollbacks) and refusals, the
    indexers' stored token events, the governance desks' interventions. `registry.runtime.Registry`
    wires one up.

    **Order.** A token event follows its block: the index may store a block's events before the chain
    has told its listeners of that block (they run one after the other), so whichever comes first
    announces the block, and the other does not announce it again.
    """

    _RECENT = 512
    """Blocks per chain remembered as announced (deeper rollbacks just announce again)."""

    def __init__(self, hub: ActivityHub) -> None:
        self.hub = hub
        self._handles: dict[str, ChainHandle] = {}
        self._announced: dict[str, dict[int, bytes]] = {}
        self._lock = threading.Lock()

    def attach_chain(self, handle: ChainHandle) -> list[Callable[[], None]]:
        """Follow ``handle``'s blocks, rollbacks and (embedded) refusals; returns the functions that stop
        following."""
        name = handle.name
        self._handles[name] = handle
        self._announced.setdefault(name, {})
        stops = [handle.subscribe(lambda event: self._on_chain_event(name, event))]
        embedded = handle.embedded
        if embedded is not None:
            stops.append(embedded.watch_refusals(lambda refusal: self._on_refusal(name, refusal)))
        return stops

    def token_events(self, events: Sequence[IndexedEvent]) -> None:
        """An indexer's callback (`Indexer.on_events`): publish ``events``, each after its block."""
        for event in events:
            block_hash = bytes.fromhex(event.block_hash.removeprefix("0x"))
            self._announce(event.chain, event.block_number, block_hash)
            self.hub.publish(
                "token-event",
                {
                    "chain": event.chain,
                    "asset_id": event.asset_id,
                    "symbol": event.symbol,
                    "event": event.name,
                    "block_number": event.block_number,
                    "tx_hash": event.tx_hash,
                    "log_index": event.log_index,
                    "args": event.args,
                },
            )

    def intervention(self, chain: str, record: Any, signers: Sequence[str]) -> None:
        """The governance service's callback: an intervention was proposed, signed or executed."""
        self.hub.publish("intervention", intervention_data(chain, record, signers))

    # -- chain events ----------------------------------------------------------------------------

    def _on_chain_event(self, chain: str, event: ChainEvent) -> None:
        if isinstance(event, NewBlock):
            self._announce(chain, event.number, event.hash)
        elif isinstance(event, Rollback):
            with self._lock:
                announced = self._announced.setdefault(chain, {})
                for number in [n for n in announced if n >= event.first_changed_block]:
                    del announced[number]
                self.hub.publish(
                    "rollback",
                    {
                        "chain": chain,
                        "first_changed_block": event.first_changed_block,
                        "new_head": event.new_head_number,
                    },
                )

    def _announce(self, chain: str, number: int, block_hash: bytes) -> None:
        """Publish block ``number`` unless it was announced already."""
        with self._lock:
            if self._announced.get(chain, {}).get(number) == block_hash:
                return
        # Read outside the lock: the chain's own locks are taken here, and the chain's thread may be
        # waiting for this lock while holding them.
        try:
            data = self.describe_block(chain, number, block_hash)
        except Exception:  # the block is gone again (a rollback) or the node did not answer
            logger.warning("could not read block %d of the %s chain for the activity stream", number, chain)
            return
        with self._lock:
            announced = self._announced.setdefault(chain, {})
            if announced.get(number) == block_hash:
                return
            announced[number] = block_hash
            while len(announced) > self._RECENT:
                del announced[min(announced)]
            self.hub.publish("block", data)

    def describe_block(self, chain: str, number: int, block_hash: bytes) -> dict[str, Any]:
        """The data of a `block` item for block ``number`` (``block_hash``) of an attached chain: what the
        chain's thread computes per sealed block. The sealers of a block sealed or imported by this
        process are known from when it was sealed or its seals checked (`sealers_of`); only a block
        read afresh (after a restart) has its seals recovered here, on the reader's thread."""
        handle = self._handles[chain]
        embedded = handle.embedded
        if embedded is None:
            block = handle.w3.eth.get_block(HexBytes(block_hash))
            return block_data(
                chain,
                number=number,
                block_hash=block_hash,
                timestamp=int(block["timestamp"]),
                tx_count=len(block.get("transactions", [])),
            )
        full = embedded.get_block(block_hash)
        header = full.header
        sealers: tuple[str, ...] = ()
        validators: tuple[str, ...] = ()
        if len(header.extra_data) > 32:  # the permissioned chain's RLP[vanity, validators, seals]
            try:
                validators = tuple(short(v) for v in ExtraData.decode(header.extra_data).validators)
                sealers = tuple(short(v) for v in sealers_of(header))
            except InvalidBlockError:
                logger.warning("block %d of the %s chain carries no readable seals", number, chain)
        return block_data(
            chain,
            number=number,
            block_hash=block_hash,
            timestamp=int(header.timestamp),
            tx_count=len(full.transactions),
            sealers=sealers,
            validators=validators,
        )

    def _on_refusal(self, chain: str, refusal: Refusal) -> None:
        self.hub.publish(
            "refusal",
            {
                "chain": chain,
                "sender": to_checksum_address(refusal.sender),
                "tx_hash": None if refusal.tx_hash is None else "0x" + refusal.tx_hash.hex(),
                "error": refusal_kind(refusal.error),
                "reason": str(refusal.error),
            },
        )


def refusal_kind(error: Exception) -> str:
    """A refusal's kind: unregistered, kyc-expired, kyc-revoked, frozen, excluded or not-verified."""
    for kind, slug in _REFUSAL_KINDS:
        if isinstance(error, kind):
            return slug
    return "not-verified"


_REFUSAL_KINDS: Final[tuple[tuple[type[Exception], str], ...]] = (
    (UnregisteredSenderError, "unregistered"),
    (KycExpiredError, "kyc-expired"),
    (KycRevokedError, "kyc-revoked"),
    (SenderFrozenError, "frozen"),
    (TransactionExcludedError, "excluded"),
)


__all__ = [
    "DEFAULT_QUEUE",
    "DEFAULT_REPLAY",
    "KINDS",
    "Activity",
    "ActivityHub",
    "ActivitySources",
    "Subscription",
    "block_data",
    "intervention_data",
    "iso_time",
    "refusal_kind",
]
