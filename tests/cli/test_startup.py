"""The command line starts lean: importing it, and running a client command, loads neither web3 nor
py-evm (nor the server's FastAPI and SQLAlchemy); httpx2 only once a command talks to a server."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

HEAVY = ("web3", "eth", "eth_account", "eth_tester", "fastapi", "sqlalchemy", "uvicorn")
PROBE = """
import json, sys
{setup}
top = sorted({{name.split(".")[0] for name in sys.modules}})
print(json.dumps(top))
"""


def loaded(setup: str) -> set[str]:
    """The top-level modules a fresh interpreter holds after ``setup``."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(setup=setup)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


def test_importing_the_command_line_loads_nothing_heavy() -> None:
    modules = loaded("import registry.cli")
    assert "typer" in modules
    assert not modules & {*HEAVY, "httpx2"}


def test_a_client_command_loads_httpx2_and_nothing_heavy() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    setup = f"""
from registry.cli import app
try:
    app(["--url", "http://127.0.0.1:{port}", "chains"], standalone_mode=False)
except BaseException as exc:
    print(type(exc).__name__, file=sys.stderr)
"""
    modules = loaded(setup)
    assert "httpx2" in modules
    assert not modules & set(HEAVY)
