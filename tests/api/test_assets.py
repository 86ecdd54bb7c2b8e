"""Assets over HTTP: issue bonds, stocks and cash custodially and non-custodially, list and read them;
every refusal (terms, scope, role, unknown asset, the chain's refusal of an unverified sender)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eth_account import Account
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from api.errors import ApiProblemError
from api.security import Principal

from .conftest import Api, cash_for, problem


def bond_body(api: Api, chain: str, cash: str, mode: str = "kyc", **changes: Any) -> dict[str, Any]:
    today = datetime.fromtimestamp(api.registry.context.chain(chain).now(), UTC).date()
    terms = {
        "name": "ACME 5% bond",
        "symbol": "ACME",
        "isin": "US0378331005",
        "currency": cash,
        "denomination": "1000.5",
        "issue_volume": "1000500",
        "coupon_rate_bps": 500,
        "coupon_frequency": 2,
        "issue_date": (today - timedelta(days=1)).isoformat(),
        "maturity_date": (today + timedelta(days=5 * 365)).isoformat(),
        "claim_period_days": 730,
    }
    terms.update(changes)
    return {"kind": "bond", "chain": chain, "mode": mode, "terms": terms}


def test_a_bond_is_issued_and_catalogued_with_its_terms_in_the_cash_units(api: Api) -> None:
    cash = cash_for(api, "permissioned")
    issued = api.call("POST", "/assets", "issuer", json=bond_body(api, "permissioned", cash))
    assert issued.status_code == 201, issued.text
    body = issued.json()
    asset = body["asset"]
    assert asset["kind"] == "bond" and asset["mode"] == "kyc" and asset["chain"] == "permissioned"
    assert asset["identity_registry"] == to_checksum_address("0x1d00000000000000000000000000000000000001")
    terms = asset["terms"]
    assert terms["denomination"] == "1000.5" and terms["issue_volume"] == "1000500"
    assert terms["max_supply"] == "1000" and terms["currency_asset_id"] == cash
    assert terms["isin"] == "US0378331005"
    assert body["transaction"]["sender"] == api.issuer
    assert body["transaction"]["block_number"] == asset["deployed_block"]
    assert api.call("GET", f"/assets/{asset['asset_id']}", "investor").json() == asset
    # The issuer holds the token's admin role: its own asset.
    assert api.registry.tokens.has_role(asset["asset_id"], "admin", api.issuer)


def test_a_stock_in_open_mode_and_cash_on_the_permissionless_chain(api: Api) -> None:
    cash = cash_for(api, "permissionless")
    body = {
        "kind": "stock",
        "chain": "permissionless",
        "mode": "open",
        "terms": {"name": "ACME shares", "symbol": "ACMS", "currency": cash, "claim_period_days": 365},
    }
    issued = api.call("POST", "/assets", "admin", json={**body, "issuer": api.issuer.lower()})
    assert issued.status_code == 201, issued.text
    asset = issued.json()["asset"]
    assert asset["mode"] == "open" and asset["identity_registry"] is None
    assert asset["terms"] == {
        "kind": "stock",
        "isin": None,
        "currency": api.registry.asset(cash).address,
        "currency_asset_id": cash,
        "claim_period_days": 365,
    }


def test_assets_are_listed_in_pages_and_by_chain_and_kind(api: Api) -> None:
    for chain in ("permissioned", "permissionless"):
        cash_for(api, chain)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 1, "kind": "cash"}
        if cursor:
            params["cursor"] = cursor
        page = api.call("GET", "/assets", "auditor", params=params).json()
        seen += [asset["asset_id"] for asset in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    expected = sorted(asset.asset_id for asset in api.registry.assets(kind="cash"))
    assert seen == expected
    only = api.call("GET", "/assets", "auditor", params={"chain": "permissionless", "limit": 500}).json()
    assert {asset["chain"] for asset in only["items"]} == {"permissionless"}
    assert problem(api.call("GET", "/assets", "auditor", params={"kind": "gold"}), 422, "validation-error")


def test_bad_terms_are_refused_naming_the_field_and_nothing_is_sent(api: Api) -> None:
    cash = cash_for(api, "permissioned")
    before = len(api.registry.assets())
    cases: list[tuple[dict[str, Any], str]] = [
        ({"isin": "US0378331006"}, "terms.isin"),
        ({"denomination": "1.0000001"}, "terms.denomination"),
        ({"denomination": "1e3"}, "terms.denomination"),
        ({"coupon_frequency": 5}, "coupon_frequency"),
        ({"maturity_date": "2020-01-01"}, "maturity_date"),
        ({"currency": "cash-00000000000000000000"}, "terms.currency"),
        ({"issue_date": "01/02/2026"}, "terms.issue_date"),
    ]
    for change, field in cases:
        refused = api.call("POST", "/assets", "issuer", json=bond_body(api, "permissioned", cash, **change))
        assert refused.status_code == 422, (change, refused.text)
        assert refused.json()["field"].endswith(field), (change, refused.json())
    cash_kyc = {"kind": "cash", "chain": "permissioned", "mode": "kyc", "terms": {"name": "x", "symbol": "x"}}
    assert api.call("POST", "/assets", "issuer", json=cash_kyc).status_code == 422
    assert len(api.registry.assets()) == before


def test_who_may_issue_and_as_whom(api: Api) -> None:
    cash = cash_for(api, "permissioned")
    body = bond_body(api, "permissioned", cash)
    problem(api.call("POST", "/assets", "investor", json=body), 403, "role-forbidden")
    someone = "0x" + "12" * 20
    scoped = problem(
        api.call("POST", "/assets", "issuer", json={**body, "issuer": someone}), 403, "scope-forbidden"
    )
    assert scoped["field"] == "issuer"
    assert problem(api.call("POST", "/assets", "admin", json=body), 422, "invalid-input")["field"] == "issuer"
    _token, _unbound = api.key("issuer")
    refused = api.call("POST", "/assets", token=_token, json=body)
    assert problem(refused, 422, "invalid-input")["field"] == "issuer"
    # An address custody holds no key for: the non-custodial flow is the way.
    stranger_token, _ = api.key("issuer", addresses=(someone,))
    no_key = problem(api.call("POST", "/assets", token=stranger_token, json=body), 409, "no-signing-key")
    assert someone.lower() in no_key["detail"].lower()


def test_an_unknown_asset_is_404(api: Api) -> None:
    assert (
        problem(api.call("GET", "/assets/bond-00000000000000000000", "auditor"), 404, "not-found")["resource"]
        == "asset"
    )


def test_the_permissioned_chain_refuses_an_unverified_issuer_and_says_what_to_do(api: Api) -> None:
    unverified = api.registry.keys.create(f"unverified {api.clock.now}", chains=["permissionless"]).address
    token, _ = api.key("issuer", addresses=(unverified,))
    body = {"kind": "cash", "chain": "permissioned", "terms": {"name": "x", "symbol": "x"}}
    refused = problem(api.call("POST", "/assets", token=token, json=body), 422, "sender-not-permitted")
    assert refused["refusal"] == "unregistered"
    assert "register" in refused["remedy"] and unverified[2:6].lower() in refused["detail"].lower()


def test_the_issuer_signs_with_its_own_wallet_and_gets_the_custodial_answer(api: Api) -> None:
    wallet = Account.from_key(keccak(text=f"api wallet {api.clock.now} {id(api)}"))
    for chain in ("permissioned",):
        api.registry.keys.provision(wallet.address, chain)
    token, _ = api.key("issuer", addresses=(wallet.address,))
    body = {"kind": "cash", "chain": "permissioned", "terms": {"name": "Own USD", "symbol": "oUSD"}}
    prepared = api.call("POST", "/assets/prepare", token=token, json=body)
    assert prepared.status_code == 201, prepared.text
    to_sign = prepared.json()
    assert to_sign["sender"] == wallet.address
    assert to_sign["transaction"]["to"] is None  # a contract creation
    signed = wallet.sign_transaction(
        {key: value for key, value in to_sign["transaction"].items() if value is not None}
    )
    raw = "0x" + bytes(signed.raw_transaction).hex()
    # Another key cannot post it, and a transaction other than the prepared one is refused.
    problem(
        api.call(
            "POST",
            "/transactions",
            "issuer",
            json={"prepared_id": to_sign["prepared_id"], "raw_transaction": raw},
        ),
        404,
        "not-found",
    )
    other = wallet.sign_transaction({**to_sign["transaction"], "data": to_sign["transaction"]["data"] + "00"})
    mismatch = api.call(
        "POST",
        "/transactions",
        token=token,
        json={
            "prepared_id": to_sign["prepared_id"],
            "raw_transaction": "0x" + bytes(other.raw_transaction).hex(),
        },
    )
    assert problem(mismatch, 422, "signed-transaction-mismatch")["mismatches"][0]["field"] == "data"
    sent = api.call(
        "POST",
        "/transactions",
        token=token,
        json={"prepared_id": to_sign["prepared_id"], "raw_transaction": raw},
    )
    assert sent.status_code == 201, sent.text
    result = sent.json()
    assert set(result) == {"asset", "transaction"}
    assert result["transaction"]["sender"] == wallet.address
    assert api.call("GET", f"/assets/{result['asset']['asset_id']}", "auditor").json() == result["asset"]
    # Relayed once: the same signed transaction again is refused by the node, nothing lands twice.
    again = api.call(
        "POST",
        "/transactions",
        token=token,
        json={"prepared_id": to_sign["prepared_id"], "raw_transaction": raw},
    )
    assert again.status_code == 409, again.text


def test_posting_garbage_or_an_unknown_preparation(api: Api) -> None:
    problem(
        api.call(
            "POST", "/transactions", "issuer", json={"prepared_id": "nope", "raw_transaction": "0x1234"}
        ),
        404,
        "not-found",
    )
    refused = api.call(
        "POST", "/transactions", "issuer", json={"prepared_id": "nope", "raw_transaction": "zz"}
    )
    assert problem(refused, 422, "validation-error")["field"] == "raw_transaction"


def test_a_prepared_transaction_expires(api: Api) -> None:
    body = {"kind": "cash", "chain": "permissionless", "terms": {"name": "Late USD", "symbol": "lUSD"}}
    prepared = api.call("POST", "/assets/prepare", "issuer", json=body).json()
    api.clock.now += 3_601
    try:
        expired = api.call(
            "POST",
            "/transactions",
            "issuer",
            json={"prepared_id": prepared["prepared_id"], "raw_transaction": "0x02"},
        )
    finally:
        api.clock.now -= 3_601
    assert "expired" in problem(expired, 404, "not-found")["detail"]


def test_which_assets_a_key_may_operate(api: Api) -> None:
    cash = cash_for(api, "permissionless")
    issued = api.call("POST", "/assets", "issuer", json=bond_body(api, "permissionless", cash, mode="open"))
    bond = issued.json()["asset"]["asset_id"]
    Principal(api.records["issuer"]).require_asset(api.registry, bond)
    Principal(api.records["admin"]).require_asset(api.registry, bond)
    _token, assigned = api.key("agent", assets=(bond,))
    Principal(assigned).require_asset(api.registry, bond)
    other_issuer = api.key("issuer", addresses=("0x" + "56" * 20,))[1]
    for outsider in (other_issuer, api.records["agent"], api.records["investor"], api.records["auditor"]):
        with pytest.raises(ApiProblemError) as refused:
            Principal(outsider).require_asset(api.registry, bond)
        assert refused.value.slug == "scope-forbidden", outsider.role
