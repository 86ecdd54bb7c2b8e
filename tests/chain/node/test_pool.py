"""The transaction pool: nonce order per sender, gaps wait, replacements must pay more."""

from __future__ import annotations

import pytest

from registry.chain.errors import NonceError, TransactionRejectedError
from registry.chain.node.pool import MAX_NONCE_GAP, TransactionPool
from tests.chain.conftest import GWEI, derived_keys, sign


@pytest.fixture
def alice_bob():
    return derived_keys("pool", 2)


def tx(chain, account, nonce, max_fee=5 * GWEI):
    return chain.decode_transaction(sign(account, nonce=nonce, to=account.address, max_fee=max_fee))


def address(account):
    return bytes.fromhex(account.address[2:])


def test_ready_keeps_each_senders_nonce_order_and_interleaves_by_arrival(manual_chain, alice_bob):
    alice, bob = alice_bob
    pool = TransactionPool()
    a1, a0, b0, a2 = (
        tx(manual_chain, alice, 1),
        tx(manual_chain, alice, 0),
        tx(manual_chain, bob, 0),
        tx(manual_chain, alice, 2),
    )
    for item in (a1, a0, b0, a2):
        pool.add(item, 0)
    ready = pool.ready(lambda sender: 0)
    # alice's run is a0, a1, a2 whatever the arrival order; between senders, the next
    # transaction of each run goes by arrival: bob's b0 arrived before alice's a2.
    assert [t.hash for t in ready] == [a0.hash, a1.hash, b0.hash, a2.hash]


def test_a_gap_holds_later_transactions_back(manual_chain, alice_bob):
    alice, _ = alice_bob
    pool = TransactionPool()
    pool.add(tx(manual_chain, alice, 0), 0)
    pool.add(tx(manual_chain, alice, 2), 0)
    assert [t.nonce for t in pool.ready(lambda sender: 0)] == [0]
    assert pool.pending_nonce(address(alice), 0) == 1
    pool.add(tx(manual_chain, alice, 1), 0)
    assert [t.nonce for t in pool.ready(lambda sender: 0)] == [0, 1, 2]
    assert pool.pending_nonce(address(alice), 0) == 3


def test_used_or_far_future_nonces_are_refused(manual_chain, alice_bob):
    alice, _ = alice_bob
    pool = TransactionPool()
    with pytest.raises(NonceError, match="nonce too low"):
        pool.add(tx(manual_chain, alice, 3), 4)
    with pytest.raises(NonceError, match="nonce too high"):
        pool.add(tx(manual_chain, alice, MAX_NONCE_GAP + 1), 0)


def test_replacement_needs_a_higher_fee(manual_chain, alice_bob):
    alice, _ = alice_bob
    pool = TransactionPool()
    first = tx(manual_chain, alice, 0, max_fee=5 * GWEI)
    pool.add(first, 0)
    with pytest.raises(TransactionRejectedError, match="already known"):
        pool.add(first, 0)
    with pytest.raises(TransactionRejectedError, match="underpriced"):
        pool.add(tx(manual_chain, alice, 0, max_fee=4 * GWEI), 0)
    better = tx(manual_chain, alice, 0, max_fee=6 * GWEI)
    replaced = pool.add(better, 0)
    assert replaced is not None
    assert replaced.hash == first.hash
    assert first.hash not in pool
    assert pool.get(better.hash) is better
    assert len(pool) == 1


def test_drop_stale_removes_transactions_below_the_account_nonce(manual_chain, alice_bob):
    alice, bob = alice_bob
    pool = TransactionPool()
    for nonce in range(3):
        pool.add(tx(manual_chain, alice, nonce), 0)
    pool.add(tx(manual_chain, bob, 0), 0)
    stale = pool.drop_stale(lambda sender: 2 if sender == address(alice) else 0)
    assert sorted(t.nonce for t in stale) == [0, 1]
    assert len(pool) == 2
    pool.remove(b"\x00" * 32)
    assert len(pool.clear()) == 2
    assert len(pool) == 0
