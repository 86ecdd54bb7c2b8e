"""Corporate actions over HTTP: splits, a bond's call, the redemption funded, redeemed (own wallet, withheld,
more than held), swept; the redemption cash reconciles (paid in = paid out + swept + still redeemable), in
the index too; the non-custodial twins; who may do what; every refusal."""

from __future__ import annotations

from datetime import datetime

from registry.index import queries

from .conftest import Api, problem
from .ops import USD, Asset, issue_bond, issue_stock, now, raw, signed, wallet


def redemption_reconciles(bond: Asset) -> None:
    """What the bond holds for the redemption is what it took in, less what it paid and swept, and covers
    every outstanding bond; the index says the same."""
    token = bond.token
    _funded_at, _funder, owed = token.functions.redemption().call()
    price = token.functions.redemptionPrice().call()
    registry = bond.api.registry
    registry.wait_for_index(bond.chain, registry.chain(bond.chain).w3.eth.block_number)
    with registry.db.read() as session:
        indexed = queries.redemption(session, bond.asset_id)
    assert indexed is not None and indexed.funded
    assert indexed.funded_amount == indexed.paid_amount + indexed.swept_amount + owed
    assert owed >= token.functions.totalSupply().call() * price
    assert bond.cash(bond.token.address) >= owed


def test_a_split_and_its_refusals(api: Api) -> None:
    stock = issue_stock(api)
    investor, other = stock.holders
    split = api.call(
        "POST", stock.path("/splits"), "issuer", idem="split-1", json={"numerator": 2, "denominator": 1}
    )
    assert split.status_code == 200, split.text
    assert (split.json()["numerator"], split.json()["denominator"], split.json()["total_supply"]) == (
        2,
        1,
        "80",
    )
    again = api.call(
        "POST", stock.path("/splits"), "issuer", idem="split-1", json={"numerator": 2, "denominator": 1}
    )
    assert again.json() == split.json()
    reused = api.call(
        "POST", stock.path("/splits"), "issuer", idem="split-1", json={"numerator": 3, "denominator": 1}
    )
    problem(reused, 422, "idempotency-key-reused")
    assert [stock.token.functions.balanceOf(h).call() for h in (investor, other)] == [60, 20]
    reverse = api.call("POST", stock.path("/splits"), "issuer", json={"numerator": 1, "denominator": 10})
    assert reverse.status_code == 200 and reverse.json()["total_supply"] == "8"
    same = problem(
        api.call("POST", stock.path("/splits"), "issuer", json={"numerator": 3, "denominator": 3}),
        422,
        "invalid-input",
    )
    assert same["field"] == "denominator"
    zero = api.call("POST", stock.path("/splits"), "issuer", json={"numerator": 0, "denominator": 1})
    assert problem(zero, 422, "validation-error")["field"] == "numerator"
    bond = issue_bond(api)
    kind = problem(
        api.call("POST", bond.path("/splits"), "issuer", json={"numerator": 2, "denominator": 1}),
        422,
        "invalid-input",
    )
    assert kind["field"] == "asset_id"
    problem(
        api.call("POST", stock.path("/splits"), "investor", json={"numerator": 2, "denominator": 1}),
        403,
        "role-forbidden",
    )
    prepared = api.call(
        "POST", stock.path("/splits/prepare"), "issuer", json={"numerator": 2, "denominator": 1}
    )
    assert prepared.status_code == 201 and prepared.json()["operation"] == "corporate-actions.split"
    assert stock.token.functions.totalSupply().call() == 8


def test_a_call_and_the_redemption_from_funding_to_sweep(api: Api) -> None:
    bond = issue_bond(api, holdings=(30, 10, 5))
    investor, other, third = bond.holders
    problem(api.call("POST", bond.path("/redemption/fund"), "issuer", json={}), 409, "operation-refused")
    problem(
        api.call("POST", bond.path("/redemptions"), "investor", json={"amount": "1"}),
        409,
        "operation-refused",
    )
    called = api.call("POST", bond.path("/call"), "issuer", json={})
    assert called.status_code == 200, called.text
    assert called.json()["call_price"] == "1010"
    assert datetime.fromisoformat(called.json()["called_at"]).timestamp() <= now(api, bond.chain)
    problem(api.call("POST", bond.path("/call"), "issuer", json={}), 409, "operation-refused")

    issuer_before = bond.cash(api.issuer)
    funded = api.call("POST", bond.path("/redemption/fund"), "issuer", json={})
    assert funded.status_code == 200, funded.text
    assert (funded.json()["price"], funded.json()["amount"]) == ("1010", "45450")
    assert issuer_before - bond.cash(api.issuer) == 45 * 1010 * USD
    redemption_reconciles(bond)

    too_many = problem(
        api.call("POST", bond.path("/redemptions"), "investor", json={"amount": "31"}), 422, "invalid-input"
    )
    assert too_many["field"] == "amount"
    fraction = problem(
        api.call("POST", bond.path("/redemptions"), "investor", json={"amount": "1.5"}), 422, "invalid-input"
    )
    assert fraction["field"] == "amount"
    redeemed = api.call("POST", bond.path("/redemptions"), "investor", idem="redeem-1", json={"amount": "30"})
    assert redeemed.status_code == 200, redeemed.text
    assert (redeemed.json()["holder"], redeemed.json()["amount"], redeemed.json()["payout"]) == (
        investor,
        "30",
        "30300",
    )
    assert bond.cash(investor) == 30 * 1010 * USD and bond.token.functions.balanceOf(investor).call() == 0
    replay = api.call("POST", bond.path("/redemptions"), "investor", idem="redeem-1", json={"amount": "30"})
    assert replay.json() == redeemed.json() and bond.cash(investor) == 30 * 1010 * USD
    redemption_reconciles(bond)

    # A frozen holder's principal is withheld, named, and stays owed.
    api.registry.tokens.freeze_account(bond.asset_id, other, sender=api.issuer)
    withheld = problem(
        api.call("POST", bond.path("/redemptions"), "admin", json={"amount": "10", "sender": other}),
        422,
        "payment-withheld",
    )
    assert withheld["error"]["name"] == "RegulatedTokenPaymentWithheld" and withheld["violation"]["remedy"]
    # An investor redeems from its own wallets only.
    problem(
        api.call("POST", bond.path("/redemptions"), "investor", json={"amount": "1", "sender": third}),
        403,
        "scope-forbidden",
    )
    problem(
        api.call("POST", bond.path("/redemptions"), "issuer", json={"amount": "1"}), 403, "role-forbidden"
    )

    # Nothing is sweepable while every bond can still redeem; bonds burnt after funding free their cash.
    problem(api.call("POST", bond.path("/redemption/sweep"), "issuer", json={}), 409, "operation-refused")
    api.registry.tokens.burn(bond.asset_id, third, 5, sender=api.issuer)
    issuer_before = bond.cash(api.issuer)
    swept = api.call("POST", bond.path("/redemption/sweep"), "issuer", json={})
    assert swept.status_code == 200, swept.text
    assert (swept.json()["funder"], swept.json()["amount"]) == (api.issuer, "5050")
    assert bond.cash(api.issuer) - issuer_before == 5 * 1010 * USD
    redemption_reconciles(bond)
    with api.registry.db.read() as session:
        indexed = queries.redemption(session, bond.asset_id)
    assert indexed is not None
    assert (indexed.redeemed_bonds, indexed.redemptions, indexed.call_price) == (30, 1, 1010 * USD)
    assert raw(swept.json()["amount"]) == indexed.swept_amount


def test_a_holder_redeems_with_its_own_wallet_and_the_issuer_prepares_its_actions(api: Api) -> None:
    bond = issue_bond(api, holdings=(1,))
    own = wallet(api, bond.chain)
    api.registry.tokens.mint(bond.asset_id, own.address, 7, sender=api.issuer)
    token, _ = api.key("investor", addresses=(own.address,))
    prepared = api.call("POST", bond.path("/call/prepare"), "issuer", json={})
    assert prepared.status_code == 201 and prepared.json()["operation"] == "corporate-actions.call"
    assert api.call("POST", bond.path("/call"), "issuer", json={}).status_code == 200
    unapproved = problem(
        api.call("POST", bond.path("/redemption/fund/prepare"), "issuer", json={}), 409, "operation-refused"
    )
    assert "approve" in unapproved["detail"]
    assert api.call("POST", bond.path("/redemption/fund"), "issuer", json={}).status_code == 200
    to_sign = api.call("POST", bond.path("/redemptions/prepare"), token=token, json={"amount": "7"})
    assert to_sign.status_code == 201, to_sign.text
    sent = api.call(
        "POST",
        "/transactions",
        token=token,
        json={"prepared_id": to_sign.json()["prepared_id"], "raw_transaction": signed(own, to_sign.json())},
    )
    assert sent.status_code == 200, sent.text
    assert (sent.json()["holder"], sent.json()["amount"], sent.json()["payout"]) == (own.address, "7", "7070")
    assert bond.cash(own.address) == 7 * 1010 * USD
    redemption_reconciles(bond)


def test_an_unknown_or_foreign_asset(api: Api) -> None:
    unknown = "/assets/bond-00000000000000000000"
    for path in ("/call", "/redemption/fund", "/redemption/sweep"):
        assert (
            problem(api.call("POST", unknown + path, "issuer", json={}), 404, "not-found")["resource"]
            == "asset"
        )
    bond = issue_bond(api)
    stranger = api.registry.keys.create(f"stranger {id(bond)}", chains=[bond.chain]).address
    token, _ = api.key("issuer", addresses=(stranger,))
    for path in ("/call", "/redemption/fund", "/redemption/sweep", "/call/prepare"):
        problem(api.call("POST", bond.path(path), token=token, json={}), 403, "scope-forbidden")
    assert bond.token.functions.calledAt().call() == 0
