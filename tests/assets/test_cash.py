"""Cash tokens through the services: issuance, the minter role, transfers, approvals."""

from __future__ import annotations

import pytest
from eth_account import Account

from registry.errors import InvalidInputError, OperationRefusedError, RoleMissingError
from tests.registry_fixtures import USD, World


def test_cash_is_minted_by_its_issuer_and_moves_like_any_erc20(world: World) -> None:
    cash = world.registry.cash
    holder = Account.create()
    world.hold(holder)
    world.fund(holder.address)
    cash.mint(world.cash, holder.address, 5 * USD, sender=world.issuer)
    with pytest.raises(RoleMissingError) as caught:
        cash.mint(world.cash, holder.address, 1, sender=holder.address)
    assert caught.value.role == "minter"
    with pytest.raises(OperationRefusedError, match="fewer than"):
        cash.transfer(world.cash, world.issuer, 6 * USD, sender=holder.address)
    cash.transfer(world.cash, world.issuer, 2 * USD, sender=holder.address)
    cash.approve(world.cash, world.issuer, USD, sender=holder.address)
    assert cash.balance_of(world.cash, holder.address) == 3 * USD
    token = world.registry.context.token(world.registry.asset(world.cash))
    assert token.functions.allowance(holder.address, world.issuer).call() == USD
    assert token.functions.decimals().call() == 6


def test_cash_operations_refuse_other_assets(world: World) -> None:
    bond = world.bond("open")
    with pytest.raises(InvalidInputError) as caught:
        world.registry.cash.mint(bond, world.issuer, 1, sender=world.issuer)
    assert caught.value.field == "asset_id" and "is a bond" in str(caught.value)
