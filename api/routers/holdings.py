"""Holdings and cap tables, read from the index: an investor's positions, a wallet's investor and
positions, an asset's holders as of a block or a date with each holder's investor and KYC state."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from eth_utils.address import to_checksum_address
from fastapi import APIRouter, Path, Query

from api.deps import PageDep, PrincipalDep, RegistryDep
from api.errors import ApiProblemError
from api.routers.investors import Chain, InvestorId, investor_public, load_investor
from api.schemas.common import ChainName, format_amount
from api.schemas.holdings import (
    BlockRefPublic,
    CapTablePublic,
    HolderPublic,
    HoldingsPublic,
    PositionPublic,
    WalletPublic,
)
from api.scope import own_investor_ids, require_investor_scope, timestamp
from api.security import EVERY_ROLE, allow
from registry.context import check_address
from registry.errors import BlockNotIndexedError, IndexBehindError
from registry.index import queries
from registry.runtime import Registry

TAG = {
    "name": "holdings",
    "description": "Who holds what, read from the index: an investor's positions through its wallets, a "
    "wallet's investor and positions, and an asset's cap table now, as of a block or as of a date, each "
    "holder with its investor and KYC state. Every read follows the chain, rollbacks included.",
}

router = APIRouter(tags=["holdings"])

AssetId = Annotated[
    str, Path(max_length=64, description="The asset's id.", examples=["bond-5f0c2a9d11e3b7a40c21"])
]


def _decimals(registry: Registry, asset_ids: set[str]) -> dict[str, int]:
    return {asset_id: registry.asset(asset_id).decimals for asset_id in asset_ids}


@router.get(
    "/investors/{chain}/{investor_id}/holdings",
    dependencies=[allow(*EVERY_ROLE)],
    summary="An investor's holdings",
    description="What an investor holds now through its current wallets, in every catalogued asset, by "
    "asset id then wallet (amounts in each asset's units). An investor key reads only its own (403); an "
    "unknown investor is 404.",
)
def investor_holdings(
    chain: Chain, investor_id: InvestorId, registry: RegistryDep, caller: PrincipalDep, page: PageDep
) -> HoldingsPublic:
    """An investor's holdings."""
    record = load_investor(registry, chain, investor_id)
    require_investor_scope(registry, caller, chain, investor_id)
    try:
        with registry.db.read() as session:
            found = queries.investor_holdings(
                session,
                chain=chain,
                registry=record.registry,
                investor_id=investor_id,
                limit=page.limit,
                cursor=page.cursor,
            )
    except BlockNotIndexedError:
        raise IndexBehindError(
            f"the index of the {chain} chain does not hold investor {investor_id} yet; retry shortly"
        ) from None
    decimals = _decimals(registry, {position.asset_id for position in found.entries})
    return HoldingsPublic(
        chain=chain,
        investor_id=investor_id,
        wallets=found.wallets,
        items=[PositionPublic.of(position, decimals[position.asset_id]) for position in found.entries],
        next_cursor=found.next_cursor,
    )


@router.get(
    "/wallets/{chain}/{address}",
    dependencies=[allow(*EVERY_ROLE)],
    summary="A wallet",
    description="The investor a wallet belongs to in the chain's identity registry (null: none) and its "
    "positive positions in the chain's assets. An investor key reads only its own wallets and those of its "
    "own investor (403).",
)
def get_wallet(
    chain: Annotated[ChainName, Path(description="The chain.")],
    address: Annotated[
        str,
        Path(
            max_length=42,
            description="The wallet (0x and 40 hex digits).",
            examples=["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"],
        ),
    ],
    registry: RegistryDep,
    caller: PrincipalDep,
) -> WalletPublic:
    """A wallet."""
    wallet = check_address(address, "address", allow_zero=True)
    has_registry = registry.registries.address(chain) is not None
    investor_id = registry.investors.investor_of(chain, wallet) if has_registry else 0
    if caller.role == "investor" and not (
        wallet in caller.key.addresses
        or (investor_id and investor_id in own_investor_ids(registry, caller, chain))
    ):
        raise ApiProblemError(
            "scope-forbidden",
            f"this investor key reads only its own wallets and its investor's; {wallet} is not one of them",
        )
    with registry.db.read() as session:
        positions = queries.wallet_holdings(session, chain=chain, wallet=wallet)
    decimals = _decimals(registry, {position.asset_id for position in positions})
    investor = (
        investor_public(registry, registry.investors.investor(chain, investor_id)) if investor_id else None
    )
    return WalletPublic(
        chain=chain,
        address=to_checksum_address(wallet),
        investor=investor,
        holdings=[PositionPublic.of(position, decimals[position.asset_id]) for position in positions],
    )


@router.get(
    "/assets/{asset_id}/cap-table",
    dependencies=[allow(*EVERY_ROLE)],
    summary="An asset's cap table",
    description="The holders of an asset with a positive balance, largest first, as of a block "
    "(`?block=`), as of a time (`?at=`, ISO 8601: the last block at or before it) or now; each holder with "
    "its balance, frozen part, share of the supply, and the investor it belongs to with its KYC state at "
    "that block. Pages keep the block of the first page; a block the index does not hold is 404.",
)
def cap_table(
    asset_id: AssetId,
    registry: RegistryDep,
    page: PageDep,
    block: Annotated[int | None, Query(ge=0, le=2**62, description="As of this block number.")] = None,
    at: Annotated[
        datetime | None, Query(description="As of this time (ISO 8601; UTC without an offset).")
    ] = None,
) -> CapTablePublic:
    """An asset's cap table."""
    asset = registry.asset(asset_id)
    when = timestamp(at, "at") if at is not None else None
    with registry.db.read() as session:
        found = queries.cap_table(
            session, asset.asset_id, block=block, at=when, limit=page.limit, cursor=page.cursor
        )
    return CapTablePublic(
        asset_id=asset.asset_id,
        block=BlockRefPublic.of(found.block),
        total_supply=format_amount(found.total_supply, asset.decimals),
        paused=found.paused,
        items=[HolderPublic.of(entry, asset.decimals) for entry in found.entries],
        next_cursor=found.next_cursor,
    )
