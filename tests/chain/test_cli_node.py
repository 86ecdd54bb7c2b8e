"""``registry node``: serves one chain over HTTP and prints, as anvil does, its id and a faucet."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_utils.crypto import keccak
from web3 import Web3
from web3.types import RPCEndpoint

from registry.chain.accounts import dev_accounts
from registry.chain.node.chain import EmbeddedChain
from registry.chain.node.modes import PermissionlessMode

from .conftest import PERMISSIONLESS_CHAIN_ID, ROOT, free_port, sign

REGISTRY = str(Path(sys.executable).parent / "registry")


def start_node(
    data_dir: Path, port: int, chain: str = "permissionless"
) -> tuple[subprocess.Popen[str], list[str]]:
    command = [REGISTRY, "node", "--chain", chain]
    command += ["--port", str(port), "--data-dir", str(data_dir)]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "REGISTRY_PERMISSIONLESS_RPC_URL": "", "REGISTRY_PERMISSIONED_RPC_URL": ""},
    )
    lines: list[str] = []
    deadline = time.monotonic() + 60
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("Listening on"):
            return process, lines
    process.kill()
    process.wait()
    raise AssertionError("the node did not start:\n" + "\n".join(lines))


def test_node_serves_json_rpc_and_prints_a_usable_faucet(tmp_path):
    port = free_port()
    process, lines = start_node(tmp_path, port)
    try:
        output = "\n".join(lines)
        chain_id_line = re.search(r"Chain ID\s+(\d+)", output)
        faucet_line = re.search(r"Faucet key\s+(0x[0-9a-f]{64})", output)
        assert chain_id_line is not None
        assert faucet_line is not None
        chain_id = int(chain_id_line.group(1))
        faucet_key = faucet_line.group(1)
        assert f"http://127.0.0.1:{port}" in output

        w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{port}", request_kwargs={"timeout": 30}))
        assert w3.eth.chain_id == chain_id
        faucet = Account.from_key(faucet_key)
        newcomer = Account.create()
        tx = {
            "type": 2,
            "chainId": chain_id,
            "nonce": w3.eth.get_transaction_count(faucet.address),
            "to": newcomer.address,
            "value": 10**18,
            "gas": 21_000,
            "maxFeePerGas": 10 * 10**9,
            "maxPriorityFeePerGas": 10**9,
        }
        tx_hash = w3.eth.send_raw_transaction(faucet.sign_transaction(tx).raw_transaction)
        assert w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)["status"] == 1
        assert w3.eth.get_balance(newcomer.address) == 10**18
        assert (tmp_path / "chains" / "permissionless" / "chain.sqlite3").is_file()
    finally:
        process.send_signal(signal.SIGTERM)
        remaining, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "stopping" in remaining


def test_the_permissioned_node_says_who_verifies_wallets_and_the_command_works_while_it_runs(tmp_path):
    port = free_port()
    process, lines = start_node(tmp_path, port, "permissioned")
    try:
        output = "\n".join(lines)
        provider = re.search(r"KYC provider\s+(0x[0-9a-fA-F]{40})", output)
        assert provider is not None
        assert "registry kyc register --chain permissioned 0xYOUR_WALLET" in output
        participant = Account.create().address
        registered = subprocess.run(
            [
                REGISTRY,
                "kyc",
                "register",
                "--chain",
                "permissioned",
                participant,
                "--data-dir",
                str(tmp_path),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, "REGISTRY_PERMISSIONED_RPC_URL": ""},
        )
        assert registered.returncode == 0, registered.stdout + registered.stderr
        assert f"{participant} registered" in registered.stdout
        assert f"through the node at http://127.0.0.1:{port}" in registered.stdout
        w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{port}", request_kwargs={"timeout": 30}))
        is_verified = "0x" + keccak(text="isVerified(address)")[:4].hex() + "00" * 12 + participant[2:]
        call = {"to": "0x1d00000000000000000000000000000000000001", "data": is_verified}
        answer = w3.provider.make_request(RPCEndpoint("eth_call"), [call, "latest"])["result"]
        assert int(answer, 16) == 1
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert process.returncode == 0


def _rpc(url: str, payload: Any) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def _transfers(account: Any, first_nonce: int, count: int) -> list[dict[str, Any]]:
    recipient = Account.create().address
    return [
        {
            "jsonrpc": "2.0",
            "id": nonce,
            "method": "eth_sendRawTransaction",
            "params": ["0x" + sign(account, nonce=nonce, to=recipient, value=1).hex()],
        }
        for nonce in range(first_nonce, first_nonce + count)
    ]


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_during_a_burst_finishes_the_block_and_closes_the_database(tmp_path, stop_signal):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process, _lines = start_node(tmp_path, port)
    faucet = dev_accounts("permissionless", PERMISSIONLESS_CHAIN_ID, 1, 0)[0].account
    try:
        first = _rpc(url, _transfers(faucet, 0, 200))
        receipt = _rpc(
            url,
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "eth_getTransactionReceipt",
                "params": [first[-1]["result"]],
            },
        )
        assert receipt["result"]["status"] == "0x1"
        # A second burst: the builder is gathering or sealing it when the signal arrives.
        second = _rpc(url, _transfers(faucet, 200, 200))
        assert all("result" in answer for answer in first + second)
    finally:
        process.send_signal(stop_signal)
        remaining, _ = process.communicate(timeout=60)
    assert process.returncode == 0, remaining
    closed = re.search(r"closed the permissionless chain at block #(\d+)", remaining)
    assert closed is not None, remaining
    chain_file = tmp_path / "chains" / "permissionless" / "chain.sqlite3"
    # A clean close checkpoints SQLite's write-ahead log into the database and removes it.
    assert not chain_file.with_name(chain_file.name + "-wal").exists()
    reopened = EmbeddedChain.open(
        PermissionlessMode(), data_dir=chain_file.parent, chain_id=PERMISSIONLESS_CHAIN_ID, sealing="manual"
    )
    try:
        head = reopened.block_number
        assert head == int(closed.group(1))
        mined = {tx.hash for number in range(1, head + 1) for tx in reopened.get_block(number).transactions}
        sent = [bytes.fromhex(answer["result"][2:]) for answer in first + second]
        # Every transaction of the first burst had its block; of the second, a prefix of the
        # nonces made it into finished blocks and the rest was dropped with the pool.
        assert all(tx_hash in mined for tx_hash in sent[:200])
        landed = [tx_hash in mined for tx_hash in sent[200:]]
        assert landed == sorted(landed, reverse=True)
        assert reopened.nonce(bytes.fromhex(faucet.address[2:])) == 200 + sum(landed)
    finally:
        reopened.close()
