"""A sealed block survives kill -9: the chain runs in a child process that is killed mid-stream."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any

from registry.chain.node.chain import EmbeddedChain
from registry.chain.node.modes import PermissionlessMode
from tests.chain.conftest import PERMISSIONLESS_CHAIN_ID, ROOT

CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from registry.chain.node.chain import EmbeddedChain
    from registry.chain.node.modes import PermissionlessMode

    chain = EmbeddedChain.open(PermissionlessMode(), data_dir=Path(sys.argv[1]), chain_id=int(sys.argv[2]))
    # Announced only after the block's database transaction committed.
    chain.subscribe(lambda event: print(event.number, event.hash.hex(), flush=True))
    sender = chain.dev_accounts[0].account
    nonce = 0
    while True:
        tx = {"type": 2, "chainId": chain.chain_id, "nonce": nonce, "to": sender.address, "value": 1,
              "gas": 21000, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 1}
        chain.send_raw_transaction(sender.sign_transaction(tx).raw_transaction)
        nonce += 1
    """
)


def test_kill_9_loses_no_sealed_block(tmp_path):
    folder = tmp_path / "permissionless"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(folder), str(PERMISSIONLESS_CHAIN_ID)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    announced: list[tuple[int, str]] = []
    try:
        deadline = time.monotonic() + 60
        assert child.stdout is not None
        while len(announced) < 8 and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            shown_number, shown_hash = line.split()
            announced.append((int(shown_number), shown_hash))
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        stderr = child.stderr.read() if child.stderr else ""
        for stream in (child.stdout, child.stderr):
            if stream is not None:
                stream.close()
    assert len(announced) >= 8, f"the child announced {announced}; stderr: {stderr[-2000:]}"
    assert child.returncode == -signal.SIGKILL

    chain = EmbeddedChain.open(PermissionlessMode(), data_dir=folder, chain_id=PERMISSIONLESS_CHAIN_ID)
    try:
        last_number, _ = announced[-1]
        assert chain.block_number >= last_number
        for number, block_hash in announced:
            assert chain.get_header(number).hash.hex() == block_hash
        # The reopened chain keeps going from where the killed one stopped.
        sender = chain.dev_accounts[0].account
        nonce = chain.nonce(bytes.fromhex(sender.address[2:]))
        tx: dict[str, Any] = {
            "type": 2,
            "chainId": chain.chain_id,
            "nonce": nonce,
            "to": sender.address,
            "value": 1,
            "gas": 21000,
            "maxFeePerGas": 10**10,
            "maxPriorityFeePerGas": 1,
        }
        tx_hash = chain.send_raw_transaction(sender.sign_transaction(tx).raw_transaction)
        assert chain.wait_until_mined(tx_hash, timeout=30)
    finally:
        chain.close()
