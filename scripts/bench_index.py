#!/usr/bin/env python3
"""How fast the index catches up with a chain, and how fast it answers a cap table.

On an in-memory embedded permissionless chain: a StockToken (open mode) minted to ``--holders``
holders, then ``--transfers`` transfers between them (``batchTransfer`` calls from 50 senders, so
that the chain is built in minutes, not hours; every transfer is its own Transfer event). Then:

- **catch-up**: a new index (SQLite file; PostgreSQL when reachable) syncs the whole chain; events
  per second. Baseline, in the same run: web3.py reading the same logs with ``eth_getLogs`` and
  decoding them with the contract's ABI (``process_log``), writing nothing.
- **cap table**: the first page (100 holders, largest first) now and at the block right after the
  mints (before the transfers, so that most of its versions were closed since), ``--queries`` times
  each; p50 and p99. Baselines: the same page's 100 balances read from the contract with
  ``balanceOf`` through web3.py, a naive read of the same database (every holding alive at the
  block, sorted in Python), and, once, the contract-only way: ``balanceOf`` of every holder, sorted.

    .venv/bin/python scripts/bench_index.py                      # 10,000 holders, 50,000 transfers
    .venv/bin/python scripts/bench_index.py --holders 1000 --transfers 5000 --queries 50   # quick
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from eth_utils.crypto import keccak  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402
from web3 import Web3  # noqa: E402
from web3.contract import Contract  # noqa: E402
from web3.middleware import SignAndSendRawMiddlewareBuilder  # noqa: E402

from registry.chain.backend import ChainHandle, connect  # noqa: E402
from registry.deploy import deploy_with_receipt  # noqa: E402
from registry.index import Database, Indexer, catalogue, queries  # noqa: E402
from registry.index.models import Holding  # noqa: E402
from registry.settings import Settings  # noqa: E402

SENDERS = 50
BATCH = 250
"""Transfers per batchTransfer call (about 8M gas: well under the block gas limit)."""
PAGE = 100
POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@dataclass
class Built:
    """The chain the benchmark indexes."""

    handle: ChainHandle
    w3: Web3
    token: Contract
    deployed_block: int
    past_block: int
    holders: Sequence[str]
    transfers: int


def build_chain(data_dir: Path, holders: int, transfers: int, seed: int) -> Built:
    """The chain: a StockToken minted to ``holders`` holders, then ``transfers`` transfers."""
    settings = Settings(data_dir=data_dir, dev_accounts=SENDERS + 1)
    # One block per call: 250 transfers a block, so that holdings change over many blocks.
    handle = connect("permissionless", settings, in_memory=True, embedded=True, sealing="instant")
    assert handle.embedded is not None
    accounts = [dev.account for dev in handle.embedded.dev_accounts]
    w3 = handle.w3
    w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(accounts), layer=0)
    admin, senders = accounts[0].address, [a.address for a in accounts[1:]]
    cash, _ = deploy_with_receipt(w3, "CashToken", "Cash", "CASH", admin, sender=admin)
    zero = "0x" + "00" * 20
    token, receipt = deploy_with_receipt(
        w3, "StockToken", "Bench Shares", "BNCH", cash.address, admin, zero, False, 0, sender=admin
    )
    wallets = [Web3.to_checksum_address(keccak(text=f"bench holder {i}")[:20]) for i in range(holders)]
    # Every holder gets 1..100 shares; the senders get enough to send all the transfers.
    rng = random.Random(seed)
    mints = [(w, rng.randint(1, 100)) for w in wallets] + [(s, 10**9) for s in senders]
    _send_all(
        w3,
        [
            (admin, token.functions.batchMint([w for w, _ in chunk], [a for _, a in chunk]))
            for chunk in _chunks(mints, BATCH)
        ],
    )
    past_block = int(w3.eth.block_number)
    calls = []
    for number in range(0, transfers, BATCH):
        count = min(BATCH, transfers - number)
        sender = senders[(number // BATCH) % len(senders)]
        recipients = [rng.choice(wallets) for _ in range(count)]
        calls.append(
            (sender, token.functions.batchTransfer(recipients, [rng.randint(1, 5) for _ in recipients]))
        )
    _send_all(w3, calls)
    return Built(handle, w3, token, int(receipt["blockNumber"]), past_block, wallets + senders, transfers)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _send_all(w3: Web3, calls: Sequence[tuple[str, Any]]) -> None:
    """Send every call (one sender's in nonce order) without waiting, then wait for every receipt."""
    nonces: dict[str, int] = {}
    hashes = []
    for sender, call in calls:
        nonce = nonces.get(sender)
        if nonce is None:
            nonce = int(w3.eth.get_transaction_count(Web3.to_checksum_address(sender)))
        hashes.append(call.transact({"from": sender, "gas": 12_000_000, "nonce": nonce}))
        nonces[sender] = nonce + 1
    for tx_hash in hashes:
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=600)
        assert receipt["status"] == 1, receipt


# ---------------------------------------------------------------------------------------------- catch-up


@dataclass
class CatchUp:
    seconds: float
    events: int

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def index_chain(built: Built, url: str) -> tuple[Database, str, CatchUp]:
    db = Database.open(url)
    with db.write() as session:
        asset = catalogue.add_asset(
            session,
            chain="permissionless",
            chain_id=built.handle.chain_id,
            address=built.token.address,
            kind="stock",
            mode="open",
            name="Bench Shares",
            symbol="BNCH",
            decimals=0,
            terms={},
            deployed_block=built.deployed_block,
        )
    indexer = Indexer.for_handle(db, built.handle)
    started = time.perf_counter()
    report = indexer.sync()
    return db, asset.asset_id, CatchUp(time.perf_counter() - started, report.events)


def versions(db: Database, asset_id: str) -> int:
    """How many holding versions the index keeps for the asset."""
    with db.read() as session:
        return int(
            session.scalar(select(func.count()).select_from(Holding).where(Holding.asset_id == asset_id)) or 0
        )


def read_logs_with_web3(built: Built) -> CatchUp:
    """Baseline: eth_getLogs over the same ranges and web3.py's ABI decoding, nothing written."""
    event = built.token.events.Transfer()
    head = int(built.w3.eth.block_number)
    started = time.perf_counter()
    decoded = 0
    for start in range(0, head + 1, 1_000):
        logs = built.w3.eth.get_logs(
            {"address": built.token.address, "fromBlock": start, "toBlock": min(head, start + 999)}
        )
        for log in logs:
            # Other events of the token (RoleGranted...) do not fit Transfer's ABI: skipped, still counted.
            with contextlib.suppress(Exception):
                event.process_log(log)
            decoded += 1
    return CatchUp(time.perf_counter() - started, decoded)


# ---------------------------------------------------------------------------------------------- cap table


def latencies(run: Callable[[], object], count: int) -> tuple[float, float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def naive_page(db: Database, asset_id: str, block: int) -> list[tuple[int, str]]:
    """Every holding alive at ``block``, sorted in Python: what a table without the ordered index costs."""
    with db.read() as session:
        rows = session.execute(
            select(Holding.balance_raw, Holding.wallet).where(
                Holding.asset_id == asset_id,
                Holding.block_from <= block,
                Holding.block_to > block,
                Holding.balance_raw > 0,
            )
        ).all()
    return sorted(((int(balance), str(wallet)) for balance, wallet in rows), reverse=True)[:PAGE]


def cap_page(db: Database, asset_id: str, block: int | None) -> queries.CapTablePage:
    with db.read() as session:
        return queries.cap_table(session, asset_id, block=block, limit=PAGE)


def contract_page(built: Built, wallets: Sequence[str], block: int) -> list[int]:
    return [built.token.functions.balanceOf(w).call(block_identifier=block) for w in wallets]


# ---------------------------------------------------------------------------------------------- postgres


@contextlib.contextmanager
def postgres_database(server: str | None) -> Iterator[str | None]:
    """A scratch database on ``server`` (None: no PostgreSQL), dropped afterwards."""
    if server is None:
        yield None
        return
    name = f"registry_bench_{os.getpid()}"
    try:
        admin = create_engine(server, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"PostgreSQL skipped: {server} is unreachable ({exc.__class__.__name__})")
        yield None
        return
    try:
        yield server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# ---------------------------------------------------------------------------------------------- main


def catch_up_table(built: Built, databases: dict[str, str]) -> tuple[Table, dict[str, tuple[Database, str]]]:
    """Index the chain into each database; the table of rates against web3.py's own reading."""
    baseline = read_logs_with_web3(built)
    table = Table(title="index catch-up (the whole chain)")
    for column in ("way", "events", "seconds", "events/s", "x baseline"):
        table.add_column(column, justify="left" if column == "way" else "right")
    table.add_row(
        "web3.py get_logs + decode, nothing written (baseline)",
        f"{baseline.events:,}",
        f"{baseline.seconds:.1f}",
        f"{baseline.rate:,.0f}",
        "1.00",
    )
    indexed: dict[str, tuple[Database, str]] = {}
    for label, url in databases.items():
        db, asset_id, result = index_chain(built, url)
        indexed[label] = (db, asset_id)
        table.add_row(
            f"index into {label}",
            f"{result.events:,}",
            f"{result.seconds:.1f}",
            f"{result.rate:,.0f}",
            f"{result.rate / baseline.rate:.2f}",
        )
    return table, indexed


def latency_table(built: Built, indexed: dict[str, tuple[Database, str]], count: int) -> Table:
    """Cap-table latencies now and at the past block, against the baselines."""
    head = int(built.w3.eth.block_number)
    table = Table(
        title=f"cap table, first page of {PAGE}, {len(built.holders):,} holders, {count} queries each"
    )
    for column in ("database", "way", "block", "p50 ms", "p99 ms", "x ours (p50)"):
        table.add_column(column, justify="left" if column in ("database", "way", "block") else "right")

    def row(database: str, way: str, where: str, measured: tuple[float, float], ours: float) -> None:
        table.add_row(
            database, way, where, f"{measured[0]:.2f}", f"{measured[1]:.2f}", f"{measured[0] / ours:.2f}"
        )

    for label, (db, asset_id) in indexed.items():
        for name, block in (("now", head), ("past", built.past_block)):
            where = f"{name} (#{block})"
            ours = latencies(partial(cap_page, db, asset_id, None if name == "now" else block), count)
            row(label, "registry.index.queries.cap_table", where, ours, ours[0])
            naive = latencies(partial(naive_page, db, asset_id, block), max(5, count // 10))
            row(label, "naive: every holding at the block, sorted in Python", where, naive, ours[0])
            if label == "SQLite":
                wallets = [e.wallet for e in cap_page(db, asset_id, block).entries]
                contract = latencies(partial(contract_page, built, wallets, block), max(5, count // 10))
                row("contract", "balanceOf of the page's wallets via web3", where, contract, ours[0])
    if "SQLite" in indexed:
        started = time.perf_counter()
        balances = contract_page(built, built.holders, head)
        sorted(zip(balances, built.holders, strict=True), reverse=True)[:PAGE]
        full = (time.perf_counter() - started) * 1000
        ours_now = latencies(partial(cap_page, *indexed["SQLite"], None), 20)[0]
        table.add_row(
            "contract",
            f"balanceOf of all {len(built.holders):,} holders, sorted (once)",
            "now",
            f"{full:.0f}",
            "",
            f"{full / ours_now:.0f}",
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--holders", type=int, default=10_000)
    parser.add_argument("--transfers", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=200, help="cap-table queries per row")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--postgres", default=POSTGRES_SERVER, help="server to create a scratch database on")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    console = Console(width=150)
    with tempfile.TemporaryDirectory(prefix="bench-index-") as scratch:
        started = time.perf_counter()
        built = build_chain(Path(scratch) / "data", args.holders, args.transfers, args.seed)
        console.print(
            f"chain: {args.holders:,} holders, {built.transfers:,} transfers in "
            f"{built.w3.eth.block_number:,} blocks, built in {time.perf_counter() - started:.0f} s"
        )
        with postgres_database(None if args.no_postgres else args.postgres) as pg_url:
            databases = {"SQLite": f"sqlite:///{Path(scratch) / 'index.sqlite3'}"}
            if pg_url is not None:
                databases["PostgreSQL"] = pg_url
            catch_up, indexed = catch_up_table(built, databases)
            try:
                latency = latency_table(built, indexed, args.queries)
                held = versions(*indexed["SQLite"])
            finally:
                for db, _ in indexed.values():
                    db.close()
        built.handle.close()
    console.print(catch_up)
    console.print(latency)
    console.print(f"holding versions in the index: {held:,} ({held / len(built.holders):.1f} per holder)")


if __name__ == "__main__":
    main()
