#!/usr/bin/env python3
"""Benchmark the chain backends: ERC-20 transfers per second, memory, and reopening time.

The workload is the same for every backend: ERC-20 transfers signed ahead (signing is not
timed), sent raw through web3.py, and their receipts awaited, in batches of 1 (send,
wait, repeat) and of 200 (send 200, then wait for the 200). Each backend is measured on
two paths:

- **in process**: eth-tester with py-evm (the baseline, measured in the same run) and the
  two embedded chains behind the project's in-process web3 provider;
- **HTTP**: anvil, and the two embedded chains served the way a user runs them
  (``registry node`` in its own process, like anvil in its own process), all driven by the
  same client, web3.py's HTTPProvider, so that the client and the server never share one
  interpreter.

All backends are open at once and the batches of 200 run in interleaved rounds (each
round gives every backend its share in turn), so that a slow spell of a shared machine
falls on all of them; the median round is reported, every round is shown.

Beside the times, the CPU each side spent per transfer: the client (this process) and the
server (the node's or anvil's process); for a registry node also split between its main
thread, the event loop answering HTTP, and its other threads, the builder executing and
sealing the transactions (and the worker threads of requests that wait), read from
``/proc/PID/task``.

Each backend also answers 100 ``eth_estimateGas`` of a transfer, one after the other, as a
wallet or the registry's custody layer asks before signing, sent as raw requests through the
provider (the "estimateGas ms" column).

Then, each in a fresh process: the resident memory (RSS) of an embedded chain after
20,000 transfers, and the time to reopen an embedded chain of 10,000 blocks.

    python scripts/bench_chain.py            # the full run (a few minutes)
    python scripts/bench_chain.py --quick    # a short run with smaller counts
    python scripts/bench_chain.py --only permissionless --no-resources
                                             # eth-tester, anvil and one chain, throughput only
    python scripts/bench_chain.py --py-spy DIR
                                             # also record each registry node with py-spy

The ratios to eth-tester need the full run: eth-tester looks a receipt up by scanning
its blocks backwards, so it slows as its chain grows, and the short chains of ``--quick``
flatter it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import registry  # noqa: E402,F401  (first: every backend in this run hashes with the same keccak)

GWEI = 10**9
TRANSFER_GAS = 60_000
PERMISSIONLESS_ID = 771_002
PERMISSIONED_ID = 771_001


@dataclass
class Target:
    """A backend ready for the benchmark: a `Web3`, funded keys, and how to stop it."""

    w3: Any
    keys: list[Any]
    close: Callable[[], None]
    path: str = "in process"
    """How the client reaches the chain: ``in process`` or ``HTTP``."""
    server_cpu: Callable[[], float | None] = lambda: None
    """CPU seconds the server process has used so far (HTTP backends; None when unknown)."""
    server_threads: Callable[[], tuple[float, float] | None] = lambda: None
    """CPU seconds of the server's main thread and of its other threads so far (a registry node's
    event loop, and its builder with the worker threads; None when unknown)."""


def process_cpu(pid: int, *, group: bool = False) -> float | None:
    """CPU seconds (user + system) used by process ``pid``, or by every process of its process group
    with ``group``; None where ``/proc`` is not available."""
    import os

    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    candidates = Path("/proc").glob("[0-9]*") if group else [Path(f"/proc/{pid}")]
    found = False
    for entry in candidates:
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # After the command: state, ppid, pgrp, ... utime (14th field) and stime (15th).
        if group and int(fields[2]) != pid:
            continue
        total += int(fields[11]) + int(fields[12])
        found = True
    return total / ticks if found else None


def thread_cpu(pid: int) -> tuple[float, float] | None:
    """CPU seconds (user + system) of process ``pid``'s main thread and of its other threads together;
    None where ``/proc`` is not available."""
    import os

    ticks = os.sysconf("SC_CLK_TCK")
    main = others = 0
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return None
    for task in tasks:
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # a thread that just ended; its time is lost from the split, not from the total
        used = int(fields[11]) + int(fields[12])
        if task.name == str(pid):
            main += used
        else:
            others += used
    return main / ticks, others / ticks


# -- backends ------------------------------------------------------------------------------------------


@contextlib.contextmanager
def eth_tester_target() -> Iterator[Target]:
    """eth-tester's PyEVMBackend through web3's EthereumTesterProvider (one block per transaction)."""
    from eth_account import Account
    from eth_tester import EthereumTester, PyEVMBackend
    from eth_tester.backends.pyevm.main import get_default_account_keys
    from web3 import Web3
    from web3.providers.eth_tester import EthereumTesterProvider

    backend = PyEVMBackend(PyEVMBackend.generate_genesis_params({"gas_limit": 30_000_000}))
    w3 = Web3(EthereumTesterProvider(EthereumTester(backend)))
    keys = [Account.from_key(key.to_bytes()) for key in get_default_account_keys(4)]
    yield Target(w3=w3, keys=keys, close=lambda: None)


def _embedded(mode: Any, chain_id: int, folder: Path) -> Iterator[Target]:
    from web3 import Web3

    from registry.chain.node.chain import EmbeddedChain
    from registry.chain.rpc.provider import EmbeddedProvider, adapt_to_long_extra_data

    chain = EmbeddedChain.open(mode, data_dir=folder, chain_id=chain_id)
    try:
        yield Target(
            w3=adapt_to_long_extra_data(Web3(EmbeddedProvider(chain))),
            keys=[account.account for account in chain.dev_accounts[:4]],
            close=chain.close,
        )
    finally:
        chain.close()


@contextlib.contextmanager
def permissionless_target() -> Iterator[Target]:
    """The embedded permissionless chain on disk, sealing in the background."""
    from registry.chain.node.modes import PermissionlessMode

    with tempfile.TemporaryDirectory() as folder:
        yield from _embedded(PermissionlessMode(), PERMISSIONLESS_ID, Path(folder) / "permissionless")


def permissioned_mode(folder: Path | None, validators: int = 4) -> Any:
    """The permissioned mode (import is deferred: the mode lives in its own module)."""
    from registry.chain.consensus.mode import PermissionedMode

    return PermissionedMode(folder, validators=validators, chain_id=PERMISSIONED_ID, dev_account_count=10)


@contextlib.contextmanager
def permissioned_target() -> Iterator[Target]:
    """The embedded permissioned chain with 4 validators sealing every block."""
    with tempfile.TemporaryDirectory() as folder:
        chain_folder = Path(folder) / "permissioned"
        yield from _embedded(permissioned_mode(chain_folder), PERMISSIONED_ID, chain_folder)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _http_web3(url: str) -> Any:
    from web3 import Web3

    return Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 60}))


@contextlib.contextmanager
def anvil_target() -> Iterator[Target]:
    """anvil over HTTP on a free local port (automine: one block per transaction)."""
    from eth_account import Account
    from eth_utils.crypto import keccak
    from install_anvil import ensure_anvil  # a sibling script: scripts/ is on sys.path when run

    binary = ensure_anvil()
    port = _free_port()
    process = subprocess.Popen(
        [str(binary), "--host", "127.0.0.1", "--port", str(port), "--hardfork", "prague", "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        w3 = _http_web3(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 30
        while not w3.is_connected():
            if time.monotonic() > deadline:
                raise RuntimeError("anvil did not start")
            time.sleep(0.1)
        keys = [Account.from_key(keccak(text=f"bench key {i}")) for i in range(4)]
        for key in keys:
            w3.provider.make_request("anvil_setBalance", [key.address, hex(10**24)])
        yield Target(
            w3=w3, keys=keys, close=lambda: None, path="HTTP", server_cpu=lambda: process_cpu(process.pid)
        )
    finally:
        process.terminate()
        process.wait(timeout=10)


PROFILING: dict[str, Path] = {}
"""``{"py-spy": DIR}`` when each ``registry node`` is recorded with py-spy into DIR (``--py-spy``)."""


def registry_command() -> list[str]:
    """The ``registry`` command installed beside this interpreter (as a user runs it)."""
    script = Path(sys.executable).parent / "registry"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from registry.cli import app; app()"]


@contextlib.contextmanager
def node_target(kind: str) -> Iterator[Target]:
    """``registry node --chain KIND`` in its own process, on a fresh data directory, over HTTP.

    The funded keys are read from what the node prints, as a user would copy them.
    """
    import os

    from eth_account import Account

    from registry.chain.rpc.provider import adapt_to_long_extra_data

    with tempfile.TemporaryDirectory() as folder:
        command = [*registry_command(), "node", "--chain", kind, "--port", "0", "--data-dir", folder]
        profiled = "py-spy" in PROFILING
        if profiled:
            PROFILING["py-spy"].mkdir(parents=True, exist_ok=True)
            svg = PROFILING["py-spy"] / f"node-{kind}.svg"
            beside = Path(sys.executable).parent / "py-spy"
            py_spy = str(beside) if beside.is_file() else "py-spy"
            command = [py_spy, "record", "--nonblocking", "-o", str(svg), "--", *command]
        environment = {key: value for key, value in os.environ.items() if not key.startswith("REGISTRY_")}
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=environment,
            cwd=ROOT,
            start_new_session=True,  # its own process group: py-spy and the node stop together
        )
        try:
            url, keys = _read_node_banner(process)
            w3 = adapt_to_long_extra_data(_http_web3(url))
            yield Target(
                w3=w3,
                keys=[Account.from_key(key) for key in keys[:4]],
                close=lambda: None,
                path="HTTP",
                # The node's process group (with py-spy, py-spy's sampling is counted too).
                server_cpu=lambda: process_cpu(process.pid, group=True),
                # Under py-spy the process started is py-spy's, not the node's: no split then.
                server_threads=(lambda: None) if profiled else (lambda: thread_cpu(process.pid)),
            )
        finally:
            # Ctrl-C for the whole group: py-spy writes its flame graph, the node closes its chain.
            os.killpg(process.pid, signal.SIGINT if profiled else signal.SIGTERM)
            try:
                process.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate()


def _read_node_banner(process: subprocess.Popen[str]) -> tuple[str, list[str]]:
    """The URL and the private keys that ``registry node`` prints before it serves."""
    assert process.stdout is not None
    lines: list[str] = []
    keys: list[str] = []
    for line in process.stdout:
        lines.append(line.rstrip())
        key = re.fullmatch(r"\(\d+\) (0x[0-9a-f]{64})", line.strip())
        if key:
            keys.append(key.group(1))
        if line.startswith("Listening on "):
            return line.split()[-1], keys
    raise RuntimeError("registry node did not start: " + " | ".join(lines[-5:]))


@contextlib.contextmanager
def permissionless_node_target() -> Iterator[Target]:
    """The embedded permissionless chain served by ``registry node`` in its own process."""
    with node_target("permissionless") as target:
        yield target


@contextlib.contextmanager
def permissioned_node_target() -> Iterator[Target]:
    """The embedded permissioned chain (4 validators) served by ``registry node`` in its own process."""
    with node_target("permissioned") as target:
        yield target


BACKENDS: dict[str, Callable[[], contextlib.AbstractContextManager[Target]]] = {
    "eth-tester (py-evm)": eth_tester_target,
    "embedded permissionless": permissionless_target,
    "embedded permissioned (4 validators)": permissioned_target,
    "anvil over HTTP": anvil_target,
    "embedded permissionless over HTTP": permissionless_node_target,
    "embedded permissioned (4 validators) over HTTP": permissioned_node_target,
}
BASELINE = "eth-tester (py-evm)"
ANVIL = "anvil over HTTP"
BATCH = 200
"""Transfers sent before their receipts are awaited, in the interleaved rounds."""


# -- the transfer benchmark -----------------------------------------------------------------------------


def deploy_token(target: Target) -> Any:
    """Deploy PlainERC20 from key 0 and return the contract."""
    from registry.artifacts import load_artifact

    w3 = target.w3
    artifact = load_artifact("PlainERC20")
    deployer = target.keys[0]
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    tx = {
        "type": 2,
        "chainId": w3.eth.chain_id,
        "nonce": w3.eth.get_transaction_count(deployer.address),
        "data": factory.constructor(10**30).data_in_transaction,
        "gas": 3_000_000,
        "maxFeePerGas": 2 * w3.eth.get_block("latest")["baseFeePerGas"] + GWEI,
        "maxPriorityFeePerGas": GWEI,
        "value": 0,
    }
    receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(deployer.sign_transaction(tx).raw_transaction), timeout=120
    )
    return w3.eth.contract(address=receipt["contractAddress"], abi=artifact.abi)


def sign_transfers(target: Target, token: Any, count: int) -> list[bytes]:
    """``count`` raw transfers of one token unit from key 0, with the next nonces, signed ahead."""
    from eth_account import Account

    w3 = target.w3
    sender = target.keys[0]
    recipients = [Account.from_key(bytes([7]) * 31 + bytes([i + 1])).address for i in range(50)]
    chain_id = w3.eth.chain_id
    nonce = w3.eth.get_transaction_count(sender.address)
    max_fee = 4 * w3.eth.get_block("latest")["baseFeePerGas"] + GWEI
    selector_data = [token.encode_abi("transfer", [recipient, 1]) for recipient in recipients]
    raws = []
    for i in range(count):
        tx = {
            "type": 2,
            "chainId": chain_id,
            "nonce": nonce + i,
            "to": token.address,
            "data": selector_data[i % len(selector_data)],
            "gas": TRANSFER_GAS,
            "maxFeePerGas": max_fee,
            "maxPriorityFeePerGas": GWEI,
            "value": 0,
        }
        raws.append(bytes(sender.sign_transaction(tx).raw_transaction))
    return raws


ESTIMATES = 100
"""eth_estimateGas calls timed per backend."""


def time_estimates(target: Target, token: Any, count: int = ESTIMATES) -> float:
    """Milliseconds per ``eth_estimateGas`` of a token transfer, as a wallet or the custody layer asks it.

    Sent as a raw request through the provider: web3.py's ``estimate_gas`` adds about 2 ms of its
    own formatting and two ``eth_chainId`` requests, the same for every backend, which would hide
    what the chain itself spends.
    """
    w3 = target.w3
    sender = target.keys[0].address
    recipient = "0x" + "77" * 20
    request = {"from": sender, "to": token.address, "data": token.encode_abi("transfer", [recipient, 1])}

    def estimate() -> None:
        response = w3.provider.make_request("eth_estimateGas", [request])
        if "result" not in response:
            raise RuntimeError(f"eth_estimateGas failed: {response.get('error')}")

    for _ in range(5):
        estimate()
    start = time.perf_counter()
    for _ in range(count):
        estimate()
    return 1000 * (time.perf_counter() - start) / count


class Transfers(NamedTuple):
    """One timed run of transfers."""

    rate: float
    """Transfers per second."""
    blocks: int
    """Blocks the chain grew by."""
    send_ms: float
    """Milliseconds per transfer spent sending (client formatting, HTTP, the node's checks)."""
    receipt_ms: float
    """Milliseconds per transfer spent awaiting and reading receipts."""
    client_cpu_ms: float
    """CPU milliseconds per transfer used by this process (the client; in process, the chain too)."""
    server_cpu_ms: float | None
    """CPU milliseconds per transfer used by the server process, for HTTP backends."""
    server_split_ms: tuple[float, float] | None = None
    """The server's CPU milliseconds per transfer on its main thread and on its other threads (a
    registry node: the event loop, answering HTTP; the builder, executing and sealing)."""


def run_transfers(target: Target, token: Any, count: int, batch: int) -> Transfers:
    """Send ``count`` transfers in batches of ``batch``, await every receipt, and time it.

    The transfers are signed before the clock starts.
    """
    w3 = target.w3
    raws = sign_transfers(target, token, count)
    first_block = w3.eth.block_number
    sending = receiving = 0.0
    client_start, server_start = time.process_time(), target.server_cpu()
    threads_start = target.server_threads()
    for offset in range(0, count, batch):
        start = time.perf_counter()
        hashes = [w3.eth.send_raw_transaction(raw) for raw in raws[offset : offset + batch]]
        sent = time.perf_counter()
        for tx_hash in hashes:
            receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=300, poll_latency=0.01)
            if receipt["status"] != 1:
                raise RuntimeError(f"transfer {tx_hash.hex()} failed")
        sending += sent - start
        receiving += time.perf_counter() - sent
    client_cpu, server_end = time.process_time() - client_start, target.server_cpu()
    threads_end = target.server_threads()
    return Transfers(
        rate=count / (sending + receiving),
        blocks=w3.eth.block_number - first_block,
        send_ms=1000 * sending / count,
        receipt_ms=1000 * receiving / count,
        client_cpu_ms=1000 * client_cpu / count,
        server_cpu_ms=None
        if server_start is None or server_end is None
        else 1000 * (server_end - server_start) / count,
        server_split_ms=None
        if threads_start is None or threads_end is None
        else (
            1000 * (threads_end[0] - threads_start[0]) / count,
            1000 * (threads_end[1] - threads_start[1]) / count,
        ),
    )


@dataclass
class Throughput:
    """Measured transfers per second of one backend (None: not measured, with the reason)."""

    path: str = ""
    single: float | None = None
    rounds: list[float] = field(default_factory=list)
    """Transfers per second in the batched rounds, one value per round."""
    phases: list[tuple[float, float]] = field(default_factory=list)
    """Milliseconds per transfer sending and awaiting receipts, one pair per round."""
    cpu: list[tuple[float, float | None]] = field(default_factory=list)
    """CPU milliseconds per transfer of the client and of the server, one pair per round."""
    splits: list[tuple[float, float]] = field(default_factory=list)
    """The server's CPU milliseconds per transfer on its main thread and its other threads, per round."""
    blocks: int = 0
    estimate_ms: float | None = None
    """Milliseconds per eth_estimateGas of a transfer."""
    note: str = ""

    @property
    def batched(self) -> float | None:
        """The median batched round."""
        return statistics.median(self.rounds) if self.rounds else None

    @property
    def phase_text(self) -> str:
        """The medians of `phases`, as ``"1.20 + 1.05"``."""
        if not self.phases:
            return "-"
        send = statistics.median(pair[0] for pair in self.phases)
        receipt = statistics.median(pair[1] for pair in self.phases)
        return f"{send:.2f} + {receipt:.2f}"

    @property
    def cpu_text(self) -> str:
        """The medians of `cpu`, as ``"2.10, 1.05"`` (client, server), then for a registry node the
        medians of `splits` in parentheses, ``"(0.40 + 0.65)"`` (event loop + builder)."""
        if not self.cpu:
            return "-"
        client = statistics.median(pair[0] for pair in self.cpu)
        servers = [pair[1] for pair in self.cpu if pair[1] is not None]
        if not servers:
            return f"{client:.2f}, -"
        text = f"{client:.2f}, {statistics.median(servers):.2f}"
        if self.splits:
            loop = statistics.median(pair[0] for pair in self.splits)
            others = statistics.median(pair[1] for pair in self.splits)
            text += f" ({loop:.2f} + {others:.2f})"
        return text


def measure_all(
    names: list[str], single_count: int, batched_count: int, rounds: int, batch: int = BATCH
) -> dict[str, Throughput]:
    """Measure every backend in batches of 1, then in batches of ``batch`` over interleaved rounds.

    All backends are open at once; each round sends ``batched_count / rounds`` transfers
    to each backend in turn, so that a slow spell of this shared machine falls on every
    backend alike, and the median round is reported.
    """
    results = {name: Throughput() for name in names}
    ready: dict[str, tuple[Target, Any]] = {}
    with contextlib.ExitStack() as stack:
        for name in names:
            print(f"starting {name} ...", flush=True)
            try:
                target = stack.enter_context(BACKENDS[name]())
                results[name].path = target.path
                token = deploy_token(target)
                run_transfers(target, token, 20, 10)  # warm-up: caches, code paths, lazy imports
                results[name].single = run_transfers(target, token, single_count, 1).rate
                results[name].estimate_ms = time_estimates(target, token)
                ready[name] = (target, token)
            except Exception as exc:
                # e.g. anvil's installer failing: report and keep the other rows.
                results[name].note = f"unavailable: {type(exc).__name__}: {exc}"
        per_round = max(batch, batched_count // rounds)
        for number in range(1, rounds + 1):
            print(
                f"round {number} of {rounds}: {per_round} transfers in batches of {batch} each ...",
                flush=True,
            )
            for name, (target, token) in list(ready.items()):
                try:
                    run = run_transfers(target, token, per_round, batch)
                except Exception as exc:
                    results[name].note = f"failed in round {number}: {type(exc).__name__}: {exc}"
                    del ready[name]
                    continue
                results[name].rounds.append(run.rate)
                results[name].phases.append((run.send_ms, run.receipt_ms))
                results[name].cpu.append((run.client_cpu_ms, run.server_cpu_ms))
                if run.server_split_ms is not None:
                    results[name].splits.append(run.server_split_ms)
                results[name].blocks += run.blocks
    return results


# -- memory and reopening (child processes) ---------------------------------------------------------------


def rss_mb() -> float:
    """This process's resident set size in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _open_chain(kind: str, folder: Path, sealing: str) -> Any:
    from registry.chain.node.chain import EmbeddedChain
    from registry.chain.node.modes import PermissionlessMode

    if kind == "permissioned":
        return EmbeddedChain.open(
            permissioned_mode(folder),
            data_dir=folder,
            chain_id=PERMISSIONED_ID,
            sealing=sealing,  # type: ignore[arg-type]
        )
    return EmbeddedChain.open(
        PermissionlessMode(),
        data_dir=folder,
        chain_id=PERMISSIONLESS_ID,
        sealing=sealing,  # type: ignore[arg-type]
    )


def child_memory(kind: str, transfers: int) -> dict[str, Any]:
    """Run ``transfers`` transfers through web3 on an embedded chain and report the RSS."""
    from web3 import Web3

    from registry.chain.rpc.provider import EmbeddedProvider, adapt_to_long_extra_data

    with tempfile.TemporaryDirectory() as folder:
        chain = _open_chain(kind, Path(folder) / kind, "background")
        try:
            target = Target(
                w3=adapt_to_long_extra_data(Web3(EmbeddedProvider(chain))),
                keys=[account.account for account in chain.dev_accounts[:4]],
                close=chain.close,
            )
            token = deploy_token(target)
            start_rss = rss_mb()
            run = run_transfers(target, token, transfers, 100)
            return {"rss_mb": rss_mb(), "start_rss_mb": start_rss, "rate": run.rate, "blocks": run.blocks}
        finally:
            chain.close()


def child_build(kind: str, folder: Path, blocks: int) -> dict[str, Any]:
    """Build a chain of ``blocks`` blocks, one transfer each, in ``folder``."""
    chain = _open_chain(kind, folder, "manual")
    try:
        sender = chain.dev_accounts[0].account
        recipient = chain.dev_accounts[1].address
        start = time.perf_counter()
        for nonce in range(blocks):
            tx = {
                "type": 2,
                "chainId": chain.chain_id,
                "nonce": nonce,
                "to": recipient,
                "value": 1,
                "gas": 21_000,
                "maxFeePerGas": 10 * GWEI,
                "maxPriorityFeePerGas": 1,
            }
            chain.send_raw_transaction(sender.sign_transaction(tx).raw_transaction)
            chain.seal_pending()
        return {"blocks": chain.block_number, "seconds": time.perf_counter() - start}
    finally:
        chain.close()


def child_reopen(kind: str, folder: Path) -> dict[str, Any]:
    """Reopen the chain in ``folder``; time the opening and a first read of the head state."""
    start = time.perf_counter()
    chain = _open_chain(kind, folder, "manual")
    head = chain.head()
    balance = chain.state_at().get_balance(bytes.fromhex(chain.dev_accounts[1].address[2:]))
    seconds = time.perf_counter() - start
    chain.close()
    return {"seconds": seconds, "head": int(head.block_number), "balance": int(balance)}


def in_child(*arguments: str) -> dict[str, Any]:
    """Run this script with ``--child ...`` in a fresh interpreter and return its JSON answer."""
    result = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", *arguments],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-1500:])
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


# -- report -------------------------------------------------------------------------------------------------


def ratio(value: float | None, base: float | None, digits: int = 1) -> str:
    """``value / base`` as ``4.2x``, or a dash."""
    if value is None or not base:
        return "-"
    return f"{value / base:.{digits}f}x"


def main() -> int:
    """Run the benchmark and print the tables."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller counts, for a run of about a minute")
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="WORD",
        help="measure only the backends whose name contains one of these words "
        "(eth-tester and anvil always run: they are the baselines)",
    )
    parser.add_argument("--no-resources", action="store_true", help="skip the memory and reopening runs")
    parser.add_argument(
        "--py-spy",
        metavar="DIR",
        help="record each registry node with py-spy (installed separately) into DIR/node-CHAIN.svg",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        command, *rest = args.child
        if command == "memory":
            answer = child_memory(rest[0], int(rest[1]))
        elif command == "build":
            answer = child_build(rest[0], Path(rest[1]), int(rest[2]))
        else:
            answer = child_reopen(rest[0], Path(rest[1]))
        print(json.dumps(answer))
        return 0

    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(Console().width, 140))
    single_count, batched_count = (30, 600) if args.quick else (200, 2_000)
    memory_transfers = 2_000 if args.quick else 20_000
    reopen_blocks = 1_000 if args.quick else 10_000
    if args.py_spy:
        PROFILING["py-spy"] = Path(args.py_spy).resolve()

    chosen = [
        name
        for name in BACKENDS
        if name in (BASELINE, ANVIL) or not args.only or any(word in name for word in args.only)
    ]
    results = measure_all(chosen, single_count, batched_count, rounds=3 if args.quick else 5)

    base = results[BASELINE]
    anvil = results.get(ANVIL, Throughput())
    table = Table(
        title=f"ERC-20 transfers per second, signed ahead ({single_count} in batches of 1; "
        f"{batched_count} in batches of {BATCH}, over interleaved rounds: the median round)"
    )
    for column in (
        "backend",
        "path",
        "batch 1 tx/s",
        f"batch {BATCH} tx/s",
        "x eth-tester",
        "x anvil",
        "send, receipt ms/tx",
        "CPU ms/tx client, server (node: loop + builder)",
        "rounds, tx/s",
        "blocks",
        "estimateGas ms",
        "note",
    ):
        table.add_column(
            column, justify="left" if column in ("backend", "path", "note", "rounds, tx/s") else "right"
        )
    for name, measured in results.items():
        table.add_row(
            name + (" (baseline)" if name == BASELINE else ""),
            measured.path,
            f"{measured.single:.0f}" if measured.single else "-",
            f"{measured.batched:.0f}" if measured.batched else "-",
            ratio(measured.batched, base.batched),
            ratio(measured.batched, anvil.batched, digits=2),
            measured.phase_text,
            measured.cpu_text,
            " ".join(f"{rate:.0f}" for rate in measured.rounds) or "-",
            str(measured.blocks) if measured.rounds else "-",
            f"{measured.estimate_ms:.2f}" if measured.estimate_ms is not None else "-",
            measured.note,
        )
    console.print(table)

    resources = Table(title="Memory and reopening (fresh processes)")
    for column in (
        "chain",
        f"RSS after {memory_transfers:,} transfers",
        f"build {reopen_blocks:,} blocks",
        "reopen",
    ):
        resources.add_column(column)
    reopen_seconds: dict[str, float] = {}
    memory: dict[str, float] = {}
    for kind in () if args.no_resources else ("permissionless", "permissioned"):
        try:
            console.print(f"memory and reopening: {kind} ...")
            used = in_child("memory", kind, str(memory_transfers))
            with tempfile.TemporaryDirectory() as folder:
                chain_folder = Path(folder) / kind
                built = in_child("build", kind, str(chain_folder), str(reopen_blocks))
                reopened = in_child("reopen", kind, str(chain_folder))
            memory[kind] = used["rss_mb"]
            reopen_seconds[kind] = reopened["seconds"]
            resources.add_row(
                kind,
                f"{used['rss_mb']:.0f} MB ({used['blocks']} blocks, {used['rate']:.0f} tx/s)",
                f"{built['seconds']:.1f} s",
                f"{reopened['seconds']:.2f} s (head #{reopened['head']})",
            )
        except (RuntimeError, ImportError) as exc:
            resources.add_row(kind, f"unavailable: {str(exc)[-200:]}", "-", "-")
    if not args.no_resources:
        console.print(resources)

    targets = Table(title="Targets")
    for column in ("target", "measured", "met"):
        targets.add_column(column)

    def verdict(ok: bool | None) -> str:
        return "-" if ok is None else ("yes" if ok else "NO")

    def versus(name: str, baseline: float | None, times: float, label: str) -> None:
        rate = results.get(name, Throughput()).batched
        measured = rate / baseline if rate and baseline else None
        targets.add_row(
            f"{name}, batches of {BATCH} >= {times:g}x {label}",
            f"{measured:.2f}x" if measured else "-",
            verdict(None if measured is None else measured >= times),
        )

    for kind in ("permissionless", "permissioned (4 validators)"):
        versus(f"embedded {kind}", base.batched, 5, "eth-tester")
        versus(f"embedded {kind} over HTTP", base.batched, 5, "eth-tester")
        versus(f"embedded {kind} over HTTP", anvil.batched, 1, "anvil over HTTP")
    for path in ("", " over HTTP"):
        permissionless = results.get(f"embedded permissionless{path}", Throughput()).batched
        versus(f"embedded permissioned (4 validators){path}", permissionless, 0.8, "permissionless")
    for kind, value in memory.items():
        targets.add_row(f"{kind}: memory < 300 MB", f"{value:.0f} MB", verdict(value < 300))
    for kind, value in reopen_seconds.items():
        targets.add_row(
            f"{kind}: reopen {reopen_blocks:,} blocks < 5 s", f"{value:.2f} s", verdict(value < 5)
        )
    console.print(targets)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
