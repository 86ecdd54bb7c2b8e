"""Queries: cap tables now / at a block / at a date, stable cursors, an investor's holdings across chains,
an asset's events, coupon periods and dividends."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from web3 import Web3

from registry.errors import BlockNotIndexedError, InvalidCursorError, InvalidInputError
from registry.index import Database, queries
from registry.index.queries import kyc_status
from tests.contracts.helpers import Clock
from tests.index.conftest import (
    Chain,
    catalogue_asset,
    deploy_bond,
    deploy_cash,
    deploy_stock,
    genesis_registry,
)


def _pages(fetch: Any, limit: int) -> list[list[Any]]:
    pages, cursor = [], None
    while True:
        page = fetch(limit=limit, cursor=cursor)
        pages.append(page.entries)
        cursor = page.next_cursor
        if cursor is None:
            return pages


def test_cap_table_pages_stay_at_their_block_while_the_chain_moves(
    db: Database, permissionless: Chain
) -> None:
    chain = permissionless
    admin, *holders = chain.accounts
    cash, block = deploy_cash(chain)
    asset = catalogue_asset(db, chain, cash, block, "cash")
    amounts = [5, 9, 9, 9, 2, 7, 1]  # ties are ordered by wallet, descending
    for holder, amount in zip(holders, amounts, strict=True):
        chain.send(cash.functions.mint(holder.address, amount), admin)
    indexer = chain.indexer(db)
    indexer.sync()
    with db.read() as session:
        first = queries.cap_table(session, asset.asset_id, limit=3)
        whole = queries.cap_table(session, asset.asset_id, limit=1000)
    assert [e.balance for e in whole.entries] == sorted(amounts, reverse=True)
    assert [e.wallet for e in whole.entries[:3]] == sorted(
        (e.wallet for e in whole.entries[:3]), reverse=True
    )
    # The chain moves on: balances change and a holder leaves before the next pages are read.
    chain.send(cash.functions.transfer(admin.address, 9), holders[1])
    chain.send(cash.functions.mint(holders[0].address, 100), admin)
    indexer.sync()
    rest: list[queries.CapTableEntry] = []
    cursor = first.next_cursor
    with db.read() as session:
        while cursor is not None:
            page = queries.cap_table(session, asset.asset_id, limit=3, cursor=cursor)
            assert page.block == first.block
            rest += page.entries
            cursor = page.next_cursor
        now = queries.cap_table(session, asset.asset_id, limit=1000)
    assert first.entries + rest == whole.entries
    assert now.block.number > first.block.number
    assert now.entries[0].balance == 105
    assert sum(e.share for e in now.entries) == 1


def test_cap_table_at_a_date_and_the_blocks_it_refuses(db: Database, permissionless: Chain) -> None:
    chain = permissionless
    admin, a = chain.accounts[:2]
    clock = Clock(chain.w3)
    cash, block = deploy_cash(chain)
    asset = catalogue_asset(db, chain, cash, block, "cash")
    start = clock.now()
    clock.travel_to(start + 1_000)
    chain.send(cash.functions.mint(a.address, 3), admin)  # lands after start + 1000
    clock.travel_to(start + 5_000)
    chain.send(cash.functions.mint(a.address, 4), admin)
    chain.indexer(db).sync()
    with db.read() as session:
        at = datetime.fromtimestamp(start + 3_000, tz=UTC)
        assert [e.balance for e in queries.cap_table(session, asset.asset_id, at=at).entries] == [3]
        assert [e.balance for e in queries.cap_table(session, asset.asset_id, at=start + 1_000).entries] == []
        assert [e.balance for e in queries.cap_table(session, asset.asset_id, at=start + 10**6).entries] == [
            7
        ]
        with pytest.raises(BlockNotIndexedError, match="before the first block"):
            queries.cap_table(session, asset.asset_id, at=0)
        with pytest.raises(InvalidInputError, match="timezone-aware") as naive:
            queries.cap_table(session, asset.asset_id, at=datetime(2030, 1, 1))
        assert naive.value.field == "at"
        head = queries.index_head(session, chain.name).number
        with pytest.raises(BlockNotIndexedError, match=f"the index is at block {head}"):
            queries.cap_table(session, asset.asset_id, block=head + 1)
        with pytest.raises(InvalidInputError, match="not both"):
            queries.cap_table(session, asset.asset_id, block=1, at=start)


def test_bad_cursors_and_limits_are_refused_with_the_field(db: Database, permissionless: Chain) -> None:
    chain = permissionless
    admin, a, b = chain.accounts[:3]
    cash, block = deploy_cash(chain)
    other, other_block = deploy_cash(chain)
    asset = catalogue_asset(db, chain, cash, block, "cash")
    second = catalogue_asset(db, chain, other, other_block, "cash", symbol="OTH")
    chain.send(cash.functions.mint(a.address, 1), admin)
    chain.send(cash.functions.mint(b.address, 2), admin)
    chain.indexer(db).sync()
    with db.read() as session:
        cursor = queries.cap_table(session, asset.asset_id, limit=1).next_cursor
        assert cursor is not None
        with pytest.raises(InvalidCursorError, match="not the cap-table of") as caught:
            queries.cap_table(session, second.asset_id, cursor=cursor)
        assert caught.value.field == "cursor"
        with pytest.raises(InvalidCursorError, match="not a cursor this index gave out"):
            queries.cap_table(session, asset.asset_id, cursor="not-a-cursor")
        with pytest.raises(InvalidCursorError, match="not a cursor this index gave out"):
            queries.cap_table(session, asset.asset_id, cursor=cursor * 100)
        with pytest.raises(InvalidCursorError):
            queries.asset_events(session, asset.asset_id, cursor=cursor)
        for limit in (0, 1001):
            with pytest.raises(InvalidInputError, match="1 to 1000") as limited:
                queries.cap_table(session, asset.asset_id, limit=limit)
            assert limited.value.field == "limit"


def test_events_are_paged_oldest_first_and_filtered_by_name(db: Database, permissionless: Chain) -> None:
    chain = permissionless
    admin, a = chain.accounts[:2]
    cash, block = deploy_cash(chain)
    asset = catalogue_asset(db, chain, cash, block, "cash")
    for amount in (1, 2, 3):
        chain.send(cash.functions.mint(a.address, amount), admin)
    chain.send(cash.functions.approve(admin.address, 10), a)
    chain.indexer(db).sync()
    with db.read() as session:
        everything = [
            e
            for page in _pages(lambda **kw: queries.asset_events(session, asset.asset_id, **kw), 2)
            for e in page
        ]
        transfers = [
            e
            for page in _pages(
                lambda **kw: queries.asset_events(session, asset.asset_id, names=["Transfer"], **kw), 2
            )
            for e in page
        ]
        cursor = queries.asset_events(session, asset.asset_id, names=["Transfer"], limit=1).next_cursor
        assert cursor is not None
        with pytest.raises(InvalidCursorError):
            queries.asset_events(session, asset.asset_id, cursor=cursor)
    positions = [(e.block_number, e.log_index) for e in everything]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert [e.name for e in everything][-1] == "Approval"
    assert {e.name for e in everything} >= {"RoleGranted", "Transfer", "Approval"}
    assert [e.args["value"] for e in transfers] == ["1", "2", "3"]


def test_an_investors_holdings_across_assets_and_chains(
    db: Database, permissioned: Chain, permissionless: Chain
) -> None:
    admin = permissioned.accounts[0]
    holder = permissioned.accounts[1]
    cash, _ = deploy_cash(permissioned)
    stock, block = deploy_stock(permissioned, cash, kyc=True)
    shares = catalogue_asset(db, permissioned, stock, block, "stock", identity_registry=genesis_registry())
    permissioned.send(stock.functions.mint(holder.address, 40), admin)
    # The same address holds an open-mode cash token on the other chain.
    other_cash, other_block = deploy_cash(permissionless)
    dollars = catalogue_asset(db, permissionless, other_cash, other_block, "cash")
    permissionless.send(other_cash.functions.mint(holder.address, 7), permissionless.accounts[0])
    permissioned.indexer(db).sync()
    permissionless.indexer(db).sync()
    registry = permissioned.w3.eth.contract(
        address=Web3.to_checksum_address(genesis_registry()),
        abi=[
            {
                "type": "function",
                "name": "investorOf",
                "stateMutability": "view",
                "inputs": [{"name": "wallet", "type": "address"}],
                "outputs": [{"name": "", "type": "uint32"}],
            }
        ],
    )
    investor_id = registry.functions.investorOf(holder.address).call()
    with db.read() as session:
        pages = _pages(
            lambda **kw: queries.investor_holdings(
                session, chain="permissioned", registry=genesis_registry(), investor_id=investor_id, **kw
            ),
            1,
        )
        cap = queries.cap_table(session, shares.asset_id)
        with pytest.raises(BlockNotIndexedError, match="knows no investor 999"):
            queries.investor_holdings(
                session, chain="permissioned", registry=genesis_registry(), investor_id=999
            )
    held = sorted((p.chain, p.asset_id, p.balance) for page in pages for p in page)
    assert held == sorted([("permissioned", shares.asset_id, 40), ("permissionless", dollars.asset_id, 7)])
    (entry,) = cap.entries
    assert entry.investor is not None
    assert (entry.investor.investor_id, entry.investor.country, entry.investor.kyc_status) == (
        investor_id,
        756,
        "verified",
    )


def test_kyc_status_follows_the_registrys_rule() -> None:
    assert kyc_status(False, 100, 99) == "verified"
    assert kyc_status(False, 100, 100) == "expired"
    assert kyc_status(True, 100, 0) == "revoked"


def test_coupon_periods_and_dividends_with_what_was_funded_and_claimed(
    db: Database, permissionless: Chain
) -> None:
    chain = permissionless
    admin, a, b = chain.accounts[:3]
    clock = Clock(chain.w3)
    cash, _ = deploy_cash(chain)
    chain.send(cash.functions.mint(admin.address, 10**15), admin)
    now = clock.now()
    terms = {
        "name": "Bond",
        "symbol": "BND",
        "isin": "XS0000000001",
        "currency": cash.address,
        "denomination": 1_000,
        "issueVolume": 1_000_000,
        "couponRate": 500,
        "couponType": 1,
        "couponFrequency": 2,
        "issueDate": now,
        "maturityDate": now + 10**7,
        "dayCountBasis": 1,
        "callPrice": 0,
        "callableFrom": 0,
    }
    bond, bond_block = deploy_bond(chain, terms)
    stock, stock_block = deploy_stock(chain, cash, kyc=False)
    bonds = catalogue_asset(db, chain, bond, bond_block, "bond")
    shares = catalogue_asset(db, chain, stock, stock_block, "stock")
    for token in (bond, stock):
        chain.send(cash.functions.approve(token.address, 2**256 - 1), admin)
        chain.send(token.functions.mint(a.address, 30), admin)
        chain.send(token.functions.mint(b.address, 10), admin)
    record = clock.now() + 1_000
    chain.send(bond.functions.scheduleCouponPeriod(record), admin)
    chain.send(stock.functions.declareDividend(record, 4_000), admin)
    clock.travel_to(record + 1)
    before_funding = chain.w3.eth.block_number
    funded = chain.send(bond.functions.fundCoupon(0), admin)
    assert funded["status"] == 1
    chain.send(bond.functions.claimCoupon(0), a)
    chain.send(stock.functions.claimDividend(0), b)
    chain.indexer(db).sync()
    with db.read() as session:
        (period,) = queries.coupon_periods(session, bonds.asset_id)
        (earlier,) = queries.coupon_periods(session, bonds.asset_id, block=before_funding)
        (dividend,) = queries.dividends(session, shares.asset_id)
    coupon = bond.functions.couponPerBond().call()
    assert (period.record_date, period.coupon_per_bond, period.funded) == (record, coupon, True)
    assert period.funded_amount == 40 * coupon
    assert (period.claimed_amount, period.claims) == (30 * coupon, 1)
    assert (earlier.funded, earlier.funded_amount, earlier.claims) == (False, 0, 0)
    assert (dividend.amount, dividend.claimed_amount, dividend.claims) == (4_000, 1_000, 1)
    assert cash.functions.balanceOf(b.address).call() == 1_000
