"""Dividends over HTTP: declare (paid in at once), claim (own, on behalf, withheld), sweep, list from the
index; the cash reconciles (paid in = claimed + swept + still claimable); the non-custodial twins; who may
do what; every refusal."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .conftest import Api, problem
from .ops import DAY, USD, YEAR, Asset, iso, issue_bond, issue_stock, now, raw, signed, travel, wallet


def dividends(asset: Asset, **params: Any) -> dict[str, Any]:
    response = asset.api.call("GET", asset.path("/dividends"), "auditor", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def reconcile(asset: Asset, dividend_id: int) -> dict[str, Any]:
    """Assert the listed dividend's cash adds up and matches what the contract still owes."""
    found: list[dict[str, Any]] = [d for d in dividends(asset)["items"] if d["dividend_id"] == dividend_id]
    (dividend,) = found
    amount, claimed, swept, outstanding = (
        raw(dividend[name]) for name in ("amount", "claimed_amount", "swept_amount", "outstanding")
    )
    assert amount == claimed + swept + outstanding
    claimable = sum(
        int(asset.token.functions.claimableDividend(dividend_id, h).call()) for h in asset.holders
    )
    record = datetime.fromisoformat(dividend["record_date"]).timestamp()
    if not swept and record < now(asset.api, asset.chain):
        assert claimable == outstanding
    return dividend


def declare(asset: Asset, record_date: int, amount: str, role: str = "issuer", **extra: Any) -> Any:
    return asset.api.call(
        "POST",
        asset.path("/dividends"),
        role,
        json={"record_date": iso(record_date), "amount": amount},
        **extra,
    )


def test_a_dividend_from_declaration_to_sweep_and_the_cash_reconciles(api: Api) -> None:
    stock = issue_stock(api)
    investor, other = stock.holders
    record = now(api, stock.chain) + 1_000
    issuer_before = stock.cash(api.issuer)
    declared = declare(stock, record, "4000.5", idem="dividend-1")
    assert declared.status_code == 201, declared.text
    body = declared.json()
    assert (body["dividend_id"], body["amount"]) == (0, "4000.5") and body["approval"] is not None
    assert issuer_before - stock.cash(api.issuer) == 4_000_500_000
    replay = declare(stock, record, "4000.5", idem="dividend-1")
    assert replay.json() == body and stock.token.functions.dividendCount().call() == 1
    reconcile(stock, 0)

    early = problem(api.call("POST", stock.path("/dividends/0/claim"), "investor"), 409, "operation-refused")
    assert early["error"]["name"] == "StockTokenRecordDateNotReached"
    travel(api, stock.chain, record + 1)
    claimed = api.call("POST", stock.path("/dividends/0/claim"), "investor", json={})
    assert claimed.status_code == 200, claimed.text
    # 30 of 40 shares: three quarters, in the cash token's units.
    assert (claimed.json()["holder"], claimed.json()["amount"]) == (investor, "3000.375")
    assert stock.cash(investor) == 3_000_375_000

    # The other holder is frozen: its part is withheld, named, and stays owed until the sweep.
    api.registry.tokens.freeze_account(stock.asset_id, other, sender=api.issuer)
    withheld = problem(
        api.call("POST", stock.path("/dividends/0/claim"), "issuer", json={"holder": other}),
        422,
        "payment-withheld",
    )
    assert withheld["error"]["name"] == "RegulatedTokenPaymentWithheld" and withheld["violation"]["remedy"]
    problem(
        api.call("POST", stock.path("/dividends/0/claim"), "investor", json={"holder": other}),
        403,
        "scope-forbidden",
    )
    dividend = reconcile(stock, 0)
    assert (dividend["claimed_amount"], dividend["outstanding"]) == ("3000.375", "1000.125")
    problem(api.call("POST", stock.path("/dividends/0/sweep"), "issuer", json={}), 409, "operation-refused")

    travel(api, stock.chain, record + YEAR + DAY)
    issuer_before = stock.cash(api.issuer)
    swept = api.call("POST", stock.path("/dividends/0/sweep"), "issuer", json={})
    assert swept.status_code == 200, swept.text
    assert (swept.json()["funder"], swept.json()["amount"]) == (api.issuer, "1000.125")
    assert stock.cash(api.issuer) - issuer_before == 1_000_125_000
    dividend = reconcile(stock, 0)
    assert (dividend["swept_amount"], dividend["outstanding"], dividend["claims"]) == ("1000.125", "0", 1)
    assert stock.token.functions.claimableDividend(0, other).call() == 0


def test_the_paying_agent_claims_for_a_holder_and_a_holder_signs_its_own_claim(api: Api) -> None:
    stock = issue_stock(api, holdings=(10, 10))
    own = wallet(api, stock.chain)
    api.registry.tokens.mint(stock.asset_id, own.address, 20, sender=api.issuer)
    stock.holders.append(own.address)
    token, _ = api.key("investor", addresses=(own.address,))
    record = now(api, stock.chain) + 1_000
    # Without an allowance the non-custodial declaration says what to approve.
    unapproved = problem(
        api.call(
            "POST",
            stock.path("/dividends/prepare"),
            "issuer",
            json={"record_date": iso(record), "amount": "400"},
        ),
        409,
        "operation-refused",
    )
    assert "approve" in unapproved["detail"]
    assert declare(stock, record, "400").status_code == 201
    travel(api, stock.chain, record + 1)

    other = stock.holders[1]
    agent_before = stock.cash(api.issuer)
    paid = api.call("POST", stock.path("/dividends/0/claim"), "issuer", json={"holder": other})
    assert paid.status_code == 200, paid.text
    assert (paid.json()["payee"], paid.json()["amount"]) == (other, "100")
    assert stock.cash(other) == 100 * USD and stock.cash(api.issuer) == agent_before

    to_sign = api.call("POST", stock.path("/dividends/0/claim/prepare"), token=token, json={})
    assert to_sign.status_code == 201, to_sign.text
    sent = api.call(
        "POST",
        "/transactions",
        token=token,
        json={"prepared_id": to_sign.json()["prepared_id"], "raw_transaction": signed(own, to_sign.json())},
    )
    assert sent.status_code == 200, sent.text
    assert (sent.json()["holder"], sent.json()["amount"]) == (own.address, "200")
    reconcile(stock, 0)


def test_refusals_name_what_was_wrong(api: Api) -> None:
    stock = issue_stock(api)
    bond = issue_bond(api)
    chain_now = now(api, stock.chain)
    assert problem(declare(stock, chain_now - 5, "10"), 422, "invalid-input")["field"] == "record_date"
    finer = problem(declare(stock, chain_now + 100, "1.0000001"), 422, "invalid-input")
    assert finer["field"] == "amount" and "6" in finer["detail"]
    assert problem(declare(stock, chain_now + 100, "-1"), 422, "validation-error")["field"] == "amount"
    assert problem(declare(bond, chain_now + 100, "10"), 422, "invalid-input")["field"] == "asset_id"
    short = problem(declare(stock, chain_now + 100, "999999999999"), 409, "operation-refused")
    assert "holds" in short["detail"]
    problem(declare(stock, chain_now + 100, "10", role="investor"), 403, "role-forbidden")
    stranger = api.registry.keys.create(f"stranger {id(stock)}", chains=[stock.chain]).address
    token, _ = api.key("issuer", addresses=(stranger,))
    problem(
        api.call(
            "POST",
            stock.path("/dividends"),
            token=token,
            json={"record_date": iso(chain_now + 100), "amount": "10"},
        ),
        403,
        "scope-forbidden",
    )
    assert stock.token.functions.dividendCount().call() == 0
    assert (
        problem(
            api.call("POST", stock.path("/dividends/3/claim"), "investor", json={}), 422, "invalid-input"
        )["field"]
        == "dividend_id"
    )
    problem(api.call("GET", "/assets/stock-00000000000000000000/dividends", "auditor"), 404, "not-found")
    # Pages.
    for offset in (100, 200, 300):
        assert declare(stock, chain_now + offset, "1").status_code == 201
    first = dividends(stock, limit=2)
    rest = dividends(stock, limit=2, cursor=first["next_cursor"])
    assert [d["dividend_id"] for d in first["items"] + rest["items"]] == [0, 1, 2]
    assert rest["next_cursor"] is None


def test_a_revoked_holder_on_the_permissioned_chain_is_withheld_and_told_what_to_do(api: Api) -> None:
    stock = issue_stock(api, "permissioned", mode="kyc")
    investor, other = stock.holders
    record = now(api, stock.chain) + 1_000
    assert declare(stock, record, "40").status_code == 201
    travel(api, stock.chain, record + 1)
    registry = api.registry
    registry.investors.revoke(stock.chain, registry.investors.investor_of(stock.chain, other))
    withheld = problem(
        api.call("POST", stock.path("/dividends/0/claim"), "issuer", json={"holder": other}),
        422,
        "payment-withheld",
    )
    assert withheld["error"]["name"] == "RegulatedTokenPaymentWithheld"
    assert "not a verified investor" in withheld["detail"] and "KYC" in withheld["violation"]["remedy"]
    # The verified holder is paid; the revoked one's part stays in the token, owed.
    paid = api.call("POST", stock.path("/dividends/0/claim"), "investor", json={})
    assert paid.status_code == 200 and (paid.json()["holder"], paid.json()["amount"]) == (investor, "30")
    dividend = reconcile(stock, 0)
    assert dividend["outstanding"] == "10"
    assert stock.token.functions.claimableDividend(0, other).call() == 10 * USD
