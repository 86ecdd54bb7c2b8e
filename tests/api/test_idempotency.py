"""Idempotency-Key: replays, refusals, requests cut short by a crash, expiry; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from api import create_app
from api.idempotency import Idempotent, request_fingerprint
from api.schemas.common import TransactionPublic
from api.security import Principal
from api.state import ApiState
from registry.access import idempotency as store
from registry.errors import OperationRefusedError

from .conftest import Api, problem


def cash(symbol: str, chain: str = "permissionless") -> dict[str, Any]:
    return {"kind": "cash", "chain": chain, "terms": {"name": f"{symbol} cash", "symbol": symbol}}


def count(api: Api) -> int:
    return len(api.registry.assets())


def owner(api: Api) -> str:
    state = api.app.state.api
    assert isinstance(state, ApiState)
    return state.owner


def claim(api: Api, key: str, body: dict[str, Any], *, by: str, batch: bool = False) -> store.Record:
    """Claim ``key`` as the issuer's request ``POST /assets`` with ``body`` would, for process ``by``."""
    fingerprint = request_fingerprint("POST", "/assets", "", json.dumps(body).encode())
    found = store.begin(
        api.registry.db,
        key_id=api.records["issuer"].key_id,
        idempotency_key=key,
        fingerprint=fingerprint,
        operation="POST /assets",
        owner=by,
        now=api.clock.now,
        batch=batch,
    )
    assert found.action == "run"
    return found.record


def test_a_retry_replays_the_first_answer_and_sends_nothing(api: Api) -> None:
    first = api.call("POST", "/assets", "issuer", idem="replay-1", json=cash("RP1"))
    assert first.status_code == 201
    before = count(api)
    again = api.call("POST", "/assets", "issuer", idem="replay-1", json=cash("RP1"))
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["idempotent-replayed"] == "true"
    assert count(api) == before
    # The key belongs to its caller: another key's same Idempotency-Key is another request.
    other = api.call("POST", "/assets", "admin", idem="replay-1", json={**cash("RP1"), "issuer": api.issuer})
    assert other.status_code == 201 and other.json() != first.json()


def test_a_refusal_is_replayed_too_and_another_body_is_refused(api: Api) -> None:
    bad = {
        "kind": "cash",
        "chain": "permissionless",
        "issuer": "0x" + "34" * 20,
        "terms": {"name": "x", "symbol": "x"},
    }
    first = problem(api.call("POST", "/assets", "issuer", idem="refused-1", json=bad), 403, "scope-forbidden")
    again = api.call("POST", "/assets", "issuer", idem="refused-1", json=bad)
    assert again.json() == first and again.headers["idempotent-replayed"] == "true"
    reused = api.call("POST", "/assets", "issuer", idem="refused-1", json=cash("RF1"))
    assert problem(reused, 422, "idempotency-key-reused")["field"] == "header Idempotency-Key"


def test_the_same_body_in_another_key_order_or_spacing_is_the_same_request(api: Api) -> None:
    body = cash("SP1")
    first = api.call("POST", "/assets", "issuer", idem="order-1", json=body)
    shuffled = json.dumps(dict(reversed(list(body.items()))), indent=3)
    again = api.call(
        "POST",
        "/assets",
        "issuer",
        idem="order-1",
        content=shuffled,
        headers={"Content-Type": "application/json"},
    )
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"


def test_a_retry_while_the_first_runs_is_409(api: Api) -> None:
    claim(api, "inflight-1", cash("IF1"), by=owner(api))
    refused = api.call("POST", "/assets", "issuer", idem="inflight-1", json=cash("IF1"))
    problem(refused, 409, "idempotency-in-flight")
    assert refused.headers["retry-after"] == "1"


def test_a_request_cut_short_before_signing_runs_again_after_a_restart(api: Api) -> None:
    claim(api, "crash-1", cash("CR1"), by="a process that died")
    before = count(api)
    retried = api.call("POST", "/assets", "issuer", idem="crash-1", json=cash("CR1"))
    assert retried.status_code == 201 and count(api) == before + 1


def test_a_request_cut_short_after_its_transaction_landed_is_not_sent_again(api: Api) -> None:
    landed = api.call("POST", "/assets", "issuer", json=cash("LD1")).json()["transaction"]
    record = claim(api, "crash-2", cash("LD2"), by="a process that died")
    transaction = {"chain": landed["chain"], "hash": landed["hash"], "sender": landed["sender"], "nonce": 0}
    store.add_transaction(api.registry.db, record, transaction, owner="a process that died")
    before = count(api)
    refused = problem(
        api.call("POST", "/assets", "issuer", idem="crash-2", json=cash("LD2")),
        409,
        "idempotency-interrupted",
    )
    assert refused["transactions"] == [{**transaction, "state": "mined"}]
    assert count(api) == before


def test_a_signed_transaction_the_chain_never_saw_is_safe_to_send_again(api: Api) -> None:
    record = claim(api, "crash-3", cash("NS1"), by="a process that died")
    ghost = {"chain": "permissionless", "hash": "0x" + "ee" * 32, "sender": api.issuer, "nonce": 99}
    store.add_transaction(api.registry.db, record, ghost, owner="a process that died")
    assert api.call("POST", "/assets", "issuer", idem="crash-3", json=cash("NS1")).status_code == 201


def test_answers_survive_a_restart_and_keys_expire_after_a_day(api: Api) -> None:
    first = api.call("POST", "/assets", "issuer", idem="restart-1", json=cash("RS1"))
    with TestClient(create_app(registry=api.registry, clock=api.clock)) as restarted:
        again = restarted.post("/assets", headers=api.headers("issuer", idem="restart-1"), json=cash("RS1"))
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    api.clock.now += store.DEFAULT_TTL
    try:
        fresh = api.call("POST", "/assets", "issuer", idem="restart-1", json=cash("RS2"))
    finally:
        api.clock.now -= store.DEFAULT_TTL
    assert fresh.status_code == 201 and fresh.json()["asset"]["symbol"] == "RS2"


def test_signed_transactions_are_recorded_before_they_are_submitted(api: Api) -> None:
    made = api.call("POST", "/assets", "issuer", idem="record-1", json=cash("RC1")).json()
    fingerprint = request_fingerprint("POST", "/assets", "", json.dumps(cash("RC1")).encode())
    found = store.begin(
        api.registry.db,
        key_id=api.records["issuer"].key_id,
        idempotency_key="record-1",
        fingerprint=fingerprint,
        operation="POST /assets",
        owner=owner(api),
        now=api.clock.now,
    )
    assert found.action == "replay"
    assert [tx["hash"] for tx in found.record.transactions] == [made["transaction"]["hash"]]


def idempotent(api: Api, key: str) -> Idempotent:
    state = api.app.state.api
    assert isinstance(state, ApiState)
    fingerprint = request_fingerprint("POST", "/unit", "", key.encode())
    return Idempotent(
        state, Principal(api.records["issuer"]), key, fingerprint, operation="POST /unit", instance="/unit"
    )


def test_a_server_error_before_anything_was_signed_is_forgotten(api: Api) -> None:
    def fails() -> TransactionPublic:
        raise RuntimeError("unexpected")

    assert idempotent(api, "unit-1").run(fails).status_code == 500
    landed = api.call("POST", "/assets", "issuer", json=cash("UN1")).json()["transaction"]
    replayed = idempotent(api, "unit-1").run(lambda: TransactionPublic.model_validate(landed))
    assert replayed.status_code == 200 and "idempotent-replayed" not in replayed.headers


def test_a_failed_batch_stays_retryable_with_the_same_batch_id(api: Api) -> None:
    call = idempotent(api, "unit-2")
    assert call.batch_id == store.batch_id_for(api.records["issuer"].key_id, "unit-2")

    def refused() -> TransactionPublic:
        raise OperationRefusedError("the batch stopped")

    assert call.run(refused, batch=True).status_code == 409
    retried = idempotent(api, "unit-2")
    assert retried.batch_id == call.batch_id
    landed = api.call("POST", "/assets", "issuer", json=cash("UN2")).json()["transaction"]
    assert retried.run(lambda: TransactionPublic.model_validate(landed), batch=True).status_code == 200
