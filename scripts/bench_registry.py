#!/usr/bin/env python3
"""The service layer at scale, without HTTP: onboard and mint to N investors through `Registry`.

On one embedded chain (the permissioned one by default, on disk in a temporary data directory, as
the registry runs by default), with the index followers running as they always do, each way on fresh
chains of its own:

1. **services**: a kyc-mode bond, ``investors.batch_register`` of N investors, then
   ``tokens.batch_mint`` of N allocations: every chunk planned, dry-run, journaled, sent pipelined;
   total seconds and investors per second, with the time spent checking before sending and the
   process's CPU time (less swayed than the wall clock by other work on the machine);
2. **baseline**: the same work the plain way, with web3.py one transaction at a time (``registerInvestor``
   then ``mint``, signed locally, each receipt awaited), for a sample of investors, extrapolated to N;
3. **pipelined, unchecked**: the same batch calls (``batchRegisterInvestors``, ``batchMint``) for all N
   investors, sent pipelined with web3.py (eight at a time, with fresh fees), with no estimate, check or
   journal: what a hand-written script that trusts its input does;
4. **index**: how long the index took to reach the last mint's block once it landed (through
   ``Registry.wait_for_index``), a fresh index of the whole chain (events per second), and the cap
   table's latency (first page of 100 holders, p50 and p99) now and at a block in the middle.

Ratios are against the baseline of the same run. Targets (from the issue): N = 10,000 onboarded and
minted in under 30 s; cap table p50 under 20 ms; index catch-up at least 2,000 events/s.

    .venv/bin/python scripts/bench_registry.py                          # N = 10,000
    .venv/bin/python scripts/bench_registry.py -n 500 --sample 50       # quick
    .venv/bin/python scripts/bench_registry.py --chain permissionless
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from eth_account import Account  # noqa: E402
from eth_account.signers.local import LocalAccount  # noqa: E402
from eth_utils.address import to_checksum_address  # noqa: E402
from eth_utils.crypto import keccak  # noqa: E402
from hexbytes import HexBytes  # noqa: E402
from pydantic import SecretStr  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from registry.custody.transactions import PreparedTransaction  # noqa: E402
from registry.index import Database, Indexer, catalogue, queries  # noqa: E402
from registry.investors import InvestorSpec  # noqa: E402
from registry.runtime import Registry  # noqa: E402
from registry.settings import Settings  # noqa: E402

PASSPHRASE = "benchmark passphrase, not a secret"
DENOMINATION = 1_000 * 10**6
FIXED_GAS = 400_000
"""Gas of the baseline's one-at-a-time transactions (a registration needs about 150,000)."""
FUNDING = 100_000 * 10**18
TARGET_SECONDS = 30.0
TARGET_CAP_TABLE_MS = 20.0
TARGET_EVENTS_PER_SECOND = 2_000.0


@dataclass
class Bench:
    """An open registry with a kyc-mode bond to work on."""

    registry: Registry
    chain: str
    issuer: str
    bond: str
    kyc_provider: LocalAccount
    issuer_key: LocalAccount


@dataclass
class ServiceRun:
    """What the service layer did for N investors."""

    count: int
    register_seconds: float
    mint_seconds: float
    checking: dict[str, float]
    """Seconds from the start of each phase until every chunk was planned and checked (nothing sent yet)."""
    transactions: int
    last_block: int
    middle_block: int
    cpu_seconds: float = 0.0
    """CPU time of the whole process (chain builder, index followers, services) over both phases: less
    swayed than the wall clock by other work on the machine."""

    @property
    def total(self) -> float:
        return self.register_seconds + self.mint_seconds

    @property
    def checking_seconds(self) -> float:
        return sum(self.checking.values())


@dataclass
class IndexRun:
    """The index through the runtime."""

    catch_up_seconds: float
    reindex_events: int
    reindex_seconds: float
    now_ms: list[float] = field(default_factory=list)
    past_ms: list[float] = field(default_factory=list)


def wallets(label: str, count: int) -> list[str]:
    """``count`` fresh, deterministic wallet addresses (nobody's keys matter here)."""
    return [Account.from_key(keccak(text=f"bench registry {label} {i}")).address for i in range(count)]


def open_bench(data_dir: Path, chain: str) -> Bench:
    """A registry on disk in ``data_dir`` with an issuer, a cash token and a kyc-mode bond on ``chain``."""
    settings = Settings(
        data_dir=data_dir,
        keystore_passphrase=SecretStr(PASSPHRASE),
        keystore_kdf_n=2,
        receipt_wait_seconds=0.2,
    )
    registry = Registry.open(settings, chains=[chain])
    issuer = registry.keys.create(f"bench issuer {chain}", chains=[chain]).address
    # Full blocks raise the base fee 12.5% each (EIP-1559): thousands of batch items cost far more gas
    # money than a workshop key's allowance.
    _fund(registry, chain, issuer)
    cash = registry.cash.issue(chain, {"name": "Bench USD", "symbol": "bUSD"}, issuer=issuer).asset.asset_id
    now = registry.context.chain(chain).now()
    terms = {
        "name": "Bench 5% bond",
        "symbol": "BENCH",
        "isin": "US0378331005",
        "currency": cash,
        "denomination": DENOMINATION,
        "issue_volume": DENOMINATION * 10**9,
        "coupon_rate_bps": 500,
        "coupon_frequency": 2,
        "issue_date": now,
        "maturity_date": now + 10 * 365 * 86_400,
    }
    bond = registry.bonds.issue(chain, "kyc", terms, issuer=issuer).asset.asset_id
    provider = registry.registries.provider(chain, create=True)
    assert provider is not None
    _fund(registry, chain, provider)
    keystore = registry.context.keystore
    assert keystore is not None
    return Bench(registry, chain, issuer, bond, _key(registry, chain, provider), keystore.unlock(issuer))


def _fund(registry: Registry, chain: str, address: str) -> None:
    """Send ``address`` 100,000 ether from the chain's faucet."""
    access = registry.context.chain(chain)
    faucet = registry.keys.faucet(access)
    assert faucet is not None
    registry.context.send(
        PreparedTransaction(
            chain=access.name,
            sender=faucet,
            to=to_checksum_address(address),
            data=b"",
            value=FUNDING,
            description="fund the bench key",
        )
    )


def _key(registry: Registry, chain: str, address: str) -> LocalAccount:
    """The private key custody holds for ``address`` (the chain operator's, or a keystore key)."""
    embedded = registry.chain(chain).embedded
    operator = getattr(getattr(embedded, "mode", None), "keyring", None)
    if operator is not None and operator.operator.address == address:
        key: LocalAccount = operator.operator
        return key
    keystore = registry.context.keystore
    assert keystore is not None
    return keystore.unlock(address)


def run_services(bench: Bench, count: int) -> ServiceRun:
    """Onboard and mint to ``count`` investors through the services."""
    registry, chain = bench.registry, bench.chain
    addresses = wallets("services", count)
    checking: dict[str, float] = {}
    started: dict[str, float] = {}

    def progress_of(name: str) -> Callable[[str, int, int], None]:
        def progress(stage: str, done: int, total: int) -> None:
            if stage == "checking" and done == total:
                checking[name] = time.perf_counter() - started[name]

        return progress

    cpu_started = time.process_time()
    started["register"] = time.perf_counter()
    report = registry.investors.batch_register(
        chain, [InvestorSpec(wallet, 756) for wallet in addresses], progress=progress_of("register")
    )
    register_seconds = time.perf_counter() - started["register"]
    started["mint"] = time.perf_counter()
    minted = registry.tokens.batch_mint(
        bench.bond, [(wallet, 10) for wallet in addresses], sender=bench.issuer, progress=progress_of("mint")
    )
    mint_seconds = time.perf_counter() - started["mint"]
    cpu_seconds = time.process_time() - cpu_started
    assert report.ok and minted.ok
    blocks = sorted({item.block_number for item in minted.items if item.block_number is not None})
    return ServiceRun(
        count=count,
        register_seconds=register_seconds,
        mint_seconds=mint_seconds,
        checking=checking,
        transactions=report.transactions + minted.transactions,
        last_block=blocks[-1],
        middle_block=blocks[len(blocks) // 2],
        cpu_seconds=cpu_seconds,
    )


def _send_signed(bench: Bench, key: LocalAccount, to: str, data: bytes, *, nonce: int, gas: int) -> bytes:
    w3 = bench.registry.chain(bench.chain).w3
    base_fee = int(w3.eth.get_block("latest")["baseFeePerGas"])
    signed = key.sign_transaction(
        {
            "type": 2,
            "chainId": w3.eth.chain_id,
            "nonce": nonce,
            "gas": gas,
            "maxFeePerGas": 2 * base_fee + 10**9,
            "maxPriorityFeePerGas": 10**9,
            "to": to_checksum_address(to),
            "data": data,
            "value": 0,
        }
    )
    return bytes(w3.eth.send_raw_transaction(signed.raw_transaction))


def run_baseline(bench: Bench, sample: int) -> float:
    """Seconds per investor, registering and minting one transaction at a time with web3.py."""
    registry, chain = bench.registry, bench.chain
    w3 = registry.chain(chain).w3
    identity = registry.context.chain(chain).contract("IdentityRegistry", registry.registries.require(chain))
    bond = registry.context.token(registry.asset(bench.bond))
    expiry = registry.context.chain(chain).now() + 365 * 86_400
    started = time.perf_counter()
    for wallet in wallets("baseline", sample):
        for key, contract, call, args in (
            (bench.kyc_provider, identity, "registerInvestor", [wallet, 756, 0, expiry]),
            (bench.issuer_key, bond, "mint", [wallet, 10]),
        ):
            nonce = w3.eth.get_transaction_count(key.address, "pending")
            tx_hash = _send_signed(
                bench,
                key,
                contract.address,
                HexBytes(contract.encode_abi(call, args)),
                nonce=nonce,
                gas=FIXED_GAS,
            )
            receipt = w3.eth.wait_for_transaction_receipt(HexBytes(tx_hash))
            assert receipt["status"] == 1, f"baseline {call} reverted"
    return (time.perf_counter() - started) / sample


def run_unchecked(
    bench: Bench, sample: int, *, register_chunk: int = 90, mint_chunk: int = 300, window: int = 8
) -> float:
    """Seconds per investor with the batch calls sent pipelined, unchecked: ``window`` chunks signed with the
    current fees, sent, their receipts awaited, then the next ``window`` (full blocks raise the base fee
    12.5% each, so a transaction signed many blocks ahead would be dropped)."""
    registry, chain = bench.registry, bench.chain
    w3 = registry.chain(chain).w3
    identity = registry.context.chain(chain).contract("IdentityRegistry", registry.registries.require(chain))
    bond = registry.context.token(registry.asset(bench.bond))
    expiry = registry.context.chain(chain).now() + 365 * 86_400
    addresses = wallets("unchecked", sample)
    budget = int(w3.eth.get_block("latest")["gasLimit"]) // 2
    started = time.perf_counter()
    for key, contract, chunk, call in (
        (bench.kyc_provider, identity, register_chunk, "batchRegisterInvestors"),
        (bench.issuer_key, bond, mint_chunk, "batchMint"),
    ):
        nonce = int(w3.eth.get_transaction_count(key.address, "pending"))
        starts = list(range(0, sample, chunk))
        for first in range(0, len(starts), window):
            hashes = []
            for start in starts[first : first + window]:
                part = addresses[start : start + chunk]
                args: list[Any] = (
                    [part, [756] * len(part), [0] * len(part), [expiry] * len(part)]
                    if call == "batchRegisterInvestors"
                    else [part, [10] * len(part)]
                )
                data = HexBytes(contract.encode_abi(call, args))
                hashes.append(_send_signed(bench, key, contract.address, data, nonce=nonce, gas=budget))
                nonce += 1
            for tx_hash in hashes:
                receipt = w3.eth.wait_for_transaction_receipt(HexBytes(tx_hash), timeout=600)
                assert receipt["status"] == 1, call
    return (time.perf_counter() - started) / sample


def _catalogue_bond(registry: Registry, bench: Bench, target: Database) -> None:
    """Catalogue the bench's bond (and its identity registry) in ``target``, for a fresh index of it."""
    asset = registry.asset(bench.bond)
    with target.write() as session:
        catalogue.add_asset(
            session,
            chain=asset.chain,
            chain_id=asset.chain_id,
            address=asset.address,
            kind="bond",
            mode="kyc",
            name=asset.name,
            symbol=asset.symbol,
            decimals=asset.decimals,
            terms=asset.terms,
            deployed_block=asset.deployed_block,
            identity_registry=asset.identity_registry,
        )


def _latencies(action: Callable[[], Any], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return times


def run_index(bench: Bench, service: ServiceRun, data_dir: Path, repeats: int) -> IndexRun:
    """The index's catch-up after the last mint, a fresh index of the chain, and cap-table latency."""
    registry = bench.registry
    started = time.perf_counter()
    registry.wait_for_index(bench.chain, service.last_block, timeout=600)
    catch_up = time.perf_counter() - started
    fresh = Database.open(f"sqlite:///{data_dir / 'fresh-index.sqlite3'}")
    try:
        _catalogue_bond(registry, bench, fresh)
        indexer = Indexer(fresh, bench.chain, registry.chain(bench.chain).w3)
        started = time.perf_counter()
        report = indexer.sync(to_block=service.last_block)
        reindex_seconds = time.perf_counter() - started
    finally:
        fresh.close()

    def page_now() -> None:
        with registry.db.read() as session:
            assert len(queries.cap_table(session, bench.bond, limit=100).entries) == min(100, service.count)

    def page_past() -> None:
        with registry.db.read() as session:
            queries.cap_table(session, bench.bond, block=service.middle_block, limit=100)

    return IndexRun(
        catch_up_seconds=catch_up,
        reindex_events=report.events,
        reindex_seconds=reindex_seconds,
        now_ms=_latencies(page_now, repeats),
        past_ms=_latencies(page_past, repeats),
    )


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def report(
    console: Console,
    *,
    chain: str,
    service: ServiceRun,
    baseline: float,
    unchecked: float,
    index: IndexRun,
    sample: int,
    unchecked_count: int,
) -> bool:
    """Print the tables; True when every target is met."""
    count = service.count
    table = Table(title=f"Onboard and mint to {count:,} investors, {chain} chain (embedded, on disk)")
    for column in ("way", "seconds", "investors/s", "x baseline"):
        table.add_column(column, justify="left" if column == "way" else "right")
    base_total = baseline * count
    rows = [
        (f"web3.py one tx at a time (baseline; {sample} sampled, extrapolated)", base_total),
        (
            "web3.py batch calls pipelined, unchecked"
            + ("" if unchecked_count == count else f" ({unchecked_count} sampled, extrapolated)"),
            unchecked * count,
        ),
        ("registry services: batch_register + batch_mint", service.total),
    ]
    for label, seconds in rows:
        table.add_row(label, f"{seconds:,.1f}", f"{count / seconds:,.0f}", f"{base_total / seconds:.2f}")
    console.print(table)
    console.print(
        f"services: registration {service.register_seconds:.1f} s (planning and checking "
        f"{service.checking['register']:.1f} s), mint {service.mint_seconds:.1f} s (planning and checking "
        f"{service.checking['mint']:.1f} s); {service.transactions} transactions; process CPU "
        f"{service.cpu_seconds:.1f} s"
    )
    index_table = Table(title="The index through the runtime")
    index_table.add_column("measure")
    index_table.add_column("value", justify="right")
    index_table.add_column("target", justify="right")
    rate = index.reindex_events / index.reindex_seconds if index.reindex_seconds else 0.0
    p50_now, p99_now = percentile(index.now_ms, 0.5), percentile(index.now_ms, 0.99)
    p50_past, p99_past = percentile(index.past_ms, 0.5), percentile(index.past_ms, 0.99)
    index_table.add_row("caught up after the last mint landed", f"{index.catch_up_seconds:.2f} s", "")
    index_table.add_row(
        "fresh index of the chain",
        f"{index.reindex_events:,} events, {rate:,.0f} events/s",
        f">= {TARGET_EVENTS_PER_SECOND:,.0f}",
    )
    index_table.add_row(
        "cap table now, first 100 holders, p50 / p99",
        f"{p50_now:.1f} / {p99_now:.1f} ms",
        f"p50 < {TARGET_CAP_TABLE_MS:.0f}",
    )
    index_table.add_row(
        "cap table at a past block, p50 / p99",
        f"{p50_past:.1f} / {p99_past:.1f} ms",
        f"p50 < {TARGET_CAP_TABLE_MS:.0f}",
    )
    console.print(index_table)
    verdicts = {
        f"{count:,} investors in under {TARGET_SECONDS:.0f} s": service.total < TARGET_SECONDS,
        f"cap table p50 under {TARGET_CAP_TABLE_MS:.0f} ms": max(p50_now, p50_past) < TARGET_CAP_TABLE_MS,
        f"index catch-up at least {TARGET_EVENTS_PER_SECOND:,.0f} events/s": rate >= TARGET_EVENTS_PER_SECOND,
    }
    for name, met in verdicts.items():
        console.print(f"{name}: {'met' if met else 'MISSED'}")
    return all(verdicts.values())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "-n", "--investors", type=int, default=10_000, help="investors to onboard and mint to"
    )
    parser.add_argument("--sample", type=int, default=200, help="investors of the baseline's sample")
    parser.add_argument(
        "--unchecked",
        type=int,
        default=None,
        help="investors of the unchecked pipelined way (default: all N)",
    )
    parser.add_argument("--chain", choices=("permissioned", "permissionless"), default="permissioned")
    parser.add_argument("--repeats", type=int, default=200, help="cap-table queries per latency figure")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    console = Console()
    unchecked_count = args.unchecked or args.investors
    # Each way runs on fresh chains of its own, so that none pays for the state another one left.
    with tempfile.TemporaryDirectory(prefix="bench-registry-") as folder:
        bench = open_bench(Path(folder), args.chain)
        try:
            service = run_services(bench, args.investors)
            index = run_index(bench, service, Path(folder), args.repeats)
        finally:
            bench.registry.close()
    with tempfile.TemporaryDirectory(prefix="bench-registry-") as folder:
        bench = open_bench(Path(folder), args.chain)
        try:
            unchecked = run_unchecked(bench, unchecked_count)
        finally:
            bench.registry.close()
    with tempfile.TemporaryDirectory(prefix="bench-registry-") as folder:
        bench = open_bench(Path(folder), args.chain)
        try:
            baseline = run_baseline(bench, args.sample)
        finally:
            bench.registry.close()
    return (
        0
        if report(
            console,
            chain=args.chain,
            service=service,
            baseline=baseline,
            unchecked=unchecked,
            index=index,
            sample=args.sample,
            unchecked_count=unchecked_count,
        )
        else 1
    )


if __name__ == "__main__":
    sys.exit(main())
