"""A permissioned node that carries honest traffic, runs a rollback, and dies at a chosen point of it.

Run by ``test_rollback_crash.py`` as::

    python -m tests.chain.consensus.rollback_child DATA_DIR KILL_POINT OUT_DIR

The node (background sealing, on disk in ``DATA_DIR``) first carries fixed traffic after block
``K``: transfers of alice, of the faucet and of an attacker, every one awaited until it has a
receipt. A client thread then keeps sending bob's transfers and notes each one that gets a
receipt. A quorum of validators signs a rollback to ``K`` that excludes the attacker by sender
and one faucet transfer by hash, and the process kills itself (``os._exit``: no cleanup, no
flush, like ``kill -9``) at ``KILL_POINT``. The fault is injected from here, by wrapping a
method of the chain's own classes, so the chain's code has no hook for tests.

What the client saw is written to ``OUT_DIR`` before each step and fsynced: ``before.json``
(``K``, the original block ``K + 1``, the proposal id, the fixed transactions and their
roles, the attacker's raw transactions) and ``bob.txt`` (bob's receipted transactions, one
hash a line).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from registry.chain.consensus.interventions import Interventions, RollbackReport
from registry.chain.consensus.proposals import GovernanceStore, ProposalRecord, ProposalStatus
from registry.chain.node.chain import EmbeddedChain
from registry.chain.node.storage import SQLiteStore
from tests.chain.conftest import derived_keys
from tests.chain.permissioned_support import fund, open_permissioned, register, signed

KILLED = 113
"""Exit status of a child that died at its kill point (any other status is a failure of the test)."""

DROP = "0x" + "dd" * 20
ALICE_TRANSFERS = 90
FAUCET_TRANSFERS = 30
ATTACKER_TRANSFERS = 15
EXCLUDED_FAUCET_TRANSFER = 10
"""Index of the faucet transfer excluded by hash; the faucet's later transfers then fail on replay."""
BOB_RECEIPTS_BEFORE_ROLLBACK = 5


def die() -> None:
    """End the process at once, as a kill would: no finally blocks, no atexit, no flush."""
    os._exit(KILLED)


def wrap(
    owner: type,
    name: str,
    *,
    before: bool,
    when: Callable[..., bool] = lambda *a, **k: True,
    then: Callable[[], None] = die,
) -> None:
    """Make ``owner.name`` call ``then`` (die, by default) before or after the first call for which
    ``when(*args)`` holds."""
    original = getattr(owner, name)
    fired = False

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        hit = not fired and when(*args, **kwargs)
        fired = fired or hit
        if hit and before:
            then()
        result = original(*args, **kwargs)
        if hit and not before:
            then()
        return result

    setattr(owner, name, wrapper)


def die_in_next_commit(chain: EmbeddedChain) -> None:
    """Die inside the next SQLite transaction, after its writes and before its COMMIT."""
    store = chain.database._buffer.store
    assert isinstance(store, SQLiteStore)
    connection = store._conn

    class DyingConnection:
        def execute(self, sql: str, *args: Any) -> Any:
            if sql == "COMMIT":
                die()
            return connection.execute(sql, *args)

        def __getattr__(self, attribute: str) -> Any:
            return getattr(connection, attribute)

    store._conn = DyingConnection()  # type: ignore[assignment]


def _executed(_store: GovernanceStore, record: ProposalRecord) -> bool:
    return record.status is ProposalStatus.EXECUTED


def install(point: str, arm_commit: Callable[[], None]) -> None:
    """Arrange to die at ``point`` (see `test_rollback_crash.KILL_POINTS`)."""
    if point == "approved":  # the approval (with the last signature) is committed, nothing else yet
        wrap(EmbeddedChain, "rewind", before=True)
    elif point == "rewound":
        wrap(EmbeddedChain, "rewind", before=False)
    elif point == "first-replay-block":
        wrap(EmbeddedChain, "build_block", before=False)
    elif point == "before-report":
        wrap(RollbackReport, "to_json", before=True)
    elif point == "report-written":  # the report and the executed status, written but not committed
        wrap(GovernanceStore, "save", before=False, when=_executed)
    elif point == "mid-commit":
        wrap(EmbeddedChain, "rewind", before=False, then=arm_commit)
    elif point == "committed":  # everything is on disk; the caller never learns the outcome
        wrap(Interventions, "_rollback", before=False)
    else:
        raise SystemExit(f"unknown kill point {point!r}")


def write_json(path: Path, data: Any) -> None:
    with path.open("w") as handle:
        json.dump(data, handle)
        handle.flush()
        os.fsync(handle.fileno())


def send_all(chain: EmbeddedChain, raws: list[bytes]) -> list[bytes]:
    """Submit ``raws`` and wait until each has a receipt."""
    hashes = [chain.send_raw_transaction(raw) for raw in raws]
    for tx_hash in hashes:
        chain.wait_until_mined(tx_hash, timeout=30)
        assert chain.find_transaction(tx_hash) is not None, "a transfer got no receipt"
    return hashes


def transfers(chain: EmbeddedChain, sender: LocalAccount, count: int, *, to: str, start: int) -> list[bytes]:
    return [signed(chain, sender, to=to, value=1_000 + i, gas=21_000, nonce=start + i) for i in range(count)]


def bob_traffic(
    chain: EmbeddedChain, bob: LocalAccount, journal: Path, receipts: threading.Semaphore
) -> None:
    """Bob's wallet: send, wait for the receipt, note it; until the process dies."""
    nonce = chain.nonce(bytes.fromhex(bob.address[2:]))
    with journal.open("a") as handle:
        while True:
            tx_hash = chain.send_raw_transaction(
                signed(chain, bob, to=DROP, value=1, gas=21_000, nonce=nonce)
            )
            chain.wait_until_mined(tx_hash, timeout=30)
            if chain.find_transaction(tx_hash) is None:
                continue
            handle.write("0x" + tx_hash.hex() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
            nonce += 1
            receipts.release()


def main(data_dir: Path, point: str, out: Path) -> None:
    chain_box: list[EmbeddedChain] = []
    install(point, lambda: die_in_next_commit(chain_box[0]))
    chain, mode = open_permissioned(data_dir, sealing="background")
    chain_box.append(chain)
    faucet, alice, bob = (account.account for account in chain.dev_accounts)
    [attacker] = derived_keys("rollback crash attacker", 1)
    fund(chain, attacker.address, ether=100)
    chain.wait_until_mined(register(chain, mode, attacker.address), timeout=30)
    k = chain.block_number

    faucet_start = chain.nonce(bytes.fromhex(faucet.address[2:]), pending=True)
    faucet_raws = transfers(chain, faucet, FAUCET_TRANSFERS, to=DROP, start=faucet_start)
    alice_raws = transfers(chain, alice, ALICE_TRANSFERS, to=DROP, start=0)
    attacker_raws = transfers(chain, attacker, ATTACKER_TRANSFERS, to=DROP, start=0)
    roles: dict[str, str] = {}
    for batch in range(3):  # three rounds, each awaited: the traffic spans several blocks
        part = slice(batch * 10, (batch + 1) * 10)
        for sender, raws in (("alice", alice_raws), ("faucet", faucet_raws), ("attacker", attacker_raws)):
            for tx_hash in send_all(chain, raws[part]):
                roles["0x" + tx_hash.hex()] = sender
    for tx_hash in send_all(chain, alice_raws[30:]):
        roles["0x" + tx_hash.hex()] = "alice"
    excluded = chain.decode_transaction(faucet_raws[EXCLUDED_FAUCET_TRANSFER]).hash

    receipts = threading.Semaphore(0)
    threading.Thread(target=bob_traffic, args=(chain, bob, out / "bob.txt", receipts), daemon=True).start()
    for _ in range(BOB_RECEIPTS_BEFORE_ROLLBACK):
        receipts.acquire(timeout=30)

    desk = mode.interventions()
    record = desk.propose_rollback(
        k, exclude_senders=[attacker.address], exclude_transactions=[excluded], reason="exploit"
    )
    write_json(
        out / "before.json",
        {
            "k": k,
            "originalNext": "0x" + chain.get_header(k + 1).hash.hex(),
            "proposal": "0x" + record.id.hex(),
            "roles": roles,
            "excludedByHash": "0x" + excluded.hex(),
            "faucetNonces": {
                "0x" + chain.decode_transaction(raw).hash.hex(): i for i, raw in enumerate(faucet_raws)
            },
            "attackerRaws": ["0x" + raw.hex() for raw in attacker_raws],
        },
    )
    for validator in desk.signers_available()[: desk.threshold()]:
        desk.sign(record.id, validator)
    # Reaching this line means the kill point never fired.
    sys.exit(f"the rollback finished without reaching the kill point {point!r}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]))
