"""A batch mint survives ``kill -9`` of `registry serve`: started over HTTP, the server killed once some of
its chunks are on the chain, started again, and the batch retried with the same Idempotency-Key. Every
transaction that had a receipt before the kill is on the chain and in the index, nothing is minted twice,
and every balance is exact."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eth_abi.abi import decode, encode
from eth_account import Account
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.crypto import keccak

from registry.index import Database, queries

from .test_serve import REGISTRY, _admin_key, _env

ITEMS = 600
PER_TRANSACTION = 10
AMOUNT = 3


@contextmanager
def _server(data_dir: Path) -> Iterator[tuple[subprocess.Popen[str], str, list[str]]]:
    """``registry serve --port 0`` in its own process; its URL and banner. Killed if still running."""
    process = subprocess.Popen(
        [REGISTRY, "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_env(data_dir),
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
        # Drain the rest of its output so that it never blocks on a full pipe.
        drain = threading.Thread(target=lambda: lines.extend(process.stdout or ()), daemon=True)
        drain.start()
        yield process, url, lines
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        if drain is not None:
            drain.join(timeout=60)
        process.stdout.close()


def _call(url: str, method: str, path: str, key: str, body: Any = None, *, idem: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    if idem is not None:
        headers["Idempotency-Key"] = idem
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{url}{path}", data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        raise AssertionError(f"{method} {path}: {error.code} {error.read().decode()}") from None


def _rpc(url: str, method: str, params: list[Any]) -> Any:
    request = urllib.request.Request(
        f"{url}/chains/permissionless/rpc",
        data=json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)["result"]


def _balance(url: str, token: str, wallet: str) -> int:
    data = function_signature_to_4byte_selector("balanceOf(address)") + encode(["address"], [wallet])
    result = _rpc(url, "eth_call", [{"to": token, "data": "0x" + data.hex()}, "latest"])
    return int(decode(["uint256"], bytes.fromhex(result[2:]))[0])


def _landed_hashes(journal: Path, url: str) -> set[str]:
    """The journaled transactions of the batch that have a receipt now (evidence from the chain)."""
    try:
        entry = json.loads(journal.read_text())
    except (FileNotFoundError, ValueError):
        return set()
    hashes = [chunk["tx_hash"] for chunk in entry["chunks"] if chunk["tx_hash"]]
    return {h for h in hashes if _rpc(url, "eth_getTransactionReceipt", [h]) is not None}


def test_a_batch_mint_killed_half_way_is_finished_by_its_retry_minting_nothing_twice(tmp_path: Path) -> None:
    data = tmp_path / "data"
    wallets = [Account.from_key(keccak(text=f"restart batch {i}")).address for i in range(ITEMS)]
    body = {
        "items": [{"to": wallet, "amount": str(AMOUNT)} for wallet in wallets],
        "max_items_per_transaction": PER_TRANSACTION,
    }
    idem = "restart-batch-1"
    with _server(data) as (process, url, lines):
        admin = _admin_key(lines)
        assert admin is not None
        issuer_key = _call(url, "POST", "/keys", admin, {"role": "issuer", "label": "restart issuer"})
        issuer = _call(url, "POST", f"/keys/{issuer_key['key']['key_id']}/signing-keys", admin, {})["address"]
        cash = _call(
            url,
            "POST",
            "/assets",
            admin,
            {
                "kind": "cash",
                "chain": "permissionless",
                "issuer": issuer,
                "terms": {"name": "R", "symbol": "R"},
            },
        )["asset"]["asset_id"]
        stock = _call(
            url,
            "POST",
            "/assets",
            admin,
            {
                "kind": "stock",
                "chain": "permissionless",
                "mode": "open",
                "issuer": issuer,
                "terms": {"name": "Restart shares", "symbol": "RST", "currency": cash},
            },
        )["asset"]
        path = f"/assets/{stock['asset_id']}/mint/batch"
        first: dict[str, Any] = {}

        def start() -> None:
            try:
                first["answer"] = _call(url, "POST", path, admin, {**body, "sender": issuer}, idem=idem)
            except Exception as exc:  # the server is killed under it
                first["error"] = exc

        sending = threading.Thread(target=start, daemon=True)
        sending.start()
        key_id = admin.split("_")[1]
        journal_dir = data / "journal"
        landed: set[str] = set()
        stopped = threading.Event()
        # Wait for evidence on the chain (a receipt of a journaled chunk), then kill at once.
        while not stopped.is_set():
            candidates = [p for p in journal_dir.glob(f"api-{key_id}-*.json")] if journal_dir.is_dir() else []
            landed = _landed_hashes(candidates[0], url) if candidates else set()
            if landed or not sending.is_alive():
                stopped.set()
            else:
                stopped.wait(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        sending.join(timeout=60)
        assert "answer" not in first, "the batch finished before the kill: make it larger"
        assert landed
    entry = json.loads(candidates[0].read_text())
    assert entry["state"] == "open"
    with _server(data) as (_process, url, _lines):
        # Some chunks landed before the kill and some did not: the retry has work to do.
        before = _landed_hashes(candidates[0], url)
        assert landed <= before and len(before) < len(entry["chunks"]), (len(before), len(entry["chunks"]))
        retried = _call(url, "POST", path, admin, {**body, "sender": issuer}, idem=idem)
        assert retried["state"] == "done" and retried["items_landed"] == ITEMS, retried
        assert retried["batch_id"] == entry["id"]
        carried = {item["tx_hash"] for item in retried["items"]}
        assert landed <= carried  # what landed before the kill is reported, not sent again
        for tx_hash in carried:
            receipt = _rpc(url, "eth_getTransactionReceipt", [tx_hash])
            assert receipt is not None and int(receipt["status"], 16) == 1
        assert all(_balance(url, stock["address"], wallet) == AMOUNT for wallet in wallets)
        supply = function_signature_to_4byte_selector("totalSupply()")
        total = _rpc(url, "eth_call", [{"to": stock["address"], "data": "0x" + supply.hex()}, "latest"])
        assert int(total, 16) == AMOUNT * ITEMS
        # The same batch again answers the same, sends nothing.
        again = _call(url, "POST", path, admin, {**body, "sender": issuer}, idem=idem)
        assert again == retried
        head = int(_rpc(url, "eth_blockNumber", []), 16)
        database = Database.open(f"sqlite:///{data / 'index.sqlite3'}", migrate=False)
        # The server's index follower reaches the head on its own: wait for it (evidence, not time).
        caught_up = threading.Event()
        for _ in range(3000):
            with database.read() as session:
                if queries.index_head(session, "permissionless").number >= head:
                    caught_up.set()
                    break
            caught_up.wait(0.02)
        assert caught_up.is_set(), "the index did not reach the chain's head"
    # The index holds every landed transaction's mints and the exact balances.
    try:
        with database.read() as session:
            indexed: set[str] = set()
            cursor = None
            while True:
                page = queries.asset_events(
                    session, stock["asset_id"], names=["Transfer"], limit=500, cursor=cursor
                )
                indexed |= {event.tx_hash for event in page.entries}
                cursor = page.next_cursor
                if cursor is None:
                    break
            assert carried <= indexed
            holders: dict[str, int] = {}
            cursor = None
            while True:
                table = queries.cap_table(session, stock["asset_id"], limit=500, cursor=cursor)
                holders.update({entry.wallet: entry.balance for entry in table.entries})
                cursor = table.next_cursor
                if cursor is None:
                    break
            assert holders == dict.fromkeys(wallets, AMOUNT)
            assert table.total_supply == AMOUNT * ITEMS
    finally:
        database.engine.dispose()
