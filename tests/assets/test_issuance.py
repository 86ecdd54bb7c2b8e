"""Issuing: terms validated before anything is sent, the contract deployed, the asset catalogued under its
stable id with its chain, address, terms, block and identity registry; the non-custodial flow; a crash
between sending and cataloguing."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_utils.address import to_checksum_address
from web3 import Web3

from registry.assets.issuance import OPERATION, PreparedIssue
from registry.bulk.journal import match_by_data
from registry.bulk.runner import fingerprint_of
from registry.chain import IDENTITY_REGISTRY_ADDRESS
from registry.errors import InvalidInputError, NoSigningKeyError, SignedTransactionMismatchError
from registry.index import catalogue
from registry.index.catalogue import asset_id_for
from registry.investors.registries import REGISTRY_LABEL
from registry.runtime import Registry
from tests.registry_fixtures import World, bond_terms, make_world


def test_a_bond_is_deployed_with_its_terms_and_catalogued_under_its_stable_id(world: World) -> None:
    registry = world.registry
    prepared = registry.bonds.prepare_issue(
        world.chain, "kyc", bond_terms(registry, world.chain, world.cash), issuer=world.issuer
    )
    issued = registry.issuer.issue(prepared)
    asset = issued.asset
    access = registry.context.chain(world.chain)
    assert asset.asset_id == asset_id_for(
        "bond", access.handle.chain_id, issued.outcome.contract_address or ""
    )
    assert asset.asset_id.startswith("bond-")
    assert (asset.chain, asset.kind, asset.mode, asset.symbol, asset.decimals) == (
        world.chain,
        "bond",
        "kyc",
        "ACME",
        0,
    )
    assert asset.deployed_block == issued.outcome.block_number
    token = registry.context.token(asset)
    assert token.functions.isin().call() == "US0378331005"
    assert token.functions.kycMode().call() is True
    assert token.functions.identityRegistry().call() == asset.identity_registry
    assert token.functions.currency().call() == asset.terms["currency"]
    assert asset.terms["currency"] == registry.asset(world.cash).address  # the cash id was resolved
    assert token.functions.hasRole(b"\0" * 32, world.issuer).call() is True
    assert registry.asset(asset.asset_id) == asset
    assert asset in registry.assets(chain=world.chain, kind="bond")
    if world.chain == "permissioned":
        assert asset.identity_registry == Web3.to_checksum_address(bytes(IDENTITY_REGISTRY_ADDRESS))


def test_the_permissionless_chain_gets_one_identity_registry_on_first_need(registry: Registry) -> None:
    world = make_world(registry, "permissionless")
    first, second = world.bond("kyc"), world.stock("kyc")
    assert registry.asset(first).identity_registry == registry.asset(second).identity_registry
    with registry.db.read() as session:
        ours = [
            r
            for r in catalogue.list_identity_registries(session, chain="permissionless")
            if r.label == REGISTRY_LABEL
        ]
    assert len(ours) == 1 and ours[0].address == registry.asset(first).identity_registry
    # Its admin is the registry's own KYC-provider key, not the issuer.
    identity = registry.context.chain("permissionless").contract("IdentityRegistry", ours[0].address)
    provider = registry.registries.provider("permissionless")
    assert provider is not None and provider != world.issuer
    assert identity.functions.hasRole(b"\0" * 32, provider).call() is True
    assert identity.functions.hasRole(b"\0" * 32, world.issuer).call() is False


def test_open_mode_stocks_and_cash_carry_no_identity_registry(world: World) -> None:
    stock = world.registry.asset(world.stock("open"))
    assert (stock.mode, stock.identity_registry, stock.kind) == ("open", None, "stock")
    cash = world.registry.asset(world.cash)
    assert (cash.mode, cash.decimals, cash.identity_registry) == ("open", 6, None)
    assert world.registry.context.token(stock).functions.kycMode().call() is False


def test_refusals_name_the_field_and_send_nothing(world: World) -> None:
    registry = world.registry
    access = registry.context.chain(world.chain)
    nonce = access.w3.eth.get_transaction_count(to_checksum_address(world.issuer))
    now = access.now()
    cases = [
        (lambda: registry.cash.issue(world.chain, {"name": "X", "symbol": "X"}, issuer="0x123"), "issuer"),
        (
            lambda: registry.bonds.issue(
                world.chain, "strict", bond_terms(registry, world.chain, world.cash), issuer=world.issuer
            ),
            "mode",
        ),
        (
            lambda: registry.bonds.issue(
                "mainnet", "kyc", bond_terms(registry, world.chain, world.cash), issuer=world.issuer
            ),
            "chain",
        ),
        (
            lambda: registry.bonds.issue(
                world.chain,
                "kyc",
                bond_terms(registry, world.chain, world.cash, isin="US0378331006"),
                issuer=world.issuer,
            ),
            "isin",
        ),
        (
            lambda: registry.bonds.issue(
                world.chain,
                "kyc",
                bond_terms(
                    registry,
                    world.chain,
                    world.cash,
                    issue_date=now - 20 * 86_400,
                    maturity_date=now - 86_400,
                ),
                issuer=world.issuer,
            ),
            "maturity_date",
        ),
        (
            lambda: registry.bonds.issue(
                world.chain,
                "kyc",
                bond_terms(registry, world.chain, "cash-0000000000000000dead"),
                issuer=world.issuer,
            ),
            "currency",
        ),
        (
            lambda: registry.bonds.issue(
                world.chain, "kyc", bond_terms(registry, world.chain, world.issuer), issuer=world.issuer
            ),
            "currency",
        ),
        (
            lambda: registry.stocks.issue(
                world.chain,
                "kyc",
                {"name": "S", "symbol": "S", "currency": world.cash, "claim_period_days": 10},
                issuer=world.issuer,
            ),
            "claim_period_days",
        ),
    ]
    for attempt, field in cases:
        with pytest.raises(InvalidInputError) as caught:
            attempt()
        assert caught.value.field == field, str(caught.value)
    with pytest.raises(InvalidInputError) as caught:
        registry.issuer.check_mode("cash", "kyc")
    assert caught.value.field == "mode" and "no kyc mode" in str(caught.value)
    assert access.w3.eth.get_transaction_count(to_checksum_address(world.issuer)) == nonce


def test_a_cash_token_of_the_other_chain_is_refused(registry: Registry) -> None:
    here, there = make_world(registry, "permissioned"), make_world(registry, "permissionless")
    with pytest.raises(InvalidInputError) as caught:
        registry.bonds.prepare_issue(
            "permissioned", "open", bond_terms(registry, "permissioned", there.cash), issuer=here.issuer
        )
    assert caught.value.field == "currency" and "permissionless chain" in str(caught.value)


def test_non_custodial_issue_the_client_signs_and_the_registry_catalogues_what_landed(world: World) -> None:
    registry = world.registry
    client = Account.create()
    world.fund(client.address)
    prepared = registry.stocks.prepare_issue(
        world.chain,
        "open",
        {"name": "Client shares", "symbol": "CLS", "currency": world.cash},
        issuer=client.address,
    )
    with pytest.raises(NoSigningKeyError):
        registry.issuer.issue(prepared)
    unsigned = registry.prepare_unsigned(prepared.transaction)
    # A client that signs other creation code is caught before anything is sent.
    tampered = client.sign_transaction({**unsigned.as_dict(), "data": unsigned.as_dict()["data"] + "00"})
    with pytest.raises(SignedTransactionMismatchError):
        registry.submit_signed(tampered.raw_transaction, expected=unsigned)
    signed = client.sign_transaction(unsigned.as_dict())
    outcome = registry.submit_signed(signed.raw_transaction, expected=unsigned)
    asset = registry.complete_issue(prepared, outcome)
    assert asset.address == outcome.contract_address and asset.symbol == "CLS"
    assert registry.complete_issue(prepared, outcome) == asset  # idempotent
    # Another transaction's outcome is not this issue.
    other = registry.cash.mint(world.cash, client.address, 1, sender=world.issuer)
    with pytest.raises(InvalidInputError) as caught:
        registry.complete_issue(prepared, other)
    assert caught.value.field == "outcome"


def test_submit_signed_requires_what_was_prepared(world: World) -> None:
    with pytest.raises(InvalidInputError) as caught:
        world.registry.submit_signed(b"\x02", expected=None)  # type: ignore[arg-type]
    assert caught.value.field == "expected"


def test_an_issue_cut_short_after_sending_is_catalogued_at_the_next_recovery(world: World) -> None:
    registry = world.registry
    prepared = registry.cash.prepare_issue(
        world.chain, {"name": "Crash USD", "symbol": "cUSD"}, issuer=world.issuer
    )
    journal = registry.context.journal
    entry = journal.create(
        OPERATION, prepared.chain, fingerprint_of(prepared.to_json()), [range(0, 1)], data=prepared.to_json()
    )
    # The process sent the creation (its hash journaled first) and died before cataloguing it.
    with journal.recording(entry, match_by_data(entry, [prepared.transaction.data])):
        outcome = registry.context.chain(world.chain).sender.send(prepared.transaction)
    assert registry.context.journal.load(entry.id).chunks[0].tx_hash == outcome.hash_hex  # type: ignore[union-attr]
    assert all(asset.symbol != "cUSD" for asset in registry.assets(chain=world.chain, kind="cash"))
    recovered = registry.issuer.recover()
    assert [a.address for a in recovered] == [outcome.contract_address]
    assert journal.load(entry.id).state == "done"  # type: ignore[union-attr]
    assert registry.issuer.recover() == []
    # An issue that never reached the chain is closed, not catalogued.
    ghost = journal.create(
        OPERATION, prepared.chain, "x", [range(0, 1)], data=PreparedIssue.to_json(prepared)
    )
    ghost.chunks[0].tx_hash = "0x" + "ab" * 32
    ghost.chunks[0].state = "signed"
    journal.save(ghost)
    assert registry.issuer.recover() == []
    assert journal.load(ghost.id).state == "done"  # type: ignore[union-attr]


def test_issuing_on_anvil_in_both_modes(anvil_world: World) -> None:
    registry = anvil_world.registry
    bond = registry.asset(anvil_world.bond("kyc"))
    assert bond.chain == "permissionless" and bond.identity_registry is not None
    assert registry.asset(anvil_world.bond("open")).identity_registry is None
    assert registry.registries.address("permissionless") == bond.identity_registry
