"""A rollback is all or nothing across a crash, and a restart finishes one that was cut short.

Each case runs a real node in a child process (`rollback_child`) on a data directory, with honest
traffic, and has it kill itself at one point of a rollback. The test then looks at the database as
the crash left it, reopens the chain (which finishes the approved rollback before taking any
transaction) and checks that no transaction that had a receipt was silently lost.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from eth.db.atomic import AtomicDB
from eth.db.header import HeaderDB
from eth_typing import BlockNumber

from registry.chain.consensus.proposals import GovernanceStore, ProposalClosedError, ProposalStatus
from registry.chain.errors import TransactionExcludedError
from registry.chain.node.chain import CHAIN_DB_FILE
from registry.chain.node.storage import ChainDatabase
from tests.chain.conftest import ROOT
from tests.chain.consensus.rollback_child import (
    ALICE_TRANSFERS,
    ATTACKER_TRANSFERS,
    BOB_RECEIPTS_BEFORE_ROLLBACK,
    EXCLUDED_FAUCET_TRANSFER,
    FAUCET_TRANSFERS,
    KILLED,
)
from tests.chain.permissioned_support import open_permissioned, signed

KILL_POINTS = {
    # point: whether the rollback had reached the disk when the process died
    "approved": False,  # the last signature and the approval committed; the rewind not begun
    "rewound": False,  # right after the rewind
    "first-replay-block": False,  # after the first replay block was sealed
    "before-report": False,  # every replay block sealed, the report not written
    "report-written": False,  # the report and the executed status written, not committed
    "mid-commit": False,  # inside the SQLite transaction, before its COMMIT
    "committed": True,  # everything committed; the process dies before the caller hears of it
}


def _run_child(data_dir: Path, point: str, out: Path) -> None:
    out.mkdir()
    child = subprocess.run(
        [sys.executable, "-m", "tests.chain.consensus.rollback_child", str(data_dir), point, str(out)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == KILLED, f"the child did not die at {point}: {child.stderr[-3000:]}"


def _on_disk(data_dir: Path, proposal: bytes) -> tuple[ProposalStatus, int, dict[int, bytes]]:
    """What the crash left in the database: the proposal's status, its signature count, and the chain."""
    database = ChainDatabase(data_dir / CHAIN_DB_FILE)
    try:
        db = AtomicDB(database._buffer)
        record = GovernanceStore(db).get(proposal)
        headers = HeaderDB(db)
        head = headers.get_canonical_head()
        chain = {
            n: bytes(headers.get_canonical_block_hash(BlockNumber(n))) for n in range(head.block_number + 1)
        }
        return record.status, len(record.signatures), chain
    finally:
        database.close()


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_a_rollback_killed_at_any_point_is_finished_on_restart_and_loses_nothing(tmp_path, point):
    data_dir, out = tmp_path / "permissioned", tmp_path / "client"
    _run_child(data_dir, point, out)
    before = json.loads((out / "before.json").read_text())
    bob = [line for line in (out / "bob.txt").read_text().split()]
    proposal = bytes.fromhex(before["proposal"][2:])
    k = before["k"]

    status, signatures, canonical = _on_disk(data_dir, proposal)
    assert signatures == 3  # the signature that completed the quorum was kept
    if KILL_POINTS[point]:
        assert status is ProposalStatus.EXECUTED
    else:
        # No trace of the rollback: the old chain stands, and the proposal is approved, waiting.
        assert status is ProposalStatus.APPROVED
        assert "0x" + canonical[k + 1].hex() == before["originalNext"]

    chain, mode = open_permissioned(data_dir, sealing="manual")
    try:
        desk = mode.interventions()
        record = desk.get(proposal)
        assert record.status is ProposalStatus.EXECUTED
        [report] = desk.rollbacks()
        assert chain.head().hash == report.new_head_hash
        with pytest.raises(ProposalClosedError):
            desk.execute(proposal)  # nothing left to do

        fates = {"0x" + t.hash.hex(): t for t in report.transactions}
        roles = before["roles"]
        receipted = [*roles, *bob]
        assert len(roles) == ALICE_TRANSFERS + FAUCET_TRANSFERS + ATTACKER_TRANSFERS
        assert len(bob) >= BOB_RECEIPTS_BEFORE_ROLLBACK
        for tx_hash in receipted:
            location = chain.find_transaction(bytes.fromhex(tx_hash[2:]))
            entry = fates.get(tx_hash)
            if entry is None:  # sealed after the rollback (bob's, in the case where it finished)
                assert location is not None, f"{tx_hash} had a receipt and is gone"
            elif entry.fate == "replayed":
                assert location is not None and location.header.block_number == entry.new_block, tx_hash
            else:
                assert location is None, tx_hash
                assert entry.fate in ("excluded-by-hash", "excluded-by-sender", "failed"), tx_hash

        # The fixed traffic gets the fates its exclusions imply.
        excluded = before["excludedByHash"]
        faucet_nonces = before["faucetNonces"]
        for tx_hash, role in roles.items():
            fate = fates[tx_hash].fate
            if role == "attacker":
                assert fate == "excluded-by-sender"
            elif tx_hash == excluded:
                assert fate == "excluded-by-hash"
            elif role == "faucet" and faucet_nonces[tx_hash] > EXCLUDED_FAUCET_TRANSFER:
                assert fate == "failed" and "nonce" in (fates[tx_hash].error or "")
            else:
                assert fate == "replayed"

        # What the rollback excluded stays excluded after the crash, and the chain goes on.
        with pytest.raises(TransactionExcludedError):
            chain.send_raw_transaction(bytes.fromhex(before["attackerRaws"][0][2:]))
        alice = chain.dev_accounts[1].account
        fresh = chain.send_raw_transaction(signed(chain, alice, to="0x" + "00" * 20, value=1, gas=21_000))
        chain.seal_pending()
        assert chain.find_transaction(fresh) is not None
    finally:
        chain.close()
