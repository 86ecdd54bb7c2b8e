"""Sweeps and redemptions in the index: what `sweepCoupon`, `sweepDividend` and `sweepRedemption` returned,
and a bond's call, redemption funding and redemptions, read back from the index, as of a block, and after
a rollback that drops a sweep (the index still equals a fresh re-index)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from web3 import Web3

from registry.index import Database, queries
from tests.contracts.helpers import Clock
from tests.index.conftest import (
    Chain,
    catalogue_asset,
    constructor_args,
    deploy_bond,
    deploy_cash,
)
from tests.index.helpers import assert_equals_fresh_index
from tests.index.test_reorgs import rollback

YEAR = 365 * 86_400


def test_sweeps_and_the_redemption_are_indexed_and_follow_a_rollback(
    db: Database, permissioned: Chain, fresh_db: Callable[[], Database]
) -> None:
    chain = permissioned
    admin, a, b = chain.accounts[:3]
    clock = Clock(chain.w3)
    cash, _ = deploy_cash(chain)
    chain.send(cash.functions.mint(admin.address, 10**15), admin)
    now = clock.now()
    terms: dict[str, Any] = {
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
        "maturityDate": now + 10 * YEAR,
        "dayCountBasis": 1,
        "callPrice": 1_100,
        "callableFrom": now,
        "claimPeriod": YEAR,
    }
    bond, bond_block = deploy_bond(chain, terms)
    stock_args = {
        "name": "Shares",
        "symbol": "SHR",
        "currency": cash.address,
        "admin": admin.address,
        "identityRegistry": Web3.to_checksum_address("0x" + "00" * 20),
        "kyc": False,
        "claimPeriod": YEAR,
    }
    stock, stock_block = chain.deploy("StockToken", *constructor_args("StockToken", stock_args))
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
    assert chain.send(bond.functions.fundCoupon(0), admin)["status"] == 1
    chain.send(bond.functions.claimCoupon(0), a)
    chain.send(stock.functions.claimDividend(0), b)
    assert chain.send(bond.functions.callBond(), admin)["status"] == 1
    assert chain.send(bond.functions.fundRedemption(), admin)["status"] == 1
    assert chain.send(bond.functions.redeem(30), a)["status"] == 1
    clock.advance(YEAR + 1)
    fork = chain.w3.eth.block_number
    assert chain.send(stock.functions.sweepDividend(0), admin)["status"] == 1
    assert chain.send(bond.functions.sweepRedemption(), admin)["status"] == 1
    # Last of its sender's transactions, so that the rollback below can leave it out and replay the others.
    coupon_sweep = chain.send(bond.functions.sweepCoupon(0), admin)
    assert coupon_sweep["status"] == 1
    indexer = chain.indexer(db)
    indexer.sync()

    coupon = bond.functions.couponPerBond().call()
    with db.read() as session:
        (period,) = queries.coupon_periods(session, bonds.asset_id)
        (before,) = queries.coupon_periods(session, bonds.asset_id, block=fork)
        (dividend,) = queries.dividends(session, shares.asset_id)
        redemption = queries.redemption(session, bonds.asset_id)
        unswept = queries.redemption(session, bonds.asset_id, block=fork)
    # What was funded is what was claimed plus what was swept; nothing is left in the contracts.
    assert (period.funded_amount, period.claimed_amount, period.swept_amount) == (
        40 * coupon,
        30 * coupon,
        10 * coupon,
    )
    assert before.swept_amount == 0
    assert (dividend.amount, dividend.claimed_amount, dividend.swept_amount) == (4_000, 1_000, 3_000)
    assert bond.functions.couponPeriod(0).call()[4] == 0
    assert redemption is not None and unswept is not None
    assert (redemption.call_price, redemption.price, redemption.funded) == (1_100, 1_100, True)
    assert redemption.called_at == bond.functions.calledAt().call()
    assert (redemption.funded_amount, redemption.redeemed_bonds, redemption.paid_amount) == (
        40 * 1_100,
        30,
        30 * 1_100,
    )
    assert (redemption.redemptions, redemption.swept_amount, unswept.swept_amount) == (1, 10 * 1_100, 0)
    assert bond.functions.redemption().call()[2] == 0

    # Undo the coupon's sweep: the index forgets it, keeps the replayed ones, and equals a fresh re-index.
    proposal = rollback(
        chain, fork, exclude=[coupon_sweep["transactionHash"]], reason="undo the coupon sweep"
    )
    assert proposal.outcome["summary"]["replayed"] == 2
    indexer.sync()
    with db.read() as session:
        (period,) = queries.coupon_periods(session, bonds.asset_id)
        (dividend,) = queries.dividends(session, shares.asset_id)
        redemption = queries.redemption(session, bonds.asset_id)
    assert period.swept_amount == 0
    assert period.funded_amount - period.claimed_amount == bond.functions.couponPeriod(0).call()[4]
    assert dividend.swept_amount == 3_000
    assert redemption is not None and redemption.swept_amount == 10 * 1_100
    assert_equals_fresh_index(db, indexer, fresh_db())
