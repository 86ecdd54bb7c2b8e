"""Enforcement over HTTP: pause, freezes (whole and partial), forced transfers and wallet recovery, each
shown in the cap table; refusals that leave nothing half-applied; who may enforce on which asset; the
enforcement agent's own wallet."""

from __future__ import annotations

from typing import Any

from .conftest import Api, problem
from .parties import (
    CHAIN,
    Holders,
    bond_with_holders,
    cap_table,
    fresh_wallet,
    holders,
    kyc_bond,
    nonce,
    sign_and_send,
)


def post(api: Api, asset_id: str, path: str, body: dict[str, Any], role: str = "issuer", **kw: Any) -> Any:
    return api.call("POST", f"/assets/{asset_id}{path}", role, json=body, **kw)


def freezes(api: Api, asset_id: str) -> list[dict[str, Any]]:
    response = api.call("GET", f"/assets/{asset_id}/freezes", "auditor")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def agent(api: Api, asset_id: str, *, role_on_chain: bool = True) -> tuple[str, str]:
    """An agent key assigned to ``asset_id`` with a custodial address (holding the enforcement role when
    ``role_on_chain``); its token and address."""
    address = api.registry.keys.create(f"agent {fresh_wallet().address}").address
    if role_on_chain:
        api.registry.tokens.grant_role(asset_id, "enforcement", address, sender=api.issuer)
    token, _ = api.key("agent", addresses=(address,), assets=(asset_id,))
    return token, address


def test_a_pause_stops_transfers_and_shows_in_the_cap_table(api: Api) -> None:
    world = bond_with_holders(api)
    paused = post(api, world.asset_id, "/pause", {})
    assert paused.status_code == 200, paused.text
    assert paused.json()["transaction"]["sender"] == api.issuer
    assert cap_table(api, world.asset_id)["paused"] is True
    check = post(
        api,
        world.asset_id,
        "/compliance/check",
        {"from": world.alice_wallet, "to": world.bob_wallet, "amount": "1"},
        role="auditor",
    )
    assert [v["rule"] for v in check.json()["violations"]] == ["TOKEN_PAUSED"]
    problem(post(api, world.asset_id, "/pause", {}), 409, "operation-refused")
    assert post(api, world.asset_id, "/unpause", {}).status_code == 200
    assert cap_table(api, world.asset_id)["paused"] is False
    problem(post(api, world.asset_id, "/unpause", {}), 409, "operation-refused")


def test_freezes_whole_and_partial_show_in_the_cap_table_and_lift_one_at_a_time(api: Api) -> None:
    world = bond_with_holders(api)
    whole = post(api, world.asset_id, "/freezes", {"account": world.bob_wallet})
    assert whole.status_code == 201, whole.text
    assert whole.json()["freeze"] == {
        "account": world.bob_wallet,
        "account_frozen": True,
        "frozen": "0",
        "balance": "40",
    }
    part = post(api, world.asset_id, "/freezes", {"account": world.alice_wallet, "amount": "25"})
    assert part.status_code == 201 and part.json()["freeze"]["frozen"] == "25"
    table = holders(api, world.asset_id)
    assert table[world.bob_wallet]["account_frozen"] is True
    assert (
        table[world.alice_wallet]["frozen"] == "25" and table[world.alice_wallet]["account_frozen"] is False
    )
    assert [(f["account"], f["account_frozen"], f["frozen"]) for f in freezes(api, world.asset_id)] == sorted(
        [(world.bob_wallet, True, "0"), (world.alice_wallet, False, "25")]
    )
    # Bob frozen whole, and in part: one DELETE lifts the whole-account freeze, the next the partial one.
    post(api, world.asset_id, "/freezes", {"account": world.bob_wallet, "amount": "5"})
    path = f"/assets/{world.asset_id}/freezes/{world.bob_wallet}"
    first = api.call("DELETE", path, "issuer").json()["freeze"]
    assert (first["account_frozen"], first["frozen"]) == (False, "5")
    second = api.call("DELETE", path, "issuer").json()["freeze"]
    assert (second["account_frozen"], second["frozen"]) == (False, "0")
    assert problem(api.call("DELETE", path, "issuer"), 404, "not-found")["resource"] == "freeze"
    assert [f["account"] for f in freezes(api, world.asset_id)] == [world.alice_wallet]
    assert holders(api, world.asset_id)[world.bob_wallet]["account_frozen"] is False


def test_a_forced_transfer_moves_tokens_and_shows_in_the_cap_table(api: Api) -> None:
    world = bond_with_holders(api)
    post(api, world.asset_id, "/freezes", {"account": world.alice_wallet})  # freezes do not stop it
    moved = post(
        api,
        world.asset_id,
        "/forced-transfers",
        {"from": world.alice_wallet, "to": world.bob_wallet, "amount": "15"},
    )
    assert moved.status_code == 201, moved.text
    answer = moved.json()
    assert answer["source"]["balance"] == "45" and answer["destination"]["balance"] == "55"
    table = holders(api, world.asset_id)
    assert table[world.alice_wallet]["balance"] == "45" and table[world.bob_wallet]["balance"] == "55"
    assert cap_table(api, world.asset_id)["total_supply"] == "100"


def test_refused_enforcement_leaves_nothing_half_applied(api: Api) -> None:
    world = bond_with_holders(api)
    before, sent = cap_table(api, world.asset_id)["items"], nonce(api, api.issuer)
    stranger = fresh_wallet().address
    # To a wallet nobody verified: refused by the token's rules, every broken one listed.
    refused = problem(
        post(
            api,
            world.asset_id,
            "/forced-transfers",
            {"from": world.alice_wallet, "to": stranger, "amount": "5"},
        ),
        422,
        "compliance-refused",
    )
    assert [v["name"] for v in refused["violations"]] == ["RECEIVER_NOT_VERIFIED"]
    assert refused["asset_id"] == world.asset_id
    post(api, world.asset_id, "/freezes", {"account": world.bob_wallet})
    sent += 1
    frozen_receiver = problem(
        post(
            api,
            world.asset_id,
            "/forced-transfers",
            {"from": world.alice_wallet, "to": world.bob_wallet, "amount": "5"},
        ),
        422,
        "compliance-refused",
    )
    assert "RECEIVER_FROZEN" in [v["name"] for v in frozen_receiver["violations"]]
    api.call("DELETE", f"/assets/{world.asset_id}/freezes/{world.bob_wallet}", "issuer")
    sent += 1
    too_much = {"from": world.alice_wallet, "to": world.bob_wallet, "amount": "61"}
    problem(post(api, world.asset_id, "/forced-transfers", too_much), 409, "operation-refused")
    same = {"from": world.alice_wallet, "to": world.alice_wallet, "amount": "1"}
    assert (
        problem(post(api, world.asset_id, "/forced-transfers", same), 422, "invalid-input")["field"] == "to"
    )
    assert (
        problem(
            post(api, world.asset_id, "/forced-transfers", {**same, "amount": "-1"}), 422, "validation-error"
        )["field"]
        == "amount"
    )
    assert problem(post(api, world.asset_id, "/freezes", {"account": "0x12"}), 422, "validation-error")[
        "field"
    ] == ("account")
    assert (
        problem(
            post(api, world.asset_id, "/freezes", {"account": world.bob_wallet, "amount": "0.5"}),
            422,
            "invalid-input",
        )["field"]
        == "amount"
    )
    # A recovery to a wallet of another investor.
    wrong = post(
        api, world.asset_id, "/recoveries", {"lost": world.alice_wallet, "replacement": world.bob_wallet}
    )
    problem(wrong, 409, "operation-refused")
    assert cap_table(api, world.asset_id)["items"] == before
    assert nonce(api, api.issuer) == sent


def test_a_lost_wallet_is_recovered_to_another_wallet_of_its_investor(api: Api) -> None:
    world = bond_with_holders(api)
    recovered = post(
        api, world.asset_id, "/recoveries", {"lost": world.alice_wallet, "replacement": world.alice_spare}
    )
    assert recovered.status_code == 201, recovered.text
    answer = recovered.json()
    assert answer["source"] == {
        "account": world.alice_wallet,
        "account_frozen": True,
        "frozen": "0",
        "balance": "0",
    }
    assert answer["destination"]["balance"] == "60"
    table = holders(api, world.asset_id)
    assert world.alice_wallet not in table
    assert table[world.alice_spare]["investor"]["investor_id"] == world.alice["investor_id"]
    assert world.alice_wallet in [f["account"] for f in freezes(api, world.asset_id)]


def test_who_may_enforce_on_which_asset(api: Api) -> None:
    world = bond_with_holders(api)
    freeze = {"account": world.bob_wallet}
    problem(post(api, world.asset_id, "/freezes", freeze, role="kyc-provider"), 403, "role-forbidden")
    problem(post(api, world.asset_id, "/freezes", freeze, role="auditor"), 403, "role-forbidden")
    # An agent not assigned to the asset, and an issuer of another asset: 403, nothing sent.
    problem(post(api, world.asset_id, "/freezes", freeze, role="agent"), 403, "scope-forbidden")
    other_issuer = api.registry.keys.create(f"other issuer {fresh_wallet().address}").address
    token, _ = api.key("issuer", addresses=(other_issuer,))
    refused = api.call("POST", f"/assets/{world.asset_id}/freezes", token=token, json=freeze)
    problem(refused, 403, "scope-forbidden")
    # An agent assigned, but whose address lacks the token's enforcement role: refused before sending.
    lacking, address = agent(api, world.asset_id, role_on_chain=False)
    missing = api.call("POST", f"/assets/{world.asset_id}/freezes", token=lacking, json=freeze)
    assert problem(missing, 403, "chain-role-missing")["account"] == address
    # An agent assigned and holding the role freezes.
    assigned, address = agent(api, world.asset_id)
    done = api.call("POST", f"/assets/{world.asset_id}/freezes", token=assigned, json=freeze)
    assert done.status_code == 201, done.text
    assert done.json()["transaction"]["sender"] == address
    # ...but not on another asset of the same issuer.
    other_asset = kyc_bond(api)
    problem(api.call("POST", f"/assets/{other_asset}/pause", token=assigned, json={}), 403, "scope-forbidden")
    assert holders(api, world.asset_id)[world.bob_wallet]["account_frozen"] is True
    assert cap_table(api, other_asset)["paused"] is False
    # Reads are open to every role.
    assert api.call("GET", f"/assets/{world.asset_id}/freezes", "investor").status_code == 200
    assert problem(api.call("GET", "/assets/bond-00000000000000000000/freezes", "auditor"), 404, "not-found")


def test_a_retried_forced_transfer_moves_once(api: Api) -> None:
    world = bond_with_holders(api)
    body = {"from": world.bob_wallet, "to": world.alice_wallet, "amount": "10"}
    key = "force-" + world.asset_id
    first = post(api, world.asset_id, "/forced-transfers", body, idem=key)
    again = post(api, world.asset_id, "/forced-transfers", body, idem=key)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true" and again.json() == first.json()
    assert holders(api, world.asset_id)[world.bob_wallet]["balance"] == "30"
    reused = post(api, world.asset_id, "/forced-transfers", {**body, "amount": "11"}, idem=key)
    problem(reused, 422, "idempotency-key-reused")


def test_an_agent_signs_with_its_own_wallet(api: Api) -> None:
    world: Holders = bond_with_holders(api)
    wallet = fresh_wallet("agent")
    api.registry.keys.provision(wallet.address, CHAIN)
    api.registry.tokens.grant_role(world.asset_id, "enforcement", wallet.address, sender=api.issuer)
    token, _ = api.key("agent", addresses=(wallet.address,), assets=(world.asset_id,))
    steps: list[tuple[str, str, dict[str, Any] | None, int]] = [
        ("POST", "/freezes/prepare", {"account": world.bob_wallet, "amount": "3"}, 201),
        ("POST", "/pause/prepare", {}, 200),
        (
            "POST",
            "/forced-transfers/prepare",
            {"from": world.bob_wallet, "to": world.alice_wallet, "amount": "2"},
            201,
        ),
        ("POST", "/unpause/prepare", {}, 200),
        ("DELETE", f"/freezes/{world.bob_wallet}/prepare", None, 200),
    ]
    for method, path, body, status in steps:
        prepared = api.call(method, f"/assets/{world.asset_id}{path}", token=token, json=body)
        assert prepared.status_code == 201, (path, prepared.text)
        assert prepared.json()["sender"] == wallet.address
        sent = sign_and_send(api, token, wallet, prepared.json())
        assert sent.status_code == status, (path, sent.text)
        assert sent.json()["transaction"]["sender"] == wallet.address
    table = holders(api, world.asset_id)
    assert (table[world.bob_wallet]["balance"], table[world.bob_wallet]["frozen"]) == ("38", "0")
    assert table[world.alice_wallet]["balance"] == "62"
