"""Stocks through the services: dividends (declared and paid in, claimed, withheld, swept) and splits."""

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


def test_a_dividend_from_declaration_to_sweep(world: World) -> None:
    stocks, tokens, cash = world.registry.stocks, world.registry.tokens, world.registry.cash
    stock = world.stock("kyc")
    alice, bob = world.onboard(2)
    tokens.mint(stock, alice.address, 300, sender=world.issuer)
    tokens.mint(stock, bob.address, 100, sender=world.issuer)
    record = now(world) + 5 * DAY
    with pytest.raises(OperationRefusedError, match="prepare_approve"):
        stocks.prepare_declare_dividend(stock, record, 4_000, sender=world.issuer)
    declared = stocks.declare_dividend(stock, record, 4_000, sender=world.issuer)
    assert (declared.dividend_id, declared.funding.amount) == (0, 4_000)
    assert declared.funding.approval is not None
    with pytest.raises(OperationRefusedError, match="StockTokenRecordDateNotReached"):
        stocks.claim_dividend(stock, 0, sender=alice.address)
    advance_to(world.registry.chain(world.chain).w3, record + 1)
    before = cash.balance_of(world.cash, alice.address)
    stocks.claim_dividend(stock, 0, sender=alice.address)
    assert cash.balance_of(world.cash, alice.address) - before == 3_000
    tokens.freeze_account(stock, bob.address, sender=world.issuer)
    with pytest.raises(PaymentWithheldError) as caught:
        stocks.claim_dividend(stock, 0, sender=bob.address)
    assert caught.value.violation.rule == Rule.SENDER_FROZEN
    with pytest.raises(OperationRefusedError, match="nothing of dividend 0"):
        stocks.sweep_dividend(stock, 0, sender=world.issuer)
    advance_to(world.registry.chain(world.chain).w3, record + YEAR + DAY)
    before = cash.balance_of(world.cash, world.issuer)
    stocks.sweep_dividend(stock, 0, sender=world.issuer)
    assert cash.balance_of(world.cash, world.issuer) - before == 1_000  # bob's part, withheld to the end
    with pytest.raises(InvalidInputError) as bad:
        stocks.claim_dividend(stock, 3, sender=alice.address)
    assert bad.value.field == "dividend_id"


def test_dividend_refusals_before_sending(world: World) -> None:
    stocks = world.registry.stocks
    stock = world.stock("open")
    for record, amount, field in ((now(world) - DAY, 10, "record_date"), (now(world) + DAY, 0, "amount")):
        with pytest.raises(InvalidInputError) as caught:
            stocks.declare_dividend(stock, record, amount, sender=world.issuer)
        assert caught.value.field == field
    with pytest.raises(RoleMissingError):
        stocks.declare_dividend(stock, now(world) + DAY, 10, sender=Account.create().address)
    poor = Account.create()
    world.registry.tokens.grant_role(stock, "supply", poor.address, sender=world.issuer)
    with pytest.raises(OperationRefusedError, match="holds 0 units of the cash token"):
        stocks.declare_dividend(stock, now(world) + DAY, 10, sender=poor.address)
    stocks.declare_dividend(stock, now(world) + 10 * DAY, 10, sender=world.issuer)
    with pytest.raises(InvalidInputError, match="come in order"):
        stocks.declare_dividend(stock, now(world) + 5 * DAY, 10, sender=world.issuer)


def test_splits_exact_or_refused(world: World) -> None:
    stocks, tokens = world.registry.stocks, world.registry.tokens
    stock = world.stock("open")
    holder = Account.create().address
    tokens.mint(stock, holder, 10, sender=world.issuer)
    stocks.split(stock, 3, 1, sender=world.issuer)
    assert tokens.balance_of(stock, holder) == 30
    with pytest.raises(InvalidInputError) as caught:
        stocks.split(stock, 17, 1, sender=world.issuer)  # the scale has no factor 17
    assert caught.value.field == "numerator" and "exactly" in str(caught.value)
    with pytest.raises(InvalidInputError) as caught:
        stocks.split(stock, 2, 2, sender=world.issuer)
    assert caught.value.field == "denominator"
    stocks.split(stock, 1, 10, sender=world.issuer)
    assert tokens.balance_of(stock, holder) == 3
    with pytest.raises(RoleMissingError):
        stocks.split(stock, 2, 1, sender=holder)
