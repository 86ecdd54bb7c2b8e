"""Validators and validator votes through the API: the set and its quorums, a vote adding a validator
whose key lives elsewhere (it then signs an intervention with its own signature), who may sign as whom,
every refusal, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from .conftest import Api, problem

VOTES = "/chains/permissioned/votes"


def current(api: Api) -> dict[str, Any]:
    response = api.call("GET", "/chains/permissioned/validators", "investor")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_validators_and_their_quorums(api: Api) -> None:
    body = current(api)
    assert body["chain"] == "permissioned"
    assert len(body["current"]) == 4 and body["current"] == sorted(body["current"], key=str.lower)
    assert body["threshold"] == 3 and body["vote_threshold"] == 3
    assert body["signers_available"] == body["current"]
    assert body["current"] == api.registry.governance.validators()


def test_a_vote_adds_a_validator_who_then_signs_with_its_own_key(api: Api) -> None:
    first, second, third, _fourth = current(api)["current"]
    newcomer = Account.create()
    own, _record = api.key("validator", addresses=(first,))
    proposed = api.call(
        "POST",
        VOTES,
        token=own,
        json={"action": "add", "validator": newcomer.address, "reason": "Bank E joins"},
    )
    assert proposed.status_code == 201, proposed.text
    vote = proposed.json()
    assert (vote["action"], vote["validator"], vote["status"]) == ("add", newcomer.address, "open")
    assert vote["typed_data"]["primaryType"] == "ValidatorVote"

    signed = api.call("POST", f"{VOTES}/{vote['id']}/signatures", token=own, json={})
    assert signed.status_code == 200, signed.text
    assert signed.json()["signers"] == [first]
    refused = problem(
        api.call("POST", f"{VOTES}/{vote['id']}/signatures", token=own, json={"validator": second}),
        403,
        "scope-forbidden",
    )
    assert refused["field"] == "validator"
    api.call("POST", f"{VOTES}/{vote['id']}/signatures", "admin", json={"validator": second})
    approved = api.call("POST", f"{VOTES}/{vote['id']}/signatures", "admin", json={"validator": third})
    # It takes effect at the next block, which this chain (sealing at once) seals right away.
    assert approved.json()["status"] == "executed"
    assert approved.json()["executed_at_block"] == api.registry.chain("permissioned").w3.eth.block_number
    after = current(api)
    assert newcomer.address in after["current"] and len(after["current"]) == 5
    assert after["threshold"] == 4 and after["vote_threshold"] == 3
    assert newcomer.address not in after["signers_available"]
    (change,) = after["history"]
    assert (change["action"], change["validator"], change["vote_id"]) == ("add", newcomer.address, vote["id"])
    assert set(change["voters"]) == {first, second, third}
    listed = api.call("GET", VOTES, "auditor", params={"status": "executed"}).json()["items"]
    assert [item["id"] for item in listed] == [vote["id"]]
    problem(
        api.call("POST", f"{VOTES}/{vote['id']}/signatures", "admin", json={"validator": first}),
        409,
        "proposal-closed",
    )

    # The newcomer's key is not held here: custody cannot sign for it, its own signature counts.
    stranger = Account.create().address
    freeze = api.call(
        "POST",
        "/chains/permissioned/interventions",
        "admin",
        json={"kind": "freeze", "accounts": [stranger], "reason": "r"},
    ).json()
    path = f"/chains/permissioned/interventions/{freeze['id']}/signatures"
    problem(api.call("POST", path, "admin", json={"validator": newcomer.address}), 403, "not-a-validator")
    signature = newcomer.sign_message(encode_typed_data(full_message=freeze["typed_data"])).signature
    mine, _record = api.key("validator", addresses=(newcomer.address,))
    accepted = api.call("POST", path, token=mine, json={"signature": "0x" + bytes(signature).hex()})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["signers"] == [newcomer.address]


@pytest.mark.parametrize(
    ("body", "status", "slug"),
    [
        ({"action": "promote", "validator": "0x" + "11" * 20, "reason": "r"}, 422, "validation-error"),
        ({"action": "add", "validator": "0x1234", "reason": "r"}, 422, "validation-error"),
        ({"action": "add", "validator": "0x" + "11" * 20}, 422, "validation-error"),
        ({"action": "remove", "validator": "0x" + "11" * 20, "reason": "r"}, 409, "proposal-refused"),
    ],
)
def test_a_vote_that_cannot_be_is_refused(api: Api, body: dict[str, Any], status: int, slug: str) -> None:
    before = len(api.call("GET", VOTES, "auditor", params={"limit": 500}).json()["items"])
    problem(api.call("POST", VOTES, "validator", json=body), status, slug)
    assert len(api.call("GET", VOTES, "auditor", params={"limit": 500}).json()["items"]) == before


def test_adding_a_current_validator_and_signing_an_unknown_vote(api: Api) -> None:
    first = current(api)["current"][0]
    refused = problem(
        api.call("POST", VOTES, "admin", json={"action": "add", "validator": first, "reason": "r"}),
        409,
        "proposal-refused",
    )
    assert first in refused["detail"]
    unknown = f"{VOTES}/0x{'cd' * 32}/signatures"
    assert problem(api.call("POST", unknown, "admin", json={"validator": first}), 404, "not-found")[
        "resource"
    ] == ("proposal")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/chains/permissionless/validators"),
        ("GET", "/chains/permissionless/votes"),
        ("POST", "/chains/permissionless/votes"),
    ],
)
def test_the_open_chain_has_no_validators(api: Api, method: str, path: str) -> None:
    body = {"action": "add", "validator": "0x" + "11" * 20, "reason": "r"} if method == "POST" else None
    refused = problem(api.call(method, path, "admin", json=body), 409, "immutable-chain")
    assert "has no validators" in refused["detail"]


def test_a_page_of_votes_continues_with_its_cursor(api: Api) -> None:
    first = api.call("GET", VOTES, "auditor", params={"limit": 1}).json()
    everything = api.call("GET", VOTES, "auditor", params={"limit": 500}).json()["items"]
    assert first["items"] == everything[:1]
    if len(everything) > 1:
        rest = api.call("GET", VOTES, "auditor", params={"limit": 500, "cursor": first["next_cursor"]}).json()
        assert rest["items"] == everything[1:]
    problem(api.call("GET", VOTES, "auditor", params={"cursor": "nonsense"}), 422, "invalid-input")
