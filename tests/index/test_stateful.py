"""Stateful test: transfers, mints, burns, freezes, forced transfers, splits, recoveries, KYC updates,
dividends (declared, claimed, swept after the claim period, with the chain's clock moved) and
quorum-certified rollbacks on the embedded permissioned chain, in any order. After every step the index
equals the contracts (every balance, frozen amount, freeze flag, the supply, and each dividend's cash:
paid in = claimed + swept + still owed) and equals a fresh re-index of the chain into an empty database.

The example counts keep the whole test at a few seconds per database; the chain, the token and the
index are new for each example.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import delete
from web3.types import RPCEndpoint

from registry.index import Database, Indexer, queries
from registry.index.models import Asset, IdentityRegistry
from registry.settings import Settings
from tests.index.conftest import (
    FAR_FUTURE,
    Chain,
    catalogue_asset,
    deploy_cash,
    deploy_stock,
    genesis_registry,
    open_chain,
    second_wallet,
)
from tests.index.helpers import (
    assert_equals_fresh_index,
    assert_matches_contract,
    copy_catalogue,
    wipe_derived,
)

HOLDERS = 4
SPLITS = [(2, 1), (1, 2), (3, 1), (1, 3)]
CLAIM_PERIOD = 365 * 86_400


class IndexMachine(RuleBasedStateMachine):
    """One token on the permissioned chain, operated at random, with its index checked after each step."""

    url: str
    fresh_url: str
    workdir: Path

    def __init__(self) -> None:
        super().__init__()
        self.chain: Chain | None = None
        self.db: Database | None = None
        self.fresh: Database | None = None

    @initialize()
    def setup(self) -> None:
        settings_ = Settings(
            data_dir=self.workdir / "chain", dev_accounts=HOLDERS + 2, receipt_wait_seconds=0.2
        )
        self.chain = chain = open_chain("permissioned", settings_)
        self.db = Database.open(self.url)
        self.fresh = Database.open(self.fresh_url)
        for database in (self.db, self.fresh):
            wipe_derived(database)
            with database.write() as session:
                session.execute(delete(Asset))
                session.execute(delete(IdentityRegistry))
        self.admin = chain.accounts[0]
        self.holders = [account.address for account in chain.accounts[1 : HOLDERS + 1]]
        cash, _ = deploy_cash(chain)
        self.stock, block = deploy_stock(chain, cash, kyc=True, claim_period=CLAIM_PERIOD)
        self.deployed = block
        self.asset = catalogue_asset(
            self.db, chain, self.stock, block, "stock", identity_registry=genesis_registry()
        )
        copy_catalogue(self.db, self.fresh)
        # A second wallet of the first holder's investor, so that recoveries between its wallets are possible.
        self.spare = second_wallet(chain, self.holders[0], "stateful spare")
        self.registry = chain.w3.eth.contract(address=genesis_registry(), abi=_registry_abi())
        self.wallets = [*self.holders, self.spare.address]
        self.signers: dict[str, Any] = {account.address: account for account in chain.accounts}
        self.signers[self.spare.address] = self.spare
        for holder in self.holders:
            chain.send(self.stock.functions.mint(holder, 1_000), self.admin)
        chain.send(cash.functions.mint(self.admin.address, 10**15), self.admin)
        chain.send(cash.functions.approve(self.stock.address, 2**256 - 1), self.admin)
        self.indexer = Indexer.for_handle(self.db, chain.handle)

    def teardown(self) -> None:
        if self.chain is not None:
            self.chain.handle.close()
        for database in (self.db, self.fresh):
            if database is not None:
                database.close()

    # -- operations --------------------------------------------------------------------------------

    def _send(self, call: Any, sender: str) -> None:
        assert self.chain is not None
        self.chain.send(call, self.signers.get(sender, sender))

    @rule(source=st.integers(0, HOLDERS), dest=st.integers(0, HOLDERS), amount=st.integers(0, 700))
    def transfer(self, source: int, dest: int, amount: int) -> None:
        self._send(self.stock.functions.transfer(self.wallets[dest], amount), self.wallets[source])

    @rule(dest=st.integers(0, HOLDERS), amount=st.integers(1, 500))
    def mint(self, dest: int, amount: int) -> None:
        self._send(self.stock.functions.mint(self.wallets[dest], amount), self.admin.address)

    @rule(source=st.integers(0, HOLDERS), amount=st.integers(0, 400))
    def burn(self, source: int, amount: int) -> None:
        self._send(self.stock.functions.burn(self.wallets[source], amount), self.admin.address)

    @rule(source=st.integers(0, HOLDERS), dest=st.integers(0, HOLDERS), amount=st.integers(0, 900))
    def forced_transfer(self, source: int, dest: int, amount: int) -> None:
        call = self.stock.functions.forcedTransfer(self.wallets[source], self.wallets[dest], amount)
        self._send(call, self.admin.address)

    @rule(who=st.integers(0, HOLDERS), amount=st.integers(0, 1_500))
    def freeze_tokens(self, who: int, amount: int) -> None:
        self._send(self.stock.functions.setFrozenTokens(self.wallets[who], amount), self.admin.address)

    @rule(who=st.integers(0, HOLDERS), frozen=st.booleans())
    def freeze_account(self, who: int, frozen: bool) -> None:
        function = self.stock.functions.freezeAccount if frozen else self.stock.functions.unfreezeAccount
        self._send(function(self.wallets[who]), self.admin.address)

    @rule(ratio=st.sampled_from(SPLITS))
    def split(self, ratio: tuple[int, int]) -> None:
        self._send(self.stock.functions.split(*ratio), self.admin.address)

    @rule(forward=st.booleans())
    def recover(self, forward: bool) -> None:
        lost, replacement = (self.wallets[0], self.spare.address)[:: 1 if forward else -1]
        self._send(self.stock.functions.recoverWallet(lost, replacement), self.admin.address)

    @rule(who=st.integers(0, HOLDERS - 1), country=st.sampled_from([250, 276, 756]))
    def update_investor(self, who: int, country: int) -> None:
        assert self.chain is not None and self.chain.operator is not None
        investor = self.registry.functions.investorOf(self.holders[who]).call()
        self.chain.send(
            self.registry.functions.updateInvestor(investor, country, 1, FAR_FUTURE), self.chain.operator
        )

    def _travel(self, seconds: int) -> None:
        assert self.chain is not None
        w3 = self.chain.w3
        now = int(w3.eth.get_block("latest")["timestamp"])
        w3.manager.request_blocking(RPCEndpoint("evm_mine"), [now + seconds])

    def _dividend(self, which: int) -> int:
        return which % max(self._dividends(), 1)

    @rule(amount=st.integers(1, 10**6))
    def declare_dividend(self, amount: int) -> None:
        """Declare a dividend and move the clock past its record date, so that it can be claimed."""
        assert self.chain is not None
        record = int(self.chain.w3.eth.get_block("latest")["timestamp"]) + 5
        self._send(self.stock.functions.declareDividend(record, amount), self.admin.address)
        self._travel(10)

    def _dividends(self) -> int:
        return int(self.stock.functions.dividendCount().call()) if self.chain is not None else 0

    def _sweepable(self) -> list[int]:
        count = self._dividends()
        return [i for i in range(count) if self.stock.functions.sweepableDividend(i).call()]

    @precondition(lambda self: self._dividends() > 0)
    @rule()
    def end_claim_periods(self) -> None:
        self._travel(CLAIM_PERIOD + 10)

    @precondition(lambda self: self._dividends() > 0)
    @rule(who=st.integers(0, HOLDERS), which=st.integers(0, 3))
    def claim_dividend(self, who: int, which: int) -> None:
        self._send(self.stock.functions.claimDividend(self._dividend(which)), self.wallets[who])

    @precondition(lambda self: bool(self._sweepable()))
    @rule(which=st.integers(0, 3))
    def sweep_dividend(self, which: int) -> None:
        sweepable = self._sweepable()
        self._send(self.stock.functions.sweepDividend(sweepable[which % len(sweepable)]), self.admin.address)

    @precondition(lambda self: self.chain is not None and self.chain.w3.eth.block_number > self.deployed + 6)
    @rule(depth=st.integers(1, 4), exclude=st.booleans())
    def rollback(self, depth: int, exclude: bool) -> None:
        assert self.chain is not None
        w3 = self.chain.w3
        to_block = w3.eth.block_number - depth
        dropped = [
            tx
            for n in range(to_block + 1, w3.eth.block_number + 1)
            for tx in w3.eth.get_block(n)["transactions"]
        ]
        desk = self.chain.handle.interventions()
        proposal = desk.propose_rollback(
            to_block, exclude_transactions=dropped[-1:] if exclude else [], reason="test"
        )
        for validator in desk.signers_available()[: desk.threshold()]:
            proposal = desk.sign(proposal.id, validator)
        assert str(proposal.status) == "executed", proposal.outcome

    # -- the check ---------------------------------------------------------------------------------

    @invariant()
    def index_equals_contracts_and_a_fresh_reindex(self) -> None:
        if self.chain is None or self.db is None or self.fresh is None:
            return
        self.indexer.sync()
        assert_matches_contract(self.db, self.asset.asset_id, self.stock, self.wallets)
        with self.db.read() as session:
            indexed = queries.dividends(session, self.asset.asset_id)
        assert len(indexed) == self.stock.functions.dividendCount().call()
        for dividend in indexed:
            owed = self.stock.functions.dividend(dividend.dividend_id).call()[3]
            assert dividend.amount == dividend.claimed_amount + dividend.swept_amount + owed
        wipe_derived(self.fresh)
        assert_equals_fresh_index(self.db, self.indexer, self.fresh, copy=False)


def _registry_abi() -> list[dict[str, Any]]:
    from registry.artifacts import load_artifact

    return load_artifact("IdentityRegistry").abi


def _run(url: str, fresh_url: str, workdir: Path, examples: int, steps: int) -> None:
    IndexMachine.url = url
    IndexMachine.fresh_url = fresh_url
    IndexMachine.workdir = workdir
    test = IndexMachine.TestCase
    test.settings = settings(
        max_examples=examples,
        stateful_step_count=steps,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        deadline=None,
    )
    test("runTest").runTest()


def test_index_follows_random_operations_and_rollbacks_on_sqlite(tmp_path: Path) -> None:
    examples = int(os.environ.get("REGISTRY_TEST_INDEX_EXAMPLES", "8"))
    _run(
        f"sqlite:///{tmp_path / 'index.sqlite3'}",
        f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
        tmp_path,
        examples,
        10,
    )


def test_index_follows_random_operations_and_rollbacks_on_postgresql(
    postgres_url: str, tmp_path: Path
) -> None:
    _run(postgres_url, f"sqlite:///{tmp_path / 'fresh.sqlite3'}", tmp_path, 3, 10)
