"""The background builder: execution while a burst arrives, the open block, and what may end or spoil it."""

from __future__ import annotations

import queue
import threading

import pytest

from registry.chain.errors import InsufficientFundsError
from registry.chain.node import chain as chain_module
from registry.chain.node.chain import EmbeddedChain
from registry.chain.node.modes import PermissionlessMode
from tests.chain.conftest import GWEI, PERMISSIONLESS_CHAIN_ID, derived_keys, sign

WAIT = 60.0
"""Generous bound for what happens in milliseconds: only a broken builder reaches it."""


class WatchedMode(PermissionlessMode):
    """Permissionless; reports the hash of every transaction the builder thread executes."""

    def __init__(self) -> None:
        self.executed: queue.Queue[bytes] = queue.Queue()

    def check_transaction(self, tx, view):
        if threading.current_thread().name.endswith("-builder"):
            self.executed.put(bytes(tx.hash))

    def next_executed(self) -> bytes:
        return self.executed.get(timeout=WAIT)


@pytest.fixture
def open_ended(monkeypatch):
    """A background chain whose blocks are sealed only when a client waits (or on `mine`): no pause,
    no deadline ends them, so what the test sees does not depend on the machine's speed."""
    monkeypatch.setattr(chain_module, "MAX_BATCH_DELAY", 3600.0)
    mode = WatchedMode()
    chain = EmbeddedChain.open(
        mode, data_dir=None, chain_id=PERMISSIONLESS_CHAIN_ID, batch_window=3600, receipt_wait=3600
    )
    yield chain, mode
    chain.close()


def dev(chain, index=0):
    return chain.dev_accounts[index].account


def transfer(chain, sender, nonce, to=None, value=1):
    return chain.send_raw_transaction(sign(sender, nonce=nonce, to=to or dev(chain, 9).address, value=value))


def test_each_transaction_is_executed_as_it_arrives_and_the_burst_sealed_as_one_block(open_ended):
    chain, mode = open_ended
    first = transfer(chain, dev(chain), 0)
    assert mode.next_executed() == first
    # Executed, not sealed: the block stays open for the rest of the burst.
    assert chain.block_number == 0
    assert chain.pending_transaction(first) is not None
    second = transfer(chain, dev(chain), 1)
    assert mode.next_executed() == second
    assert chain.wait_until_mined(second, timeout=WAIT)
    assert chain.block_number == 1
    block = chain.get_block(1)
    assert [tx.hash for tx in block.transactions] == [first, second]
    assert mode.executed.empty()  # nothing was executed twice


def test_a_block_sealed_by_another_writer_meanwhile_makes_the_builder_start_over(open_ended):
    chain, mode = open_ended
    first = transfer(chain, dev(chain), 0)
    assert mode.next_executed() == first
    # `mine` seals the pooled transaction itself; the builder's open block (same transaction, on the
    # old head) must be given up, not sealed on top.
    mined = chain.mine()
    assert [tx.hash for tx in mined.transactions] == [first]
    second = transfer(chain, dev(chain), 1)
    assert chain.wait_until_mined(second, timeout=WAIT)
    assert chain.block_number == 2
    assert [tx.hash for tx in chain.get_block(2).transactions] == [second]
    assert chain.failure(first) is None
    assert chain.find_transaction(first).header.block_number == 1


def test_moving_the_clock_while_a_block_is_open_gives_that_block_the_new_time(open_ended):
    chain, mode = open_ended
    tx_hash = transfer(chain, dev(chain), 0)
    assert mode.next_executed() == tx_hash
    before = chain.head().timestamp
    chain.increase_time(10_000)
    assert chain.wait_until_mined(tx_hash, timeout=WAIT)
    assert chain.head().timestamp >= before + 10_000
    assert chain.find_transaction(tx_hash).header.block_number == 1


class HeldMode(WatchedMode):
    """Holds the builder inside its first transaction's execution until the test lets it go."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self._held = False

    def check_transaction(self, tx, view):
        super().check_transaction(tx, view)
        if threading.current_thread().name.endswith("-builder") and not self._held:
            self._held = True
            assert self.release.wait(WAIT)


class ToldEvent(threading.Event):
    """The chain's "a client waits for the open block" flag, telling the test when it is raised."""

    def __init__(self) -> None:
        super().__init__()
        self.told = threading.Event()

    def set(self) -> None:
        super().set()
        self.told.set()


def test_a_clock_moved_while_the_builder_executes_still_dates_the_block_it_then_seals(monkeypatch):
    monkeypatch.setattr(chain_module, "MAX_BATCH_DELAY", 3600.0)
    mode = HeldMode()
    chain = EmbeddedChain.open(
        mode, data_dir=None, chain_id=PERMISSIONLESS_CHAIN_ID, batch_window=3600, receipt_wait=3600
    )
    chain._awaited = ToldEvent()
    try:
        tx_hash = transfer(chain, dev(chain), 0)
        assert mode.next_executed() == tx_hash  # the builder is inside the block, past its checks
        before = chain.head().timestamp
        chain.increase_time(10_000)
        # A client waits for the receipt: once the builder is let go, it seals at once.
        waiter = threading.Thread(target=chain.wait_until_mined, args=(tx_hash,), daemon=True)
        waiter.start()
        assert chain._awaited.told.wait(WAIT)
        mode.release.set()
        waiter.join(WAIT)
        assert not waiter.is_alive()
        # The block opened before the clock moved was rebuilt, not sealed with the old time.
        assert chain.head().timestamp >= before + 10_000
        location = chain.find_transaction(tx_hash)
        assert location is not None and location.header.block_number == 1
    finally:
        mode.release.set()
        chain.close()


def test_a_receipt_waiter_learns_at_once_that_its_transaction_was_dropped(open_ended):
    chain, _mode = open_ended
    poor = derived_keys("dropped", 1)[0]
    fee = 21_000 * 5 * GWEI
    funding = transfer(chain, dev(chain), 0, to=poor.address, value=2 * fee + 10)
    assert chain.wait_until_mined(funding, timeout=WAIT)
    # Both pass the submission check, but the first leaves too little for the second.
    first = transfer(chain, poor, 0, to=dev(chain).address, value=fee)
    second = transfer(chain, poor, 1, to=dev(chain).address, value=fee)
    # Waits as a receipt request does (receipt_wait is an hour): it must wake when the block is sealed.
    waiter = threading.Thread(target=chain.wait_until_mined, args=(second,), daemon=True)
    waiter.start()
    waiter.join(WAIT)
    assert not waiter.is_alive()
    assert isinstance(chain.failure(second), InsufficientFundsError)
    assert chain.find_transaction(first) is not None


def test_a_stream_slower_than_the_batching_window_stretches_it():
    chain = EmbeddedChain.open(
        PermissionlessMode(), data_dir=None, chain_id=PERMISSIONLESS_CHAIN_ID, sealing="manual"
    )
    try:
        assert chain._stream_window() == chain.batch_window
        # A client sending one transaction every 3 ms over HTTP: the window follows its pace.
        for arrival in range(20):
            chain._note_arrival(100 + 0.003 * arrival)
        assert 0.005 < chain._stream_window() <= chain_module.MAX_STREAM_WINDOW
        # A lone transaction long after: a new stream, the configured window again.
        chain._note_arrival(200.0)
        assert chain._stream_window() == chain.batch_window
    finally:
        chain.close()


def test_a_client_held_back_for_a_moment_is_still_the_same_stream():
    chain = EmbeddedChain.open(
        PermissionlessMode(), data_dir=None, chain_id=PERMISSIONLESS_CHAIN_ID, sealing="manual"
    )
    try:
        chain._note_arrival(100.0)
        chain._note_arrival(100.004)
        # The first gap sets the pace at once: the next short stall does not end the block.
        assert chain._stream_window() >= 0.008
        # A busy machine holds the client back 40 ms: the pace stretches instead of starting over.
        chain._note_arrival(100.044)
        assert chain._stream_window() > 0.008
        assert chain._stream_window() <= chain_module.MAX_STREAM_WINDOW
        # Idle for longer than STREAM_IDLE_GAP: a new stream, the configured window again.
        chain._note_arrival(100.044 + chain_module.STREAM_IDLE_GAP + 0.001)
        assert chain._stream_window() == chain.batch_window
    finally:
        chain.close()


def test_a_request_being_answered_holds_the_builder_back_only_briefly():
    chain = EmbeddedChain.open(PermissionlessMode(), data_dir=None, chain_id=PERMISSIONLESS_CHAIN_ID)
    try:
        chain.request_started()  # and never finished: the builder must not wait for it for ever
        tx_hash = transfer(chain, dev(chain), 0)
        assert chain.wait_until_mined(tx_hash, timeout=WAIT)
        assert chain.find_transaction(tx_hash) is not None
        chain.request_finished()
    finally:
        chain.close()
