"""API keys over HTTP: make, list, read, revoke, bind a custodial signing key; every refusal; and no key
secret in any response but the one that makes it, nor in any log line."""

from __future__ import annotations

import logging

import pytest

from registry.access import keys as access_keys

from .conftest import Api, problem


def test_an_admin_makes_a_key_shown_once_that_works_at_once(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wallet = "0x" + "ab" * 20
    made = api.call(
        "POST", "/keys", "admin", json={"role": "investor", "label": "Alice", "addresses": [wallet]}
    )
    assert made.status_code == 201, made.text
    body = made.json()
    token = body["api_key"]
    assert token.startswith(f"rk_{body['key']['key_id']}_")
    assert body["key"]["addresses"] == ["0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB"]
    me = api.call("GET", "/keys/me", token=token)
    assert me.status_code == 200
    assert me.json() == body["key"]
    listed = api.call("GET", f"/keys/{body['key']['key_id']}", "admin").json()
    assert listed == body["key"]
    # The secret is stored hashed, shown only in the creating response, and never logged.
    with api.registry.db.read() as session:
        assert access_keys.authenticate(session, token) is not None
    assert token not in api.call("GET", "/keys?limit=500", "admin").text
    assert token.split("_", 2)[2] not in caplog.text


def test_keys_are_listed_in_pages(api: Api) -> None:
    for index in range(3):
        assert (
            api.call("POST", "/keys", "admin", json={"role": "auditor", "label": f"a{index}"}).status_code
            == 201
        )
    seen: list[str] = []
    cursor = None
    while True:
        page = api.call(
            "GET", "/keys", "admin", params={"limit": 2, **({"cursor": cursor} if cursor else {})}
        )
        assert page.status_code == 200
        seen += [key["key_id"] for key in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen)) >= 3 + len(api.tokens)


def test_a_revoked_key_is_refused_at_once_and_revoking_again_changes_nothing(api: Api) -> None:
    token, record = api.key("auditor")
    assert api.call("GET", "/keys/me", token=token).status_code == 200
    revoked = api.call("DELETE", f"/keys/{record.key_id}", "admin")
    assert revoked.status_code == 200
    assert revoked.json()["active"] is False and revoked.json()["revoked_at"] is not None
    problem(api.call("GET", "/keys/me", token=token), 401, "unauthenticated")
    again = api.call("DELETE", f"/keys/{record.key_id}", "admin")
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]


def test_the_last_admin_key_cannot_be_revoked(api: Api) -> None:
    other_token, other = api.key("admin")
    with api.registry.db.read() as session:
        admins = [k for k in access_keys.list_keys(session, limit=500) if k.role == "admin" and k.active]
    for key in admins:
        if key.key_id not in (other.key_id, api.records["admin"].key_id):
            api.call("DELETE", f"/keys/{key.key_id}", token=other_token)
    assert api.call("DELETE", f"/keys/{other.key_id}", "admin").status_code == 200
    refused = problem(api.call("DELETE", f"/keys/{api.records['admin'].key_id}", "admin"), 409, "conflict")
    assert "reset-admin" in refused["detail"]


def test_bad_keys_and_unknown_ids(api: Api) -> None:
    problem(api.call("GET", "/keys/me"), 401, "unauthenticated")
    problem(api.call("GET", "/keys/me", token="rk_0000000000000000_" + "A" * 43), 401, "unauthenticated")
    problem(api.call("GET", "/keys/me", headers={"Authorization": "Basic abc"}), 401, "unauthenticated")
    forged = api.tokens["auditor"][:-1] + ("A" if api.tokens["auditor"][-1] != "A" else "B")
    problem(api.call("GET", "/keys/me", token=forged), 401, "unauthenticated")
    missing = problem(api.call("GET", "/keys/0123456789abcdef", "admin"), 404, "not-found")
    assert missing["resource"] == "api-key"
    problem(api.call("DELETE", "/keys/not-a-key-id", "admin"), 404, "not-found")
    refused = problem(api.call("GET", "/keys", "issuer"), 403, "role-forbidden")
    assert refused["roles_needed"] == ["admin"] and "admin" in refused["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "superuser", "label": "x"}, "role"),
        ({"role": "auditor", "label": ""}, "label"),
        ({"role": "auditor", "label": "x", "addresses": ["0x" + "ab" * 20]}, "addresses"),
        ({"role": "issuer", "label": "x", "addresses": ["0x1234"]}, "addresses.0"),
        (
            {"role": "issuer", "label": "x", "addresses": ["0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED"]},
            "addresses.0",
        ),
        ({"role": "issuer", "label": "x", "assets": ["bond-00000000000000000000"]}, "assets"),
        ({"role": "auditor", "label": "x", "extra": 1}, "extra"),
    ],
)
def test_a_malformed_key_is_refused_naming_the_field(api: Api, body: dict[str, object], field: str) -> None:
    refused = api.call("POST", "/keys", "admin", json=body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["field"] == field


def test_an_agent_is_assigned_only_catalogued_assets(api: Api) -> None:
    body = {"role": "agent", "label": "desk", "assets": ["bond-00000000000000000000"]}
    assert problem(api.call("POST", "/keys", "admin", json=body), 404, "not-found")["resource"] == "asset"


def test_a_signing_key_is_made_ready_and_bound_to_the_api_key(api: Api) -> None:
    token, record = api.key("issuer")
    made = api.call("POST", f"/keys/{record.key_id}/signing-keys", "admin", json={}, idem="sign-1")
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["key"]["addresses"] == [body["address"]]
    chains = {entry["chain"]: entry for entry in body["chains"]}
    assert chains["permissioned"]["ready"] and chains["permissioned"]["chain_kyc"] is True
    assert chains["permissionless"]["funded"] == "100"
    assert api.call("GET", "/keys/me", token=token).json()["addresses"] == [body["address"]]
    # The same Idempotency-Key replays the first answer: no second key, nothing sent again.
    again = api.call("POST", f"/keys/{record.key_id}/signing-keys", "admin", json={}, idem="sign-1")
    assert again.json() == body and again.headers["idempotent-replayed"] == "true"
    assert api.call("GET", "/keys/me", token=token).json()["addresses"] == [body["address"]]


def test_admin_and_auditor_keys_take_no_signing_key(api: Api) -> None:
    _token, record = api.key("auditor")
    refused = problem(
        api.call("POST", f"/keys/{record.key_id}/signing-keys", "admin", json={}), 422, "invalid-input"
    )
    assert refused["field"] == "key_id"
    problem(api.call("POST", "/keys/0123456789abcdef/signing-keys", "admin", json={}), 404, "not-found")
