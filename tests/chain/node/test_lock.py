"""One process at a time per chain folder; the lock says who holds it and dies with its process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from registry.chain.errors import ChainDataError, ChainInUseError
from registry.chain.node.chain import EmbeddedChain
from registry.chain.node.lock import holder
from registry.chain.node.modes import PermissionlessMode
from tests.chain.conftest import PERMISSIONLESS_CHAIN_ID, ROOT

HOLDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from registry.chain.node.chain import EmbeddedChain
    from registry.chain.node.modes import PermissionlessMode

    chain = EmbeddedChain.open(PermissionlessMode(), data_dir=Path(sys.argv[1]), chain_id=int(sys.argv[2]))
    chain.advertise("http://127.0.0.1:1")
    print("open", flush=True)
    sys.stdin.read()  # until the test kills this process
    """
)


def open_chain(folder):
    return EmbeddedChain.open(PermissionlessMode(), data_dir=folder, chain_id=PERMISSIONLESS_CHAIN_ID)


def test_a_second_opener_is_refused_until_the_first_closes(tmp_path):
    folder = tmp_path / "chain"
    first = open_chain(folder)
    try:
        seen = holder(folder)
        assert seen is not None
        assert (seen.pid, seen.url) == (os.getpid(), None)
        first.advertise("http://127.0.0.1:8545")
        advertised = holder(folder)
        assert advertised is not None
        assert advertised.url == "http://127.0.0.1:8545"
        with pytest.raises(ChainInUseError, match=rf"pid {os.getpid()}, serving it at http://127.0.0.1:8545"):
            open_chain(folder)
    finally:
        first.close()
    assert holder(folder) is None
    open_chain(folder).close()


def test_the_lock_of_a_killed_process_is_released(tmp_path):
    folder = tmp_path / "chain"
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(folder), str(PERMISSIONLESS_CHAIN_ID)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "open", child.stderr.read() if child.stderr else ""
        seen = holder(folder)
        assert seen is not None
        assert (seen.pid, seen.url) == (child.pid, "http://127.0.0.1:1")
        with pytest.raises(ChainInUseError, match=f"pid {child.pid}"):
            open_chain(folder)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        for stream in (child.stdin, child.stdout, child.stderr):
            if stream is not None:
                stream.close()
    assert holder(folder) is None
    chain = open_chain(folder)
    chain.close()


def test_a_failed_open_leaves_the_folder_free(tmp_path):
    folder = tmp_path / "chain"
    open_chain(folder).close()
    with pytest.raises(ChainDataError, match="chain id"):
        EmbeddedChain.open(PermissionlessMode(), data_dir=folder, chain_id=PERMISSIONLESS_CHAIN_ID + 1)
    assert holder(folder) is None
    open_chain(folder).close()
