"""The indexer follows rollbacks and reorganisations: a quorum-certified rollback of the permissioned
chain, anvil's evm_snapshot/evm_revert, and what it refuses (a reorganisation below its oldest block)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import OperationalError
from web3 import Web3
from web3.types import RPCEndpoint

from registry.chain.backend import connect
from registry.errors import ReorgTooDeepError, StaleCursorError
from registry.index import Database, Indexer, IndexFollower, queries
from registry.index.models import Block, Event, Intervention, ValidatorChange
from registry.settings import Settings
from tests.conftest import AnvilNode
from tests.index.conftest import Chain, catalogue_asset, deploy_cash, deploy_stock, genesis_registry
from tests.index.helpers import assert_equals_fresh_index, assert_matches_contract


def rollback(chain: Chain, to_block: int, *, exclude: list[Any] = (), reason: str = "test") -> Any:  # type: ignore[assignment]
    """Have a quorum of the permissioned chain's validators roll it back to ``to_block``."""
    desk = chain.handle.interventions()
    proposal = desk.propose_rollback(to_block, exclude_transactions=list(exclude), reason=reason)
    for validator in desk.signers_available()[: desk.threshold()]:
        proposal = desk.sign(proposal.id, validator)
    assert str(proposal.status) == "executed", proposal.outcome
    return proposal


def test_a_quorum_rollback_is_undone_and_reindexed(
    db: Database, permissioned: Chain, fresh_db: Callable[[], Database]
) -> None:
    chain = permissioned
    admin, a, b, c = chain.accounts[:4]
    cash, _ = deploy_cash(chain)
    stock, block = deploy_stock(chain, cash, kyc=True)
    asset = catalogue_asset(db, chain, stock, block, "stock", identity_registry=genesis_registry())
    chain.send(stock.functions.mint(a.address, 100), admin)
    chain.send(stock.functions.mint(b.address, 50), admin)
    fork = chain.w3.eth.block_number
    stolen = chain.send(stock.functions.transfer(c.address, 90), a)
    chain.send(stock.functions.transfer(c.address, 10), b)
    indexer = chain.indexer(db)
    indexer.sync()
    with db.read() as session:
        before = queries.cap_table(session, asset.asset_id, limit=1)
        assert before.entries[0].wallet == c.address
    assert before.next_cursor is not None

    proposal = rollback(chain, fork, exclude=[stolen["transactionHash"]], reason="stolen key")
    report = indexer.sync()

    assert [(r.fork_block, r.depth) for r in report.reorganisations] == [(fork, before.block.number - fork)]
    wallets = [a.address, b.address, c.address]
    assert_matches_contract(db, asset.asset_id, stock, wallets)
    assert stock.functions.balanceOf(c.address).call() == 10
    with db.read() as session:
        # The excluded transfer's event is gone; the replayed one is indexed in its new block.
        transfers = queries.asset_events(session, asset.asset_id, names=["Transfer"]).entries
        assert [(e.args["to"], e.args["value"]) for e in transfers][-1] == (c.address, "10")
        assert stolen["transactionHash"].to_0x_hex() not in {e.tx_hash for e in transfers}
        with pytest.raises(StaleCursorError, match="replaced by a rollback"):
            queries.cap_table(session, asset.asset_id, cursor=before.next_cursor)
        # The rollback itself is mirrored, with the validators' report.
        (mirrored,) = queries.interventions(session, chain.name)
        assert (mirrored.kind, mirrored.status, mirrored.reason) == ("rollback", "executed", "stolen key")
        assert mirrored.proposal_id == "0x" + bytes(proposal.id).hex()
        assert mirrored.outcome["summary"]["excluded"] == 1
        # Investors registered in genesis (no events) are read from the genesis state.
        page = queries.cap_table(session, asset.asset_id)
        assert all(e.investor is not None and e.investor.kyc_status == "verified" for e in page.entries)
    assert_equals_fresh_index(db, indexer, fresh_db())


def test_a_rollback_that_shortens_the_chain_is_followed(db: Database, permissioned: Chain) -> None:
    chain = permissioned
    admin, a = chain.accounts[:2]
    cash, block = deploy_cash(chain)
    asset = catalogue_asset(db, chain, cash, block, "cash")
    fork = chain.w3.eth.block_number
    minted = [chain.send(cash.functions.mint(a.address, n), admin)["transactionHash"] for n in (1, 2, 3)]
    indexer = chain.indexer(db)
    indexer.sync()
    # Excluding all three leaves nothing to replay: the new head is the fork block itself.
    rollback(chain, fork, exclude=minted)
    assert chain.w3.eth.block_number == fork
    report = indexer.sync()
    assert report.head_number == fork
    assert_matches_contract(db, asset.asset_id, cash, [a.address])
    with db.read() as session:
        assert session.scalar(select(func.max(Block.number))) == fork
        assert session.scalar(select(func.count()).select_from(Event).where(Event.name == "Transfer")) == 0


def test_the_follower_keeps_up_with_new_blocks_and_rollbacks(
    sqlite_db: Database, permissioned: Chain
) -> None:
    chain = permissioned
    admin, a = chain.accounts[:2]
    cash, block = deploy_cash(chain)
    asset = catalogue_asset(sqlite_db, chain, cash, block, "cash")
    follower = IndexFollower(chain.indexer(sqlite_db), chain.handle, interval=60).start()
    try:
        chain.send(cash.functions.mint(a.address, 4), admin)
        assert follower.wait_for(chain.w3.eth.block_number)
        fork = chain.w3.eth.block_number
        tx = chain.send(cash.functions.mint(a.address, 5), admin)
        assert follower.wait_for(chain.w3.eth.block_number)
        rollback(chain, fork, exclude=[tx["transactionHash"]])
        chain.send(cash.functions.mint(a.address, 6), admin)
        assert follower.wait_for(chain.w3.eth.block_number)
        assert follower.last_error is None
    finally:
        follower.stop()
    assert_matches_contract(sqlite_db, asset.asset_id, cash, [a.address])
    assert cash.functions.balanceOf(a.address).call() == 10


def test_a_reorganisation_below_the_oldest_block_is_refused(sqlite_db: Database, permissioned: Chain) -> None:
    chain = permissioned
    admin, a = chain.accounts[:2]
    cash, _ = deploy_cash(chain)
    fork = chain.w3.eth.block_number
    chain.send(cash.functions.mint(a.address, 1), admin)
    indexer = chain.indexer(sqlite_db)
    indexer.sync()
    with sqlite_db.write() as session:  # as if the index had pruned its old blocks
        session.execute(delete(Block).where(Block.number <= fork))
    rollback(chain, fork - 1)
    with pytest.raises(ReorgTooDeepError, match="oldest block the index holds"):
        indexer.sync()


# ---------------------------------------------------------------------------------------------- anvil


@pytest.fixture
def anvil_chain(anvil_node: AnvilNode, tmp_path: Path) -> Iterator[Chain]:
    """The module's anvil behind `connect`, sending from its unlocked accounts."""
    handle = connect("permissionless", Settings(data_dir=tmp_path / "data"), rpc_url=anvil_node.url)
    w3 = handle.w3
    accounts = [w3.eth.account.from_key(b"\x01" * 32)]  # unused: anvil signs for its own accounts
    made = Chain(handle=handle, w3=w3, accounts=accounts)
    yield made
    handle.close()


def _anvil(w3: Web3, method: str, *params: Any) -> Any:
    response = w3.provider.make_request(RPCEndpoint(method), list(params))
    assert "error" not in response, response
    return response["result"]


def test_anvil_evm_revert_is_a_reorganisation_the_index_follows(
    db: Database, anvil_chain: Chain, fresh_db: Callable[[], Database]
) -> None:
    w3 = anvil_chain.w3
    admin, a, b = (Web3.to_checksum_address(x) for x in w3.eth.accounts[:3])
    cash, receipt = _deploy_on_anvil(w3, admin)
    asset = catalogue_asset(db, anvil_chain, cash, receipt, "cash")
    _mined(w3, cash.functions.mint(a, 100), admin)
    snapshot = _anvil(w3, "evm_snapshot")
    fork = w3.eth.block_number
    _mined(w3, cash.functions.transfer(b, 60), a)
    _mined(w3, cash.functions.transfer(b, 10), a)
    indexer = Indexer.for_handle(db, anvil_chain.handle)
    indexer.sync()
    assert _anvil(w3, "evm_revert", snapshot) is True
    # A different history at the same heights: three new blocks replace the two dropped ones.
    for value in (1, 2, 3):
        _mined(w3, cash.functions.transfer(b, value), a)
    report = indexer.sync()
    assert [r.fork_block for r in report.reorganisations] == [fork]
    assert_matches_contract(db, asset.asset_id, cash, [a, b])
    assert cash.functions.balanceOf(b).call() == 6
    with db.read() as session:
        # An external node has no validators' desks: nothing to mirror.
        assert session.scalar(select(func.count()).select_from(Intervention)) == 0
    assert_equals_fresh_index(db, indexer, fresh_db())


def _deploy_on_anvil(w3: Web3, admin: str) -> tuple[Any, int]:
    from registry.deploy import deploy_with_receipt

    contract, receipt = deploy_with_receipt(w3, "CashToken", "Cash", "CASH", admin, sender=admin)
    return contract, int(receipt["blockNumber"])


def _mined(w3: Web3, call: Any, sender: str) -> Any:
    receipt = w3.eth.wait_for_transaction_receipt(call.transact({"from": sender}))
    assert receipt["status"] == 1
    return receipt


def test_validator_changes_and_freezes_are_mirrored_and_follow_a_rollback(
    db: Database, permissioned: Chain, fresh_db: Callable[[], Database]
) -> None:
    chain = permissioned
    a = chain.accounts[1]
    votes = chain.handle.validator_votes()
    desk = chain.handle.interventions()
    fork = chain.w3.eth.block_number
    validators = votes.current()
    change = votes.propose("remove", validators[0], reason="left the consortium")
    for validator in validators[1:]:
        change = votes.sign(change.id, validator)
    freeze = desk.propose_freeze(a.address, reason="phished")
    for validator in desk.signers_available()[: desk.threshold()]:
        freeze = desk.sign(freeze.id, validator)
    deploy_cash(chain)  # a transaction after the vote, which the rollback replays
    indexer = chain.indexer(db)
    indexer.sync()
    with db.read() as session:
        (mirrored,) = session.scalars(select(ValidatorChange)).all()
        assert (mirrored.action, mirrored.validator) == ("remove", validators[0])
        assert mirrored.block_number == fork + 1
        kinds = [(i.kind, i.status) for i in queries.interventions(session, chain.name)]
        assert kinds == [("freeze", "executed")]
    # A rollback below the vote: the replay enacts it again, in a new block the mirror follows.
    rollback(chain, fork)
    indexer.sync()
    with db.read() as session:
        (again,) = session.scalars(select(ValidatorChange)).all()
        assert again.block_hash == chain.w3.eth.get_block(again.block_number)["hash"].to_0x_hex()
        assert [i.kind for i in queries.interventions(session, chain.name)] == ["freeze", "rollback"]
    assert_equals_fresh_index(db, indexer, fresh_db())


def test_the_follower_outlives_a_failed_sync(sqlite_db: Database, permissioned: Chain) -> None:
    chain = permissioned
    admin, a = chain.accounts[:2]
    cash, block = deploy_cash(chain)
    catalogue_asset(sqlite_db, chain, cash, block, "cash")
    indexer = chain.indexer(sqlite_db)
    real_sync = indexer.sync
    failures: list[str] = []

    def flaky_sync(to_block: int | None = None) -> Any:
        if not failures:
            failures.append("database went away")
            raise OperationalError("SELECT 1", {}, Exception("database went away"))
        return real_sync(to_block)

    indexer.sync = flaky_sync  # type: ignore[method-assign]
    follower = IndexFollower(indexer, chain.handle, interval=60).start()
    try:
        chain.send(cash.functions.mint(a.address, 4), admin)
        assert follower.wait_for(chain.w3.eth.block_number)
    finally:
        follower.stop()
    assert failures == ["database went away"]
    assert follower.last_error is None


def test_the_mirror_follows_an_intervention_through_its_statuses_across_syncs(
    db: Database, permissioned: Chain
) -> None:
    # The indexer rewrites the mirror only when the desks changed since its last sync: a change must
    # still reach the index at the next sync, and a sync without one must keep the rows.
    chain = permissioned
    a = chain.accounts[1]
    desk = chain.handle.interventions()
    indexer = chain.indexer(db)

    def mirrored() -> list[tuple[str, str]]:
        with db.read() as session:
            return [(i.kind, i.status) for i in queries.interventions(session, chain.name)]

    indexer.sync()
    assert mirrored() == []
    freeze = desk.propose_freeze(a.address, reason="phished")
    indexer.sync()
    proposed = [("freeze", str(freeze.to_json()["status"]))]
    assert mirrored() == proposed
    for validator in desk.signers_available()[: desk.threshold()]:
        freeze = desk.sign(freeze.id, validator)
    executed = [("freeze", str(freeze.to_json()["status"]))]
    assert executed != proposed
    indexer.sync()
    assert mirrored() == executed
    indexer.sync()
    assert mirrored() == executed
