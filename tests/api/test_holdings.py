"""Holdings and cap tables over HTTP: an investor's positions, a wallet's investor and positions, an asset's
cap table now, as of a block and as of a time, in pages; each holder with its investor and KYC state; who
may read what."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .conftest import Api, problem
from .parties import CHAIN, bond_with_holders, cap_table, fresh_wallet, investor_key, mint, register


def test_the_cap_table_names_each_holder_s_investor_and_kyc_state(api: Api) -> None:
    world = bond_with_holders(api)
    table = cap_table(api, world.asset_id)
    assert table["asset_id"] == world.asset_id and table["total_supply"] == "100"
    assert table["paused"] is False and table["next_cursor"] is None
    assert [(h["wallet"], h["balance"], h["share"]) for h in table["items"]] == [
        (world.alice_wallet, "60", "0.6"),
        (world.bob_wallet, "40", "0.4"),
    ]
    alice, bob = table["items"]
    assert alice["investor"] == {
        "investor_id": world.alice["investor_id"],
        "country": 756,
        "accredited": True,
        "kyc_state": "verified",
    }
    assert bob["investor"]["investor_id"] == world.bob["investor_id"] and bob["investor"]["country"] == 276
    assert alice["frozen"] == "0" and alice["account_frozen"] is False
    # A revocation shows at once in the holder's KYC state.
    revoked = api.call(
        "POST", f"/investors/{CHAIN}/{world.bob['investor_id']}/revoke", "kyc-provider", json={}
    )
    assert revoked.status_code == 200, revoked.text
    assert cap_table(api, world.asset_id)["items"][1]["investor"]["kyc_state"] == "revoked"


def test_the_cap_table_as_of_a_block_or_a_time_and_in_pages(api: Api) -> None:
    world = bond_with_holders(api)
    now = cap_table(api, world.asset_id)
    before_bob = now["block"]["number"] - 1  # the block before Bob's mint: Alice alone
    earlier = cap_table(api, world.asset_id, block=before_bob)
    assert earlier["block"]["number"] == before_bob
    assert [(h["wallet"], h["balance"], h["share"]) for h in earlier["items"]] == [
        (world.alice_wallet, "60", "1")
    ]
    deployed = api.registry.asset(world.asset_id).deployed_block
    assert cap_table(api, world.asset_id, block=deployed)["items"] == []
    at = cap_table(api, world.asset_id, at=now["block"]["timestamp"])
    assert at["block"] == now["block"] and len(at["items"]) == 2
    # Pages of one keep the first page's block, even when the chain moves on meanwhile.
    first = api.call("GET", f"/assets/{world.asset_id}/cap-table", "investor", params={"limit": 1}).json()
    mint(api, world.asset_id, fresh_holder(api), 10)
    second = api.call(
        "GET",
        f"/assets/{world.asset_id}/cap-table",
        "investor",
        params={"limit": 1, "cursor": first["next_cursor"]},
    ).json()
    assert second["block"] == first["block"] and second["next_cursor"] is None
    assert [h["wallet"] for h in first["items"] + second["items"]] == [world.alice_wallet, world.bob_wallet]
    assert len(cap_table(api, world.asset_id)["items"]) == 3


def fresh_holder(api: Api) -> str:
    wallet: str = register(api, fresh_wallet().address)["wallets"][0]
    return wallet


def test_cap_table_refusals(api: Api) -> None:
    world = bond_with_holders(api)
    path = f"/assets/{world.asset_id}/cap-table"
    both = api.call("GET", path, "auditor", params={"block": 1, "at": "2026-01-01T00:00:00Z"})
    assert problem(both, 422, "invalid-input")["field"] == "at"
    future = api.call("GET", path, "auditor", params={"block": 10**9})
    assert problem(future, 404, "not-found")["resource"] == "block"
    ancient = api.call("GET", path, "auditor", params={"at": "1990-01-01T00:00:00Z"})
    assert problem(ancient, 404, "not-found")["resource"] == "block"
    assert (
        problem(api.call("GET", path, "auditor", params={"block": -1}), 422, "validation-error")["field"]
        == "block"
    )
    assert (
        problem(api.call("GET", path, "auditor", params={"at": "soon"}), 422, "validation-error")["field"]
        == "at"
    )
    bad_cursor = api.call("GET", path, "auditor", params={"cursor": "abc"})
    assert problem(bad_cursor, 422, "invalid-input")["field"] == "cursor"
    unknown = api.call("GET", "/assets/bond-00000000000000000000/cap-table", "auditor")
    assert problem(unknown, 404, "not-found")["resource"] == "asset"


def test_an_investor_s_holdings_and_who_may_read_them(api: Api) -> None:
    world = bond_with_holders(api)
    path = f"/investors/{CHAIN}/{world.alice['investor_id']}/holdings"
    read = api.call("GET", path, "issuer")
    assert read.status_code == 200, read.text
    body = read.json()
    assert body["investor_id"] == world.alice["investor_id"]
    assert sorted(body["wallets"]) == sorted(world.alice["wallets"])
    mine = [item for item in body["items"] if item["asset_id"] == world.asset_id]
    assert mine == [
        {
            "asset_id": world.asset_id,
            "chain": CHAIN,
            "symbol": "ACME",
            "wallet": world.alice_wallet,
            "balance": "60",
            "frozen": "0",
            "account_frozen": False,
        }
    ]
    # Alice's key (bound to her spare wallet) reads hers, not Bob's.
    token = investor_key(api, world.alice_spare)
    assert api.call("GET", path, token=token).json() == body
    bobs = f"/investors/{CHAIN}/{world.bob['investor_id']}/holdings"
    problem(api.call("GET", bobs, token=token), 403, "scope-forbidden")
    # A key bound to no investor's wallet reads no investor.
    problem(api.call("GET", path, "investor"), 403, "scope-forbidden")


def test_a_wallet_with_its_investor_and_holdings(api: Api) -> None:
    world = bond_with_holders(api)
    read = api.call("GET", f"/wallets/{CHAIN}/{world.alice_wallet.lower()}", "auditor")
    assert read.status_code == 200, read.text
    body: dict[str, Any] = read.json()
    assert (
        body["address"] == world.alice_wallet
        and body["investor"]["investor_id"] == world.alice["investor_id"]
    )
    assert [(h["asset_id"], h["balance"]) for h in body["holdings"] if h["asset_id"] == world.asset_id] == [
        (world.asset_id, "60")
    ]
    nobody = fresh_wallet().address
    empty = api.call("GET", f"/wallets/{CHAIN}/{nobody}", "auditor").json()
    assert empty == {"chain": CHAIN, "address": nobody, "investor": None, "holdings": []}
    assert (
        problem(api.call("GET", f"/wallets/{CHAIN}/0x12", "auditor"), 422, "invalid-input")["field"]
        == "address"
    )
    # Alice's key reads her wallets (the spare it is bound to, and the one holding), not Bob's.
    token = investor_key(api, world.alice_spare)
    assert api.call("GET", f"/wallets/{CHAIN}/{world.alice_wallet}", token=token).status_code == 200
    problem(api.call("GET", f"/wallets/{CHAIN}/{world.bob_wallet}", token=token), 403, "scope-forbidden")


def test_times_without_an_offset_are_utc(api: Api) -> None:
    world = bond_with_holders(api)
    head = cap_table(api, world.asset_id)["block"]
    naive = datetime.fromisoformat(head["timestamp"]).astimezone(UTC).replace(tzinfo=None).isoformat()
    assert cap_table(api, world.asset_id, at=naive)["block"] == head
