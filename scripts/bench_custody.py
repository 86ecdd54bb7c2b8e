#!/usr/bin/env python3
"""What custody costs over bare web3.py, and what pipelining a batch gains, on the embedded chains.

For each chain, N ERC-20 transfers from one development account, four ways:

- web3.py one at a time (baseline): sign locally with a nonce counted by hand, send raw, wait;
- custody ``send`` one at a time: the same plus a gas estimate, fees and the nonce book;
- web3.py pipelined: all signed ahead, all sent, then all receipts awaited;
- custody ``send_many``: the same through custody (each transfer's gas estimated by the node);
- custody ``send_many`` with the gas given: what the pipeline costs without the estimates.

Ratios are against the baseline measured in the same run; each way runs once per round on a fresh
in-memory chain, rounds interleave the ways, and the median round is shown. Then
the time of one gas estimate, and the keystore: creating and unlocking one key at the default scrypt
work factor (2**18).

    .venv/bin/python scripts/bench_custody.py                    # 300 transfers per way, 3 rounds
    .venv/bin/python scripts/bench_custody.py -n 50 --rounds 1   # quick
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pydantic import SecretStr  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from web3 import Web3  # noqa: E402

from registry.artifacts import load_artifact  # noqa: E402
from registry.chain.backend import ChainHandle, connect  # noqa: E402
from registry.custody import PreparedTransaction, Signers, TransactionSender  # noqa: E402
from registry.custody.keystore import Keystore  # noqa: E402
from registry.settings import DEFAULT_KDF_N, Settings  # noqa: E402

GWEI = 10**9
BARE_GAS = 80_000
"""Gas limit of the transfers sent without an estimate (a transfer to a new holder needs about 52,000)."""
WAYS = (
    "web3.py one at a time",
    "custody send",
    "web3.py pipelined",
    "custody send_many",
    "custody send_many, gas given",
)
BASELINE = WAYS[0]


def _chain(name: str, data_dir: Path) -> tuple[ChainHandle, TransactionSender, Any]:
    handle = connect(name, Settings(data_dir=data_dir), in_memory=True, embedded=True)
    sender = TransactionSender.for_chain(handle, Signers.for_chain(handle, None))
    assert handle.embedded is not None
    owner = handle.embedded.dev_accounts[1].account
    artifact = load_artifact("PlainERC20")
    factory = handle.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    created = sender.send(
        PreparedTransaction(
            chain=handle.name,
            sender=owner.address,
            to=None,
            data=factory.constructor(10**30).data_in_transaction,
            description="deploy PlainERC20",
        )
    )
    assert created.contract_address is not None
    token = handle.w3.eth.contract(address=created.contract_address, abi=artifact.abi)
    return handle, sender, token


def _transfers(handle: ChainHandle, token: Any, owner: str, count: int) -> list[PreparedTransaction]:
    assert handle.embedded is not None
    receivers = [account.address for account in handle.embedded.dev_accounts[2:7]]
    return [
        PreparedTransaction(
            chain=handle.name,
            sender=Web3.to_checksum_address(owner),
            to=token.address,
            data=token.encode_abi("transfer", [receivers[i % len(receivers)], 1]),
            description=f"transfer {i}",
        )
        for i in range(count)
    ]


def _bare(
    handle: ChainHandle, sender: TransactionSender, txs: list[PreparedTransaction], *, pipelined: bool
) -> None:
    """web3.py alone: nonces counted by hand, fixed gas and fees, receipts awaited."""
    assert handle.embedded is not None
    w3 = handle.w3
    account = handle.embedded.dev_accounts[1].account
    nonce = w3.eth.get_transaction_count(account.address, "pending")
    base: dict[str, Any] = {
        "type": 2,
        "chainId": sender.chain_id,
        "gas": BARE_GAS,
        "maxFeePerGas": 50 * GWEI,
        "maxPriorityFeePerGas": GWEI,
    }
    hashes = []
    for offset, tx in enumerate(txs):
        fields: dict[str, Any] = {**base, "nonce": nonce + offset, "to": tx.to, "data": tx.data}
        raw = account.sign_transaction(fields).raw_transaction
        tx_hash = w3.eth.send_raw_transaction(raw)
        if pipelined:
            hashes.append(tx_hash)
        else:
            assert w3.eth.wait_for_transaction_receipt(tx_hash, poll_latency=0.005)["status"] == 1
    for tx_hash in hashes:
        assert w3.eth.wait_for_transaction_receipt(tx_hash, poll_latency=0.005)["status"] == 1


def _run(way: str, handle: ChainHandle, sender: TransactionSender, txs: list[PreparedTransaction]) -> None:
    if way == "web3.py one at a time":
        _bare(handle, sender, txs, pipelined=False)
    elif way == "custody send":
        for tx in txs:
            sender.send(tx)
    elif way == "web3.py pipelined":
        _bare(handle, sender, txs, pipelined=True)
    elif way == "custody send_many":
        sender.send_many(txs).raise_for_failure()
    else:
        sender.send_many([tx.with_gas(BARE_GAS) for tx in txs]).raise_for_failure()


def measure_chain(name: str, count: int, rounds: int = 1) -> dict[str, float]:
    """Transfers per second of each way on chain ``name``: the median of ``rounds`` rounds, each way
    once per round on a fresh chain, so that a slow spell of a shared machine falls on every way."""
    rates: dict[str, list[float]] = {way: [] for way in WAYS}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(rounds):
            for way in WAYS:
                handle, sender, token = _chain(name, Path(folder))
                try:
                    assert handle.embedded is not None
                    txs = _transfers(handle, token, handle.embedded.dev_accounts[1].account.address, count)
                    start = time.perf_counter()
                    _run(way, handle, sender, txs)
                    rates[way].append(count / (time.perf_counter() - start))
                finally:
                    sender.close()
                    handle.close()
    return {way: statistics.median(values) for way, values in rates.items()}


def measure_estimate(name: str, count: int) -> float:
    """Milliseconds per ``eth_estimateGas`` of an ERC-20 transfer (through the sender, as custody asks)."""
    with tempfile.TemporaryDirectory() as folder:
        handle, sender, token = _chain(name, Path(folder))
        try:
            assert handle.embedded is not None
            txs = _transfers(handle, token, handle.embedded.dev_accounts[1].account.address, count)
            start = time.perf_counter()
            for tx in txs:
                sender.estimate(tx)
            return (time.perf_counter() - start) / count * 1000
        finally:
            sender.close()
            handle.close()


def measure_keystore(kdf_n: int) -> tuple[float, float]:
    """Seconds to create one key and to unlock it in a new process (a new `Keystore`)."""
    with tempfile.TemporaryDirectory() as folder:
        passphrase = SecretStr("benchmark passphrase")
        start = time.perf_counter()
        info = Keystore(Path(folder), passphrase, kdf_n=kdf_n).create("bench")
        created = time.perf_counter() - start
        start = time.perf_counter()
        Keystore(Path(folder), passphrase, kdf_n=kdf_n).unlock(info.address)
        return created, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", "--count", type=int, default=300, help="transfers per way and round (300)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the median is shown (3)")
    args = parser.parse_args(argv)
    # The work factor 2 is measured on purpose; its "fit for tests only" warning is not news here.
    logging.getLogger("registry.custody").setLevel(logging.ERROR)
    console = Console(width=120)
    table = Table(
        title=f"{args.count} ERC-20 transfers from one sender, per second (median of {args.rounds} rounds)"
    )
    table.add_column("way")
    for name in ("permissionless", "permissioned"):
        table.add_column(f"{name} tx/s", justify="right")
        table.add_column("x baseline", justify="right")
    results = {
        name: measure_chain(name, args.count, args.rounds) for name in ("permissionless", "permissioned")
    }
    for way in WAYS:
        row = [way + (" (baseline)" if way == BASELINE else "")]
        for name in ("permissionless", "permissioned"):
            rate = results[name][way]
            row += [f"{rate:,.0f}", f"{rate / results[name][BASELINE]:.2f}"]
        table.add_row(*row)
    console.print(table)
    estimates = ", ".join(
        f"{name} {measure_estimate(name, min(args.count, 100)):.1f} ms"
        for name in ("permissionless", "permissioned")
    )
    console.print(f"gas estimate of one transfer: {estimates}")
    keys = Table(title="keystore, one key (seconds)")
    keys.add_column("scrypt N")
    keys.add_column("create", justify="right")
    keys.add_column("unlock", justify="right")
    for kdf_n in (DEFAULT_KDF_N, 2):
        created, unlocked = measure_keystore(kdf_n)
        keys.add_row(f"{kdf_n:,}", f"{created:.3f}", f"{unlocked:.3f}")
    console.print(keys)
    return 0


if __name__ == "__main__":
    sys.exit(main())
