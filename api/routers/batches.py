"""Batches: onboard many investors, mint to many wallets, transfer to many wallets, and read a batch's
progress.

A batch runs through `registry.bulk`: its items go into as few transactions as fit half a block's gas,
every transaction is dry-run before the first is sent (one refused item refuses the whole batch, naming
every refused item, and nothing is sent), each transaction's hash is journaled before it is submitted,
and the answer says item by item what landed. A batch that stops half way answers 409 ``batch-stopped``
with the same item report; retried with the same Idempotency-Key (even after the server was killed),
it sends only what did not land. ``GET /batches/{batch_id}`` reads the journal: progress while it runs,
every item's fate after.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated, Final, Protocol

from fastapi import APIRouter, Path
from fastapi.responses import Response

from api.deps import IdempotencyDep, PageDep, PrincipalDep, RegistryDep
from api.errors import ApiProblemError
from api.idempotency import Idempotent
from api.schemas.common import decode_cursor, encode_cursor, parse_amount
from api.schemas.countries import country_code
from api.schemas.transfers import (
    AllocationItem,
    BatchItemPublic,
    BatchItemStatus,
    BatchMintCreate,
    BatchProgressPublic,
    BatchPublic,
    BatchTransferCreate,
    InvestorBatchCreate,
)
from api.scope import INDEX_WAIT_SECONDS, timestamp
from api.security import EVERY_ROLE, Principal, allow
from registry.bulk.journal import JournalEntry
from registry.bulk.report import BatchReport
from registry.bulk.runner import BulkProgress
from registry.errors import IndexBehindError
from registry.investors import InvestorSpec
from registry.runtime import Registry

TAG = {
    "name": "batches",
    "description": "Many investors or allocations in one request: chunked to the block gas limit, every "
    "chunk checked before anything is sent, journaled, reported item by item, resumable with the same "
    "Idempotency-Key after a stop or a crash.",
}

router = APIRouter(tags=["batches"])

logger = logging.getLogger(__name__)

AssetId = Annotated[
    str, Path(max_length=64, description="The asset's id.", examples=["bond-5f0c2a9d11e3b7a40c21"])
]
BatchId = Annotated[
    str,
    Path(
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="The batch's id, from the batch's answer.",
        examples=["api-k1a2b3c4d5e6f708-0c1d2e3f405162738495a6b7c8d9e0f1"],
    ),
]

READERS_OF_ANY: Final = ("admin", "auditor")
"""Roles that read every batch; other keys read the batches they started."""

_lock = threading.Lock()
_running: dict[str, BatchProgressPublic | None] = {}
"""Batches running in this process, by id, with their latest progress."""


def _batch_id(registry: Registry, caller: Principal, idem: Idempotent) -> str:
    """The id of the batch: fixed by the caller and its Idempotency-Key (a retry resumes it), or fresh."""
    return idem.batch_id or f"api-{caller.key_id}-{registry.context.journal.new_id()}"


@contextmanager
def _tracking(batch_id: str) -> Iterator[None]:
    with _lock:
        _running[batch_id] = None
    try:
        yield
    finally:
        with _lock:
            _running.pop(batch_id, None)


def _progress(batch_id: str) -> BulkProgress:
    def record(stage: str, done: int, total: int) -> None:
        if stage in ("checking", "sending"):
            with _lock:
                if batch_id in _running:
                    _running[batch_id] = BatchProgressPublic(
                        stage="checking" if stage == "checking" else "sending", done=done, total=total
                    )

    return record


def _expiry(value: datetime | date | None, field: str) -> int | date | None:
    """A KYC expiry as the service takes it (a time without an offset is UTC)."""
    return timestamp(value, field) if isinstance(value, datetime) else value


def _await_index(registry: Registry, report: BatchReport) -> None:
    """Answer once the index holds the batch's last block, so the next cap table shows it (as every
    write of the API does); a slow index does not turn landed items into an error."""
    if report.block_number is None:
        return
    try:
        registry.wait_for_index(report.chain, report.block_number, timeout=INDEX_WAIT_SECONDS)
    except IndexBehindError as exc:
        logger.warning("answering before the index holds block %s: %s", report.block_number, exc)


def _allocations(registry: Registry, asset_id: str, items: list[AllocationItem]) -> list[tuple[str, int]]:
    decimals = registry.asset(asset_id).decimals
    return [
        (item.to, parse_amount(item.amount, decimals, f"items[{index}].amount"))
        for index, item in enumerate(items)
    ]


# -- onboarding ---------------------------------------------------------------------------------------------


@router.post(
    "/investors/batch",
    response_model=BatchPublic,
    dependencies=[allow("admin", "kyc-provider")],
    summary="Onboard many investors",
    description="Registers investors (one wallet each) in the chain's identity registry, in as few "
    "transactions as fit the blocks (`batchRegisterInvestors`). A wallet already registered, or listed "
    "twice, refuses the batch naming it, and nothing is sent. Each landed item carries its `investor_id`. "
    "Signed by the key's kyc-provider address (an admin may leave `sender` out: the chain's KYC provider "
    "custody holds). A batch that stops half way is 409 `batch-stopped` with the item report; retry with "
    "the same Idempotency-Key to send only the rest.",
)
def onboard_investors(
    body: InvestorBatchCreate, registry: RegistryDep, caller: PrincipalDep, idem: IdempotencyDep
) -> Response:
    """Onboard many investors."""
    batch_id = _batch_id(registry, caller, idem)

    def work() -> BatchPublic:
        sender = None if caller.role == "admin" and body.sender is None else caller.sender(body.sender)
        specs = [
            InvestorSpec(
                wallet=item.wallet,
                country=country_code(item.country, f"investors[{index}].country"),
                expiry=_expiry(item.kyc_expires_at, f"investors[{index}].kyc_expires_at"),
                accredited=item.accredited,
                professional=item.professional,
            )
            for index, item in enumerate(body.investors)
        ]
        with _tracking(batch_id):
            report = registry.investors.batch_register(
                body.chain,
                specs,
                sender=sender,
                batch_id=batch_id,
                progress=_progress(batch_id),
                max_items=body.max_items_per_transaction,
            )
        _await_index(registry, report)
        return BatchPublic.of_report(report, investor_ids=True)

    return idem.run(work, batch=True)


# -- mint and transfer --------------------------------------------------------------------------------------


class _AllocationBatch(Protocol):
    """`TokenService.batch_mint` or `TokenService.batch_transfer`."""

    def __call__(
        self,
        asset_id: str,
        allocations: list[tuple[str, int]],
        *,
        sender: str,
        batch_id: str,
        progress: BulkProgress,
        max_items: int | None,
    ) -> BatchReport: ...


def _send_allocations(
    registry: Registry,
    caller: Principal,
    idem: Idempotent,
    asset_id: str,
    body: BatchMintCreate | BatchTransferCreate,
    *,
    send: _AllocationBatch,
    scope: Callable[[], None] | None = None,
) -> Response:
    """Run a batch of allocations with ``send`` under the request's Idempotency-Key, tracked as it goes; the
    answer waits for the index. ``scope`` checks the caller's right to the asset first (not on a replay)."""
    batch_id = _batch_id(registry, caller, idem)

    def work() -> BatchPublic:
        if scope is not None:
            scope()
        sender = caller.sender(body.sender)
        items = _allocations(registry, asset_id, body.items)
        with _tracking(batch_id):
            report = send(
                asset_id,
                items,
                sender=sender,
                batch_id=batch_id,
                progress=_progress(batch_id),
                max_items=body.max_items_per_transaction,
            )
        _await_index(registry, report)
        return BatchPublic.of_report(report)

    return idem.run(work, batch=True)


@router.post(
    "/assets/{asset_id}/mint/batch",
    response_model=BatchPublic,
    dependencies=[allow("admin", "issuer")],
    summary="Mint to many wallets",
    description="Mints to every wallet of `items` in as few transactions as fit the blocks (`batchMint`), "
    "signed by the address with the token's supply role. Every transaction is checked before the first is "
    "sent: an item the token's rules refuse (or a wallet listed twice) refuses the whole batch, naming "
    "every refused item and every rule it breaks (422 `compliance-refused`), and nothing is sent. The "
    "answer says item by item what landed. A batch that stops half way is 409 `batch-stopped` with the "
    "item report; retry with the same Idempotency-Key (even after a crash) to send only the rest: nothing "
    "is minted twice.",
)
def batch_mint(
    asset_id: AssetId,
    body: BatchMintCreate,
    registry: RegistryDep,
    caller: PrincipalDep,
    idem: IdempotencyDep,
) -> Response:
    """Mint to many wallets."""
    return _send_allocations(
        registry,
        caller,
        idem,
        asset_id,
        body,
        send=registry.tokens.batch_mint,
        scope=lambda: caller.require_asset(registry, asset_id),
    )


@router.post(
    "/assets/{asset_id}/transfers/batch",
    response_model=BatchPublic,
    dependencies=[allow("admin", "issuer", "investor")],
    summary="Transfer to many wallets",
    description="Transfers from the sender's wallet (one of an investor key's wallets; an admin names any "
    "wallet custody holds) to every wallet of `items`, in as few transactions as fit the blocks "
    "(`batchTransfer`), checked, journaled and reported like a batch mint. The items together must fit "
    "the sender's unfrozen balance.",
)
def batch_transfer(
    asset_id: AssetId,
    body: BatchTransferCreate,
    registry: RegistryDep,
    caller: PrincipalDep,
    idem: IdempotencyDep,
) -> Response:
    """Transfer to many wallets."""
    return _send_allocations(registry, caller, idem, asset_id, body, send=registry.tokens.batch_transfer)


# -- reading ------------------------------------------------------------------------------------------------

_CHUNK_STATUS: Final[dict[str, BatchItemStatus]] = {
    "landed": "landed",
    "signed": "sent",
    "failed": "failed",
    "planned": "pending",
}


@router.get(
    "/batches/{batch_id}",
    dependencies=[allow(*EVERY_ROLE)],
    summary="A batch's progress and items",
    description="A batch as its journal holds it: `running` (with its stage and counts while this server "
    "runs it), `done`, or `stopped` (retry it with the same Idempotency-Key); and a page of its items with "
    "their fate and transaction (`?limit=&cursor=`). A key reads the batches it started; admin and "
    "auditor keys read every batch.",
)
def get_batch(batch_id: BatchId, registry: RegistryDep, caller: PrincipalDep, page: PageDep) -> BatchPublic:
    """A batch's progress and items."""
    mine = batch_id.startswith(f"api-{caller.key_id}-")
    entry = registry.context.journal.load(batch_id) if mine or caller.role in READERS_OF_ANY else None
    with _lock:
        running = batch_id in _running
        progress = _running.get(batch_id)
    if entry is None:
        if running and (mine or caller.role in READERS_OF_ANY):
            return BatchPublic(
                batch_id=batch_id,
                operation="unknown",
                chain="unknown",
                state="running",
                items_total=progress.total if progress is not None else 0,
                items_landed=0,
                transactions=0,
                progress=progress,
                items=[],
            )
        raise ApiProblemError(
            "not-found",
            f"no batch {batch_id!r} that this key may read (a key reads the batches it started; admin and "
            "auditor keys read every batch)",
            resource="batch",
        )
    return _entry_public(entry, running, progress, page.limit, page.cursor)


def _entry_public(
    entry: JournalEntry, running: bool, progress: BatchProgressPublic | None, limit: int, cursor: str | None
) -> BatchPublic:
    after = int(decode_cursor(cursor, "after")["after"]) if cursor else -1
    stopped = not running and entry.state != "done"
    items: list[BatchItemPublic] = []
    total = landed = 0
    more = False
    for chunk in sorted(entry.chunks, key=lambda chunk: chunk.start):
        status = _CHUNK_STATUS[chunk.state]
        if stopped and status == "pending":
            status = "not_sent"
        total += len(chunk.items)
        landed += len(chunk.items) if status == "landed" else 0
        for index in chunk.items:
            if index <= after:
                continue
            if len(items) == limit:
                more = True
                continue
            items.append(
                BatchItemPublic(
                    index=index,
                    status=status,
                    tx_hash=chunk.tx_hash if chunk.state != "planned" else None,
                    block_number=chunk.block_number if status == "landed" else None,
                )
            )
    return BatchPublic(
        batch_id=entry.id,
        operation=entry.operation,
        chain=entry.chain,
        state="done" if entry.state == "done" else ("running" if running else "stopped"),
        items_total=total,
        items_landed=landed,
        transactions=len(entry.chunks),
        progress=progress if running else None,
        items=items,
        next_cursor=encode_cursor({"after": items[-1].index}) if more and items else None,
    )
