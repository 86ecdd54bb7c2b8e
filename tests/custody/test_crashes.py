"""What a crash, a stuck or dropped transaction, or a rollback leaves behind, and what a restart does.

A "restart" is a new `TransactionSender` (its nonce book is empty, as in a new process) on the
same chain; "the process dies" is an exception custody cannot catch, raised at that point.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from registry.custody import PendingTransaction, TransactionSender
from registry.errors import TransactionNotLandedError

from .conftest import ETHER, Target


class Killed(BaseException):
    """Stands for the process dying where it is raised."""


def _restart(target: Target, **options: object) -> TransactionSender:
    return TransactionSender(target.w3, target.sender.signers, chain=target.handle.name, **options)  # type: ignore[arg-type]


def test_dying_between_signing_and_sending_sends_nothing_and_the_restart_reuses_the_nonce(
    target: Target,
) -> None:
    alice, bob = target.accounts[:2]
    nonce = target.chain_nonce(alice.address)
    signed: list[PendingTransaction] = []

    def die(pending: PendingTransaction) -> None:
        signed.append(pending)
        raise Killed

    with pytest.raises(Killed):
        _restart(target, on_signed=die).send(target.transfer(alice, bob.address))
    assert signed[0].nonce == nonce
    assert target.chain_nonce(alice.address) == nonce
    restarted = _restart(target)
    with pytest.raises(TransactionNotLandedError, match="unknown to the") as caught:
        restarted.outcome_of(signed[0].tx_hash)
    assert caught.value.tx_hash == signed[0].tx_hash
    assert restarted.send(target.transfer(alice, bob.address)).nonce == nonce


def test_dying_after_sending_leaves_the_transaction_to_land_and_the_restart_sends_after_it(
    embedded: Callable[..., Target],
) -> None:
    target = embedded("permissionless", sealing="manual")
    alice, bob = target.accounts[:2]
    recorded: list[PendingTransaction] = []
    first = _restart(target, on_signed=recorded.append)
    in_flight = first.broadcast(target.transfer(alice, bob.address, 5))
    del first  # the process dies before the receipt; the hash was recorded before sending
    restarted = _restart(target)
    after = restarted.broadcast(target.transfer(alice, bob.address, 6))
    assert after.nonce == in_flight.nonce + 1
    assert target.handle.embedded is not None
    target.handle.embedded.mine()
    outcome = restarted.outcome_of(recorded[0].tx_hash)
    assert (outcome.nonce, outcome.sender) == (in_flight.nonce, alice.address)
    assert restarted.wait(after).block_number == outcome.block_number


def test_a_transaction_that_does_not_land_is_reported_never_resent(embedded: Callable[..., Target]) -> None:
    target = embedded("permissionless", sealing="manual")
    alice, bob = target.accounts[:2]
    assert target.handle.embedded is not None
    pending = target.sender.broadcast(target.transfer(alice, bob.address))
    with pytest.raises(TransactionNotLandedError) as caught:
        target.sender.wait(pending, timeout=0.3)
    error = caught.value
    assert (error.tx_hash, error.nonce, error.sender) == (pending.tx_hash, pending.nonce, alice.address)
    assert "still pending" in str(error) and "outcome_of" in str(error)
    assert pending.hash_hex in str(error)
    assert target.handle.embedded.pending_count() == 1  # nothing was sent again
    # The book reads the chain again, which counts the pending one: no collision with it.
    later = target.sender.broadcast(target.transfer(alice, bob.address))
    assert later.nonce == pending.nonce + 1
    target.handle.embedded.mine()
    assert target.sender.wait(pending).nonce == pending.nonce


def test_a_transaction_the_chain_drops_is_reported_and_its_nonce_reused(
    embedded: Callable[..., Target],
) -> None:
    target = embedded("permissionless", sealing="manual")
    alice, bob = target.accounts[:2]
    assert target.handle.embedded is not None
    fees = target.sender.fees()
    balance = target.w3.eth.get_balance(alice.address)
    # The first empties the account; the second, accepted against the balance before, cannot pay.
    emptying = target.sender.broadcast(
        target.transfer(alice, bob.address, balance - 21_000 * fees.max_fee_per_gas, gas=21_000), fees=fees
    )
    doomed = target.sender.broadcast(target.transfer(alice, bob.address, 1, gas=21_000), fees=fees)
    target.handle.embedded.mine()
    target.sender.wait(emptying)
    with pytest.raises(TransactionNotLandedError, match="dropped by the permissionless chain") as caught:
        target.sender.wait(doomed)
    assert caught.value.nonce == doomed.nonce
    assert "will never be mined" in str(caught.value)
    refill = target.sender.broadcast(target.transfer(bob, alice.address, ETHER))
    target.handle.embedded.mine()
    target.sender.wait(refill)
    again = target.sender.broadcast(target.transfer(alice, bob.address))
    assert again.nonce == doomed.nonce  # no gap left behind the dropped one
    target.handle.embedded.mine()
    assert target.sender.wait(again).nonce == doomed.nonce


def _roll_back(target: Target, to_block: int, exclude: str) -> None:
    desk = target.handle.interventions()
    proposal = desk.propose_rollback(to_block, exclude_senders=[exclude], reason="test rollback")
    for validator in desk.signers_available()[: desk.threshold()]:
        proposal = desk.sign(proposal.id, validator)


def test_after_a_rollback_the_sender_reads_its_nonces_again_and_says_so(
    embedded: Callable[..., Target], caplog: pytest.LogCaptureFixture
) -> None:
    target = embedded("permissioned", sealing="instant")
    alice, bob = target.accounts[:2]
    fork = target.w3.eth.block_number
    for _ in range(3):
        target.sender.send(target.transfer(alice, bob.address))
    assert target.sender.nonces.peek(alice.address) == 3
    _roll_back(target, fork, exclude=alice.address)
    assert target.chain_nonce(alice.address) == 0
    # Another value: the excluded transaction itself (same fields, same hash) stays refused for good.
    with caplog.at_level(logging.INFO):
        outcome = target.sender.send(target.transfer(alice, bob.address, value=2))
    assert outcome.nonce == 0
    assert f"rolled back to block {fork}" in caplog.text
    assert "went down from 3 to 0" in caplog.text


def test_a_sender_that_missed_the_rollback_reports_the_stuck_transaction_then_resyncs(
    embedded: Callable[..., Target], caplog: pytest.LogCaptureFixture
) -> None:
    target = embedded("permissioned", sealing="instant")
    alice, bob = target.accounts[:2]
    unaware = _restart(target, timeout=0.5)  # a bare Web3 user: no rollback events
    fork = target.w3.eth.block_number
    for _ in range(3):
        unaware.send(target.transfer(alice, bob.address))
    _roll_back(target, fork, exclude=alice.address)
    with pytest.raises(TransactionNotLandedError, match="still pending") as caught:
        unaware.send(target.transfer(alice, bob.address))
    assert caught.value.nonce == 3
    with caplog.at_level(logging.WARNING):
        outcome = unaware.send(target.transfer(alice, bob.address, value=2))
    assert outcome.nonce == 0
    assert "went down from 4 to 0" in caplog.text


def test_a_batch_whose_transaction_vanishes_reports_the_ones_queued_behind_it(
    embedded: Callable[..., Target], monkeypatch: pytest.MonkeyPatch
) -> None:
    target = embedded("permissionless", sealing="manual")
    chain = target.handle.embedded
    assert chain is not None
    alice, bob = target.accounts[:2]
    sender = _restart(target, timeout=0.5)
    broadcast = sender.broadcast
    sent: list[PendingTransaction] = []

    def evicting_broadcast(tx: object, **options: object) -> PendingTransaction:
        pending = broadcast(tx, **options)  # type: ignore[arg-type]
        sent.append(pending)
        if len(sent) == 2:
            # Stands for a node evicting the transaction from its pool (geth does under pressure).
            with chain.lock:
                chain._pool.remove(pending.tx_hash)
        if len(sent) == 3:
            chain.mine()
        return pending

    monkeypatch.setattr(sender, "broadcast", evicting_broadcast)
    outcome = sender.send_many([target.transfer(alice, bob.address, value) for value in (1, 2, 3)])
    assert [result.status for result in outcome.results] == ["landed", "not_landed", "not_landed"]
    assert "no longer knows it" in str(outcome.results[1].error)
    queued = outcome.results[2].error
    assert isinstance(queued, TransactionNotLandedError)
    assert f"waits behind nonce {sent[1].nonce}" in str(queued)
    assert sender.transaction_state(sent[2].tx_hash) == "pending"
    # The next transaction fills the gap, and the queued one lands after it, as the report said.
    filler = sender.broadcast(target.transfer(alice, bob.address, 4))
    assert filler.nonce == sent[1].nonce
    chain.mine()
    assert sender.wait(sent[2]).nonce == sent[2].nonce
