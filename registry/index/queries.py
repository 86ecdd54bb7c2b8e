"""Queries of the index: cap tables (now, at a block, at a date), an investor's holdings, an asset's
events, coupon periods, dividends, interventions.

Every list is paginated with an opaque cursor (``next_cursor`` of a page; None on the last page).
Pages are stable: a cap table is pinned to one block (the cursor carries its number and hash, so
"now" stays the block of the first page while the chain moves on), events and holdings are ordered
by a unique key the cursor continues after, so rows added meanwhile never shift a page. A cursor
whose block a rollback replaced raises `StaleCursorError` instead of mixing two histories.

Amounts come in token units (what ``balanceOf`` returns at that block) and raw units; a holder's
share is its raw balance over the raw supply (what dividends pay on), as a `Decimal`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Context, Decimal
from typing import Any, TypeVar

from eth_utils.address import is_address, to_checksum_address
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from registry.errors import BlockNotIndexedError, InvalidCursorError, InvalidInputError, StaleCursorError
from registry.index.catalogue import AssetRecord, get_asset
from registry.index.models import (
    FOREVER,
    AssetState,
    Block,
    CouponPeriod,
    Dividend,
    Event,
    Holding,
    IndexerState,
    Intervention,
    Investor,
    Wallet,
)

_V = TypeVar("_V", CouponPeriod, Dividend)

MAX_PAGE = 1_000
"""The largest page any query returns."""

_SHARE_CONTEXT = Context(prec=40)


@dataclass(frozen=True)
class BlockRef:
    """A block the index holds."""

    number: int
    hash: str
    timestamp: int


@dataclass(frozen=True)
class InvestorRef:
    """Who holds a wallet, in the identity registry the asset checks, at the page's block."""

    investor_id: int
    country: int
    attributes: int
    kyc_expiry: int
    kyc_status: str
    """``verified``, ``expired`` or ``revoked`` at the block's time."""


@dataclass(frozen=True)
class CapTableEntry:
    """One holder of an asset at a block."""

    wallet: str
    balance: int
    """Token units: the contract's ``balanceOf`` at the block."""
    balance_raw: int
    frozen: int
    """Token units: the contract's ``getFrozenTokens`` at the block."""
    account_frozen: bool
    share: Decimal
    """Raw balance over raw supply (0 to 1)."""
    investor: InvestorRef | None
    """None when the wallet belongs to no investor of the asset's identity registry (or it has none)."""


@dataclass(frozen=True)
class CapTablePage:
    """A page of an asset's cap table, largest holders first."""

    asset: AssetRecord
    block: BlockRef
    total_supply: int
    total_supply_raw: int
    scale: int
    """Raw units per token unit at the block."""
    paused: bool
    entries: list[CapTableEntry]
    next_cursor: str | None


@dataclass(frozen=True)
class Position:
    """An investor's holding in one asset, through one wallet, as far as the asset's chain is indexed."""

    asset_id: str
    chain: str
    symbol: str
    wallet: str
    balance: int
    balance_raw: int
    frozen: int
    account_frozen: bool


@dataclass(frozen=True)
class InvestorHoldingsPage:
    """A page of an investor's holdings across assets and chains."""

    chain: str
    registry: str
    investor_id: int
    wallets: list[str]
    entries: list[Position]
    next_cursor: str | None


@dataclass(frozen=True)
class EventRecord:
    """A stored event."""

    chain: str
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int
    address: str
    name: str | None
    signature: str | None
    args: dict[str, Any]


@dataclass(frozen=True)
class EventsPage:
    """A page of an asset's events, oldest first."""

    asset_id: str
    entries: list[EventRecord]
    next_cursor: str | None


# ---------------------------------------------------------------------------------------------- blocks


def index_head(session: Session, chain: str) -> BlockRef:
    """The last block the index of ``chain`` holds.

    Raises:
        BlockNotIndexedError: nothing of that chain is indexed yet.
    """
    row = session.scalars(
        select(Block)
        .join(
            IndexerState, and_(IndexerState.chain == Block.chain, IndexerState.block_number == Block.number)
        )
        .where(Block.chain == chain)
    ).first()
    if row is None:
        raise BlockNotIndexedError(f"nothing of the {chain} chain is indexed yet; run its indexer first")
    return BlockRef(row.number, row.hash, row.timestamp)


def block_at(session: Session, chain: str, when: datetime | int) -> BlockRef:
    """The last indexed block of ``chain`` whose timestamp is at or before ``when`` (an aware datetime or
    a Unix timestamp): the state "as of" that moment.

    Raises:
        InvalidInputError: ``when`` is a naive datetime.
        BlockNotIndexedError: it is before the first indexed block.
    """
    if isinstance(when, datetime):
        if when.tzinfo is None:
            raise InvalidInputError("at", "give a timezone-aware datetime (e.g. datetime(..., tzinfo=UTC))")
        timestamp = int(when.timestamp())
    else:
        timestamp = int(when)
    head = index_head(session, chain)
    row = session.scalars(
        select(Block)
        .where(Block.chain == chain, Block.timestamp <= timestamp, Block.number <= head.number)
        .order_by(Block.timestamp.desc(), Block.number.desc())
        .limit(1)
    ).first()
    if row is None:
        raise BlockNotIndexedError(
            f"{_show(when)} is before the first block of the {chain} chain the index holds"
        )
    return BlockRef(row.number, row.hash, row.timestamp)


def _show(when: datetime | int) -> str:
    return when.isoformat() if isinstance(when, datetime) else f"timestamp {when}"


def _block(session: Session, chain: str, number: int) -> BlockRef:
    row = session.get(Block, (chain, number))
    if row is None:
        raise BlockNotIndexedError(f"block {number} of the {chain} chain is not in the index")
    return BlockRef(row.number, row.hash, row.timestamp)


def _resolve(session: Session, chain: str, block: int | None, at: datetime | int | None) -> BlockRef:
    if block is not None and at is not None:
        raise InvalidInputError("at", "give a block or a date, not both")
    head = index_head(session, chain)
    if at is not None:
        return block_at(session, chain, at)
    if block is None:
        return head
    if isinstance(block, bool) or not isinstance(block, int) or block < 0:
        raise InvalidInputError("block", f"expected a block number (an integer >= 0); got {block!r}")
    if block > head.number:
        raise BlockNotIndexedError(
            f"block {block} of the {chain} chain is not indexed yet: the index is at block {head.number}"
        )
    return _block(session, chain, block)


# ---------------------------------------------------------------------------------------------- cursors


def _encode_cursor(query: str, subject: str, position: Sequence[Any], block: BlockRef | None = None) -> str:
    payload: dict[str, Any] = {"v": 1, "q": query, "s": subject, "p": list(position)}
    if block is not None:
        payload["b"] = [block.number, block.hash]
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


MAX_CURSOR = 2_000
"""Longer texts are not cursors of this index (they are refused before decoding)."""


def _decode_cursor(cursor: str, query: str, subject: str) -> dict[str, Any]:
    if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR:
        raise InvalidCursorError("that is not a cursor this index gave out; pass the next_cursor of a page")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(payload, dict) or payload.get("v") != 1 or not isinstance(payload.get("p"), list):
            raise ValueError("not a cursor of this index")
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursorError(
            f"{cursor[:40]!r} is not a cursor this index gave out ({exc}); pass the next_cursor of a "
            "page as it was"
        ) from exc
    if payload.get("q") != query or payload.get("s") != subject:
        raise InvalidCursorError(
            f"this cursor continues the {payload.get('q')} of {payload.get('s')}, not the {query} of "
            f"{subject}"
        )
    return payload


def _pinned_block(session: Session, chain: str, payload: dict[str, Any]) -> BlockRef:
    try:
        number, block_hash = int(payload["b"][0]), str(payload["b"][1])
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise InvalidCursorError(
            "the cursor names no block; pass the next_cursor of a page as it was"
        ) from exc
    row = session.get(Block, (chain, number))
    if row is None or row.hash != block_hash:
        raise StaleCursorError(
            f"the cursor's block {number} ({block_hash}) of the {chain} chain was replaced by a rollback or "
            "reorganisation; ask for the first page again"
        )
    return BlockRef(row.number, row.hash, row.timestamp)


def _limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise InvalidInputError("limit", f"a page holds 1 to {MAX_PAGE} entries; got {limit!r}")
    return limit


# ---------------------------------------------------------------------------------------------- cap table


def _at(model: type[Any], block: int) -> Any:
    return and_(model.block_from <= block, model.block_to > block)


def asset_state_at(session: Session, asset_id: str, block: int) -> tuple[int, int, bool]:
    """An asset's scale, raw supply and pause flag at ``block`` (its starting values before any event)."""
    row = session.scalars(
        select(AssetState).where(AssetState.asset_id == asset_id, _at(AssetState, block))
    ).first()
    if row is None:
        return 1, 0, False
    return row.scale, row.supply_raw, row.paused


def cap_table(
    session: Session,
    asset_id: str,
    *,
    block: int | None = None,
    at: datetime | int | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> CapTablePage:
    """The holders of ``asset_id`` with a positive raw balance, largest first (ties by wallet, descending),
    as of ``block``, as of the date ``at``, or now (the index's head); a ``cursor`` continues a page at
    its block.

    Raises:
        UnknownAssetError, InvalidInputError, InvalidCursorError, BlockNotIndexedError, StaleCursorError.
    """
    asset = get_asset(session, asset_id)
    _limit(limit)
    after: tuple[int, str] | None = None
    if cursor is not None:
        payload = _decode_cursor(cursor, "cap-table", asset_id)
        ref = _pinned_block(session, asset.chain, payload)
        try:
            after = (int(payload["p"][0]), str(payload["p"][1]))
        except (IndexError, ValueError) as exc:
            raise InvalidCursorError("the cursor's position is damaged; pass next_cursor as it was") from exc
    else:
        ref = _resolve(session, asset.chain, block, at)
    scale, supply_raw, paused = asset_state_at(session, asset_id, ref.number)
    holders = _holders_at(session, asset_id, ref.number, after, limit + 1)
    page, more = holders[:limit], len(holders) > limit
    investors = _investors_of(session, asset, [h.wallet for h in page], ref)
    entries = [
        CapTableEntry(
            wallet=h.wallet,
            balance=h.balance_raw // scale,
            balance_raw=h.balance_raw,
            frozen=h.frozen_raw // scale,
            account_frozen=h.account_frozen,
            share=_SHARE_CONTEXT.divide(Decimal(h.balance_raw), Decimal(supply_raw))
            if supply_raw
            else Decimal(0),
            investor=investors.get(h.wallet),
        )
        for h in page
    ]
    last = page[-1] if page else None
    return CapTablePage(
        asset=asset,
        block=ref,
        total_supply=supply_raw // scale,
        total_supply_raw=supply_raw,
        scale=scale,
        paused=paused,
        entries=entries,
        next_cursor=(
            _encode_cursor("cap-table", asset_id, [str(last.balance_raw), last.wallet], ref)
            if more and last is not None
            else None
        ),
    )


def _holders_at(
    session: Session, asset_id: str, block: int, after: tuple[int, str] | None, count: int
) -> list[Holding]:
    """Up to ``count`` positive holdings at ``block`` after ``after``, largest first (ties: wallet, desc).

    One backward scan of the (asset, balance, wallet, block range) index, which holds the range test too:
    it reads about ``count`` times the versions per holder, whatever the block.
    """
    query = select(Holding).where(Holding.asset_id == asset_id, _at(Holding, block), Holding.balance_raw > 0)
    if after is not None:
        query = query.where(
            or_(
                Holding.balance_raw < after[0],
                and_(Holding.balance_raw == after[0], Holding.wallet < after[1]),
            )
        )
    return list(
        session.scalars(query.order_by(Holding.balance_raw.desc(), Holding.wallet.desc()).limit(count))
    )


def _investors_of(
    session: Session, asset: AssetRecord, wallets: Sequence[str], ref: BlockRef
) -> dict[str, InvestorRef]:
    if asset.identity_registry is None or not wallets:
        return {}
    links = {
        row.wallet: row.investor_id
        for row in session.scalars(
            select(Wallet).where(
                Wallet.chain == asset.chain,
                Wallet.registry_address == asset.identity_registry,
                Wallet.wallet.in_(list(wallets)),
                _at(Wallet, ref.number),
            )
        )
    }
    if not links:
        return {}
    people = {
        row.investor_id: row
        for row in session.scalars(
            select(Investor).where(
                Investor.chain == asset.chain,
                Investor.registry_address == asset.identity_registry,
                Investor.investor_id.in_(sorted(set(links.values()))),
                _at(Investor, ref.number),
            )
        )
    }
    found: dict[str, InvestorRef] = {}
    for wallet, investor_id in links.items():
        person = people.get(investor_id)
        if person is not None:
            found[wallet] = InvestorRef(
                investor_id=investor_id,
                country=person.country,
                attributes=person.attributes,
                kyc_expiry=person.kyc_expiry,
                kyc_status=kyc_status(person.revoked, person.kyc_expiry, ref.timestamp),
            )
    return found


def kyc_status(revoked: bool, kyc_expiry: int, timestamp: int) -> str:
    """``revoked``, ``expired`` or ``verified``, as the identity registry's ``isVerified`` decides at
    ``timestamp`` (valid while the time is before the expiry)."""
    if revoked:
        return "revoked"
    return "verified" if timestamp < kyc_expiry else "expired"


# ---------------------------------------------------------------------------------------------- investors


def investor_holdings(
    session: Session,
    *,
    chain: str,
    registry: str,
    investor_id: int,
    limit: int = 100,
    cursor: str | None = None,
) -> InvestorHoldingsPage:
    """What investor ``investor_id`` of the identity registry ``registry`` on ``chain`` holds now, through
    its current wallets, in every catalogued asset of every chain (the same address is the same key on
    both chains), by asset id then wallet.

    Raises:
        InvalidInputError: ``registry`` is not an address, or ``limit`` is out of range.
        InvalidCursorError: the cursor is not one of this query.
        LookupError (`BlockNotIndexedError`): the registry has no such investor in the index.
    """
    if not isinstance(registry, str) or not is_address(registry):
        raise InvalidInputError("registry", f"expected the identity registry's address; got {registry!r}")
    registry = to_checksum_address(registry)
    _limit(limit)
    subject = f"{chain}:{registry}:{investor_id}"
    after: tuple[str, str] | None = None
    if cursor is not None:
        payload = _decode_cursor(cursor, "investor-holdings", subject)
        try:
            after = (str(payload["p"][0]), str(payload["p"][1]))
        except IndexError as exc:
            raise InvalidCursorError("the cursor's position is damaged; pass next_cursor as it was") from exc
    known = session.scalars(
        select(Investor.id).where(
            Investor.chain == chain,
            Investor.registry_address == registry,
            Investor.investor_id == investor_id,
            Investor.block_to == FOREVER,
        )
    ).first()
    if known is None:
        raise BlockNotIndexedError(
            f"the index knows no investor {investor_id} in the identity registry {registry} on the "
            f"{chain} chain"
        )
    wallets = sorted(
        session.scalars(
            select(Wallet.wallet).where(
                Wallet.chain == chain,
                Wallet.registry_address == registry,
                Wallet.investor_id == investor_id,
                Wallet.block_to == FOREVER,
            )
        )
    )
    query = select(Holding).where(
        Holding.wallet.in_(wallets), Holding.block_to == FOREVER, Holding.balance_raw > 0
    )
    if after is not None:
        query = query.where(
            or_(Holding.asset_id > after[0], and_(Holding.asset_id == after[0], Holding.wallet > after[1]))
        )
    rows = list(session.scalars(query.order_by(Holding.asset_id, Holding.wallet).limit(limit + 1)))
    page, more = rows[:limit], len(rows) > limit
    assets = {asset_id: get_asset(session, asset_id) for asset_id in {h.asset_id for h in page}}
    scales = {
        row.asset_id: row.scale
        for row in session.scalars(
            select(AssetState).where(AssetState.asset_id.in_(list(assets)), AssetState.block_to == FOREVER)
        )
    }
    entries = [
        Position(
            asset_id=h.asset_id,
            chain=assets[h.asset_id].chain,
            symbol=assets[h.asset_id].symbol,
            wallet=h.wallet,
            balance=h.balance_raw // scales.get(h.asset_id, 1),
            balance_raw=h.balance_raw,
            frozen=h.frozen_raw // scales.get(h.asset_id, 1),
            account_frozen=h.account_frozen,
        )
        for h in page
    ]
    last = page[-1] if page else None
    return InvestorHoldingsPage(
        chain=chain,
        registry=registry,
        investor_id=investor_id,
        wallets=wallets,
        entries=entries,
        next_cursor=(
            _encode_cursor("investor-holdings", subject, [last.asset_id, last.wallet])
            if more and last
            else None
        ),
    )


def wallet_holdings(session: Session, *, chain: str, wallet: str) -> list[Position]:
    """What ``wallet`` holds now in every catalogued asset of ``chain``, by asset id (positive balances).

    Raises:
        InvalidInputError: ``wallet`` is not an address.
    """
    if not isinstance(wallet, str) or not is_address(wallet):
        raise InvalidInputError("wallet", f"expected an address; got {wallet!r}")
    address = to_checksum_address(wallet)
    rows = list(
        session.scalars(
            select(Holding)
            .where(Holding.wallet == address, Holding.block_to == FOREVER, Holding.balance_raw > 0)
            .order_by(Holding.asset_id)
        )
    )
    assets = {asset_id: get_asset(session, asset_id) for asset_id in {h.asset_id for h in rows}}
    scales = _scales(session, list(assets))
    return [
        Position(
            asset_id=h.asset_id,
            chain=assets[h.asset_id].chain,
            symbol=assets[h.asset_id].symbol,
            wallet=h.wallet,
            balance=h.balance_raw // scales.get(h.asset_id, 1),
            balance_raw=h.balance_raw,
            frozen=h.frozen_raw // scales.get(h.asset_id, 1),
            account_frozen=h.account_frozen,
        )
        for h in rows
        if assets[h.asset_id].chain == chain
    ]


@dataclass(frozen=True)
class FreezesPage:
    """A page of an asset's frozen accounts (whole or in part) at the index's head, by wallet."""

    asset: AssetRecord
    block: BlockRef
    entries: list[Position]
    next_cursor: str | None


def freezes(session: Session, asset_id: str, *, limit: int = 100, cursor: str | None = None) -> FreezesPage:
    """The wallets of ``asset_id`` frozen whole or holding frozen tokens, now (the index's head), by wallet.

    Raises:
        UnknownAssetError, InvalidInputError, InvalidCursorError, BlockNotIndexedError.
    """
    asset = get_asset(session, asset_id)
    _limit(limit)
    query = select(Holding).where(
        Holding.asset_id == asset_id,
        Holding.block_to == FOREVER,
        or_(Holding.account_frozen.is_(True), Holding.frozen_raw > 0),
    )
    if cursor is not None:
        payload = _decode_cursor(cursor, "freezes", asset_id)
        try:
            query = query.where(Holding.wallet > str(payload["p"][0]))
        except IndexError as exc:
            raise InvalidCursorError("the cursor's position is damaged; pass next_cursor as it was") from exc
    head = index_head(session, asset.chain)
    rows = list(session.scalars(query.order_by(Holding.wallet).limit(limit + 1)))
    page, more = rows[:limit], len(rows) > limit
    scale = _scales(session, [asset_id]).get(asset_id, 1)
    entries = [
        Position(
            asset_id=asset_id,
            chain=asset.chain,
            symbol=asset.symbol,
            wallet=h.wallet,
            balance=h.balance_raw // scale,
            balance_raw=h.balance_raw,
            frozen=h.frozen_raw // scale,
            account_frozen=h.account_frozen,
        )
        for h in page
    ]
    return FreezesPage(
        asset=asset,
        block=head,
        entries=entries,
        next_cursor=_encode_cursor("freezes", asset_id, [page[-1].wallet]) if more and page else None,
    )


def _scales(session: Session, asset_ids: Sequence[str]) -> dict[str, int]:
    return {
        row.asset_id: row.scale
        for row in session.scalars(
            select(AssetState).where(AssetState.asset_id.in_(list(asset_ids)), AssetState.block_to == FOREVER)
        )
    }


# ---------------------------------------------------------------------------------------------- events


def asset_events(
    session: Session,
    asset_id: str,
    *,
    names: Sequence[str] | None = None,
    from_block: int | None = None,
    to_block: int | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> EventsPage:
    """The events of ``asset_id`` (only ``names`` when given, within the block range when given), oldest
    first.

    Raises:
        UnknownAssetError, InvalidInputError, InvalidCursorError.
    """
    asset = get_asset(session, asset_id)
    _limit(limit)
    query = select(Event).where(Event.asset_id == asset.asset_id)
    if names:
        query = query.where(Event.name.in_(list(names)))
    if from_block is not None:
        query = query.where(Event.block_number >= from_block)
    if to_block is not None:
        query = query.where(Event.block_number <= to_block)
    if cursor is not None:
        subject = f"{asset_id}:{','.join(sorted(names or []))}:{from_block}:{to_block}"
        payload = _decode_cursor(cursor, "asset-events", subject)
        try:
            number, index = int(payload["p"][0]), int(payload["p"][1])
        except (IndexError, ValueError) as exc:
            raise InvalidCursorError("the cursor's position is damaged; pass next_cursor as it was") from exc
        query = query.where(
            or_(Event.block_number > number, and_(Event.block_number == number, Event.log_index > index))
        )
    rows = list(session.scalars(query.order_by(Event.block_number, Event.log_index).limit(limit + 1)))
    page, more = rows[:limit], len(rows) > limit
    subject = f"{asset_id}:{','.join(sorted(names or []))}:{from_block}:{to_block}"
    last = page[-1] if page else None
    return EventsPage(
        asset_id=asset_id,
        entries=[
            EventRecord(
                chain=row.chain,
                block_number=row.block_number,
                block_hash=row.block_hash,
                tx_hash=row.tx_hash,
                log_index=row.log_index,
                address=row.address,
                name=row.name,
                signature=row.signature,
                args=dict(row.args),
            )
            for row in page
        ],
        next_cursor=(
            _encode_cursor("asset-events", subject, [last.block_number, last.log_index])
            if more and last
            else None
        ),
    )


# ---------------------------------------------------------------------------------------------- distributions


def coupon_periods(session: Session, asset_id: str, *, block: int | None = None) -> list[CouponPeriod]:
    """A bond's coupon periods as of ``block`` (default: the index's head), by period id."""
    return _versions_at(session, CouponPeriod, asset_id, block, CouponPeriod.period_id)


def dividends(session: Session, asset_id: str, *, block: int | None = None) -> list[Dividend]:
    """A stock's dividends as of ``block`` (default: the index's head), by dividend id."""
    return _versions_at(session, Dividend, asset_id, block, Dividend.dividend_id)


def _versions_at(session: Session, model: type[_V], asset_id: str, block: int | None, order: Any) -> list[_V]:
    asset = get_asset(session, asset_id)
    ref = _resolve(session, asset.chain, block, None)
    query = select(model).where(model.asset_id == asset_id, _at(model, ref.number))
    return list(session.scalars(query.order_by(order)))


def interventions(session: Session, chain: str) -> list[Intervention]:
    """The intervention proposals of ``chain``'s validators, in the order they were made (empty for a
    chain without validators' desks: the permissionless chain, or any external node)."""
    return list(
        session.scalars(
            select(Intervention).where(Intervention.chain == chain).order_by(Intervention.sequence)
        )
    )
