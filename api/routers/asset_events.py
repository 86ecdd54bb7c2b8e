"""An asset's token events, as the index holds them (oldest first, paginated)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import PageDep, RegistryDep
from api.schemas.asset_events import EventPublic, EventsPublic
from api.security import EVERY_ROLE, allow
from registry.errors import InvalidInputError
from registry.index import queries

TAG = {
    "name": "asset-events",
    "description": "Every log of an asset's token contract that the index holds, decoded by its ABI, with "
    "block, transaction hash and log index: transfers, mints, freezes, coupons, dividends, splits, "
    "redemptions. A rollback of the chain removes the events of the blocks it dropped.",
}

router = APIRouter(prefix="/assets/{asset_id}/events", tags=["asset-events"])

AssetId = Annotated[
    str, Path(max_length=64, description="The asset's id.", examples=["bond-5f0c2a9d11e3b7a40c21"])
]
MAX_NAMES = 20


@router.get(
    "",
    dependencies=[allow(*EVERY_ROLE)],
    summary="An asset's events",
    description="The asset's indexed token events, oldest first (by block, then log index), optionally only "
    "some events (`event=Transfer&event=CouponClaimed`) and within a block range. Integers wider than 53 "
    "bits are decimal strings; amounts are the contract's (raw token units, cash units for payments).",
)
def list_events(
    *,
    asset_id: AssetId,
    registry: RegistryDep,
    page: PageDep,
    event: Annotated[
        list[str] | None,
        Query(description="Only these events (repeat the parameter for several).", examples=[["Transfer"]]),
    ] = None,
    from_block: Annotated[int | None, Query(ge=0, description="From this block on (included).")] = None,
    to_block: Annotated[int | None, Query(ge=0, description="Up to this block (included).")] = None,
) -> EventsPublic:
    """An asset's events."""
    names = sorted(set(event or []))
    if len(names) > MAX_NAMES or any(not 0 < len(name) <= 100 for name in names):
        raise InvalidInputError("event", f"name at most {MAX_NAMES} events, each of 1 to 100 characters")
    if from_block is not None and to_block is not None and from_block > to_block:
        raise InvalidInputError("to_block", f"to_block {to_block} is before from_block {from_block}")
    asset = registry.asset(asset_id)
    with registry.db.read() as session:
        found = queries.asset_events(
            session,
            asset.asset_id,
            names=names or None,
            from_block=from_block,
            to_block=to_block,
            limit=page.limit,
            cursor=page.cursor,
        )
    return EventsPublic(
        items=[
            EventPublic(
                chain=record.chain,  # type: ignore[arg-type]
                block_number=record.block_number,
                block_hash=record.block_hash,
                tx_hash=record.tx_hash,
                log_index=record.log_index,
                address=record.address,
                event=record.name,
                signature=record.signature,
                args=record.args,
            )
            for record in found.entries
        ],
        next_cursor=found.next_cursor,
    )
