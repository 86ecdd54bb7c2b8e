"""KYC onboarding on both chains: register (with several wallets), update, revoke, add and remove wallets,
batch registration; refusals in words before anything is sent; who may register."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from eth_account import Account
from eth_utils.address import to_checksum_address

from registry.errors import (
    BatchStoppedError,
    InvalidInputError,
    KycRegistrationError,
    RoleMissingError,
)
from registry.investors import InvestorSpec
from registry.investors.onboarding import MAX_EXPIRY
from registry.runtime import Registry
from tests.registry_fixtures import World, make_world


def nonce_of(registry: Registry, chain: str, address: str) -> int:
    return int(registry.chain(chain).w3.eth.get_transaction_count(to_checksum_address(address)))


def test_an_investor_with_several_wallets(world: World) -> None:
    investors = world.registry.investors
    wallets = [Account.create().address for _ in range(3)]
    expiry = world.registry.context.chain(world.chain).now() + 86_400 * 30
    registration = investors.register(world.chain, wallets, country=250, expiry=expiry, accredited=True)
    assert registration.wallets == tuple(wallets) and len(registration.outcomes) == 3
    record = investors.investor(world.chain, registration.investor_id)
    assert (record.country, record.accredited, record.professional, record.kyc_expiry) == (
        250,
        True,
        False,
        expiry,
    )
    assert record.wallets == tuple(wallets) and record.verified and not record.revoked
    assert all(investors.investor_of(world.chain, w) == registration.investor_id for w in wallets)


def test_changes_to_an_investor(world: World) -> None:
    investors = world.registry.investors
    key, extra = Account.create().address, Account.create().address
    ident = investors.register(world.chain, key, country=756).investor_id
    investors.update(
        world.chain, ident, country=276, expiry=datetime(2099, 1, 1, tzinfo=UTC), professional=True
    )
    record = investors.investor(world.chain, ident)
    assert (record.country, record.professional, record.kyc_expiry) == (276, True, 4_070_908_800)
    investors.add_wallet(world.chain, ident, extra)
    investors.remove_wallet(world.chain, extra)
    assert investors.investor_of(world.chain, extra) == 0
    with pytest.raises(KycRegistrationError, match="belongs to no investor"):
        investors.remove_wallet(world.chain, extra)
    investors.revoke(world.chain, ident)
    assert investors.investor(world.chain, ident).revoked
    assert not investors.investor(world.chain, ident).verified
    with pytest.raises(KycRegistrationError, match="revocation is final"):
        investors.update(world.chain, ident, country=756)
    with pytest.raises(KycRegistrationError, match="revocation is final"):
        investors.add_wallet(world.chain, ident, Account.create().address)


def test_refusals_are_in_words_and_send_nothing(world: World) -> None:
    registry, investors = world.registry, world.registry.investors
    provider = registry.registries.provider(world.chain)
    assert provider is not None
    taken = Account.create().address
    owner = investors.register(world.chain, taken, country=756).investor_id
    before = nonce_of(registry, world.chain, provider)
    with pytest.raises(KycRegistrationError) as caught:
        investors.register(world.chain, taken, country=756)
    assert f"already belongs to investor {owner}" in str(caught.value) and "Nothing was sent" in str(
        caught.value
    )
    with pytest.raises(KycRegistrationError, match=f"already belongs to investor {owner}"):
        investors.register(world.chain, [Account.create().address, taken], country=756)
    now = registry.context.chain(world.chain).now()
    soon: Any = "soon"
    one: Any = 1
    for call, field in (
        (lambda: investors.register(world.chain, Account.create().address, country=0), "country"),
        (lambda: investors.register(world.chain, Account.create().address, country=1000), "country"),
        (
            lambda: investors.register(world.chain, Account.create().address, country=756, expiry=now),
            "expiry",
        ),
        (
            lambda: investors.register(world.chain, Account.create().address, country=756, expiry=soon),
            "expiry",
        ),
        (lambda: investors.register(world.chain, "0x00", country=756), "wallets[0]"),
        (lambda: investors.register(world.chain, [], country=756), "wallets"),
        (
            lambda: investors.register(world.chain, Account.create().address, country=756, accredited=one),
            "accredited",
        ),
        (lambda: investors.update(world.chain, 0, country=756), "investor_id"),
        (lambda: investors.investor(world.chain, 10**6), "investor_id"),
    ):
        with pytest.raises(InvalidInputError) as bad:
            call()
        assert bad.value.field == field, str(bad.value)
    assert nonce_of(registry, world.chain, provider) == before


def test_only_a_kyc_provider_registers(world: World) -> None:
    registry, investors = world.registry, world.registry.investors
    outsider = Account.create()
    world.fund(outsider.address)
    world.hold(outsider)
    with pytest.raises(RoleMissingError) as caught:
        investors.register(world.chain, Account.create().address, country=756, sender=outsider.address)
    assert caught.value.role == "kyc-provider"
    with pytest.raises(RoleMissingError) as caught:
        investors.grant_kyc_provider(world.chain, outsider.address, sender=outsider.address)
    assert caught.value.role == "admin"
    investors.grant_kyc_provider(world.chain, outsider.address)
    registered = investors.register(
        world.chain, Account.create().address, country=756, sender=outsider.address
    )
    assert registered.investor_id > 0
    investors.revoke_kyc_provider(world.chain, outsider.address)
    with pytest.raises(RoleMissingError):
        investors.register(world.chain, Account.create().address, country=756, sender=outsider.address)
    assert registry.registries.provider(world.chain) is not None


def test_a_batch_registration_reports_each_investor_id(world: World) -> None:
    investors = world.registry.investors
    specs = [InvestorSpec(Account.create().address, 756 + i % 2, accredited=i % 2 == 0) for i in range(5)]
    report = investors.batch_register(world.chain, specs, max_items=2)
    assert report.ok and report.transactions == 3
    ids = [item.value for item in report.items]
    assert all(isinstance(i, int) for i in ids) and len(set(ids)) == 5
    for spec, ident in zip(specs, ids, strict=True):
        assert ident is not None and investors.investor_of(world.chain, spec.wallet) == ident
        record = investors.investor(world.chain, ident)
        assert (record.country, record.accredited) == (spec.country, spec.accredited)


def test_a_batch_with_registered_wallets_names_them_and_sends_nothing(world: World) -> None:
    registry, investors = world.registry, world.registry.investors
    taken = [Account.create().address for _ in range(2)]
    for wallet in taken:
        investors.register(world.chain, wallet, country=756)
    specs = [
        InvestorSpec(w, 756) for w in [Account.create().address, taken[0], Account.create().address, taken[1]]
    ]
    provider = registry.registries.provider(world.chain)
    assert provider is not None
    before = nonce_of(registry, world.chain, provider)
    with pytest.raises(KycRegistrationError) as caught:
        investors.batch_register(world.chain, specs, max_items=2)
    text = str(caught.value)
    assert "investors[1]" in text and "investors[3]" in text and "investors[0]" not in text
    assert nonce_of(registry, world.chain, provider) == before
    for specs_, field in (
        ([InvestorSpec(taken[0], 756), InvestorSpec(taken[0], 756)], "investors[1].wallet"),
        ([InvestorSpec(Account.create().address, 0)], "investors[0].country"),
        (["0xabc"], "investors[0]"),
        ([], "investors"),
    ):
        with pytest.raises(InvalidInputError) as bad:
            investors.batch_register(world.chain, specs_)  # type: ignore[arg-type]
        assert bad.value.field == field


def test_a_batch_stopped_by_a_late_registration_says_what_landed(world: World) -> None:
    investors = world.registry.investors
    wallets = [Account.create().address for _ in range(4)]
    specs = [InvestorSpec(w, 756, expiry=MAX_EXPIRY) for w in wallets]
    entries = investors.prepare_batch_register(world.chain, specs, max_items=2)
    assert [list(e.items) for e in entries] == [[0, 1], [2, 3]]

    def register_late(stage: str, done: int, total: int) -> None:
        # Someone registers wallet 3 after the batch was checked, before it is sent.
        if stage == "checking" and done == total:
            investors.register(world.chain, wallets[3], country=756)

    with pytest.raises(BatchStoppedError) as caught:
        investors.batch_register(world.chain, specs, max_items=2, progress=register_late)
    report = caught.value.report
    assert report.landed == [0, 1] and report.failed == [2, 3]
    assert "IdentityRegistryWalletAlreadyRegistered" in (report.items[2].error or "")
    # Resuming checks what is left again: item 3 is now refused by name, and nothing is sent.
    with pytest.raises(KycRegistrationError, match=r"investors\[3\]"):
        investors.batch_register(world.chain, specs, max_items=2, batch_id=report.batch_id)
    assert investors.investor_of(world.chain, wallets[2]) == 0


def test_the_permissionless_registry_is_deployed_once_and_reused(registry: Registry) -> None:
    world = make_world(registry, "permissionless")
    first = registry.registries.ensure("permissionless")
    assert registry.registries.ensure("permissionless") == first
    registry.investors.register("permissionless", Account.create().address, country=756)
    assert registry.registries.address("permissionless") == first
    assert world.registry is registry


def test_onboarding_on_anvil(anvil_world: World) -> None:
    investors = anvil_world.registry.investors
    report = investors.batch_register(
        "permissionless", [InvestorSpec(Account.create().address, 756) for _ in range(3)]
    )
    assert report.ok and all(item.value for item in report.items)
    ident = report.items[0].value
    assert ident is not None
    investors.revoke("permissionless", ident)
    assert investors.investor("permissionless", ident).revoked
