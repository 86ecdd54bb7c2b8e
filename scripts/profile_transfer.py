#!/usr/bin/env python3
"""Where one ERC-20 transfer's time goes on the embedded chain, phase by phase.

Signs N transfers, submits them (through web3.py, and straight to the JSON-RPC
dispatcher), seals them, and fetches their receipts (both ways again), each phase
alone on a chain that seals only when told, so that no phase waits for another.
Prints milliseconds per transfer: the fastest of a few repetitions, each on a fresh
chain, since a shared machine only ever adds time.

    python scripts/profile_transfer.py            # 1,000 transfers, best of 3
    python scripts/profile_transfer.py -n 300 --repeat 5
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from web3 import Web3  # noqa: E402
from web3.types import RPCEndpoint  # noqa: E402

from registry.chain.node.chain import EmbeddedChain  # noqa: E402
from registry.chain.node.modes import PermissionlessMode  # noqa: E402
from registry.chain.rpc.provider import EmbeddedProvider  # noqa: E402
from registry.deploy import deploy  # noqa: E402

CHAIN_ID = 771_002
GWEI = 10**9


def _timed(action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def measure(count: int) -> dict[str, float]:
    """Seconds spent in each phase for ``count`` transfers (two runs of submission and receipts)."""
    chain = EmbeddedChain.open(PermissionlessMode(), data_dir=None, chain_id=CHAIN_ID, sealing="instant")
    w3 = Web3(EmbeddedProvider(chain))
    sender = chain.dev_accounts[0].account
    token = deploy(w3, "PlainERC20", 10**24, sender=sender.address)
    chain.sealing = "manual"
    data = [token.encode_abi("transfer", [chain.dev_accounts[1 + i % 5].address, 1]) for i in range(5)]
    nonce = w3.eth.get_transaction_count(sender.address)

    def signed(offset: int) -> list[bytes]:
        return [
            bytes(
                sender.sign_transaction(
                    {
                        "type": 2,
                        "chainId": CHAIN_ID,
                        "nonce": offset + i,
                        "to": token.address,
                        "data": data[i % len(data)],
                        "gas": 60_000,
                        "maxFeePerGas": 100 * GWEI,
                        "maxPriorityFeePerGas": GWEI,
                        "value": 0,
                    }
                ).raw_transaction
            )
            for i in range(count)
        ]

    phases: dict[str, float] = {}
    raws: list[bytes] = []
    phases["sign (eth-account)"] = _timed(lambda: raws.extend(signed(nonce)))
    hashes: list[Any] = []
    phases["submit through web3.py"] = _timed(
        lambda: hashes.extend(w3.eth.send_raw_transaction(r) for r in raws)
    )
    phases["seal (execute, roots, write)"] = _timed(lambda: _seal_all(chain))
    phases["receipts through web3.py"] = _timed(lambda: [w3.eth.get_transaction_receipt(h) for h in hashes])

    direct = signed(nonce + count)
    provider = w3.provider
    phases["submit, dispatcher only"] = _timed(
        lambda: [
            provider.make_request(RPCEndpoint("eth_sendRawTransaction"), ["0x" + r.hex()]) for r in direct
        ]
    )
    _seal_all(chain)
    direct_hashes = [Web3.to_hex(Web3.keccak(r)) for r in direct]
    answers: list[Any] = []
    phases["receipts, dispatcher only"] = _timed(
        lambda: answers.extend(
            provider.make_request(RPCEndpoint("eth_getTransactionReceipt"), [h]) for h in direct_hashes
        )
    )
    chain.close()
    if not all(answer.get("result") for answer in answers):
        raise RuntimeError("a receipt was missing: the measurement is not valid")
    return phases


def _seal_all(chain: EmbeddedChain) -> None:
    while chain.seal_pending() is not None:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=1_000, help="transfers to measure (default 1,000)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions; the fastest counts (default 3)")
    args = parser.parse_args()
    runs = [measure(args.n) for _ in range(max(1, args.repeat))]
    phases = {name: min(run[name] for run in runs) for name in runs[0]}
    table = Table(
        "phase",
        "ms per transfer",
        title=f"one ERC-20 transfer on the embedded chain ({args.n:,}, best of {len(runs)})",
    )
    for name, seconds in phases.items():
        table.add_row(name, f"{seconds / args.n * 1000:.3f}")
    Console().print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
