"""Batches over HTTP: onboard investors, mint to them, transfer to them; each batch chunked, checked
before anything is sent (a refused item refuses the batch, named), reported item by item, readable at
GET /batches/{batch_id} by the key that started it; a retry with the same Idempotency-Key sends nothing
twice."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest
from eth_account import Account
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from .conftest import Api, cash_for, problem
from .test_assets import bond_body

_n = itertools.count()


def _wallets(api: Api, count: int) -> list[str]:
    label = next(_n)
    return [Account.from_key(keccak(text=f"api batch {id(api)} {label} {i}")).address for i in range(count)]


@dataclass
class Bond:
    asset_id: str


@pytest.fixture(scope="module")
def bond(api: Api) -> Bond:
    cash = cash_for(api, "permissioned")
    issued = api.call("POST", "/assets", "issuer", json=bond_body(api, "permissioned", cash))
    assert issued.status_code == 201, issued.text
    return Bond(issued.json()["asset"]["asset_id"])


def _onboard(api: Api, wallets: list[str], role: str = "admin", **extra: object) -> dict[str, object]:
    body = {"chain": "permissioned", "investors": [{"wallet": w, "country": 756} for w in wallets], **extra}
    response = api.call("POST", "/investors/batch", role, json=body)
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


def _nonce(api: Api, address: str) -> int:
    return int(
        api.registry.chain("permissioned").w3.eth.get_transaction_count(
            to_checksum_address(address), "pending"
        )
    )


def test_onboard_then_mint_in_chunks_every_item_reported_and_readable(api: Api, bond: Bond) -> None:
    wallets = _wallets(api, 7)
    onboarded = _onboard(api, wallets, max_items_per_transaction=3)
    assert onboarded["state"] == "done" and onboarded["transactions"] == 3
    items = onboarded["items"]
    assert isinstance(items, list)
    ids = [item["investor_id"] for item in items]
    assert all(isinstance(i, int) and i > 0 for i in ids) and len(set(ids)) == 7
    for wallet, investor_id in zip(wallets, ids, strict=True):
        assert api.registry.investors.investor_of("permissioned", wallet) == investor_id
    amounts = [str(10 + i) for i in range(7)]
    minted = api.call(
        "POST",
        f"/assets/{bond.asset_id}/mint/batch",
        "issuer",
        json={
            "items": [{"to": w, "amount": a} for w, a in zip(wallets, amounts, strict=True)],
            "max_items_per_transaction": 2,
        },
    )
    assert minted.status_code == 200, minted.text
    report = minted.json()
    assert report["state"] == "done" and report["transactions"] == 4 and report["items_landed"] == 7
    assert [item["index"] for item in report["items"]] == list(range(7))
    assert all(
        item["status"] == "landed" and item["tx_hash"] and item["block_number"] for item in report["items"]
    )
    assert len({item["tx_hash"] for item in report["items"]}) == 4
    for wallet, amount in zip(wallets, amounts, strict=True):
        assert api.registry.tokens.balance_of(bond.asset_id, wallet) == int(amount)
    # The journal answers the same, a page at a time, to the key that started it and to auditors.
    first = api.call("GET", f"/batches/{report['batch_id']}?limit=5", "issuer")
    assert first.status_code == 200, first.text
    page = first.json()
    assert page["state"] == "done" and page["items_total"] == 7 and page["items_landed"] == 7
    assert [item["index"] for item in page["items"]] == [0, 1, 2, 3, 4] and page["next_cursor"]
    rest = api.call(
        "GET", f"/batches/{report['batch_id']}", "auditor", params={"cursor": page["next_cursor"]}
    ).json()
    assert [item["index"] for item in rest["items"]] == [5, 6] and rest["next_cursor"] is None
    assert [i["tx_hash"] for i in page["items"] + rest["items"]] == [i["tx_hash"] for i in report["items"]]
    problem(api.call("GET", f"/batches/{report['batch_id']}", "investor"), 404, "not-found")
    problem(api.call("GET", "/batches/api-nobody-0", "admin"), 404, "not-found")


def test_a_refused_item_refuses_the_batch_naming_it_and_nothing_is_sent(api: Api, bond: Bond) -> None:
    wallets = _wallets(api, 4)
    _onboard(api, wallets[:3])
    nonce = _nonce(api, api.issuer)
    items = [{"to": w, "amount": "5"} for w in wallets]  # the last one is not an investor
    refused = problem(
        api.call("POST", f"/assets/{bond.asset_id}/mint/batch", "issuer", json={"items": items}),
        422,
        "compliance-refused",
    )
    assert "items 3" in refused["detail"] or "item 3" in refused["detail"], refused["detail"]
    assert any(v["name"] == "RECEIVER_NOT_VERIFIED" for v in refused["violations"])
    assert _nonce(api, api.issuer) == nonce
    assert all(api.registry.tokens.balance_of(bond.asset_id, w) == 0 for w in wallets)
    # A wallet twice, an amount finer than the unit: named fields, nothing sent.
    twice = api.call(
        "POST", f"/assets/{bond.asset_id}/mint/batch", "issuer", json={"items": [items[0], items[0]]}
    )
    assert problem(twice, 422, "invalid-input")["field"] == "items[1].wallet"
    fine = api.call(
        "POST",
        f"/assets/{bond.asset_id}/mint/batch",
        "issuer",
        json={"items": [{"to": wallets[0], "amount": "0.5"}]},
    )
    assert problem(fine, 422, "invalid-input")["field"] == "items[0].amount"
    already = api.call(
        "POST",
        "/investors/batch",
        "admin",
        json={"chain": "permissioned", "investors": [{"wallet": wallets[0], "country": 756}]},
    )
    assert "investors[0]" in problem(already, 409, "kyc-registration-refused")["detail"]
    assert _nonce(api, api.issuer) == nonce


def test_a_retried_batch_replays_its_answer_and_mints_once(api: Api, bond: Bond) -> None:
    wallets = _wallets(api, 3)
    _onboard(api, wallets)
    body = {"items": [{"to": w, "amount": "4"} for w in wallets]}
    key = f"batch-once-{next(_n)}-{id(api)}"
    once = api.call("POST", f"/assets/{bond.asset_id}/mint/batch", "issuer", idem=key, json=body)
    twice = api.call("POST", f"/assets/{bond.asset_id}/mint/batch", "issuer", idem=key, json=body)
    assert once.status_code == twice.status_code == 200, once.text
    assert twice.headers["Idempotent-Replayed"] == "true" and twice.json() == once.json()
    assert once.json()["batch_id"].startswith(f"api-{api.records['issuer'].key_id}-")
    assert all(api.registry.tokens.balance_of(bond.asset_id, w) == 4 for w in wallets)


def test_an_investor_transfers_to_many_and_a_kyc_provider_onboards(api: Api, bond: Bond) -> None:
    holder = api.registry.keys.create(f"api batch holder {next(_n)}", chains=["permissioned"]).address
    token, _ = api.key("investor", addresses=(holder,))
    api.call("POST", f"/assets/{bond.asset_id}/mint", "issuer", json={"to": holder, "amount": "50"})
    wallets = _wallets(api, 3)
    _onboard(api, wallets)
    sent = api.call(
        "POST",
        f"/assets/{bond.asset_id}/transfers/batch",
        token=token,
        json={"items": [{"to": w, "amount": str(i + 1)} for i, w in enumerate(wallets)]},
    )
    assert sent.status_code == 200, sent.text
    assert sent.json()["state"] == "done" and sent.json()["operation"] == "batch_transfer"
    assert [api.registry.tokens.balance_of(bond.asset_id, w) for w in wallets] == [1, 2, 3]
    assert api.registry.tokens.balance_of(bond.asset_id, holder) == 44
    # More than the holder has: refused before anything is sent.
    nonce = _nonce(api, holder)
    too_much = api.call(
        "POST",
        f"/assets/{bond.asset_id}/transfers/batch",
        token=token,
        json={"items": [{"to": wallets[0], "amount": "45"}]},
    )
    assert too_much.status_code == 422, too_much.text
    assert _nonce(api, holder) == nonce
    # A KYC-provider key signs with its own address, which needs the registry's kyc-provider role.
    provider = api.registry.keys.create(f"api batch provider {next(_n)}", chains=["permissioned"]).address
    provider_token, _ = api.key("kyc-provider", addresses=(provider,))
    fresh = _wallets(api, 2)
    body = {"chain": "permissioned", "investors": [{"wallet": w, "country": "DE"} for w in fresh]}
    lacking = api.call("POST", "/investors/batch", token=provider_token, json=body)
    assert problem(lacking, 403, "chain-role-missing")["chain_role"] == "kyc-provider"
    api.registry.investors.grant_kyc_provider("permissioned", provider)
    done = api.call("POST", "/investors/batch", token=provider_token, json=body)
    assert done.status_code == 200, done.text
    ids = [item["investor_id"] for item in done.json()["items"]]
    assert [api.registry.investors.investor_of("permissioned", w) for w in fresh] == ids
    assert all(api.registry.investors.investor("permissioned", i).country == 276 for i in ids)  # DE
    unknown = api.call(
        "POST",
        "/investors/batch",
        "admin",
        json={"chain": "permissioned", "investors": [{"wallet": _wallets(api, 1)[0], "country": "XX"}]},
    )
    assert problem(unknown, 422, "invalid-input")["field"] == "investors[0].country"
    problem(api.call("GET", f"/batches/{done.json()['batch_id']}", "issuer"), 404, "not-found")
    assert (
        api.call("GET", f"/batches/{done.json()['batch_id']}", token=provider_token).json()["state"] == "done"
    )


def test_a_batch_stopped_half_way_says_which_items_landed_and_its_retry_sends_the_rest(api: Api) -> None:
    cash = cash_for(api, "permissioned")
    issued = api.call("POST", "/assets", "issuer", json=bond_body(api, "permissioned", cash))
    asset_id = issued.json()["asset"]["asset_id"]
    wallets = _wallets(api, 4)
    _onboard(api, wallets)
    # Each one-item chunk passes its check alone; on chain, the third new investor crosses the limit.
    api.registry.tokens.set_max_investors(asset_id, 2, sender=api.issuer)
    body = {"items": [{"to": w, "amount": "6"} for w in wallets], "max_items_per_transaction": 1}
    key = f"stopped-{next(_n)}-{id(api)}"
    stopped = problem(
        api.call("POST", f"/assets/{asset_id}/mint/batch", "issuer", idem=key, json=body),
        409,
        "batch-stopped",
    )
    items = stopped["report"]["items"]
    assert [item["status"] for item in items[:2]] == ["landed", "landed"]
    assert all(item["status"] in ("reverted", "not_sent") for item in items[2:]), items
    assert items[2]["status"] == "reverted" and items[2]["error"]
    read = api.call("GET", f"/batches/{stopped['batch_id']}", "issuer").json()
    assert read["state"] == "stopped" and read["items_landed"] == 2
    assert [item["status"] for item in read["items"][:2]] == ["landed", "landed"]
    balances = [api.registry.tokens.balance_of(asset_id, w) for w in wallets]
    assert balances == [6, 6, 0, 0]
    # Lift the limit and retry with the same key: only the rest is sent.
    api.registry.tokens.set_max_investors(asset_id, 0, sender=api.issuer)
    retried = api.call("POST", f"/assets/{asset_id}/mint/batch", "issuer", idem=key, json=body)
    assert retried.status_code == 200, retried.text
    report = retried.json()
    assert report["state"] == "done" and report["batch_id"] == stopped["batch_id"]
    assert [item["tx_hash"] for item in report["items"][:2]] == [item["tx_hash"] for item in items[:2]]
    assert [api.registry.tokens.balance_of(asset_id, w) for w in wallets] == [6, 6, 6, 6]
