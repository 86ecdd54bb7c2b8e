"""`registry serve` as a user runs it: one process serving the API and both chains' JSON-RPC, a
bootstrap admin key printed on the first start only, a clean stop on SIGTERM, a restart that resumes,
and `registry keys reset-admin` replacing a lost admin key."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2

ENV_KEEP = ("PATH", "HOME", "LANG", "ETH_HASH_BACKEND")


def _env(data_dir: Path) -> dict[str, str]:
    env = {key: os.environ[key] for key in ENV_KEEP if key in os.environ}
    env.update(REGISTRY_DATA_DIR=str(data_dir), REGISTRY_KEYSTORE_KDF_N="2", PYTHONUNBUFFERED="1")
    return env


REGISTRY = str(Path(sys.executable).parent / "registry")
"""The console script, as `scripts/run` runs it."""


@contextmanager
def serving(data_dir: Path) -> Iterator[tuple[str, list[str]]]:
    """Start ``registry serve --port 0``; yield its URL and its banner (up to the line saying it serves)."""
    process = subprocess.Popen(
        [REGISTRY, "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_env(data_dir),
    )
    assert process.stdout is not None
    lines: list[str] = []
    try:
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("Serving:"):
                break
        url = next(line.split()[1] for line in lines if line.startswith("API "))
        # The socket listens before the banner is printed: early requests wait in its backlog.
        assert json.load(urllib.request.urlopen(f"{url}/health", timeout=30))["status"] == "ok"
        yield url, lines
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=60)
        lines += out.splitlines()
    assert process.returncode == 0, "\n".join(lines)
    assert lines[-1] == "stopped", lines


def _get(url: str, key: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    try:
        return int(urllib.request.urlopen(request, timeout=30).status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def _admin_key(lines: list[str]) -> str | None:
    found = [line.split()[3] for line in lines if line.startswith("Admin API key")]
    return found[0] if found else None


def test_serve_prints_a_bootstrap_key_once_stops_cleanly_and_a_lost_key_is_replaced(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with serving(data) as (url, lines):
        key = _admin_key(lines)
        assert key is not None and key.startswith("rk_")
        assert any(
            line.startswith("permissioned ") and f"{url}/chains/permissioned/rpc" in line for line in lines
        )
        assert any("keystore-passphrase" in line for line in lines)
        assert _get(f"{url}/keys/me", key) == 200
        rpc = urllib.request.Request(
            f"{url}/chains/permissionless/rpc",
            data=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        assert json.load(urllib.request.urlopen(rpc, timeout=30))["result"] == hex(771_002)
    assert (data / "keystore-passphrase").stat().st_mode & 0o777 == 0o600
    with serving(data) as (url, lines):
        assert _admin_key(lines) is None
        assert _get(f"{url}/keys/me", key) == 200
        reset = subprocess.run(
            [REGISTRY, "keys", "reset-admin"],
            capture_output=True,
            text=True,
            env=_env(data),
            check=True,
        )
        new = _admin_key(reset.stdout.splitlines())
        assert new is not None and "revoked 1 admin key" in reset.stdout
        assert _get(f"{url}/keys/me", key) == 401
        assert _get(f"{url}/keys/me", new) == 200


def test_an_open_event_stream_ends_cleanly_when_the_server_stops(tmp_path: Path) -> None:
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(httpx2.Client(timeout=60))
        with serving(tmp_path / "data") as (url, lines):
            key = _admin_key(lines)
            response = stack.enter_context(
                client.stream("GET", f"{url}/events", headers={"Authorization": f"Bearer {key}"})
            )
            assert response.status_code == 200
            events = response.iter_lines()
            assert next(events) == ": stream open"
        # The server stopped (SIGTERM, exit status 0, "stopped": checked by serving): the stream was ended
        # by the server, not cut, so the client reads its end without a protocol error.
        rest = list(events)
        assert all(
            line == "" or line.startswith(":") or line.startswith(("event:", "data:", "id:")) for line in rest
        )
