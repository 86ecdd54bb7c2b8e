"""Investors over HTTP: register (custodially and with one's own wallet), read with the KYC state, list,
change, revoke, link and unlink wallets; every refusal, and who may read whose record."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from api.idempotency import request_fingerprint
from registry.access import idempotency as store
from registry.chain.clock import advance_to

from .conftest import Api, problem
from .parties import CHAIN, fresh_wallet, investor_key, kyc_provider, nonce, register, sign_and_send


def count(api: Api, chain: str = CHAIN) -> int:
    return api.registry.investors.investor_count(chain)


def test_an_investor_is_registered_with_its_wallets_and_read_back(api: Api) -> None:
    first, second = fresh_wallet().address, fresh_wallet().address.lower()
    expires = datetime.fromtimestamp(api.registry.context.chain(CHAIN).now() + 400 * 86_400, UTC)
    made = register(api, first, second, country="ch", kyc_expires_at=expires.isoformat(), accredited=True)
    assert made["chain"] == CHAIN and made["country"] == 756 and made["country_alpha2"] == "CH"
    assert made["wallets"][0] == first
    assert [w.lower() for w in made["wallets"]] == [first.lower(), second]
    assert made["accredited"] is True and made["professional"] is False
    assert made["kyc_state"] == "verified"
    assert datetime.fromisoformat(made["kyc_expires_at"]) == expires.replace(microsecond=0)
    # The registration, then the second wallet's link: two transactions, both by the KYC provider.
    assert len(made["transactions"]) == 2 and made["transaction"] == made["transactions"][0]
    assert {tx["sender"] for tx in made["transactions"]} == {kyc_provider(api)}
    path = f"/investors/{CHAIN}/{made['investor_id']}"
    read = api.call("GET", path, "auditor").json()
    assert read == {key: value for key, value in made.items() if key not in ("transaction", "transactions")}
    # On chain: both wallets belong to it.
    for wallet in made["wallets"]:
        assert api.registry.investors.investor_of(CHAIN, wallet) == made["investor_id"]


def test_investors_are_listed_in_pages(api: Api) -> None:
    register(api, fresh_wallet().address)
    register(api, fresh_wallet().address)
    seen: list[tuple[str, int]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, "chain": CHAIN}
        if cursor:
            params["cursor"] = cursor
        page = api.call("GET", "/investors", "issuer", params=params)
        assert page.status_code == 200, page.text
        seen += [(item["chain"], item["investor_id"]) for item in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == [(CHAIN, ident) for ident in range(1, count(api) + 1)]
    everything = api.call("GET", "/investors", "auditor", params={"limit": 500}).json()
    assert {item["chain"] for item in everything["items"]} <= {"permissioned", "permissionless"}
    assert len(everything["items"]) >= len(seen)
    bad = api.call("GET", "/investors", "auditor", params={"cursor": "not-a-cursor"})
    assert problem(bad, 422, "invalid-input")["field"] == "cursor"


def test_malformed_fields_are_422_naming_them_and_nothing_is_sent(api: Api) -> None:
    provider = kyc_provider(api)
    before, sent = count(api), nonce(api, provider)
    wallet = fresh_wallet().address
    past = datetime.fromtimestamp(api.registry.context.chain(CHAIN).now() - 10, UTC).isoformat()
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"country": "XX"}, "country", "invalid-input"),
        ({"country": 1000}, "country", "invalid-input"),
        ({"wallets": []}, "wallets", "validation-error"),
        ({"wallets": ["0x1234"]}, "wallets.0", "validation-error"),
        ({"kyc_expires_at": past}, "kyc_expires_at", "invalid-input"),
        ({"kyc_expires_at": "tomorrow"}, "kyc_expires_at", "validation-error"),
        ({"wallets": [wallet, wallet]}, "wallets", "invalid-input"),
        ({"chain": "moon"}, "chain", "validation-error"),
    ]
    for change, field, slug in cases:
        body = {"chain": CHAIN, "wallets": [wallet], "country": 756, **change}
        refused = problem(api.call("POST", "/investors", "kyc-provider", json=body), 422, slug)
        assert refused["field"] == field, (change, refused)
    assert (count(api), nonce(api, provider)) == (before, sent)


def test_a_wallet_already_registered_is_409_and_nothing_is_half_applied(api: Api) -> None:
    taken = register(api, fresh_wallet().address)["wallets"][0]
    provider = kyc_provider(api)
    before, sent = count(api), nonce(api, provider)
    # The second wallet is taken: refused before the first registration is sent.
    body = {"chain": CHAIN, "wallets": [fresh_wallet().address, taken], "country": 756}
    refused = problem(
        api.call("POST", "/investors", "kyc-provider", json=body), 409, "kyc-registration-refused"
    )
    assert taken.lower() in refused["detail"].lower()
    assert (count(api), nonce(api, provider)) == (before, sent)


def test_unknown_investors_are_404(api: Api) -> None:
    kyc_provider(api)
    missing = count(api) + 1
    for method, path, body in (
        ("GET", f"/investors/{CHAIN}/{missing}", None),
        ("GET", f"/investors/{CHAIN}/{missing}/holdings", None),
        ("PATCH", f"/investors/{CHAIN}/{missing}", {"accredited": True}),
        ("POST", f"/investors/{CHAIN}/{missing}/revoke", {}),
        ("POST", f"/investors/{CHAIN}/{missing}/wallets", {"wallet": fresh_wallet().address}),
    ):
        role = "auditor" if method == "GET" else "kyc-provider"
        assert problem(api.call(method, path, role, json=body), 404, "not-found")["resource"] == "investor"
    assert problem(api.call("GET", f"/investors/{CHAIN}/0", "auditor"), 422, "validation-error")["field"] == (
        "investor_id"
    )


def test_changes_keep_what_is_not_given(api: Api) -> None:
    made = register(api, fresh_wallet().address, accredited=True)
    path = f"/investors/{CHAIN}/{made['investor_id']}"
    changed = api.call("PATCH", path, "kyc-provider", json={"country": 276})
    assert changed.status_code == 200, changed.text
    investor = changed.json()["investor"]
    assert investor["country"] == 276 and investor["country_alpha2"] == "DE"
    assert investor["accredited"] is True and investor["kyc_expires_at"] == made["kyc_expires_at"]
    assert changed.json()["transaction"]["sender"] == kyc_provider(api)
    renewed = api.call("PATCH", path, "kyc-provider", json={"kyc_expires_at": "2099-01-01T00:00:00Z"}).json()
    assert renewed["investor"]["kyc_expires_at"] == "2099-01-01T00:00:00Z"
    assert renewed["investor"]["country"] == 276
    assert problem(api.call("PATCH", path, "kyc-provider", json={}), 422, "invalid-input")["field"] == "body"
    assert (
        problem(api.call("PATCH", path, "kyc-provider", json={"country": "ZZ"}), 422, "invalid-input")[
            "field"
        ]
        == "country"
    )


def test_wallets_are_linked_and_unlinked(api: Api) -> None:
    made = register(api, fresh_wallet().address)
    other = register(api, fresh_wallet().address)
    path = f"/investors/{CHAIN}/{made['investor_id']}/wallets"
    extra = fresh_wallet().address
    linked = api.call("POST", path, "kyc-provider", json={"wallet": extra})
    assert linked.status_code == 200, linked.text
    assert linked.json()["investor"]["wallets"] == [*made["wallets"], extra]
    taken = api.call("POST", path, "kyc-provider", json={"wallet": other["wallets"][0]})
    problem(taken, 409, "kyc-registration-refused")
    # Another investor's wallet is not this investor's: 404, nothing sent.
    foreign = api.call("DELETE", f"{path}/{other['wallets'][0]}", "kyc-provider")
    assert problem(foreign, 404, "not-found")["resource"] == "wallet"
    assert (
        problem(api.call("DELETE", f"{path}/0x12", "kyc-provider"), 422, "invalid-input")["field"] == "wallet"
    )
    unlinked = api.call("DELETE", f"{path}/{extra}", "kyc-provider")
    assert unlinked.status_code == 200, unlinked.text
    assert unlinked.json()["investor"]["wallets"] == made["wallets"]
    assert api.registry.investors.investor_of(CHAIN, extra) == 0


def test_a_revocation_is_final(api: Api) -> None:
    made = register(api, fresh_wallet().address)
    path = f"/investors/{CHAIN}/{made['investor_id']}"
    revoked = api.call("POST", f"{path}/revoke", "kyc-provider", json={})
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["investor"]["kyc_state"] == "revoked"
    assert api.call("GET", path, "auditor").json()["kyc_state"] == "revoked"
    problem(api.call("POST", f"{path}/revoke", "kyc-provider", json={}), 409, "kyc-registration-refused")
    later = "2099-01-01T00:00:00Z"
    problem(
        api.call("PATCH", path, "kyc-provider", json={"kyc_expires_at": later}),
        409,
        "kyc-registration-refused",
    )


def test_an_expired_kyc_reads_expired_and_a_change_must_renew_it(api: Api) -> None:
    now = api.registry.context.chain(CHAIN).now()
    made = register(
        api, fresh_wallet().address, kyc_expires_at=datetime.fromtimestamp(now + 60, UTC).isoformat()
    )
    advance_to(api.registry.chain(CHAIN).w3, now + 61)
    path = f"/investors/{CHAIN}/{made['investor_id']}"
    assert api.call("GET", path, "auditor").json()["kyc_state"] == "expired"
    stale = api.call("PATCH", path, "kyc-provider", json={"accredited": True})
    assert problem(stale, 422, "invalid-input")["field"] == "kyc_expires_at"
    renewed = api.call("PATCH", path, "kyc-provider", json={"kyc_expires_at": "2099-01-01T00:00:00Z"})
    assert renewed.json()["investor"]["kyc_state"] == "verified"


def test_an_investor_key_reads_its_own_record_only(api: Api) -> None:
    mine = register(api, fresh_wallet().address, fresh_wallet().address)
    theirs = register(api, fresh_wallet().address)
    token = investor_key(api, mine["wallets"][1])
    own = api.call("GET", f"/investors/{CHAIN}/{mine['investor_id']}", token=token)
    assert own.status_code == 200 and own.json()["investor_id"] == mine["investor_id"]
    other = api.call("GET", f"/investors/{CHAIN}/{theirs['investor_id']}", token=token)
    assert "investor" in problem(other, 403, "scope-forbidden")["detail"]
    problem(api.call("GET", "/investors", token=token), 403, "role-forbidden")


def test_who_may_register_and_as_whom(api: Api) -> None:
    body = {"chain": CHAIN, "wallets": [fresh_wallet().address], "country": 756}
    problem(api.call("POST", "/investors", "issuer", json=body), 403, "role-forbidden")
    someone = fresh_wallet().address
    scoped = problem(
        api.call("POST", "/investors", "kyc-provider", json={**body, "sender": someone}),
        403,
        "scope-forbidden",
    )
    assert scoped["field"] == "sender"
    assert (
        problem(api.call("POST", "/investors", "admin", json=body), 422, "invalid-input")["field"] == "sender"
    )
    # The admin names the chain operator (custody holds its key, and it is the registry's KYC provider).
    operator = api.registry.registries.provider(CHAIN)
    made = api.call("POST", "/investors", "admin", json={**body, "sender": operator})
    assert made.status_code == 201, made.text
    assert made.json()["transaction"]["sender"] == operator
    # A key of the kyc-provider role whose address lacks the registry's role: refused before sending.
    holder = fresh_wallet().address
    api.registry.keys.provision(holder, CHAIN)
    token, _record = api.key("kyc-provider", addresses=(holder,))
    body["wallets"] = [fresh_wallet().address]
    problem(api.call("POST", "/investors", token=token, json=body), 403, "chain-role-missing")


def test_a_retry_with_the_same_idempotency_key_registers_once(api: Api) -> None:
    kyc_provider(api)
    body = {"chain": CHAIN, "wallets": [fresh_wallet().address], "country": 756}
    key = f"register-{fresh_wallet().address}"
    first = api.call("POST", "/investors", "kyc-provider", idem=key, json=body)
    assert first.status_code == 201, first.text
    before = count(api)
    again = api.call("POST", "/investors", "kyc-provider", idem=key, json=body)
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json() and count(api) == before


def test_a_kyc_provider_signs_with_its_own_wallet(api: Api) -> None:
    wallet = fresh_wallet("provider")
    api.registry.keys.provision(wallet.address, CHAIN)
    api.registry.investors.grant_kyc_provider(CHAIN, wallet.address)
    token, _record = api.key("kyc-provider", addresses=(wallet.address,))
    first = fresh_wallet().address
    body = {"chain": CHAIN, "wallets": [first, fresh_wallet().address], "country": "FR"}
    problem(api.call("POST", "/investors/prepare", token=token, json=body), 422, "invalid-input")
    body["wallets"] = [first]
    prepared = api.call("POST", "/investors/prepare", token=token, json=body)
    assert prepared.status_code == 201, prepared.text
    assert (
        prepared.json()["sender"] == wallet.address and prepared.json()["operation"] == "investors.register"
    )
    assert api.registry.investors.investor_of(CHAIN, first) == 0  # nothing sent yet
    sent = sign_and_send(api, token, wallet, prepared.json())
    assert sent.status_code == 201, sent.text
    made = sent.json()
    assert made["wallets"] == [first] and made["country"] == 250 and made["kyc_state"] == "verified"
    assert made["transaction"]["sender"] == wallet.address
    # The other changes, prepared and signed the same way.
    path = f"/investors/{CHAIN}/{made['investor_id']}"
    extra = fresh_wallet().address
    for method, suffix, payload in (
        ("PATCH", "/prepare", {"accredited": True}),
        ("POST", "/wallets/prepare", {"wallet": extra}),
    ):
        step = api.call(method, path + suffix, token=token, json=payload)
        assert step.status_code == 201, step.text
        done = sign_and_send(api, token, wallet, step.json())
        assert done.status_code == 200, done.text
    investor = api.call("GET", path, "auditor").json()
    assert investor["accredited"] is True and investor["wallets"] == [first, extra]
    unlink = api.call("DELETE", f"{path}/wallets/{extra}/prepare", token=token)
    assert sign_and_send(api, token, wallet, unlink.json()).json()["investor"]["wallets"] == [first]
    revoke = api.call("POST", f"{path}/revoke/prepare", token=token, json={})
    assert sign_and_send(api, token, wallet, revoke.json()).json()["investor"]["kyc_state"] == "revoked"


def test_a_registration_cut_short_between_its_transactions_is_not_sent_again(api: Api) -> None:
    """The server died after the registration landed, before the second wallet was linked: the retry
    sends nothing and says what landed; the client links the second wallet itself."""
    provider = kyc_provider(api)
    first, second = fresh_wallet().address, fresh_wallet().address
    body = {"chain": CHAIN, "wallets": [first, second], "country": 756}
    record = store.begin(
        api.registry.db,
        key_id=api.records["kyc-provider"].key_id,
        idempotency_key="cut-short",
        fingerprint=request_fingerprint("POST", "/investors", "", json.dumps(body).encode()),
        operation="POST /investors",
        owner="a process that died",
        now=api.clock.now,
    ).record
    landed = api.registry.investors.register(CHAIN, first, country=756, sender=provider).outcomes[0]
    transaction = {"chain": CHAIN, "hash": landed.hash_hex, "sender": provider, "nonce": landed.nonce}
    store.add_transaction(api.registry.db, record, transaction, owner="a process that died")
    before, sent = count(api), nonce(api, provider)
    retried = api.call("POST", "/investors", "kyc-provider", idem="cut-short", json=body)
    assert problem(retried, 409, "idempotency-interrupted")["transactions"] == [
        {**transaction, "state": "mined"}
    ]
    assert (count(api), nonce(api, provider)) == (before, sent)
    investor_id = api.registry.investors.investor_of(CHAIN, first)
    assert api.registry.investors.investor_of(CHAIN, second) == 0
    linked = api.call(
        "POST", f"/investors/{CHAIN}/{investor_id}/wallets", "kyc-provider", json={"wallet": second}
    )
    assert linked.json()["investor"]["wallets"] == [first, second]
