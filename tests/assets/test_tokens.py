"""Operations of every regulated token, on both chains: the compliance pre-check names every broken rule
and sends nothing; roles are checked before sending; each operation's prepare form can be signed by the
client."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from eth_utils.address import to_checksum_address

from registry.chain.clock import latest_timestamp
from registry.compliance import Rule
from registry.context import ZERO_ADDRESS
from registry.errors import (
    ComplianceRefusedError,
    InvalidInputError,
    OperationRefusedError,
    RoleMissingError,
    SignedTransactionMismatchError,
    UnknownAssetError,
)
from tests.registry_fixtures import World


def nonce_of(world: World, address: str) -> int:
    return int(world.registry.chain(world.chain).w3.eth.get_transaction_count(to_checksum_address(address)))


def rules(error: ComplianceRefusedError) -> list[Rule]:
    return [violation.rule for violation in error.violations]


def test_mint_and_transfer_between_verified_investors(world: World) -> None:
    tokens = world.registry.tokens
    bond = world.bond("kyc")
    alice, bob = world.onboard(2)
    outcome = tokens.mint(bond, alice.address, 100, sender=world.issuer)
    assert outcome.status == 1 and "mint 100" in outcome.description
    tokens.transfer(bond, bob.address, 30, sender=alice.address)
    assert (tokens.balance_of(bond, alice.address), tokens.balance_of(bond, bob.address)) == (70, 30)
    assert tokens.violations(bond, alice.address, bob.address, 70) == ()


def test_a_mint_to_an_unverified_wallet_is_refused_before_sending(world: World) -> None:
    bond = world.bond("kyc")
    stranger = Account.create().address
    before = nonce_of(world, world.issuer)
    with pytest.raises(ComplianceRefusedError) as caught:
        world.registry.tokens.mint(bond, stranger, 10, sender=world.issuer)
    assert rules(caught.value) == [Rule.RECEIVER_NOT_VERIFIED]
    assert caught.value.asset_id == bond
    assert "Ask the KYC provider to register the receiving wallet" in str(caught.value)
    assert "Nothing was sent" in str(caught.value)
    assert nonce_of(world, world.issuer) == before
    assert world.registry.tokens.balance_of(bond, stranger) == 0


def test_a_transfer_is_refused_with_every_rule_it_breaks(world: World) -> None:
    tokens = world.registry.tokens
    bond = world.bond("kyc")
    alice, bob = world.onboard(2)
    tokens.mint(bond, alice.address, 100, sender=world.issuer)
    tokens.mint(bond, bob.address, 10, sender=world.issuer)
    now = latest_timestamp(world.registry.chain(world.chain).w3)
    tokens.set_country_rule(bond, "block", sender=world.issuer)
    tokens.set_countries(bond, [756], listed=True, sender=world.issuer)
    tokens.set_lockup(bond, now + 86_400, sender=world.issuer)
    tokens.set_max_balance(bond, 20, sender=world.issuer)
    before = nonce_of(world, alice.address)
    with pytest.raises(ComplianceRefusedError) as caught:
        tokens.transfer(bond, bob.address, 50, sender=alice.address)
    assert rules(caught.value) == [Rule.COUNTRY_NOT_ALLOWED, Rule.MAX_BALANCE_EXCEEDED, Rule.LOCKUP_ACTIVE]
    text = str(caught.value)
    assert (
        "3 rules broken" in text and "COUNTRY_NOT_ALLOWED" in text and "Wait until the lock-up ends." in text
    )
    assert nonce_of(world, alice.address) == before
    # The prepare form refuses the same way: nothing for a client to sign.
    with pytest.raises(ComplianceRefusedError):
        tokens.prepare_transfer(bond, bob.address, 50, sender=alice.address)


def test_open_mode_checks_freezes_and_balance_but_not_identity(world: World) -> None:
    tokens = world.registry.tokens
    bond = world.bond("open")
    holder, stranger = Account.create(), Account.create().address
    world.hold(holder)
    world.fund(holder.address)
    tokens.mint(bond, holder.address, 50, sender=world.issuer)
    tokens.transfer(bond, stranger, 5, sender=holder.address)
    tokens.freeze_account(bond, stranger, sender=world.issuer)
    with pytest.raises(ComplianceRefusedError) as caught:
        tokens.transfer(bond, stranger, 100, sender=holder.address)
    assert rules(caught.value) == [Rule.RECEIVER_FROZEN, Rule.INSUFFICIENT_BALANCE]
    with pytest.raises(OperationRefusedError, match="open mode"):
        tokens.set_max_investors(bond, 3, sender=world.issuer)
    with pytest.raises(OperationRefusedError, match="no wallet recovery"):
        tokens.recover_wallet(bond, holder.address, stranger, sender=world.issuer)


def test_roles_are_checked_before_sending_and_can_be_granted(world: World) -> None:
    tokens = world.registry.tokens
    bond = world.bond("kyc")
    (agent,) = world.onboard(1)
    before = nonce_of(world, agent.address)
    with pytest.raises(RoleMissingError) as caught:
        tokens.mint(bond, agent.address, 1, sender=agent.address)
    assert (caught.value.role, caught.value.account) == ("supply", agent.address)
    assert "mint, burn" in str(caught.value)
    with pytest.raises(RoleMissingError) as caught:
        tokens.pause(bond, sender=agent.address)
    assert caught.value.role == "enforcement"
    with pytest.raises(RoleMissingError):
        tokens.grant_role(bond, "supply", agent.address, sender=agent.address)
    assert nonce_of(world, agent.address) == before
    tokens.grant_role(bond, "supply", agent.address, sender=world.issuer)
    assert tokens.has_role(bond, "supply", agent.address)
    tokens.mint(bond, agent.address, 1, sender=agent.address)
    tokens.revoke_role(bond, "supply", agent.address, sender=world.issuer)
    with pytest.raises(RoleMissingError):
        tokens.mint(bond, agent.address, 1, sender=agent.address)
    with pytest.raises(InvalidInputError) as refused:
        tokens.revoke_role(bond, "admin", world.issuer, sender=world.issuer)
    assert refused.value.field == "account" and "without an administrator" in str(refused.value)
    with pytest.raises(InvalidInputError) as refused:
        tokens.grant_role(bond, "minter", agent.address, sender=world.issuer)
    assert refused.value.field == "role"


def test_pause_freezes_and_partial_freezes(world: World) -> None:
    tokens = world.registry.tokens
    bond = world.bond("kyc")
    alice, bob = world.onboard(2)
    tokens.mint(bond, alice.address, 100, sender=world.issuer)
    tokens.pause(bond, sender=world.issuer)
    with pytest.raises(OperationRefusedError, match="already paused"):
        tokens.pause(bond, sender=world.issuer)
    with pytest.raises(ComplianceRefusedError) as caught:
        tokens.transfer(bond, bob.address, 1, sender=alice.address)
    assert rules(caught.value) == [Rule.TOKEN_PAUSED]
    tokens.unpause(bond, sender=world.issuer)
    with pytest.raises(OperationRefusedError, match="not paused"):
        tokens.unpause(bond, sender=world.issuer)
    tokens.freeze_account(bond, alice.address, sender=world.issuer)
    with pytest.raises(ComplianceRefusedError) as caught:
        tokens.transfer(bond, bob.address, 1, sender=alice.address)
    assert rules(caught.value) == [Rule.SENDER_FROZEN]
    tokens.unfreeze_account(bond, alice.address, sender=world.issuer)
    tokens.set_frozen_tokens(bond, alice.address, 80, sender=world.issuer)
    with pytest.raises(ComplianceRefusedError) as caught:
        tokens.transfer(bond, bob.address, 21, sender=alice.address)
    assert rules(caught.value) == [Rule.INSUFFICIENT_UNFROZEN_BALANCE]
    tokens.transfer(bond, bob.address, 20, sender=alice.address)
    tokens.set_frozen_tokens(bond, alice.address, 0, sender=world.issuer)
    tokens.transfer(bond, bob.address, 80, sender=alice.address)
    assert tokens.balance_of(bond, bob.address) == 100


def test_forced_transfer_burn_and_recovery(world: World) -> None:
    tokens, investors = world.registry.tokens, world.registry.investors
    bond = world.bond("kyc")
    alice, bob = world.onboard(2)
    tokens.mint(bond, alice.address, 100, sender=world.issuer)
    tokens.freeze_account(bond, alice.address, sender=world.issuer)
    # A forced transfer ignores the sender's freeze but not the receiver's eligibility.
    with pytest.raises(ComplianceRefusedError) as caught:
        tokens.forced_transfer(bond, alice.address, Account.create().address, 10, sender=world.issuer)
    assert rules(caught.value) == [Rule.RECEIVER_NOT_VERIFIED]
    with pytest.raises(InvalidInputError):
        tokens.forced_transfer(bond, alice.address, alice.address, 10, sender=world.issuer)
    tokens.forced_transfer(bond, alice.address, bob.address, 10, sender=world.issuer)
    with pytest.raises(OperationRefusedError, match="fewer than the 1000"):
        tokens.burn(bond, bob.address, 1000, sender=world.issuer)
    tokens.burn(bond, bob.address, 5, sender=world.issuer)
    assert tokens.balance_of(bond, bob.address) == 5
    # Recovery: only to a verified wallet of the same investor.
    replacement = Account.create()
    with pytest.raises(OperationRefusedError, match="not a wallet of investor"):
        tokens.recover_wallet(bond, alice.address, replacement.address, sender=world.issuer)
    with pytest.raises(OperationRefusedError, match="not a wallet of investor"):
        tokens.recover_wallet(bond, alice.address, bob.address, sender=world.issuer)
    investors.add_wallet(world.chain, investors.investor_of(world.chain, alice.address), replacement.address)
    tokens.recover_wallet(bond, alice.address, replacement.address, sender=world.issuer)
    assert tokens.balance_of(bond, replacement.address) == 90
    assert tokens.balance_of(bond, alice.address) == 0
    with pytest.raises(OperationRefusedError, match="nothing to recover"):
        tokens.recover_wallet(bond, Account.create().address, replacement.address, sender=world.issuer)


def test_every_compliance_rule_call(world: World) -> None:
    tokens = world.registry.tokens
    bond = world.bond("kyc")
    (alice,) = world.onboard(1, accredited=False)
    tokens.set_accredited_only(bond, True, sender=world.issuer)
    with pytest.raises(ComplianceRefusedError) as caught:
        tokens.mint(bond, alice.address, 1, sender=world.issuer)
    assert rules(caught.value) == [Rule.RECEIVER_NOT_ACCREDITED]
    tokens.set_accredited_only(bond, False, sender=world.issuer)
    tokens.set_country_rule(bond, "allow", sender=world.issuer)
    with pytest.raises(ComplianceRefusedError) as caught:
        tokens.mint(bond, alice.address, 1, sender=world.issuer)
    assert rules(caught.value) == [Rule.COUNTRY_NOT_ALLOWED]
    tokens.set_countries(bond, [756, 250], listed=True, sender=world.issuer)
    tokens.set_max_investors(bond, 1, sender=world.issuer)
    tokens.mint(bond, alice.address, 1, sender=world.issuer)
    (bob,) = world.onboard(1)
    with pytest.raises(ComplianceRefusedError) as caught:
        tokens.mint(bond, bob.address, 1, sender=world.issuer)
    assert rules(caught.value) == [Rule.MAX_INVESTORS_EXCEEDED]
    assert tokens.violations(bond, ZERO_ADDRESS, bob.address, 1)[0].rule == Rule.MAX_INVESTORS_EXCEEDED
    with pytest.raises(RoleMissingError) as missing:
        tokens.set_lockup(bond, 0, sender=alice.address)
    assert missing.value.role == "compliance"
    for call, field in (
        (lambda: tokens.set_country_rule(bond, "deny", sender=world.issuer), "rule"),
        (lambda: tokens.set_countries(bond, [1000], listed=True, sender=world.issuer), "countries"),
        (lambda: tokens.set_countries(bond, [], listed=True, sender=world.issuer), "countries"),
        (lambda: tokens.set_max_investors(bond, 2**32, sender=world.issuer), "maximum"),
        (lambda: tokens.set_lockup(bond, -1, sender=world.issuer), "until"),
        (lambda: tokens.set_accredited_only(bond, 1, sender=world.issuer), "accredited_only"),  # type: ignore[arg-type]
    ):
        with pytest.raises(InvalidInputError) as bad:
            call()
        assert bad.value.field == field


def test_bad_inputs_name_their_field(world: World) -> None:
    tokens = world.registry.tokens
    bond = world.bond("kyc")
    yes: Any = True
    for call, field in (
        (lambda: tokens.mint(bond, "0xnope", 1, sender=world.issuer), "to"),
        (lambda: tokens.mint(bond, ZERO_ADDRESS, 1, sender=world.issuer), "to"),
        (lambda: tokens.mint(bond, world.issuer, 0, sender=world.issuer), "amount"),
        (lambda: tokens.mint(bond, world.issuer, yes, sender=world.issuer), "amount"),
        (lambda: tokens.mint(bond, world.issuer, 2**256, sender=world.issuer), "amount"),
        (lambda: tokens.transfer(bond, world.issuer, 1, sender="issuer"), "sender"),
        (lambda: tokens.mint(world.cash, world.issuer, 1, sender=world.issuer), "asset_id"),
        (lambda: tokens.mint(42, world.issuer, 1, sender=world.issuer), "asset_id"),  # type: ignore[arg-type]
    ):
        with pytest.raises(InvalidInputError) as caught:
            call()
        assert caught.value.field == field, str(caught.value)
    with pytest.raises(UnknownAssetError):
        tokens.mint("bond-00000000000000000000", world.issuer, 1, sender=world.issuer)


def test_a_holder_signs_its_own_transfer(world: World) -> None:
    registry, tokens = world.registry, world.registry.tokens
    bond = world.bond("kyc")
    alice, bob = world.onboard(2)
    tokens.mint(bond, alice.address, 10, sender=world.issuer)
    client = Account.from_key(alice.key)  # the holder's own wallet, outside custody
    prepared = tokens.prepare_transfer(bond, bob.address, 4, sender=alice.address)
    unsigned = registry.prepare_unsigned(prepared)
    # A client that changes the recipient in what it signs is caught: nothing is sent.
    evil = tokens.prepare_transfer(bond, alice.address, 4, sender=alice.address)
    tampered = client.sign_transaction({**unsigned.as_dict(), "data": "0x" + evil.data.hex()})
    with pytest.raises(SignedTransactionMismatchError):
        registry.submit_signed(tampered.raw_transaction, expected=unsigned)
    outcome = registry.submit_signed(
        client.sign_transaction(unsigned.as_dict()).raw_transaction, expected=unsigned
    )
    assert outcome.sender == alice.address
    assert tokens.balance_of(bond, bob.address) == 4


def test_the_cheap_operations_on_anvil(anvil_world: World) -> None:
    tokens = anvil_world.registry.tokens
    bond = anvil_world.bond("kyc")
    alice, bob = anvil_world.onboard(2)
    tokens.mint(bond, alice.address, 10, sender=anvil_world.issuer)
    tokens.transfer(bond, bob.address, 3, sender=alice.address)
    with pytest.raises(ComplianceRefusedError) as caught:
        tokens.transfer(bond, Account.create().address, 3, sender=alice.address)
    assert rules(caught.value) == [Rule.RECEIVER_NOT_VERIFIED]
    with pytest.raises(RoleMissingError):
        tokens.mint(bond, bob.address, 1, sender=bob.address)
    assert (tokens.balance_of(bond, alice.address), tokens.balance_of(bond, bob.address)) == (7, 3)
