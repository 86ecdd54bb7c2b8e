"""Mint, burn and transfer over HTTP: custodially and signed by the caller, the compliance pre-check that
names every broken rule and sends nothing, who may do what (issuer of its own asset, agent with the supply
role, the holder), and retries with an Idempotency-Key."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from .conftest import Api, cash_for, problem
from .test_assets import bond_body

_n = itertools.count()


@dataclass
class Bond:
    """A kyc-mode bond of the API's issuer on the permissioned chain and two verified holders."""

    asset_id: str
    holders: list[str]
    holder_token: str
    """An investor key bound to the first holder."""


def _holder(api: Api) -> str:
    """A new custodial wallet, verified on the permissioned chain (provisioned: KYC and gas)."""
    return api.registry.keys.create(f"api holder {next(_n)}", chains=["permissioned"]).address


@pytest.fixture(scope="module")
def bond(api: Api) -> Bond:
    cash = cash_for(api, "permissioned")
    issued = api.call("POST", "/assets", "issuer", json=bond_body(api, "permissioned", cash))
    assert issued.status_code == 201, issued.text
    holders = [_holder(api), _holder(api)]
    token, _ = api.key("investor", addresses=(holders[0],))
    return Bond(issued.json()["asset"]["asset_id"], holders, token)


def _nonce(api: Api, address: str) -> int:
    return int(
        api.registry.chain("permissioned").w3.eth.get_transaction_count(
            to_checksum_address(address), "pending"
        )
    )


def _balance(api: Api, bond: Bond, wallet: str) -> int:
    return api.registry.tokens.balance_of(bond.asset_id, wallet)


def _stranger() -> LocalAccount:
    account: LocalAccount = Account.from_key(keccak(text=f"api stranger {next(_n)}"))
    return account


def test_mint_transfer_and_burn_move_exactly_the_amounts(api: Api, bond: Bond) -> None:
    first, second = bond.holders
    before = (_balance(api, bond, first), _balance(api, bond, second))
    minted = api.call("POST", f"/assets/{bond.asset_id}/mint", "issuer", json={"to": first, "amount": "100"})
    assert minted.status_code == 200, minted.text
    body = minted.json()
    assert body["account"] == first and body["amount"] == "100" and body["asset_id"] == bond.asset_id
    assert body["transaction"]["sender"] == api.issuer and body["transaction"]["block_number"] > 0
    moved = api.call(
        "POST",
        f"/assets/{bond.asset_id}/transfers",
        token=bond.holder_token,
        json={"to": second, "amount": "30"},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["sender"] == first and moved.json()["to"] == second
    assert moved.json()["transaction"]["sender"] == first
    burnt = api.call(
        "POST", f"/assets/{bond.asset_id}/burn", "issuer", json={"account": second, "amount": "10"}
    )
    assert burnt.status_code == 200, burnt.text
    assert (_balance(api, bond, first), _balance(api, bond, second)) == (before[0] + 70, before[1] + 20)


def test_a_refused_transfer_names_every_broken_rule_and_sends_nothing(api: Api, bond: Bond) -> None:
    first = bond.holders[0]
    api.call("POST", f"/assets/{bond.asset_id}/mint", "issuer", json={"to": first, "amount": "5"})
    stranger = _stranger().address
    nonce, held = _nonce(api, first), _balance(api, bond, first)
    refused = problem(
        api.call(
            "POST",
            f"/assets/{bond.asset_id}/transfers",
            token=bond.holder_token,
            json={"to": stranger, "amount": str(held + 1)},
        ),
        422,
        "compliance-refused",
    )
    names = {violation["name"] for violation in refused["violations"]}
    assert len(names) >= 2, refused  # the unverified receiver and the balance, both named
    assert any("BALANCE" in name for name in names) and any("RECEIVER" in name for name in names), names
    assert all(violation["sentence"] and violation["remedy"] for violation in refused["violations"])
    assert _nonce(api, first) == nonce and _balance(api, bond, first) == held
    # The same for a mint to an unverified wallet: refused before anything is sent.
    issuer_nonce = _nonce(api, api.issuer)
    minted = api.call("POST", f"/assets/{bond.asset_id}/mint", "issuer", json={"to": stranger, "amount": "1"})
    assert problem(minted, 422, "compliance-refused")["violations"]
    assert _nonce(api, api.issuer) == issuer_nonce and _balance(api, bond, stranger) == 0


def test_bad_amounts_are_named(api: Api, bond: Bond) -> None:
    path = f"/assets/{bond.asset_id}/mint"
    fine = problem(
        api.call("POST", path, "issuer", json={"to": bond.holders[0], "amount": "1.5"}), 422, "invalid-input"
    )
    assert fine["field"] == "amount" and "decimal places" in fine["detail"]
    zero = api.call("POST", path, "issuer", json={"to": bond.holders[0], "amount": "0"})
    assert zero.status_code == 422 and zero.json()["field"] == "amount", zero.text
    over = api.call(
        "POST",
        f"/assets/{bond.asset_id}/burn",
        "issuer",
        json={"account": bond.holders[1], "amount": "10000000"},
    )
    assert problem(over, 409, "operation-refused")
    unknown = api.call(
        "POST",
        "/assets/bond-00000000000000000000/mint",
        "issuer",
        json={"to": bond.holders[0], "amount": "1"},
    )
    problem(unknown, 404, "not-found")


def test_who_may_mint_burn_and_transfer(api: Api, bond: Bond) -> None:
    first, second = bond.holders
    # Another issuer does not operate this asset.
    other = api.registry.keys.create(f"api other issuer {next(_n)}", chains=["permissioned"]).address
    other_token, _ = api.key("issuer", addresses=(other,))
    path = f"/assets/{bond.asset_id}"
    problem(
        api.call("POST", f"{path}/mint", token=other_token, json={"to": first, "amount": "1"}),
        403,
        "scope-forbidden",
    )
    # An investor moves only its own wallets' tokens.
    refused = api.call(
        "POST",
        f"{path}/transfers",
        token=bond.holder_token,
        json={"to": first, "amount": "1", "sender": second},
    )
    assert problem(refused, 403, "scope-forbidden")["field"] == "sender"
    # An admin names the holder; without a sender it is told to.
    assert (
        problem(
            api.call("POST", f"{path}/transfers", "admin", json={"to": second, "amount": "1"}),
            422,
            "invalid-input",
        )["field"]
        == "sender"
    )
    api.call("POST", f"{path}/mint", "issuer", json={"to": first, "amount": "3"})
    moved = api.call(
        "POST", f"{path}/transfers", "admin", json={"to": second, "amount": "1", "sender": first}
    )
    assert moved.status_code == 200, moved.text
    # An agent assigned to the asset burns only once the asset's admin gave its address the supply role.
    agent = api.registry.keys.create(f"api agent {next(_n)}", chains=["permissioned"]).address
    agent_token, _ = api.key("agent", addresses=(agent,), assets=(bond.asset_id,))
    burn = {"account": second, "amount": "1"}
    lacking = problem(
        api.call("POST", f"{path}/burn", token=agent_token, json=burn), 403, "chain-role-missing"
    )
    assert lacking["chain_role"] == "supply"
    api.registry.tokens.grant_role(bond.asset_id, "supply", agent, sender=api.issuer)
    held = _balance(api, bond, second)
    assert api.call("POST", f"{path}/burn", token=agent_token, json=burn).status_code == 200
    assert _balance(api, bond, second) == held - 1
    # An agent may not mint (a route for issuers), an unassigned agent may not burn.
    problem(
        api.call("POST", f"{path}/mint", token=agent_token, json={"to": first, "amount": "1"}),
        403,
        "role-forbidden",
    )
    stranger_agent, _ = api.key("agent", addresses=(agent,))
    problem(api.call("POST", f"{path}/burn", token=stranger_agent, json=burn), 403, "scope-forbidden")


def test_a_retried_mint_mints_once(api: Api, bond: Bond) -> None:
    first = bond.holders[0]
    held = _balance(api, bond, first)
    body = {"to": first, "amount": "7"}
    key = f"mint-once-{next(_n)}-{id(api)}"
    once = api.call("POST", f"/assets/{bond.asset_id}/mint", "issuer", idem=key, json=body)
    twice = api.call("POST", f"/assets/{bond.asset_id}/mint", "issuer", idem=key, json=body)
    assert once.status_code == twice.status_code == 200
    assert twice.headers["Idempotent-Replayed"] == "true" and twice.json() == once.json()
    assert _balance(api, bond, first) == held + 7
    other = api.call(
        "POST", f"/assets/{bond.asset_id}/mint", "issuer", idem=key, json={**body, "amount": "8"}
    )
    problem(other, 422, "idempotency-key-reused")


def test_the_holder_signs_a_transfer_with_its_own_wallet(api: Api, bond: Bond) -> None:
    wallet = Account.from_key(keccak(text=f"api own wallet {next(_n)} {id(api)}"))
    api.registry.keys.provision(wallet.address, "permissioned")
    api.call("POST", f"/assets/{bond.asset_id}/mint", "issuer", json={"to": wallet.address, "amount": "9"})
    token, _ = api.key("investor", addresses=(wallet.address,))
    receiver = bond.holders[1]
    held = _balance(api, bond, receiver)
    prepared = api.call(
        "POST",
        f"/assets/{bond.asset_id}/transfers/prepare",
        token=token,
        json={"to": receiver, "amount": "4"},
    )
    assert prepared.status_code == 201, prepared.text
    to_sign = prepared.json()
    assert to_sign["sender"] == wallet.address and to_sign["operation"] == "transfers.transfer"
    signed = wallet.sign_transaction({k: v for k, v in to_sign["transaction"].items() if v is not None})
    sent = api.call(
        "POST",
        "/transactions",
        token=token,
        json={
            "prepared_id": to_sign["prepared_id"],
            "raw_transaction": "0x" + bytes(signed.raw_transaction).hex(),
        },
    )
    assert sent.status_code == 200, sent.text
    result = sent.json()
    assert result["sender"] == wallet.address and result["to"] == receiver and result["amount"] == "4"
    assert _balance(api, bond, receiver) == held + 4
    # The prepare form refuses like the custodial one, before anything is prepared.
    refused = api.call(
        "POST",
        f"/assets/{bond.asset_id}/transfers/prepare",
        token=token,
        json={"to": _stranger().address, "amount": "1"},
    )
    assert problem(refused, 422, "compliance-refused")["violations"]


def test_mint_and_burn_prepared_for_the_issuer(api: Api, bond: Bond) -> None:
    keystore = api.registry.context.keystore
    assert keystore is not None
    issuer = keystore.unlock(api.issuer)
    first = bond.holders[0]
    held = _balance(api, bond, first)
    for path, body, change in (
        ("mint", {"to": first, "amount": "6"}, 6),
        ("burn", {"account": first, "amount": "2"}, -2),
    ):
        prepared = api.call("POST", f"/assets/{bond.asset_id}/{path}/prepare", "issuer", json=body)
        assert prepared.status_code == 201, prepared.text
        to_sign = prepared.json()
        signed = issuer.sign_transaction({k: v for k, v in to_sign["transaction"].items() if v is not None})
        sent = api.call(
            "POST",
            "/transactions",
            "issuer",
            json={
                "prepared_id": to_sign["prepared_id"],
                "raw_transaction": "0x" + bytes(signed.raw_transaction).hex(),
            },
        )
        assert sent.status_code == 200, sent.text
        assert sent.json()["account"] == first and sent.json()["transaction"]["sender"] == api.issuer
        held += change
    assert _balance(api, bond, first) == held


def test_an_issuer_moves_the_cash_it_minted_itself_and_nobody_elses(api: Api, bond: Bond) -> None:
    cash = cash_for(api, "permissioned")
    first, second = bond.holders
    minted = api.call("POST", f"/assets/{cash}/mint", "issuer", json={"to": api.issuer, "amount": "50"})
    assert minted.status_code == 200, minted.text
    paid = api.call("POST", f"/assets/{cash}/transfers", "issuer", json={"to": first, "amount": "20"})
    assert paid.status_code == 200, paid.text
    assert api.registry.cash.balance_of(cash, first) == 20 * 10**6
    assert api.registry.cash.balance_of(cash, api.issuer) == 30 * 10**6
    # Its key acts only as its own addresses: a holder's wallet is not one of them.
    refused = api.call(
        "POST", f"/assets/{cash}/transfers", "issuer", json={"to": second, "amount": "1", "sender": first}
    )
    assert problem(refused, 403, "scope-forbidden")["field"] == "sender"
    assert api.registry.cash.balance_of(cash, first) == 20 * 10**6
