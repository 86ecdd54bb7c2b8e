"""Fixtures of the command-line tests: the API served over real HTTP (uvicorn on a free port, on a
thread) on a registry of fresh in-memory chains, shared by a test module; a key of every role; and a
runner of ``registry`` commands pointed at that server.

Commands whose routes are built on other branches are tested once the server has them: `needs` skips a
test, naming the missing route, while the served OpenAPI document lacks it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from api import create_app
from registry.access import keys as access_keys
from registry.access.keys import ROLES
from registry.chain.rpc.server import RpcServerThread
from registry.cli import app
from registry.client import output
from registry.client.http import ApiClient, Remote
from registry.runtime import Registry
from tests.api.conftest import Clock
from tests.registry_fixtures import service_settings

_labels = itertools.count()


@dataclass
class Served:
    """The API on a real socket, its registry, and a key (token) of every role."""

    url: str
    registry: Registry
    clock: Clock
    tokens: dict[str, str] = field(default_factory=dict)
    addresses: dict[str, str] = field(default_factory=dict)
    paths: dict[str, Any] = field(default_factory=dict)

    def run(self, *args: str, role: str | None = "admin", token: str | None = None) -> Result:
        """``registry --url URL ARGS...`` with the key of ``role`` (or ``token``) in REGISTRY_API_KEY."""
        key = token if token is not None else (self.tokens[role] if role is not None else None)
        env = {"REGISTRY_URL": None, "REGISTRY_API_URL": None, "REGISTRY_API_KEY": key}
        return CliRunner().invoke(app, ["--url", self.url, *args], env=env, catch_exceptions=False)

    def client(self, role: str = "admin") -> ApiClient:
        """A client of the server with the key of ``role`` (for setting up what a test reads)."""
        return ApiClient(Remote(self.url, self.tokens[role]))

    def has(self, method: str, path: str) -> bool:
        """Whether the server has the route ``method path`` (a path template of routes.md; the names of
        its parameters do not matter)."""
        shape = re.sub(r"\{[^}]*\}", "{}", path)
        return any(
            method.lower() in operations and re.sub(r"\{[^}]*\}", "{}", served) == shape
            for served, operations in self.paths.items()
        )

    def needs(self, method: str, path: str) -> None:
        """Skip the test while the server lacks ``method path`` (another branch builds it)."""
        if not self.has(method, path):
            pytest.skip(f"the server has no route {method} {path} yet")


@pytest.fixture(autouse=True)
def wide_output() -> Iterator[None]:
    """Tables as wide as a big terminal, so that no address is folded across lines."""
    before = output.console.width, output.errors.width
    output.console.width = output.errors.width = 240
    yield
    output.console.width, output.errors.width = before


def serve(data_dir: Path) -> Iterator[Served]:
    """The app on a fresh registry (in-memory chains sealing each transaction at once), served over HTTP,
    with a key of every role; the issuer's is bound to a custodial key."""
    registry = Registry.open(service_settings(data_dir), in_memory=True, sealing="instant", follow=False)
    clock = Clock()
    try:
        with RpcServerThread(create_app(registry=registry, clock=clock)) as server:
            served = Served(url=server.url, registry=registry, clock=clock)
            issuer = registry.keys.create(f"cli issuer {next(_labels)}").address
            for role in ROLES:
                addresses: tuple[str, ...] = (issuer,) if role == "issuer" else ()
                if role in ("investor", "validator", "kyc-provider", "agent"):
                    addresses = (registry.keys.create(f"cli {role} {next(_labels)}", chains=[]).address,)
                with registry.db.write() as session:
                    made = access_keys.create_key(
                        session,
                        role=role,
                        label=f"cli {role} {next(_labels)}",
                        now=clock.now,
                        addresses=addresses,
                    )
                served.tokens[role] = made.token
                if addresses:
                    served.addresses[role] = addresses[0]
            with served.client() as client:
                served.paths = client.get("/openapi.json")["paths"]
            yield served
    finally:
        registry.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The API served over HTTP for one test module."""
    yield from serve(tmp_path_factory.mktemp("cli"))
