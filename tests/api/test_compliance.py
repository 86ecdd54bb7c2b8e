"""Compliance rules over HTTP: the rules in force, setting each rule, checking a transfer (every broken rule
listed), every refusal, and who may set the rules of which asset."""

from __future__ import annotations

from typing import Any

from .conftest import Api, problem
from .parties import CHAIN, bond_with_holders, fresh_wallet, kyc_bond, nonce


def rules(api: Api, asset_id: str) -> dict[str, Any]:
    response = api.call("GET", f"/assets/{asset_id}/compliance", "investor")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def put(api: Api, asset_id: str, rule: str, body: dict[str, Any], role: str = "issuer", **kw: Any) -> Any:
    return api.call("PUT", f"/assets/{asset_id}/compliance/{rule}", role, json=body, **kw)


def test_the_rules_in_force_and_setting_each(api: Api) -> None:
    asset_id = kyc_bond(api)
    assert rules(api, asset_id) == {
        "asset_id": asset_id,
        "mode": "kyc",
        "paused": False,
        "country_rule": "none",
        "countries": [],
        "max_investors": 0,
        "investor_count": 0,
        "max_balance_per_investor": "0",
        "lockup_until": None,
        "accredited_only": False,
    }
    changes: list[tuple[str, dict[str, Any], str, Any]] = [
        ("country-rule", {"value": "block"}, "country_rule", "block"),
        ("countries", {"value": ["KP", 364, "408"]}, "countries", [364, 408]),
        ("countries", {"value": ["IR"], "listed": False}, "countries", [408]),
        ("max-investors", {"value": 99}, "max_investors", 99),
        ("max-balance", {"value": "500"}, "max_balance_per_investor", "500"),
        ("lockup", {"value": "2099-06-30T00:00:00Z"}, "lockup_until", "2099-06-30T00:00:00Z"),
        ("lockup", {"value": None}, "lockup_until", None),
        ("accredited-only", {"value": True}, "accredited_only", True),
    ]
    for rule, body, field, expected in changes:
        changed = put(api, asset_id, rule, body)
        assert changed.status_code == 200, (rule, changed.text)
        assert changed.json()["compliance"][field] == expected, (rule, changed.json())
        assert changed.json()["transaction"]["sender"] == api.issuer
        assert rules(api, asset_id)[field] == expected


def test_malformed_values_are_422_naming_value_and_nothing_is_sent(api: Api) -> None:
    asset_id = kyc_bond(api)
    before, sent = rules(api, asset_id), nonce(api, api.issuer)
    cases: list[tuple[str, Any, str]] = [
        ("country-rule", "sometimes", "value"),
        ("countries", [], "value"),
        ("countries", ["XX"], "value[0]"),
        ("countries", [756, 0], "value[1]"),
        ("max-investors", -1, "value"),
        ("max-investors", "ten", "value"),
        ("max-balance", 500, "value"),
        ("max-balance", "0.5", "value"),
        ("lockup", "next week", "value"),
        ("accredited-only", "yes", "value"),
    ]
    for rule, value, field in cases:
        refused = problem(put(api, asset_id, rule, {"value": value}), 422, "invalid-input")
        assert refused["field"] == field, (rule, value, refused)
    unknown = put(api, asset_id, "max-coupons", {"value": 1})
    assert problem(unknown, 422, "validation-error")["field"] == "rule"
    extra = put(api, asset_id, "max-investors", {"value": 1, "colour": "red"})
    assert problem(extra, 422, "validation-error")["field"] == "colour"
    assert (rules(api, asset_id), nonce(api, api.issuer)) == (before, sent)


def test_a_check_lists_every_broken_rule(api: Api) -> None:
    world = bond_with_holders(api)
    path = f"/assets/{world.asset_id}/compliance/check"
    body = {"from": world.alice_wallet, "to": world.bob_wallet, "amount": "10"}
    fine = api.call("POST", path, "auditor", json=body)
    assert fine.status_code == 200, fine.text
    assert fine.json() == {"allowed": True, "violations": []}
    for rule, value in (("max-balance", {"value": "45"}), ("lockup", {"value": "2099-01-01T00:00:00Z"})):
        assert put(api, world.asset_id, rule, value).status_code == 200
    put(api, world.asset_id, "country-rule", {"value": "block"})
    put(api, world.asset_id, "countries", {"value": ["DE"]})
    refused = api.call("POST", path, "investor", json=body).json()
    assert refused["allowed"] is False
    names = {violation["rule"] for violation in refused["violations"]}
    assert names == {"LOCKUP_ACTIVE", "MAX_BALANCE_EXCEEDED", "COUNTRY_NOT_ALLOWED"}
    assert all(violation["message"] and violation["remedy"] for violation in refused["violations"])
    # More than the sender holds, to nobody verified.
    stranger = fresh_wallet().address
    worse = api.call("POST", path, "auditor", json={**body, "to": stranger, "amount": "61"}).json()
    assert {"INSUFFICIENT_BALANCE", "RECEIVER_NOT_VERIFIED"} <= {v["rule"] for v in worse["violations"]}
    # A mint is checked from the zero address (mint rules: no lock-up, no sender).
    mint = api.call("POST", path, "auditor", json={**body, "from": "0x" + "00" * 20}).json()
    assert "LOCKUP_ACTIVE" not in {v["rule"] for v in mint["violations"]}
    assert (
        problem(api.call("POST", path, "auditor", json={**body, "amount": "1.5"}), 422, "invalid-input")[
            "field"
        ]
        == "amount"
    )
    assert (
        problem(api.call("POST", path, "auditor", json={**body, "from": "0x12"}), 422, "validation-error")[
            "field"
        ]
        == "from"
    )


def test_who_may_set_the_rules_of_which_asset(api: Api) -> None:
    asset_id = kyc_bond(api)
    body = {"value": 5}
    problem(put(api, asset_id, "max-investors", body, role="agent"), 403, "role-forbidden")
    # An issuer of another asset (a key bound to another address) may not.
    other = api.registry.keys.create(f"other issuer {fresh_wallet().address}").address
    token, _ = api.key("issuer", addresses=(other,))
    refused = api.call("PUT", f"/assets/{asset_id}/compliance/max-investors", token=token, json=body)
    assert problem(refused, 403, "scope-forbidden")["asset_id"] == asset_id
    # The admin may, naming the issuer's address (the compliance role's holder).
    assert put(api, asset_id, "max-investors", body, role="admin").status_code == 422
    done = put(api, asset_id, "max-investors", {**body, "sender": api.issuer}, role="admin")
    assert done.status_code == 200 and done.json()["compliance"]["max_investors"] == 5
    unknown = put(api, "bond-00000000000000000000", "max-investors", body)
    assert problem(unknown, 404, "not-found")["resource"] == "asset"


def test_an_open_asset_has_no_rules_to_set(api: Api) -> None:
    asset_id = kyc_bond(api, mode="open")
    read = rules(api, asset_id)
    assert read["mode"] == "open" and read["country_rule"] is None and read["countries"] == []
    problem(put(api, asset_id, "max-investors", {"value": 5}), 409, "operation-refused")


def test_a_rule_prepared_for_the_issuer_to_sign_changes_nothing_until_signed(api: Api) -> None:
    asset_id = kyc_bond(api)
    prepared = api.call(
        "PUT", f"/assets/{asset_id}/compliance/accredited-only/prepare", "issuer", json={"value": True}
    )
    assert prepared.status_code == 201, prepared.text
    body = prepared.json()
    assert body["operation"] == "compliance.set" and body["sender"] == api.issuer
    assert body["transaction"]["to"] == api.registry.asset(asset_id).address
    assert rules(api, asset_id)["accredited_only"] is False


def test_a_retried_rule_change_is_sent_once(api: Api) -> None:
    asset_id = kyc_bond(api)
    sent = nonce(api, api.issuer, CHAIN)
    first = put(api, asset_id, "max-investors", {"value": 7}, idem="rule-7-" + asset_id)
    again = put(api, asset_id, "max-investors", {"value": 7}, idem="rule-7-" + asset_id)
    assert first.status_code == again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true" and again.json() == first.json()
    assert nonce(api, api.issuer, CHAIN) == sent + 1
