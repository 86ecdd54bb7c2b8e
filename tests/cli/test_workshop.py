"""Every command of the README's workshop walkthrough, run as written (the scenarios with ``--holders 2``,
two at a time), against a ``registry serve`` of its own on a temporary data directory.

A command is skipped, saying why, only while this build lacks what it calls: a scenario that
``registry demo --list`` does not have, or a route the server does not serve."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command

from registry.cli import app
from registry.demos import SCENARIOS
from tests.api.test_serve import serving

README = Path(__file__).resolve().parents[2] / "README.md"
REGISTRY = str(Path(sys.executable).parent / "registry")
TINY = ("--holders", "2")
"""What makes a scenario small enough for the suite."""
TIMEOUT = 300
ENV_KEEP = ("PATH", "HOME", "LANG", "ETH_HASH_BACKEND", "PYTHONPATH")
"""What the commands keep of the environment (nothing of REGISTRY_*: the commands get their own)."""


def walkthrough() -> list[list[str]]:
    """The commands of the README's workshop section, in order, as argument lists."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Workshop\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    commands = [shlex.split(line, comments=True) for block in blocks for line in block.splitlines()]
    return [command for command in commands if command]


COMMANDS = walkthrough()


def kind(command: list[str]) -> str:
    """serve (starts the server), key (takes its key), local (a scenario on its own chains) or client."""
    if command[0] == "scripts/run" or command[:2] == ["registry", "serve"]:
        return "serve"
    if command[0] == "export":
        return "key"
    assert command[0] == "registry", f"the walkthrough runs registry commands only: {command}"
    if command[1] == "demo" and "--server" not in command:
        return "local"
    return "client"


def tiny(command: list[str]) -> list[str]:
    """``command`` as the suite runs it: a scenario with a small crowd (when ``registry demo`` takes one)."""
    demo = get_command(app).commands["demo"]  # type: ignore[attr-defined]
    takes = any("--holders" in getattr(param, "opts", ()) for param in demo.params)
    small = TINY if command[:2] == ["registry", "demo"] and takes and "--list" not in command else ()
    return [REGISTRY, *command[1:], *small]


def local_demo(command: list[str]) -> list[str] | None:
    """The command as the suite runs it (tiny), or None when this build lacks the scenario."""
    if command[2] not in SCENARIOS:
        return None
    return tiny(command)


def test_the_walkthrough_covers_every_scenario_in_order() -> None:
    demos = [
        command[2] for command in COMMANDS if command[:2] == ["registry", "demo"] and kind(command) == "local"
    ]
    assert demos == ["hack", "censor", "access", "build", "bond", "stock", "cost"]
    assert [kind(command) for command in COMMANDS[:2]] == ["serve", "key"]


@pytest.fixture(scope="module")
def local_runs() -> dict[int, subprocess.CompletedProcess[str]]:
    """Every scenario of the walkthrough this build has, run two at a time (the machine has two cores)."""
    env = {key: os.environ[key] for key in ENV_KEEP if key in os.environ}
    env["COLUMNS"] = "160"
    runnable = {
        index: argv
        for index, command in enumerate(COMMANDS)
        if kind(command) == "local" and (argv := local_demo(command)) is not None
    }

    def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=TIMEOUT, check=False)

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {index: pool.submit(run, argv) for index, argv in runnable.items()}
        return {index: future.result() for index, future in futures.items()}


class Server:
    """The walkthrough's `registry serve`: its URL, the admin key it printed, its routes."""

    def __init__(self, url: str, key: str) -> None:
        self.url = url
        self.key = key
        with urllib.request.urlopen(f"{url}/openapi.json", timeout=30) as answer:
            self.paths: dict[str, Any] = json.load(answer)["paths"]

    def get(self, path: str) -> Any:
        request = urllib.request.Request(f"{self.url}{path}", headers={"Authorization": f"Bearer {self.key}"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.load(answer)

    def missing(self, command: list[str]) -> str | None:
        """Why ``command`` cannot run on this server yet (None: it can)."""
        needed = {
            "demo": "/demos/{name}" if "--list" not in command else "/demos",
            "interventions": "/chains/{chain}/interventions",
            "validators": "/chains/{chain}/validators",
        }.get(command[1])
        if needed is not None and not any(
            re.sub(r"\{[^}]*\}", "{}", path) == re.sub(r"\{[^}]*\}", "{}", needed) for path in self.paths
        ):
            return f"the server has no route {needed} yet"
        if command[1] == "demo" and "--list" not in command:
            listed = self.get("/demos")
            names = [item["name"] for item in (listed["items"] if isinstance(listed, dict) else listed)]
            if command[2] not in names:
                return f"the server has no demo {command[2]} yet"
        return None


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``registry serve`` on a free port and a temporary data directory, as `scripts/run` starts it."""
    with serving(tmp_path_factory.mktemp("workshop") / "data") as (url, lines):
        keys = [line.split()[3] for line in lines if line.startswith("Admin API key")]
        assert keys, lines
        yield Server(url, keys[0])


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(COMMANDS)), ids=[" ".join(command) for command in COMMANDS])
def test_walkthrough_command(index: int, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    command = COMMANDS[index]
    if kind(command) == "serve":
        started: Server = request.getfixturevalue("server")
        assert started.key.startswith("rk_")
        return
    if kind(command) == "key":
        assert command[1].startswith("REGISTRY_API_KEY=rk_"), command
        request.getfixturevalue("server")
        return
    if kind(command) == "local":
        if local_demo(command) is None:
            pytest.skip(f"this build has no demo {command[2]} yet (registry demo --list)")
        result = request.getfixturevalue("local_runs")[index]
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert "permissioned" in result.stdout and "permissionless" in result.stdout
        return
    served: Server = request.getfixturevalue("server")
    if (why := served.missing(command)) is not None:
        pytest.skip(why)
    env = {key: os.environ[key] for key in ENV_KEEP if key in os.environ}
    env.update(REGISTRY_URL=served.url, REGISTRY_API_KEY=served.key, COLUMNS="160")
    result = subprocess.run(
        tiny(command),
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.strip()
    assert served.key not in result.stdout + result.stderr
