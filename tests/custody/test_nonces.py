"""The nonce book alone, against a chain stand-in whose pending counts the test sets."""

from __future__ import annotations

import logging
import threading

import pytest
from eth_typing import ChecksumAddress
from web3 import Web3

from registry.custody.nonces import NonceBook

ALICE = Web3.to_checksum_address("0x" + "a1" * 20)
BOB = Web3.to_checksum_address("0x" + "b0" * 20)


class ChainCounts:
    """What ``eth_getTransactionCount(sender, "pending")`` would answer, and how often it was asked."""

    def __init__(self, **counts: int) -> None:
        self.counts = {ALICE: counts.get("alice", 0), BOB: counts.get("bob", 0)}
        self.asked = 0

    def __call__(self, sender: ChecksumAddress) -> int:
        self.asked += 1
        return self.counts[sender]


def test_first_use_reads_the_chain_then_counts_locally() -> None:
    chain = ChainCounts(alice=7)
    book = NonceBook(chain)
    for expected in (7, 8, 9):
        with book.reserve(ALICE) as slot:
            assert slot.nonce == expected
            slot.commit()
    assert chain.asked == 1
    assert book.peek(ALICE) == 10


def test_a_nonce_not_committed_is_given_again() -> None:
    book = NonceBook(ChainCounts(alice=3))
    with book.reserve(ALICE) as slot:
        assert slot.nonce == 3  # refused by the node: no commit

    def fail_while_holding() -> None:
        with book.reserve(ALICE) as slot:
            assert slot.nonce == 3
            raise RuntimeError("signing failed")

    with pytest.raises(RuntimeError):
        fail_while_holding()
    with book.reserve(ALICE) as slot:
        assert slot.nonce == 3


def test_threads_get_distinct_contiguous_nonces_and_senders_do_not_share() -> None:
    book = NonceBook(ChainCounts(alice=0, bob=100))
    taken: dict[str, list[int]] = {ALICE: [], BOB: []}
    lock = threading.Lock()
    start = threading.Barrier(8)

    def work(sender: ChecksumAddress) -> None:
        start.wait()
        for _ in range(50):
            with book.reserve(sender) as slot:
                with lock:
                    taken[sender].append(slot.nonce)
                slot.commit()

    threads = [threading.Thread(target=work, args=(ALICE if i % 2 else BOB,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken[ALICE]) == list(range(200))
    assert sorted(taken[BOB]) == list(range(100, 300))


def test_a_resync_that_finds_the_chain_lower_says_so_and_continues_there(
    caplog: pytest.LogCaptureFixture,
) -> None:
    chain = ChainCounts(alice=0)
    book = NonceBook(chain, chain="permissioned")
    for _ in range(5):
        with book.reserve(ALICE) as slot:
            slot.commit()
    chain.counts[ALICE] = 2
    book.resync(reason="the chain was rolled back to block 9")
    assert book.peek(ALICE) is None
    with caplog.at_level(logging.WARNING), book.reserve(ALICE) as slot:
        assert slot.nonce == 2
    assert "went down from 5 to 2 (the chain was rolled back to block 9)" in caplog.text
    assert "on the permissioned chain" in caplog.text


def test_a_resync_that_finds_the_chain_higher_takes_its_count(caplog: pytest.LogCaptureFixture) -> None:
    chain = ChainCounts(alice=0)
    book = NonceBook(chain)
    with book.reserve(ALICE) as slot:
        slot.commit()
    chain.counts[ALICE] = 4
    with caplog.at_level(logging.INFO), book.reserve(ALICE) as slot:
        assert slot.refresh("the node said: nonce too low") == 4
    assert "another client sent with this key" in caplog.text


def test_a_resync_of_one_sender_leaves_the_others_alone() -> None:
    chain = ChainCounts(alice=1, bob=1)
    book = NonceBook(chain)
    for sender in (ALICE, BOB):
        with book.reserve(sender) as slot:
            slot.commit()
    book.resync(BOB, reason="a submission was refused")
    assert book.peek(ALICE) == 2
    assert book.peek(BOB) is None


def test_transactions_signed_elsewhere_move_the_count() -> None:
    chain = ChainCounts(alice=0)
    book = NonceBook(chain)
    book.observe(ALICE, 5)  # unknown sender: nothing to move, the chain will be read
    assert book.peek(ALICE) is None
    with book.reserve(ALICE) as slot:
        slot.commit()
    book.observe(ALICE, 1)
    assert book.peek(ALICE) == 2
    book.observe(ALICE, 0)  # below ours: our count cannot be trusted any more
    assert book.peek(ALICE) is None


def test_a_suggestion_reserves_nothing_and_never_goes_below_the_book() -> None:
    chain = ChainCounts(alice=3)
    book = NonceBook(chain)
    assert book.suggest(ALICE) == 3
    assert book.suggest(ALICE) == 3
    with book.reserve(ALICE) as slot:
        slot.commit()
    with book.reserve(ALICE) as slot:
        slot.commit()
    chain.counts[ALICE] = 4  # the node has not counted our last one yet
    assert book.suggest(ALICE) == 5
