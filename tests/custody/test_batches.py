"""Batches: pipelined sending, progress, item-by-item outcomes when a batch fails half way, chunking."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from eth_account import Account
from web3 import Web3

from registry.custody import BatchEntry, PreparedTransaction, plan_chunks
from registry.custody.batches import BatchOutcome
from registry.errors import (
    BatchIncompleteError,
    InvalidInputError,
    NoSigningKeyError,
    SubmissionRejectedError,
    TransactionRevertedError,
)
from registry.settings import Settings

from .conftest import Target, embedded_target


def _record_order(target: Target, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Note each broadcast and each wait of the target's sender, in order."""
    events: list[str] = []
    broadcast, wait = target.sender.broadcast, target.sender.wait

    def noted_broadcast(tx: PreparedTransaction, **kwargs: Any) -> Any:
        events.append("broadcast")
        return broadcast(tx, **kwargs)

    def noted_wait(pending: Any, **kwargs: Any) -> Any:
        events.append("wait")
        return wait(pending, **kwargs)

    monkeypatch.setattr(target.sender, "broadcast", noted_broadcast)
    monkeypatch.setattr(target.sender, "wait", noted_wait)
    return events


def test_a_batch_is_sent_whole_before_any_receipt_is_awaited(
    target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = target.accounts[:2]
    first = target.chain_nonce(alice.address)
    events = _record_order(target, monkeypatch)
    progress: list[tuple[int, int]] = []
    outcome = target.sender.send_many(
        [target.transfer(alice, bob.address, value) for value in range(1, 13)],
        progress=lambda done, total: progress.append((done, total)),
    )
    assert outcome.ok
    assert events == ["broadcast"] * 12 + ["wait"] * 12
    assert [result.outcome.nonce for result in outcome.landed if result.outcome] == list(
        range(first, first + 12)
    )
    assert progress == [(done, 12) for done in range(1, 13)]
    assert outcome.items("landed") == list(range(12))


def test_at_most_max_in_flight_are_unconfirmed(target: Target, monkeypatch: pytest.MonkeyPatch) -> None:
    alice, bob = target.accounts[:2]
    events = _record_order(target, monkeypatch)
    outcome = target.sender.send_many(
        [target.transfer(alice, bob.address) for _ in range(7)], max_in_flight=3
    )
    assert outcome.ok
    unconfirmed = peak = 0
    for event in events:
        unconfirmed += 1 if event == "broadcast" else -1
        peak = max(peak, unconfirmed)
    assert peak == 3


def test_a_batch_that_fails_half_way_says_what_landed_what_reverted_and_what_was_never_sent(
    target: Target,
) -> None:
    admin, stranger = target.accounts[:2]
    cash = target.deploy("CashToken", "Cash", "CSH", admin.address)
    txs = [target.call(cash, "mint", stranger.address, 1, source=admin) for _ in range(3)]
    txs.append(target.call(cash, "mint", stranger.address, 1, source=stranger))  # not a minter
    txs += [target.call(cash, "mint", stranger.address, 1, source=admin) for _ in range(2)]
    outcome = target.sender.send_many(txs)
    assert not outcome.ok
    assert [result.status for result in outcome.results] == ["landed"] * 3 + [
        "reverted",
        "not_sent",
        "not_sent",
    ]
    reverted = outcome.reverted[0]
    assert isinstance(reverted.error, TransactionRevertedError)
    assert (
        reverted.error.error is not None and reverted.error.error.name == "AccessControlUnauthorizedAccount"
    )
    assert reverted.sent is False
    assert cash.functions.balanceOf(stranger.address).call() == 3
    summary = outcome.summary()
    assert "3 landed (items 0-2)" in summary
    assert (
        "1 reverted (items 3): transaction 3: " in summary and "AccessControlUnauthorizedAccount" in summary
    )
    assert "2 were not sent (items 4-5)" in summary
    with pytest.raises(BatchIncompleteError) as caught:
        outcome.raise_for_failure()
    assert caught.value.outcome is outcome


def test_a_revert_on_chain_in_a_pipelined_batch_is_pinned_to_its_transaction(target: Target) -> None:
    admin, stranger = target.accounts[:2]
    cash = target.deploy("CashToken", "Cash", "CSH", admin.address)
    txs = [target.call(cash, "mint", stranger.address, 1, source=admin, gas=120_000) for _ in range(5)]
    txs[2] = target.call(cash, "mint", stranger.address, 1, source=stranger, gas=120_000)
    outcome = target.sender.send_many(txs)
    # Everything was sent before the revert showed; the others landed.
    assert [result.status for result in outcome.results] == [
        "landed",
        "landed",
        "reverted",
        "landed",
        "landed",
    ]
    error = outcome.results[2].error
    assert isinstance(error, TransactionRevertedError) and error.sent
    assert error.error is not None and error.error.name == "AccessControlUnauthorizedAccount"
    assert outcome.results[2].sent
    assert cash.functions.balanceOf(stranger.address).call() == 4


def test_keep_going_sends_the_rest_after_a_failure(target: Target) -> None:
    alice, bob = target.accounts[:2]
    too_much = target.w3.eth.get_balance(alice.address) + 1
    txs = [target.transfer(alice, bob.address) for _ in range(4)]
    txs[1] = target.transfer(alice, bob.address, too_much, gas=21_000)
    outcome = target.sender.send_many(txs, keep_going=True)
    assert [result.status for result in outcome.results] == ["landed", "rejected", "landed", "landed"]
    assert isinstance(outcome.results[1].error, SubmissionRejectedError)
    assert not outcome.results[1].sent
    nonces = [result.outcome.nonce for result in outcome.landed if result.outcome]
    assert nonces == list(range(nonces[0], nonces[0] + 3))  # the refused one left no gap


def test_a_batch_with_a_sender_custody_cannot_sign_for_sends_nothing(target: Target) -> None:
    alice, bob = target.accounts[:2]
    nonce = target.chain_nonce(alice.address)
    txs = [target.transfer(alice, bob.address), target.transfer(Account.create().address, bob.address)]
    with pytest.raises(NoSigningKeyError):
        target.sender.send_many(txs)
    assert target.chain_nonce(alice.address) == nonce


class LinearGas:
    """A stand-in estimate: ``fixed + per_item * n`` for a transaction carrying n items."""

    def __init__(self, fixed: int, per_item: int, block: int | None = None) -> None:
        self.fixed, self.per_item, self.block = fixed, per_item, block
        self.calls: list[int] = []

    def build(self, items: Sequence[int]) -> PreparedTransaction:
        return PreparedTransaction(
            chain="permissionless",
            sender=Web3.to_checksum_address("0x" + "11" * 20),
            to=Web3.to_checksum_address("0x" + "22" * 20),
            data=len(items).to_bytes(4, "big"),
            description=f"{len(items)} items",
        )

    def estimate(self, tx: PreparedTransaction) -> int:
        count = int.from_bytes(tx.data, "big")
        self.calls.append(count)
        gas = self.fixed + self.per_item * count
        if self.block is not None and gas > self.block:
            raise SubmissionRejectedError("too big", description=tx.description, reason="out of gas")
        return gas


def _check_partition(entries: list[BatchEntry], count: int) -> None:
    covered = [item for entry in entries for item in entry.items]
    assert covered == list(range(count))


@pytest.mark.parametrize(
    ("count", "budget"), [(1, 100_000), (10, 100_000), (1_000, 1_000_000), (999, 123_457)]
)
def test_chunks_cover_every_item_once_and_fit_the_budget(count: int, budget: int) -> None:
    gas = LinearGas(fixed=30_000, per_item=25_000, block=30_000_000)
    entries = plan_chunks(list(range(count)), gas.build, estimate=gas.estimate, gas_budget=budget)
    _check_partition(entries, count)
    for entry in entries:
        assert gas.fixed + gas.per_item * len(entry.items) <= budget
    assert len(entries[0].items) >= (budget - gas.fixed) // gas.per_item * 9 // 10
    assert entries[0].tx.gas == gas.fixed + gas.per_item * len(entries[0].items)
    assert all(entry.tx.gas is None for entry in entries[1:])  # estimated when sent


def test_chunks_respect_a_maximum_size_and_shrink_when_the_straight_line_is_wrong() -> None:
    gas = LinearGas(fixed=30_000, per_item=10_000)
    assert {
        len(entry.items)
        for entry in plan_chunks(
            list(range(50)), gas.build, estimate=gas.estimate, gas_budget=10**7, max_items=8
        )[:-1]
    } == {8}

    class Superlinear(LinearGas):
        def estimate(self, tx: PreparedTransaction) -> int:
            count = int.from_bytes(tx.data, "big")
            return 30_000 + 10_000 * count + 500 * count * count

    curved = Superlinear(0, 0)
    entries = plan_chunks(list(range(500)), curved.build, estimate=curved.estimate, gas_budget=1_000_000)
    _check_partition(entries, 500)
    size = len(entries[0].items)
    assert 30_000 + 10_000 * size + 500 * size * size <= 1_000_000


def test_a_chunk_too_large_to_estimate_is_halved() -> None:
    gas = LinearGas(fixed=30_000, per_item=25_000, block=400_000)
    entries = plan_chunks(list(range(100)), gas.build, estimate=gas.estimate, gas_budget=10**9)
    _check_partition(entries, 100)
    assert gas.fixed + gas.per_item * len(entries[0].items) <= 400_000


def test_an_item_that_alone_exceeds_the_budget_is_refused() -> None:
    gas = LinearGas(fixed=30_000, per_item=25_000)
    with pytest.raises(InvalidInputError, match="one item alone needs 55000 gas"):
        plan_chunks([1, 2], gas.build, estimate=gas.estimate, gas_budget=50_000)
    assert plan_chunks([], gas.build, estimate=gas.estimate, gas_budget=50_000) == []


def test_a_batch_mint_is_chunked_to_the_block_gas_limit_and_reported_by_item(settings: Settings) -> None:
    small_blocks = settings.model_copy(update={"block_gas_limit": 6_000_000})
    target = embedded_target("permissionless", small_blocks)
    try:
        admin = target.accounts[0]
        token = target.deploy("RegulatedTestToken", "Note", "NTE", admin.address, "0x" + "00" * 20, False)
        holders = [Account.create().address for _ in range(150)]

        def mint(chunk: Sequence[str]) -> PreparedTransaction:
            first = holders.index(chunk[0])
            return target.call(
                token, "batchMint", list(chunk), [first + i + 1 for i in range(len(chunk))], source=admin
            )

        progress: list[tuple[int, int]] = []
        outcome: BatchOutcome = target.sender.send_chunked(
            holders, mint, progress=lambda done, total: progress.append((done, total))
        )
        assert outcome.ok, outcome.summary()
        assert len(outcome.results) > 1
        assert outcome.items("landed") == list(range(150))
        for result in outcome.results:
            assert result.outcome is not None and result.outcome.gas_used <= 3_000_000
        assert progress[-1] == (150, 150)
        assert [token.functions.balanceOf(h).call() for h in holders] == list(range(1, 151))
    finally:
        target.sender.close()
        target.handle.close()
