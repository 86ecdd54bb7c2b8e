"""A bond's life through the services: coupon record dates, funding with the cash approval, claims (withheld
ones refused with their reason), claims on behalf, sweeps, the call, redemption."""

from __future__ import annotations

import pytest
from eth_account import Account

from registry.chain.clock import advance_to
from registry.compliance import Rule
from registry.errors import InvalidInputError, OperationRefusedError, PaymentWithheldError, RoleMissingError
from tests.registry_fixtures import YEAR, World

DAY = 86_400


def now(world: World) -> int:
    return world.registry.context.chain(world.chain).now()


def move_to(world: World, timestamp: int) -> None:
    advance_to(world.registry.chain(world.chain).w3, timestamp)


def cash_of(world: World, address: str) -> int:
    return world.registry.cash.balance_of(world.cash, address)


def test_a_coupon_from_record_date_to_claims(world: World) -> None:
    bonds, tokens = world.registry.bonds, world.registry.tokens
    bond = world.bond("kyc")
    alice, bob = world.onboard(2)
    tokens.mint(bond, alice.address, 100, sender=world.issuer)
    tokens.mint(bond, bob.address, 50, sender=world.issuer)
    record = now(world) + 10 * DAY
    scheduled = bonds.schedule_coupon(bond, record, sender=world.issuer)
    assert (scheduled.period_id, scheduled.record_date) == (0, record)
    with pytest.raises(OperationRefusedError, match="once the date has passed"):
        bonds.fund_coupon(bond, 0, sender=world.issuer)
    move_to(world, record + 1)
    tokens.transfer(bond, bob.address, 40, sender=alice.address)  # after the record date: the coupon stays
    per_bond = 1_000 * 10**6 * 500 // 10_000 // 2
    assert bonds.coupon_owed(bond, 0) == 150 * per_bond
    with pytest.raises(OperationRefusedError, match="prepare_approve"):
        bonds.prepare_fund_coupon(bond, 0, sender=world.issuer)
    funding = bonds.fund_coupon(bond, 0, sender=world.issuer)
    assert funding.amount == 150 * per_bond and funding.approval is not None
    with pytest.raises(OperationRefusedError, match="already funded"):
        bonds.fund_coupon(bond, 0, sender=world.issuer)
    before = cash_of(world, alice.address)
    bonds.claim_coupon(bond, 0, sender=alice.address)
    assert cash_of(world, alice.address) - before == 100 * per_bond
    with pytest.raises(OperationRefusedError, match="BondTokenCouponAlreadyClaimed"):
        bonds.claim_coupon(bond, 0, sender=alice.address)
    with pytest.raises(InvalidInputError) as caught:
        bonds.claim_coupon(bond, 7, sender=alice.address)
    assert caught.value.field == "period_id"


def test_a_withheld_claim_is_refused_with_its_reason_then_paid_once_cleared(world: World) -> None:
    bonds, tokens = world.registry.bonds, world.registry.tokens
    bond = world.bond("kyc")
    alice, bob = world.onboard(2)
    tokens.mint(bond, bob.address, 10, sender=world.issuer)
    record = now(world) + DAY
    bonds.schedule_coupon(bond, record, sender=world.issuer)
    move_to(world, record + 1)
    bonds.fund_coupon(bond, 0, sender=world.issuer)
    tokens.freeze_account(bond, bob.address, sender=world.issuer)
    sent = world.registry.chain(world.chain).w3.eth.get_transaction_count(bob.address)
    with pytest.raises(PaymentWithheldError) as caught:
        bonds.claim_coupon(bond, 0, sender=bob.address)
    assert caught.value.violation.rule == Rule.SENDER_FROZEN
    assert caught.value.payee == bob.address
    assert "stays owed" in str(caught.value) and "Nothing was sent" in str(caught.value)
    tokens.unfreeze_account(bond, bob.address, sender=world.issuer)
    tokens.pause(bond, sender=world.issuer)
    with pytest.raises(PaymentWithheldError) as caught:
        bonds.claim_coupon(bond, 0, sender=bob.address)
    assert caught.value.violation.rule == Rule.TOKEN_PAUSED
    tokens.unpause(bond, sender=world.issuer)
    assert world.registry.chain(world.chain).w3.eth.get_transaction_count(bob.address) == sent
    # On behalf: another holder may not push the payment; the paying agent may.
    with pytest.raises(OperationRefusedError, match="RegulatedTokenClaimNotAllowed"):
        bonds.claim_coupon_for(bond, 0, bob.address, sender=alice.address)
    before = cash_of(world, bob.address)
    bonds.claim_coupon_for(bond, 0, bob.address, sender=world.issuer)
    assert cash_of(world, bob.address) > before


def test_record_dates_are_checked_before_sending(world: World) -> None:
    bonds = world.registry.bonds
    bond = world.bond("open")
    maturity = int(world.registry.asset(bond).terms["maturity_date"])
    for date, said in (
        (now(world) - DAY, "must be in the future"),
        (maturity + 1, "at most at maturity"),
    ):
        with pytest.raises(InvalidInputError, match=said) as caught:
            bonds.schedule_coupon(bond, date, sender=world.issuer)
        assert caught.value.field == "record_date"
    bonds.schedule_coupon(bond, now(world) + 30 * DAY, sender=world.issuer)
    with pytest.raises(InvalidInputError, match="come in order"):
        bonds.schedule_coupon(bond, now(world) + 20 * DAY, sender=world.issuer)
    with pytest.raises(RoleMissingError):
        bonds.schedule_coupon(bond, now(world) + 40 * DAY, sender=Account.create().address)
    zero = world.bond("open", coupon_rate_bps=0, coupon_frequency=0)
    with pytest.raises(OperationRefusedError, match="zero-coupon"):
        bonds.schedule_coupon(zero, now(world) + DAY, sender=world.issuer)


def test_sweeping_a_coupon_waits_for_the_end_of_its_claim_period(world: World) -> None:
    bonds, tokens = world.registry.bonds, world.registry.tokens
    bond = world.bond("open")
    holder = Account.create().address
    tokens.mint(bond, holder, 10, sender=world.issuer)
    record = now(world) + DAY
    bonds.schedule_coupon(bond, record, sender=world.issuer)
    move_to(world, record + 1)
    funding = bonds.fund_coupon(bond, 0, sender=world.issuer)
    with pytest.raises(OperationRefusedError, match="nothing of coupon period 0"):
        bonds.sweep_coupon(bond, 0, sender=world.issuer)
    move_to(world, now(world) + 2 * YEAR + DAY)
    before = cash_of(world, world.issuer)
    bonds.sweep_coupon(bond, 0, sender=world.issuer)
    assert cash_of(world, world.issuer) - before == funding.amount  # nobody claimed


def test_a_called_bond_is_redeemed_at_the_call_price(world: World) -> None:
    bonds, tokens = world.registry.bonds, world.registry.tokens
    plain = world.bond("open")
    with pytest.raises(OperationRefusedError, match="no call option"):
        bonds.call(plain, sender=world.issuer)
    start = now(world) + 30 * DAY
    bond = world.bond("kyc", call_price=1_010 * 10**6, callable_from=start)
    (alice,) = world.onboard(1)
    tokens.mint(bond, alice.address, 20, sender=world.issuer)
    with pytest.raises(OperationRefusedError, match="may be called from"):
        bonds.call(bond, sender=world.issuer)
    with pytest.raises(OperationRefusedError, match="not funded yet"):
        bonds.redeem(bond, 1, sender=alice.address)
    move_to(world, start)
    bonds.call(bond, sender=world.issuer)
    with pytest.raises(OperationRefusedError, match="already called"):
        bonds.call(bond, sender=world.issuer)
    with pytest.raises(OperationRefusedError, match="was called"):
        bonds.schedule_coupon(bond, now(world) + DAY, sender=world.issuer)
    assert bonds.redemption_owed(bond) == 20 * 1_010 * 10**6
    funding = bonds.fund_redemption(bond, sender=world.issuer)
    assert funding.amount == 20 * 1_010 * 10**6
    with pytest.raises(OperationRefusedError, match="already funded"):
        bonds.fund_redemption(bond, sender=world.issuer)
    with pytest.raises(InvalidInputError) as caught:
        bonds.redeem(bond, 21, sender=alice.address)
    assert caught.value.field == "amount"
    before = cash_of(world, alice.address)
    bonds.redeem(bond, 20, sender=alice.address)
    assert cash_of(world, alice.address) - before == 20 * 1_010 * 10**6
    with pytest.raises(OperationRefusedError, match="nothing of the redemption"):
        bonds.sweep_redemption(bond, sender=world.issuer)


def test_redemption_at_maturity_and_a_withheld_principal(world: World) -> None:
    bonds, tokens = world.registry.bonds, world.registry.tokens
    bond = world.bond("kyc")
    alice, bob = world.onboard(2)
    tokens.mint(bond, alice.address, 5, sender=world.issuer)
    tokens.mint(bond, bob.address, 5, sender=world.issuer)
    with pytest.raises(OperationRefusedError, match="was not called"):
        bonds.fund_redemption(bond, sender=world.issuer)
    move_to(world, int(world.registry.asset(bond).terms["maturity_date"]))
    world.registry.investors.update(
        world.chain,
        world.registry.investors.investor_of(world.chain, bob.address),
        country=756,
        expiry=now(world) + 10 * YEAR,
    )
    world.registry.investors.update(
        world.chain,
        world.registry.investors.investor_of(world.chain, alice.address),
        country=756,
        expiry=now(world) + 10 * YEAR,
    )
    bonds.fund_redemption(bond, sender=world.issuer)
    tokens.set_frozen_tokens(bond, bob.address, 5, sender=world.issuer)
    with pytest.raises(PaymentWithheldError):
        bonds.redeem(bond, 5, sender=bob.address)
    bonds.redeem(bond, 5, sender=alice.address)
    # Bonds burnt after funding free their cash at once: it can be swept back.
    tokens.burn(bond, bob.address, 5, sender=world.issuer)
    before = cash_of(world, world.issuer)
    bonds.sweep_redemption(bond, sender=world.issuer)
    assert cash_of(world, world.issuer) - before == 5 * 1_000 * 10**6
