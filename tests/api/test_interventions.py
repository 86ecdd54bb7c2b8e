"""Interventions through the API: a rollback proposed, signed to its quorum (a validator key only as its
own validator, an admin for any validator custody holds) and reported; a freeze and its lifting; every
refusal (4xx) with its problem type, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from tests.registry_fixtures import USD, make_world

from .conftest import Api, problem

BASE = "/chains/permissioned/interventions"


def validators(api: Api) -> list[str]:
    response = api.call("GET", "/chains/permissioned/validators", "auditor")
    assert response.status_code == 200, response.text
    found: list[str] = response.json()["current"]
    return found


def validator_token(api: Api, address: str) -> str:
    """A validator API key bound to ``address``."""
    token, _record = api.key("validator", addresses=(address,))
    return token


def sign(api: Api, intervention_id: str, validator: str, **kwargs: Any) -> Any:
    return api.call("POST", f"{BASE}/{intervention_id}/signatures", json={"validator": validator}, **kwargs)


def test_a_rollback_proposed_signed_to_quorum_executed_and_reported(api: Api) -> None:
    registry = api.registry
    world = make_world(registry, "permissioned")
    alice, mallory = world.onboard(2)
    to_block = int(registry.chain("permissioned").w3.eth.block_number)
    honest = registry.cash.mint(world.cash, alice.address, 5 * USD, sender=world.issuer)
    attack = registry.cash.approve(world.cash, world.issuer, 1, sender=mallory.address)
    honest_hash, attack_hash = ("0x" + bytes(t.tx_hash).hex() for t in (honest, attack))

    first, second, third, _fourth = validators(api)
    own = validator_token(api, first)
    proposed = api.call(
        "POST",
        BASE,
        token=own,
        json={"kind": "rollback", "to_block": to_block, "accounts": [mallory.address], "reason": "exploit"},
    )
    assert proposed.status_code == 201, proposed.text
    body = proposed.json()
    assert body["status"] == "open" and body["kind"] == "rollback" and body["signers"] == []
    assert body["to_block"] == to_block and body["accounts"] == [mallory.address]
    assert body["threshold"] == 3  # ceil(2 * 4 / 3)
    assert body["typed_data"]["primaryType"] == "Rollback"
    intervention = body["id"]

    signed = api.call("POST", f"{BASE}/{intervention}/signatures", token=own, json={})
    assert signed.status_code == 200, signed.text
    assert signed.json()["signers"] == [first] and signed.json()["status"] == "open"

    # A validator key signs only as its own validator.
    refused = problem(sign(api, intervention, second, token=own), 403, "scope-forbidden")
    assert refused["field"] == "validator" and second in refused["detail"]
    assert api.call("GET", f"{BASE}/{intervention}", "auditor").json()["signers"] == [first]

    assert sign(api, intervention, second, role="admin").json()["status"] == "open"
    done = sign(api, intervention, third, role="admin")
    assert done.status_code == 200, done.text
    report = done.json()
    assert report["status"] == "executed"
    assert set(report["signers"]) == {first, second, third}
    assert [t["hash"] for t in report["dropped"]] == [honest_hash, attack_hash]
    assert [t["hash"] for t in report["replayed"]] == [honest_hash]
    assert report["replayed"][0]["status"] is True and report["replayed"][0]["new_block"] > to_block
    assert [(t["hash"], t["fate"]) for t in report["excluded"]] == [(attack_hash, "excluded-by-sender")]
    assert report["failed"] == [] and report["old_head"] == to_block + 2
    assert report["new_head"] == report["executed_at_block"] == to_block + 1

    # What the API shows afterwards is what the chain did: the replayed mint holds, the attack is gone.
    assert api.call("GET", f"{BASE}/{intervention}", "investor").json() == report
    assert registry.cash.balance_of(world.cash, alice.address) == 5 * USD
    listed = api.call("GET", BASE, "auditor", params={"status": "executed"}).json()["items"]
    assert intervention in [item["id"] for item in listed]

    # Nothing happens twice.
    again = problem(api.call("POST", f"{BASE}/{intervention}/execute", "admin"), 409, "proposal-closed")
    assert "already executed" in again["detail"]
    problem(sign(api, intervention, first, token=own), 409, "proposal-closed")


def test_a_freeze_and_its_lifting(api: Api) -> None:
    registry = api.registry
    world = make_world(registry, "permissioned")
    (mallory,) = world.onboard(1)
    first, second, third, _fourth = validators(api)
    proposed = api.call(
        "POST",
        BASE,
        "validator",
        json={"kind": "freeze", "accounts": [mallory.address], "reason": "stolen key"},
    )
    assert proposed.status_code == 201, proposed.text
    freeze = proposed.json()["id"]
    # Too few signatures: executing changes nothing and says why.
    short = problem(api.call("POST", f"{BASE}/{freeze}/execute", "admin"), 409, "quorum-not-reached")
    assert "Nothing was changed" in short["detail"]
    for validator in (first, second, third):
        response = sign(api, freeze, validator, role="admin")
    assert response.json()["status"] == "executed" and response.json()["kind"] == "freeze"
    frozen = api.call("GET", "/chains/permissioned/frozen", "auditor").json()
    assert [(f["account"], f["intervention_id"]) for f in frozen["items"]] == [(mallory.address, freeze)]
    problem(
        api.call(
            "POST", BASE, "admin", json={"kind": "freeze", "accounts": [mallory.address], "reason": "x"}
        ),
        409,
        "proposal-refused",
    )
    lift = api.call(
        "POST", BASE, "admin", json={"kind": "unfreeze", "accounts": [mallory.address], "reason": "rotated"}
    ).json()["id"]
    for validator in (first, second, third):
        sign(api, lift, validator, role="admin")
    assert api.call("GET", "/chains/permissioned/frozen", "auditor").json()["items"] == []


@pytest.mark.parametrize(
    ("body", "field_hint"),
    [
        ({"kind": "freeze", "accounts": [], "reason": "r"}, "exactly one account"),
        ({"kind": "rollback", "reason": "r"}, "to_block"),
        ({"kind": "freeze", "accounts": ["0x" + "11" * 20], "to_block": 1, "reason": "r"}, "rollback's"),
        ({"kind": "rollback", "to_block": 1}, "reason"),
        ({"kind": "rollback", "to_block": 1, "reason": "two\nlines"}, "reason"),
        ({"kind": "halt", "reason": "r"}, "kind"),
    ],
)
def test_a_malformed_proposal_is_422_and_proposes_nothing(
    api: Api, body: dict[str, Any], field_hint: str
) -> None:
    before = len(api.call("GET", BASE, "auditor", params={"limit": 500}).json()["items"])
    refused = problem(api.call("POST", BASE, "admin", json=body), 422, "validation-error")
    assert field_hint in refused["detail"]
    assert len(api.call("GET", BASE, "auditor", params={"limit": 500}).json()["items"]) == before


def test_every_refusal_names_what_is_wrong(api: Api) -> None:
    head = int(api.registry.chain("permissioned").w3.eth.block_number)
    beyond = problem(
        api.call("POST", BASE, "admin", json={"kind": "rollback", "to_block": head, "reason": "r"}),
        409,
        "proposal-refused",
    )
    assert f"below the head #{head}" in beyond["detail"]
    unknown = "0x" + "ab" * 32
    assert (
        problem(api.call("GET", f"{BASE}/{unknown}", "auditor"), 404, "not-found")["resource"] == "proposal"
    )
    problem(api.call("POST", f"{BASE}/{unknown}/execute", "admin"), 404, "not-found")
    problem(api.call("GET", f"{BASE}/0x1234", "auditor"), 422, "validation-error")

    stranger = Account.create().address
    proposed = api.call("POST", BASE, "admin", json={"kind": "freeze", "accounts": [stranger], "reason": "r"})
    intervention = proposed.json()["id"]
    needs = problem(
        api.call("POST", f"{BASE}/{intervention}/signatures", "admin", json={}), 422, "invalid-input"
    )
    assert needs["field"] == "validator"
    not_one = problem(sign(api, intervention, stranger, role="admin"), 403, "not-a-validator")
    assert "holds no key" in not_one["detail"]
    # Signed by a key that is not the named validator's.
    typed = encode_typed_data(full_message=proposed.json()["typed_data"])
    forged = "0x" + bytes(Account.create().sign_message(typed).signature).hex()
    first = validators(api)[0]
    bad = api.call(
        "POST", f"{BASE}/{intervention}/signatures", "admin", json={"validator": first, "signature": forged}
    )
    problem(bad, 422, "invalid-proposal-signature")
    assert api.call("GET", f"{BASE}/{intervention}", "auditor").json()["signers"] == []
    # A vote's id is no intervention.
    vote = api.call(
        "POST",
        "/chains/permissioned/votes",
        "admin",
        json={"action": "remove", "validator": first, "reason": "r"},
    ).json()["id"]
    problem(api.call("GET", f"{BASE}/{vote}", "auditor"), 404, "not-found")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/chains/permissionless/interventions"),
        ("POST", "/chains/permissionless/interventions"),
        ("GET", "/chains/permissionless/frozen"),
        ("GET", f"/chains/permissionless/interventions/0x{'ab' * 32}"),
    ],
)
def test_the_open_chain_has_no_interventions(api: Api, method: str, path: str) -> None:
    body = {"kind": "freeze", "accounts": ["0x" + "11" * 20], "reason": "r"} if method == "POST" else None
    refused = problem(api.call(method, path, "admin", json=body), 409, "immutable-chain")
    assert "permissionless chain is immutable" in refused["detail"]


def test_a_retried_proposal_with_its_idempotency_key_proposes_once(api: Api) -> None:
    body = {"kind": "freeze", "accounts": [Account.create().address], "reason": "retry"}
    first = api.call("POST", BASE, "admin", idem="freeze-retry-1", json=body)
    again = api.call("POST", BASE, "admin", idem="freeze-retry-1", json=body)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    matching = [
        item
        for item in api.call("GET", BASE, "auditor", params={"limit": 500}).json()["items"]
        if item["accounts"] == body["accounts"]
    ]
    assert [item["id"] for item in matching] == [first.json()["id"]]
    other = problem(
        api.call("POST", BASE, "admin", idem="freeze-retry-1", json={**body, "reason": "another"}),
        422,
        "idempotency-key-reused",
    )
    assert other["field"] == "header Idempotency-Key"


def test_execute_carries_out_an_intervention_whose_quorum_was_not_acted_on(api: Api) -> None:
    # Signatures gathered without carrying the intervention out (as when the node stopped between the
    # quorum and the execution): POST .../execute finishes it, once.
    stranger = Account.create().address
    proposed = api.call(
        "POST", BASE, "validator", json={"kind": "freeze", "accounts": [stranger], "reason": "r"}
    )
    intervention = proposed.json()["id"]
    desk = api.registry.chain("permissioned").interventions()
    for validator in validators(api)[:3]:
        desk.sign(bytes.fromhex(intervention[2:]), validator, execute=False)
    waiting = api.call("GET", f"{BASE}/{intervention}", "auditor").json()
    assert waiting["status"] == "open" and len(waiting["signers"]) == 3
    assert stranger not in [f["account"] for f in api.registry.governance.frozen_accounts()]
    executed = api.call("POST", f"{BASE}/{intervention}/execute", "validator")
    assert executed.status_code == 200, executed.text
    assert executed.json()["status"] == "executed"
    assert stranger in [f["account"] for f in api.registry.governance.frozen_accounts()]
    problem(api.call("POST", f"{BASE}/{intervention}/execute", "admin"), 409, "proposal-closed")
