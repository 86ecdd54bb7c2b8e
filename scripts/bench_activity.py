#!/usr/bin/env python3
"""What the activity stream costs the chain: the work done on the sealing thread per block, against the
time a block takes to seal, measured in the same run.

On fresh in-memory chains (sealing each transaction at once, no index follower), N one-transfer blocks
are sealed through the services (the baseline: what one block costs end to end, the stream's listener
included); then, for the same blocks, the listener's own work is timed alone: reading the block and, on
the permissioned chain, recovering its seals (`ActivitySources.describe_block`); and one
`ActivityHub.publish` with 0, 1 and 100 subscribers that never read (bounded queues: they drop).

    .venv/bin/python scripts/bench_activity.py            # N = 200 blocks per chain
    .venv/bin/python scripts/bench_activity.py -n 50      # quick
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pydantic import SecretStr  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from registry.activity import ActivityHub, ActivitySources  # noqa: E402
from registry.runtime import Registry  # noqa: E402
from registry.settings import Settings  # noqa: E402

PASSPHRASE = "benchmark passphrase, not a secret"


def _seconds_per(count: int, started: float) -> float:
    return (time.perf_counter() - started) / count


def bench_chain(registry: Registry, chain: str, blocks: int) -> tuple[float, float]:
    """Seconds per sealed block (end to end) and per listener call for the same blocks."""
    issuer = registry.keys.create(f"bench issuer {chain}", chains=[chain]).address
    cash = registry.cash.issue(chain, {"name": "Bench USD", "symbol": "bUSD"}, issuer=issuer).asset.asset_id
    registry.cash.mint(cash, issuer, 10**12, sender=issuer)
    started = time.perf_counter()
    outcomes = [registry.cash.transfer(cash, issuer, 1, sender=issuer) for _ in range(blocks)]
    per_block = _seconds_per(blocks, started)
    sources = ActivitySources(ActivityHub())
    stops = sources.attach_chain(registry.chain(chain))
    try:
        started = time.perf_counter()
        for outcome in outcomes:
            sources.describe_block(chain, outcome.block_number, bytes(outcome.block_hash))
        per_listener = _seconds_per(blocks, started)
    finally:
        for stop in stops:
            stop()
    return per_block, per_listener


def bench_publish(subscribers: int, count: int) -> float:
    """Seconds per publish with ``subscribers`` readers that never read."""
    hub = ActivityHub(queue_size=100)
    feeds = [hub.subscribe() for _ in range(subscribers)]
    data = {"chain": "permissioned", "number": 1, "hash": "0x" + "00" * 32, "sealers": [], "validators": []}
    started = time.perf_counter()
    for _ in range(count):
        hub.publish("block", data)
    per = _seconds_per(count, started)
    for feed in feeds:
        feed.close()
    return per


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--blocks", type=int, default=200, help="blocks sealed per chain")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    console = Console()
    table = Table(title=f"The activity stream's cost per block ({args.blocks} blocks per chain)")
    for column in ("chain", "seal one block (ms)", "listener per block (ms)", "listener / seal"):
        table.add_column(column, justify="right")
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            data_dir=Path(folder),
            keystore_passphrase=SecretStr(PASSPHRASE),
            keystore_kdf_n=2,
            receipt_wait_seconds=0.2,
        )
        with Registry.open(settings, in_memory=True, sealing="instant", follow=False) as registry:
            for chain in ("permissioned", "permissionless"):
                per_block, per_listener = bench_chain(registry, chain, args.blocks)
                table.add_row(
                    chain,
                    f"{per_block * 1e3:.2f}",
                    f"{per_listener * 1e3:.3f}",
                    f"{per_listener / per_block:.1%}",
                )
    console.print(table)
    publishes = Table(title="ActivityHub.publish (readers that never read, queues of 100)")
    for column in ("subscribers", "per publish (µs)", "ratio to none"):
        publishes.add_column(column, justify="right")
    baseline = bench_publish(0, 20_000)
    for subscribers in (0, 1, 100):
        per = baseline if subscribers == 0 else bench_publish(subscribers, 20_000)
        publishes.add_row(str(subscribers), f"{per * 1e6:.1f}", f"{per / baseline:.1f}x")
    console.print(publishes)


if __name__ == "__main__":
    main()
