"""GET /events against a real server (uvicorn on a free port), read by a streaming HTTP client: every
role may read it; it shows a block, its token event and an intervention after the actions causing them,
in order; a refused sender with the reason in plain words; a keep-alive comment; a reconnection resumes
after Last-Event-ID; a client that goes away leaves no subscription behind. Waits are failure guards."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest

from api import create_app
from registry.access import keys as access_keys
from registry.access.keys import ROLES
from registry.chain.rpc.server import RpcServerThread
from registry.demos.runs import DemoRuns
from registry.errors import SubmissionRejectedError
from registry.runtime import Registry
from tests.conftest import derived_keys
from tests.registry_fixtures import USD, make_world, service_settings

WAIT = 30.0
"""Seconds a read may take before the test fails (a guard, never a pace)."""


@dataclass
class Served:
    """A registry (its index following the chains) served by a real server, with a key of every role."""

    registry: Registry
    url: str
    app: Any
    tokens: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    registry = Registry.open(
        service_settings(Path(tmp_path_factory.mktemp("events"))), in_memory=True, sealing="instant"
    )
    try:
        app = create_app(registry=registry)
        with RpcServerThread(app) as server:
            result = Served(registry=registry, url=server.url, app=app)
            with registry.db.write() as session:
                for role in ROLES:
                    made = access_keys.create_key(
                        session, role=role, label=f"events {role}", now=1, addresses=()
                    )
                    result.tokens[role] = made.token
            yield result
    finally:
        registry.close()


@dataclass
class Message:
    """One SSE message, or a comment (``kind`` None, ``comment`` set)."""

    kind: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
    comment: str | None = None


class Stream:
    """The lines of an open event stream, parsed into messages."""

    def __init__(self, response: httpx2.Response) -> None:
        self.response = response
        self._lines = response.iter_lines()

    def next(self) -> Message:
        current = Message()
        for line in self._lines:
            if line.startswith(":"):
                return Message(comment=line[1:].strip())
            if not line:
                if current.kind is not None:
                    return current
                continue
            name, _, value = line.partition(": ")
            if name == "event":
                current.kind = value
            elif name == "data":
                current.data = json.loads(value)
            elif name == "id":
                current.id = int(value)
        raise AssertionError("the stream ended")

    def next_of(self, kind: str, **match: Any) -> Message:
        """The next message of ``kind`` whose data has ``match`` (others are skipped)."""
        while True:
            message = self.next()
            if message.kind == kind and all(message.data.get(k) == v for k, v in match.items()):
                return message


@contextmanager
def stream(served: Served, role: str = "auditor", **options: Any) -> Iterator[Stream]:
    headers = {"Authorization": f"Bearer {served.tokens[role]}", **options.pop("headers", {})}
    with (
        httpx2.Client(base_url=served.url, timeout=WAIT) as client,
        client.stream("GET", "/events", headers=headers, **options) as response,
    ):
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        opened = Stream(response)
        assert opened.next().comment == "stream open"  # subscribed from here on
        yield opened


def test_every_role_reads_the_stream_and_nobody_without_a_key(served: Served) -> None:
    for role in ROLES:
        with stream(served, role):
            pass
    anonymous = httpx2.get(f"{served.url}/events", timeout=WAIT)
    assert anonymous.status_code == 401 and anonymous.json()["type"] == "/problems/unauthenticated"
    headers = {"Authorization": f"Bearer {served.tokens['auditor']}"}
    wrong = httpx2.get(
        f"{served.url}/events", params={"kinds": "block,gossip"}, headers=headers, timeout=WAIT
    )
    assert (
        wrong.status_code == 422 and wrong.json()["field"] == "kinds" and "gossip" in wrong.json()["detail"]
    )
    bad_id = httpx2.get(f"{served.url}/events", headers={**headers, "Last-Event-ID": "x"}, timeout=WAIT)
    assert bad_id.status_code == 422 and bad_id.json()["field"] == "header Last-Event-ID"


def test_a_block_its_token_event_and_an_intervention_in_order(served: Served) -> None:
    registry = served.registry
    world = make_world(registry, "permissioned")
    (alice,) = world.onboard(1)
    with stream(served, "investor", params={"chain": "permissioned"}) as events:
        outcome = registry.cash.mint(world.cash, alice.address, 7 * USD, sender=world.issuer)
        block = events.next_of("block", number=outcome.block_number)
        assert block.data["hash"] == "0x" + bytes(outcome.block_hash).hex()
        assert block.data["sealers"] and set(block.data["sealers"]) <= set(block.data["validators"])
        token = events.next_of("token-event", tx_hash="0x" + bytes(outcome.tx_hash).hex())
        assert (token.data["asset_id"], token.data["symbol"], token.data["event"]) == (
            world.cash,
            "tUSD",
            "Transfer",
        )
        assert (
            token.data["args"]["value"] == str(7 * USD) and token.data["block_number"] == outcome.block_number
        )
        proposal = registry.governance.propose_freeze(alice.address, reason="events test")
        intervention = events.next_of("intervention")
        assert intervention.data == {
            "chain": "permissioned",
            "id": "0x" + bytes(proposal.id).hex(),
            "kind": "freeze",
            "status": "open",
            "signers": [],
            "dropped": [],
            "replayed": [],
            "excluded": [],
        }
        assert block.id is not None and token.id is not None and intervention.id is not None
        assert block.id < token.id < intervention.id


def test_a_refused_sender_is_told_in_plain_words(served: Served) -> None:
    registry = served.registry
    world = make_world(registry, "permissioned")
    (stranger,) = derived_keys("events stranger", 1)
    registry.context.chain("permissioned").sender.signers.add(stranger, "test stranger")
    with stream(served, params={"kinds": "refusal"}) as events:
        with pytest.raises(SubmissionRejectedError):
            registry.cash.approve(world.cash, world.issuer, 1, sender=stranger.address)
        refusal = events.next_of("refusal")
    assert refusal.data["chain"] == "permissioned" and refusal.data["sender"] == stranger.address
    assert refusal.data["error"] == "unregistered" and refusal.data["tx_hash"] is None
    assert "is not registered in the identity registry" in refusal.data["reason"]
    assert "have a KYC provider" in refusal.data["reason"]


def test_a_reconnection_resumes_after_the_last_event_id(served: Served) -> None:
    registry = served.registry
    world = make_world(registry, "permissionless")
    with stream(served, params={"kinds": "block"}) as events:
        first = registry.cash.mint(world.cash, world.issuer, USD, sender=world.issuer)
        seen = events.next_of("block", number=first.block_number)
    # Blocks sealed while the reader was away.
    missed = [
        registry.cash.mint(world.cash, world.issuer, USD, sender=world.issuer).block_number for _ in range(2)
    ]
    with stream(
        served, params={"kinds": "block", "chain": "permissionless"}, headers={"Last-Event-ID": str(seen.id)}
    ) as events:
        assert [events.next_of("block").data["number"] for _ in missed] == missed


def test_a_reconnection_with_an_id_from_before_a_restart_is_told_and_gets_this_runs_events(
    served: Served,
) -> None:
    registry = served.registry
    world = make_world(registry, "permissionless")
    landed = registry.cash.mint(world.cash, world.issuer, USD, sender=world.issuer)
    # An id of the server's previous run: below every id of this one.
    earlier = registry.activity.first_id - 5
    with stream(
        served, params={"kinds": "block", "chain": "permissionless"}, headers={"Last-Event-ID": str(earlier)}
    ) as events:
        told = events.next()
        assert told.comment is not None and "did not issue" in told.comment
        assert f"from id {registry.activity.first_id}" in told.comment
        replayed = events.next_of("block", number=landed.block_number)
        assert replayed.id is not None and replayed.id >= registry.activity.first_id


def test_keep_alive_and_a_client_that_leaves_leaves_nothing_behind(served: Served) -> None:
    hub = served.registry.activity
    # The streams of earlier tests end on the server a moment after their clients leave.
    assert hub.wait_for_subscribers(0, WAIT), "an earlier test's stream outlived its client"
    before = hub.subscriber_count
    state = served.app.state.api
    state.keep_alive_seconds = 0.05
    try:
        with stream(served, params={"kinds": "demo"}) as events:
            assert hub.subscriber_count == before + 1
            assert events.next().comment == "keep-alive"
    finally:
        state.keep_alive_seconds = 15.0
    assert hub.wait_for_subscribers(before, WAIT), "the stream's subscription outlived its client"


def test_a_demo_run_streams_its_steps(served: Served) -> None:
    runs = DemoRuns.of(served.registry)
    with stream(served, params={"kinds": "demo"}) as events:
        run = runs.start("censor")
        first = events.next_of("demo", run_id=run.run_id)
        runs.join()
    assert first.data["name"] == "censor"
    assert first.data["chain"] in ("permissioned", "permissionless")
    assert first.data["step"] and first.data["status"] and "detail" in first.data
    ended = runs.get(run.run_id)
    assert ended is not None and ended.status == "done"
    recorded = ended.steps[0]
    assert (first.data["chain"], first.data["step"], first.data["status"]) == (
        recorded.chain,
        recorded.step,
        recorded.status,
    )
