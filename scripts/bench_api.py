#!/usr/bin/env python3
"""The HTTP API at scale, against the services called in process: the same work both ways, in one run.

**Over HTTP.** The script starts ``registry serve`` (the embedded chains, on disk in a temporary data
directory, index followers running, as a user runs it) on a free port, and drives it with httpx:

1. onboard N investors (``POST /investors/batch``) and mint to each (``POST /assets/{id}/mint/batch``)
   of a kyc-mode bond on the permissioned chain;
2. single transfers (``POST /assets/{id}/transfers``) from 8 concurrent clients, each an investor key
   with its own wallet, to the onboarded investors: transfers per second, p50 and p99 latency;
3. the floor of that path: the same bond transfers, pre-signed by 8 keys of the script's own (onboarded,
   minted to, funded), sent by 8 concurrent clients straight to the chain's JSON-RPC of the same server
   (``POST /chains/permissioned/rpc``: ``eth_sendRawTransaction``, then ``eth_getTransactionReceipt``
   until the receipt comes; no service, no gas estimate, no index wait): what the chain alone does on
   this machine, to set the service path against;
4. the cap table of the bond's N holders (``GET /assets/{id}/cap-table?limit=100``), p50 and p99
   (reported as not served when the route is not in this build);
5. the server process's RSS after all of it.

**In process (baseline).** The same on a fresh registry opened in this process: ``batch_register`` and
``batch_mint``, ``tokens.transfer`` from 8 threads, ``queries.cap_table``, this process's RSS.

Targets (from the issue): N = 10,000 onboarded and minted in under 45 s over HTTP (30 s in process);
at least 150 transfers/s with p50 under 50 ms; cap table p50 under 50 ms and p99 under 200 ms.

    .venv/bin/python scripts/bench_api.py                         # N = 10,000
    .venv/bin/python scripts/bench_api.py -n 500 --transfers 160  # quick
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for folder in (ROOT, ROOT / "scripts"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import bench_registry  # noqa: E402
import httpx2  # noqa: E402
from eth_abi.abi import encode  # noqa: E402
from eth_account import Account  # noqa: E402
from eth_utils.crypto import keccak  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from web3 import HTTPProvider, Web3  # noqa: E402
from web3.middleware import ExtraDataToPOAMiddleware  # noqa: E402

from registry.chain.accounts import dev_private_key  # noqa: E402
from registry.index import queries  # noqa: E402

CHAIN = "permissioned"
CHAIN_ID = 771_001
FUNDING = 100_000 * 10**18
FLOOR_FUNDING = 1_000 * 10**18
"""Ether for each of the floor's keys: gas for a few thousand transfers (the faucet holds 1,000,000)."""
CLIENTS = 8
TARGET_HTTP_SECONDS = 45.0
TARGET_SERVICE_SECONDS = 30.0
TARGET_TRANSFERS_PER_SECOND = 150.0
TARGET_TRANSFER_P50_MS = 50.0
TARGET_CAP_P50_MS = 50.0
TARGET_CAP_P99_MS = 200.0
REGISTRY = str(Path(sys.executable).parent / "registry")


@dataclass
class Side:
    """What one way (HTTP or in process) measured."""

    onboard_seconds: float = 0.0
    mint_seconds: float = 0.0
    transfers: int = 0
    transfer_seconds: float = 0.0
    transfer_ms: list[float] = field(default_factory=list)
    floor_seconds: float = 0.0
    """Wall seconds of the same number of pre-signed transfers sent straight to the chain's JSON-RPC."""
    floor_ms: list[float] = field(default_factory=list)
    cap_ms: list[float] | None = None
    rss_mb: float = 0.0

    @property
    def total(self) -> float:
        return self.onboard_seconds + self.mint_seconds

    @property
    def rate(self) -> float:
        return self.transfers / self.transfer_seconds if self.transfer_seconds else 0.0

    @property
    def floor_rate(self) -> float:
        return self.transfers / self.floor_seconds if self.floor_seconds else 0.0


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory of process ``pid`` in MB (Linux ``/proc``)."""
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else float("nan")


# -- the server ----------------------------------------------------------------------------------------------


@dataclass
class Server:
    """A running ``registry serve``."""

    process: subprocess.Popen[str]
    url: str
    admin: str
    lines: list[str]


@contextmanager
def serve(data_dir: Path) -> Iterator[Server]:
    """Start ``registry serve --port 0`` on ``data_dir``; stop it (SIGTERM) at the end."""
    kept = ("PATH", "HOME", "LANG", "ETH_HASH_BACKEND", "PYTHONPATH")
    env = {key: os.environ[key] for key in kept if key in os.environ}
    env.update(REGISTRY_DATA_DIR=str(data_dir), REGISTRY_KEYSTORE_KDF_N="2", PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [REGISTRY, "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    lines: list[str] = []
    drain: threading.Thread | None = None
    try:
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("Serving:"):
                break
        url = next(line.split()[1] for line in lines if line.startswith("API "))
        admin = next(line.split()[3] for line in lines if line.startswith("Admin API key"))
        drain = threading.Thread(target=lambda: lines.extend(process.stdout or ()), daemon=True)
        drain.start()
        yield Server(process, url, admin, lines)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)
        if drain is not None:
            drain.join(timeout=60)
        process.stdout.close()


class Client:
    """Calls of one API key (one connection, kept alive)."""

    def __init__(self, url: str, key: str) -> None:
        self.http = httpx2.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=3600)

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        response = self.http.request(method, path, json=body, params=params or None)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:2000]}")
        return response.json()

    def close(self) -> None:
        self.http.close()


def _fund(url: str, address: str, value: int = FUNDING) -> None:
    """Send ``address`` ether for gas from the chain's faucet (development account 0), over JSON-RPC."""
    w3 = Web3(HTTPProvider(f"{url}/chains/{CHAIN}/rpc"))
    w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    faucet = w3.eth.account.from_key(dev_private_key(CHAIN, CHAIN_ID, 0))
    base = int(w3.eth.get_block("latest")["baseFeePerGas"])
    signed = faucet.sign_transaction(
        {
            "type": 2,
            "chainId": CHAIN_ID,
            "nonce": w3.eth.get_transaction_count(faucet.address, "pending"),
            "to": Web3.to_checksum_address(address),
            "value": value,
            "gas": 21_000,
            "maxFeePerGas": 2 * base + 10**9,
            "maxPriorityFeePerGas": 10**9,
        }
    )
    w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed.raw_transaction), timeout=120)


def _bond_body(issuer: str, cash: str) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    return {
        "kind": "bond",
        "chain": CHAIN,
        "mode": "kyc",
        "issuer": issuer,
        "terms": {
            "name": "Bench 5% bond",
            "symbol": "BENCH",
            "isin": "US0378331005",
            "currency": cash,
            "denomination": "1000",
            "issue_volume": str(1000 * 10**9),
            "coupon_rate_bps": 500,
            "coupon_frequency": 2,
            "issue_date": (today - timedelta(days=1)).isoformat(),
            "maturity_date": (today + timedelta(days=3650)).isoformat(),
        },
    }


def _signing_key(admin: Client, role: str, label: str) -> tuple[str, str]:
    """A new API key of ``role`` with a custodial signing key: (API key, address)."""
    made = admin.call("POST", "/keys", {"role": role, "label": label})
    signer = admin.call("POST", f"/keys/{made['key']['key_id']}/signing-keys", {})
    return made["api_key"], signer["address"]


def _concurrently(count: int, clients: int, work: Callable[[int, int], None]) -> tuple[float, list[float]]:
    """``work(client, i)`` for ``count`` items spread over ``clients`` threads; wall seconds and each
    item's milliseconds."""
    latencies: list[float] = []
    lock = threading.Lock()

    def worker(client: int) -> None:
        mine = []
        for i in range(client, count, clients):
            start = time.perf_counter()
            work(client, i)
            mine.append((time.perf_counter() - start) * 1000)
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, range(clients)))
    return time.perf_counter() - started, latencies


def _rpc_call(client: httpx2.Client, method: str, params: list[Any]) -> Any:
    """One JSON-RPC call to the chain's endpoint; its result."""
    response = client.post("", json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    body = response.json()
    if "error" in body:
        raise RuntimeError(f"{method}: {body['error']}")
    return body["result"]


def run_floor(
    url: str, admin: Client, bond: str, *, issuer: str, wallets: Sequence[str], transfers: int
) -> tuple[float, list[float]]:
    """``transfers`` bond transfers, pre-signed by 8 keys of this script's own (onboarded, minted to and
    funded first), each sent by its own client straight to the chain's JSON-RPC with its receipt
    awaited: wall seconds and each transfer's milliseconds."""
    keys = [Account.from_key(keccak(text=f"bench api floor {i}")) for i in range(CLIENTS)]
    admin.call(
        "POST",
        "/investors/batch",
        {"chain": CHAIN, "investors": [{"wallet": key.address, "country": 756} for key in keys]},
    )
    for key in keys:
        mint = {"sender": issuer, "to": key.address, "amount": str(transfers)}
        admin.call("POST", f"/assets/{bond}/mint", mint)
        _fund(url, key.address, FLOOR_FUNDING)
    token = Web3.to_checksum_address(admin.call("GET", f"/assets/{bond}")["address"])
    w3 = Web3(HTTPProvider(f"{url}/chains/{CHAIN}/rpc"))
    w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    selector = keccak(text="transfer(address,uint256)")[:4]

    def data(i: int) -> bytes:
        return selector + encode(["address", "uint256"], [wallets[i % len(wallets)], 1])

    # One estimate sets every transaction's gas (a fifth more: what each uses depends on whether its
    # receiver held the bond before); the fee cap leaves room for the base fee to rise.
    gas = w3.eth.estimate_gas({"from": keys[0].address, "to": token, "data": data(0)}) * 6 // 5
    fee_cap = 10 * int(w3.eth.get_block("latest")["baseFeePerGas"]) + 10**9
    raws: list[list[str]] = []
    for client, key in enumerate(keys):
        nonce = w3.eth.get_transaction_count(key.address)
        mine = range(client, transfers, CLIENTS)
        raws.append(
            [
                "0x"
                + bytes(
                    key.sign_transaction(
                        {
                            "type": 2,
                            "chainId": CHAIN_ID,
                            "nonce": nonce + n,
                            "to": token,
                            "data": data(i),
                            "value": 0,
                            "gas": gas,
                            "maxFeePerGas": fee_cap,
                            "maxPriorityFeePerGas": 10**9,
                        }
                    ).raw_transaction
                ).hex()
                for n, i in enumerate(mine)
            ]
        )
    clients = [httpx2.Client(base_url=f"{url}/chains/{CHAIN}/rpc", timeout=3600) for _ in keys]

    def send(client: int, i: int) -> None:
        rpc = clients[client]
        tx_hash = _rpc_call(rpc, "eth_sendRawTransaction", [raws[client][i // CLIENTS]])
        # The server holds a receipt request until the transaction's block is sealed.
        while (receipt := _rpc_call(rpc, "eth_getTransactionReceipt", [tx_hash])) is None:
            pass
        if int(receipt["status"], 16) != 1:
            raise RuntimeError(f"pre-signed transfer {tx_hash} failed")

    try:
        return _concurrently(transfers, CLIENTS, send)
    finally:
        for rpc in clients:
            rpc.close()


def run_http(count: int, transfers: int, repeats: int, console: Console) -> Side:
    """Everything over HTTP against a ``registry serve`` of its own."""
    side = Side()
    with tempfile.TemporaryDirectory(prefix="bench-api-") as folder, serve(Path(folder)) as server:
        admin = Client(server.url, server.admin)
        try:
            _key, issuer = _signing_key(admin, "issuer", "bench issuer")
            _fund(server.url, issuer)
            cash_body = {
                "kind": "cash",
                "chain": CHAIN,
                "issuer": issuer,
                "terms": {"name": "B", "symbol": "B"},
            }
            cash = admin.call("POST", "/assets", cash_body)["asset"]["asset_id"]
            bond = admin.call("POST", "/assets", _bond_body(issuer, cash))["asset"]["asset_id"]
            # One investor first: its transaction names the chain's KYC provider, which gets gas for N.
            probe = bench_registry.wallets("api probe", 1)
            first = admin.call(
                "POST",
                "/investors/batch",
                {"chain": CHAIN, "investors": [{"wallet": probe[0], "country": 756}]},
            )
            w3 = Web3(HTTPProvider(f"{server.url}/chains/{CHAIN}/rpc"))
            provider = w3.eth.get_transaction(first["items"][0]["tx_hash"])["from"]
            _fund(server.url, provider)
            wallets = bench_registry.wallets("api", count)
            console.print(f"HTTP: onboarding {count} investors…")
            started = time.perf_counter()
            onboarded = admin.call(
                "POST",
                "/investors/batch",
                {"chain": CHAIN, "investors": [{"wallet": w, "country": 756} for w in wallets]},
            )
            side.onboard_seconds = time.perf_counter() - started
            assert onboarded["state"] == "done"
            console.print(f"HTTP: minting to {count} investors…")
            started = time.perf_counter()
            minted = admin.call(
                "POST",
                f"/assets/{bond}/mint/batch",
                {"sender": issuer, "items": [{"to": w, "amount": "10"} for w in wallets]},
            )
            side.mint_seconds = time.perf_counter() - started
            assert minted["state"] == "done"
            holders = [_signing_key(admin, "investor", f"bench holder {i}") for i in range(CLIENTS)]
            for _key, address in holders:
                admin.call(
                    "POST",
                    f"/assets/{bond}/mint",
                    {"sender": issuer, "to": address, "amount": str(transfers)},
                )
            clients = [Client(server.url, key) for key, _address in holders]
            console.print(f"HTTP: {transfers} transfers from {CLIENTS} clients…")

            def send(client: int, i: int) -> None:
                clients[client].call(
                    "POST", f"/assets/{bond}/transfers", {"to": wallets[i % count], "amount": "1"}
                )

            side.transfer_seconds, side.transfer_ms = _concurrently(transfers, CLIENTS, send)
            side.transfers = transfers
            for client in clients:
                client.close()
            console.print(f"HTTP: {transfers} pre-signed transfers straight to the chain's JSON-RPC…")
            side.floor_seconds, side.floor_ms = run_floor(
                server.url, admin, bond, issuer=issuer, wallets=wallets, transfers=transfers
            )
            path = f"/assets/{bond}/cap-table"
            if path.replace(bond, "{asset_id}") in admin.call("GET", "/openapi.json")["paths"]:
                side.cap_ms = []
                for _ in range(repeats):
                    start = time.perf_counter()
                    admin.call("GET", path, limit=100)
                    side.cap_ms.append((time.perf_counter() - start) * 1000)
            side.rss_mb = rss_mb(server.process.pid)
        finally:
            admin.close()
    return side


def run_in_process(count: int, transfers: int, repeats: int, console: Console) -> Side:
    """The same through the services, in this process."""
    side = Side()
    with tempfile.TemporaryDirectory(prefix="bench-api-") as folder:
        bench = bench_registry.open_bench(Path(folder), CHAIN)
        registry = bench.registry
        try:
            console.print(f"in process: onboarding and minting to {count} investors…")
            service = bench_registry.run_services(bench, count)
            side.onboard_seconds, side.mint_seconds = service.register_seconds, service.mint_seconds
            wallets = bench_registry.wallets("services", count)
            holders = [
                registry.keys.create(f"bench holder {i}", chains=[CHAIN]).address for i in range(CLIENTS)
            ]
            for address in holders:
                registry.tokens.mint(bench.bond, address, transfers, sender=bench.issuer)
            console.print(f"in process: {transfers} transfers from {CLIENTS} threads…")

            def send(client: int, i: int) -> None:
                registry.tokens.transfer(bench.bond, wallets[i % count], 1, sender=holders[client])

            side.transfer_seconds, side.transfer_ms = _concurrently(transfers, CLIENTS, send)
            side.transfers = transfers
            registry.wait_for_index(CHAIN, registry.chain(CHAIN).w3.eth.block_number)
            side.cap_ms = []
            for _ in range(repeats):
                start = time.perf_counter()
                with registry.db.read() as session:
                    queries.cap_table(session, bench.bond, limit=100)
                side.cap_ms.append((time.perf_counter() - start) * 1000)
            side.rss_mb = rss_mb()
        finally:
            registry.close()
    return side


def verdict(ok: bool) -> str:
    """A target met or missed."""
    return "met" if ok else "missed"


def report(console: Console, count: int, http: Side, local: Side) -> Table:
    """The table: each measure over HTTP, in process, their ratio, the target."""

    def ratio(over: float, base: float) -> str:
        return f"{over / base:.2f}" if base else "-"

    table = Table(title=f"HTTP API vs services in process: {count:,} investors, {CLIENTS} clients")
    for column in ("measure", "HTTP", "in process (baseline)", "x baseline", "target (HTTP)"):
        table.add_column(column, justify="left" if column in ("measure", "target (HTTP)") else "right")
    table.add_row(
        f"onboard + mint {count:,}, s",
        f"{http.total:.1f}",
        f"{local.total:.1f}",
        ratio(http.total, local.total),
        f"< {TARGET_HTTP_SECONDS:g} s, {verdict(http.total < TARGET_HTTP_SECONDS)} "
        f"(in process < {TARGET_SERVICE_SECONDS:g} s, {verdict(local.total < TARGET_SERVICE_SECONDS)})",
    )
    table.add_row(
        "  of which onboarding, s",
        f"{http.onboard_seconds:.1f}",
        f"{local.onboard_seconds:.1f}",
        ratio(http.onboard_seconds, local.onboard_seconds),
        "",
    )
    table.add_row(
        "  of which minting, s",
        f"{http.mint_seconds:.1f}",
        f"{local.mint_seconds:.1f}",
        ratio(http.mint_seconds, local.mint_seconds),
        "",
    )
    table.add_row(
        f"transfers/s, {CLIENTS} clients",
        f"{http.rate:.0f}",
        f"{local.rate:.0f}",
        ratio(http.rate, local.rate),
        f">= {TARGET_TRANSFERS_PER_SECOND:g}/s, {verdict(http.rate >= TARGET_TRANSFERS_PER_SECOND)}",
    )
    for label, fraction, target in (("p50", 0.5, TARGET_TRANSFER_P50_MS), ("p99", 0.99, None)):
        over, base = percentile(http.transfer_ms, fraction), percentile(local.transfer_ms, fraction)
        table.add_row(
            f"transfer {label}, ms",
            f"{over:.1f}",
            f"{base:.1f}",
            ratio(over, base),
            f"< {target:g} ms, {verdict(over < target)}" if target is not None else "",
        )
    # The floor: the chain alone, over HTTP only; the ratio sets the service path against it.
    table.add_row(
        f"floor: pre-signed transfers/s, {CLIENTS} clients, straight to the chain's JSON-RPC",
        f"{http.floor_rate:.0f}",
        "-",
        "-",
        f"service path at {ratio(http.rate, http.floor_rate)} of it",
    )
    for label, fraction in (("p50", 0.5), ("p99", 0.99)):
        floor = percentile(http.floor_ms or [0.0], fraction)
        table.add_row(
            f"floor: pre-signed transfer {label}, ms",
            f"{floor:.1f}",
            "-",
            "-",
            f"service path at {ratio(percentile(http.transfer_ms, fraction), floor)}x it",
        )
    for label, fraction, target in (("p50", 0.5, TARGET_CAP_P50_MS), ("p99", 0.99, TARGET_CAP_P99_MS)):
        base = percentile(local.cap_ms or [0.0], fraction)
        if http.cap_ms is None:
            table.add_row(
                f"cap table {count:,} holders, page of 100, {label}, ms",
                "not served",
                f"{base:.1f}",
                "-",
                f"< {target:g} ms",
            )
            continue
        over = percentile(http.cap_ms, fraction)
        table.add_row(
            f"cap table {count:,} holders, page of 100, {label}, ms",
            f"{over:.1f}",
            f"{base:.1f}",
            ratio(over, base),
            f"< {target:g} ms, {verdict(over < target)}",
        )
    table.add_row(
        "RSS after all of it, MB",
        f"{http.rss_mb:.0f}",
        f"{local.rss_mb:.0f}",
        ratio(http.rss_mb, local.rss_mb),
        "",
    )
    console.print(table)
    return table


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "-n", "--investors", type=int, default=10_000, help="investors to onboard and mint to"
    )
    parser.add_argument("--transfers", type=int, default=2_000, help="single transfers over the 8 clients")
    parser.add_argument("--repeats", type=int, default=200, help="cap-table requests per latency figure")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    console = Console() if sys.stdout.isatty() else Console(width=160)
    load = [os.getloadavg()[0]]
    http = run_http(args.investors, args.transfers, args.repeats, console)
    load.append(os.getloadavg()[0])
    local = run_in_process(args.investors, args.transfers, args.repeats, console)
    load.append(os.getloadavg()[0])
    report(console, args.investors, http, local)
    console.print(
        f"{os.cpu_count()} CPUs; load average (1 min) at the start, between the two ways and at the end: "
        + ", ".join(f"{value:.1f}" for value in load)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
