"""Fixtures of the API tests: the app on a registry of fresh in-memory chains (instant sealing), shared by
a test module, on SQLite and on PostgreSQL; a key of every role; a clock the tests move.

``api`` runs each test of a module on both databases (one registry per database and module); tests that
do not depend on the database use ``sqlite_api``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from pydantic import SecretStr

from api import create_app
from registry.access import keys as access_keys
from registry.access.keys import ROLES, ApiKeyRecord
from registry.runtime import Registry
from tests.conftest import postgres_schema_url
from tests.registry_fixtures import USD, service_settings

START = 1_800_000_000
"""The API clock's start (Unix seconds)."""

_labels = itertools.count()


class Clock:
    """The app's clock: Unix seconds, moved by the tests."""

    def __init__(self, now: int = START) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


@dataclass
class Api:
    """The app under test, its registry, and a key of every role."""

    app: FastAPI
    client: TestClient
    registry: Registry
    clock: Clock
    tokens: dict[str, str] = field(default_factory=dict)
    records: dict[str, ApiKeyRecord] = field(default_factory=dict)

    def key(
        self, role: str, *, addresses: tuple[str, ...] = (), assets: tuple[str, ...] = ()
    ) -> tuple[str, ApiKeyRecord]:
        """A new key of ``role`` (its token and record), made straight in the database."""
        with self.registry.db.write() as session:
            made = access_keys.create_key(
                session,
                role=role,
                label=f"test {role} {next(_labels)}",
                now=self.clock.now,
                addresses=addresses,
                assets=assets,
            )
        return made.token, made.record

    def headers(
        self, role: str | None = None, *, token: str | None = None, idem: str | None = None
    ) -> dict[str, str]:
        """Headers of a request as ``role`` (or with ``token``), with an Idempotency-Key when given."""
        chosen = token if token is not None else (self.tokens[role] if role is not None else None)
        headers = {"Authorization": f"Bearer {chosen}"} if chosen is not None else {}
        if idem is not None:
            headers["Idempotency-Key"] = idem
        return headers

    def call(
        self,
        method: str,
        path: str,
        role: str | None = None,
        *,
        token: str | None = None,
        idem: str | None = None,
        **kwargs: Any,
    ) -> Response:
        """A request as ``role``."""
        headers = {**self.headers(role, token=token, idem=idem), **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    @property
    def issuer(self) -> str:
        """The issuer key's signing address (a keystore key custody holds)."""
        return self.records["issuer"].addresses[0]


def problem(response: Response, status: int, slug: str) -> dict[str, Any]:
    """Assert ``response`` is an RFC 9457 problem of ``status`` and type ``slug``; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/problems/{slug}", body
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["instance"]
    return body


@pytest.fixture(scope="module")
def postgres_schema(postgres_database: str) -> Iterator[str]:
    """A schema of its own in the session's PostgreSQL database, for one test module."""
    with postgres_schema_url(postgres_database) as url:
        yield url


def open_api(data_dir: Path, database_url: str | None = None) -> Iterator[Api]:
    """The app on a fresh registry (in-memory chains sealing each transaction at once, no follower),
    with a key of every role; the issuer's is bound to a custodial key, which holds a cash token."""
    overrides: dict[str, Any] = {"database_url": SecretStr(database_url)} if database_url else {}
    registry = Registry.open(
        service_settings(data_dir, **overrides), in_memory=True, sealing="instant", follow=False
    )
    clock = Clock()
    try:
        app = create_app(registry=registry, clock=clock)
        with TestClient(app, raise_server_exceptions=False) as client:
            api = Api(app=app, client=client, registry=registry, clock=clock)
            issuer = registry.keys.create(f"api issuer {next(_labels)}").address
            for role in ROLES:
                addresses = (issuer,) if role == "issuer" else ()
                if role in ("investor", "validator", "kyc-provider", "agent"):
                    addresses = (registry.keys.create(f"api {role} {next(_labels)}", chains=[]).address,)
                api.tokens[role], api.records[role] = api.key(role, addresses=addresses)
            yield api
    finally:
        registry.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The app on SQLite and on PostgreSQL (one registry each, shared by the module's tests)."""
    url = request.getfixturevalue("postgres_schema") if request.param == "postgresql" else None
    yield from open_api(tmp_path_factory.mktemp(f"api-{request.param}"), url)


@pytest.fixture(scope="module")
def sqlite_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The app on SQLite only (for what does not depend on the database)."""
    yield from open_api(tmp_path_factory.mktemp("api-sqlite"))


def cash_for(api: Api, chain: str) -> str:
    """A cash token of the issuer on ``chain`` (issued through the API); its asset id."""
    response = api.call(
        "POST",
        "/assets",
        "issuer",
        json={"kind": "cash", "chain": chain, "terms": {"name": "Test USD", "symbol": "tUSD"}},
    )
    assert response.status_code == 201, response.text
    asset_id: str = response.json()["asset"]["asset_id"]
    return asset_id


__all__ = ["USD", "Api", "Clock", "cash_for", "problem"]
