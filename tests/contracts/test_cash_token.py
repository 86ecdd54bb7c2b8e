"""CashToken: the 6-decimal settlement stablecoin (a plain OpenZeppelin ERC-20 with a minter role)."""

from __future__ import annotations

from .helpers import ADMIN_ROLE, ZERO_ADDRESS, deploy_contract, events, expect_revert, role, tx, unauthorized

MINTER = role("MINTER_ROLE")


def test_metadata_and_roles(w3, cash, actors):
    assert cash.functions.name().call() == "Test USD"
    assert cash.functions.symbol().call() == "TUSD"
    assert cash.functions.decimals().call() == 6
    assert cash.functions.totalSupply().call() == 0
    assert cash.functions.MINTER_ROLE().call() == MINTER
    assert cash.functions.hasRole(ADMIN_ROLE, actors.admin).call()
    assert cash.functions.hasRole(MINTER, actors.admin).call()
    assert not cash.functions.hasRole(MINTER, actors.alice).call()


def test_admin_given_to_constructor_not_deployer(w3, actors):
    token = deploy_contract(w3, "CashToken", "Euro", "EURT", actors.alice, sender=actors.admin)
    assert token.functions.hasRole(MINTER, actors.alice).call()
    assert not token.functions.hasRole(MINTER, actors.admin).call()
    assert not token.functions.hasRole(ADMIN_ROLE, actors.admin).call()


def test_mint_needs_the_minter_role(cash, actors):
    receipt = tx(cash.functions.mint(actors.alice, 5_000_000), actors.admin)
    assert events(cash, receipt) == [
        ("Transfer", {"from": ZERO_ADDRESS, "to": actors.alice, "value": 5_000_000})
    ]
    assert cash.functions.balanceOf(actors.alice).call() == 5_000_000
    assert cash.functions.totalSupply().call() == 5_000_000
    with unauthorized(cash, actors.alice, "MINTER_ROLE"):
        cash.functions.mint(actors.alice, 1).transact({"from": actors.alice})
    tx(cash.functions.grantRole(MINTER, actors.bob), actors.admin)
    tx(cash.functions.mint(actors.carol, 7), actors.bob)
    assert cash.functions.balanceOf(actors.carol).call() == 7
    with unauthorized(cash, actors.bob, "DEFAULT_ADMIN_ROLE"):
        cash.functions.grantRole(MINTER, actors.carol).transact({"from": actors.bob})


def test_mint_to_zero(cash, actors):
    with expect_revert(cash, "ERC20InvalidReceiver", ZERO_ADDRESS):
        cash.functions.mint(ZERO_ADDRESS, 1).transact({"from": actors.admin})


def test_erc20_transfer_approve_transfer_from(cash, actors):
    tx(cash.functions.mint(actors.alice, 100), actors.admin)
    tx(cash.functions.transfer(actors.outsider, 30), actors.alice)  # no KYC: anyone may hold cash
    with expect_revert(cash, "ERC20InsufficientBalance", actors.alice, 70, 71):
        cash.functions.transfer(actors.bob, 71).transact({"from": actors.alice})
    with expect_revert(cash, "ERC20InvalidReceiver", ZERO_ADDRESS):
        cash.functions.transfer(ZERO_ADDRESS, 1).transact({"from": actors.alice})
    tx(cash.functions.approve(actors.bob, 50), actors.alice)
    with expect_revert(cash, "ERC20InsufficientAllowance", actors.bob, 50, 51):
        cash.functions.transferFrom(actors.alice, actors.bob, 51).transact({"from": actors.bob})
    tx(cash.functions.transferFrom(actors.alice, actors.bob, 50), actors.bob)
    assert cash.functions.allowance(actors.alice, actors.bob).call() == 0
    assert [cash.functions.balanceOf(a).call() for a in (actors.alice, actors.bob, actors.outsider)] == [
        20,
        50,
        30,
    ]
    with expect_revert(cash, "ERC20InvalidSpender", ZERO_ADDRESS):
        cash.functions.approve(ZERO_ADDRESS, 1).transact({"from": actors.alice})


def test_supports_access_control_interface(cash):
    assert cash.functions.supportsInterface(bytes.fromhex("7965db0b")).call() is True
    assert cash.functions.supportsInterface(bytes.fromhex("01ffc9a7")).call() is True
    assert cash.functions.supportsInterface(bytes.fromhex("ffffffff")).call() is False
