"""The indexer on an embedded chain: balances equal the contracts', restarts, crashes, late contracts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from web3 import Web3
from web3.types import RPCEndpoint, RPCResponse

from registry.chain.rpc.provider import EmbeddedProvider
from registry.errors import ChainMismatchError, IndexerNodeError, ProjectionError
from registry.index import Database, Indexer, queries
from registry.index.models import Block, Event, Holding, IndexerState, Split
from tests.index.conftest import (
    Chain,
    catalogue_asset,
    deploy_cash,
    deploy_stock,
    genesis_registry,
    second_wallet,
)
from tests.index.helpers import assert_equals_fresh_index, assert_matches_contract, dump


def _stock_setup(chain: Chain, db: Database):
    cash, _ = deploy_cash(chain)
    stock, block = deploy_stock(chain, cash, kyc=False)
    asset = catalogue_asset(db, chain, stock, block, "stock")
    return cash, stock, asset


def test_balances_follow_transfers_mints_burns_freezes_and_forced_transfers(
    db: Database, permissionless: Chain, fresh_db: Callable[[], Database]
) -> None:
    chain = permissionless
    admin, a, b, c = chain.accounts[:4]
    _, stock, asset = _stock_setup(chain, db)
    chain.send(stock.functions.mint(a.address, 1_000), admin)
    chain.send(stock.functions.mint(b.address, 500), admin)
    chain.send(stock.functions.transfer(c.address, 200), a)
    chain.send(stock.functions.setFrozenTokens(a.address, 700), admin)
    # The forced transfer takes 300 of a's 800: 100 unfrozen, then 200 of the 700 frozen.
    chain.send(stock.functions.forcedTransfer(a.address, b.address, 300), admin)
    chain.send(stock.functions.burn(b.address, 100), admin)
    chain.send(stock.functions.freezeAccount(c.address), admin)
    indexer = chain.indexer(db)
    report = indexer.sync()
    assert report.blocks == chain.w3.eth.block_number + 1
    wallets = [a.address, b.address, c.address]
    assert_matches_contract(db, asset.asset_id, stock, wallets)
    assert stock.functions.getFrozenTokens(a.address).call() == 500
    assert_equals_fresh_index(db, indexer, fresh_db())


def test_splits_scale_balances_without_transfers_and_recovery_moves_fractions(
    db: Database, permissioned: Chain, fresh_db: Callable[[], Database]
) -> None:
    chain = permissioned  # a recovery stays within one investor: a kyc-mode token
    admin, a, b, c = chain.accounts[:4]
    d = second_wallet(chain, a.address, "recovery")
    cash, _ = deploy_cash(chain)
    stock, block = deploy_stock(chain, cash, kyc=True)
    asset = catalogue_asset(db, chain, stock, block, "stock", identity_registry=genesis_registry())
    chain.send(stock.functions.mint(a.address, 7), admin)
    chain.send(stock.functions.mint(b.address, 5), admin)
    chain.send(stock.functions.setFrozenTokens(a.address, 3), admin)
    indexer = chain.indexer(db)
    indexer.sync()
    # A 1-for-2 reverse split leaves a with 3.5 shares: 3 in balanceOf, the half share in raw units.
    assert chain.send(stock.functions.split(1, 2), admin)["status"] == 1
    chain.send(stock.functions.transfer(c.address, 1), b)
    indexer.sync()
    wallets = [a.address, b.address, c.address, d.address]
    assert_matches_contract(db, asset.asset_id, stock, wallets)
    # A forced transfer into the frozen part after the reverse split: the frozen amount has a fraction too.
    chain.send(stock.functions.forcedTransfer(a.address, c.address, 2), admin)
    # Recovering a moves its whole raw balance (the half share included) and its frozen amount to d.
    chain.send(stock.functions.recoverWallet(a.address, d.address), admin)
    assert stock.functions.rawBalanceOf(a.address).call() == 0
    chain.send(stock.functions.split(4, 1), admin)
    indexer.sync()
    assert_matches_contract(db, asset.asset_id, stock, wallets)
    assert stock.functions.balanceOf(d.address).call() == 6  # 1.5 shares, then 4-for-1
    with db.read() as session:
        page = queries.cap_table(session, asset.asset_id)
        assert sum(e.share for e in page.entries) == 1
        splits = session.scalars(select(Split).order_by(Split.block_number)).all()
        assert [(s.numerator, s.denominator) for s in splits] == [(1, 2), (4, 1)]
        assert splits[1].scale_after * 4 == splits[1].scale_before
    assert_equals_fresh_index(db, indexer, fresh_db())


def test_the_cap_table_at_a_past_block_is_the_contracts_balance_then(
    db: Database, permissionless: Chain
) -> None:
    chain = permissionless
    admin, a, b = chain.accounts[:3]
    _, stock, asset = _stock_setup(chain, db)
    chain.send(stock.functions.mint(a.address, 10), admin)
    before = chain.w3.eth.block_number
    chain.send(stock.functions.transfer(b.address, 4), a)
    chain.send(stock.functions.split(3, 1), admin)
    chain.indexer(db).sync()
    with db.read() as session:
        then = queries.cap_table(session, asset.asset_id, block=before)
        now = queries.cap_table(session, asset.asset_id)
    assert [(e.wallet, e.balance) for e in then.entries] == [(a.address, 10)]
    assert [(e.wallet, e.balance) for e in now.entries] == [(b.address, 12), (a.address, 18)][::-1]
    for entry in then.entries:
        assert entry.balance == stock.functions.balanceOf(entry.wallet).call(block_identifier=before)


def test_sync_is_idempotent_and_resumes_after_a_restart(db: Database, permissionless: Chain) -> None:
    chain = permissionless
    admin, a = chain.accounts[:2]
    cash, block = deploy_cash(chain)
    asset = catalogue_asset(db, chain, cash, block, "cash")
    chain.send(cash.functions.mint(a.address, 5), admin)
    first = chain.indexer(db).sync()
    again = chain.indexer(db).sync()
    assert (again.blocks, again.events) == (0, 0)
    assert again.head_number == first.head_number
    chain.send(cash.functions.mint(a.address, 6), admin)
    # A new process (a new indexer over the same database) starts at the next block.
    resumed = Indexer(db, chain.name, chain.w3).sync()
    assert resumed.blocks == 1
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Block)) == chain.w3.eth.block_number + 1
        assert session.scalar(select(func.count()).select_from(Event).where(Event.name == "Transfer")) == 2
        assert queries.cap_table(session, asset.asset_id).entries[0].balance == 11


def test_a_crash_in_a_step_writes_nothing_and_the_next_sync_completes(
    db: Database, permissionless: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = permissionless
    admin, a = chain.accounts[:2]
    cash, block = deploy_cash(chain)
    asset = catalogue_asset(db, chain, cash, block, "cash")
    chain.send(cash.functions.mint(a.address, 5), admin)
    indexer = chain.indexer(db)

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("killed half way through a step")

    with monkeypatch.context() as patch:
        patch.setattr("registry.index.indexer.VersionedRows.flush", crash)
        with pytest.raises(RuntimeError, match="killed half way"):
            indexer.sync()
    with db.read() as session:
        assert session.get(IndexerState, chain.name) is None
        assert session.scalar(select(func.count()).select_from(Block)) == 0
        assert session.scalar(select(func.count()).select_from(Event)) == 0
    indexer.sync()
    assert_matches_contract(db, asset.asset_id, cash, [a.address])


def test_a_contract_catalogued_late_is_caught_up_from_its_deployment(
    db: Database, permissionless: Chain, fresh_db: Callable[[], Database]
) -> None:
    chain = permissionless
    admin, a, b = chain.accounts[:3]
    indexer = chain.indexer(db)
    cash, block = deploy_cash(chain)
    chain.send(cash.functions.mint(a.address, 9), admin)
    indexer.sync()  # the indexer passes the deployment before the asset is catalogued
    chain.send(cash.functions.transfer(b.address, 4), a)
    asset = catalogue_asset(db, chain, cash, block, "cash")
    indexer.sync()
    assert_matches_contract(db, asset.asset_id, cash, [a.address, b.address])
    assert_equals_fresh_index(db, indexer, fresh_db())


def test_a_contract_catalogued_after_its_deployment_block_is_a_clear_error(
    db: Database, permissionless: Chain
) -> None:
    chain = permissionless
    admin, a, b = chain.accounts[:3]
    cash, _ = deploy_cash(chain)
    chain.send(cash.functions.mint(a.address, 9), admin)
    chain.send(cash.functions.transfer(b.address, 4), a)
    catalogue_asset(db, chain, cash, chain.w3.eth.block_number, "cash")
    with pytest.raises(ProjectionError, match="deployed_block after its real deployment"):
        chain.indexer(db).sync()
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Holding)) == 0


def test_another_chain_under_the_same_name_is_refused(
    sqlite_db: Database, permissionless: Chain, chain_settings
) -> None:
    from tests.index.conftest import open_chain

    chain = permissionless
    chain.indexer(sqlite_db).sync()
    other = open_chain(
        "permissionless", chain_settings.model_copy(update={"permissionless_chain_id": 771_077})
    )
    try:
        with pytest.raises(ChainMismatchError, match="another chain"):
            other.indexer(sqlite_db).sync()
    finally:
        other.handle.close()
    # The index of the first chain is untouched.
    assert len(dump(sqlite_db, "permissionless")["blocks"]) == chain.w3.eth.block_number + 1


class _CappedLogs(EmbeddedProvider):
    """A node that refuses eth_getLogs over more than ``span`` blocks, as public nodes cap it."""

    span = 3
    refused = 0

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        if method == "eth_getLogs" and "fromBlock" in params[0]:
            width = int(params[0]["toBlock"], 16) - int(params[0]["fromBlock"], 16) + 1
            if width > self.span:
                type(self).refused += 1
                return {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "error": {"code": -32005, "message": "block range too wide"},
                }
        return super().make_request(method, params)


def test_a_node_that_caps_log_ranges_is_asked_for_smaller_ones(db: Database, permissionless: Chain) -> None:
    chain = permissionless
    admin, a = chain.accounts[:2]
    cash, block = deploy_cash(chain)
    asset = catalogue_asset(db, chain, cash, block, "cash")
    for amount in range(1, 9):
        chain.send(cash.functions.mint(a.address, amount), admin)
    assert chain.handle.embedded is not None
    capped = Web3(_CappedLogs(chain.handle.embedded))
    report = Indexer(db, chain.name, capped).sync()
    assert _CappedLogs.refused > 0
    assert report.head_number == chain.w3.eth.block_number
    assert_matches_contract(db, asset.asset_id, cash, [a.address])


def test_an_asset_catalogued_as_the_wrong_kind_is_named(db: Database, permissionless: Chain) -> None:
    chain = permissionless
    cash, block = deploy_cash(chain)
    catalogue_asset(db, chain, cash, block, "stock")  # a cash token is no StockToken
    with pytest.raises(IndexerNodeError, match=r"catalogued as a stock.*is it a StockToken"):
        chain.indexer(db).sync()


class _WrongLogHashes(EmbeddedProvider):
    """A node whose logs never belong to the blocks it reports (what a load balancer mixing two
    diverged nodes would answer)."""

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        response = super().make_request(method, params)
        if method == "eth_getLogs":
            for log in response.get("result") or []:
                log["blockHash"] = "0x" + "ee" * 32
        return response


def test_a_node_that_keeps_answering_inconsistently_is_an_error_not_a_hang(
    sqlite_db: Database, permissionless: Chain
) -> None:
    chain = permissionless
    admin, a = chain.accounts[:2]
    cash, block = deploy_cash(chain)
    catalogue_asset(sqlite_db, chain, cash, block, "cash")
    chain.send(cash.functions.mint(a.address, 1), admin)
    assert chain.handle.embedded is not None
    broken = Web3(_WrongLogHashes(chain.handle.embedded))
    with pytest.raises(IndexerNodeError, match="kept answering inconsistently"):
        Indexer(sqlite_db, chain.name, broken).sync()
    with sqlite_db.read() as session:
        assert session.get(IndexerState, chain.name) is None


def test_syncing_to_a_block_past_the_head_stops_at_the_head(
    sqlite_db: Database, permissionless: Chain
) -> None:
    chain = permissionless
    report = chain.indexer(sqlite_db).sync(to_block=chain.w3.eth.block_number + 5)
    assert report.head_number == chain.w3.eth.block_number
