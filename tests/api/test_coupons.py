"""Coupons over HTTP: schedule, fund, claim (own, on behalf, withheld), sweep, list from the index; the cash
reconciles at each step (funded = claimed + swept + still claimable); the non-custodial twins; who may do
what; every refusal."""

from __future__ import annotations

from typing import Any

from .conftest import Api, problem
from .ops import (
    COUPON,
    DAY,
    USD,
    YEAR,
    Asset,
    indexed,
    iso,
    issue_bond,
    issue_stock,
    now,
    raw,
    signed,
    travel,
    wallet,
)


def periods(asset: Asset, role: str = "auditor", **params: Any) -> dict[str, Any]:
    response = asset.api.call("GET", asset.path("/coupons"), role, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def reconcile(asset: Asset, period_id: int) -> dict[str, Any]:
    """Assert the listed period's cash adds up, and matches what the contract still owes its holders."""
    found: list[dict[str, Any]] = [p for p in periods(asset)["items"] if p["period_id"] == period_id]
    (period,) = found
    funded, claimed, swept, outstanding = (
        raw(period[name]) for name in ("funded_amount", "claimed_amount", "swept_amount", "outstanding")
    )
    assert funded == claimed + swept + outstanding
    token = asset.token
    claimable = sum(int(token.functions.claimableCoupon(period_id, h).call()) for h in asset.holders)
    if not swept:
        assert outstanding == claimable == int(token.functions.couponPeriod(period_id).call()[4])
    assert int(token.functions.couponPeriod(period_id).call()[4]) == outstanding
    return period


def schedule(asset: Asset, record_date: int, **extra: Any) -> dict[str, Any]:
    response = asset.api.call(
        "POST", asset.path("/coupons"), "issuer", json={"record_date": iso(record_date)}, **extra
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_coupon_from_schedule_to_sweep_and_the_cash_reconciles(api: Api) -> None:
    bond = issue_bond(api)
    investor, other = bond.holders
    record = now(api, bond.chain) + 1_000
    first = api.call(
        "POST", bond.path("/coupons"), "issuer", idem="coupon-1", json={"record_date": iso(record)}
    )
    assert first.status_code == 201, first.text
    assert first.json()["period_id"] == 0 and first.json()["record_date"].startswith(iso(record)[:19])
    # A retry with the same key answers the same, and schedules nothing more.
    again = api.call(
        "POST", bond.path("/coupons"), "issuer", idem="coupon-1", json={"record_date": iso(record)}
    )
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert bond.token.functions.couponPeriodCount().call() == 1
    listed = periods(bond)["items"]
    assert [(p["period_id"], p["funded"], p["funded_amount"]) for p in listed] == [(0, False, "0")]
    assert listed[0]["coupon_per_bond"] == "25"

    early = problem(
        api.call("POST", bond.path("/coupons/0/fund"), "issuer", json={}), 409, "operation-refused"
    )
    assert "record date" in early["detail"]
    travel(api, bond.chain, record + 1)
    issuer_before = bond.cash(api.issuer)
    funded = api.call("POST", bond.path("/coupons/0/fund"), "issuer", json={})
    assert funded.status_code == 200, funded.text
    assert funded.json()["amount"] == "1000" and funded.json()["approval"] is not None
    assert issuer_before - bond.cash(api.issuer) == 40 * COUPON
    reconcile(bond, 0)

    claimed = api.call("POST", bond.path("/coupons/0/claim"), "investor")
    assert claimed.status_code == 200, claimed.text
    assert (claimed.json()["holder"], claimed.json()["payee"], claimed.json()["amount"]) == (
        investor,
        investor,
        "750",
    )
    assert bond.cash(investor) == 30 * COUPON
    period = reconcile(bond, 0)
    assert (period["claimed_amount"], period["claims"], period["outstanding"]) == ("750", 1, "250")
    twice = problem(
        api.call("POST", bond.path("/coupons/0/claim"), "investor", json={}), 409, "operation-refused"
    )
    assert twice["error"]["name"].startswith("BondToken")

    # Nothing to sweep before the claim period ends; after it, the rest goes back to the funder.
    problem(api.call("POST", bond.path("/coupons/0/sweep"), "issuer", json={}), 409, "operation-refused")
    travel(api, bond.chain, record + YEAR + DAY)
    issuer_before = bond.cash(api.issuer)
    swept = api.call("POST", bond.path("/coupons/0/sweep"), "issuer", json={})
    assert swept.status_code == 200, swept.text
    assert (swept.json()["funder"], swept.json()["amount"]) == (api.issuer, "250")
    assert bond.cash(api.issuer) - issuer_before == 10 * COUPON
    period = reconcile(bond, 0)
    assert (period["swept_amount"], period["outstanding"]) == ("250", "0")
    # The other holder claimed nothing in time: nothing is claimable any more.
    assert bond.token.functions.claimableCoupon(0, other).call() == 0
    # As of the block before the sweep, the index shows the period unswept.
    before = periods(bond, block=swept.json()["transaction"]["block_number"] - 1)
    assert before["items"][0]["swept_amount"] == "0" and before["items"][0]["outstanding"] == "250"


def test_claims_on_behalf_withheld_payments_and_who_may_claim(api: Api) -> None:
    bond = issue_bond(api)
    investor, other = bond.holders
    record = now(api, bond.chain) + 1_000
    schedule(bond, record)
    travel(api, bond.chain, record + 1)
    assert api.call("POST", bond.path("/coupons/0/fund"), "issuer", json={}).status_code == 200

    # An investor claims for its own wallets only.
    refused = problem(
        api.call("POST", bond.path("/coupons/0/claim"), "investor", json={"holder": other}),
        403,
        "scope-forbidden",
    )
    assert other in refused["detail"]
    # Another issuer is not this bond's paying agent.
    stranger = api.registry.keys.create(f"other issuer {id(bond)}", chains=[bond.chain]).address
    token, _ = api.key("issuer", addresses=(stranger,))
    problem(
        api.call("POST", bond.path("/coupons/0/claim"), token=token, json={"holder": other}),
        403,
        "scope-forbidden",
    )
    # An admin naming a sender without the supply role cannot claim for someone else.
    lacking = problem(
        api.call("POST", bond.path("/coupons/0/claim"), "admin", json={"holder": other, "sender": investor}),
        403,
        "chain-role-missing",
    )
    assert lacking["chain_role"] == "supply"

    # A frozen holder's coupon is withheld, named, and stays owed.
    api.registry.tokens.freeze_account(bond.asset_id, other, sender=api.issuer)
    withheld = problem(
        api.call("POST", bond.path("/coupons/0/claim"), "issuer", json={"holder": other}),
        422,
        "payment-withheld",
    )
    assert withheld["error"]["name"] == "RegulatedTokenPaymentWithheld"
    assert withheld["payee"] == other and withheld["violation"]["remedy"]
    assert bond.token.functions.claimableCoupon(0, other).call() == 10 * COUPON
    reconcile(bond, 0)

    # Once unfrozen, the paying agent claims for it: the cash goes to the holder, not to the agent.
    api.registry.tokens.unfreeze_account(bond.asset_id, other, sender=api.issuer)
    agent_before = bond.cash(api.issuer)
    paid = api.call("POST", bond.path("/coupons/0/claim"), "issuer", json={"holder": other})
    assert paid.status_code == 200, paid.text
    assert (paid.json()["holder"], paid.json()["payee"], paid.json()["amount"]) == (other, other, "250")
    assert paid.json()["transaction"]["sender"] == api.issuer
    assert bond.cash(other) == 10 * COUPON and bond.cash(api.issuer) == agent_before
    # The admin claims as the holder itself (custody holds the investor's wallet).
    own = api.call("POST", bond.path("/coupons/0/claim"), "admin", json={"sender": investor})
    assert own.status_code == 200 and own.json()["payee"] == investor
    period = reconcile(bond, 0)
    assert (period["claimed_amount"], period["claims"], period["outstanding"]) == ("1000", 2, "0")


def test_a_holder_claims_with_its_own_wallet_and_the_issuer_funds_with_its_own(api: Api) -> None:
    bond = issue_bond(api, holdings=(1,))
    own = wallet(api, bond.chain)
    api.registry.tokens.mint(bond.asset_id, own.address, 4, sender=api.issuer)
    token, _ = api.key("investor", addresses=(own.address,))
    record = now(api, bond.chain) + 1_000
    prepared = api.call("POST", bond.path("/coupons/prepare"), "issuer", json={"record_date": iso(record)})
    assert prepared.status_code == 201, prepared.text
    assert prepared.json()["operation"] == "coupons.schedule" and prepared.json()["sender"] == api.issuer
    schedule(bond, record)
    travel(api, bond.chain, record + 1)
    # Without an allowance, the non-custodial funding says what to approve first.
    unapproved = problem(
        api.call("POST", bond.path("/coupons/0/fund/prepare"), "issuer", json={}), 409, "operation-refused"
    )
    assert "approve" in unapproved["detail"]
    api.call("POST", bond.path("/coupons/0/fund"), "issuer", json={})

    to_sign = api.call("POST", bond.path("/coupons/0/claim/prepare"), token=token, json={})
    assert to_sign.status_code == 201, to_sign.text
    assert to_sign.json()["sender"] == own.address
    sent = api.call(
        "POST",
        "/transactions",
        token=token,
        json={"prepared_id": to_sign.json()["prepared_id"], "raw_transaction": signed(own, to_sign.json())},
    )
    assert sent.status_code == 200, sent.text
    assert set(sent.json()) == {"holder", "payee", "amount", "transaction"}
    assert (sent.json()["holder"], sent.json()["amount"]) == (own.address, "100")
    assert bond.cash(own.address) == 4 * COUPON
    reconcile(bond, 0)


def test_refusals_name_what_was_wrong(api: Api) -> None:
    bond = issue_bond(api)
    stock = issue_stock(api)
    chain_now = now(api, bond.chain)
    past = problem(
        api.call("POST", bond.path("/coupons"), "issuer", json={"record_date": iso(chain_now - 10)}),
        422,
        "invalid-input",
    )
    assert past["field"] == "record_date"
    naive = api.call("POST", bond.path("/coupons"), "issuer", json={"record_date": "2030-01-01T00:00:00"})
    assert problem(naive, 422, "validation-error")["field"] == "record_date"
    wrong_kind = problem(
        api.call("POST", stock.path("/coupons"), "issuer", json={"record_date": iso(chain_now + 100)}),
        422,
        "invalid-input",
    )
    assert wrong_kind["field"] == "asset_id" and "stock" in wrong_kind["detail"]
    unknown = "/assets/bond-00000000000000000000/coupons"
    assert problem(api.call("GET", unknown, "auditor"), 404, "not-found")["resource"] == "asset"
    assert (
        problem(api.call("POST", bond.path("/coupons/7/fund"), "issuer", json={}), 422, "invalid-input")[
            "field"
        ]
        == "period_id"
    )
    stranger = api.registry.keys.create(f"stranger {id(bond)}", chains=[bond.chain]).address
    token, _ = api.key("issuer", addresses=(stranger,))
    body = {"record_date": iso(chain_now + 100)}
    problem(api.call("POST", bond.path("/coupons"), token=token, json=body), 403, "scope-forbidden")
    problem(api.call("POST", bond.path("/coupons"), "investor", json=body), 403, "role-forbidden")
    problem(
        api.call("POST", bond.path("/coupons"), "issuer", json={**body, "extra": 1}), 422, "validation-error"
    )
    # Nothing of those was sent.
    assert bond.token.functions.couponPeriodCount().call() == 0

    # Pages: one period a page, pinned to the first page's block; a bad cursor or block is named.
    schedule(bond, chain_now + 100)
    schedule(bond, chain_now + 200)
    first = periods(bond, limit=1)
    schedule(bond, chain_now + 300)
    second = periods(bond, limit=1, cursor=first["next_cursor"])
    assert [p["period_id"] for p in first["items"] + second["items"]] == [0, 1]
    assert second["block"] == first["block"] and second["next_cursor"] is None
    assert [p["period_id"] for p in periods(bond)["items"]] == [0, 1, 2]
    bad = api.call("GET", bond.path("/coupons"), "auditor", params={"cursor": "nonsense"})
    assert problem(bad, 422, "invalid-input")["field"] == "cursor"
    ahead = api.call("GET", bond.path("/coupons"), "auditor", params={"block": 10**9})
    assert problem(ahead, 404, "not-found")["resource"] == "block"


def test_a_page_whose_block_a_rollback_replaced_is_refused(api: Api) -> None:
    bond = issue_bond(api, "permissioned", holdings=(1,))
    chain_now = now(api, bond.chain)
    schedule(bond, chain_now + 100)
    fork = api.registry.chain(bond.chain).w3.eth.block_number
    schedule(bond, chain_now + 200)
    schedule(bond, chain_now + 300)
    first = periods(bond, limit=1)
    assert first["next_cursor"] is not None and first["block"] == fork + 2
    # The validators roll back to the fork; both schedulings are replayed, together in one new block, so
    # the page's block is gone.
    desk = api.registry.chain(bond.chain).interventions()
    proposal = desk.propose_rollback(fork, exclude_transactions=[], reason="test: replace a paged block")
    for validator in desk.signers_available()[: desk.threshold()]:
        proposal = desk.sign(proposal.id, validator)
    assert str(proposal.status) == "executed", proposal.outcome
    indexed(api, bond.chain)
    stale = api.call(
        "GET", bond.path("/coupons"), "auditor", params={"cursor": first["next_cursor"], "limit": 1}
    )
    assert "first page again" in problem(stale, 409, "stale-cursor")["detail"]
    again = periods(bond)
    assert [p["period_id"] for p in again["items"]] == [0, 1, 2] and again["block"] < first["block"]


def test_a_funder_with_its_own_wallet_approves_through_json_rpc_then_funds(api: Api) -> None:
    bond = issue_bond(api)
    own = wallet(api, bond.chain)
    registry = api.registry
    registry.tokens.grant_role(bond.asset_id, "supply", own.address, sender=api.issuer)
    registry.cash.mint(bond.cash_id, own.address, 1_000 * USD, sender=api.issuer)
    record = now(api, bond.chain) + 1_000
    schedule(bond, record)
    travel(api, bond.chain, record + 1)
    body = {"sender": own.address}
    # The admin prepares for the paying agent's own wallet; until it approves, the funding is refused.
    problem(
        api.call("POST", bond.path("/coupons/0/fund/prepare"), "admin", json=body), 409, "operation-refused"
    )
    w3 = registry.chain(bond.chain).w3
    cash = registry.context.token(registry.asset(bond.cash_id))
    approve = {
        "type": 2,
        "chainId": w3.eth.chain_id,
        "nonce": w3.eth.get_transaction_count(own.address),
        "to": cash.address,
        "data": cash.encode_abi("approve", [bond.token.address, 40 * COUPON]),
        "value": 0,
        "gas": 100_000,
        "maxFeePerGas": 2 * int(w3.eth.get_block("latest")["baseFeePerGas"]) + 10,
        "maxPriorityFeePerGas": 1,
    }
    raw_approve = "0x" + bytes(own.sign_transaction(approve).raw_transaction).hex()
    rpc = {"jsonrpc": "2.0", "id": 1, "method": "eth_sendRawTransaction", "params": [raw_approve]}
    sent = api.client.post(f"/chains/{bond.chain}/rpc", json=rpc)
    assert "result" in sent.json(), sent.text
    assert w3.eth.wait_for_transaction_receipt(sent.json()["result"])["status"] == 1

    to_sign = api.call("POST", bond.path("/coupons/0/fund/prepare"), "admin", json=body)
    assert to_sign.status_code == 201, to_sign.text
    funded = api.call(
        "POST",
        "/transactions",
        "admin",
        json={"prepared_id": to_sign.json()["prepared_id"], "raw_transaction": signed(own, to_sign.json())},
    )
    assert funded.status_code == 200, funded.text
    assert (funded.json()["amount"], funded.json()["approval"]) == ("1000", None)
    assert funded.json()["transaction"]["sender"] == own.address
    assert bond.cash(own.address) == 1_000 * USD - 40 * COUPON
    reconcile(bond, 0)
