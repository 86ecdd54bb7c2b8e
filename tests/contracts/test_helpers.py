"""The suite's own tools must fail when they should: a lenient revert check would hide bugs."""

from __future__ import annotations

import pytest
from web3 import Web3

from .helpers import ANY, FRANCE, ZERO_ADDRESS, expect_revert, interface_id, tx


def test_expect_revert_accepts_the_exact_error(registry, actors, kyc_expiry):
    with expect_revert(registry, "IdentityRegistryInvalidCountry", 0) as caught:
        registry.functions.registerInvestor(actors.alice, 0, 0, kyc_expiry).transact({"from": actors.kyc})
    assert caught.name == "IdentityRegistryInvalidCountry"
    assert caught.args == (0,)
    assert caught.data[:4] == bytes(Web3.keccak(text="IdentityRegistryInvalidCountry(uint16)"))[:4]


def test_expect_revert_rejects_another_error(registry, actors, kyc_expiry):
    with (
        pytest.raises(AssertionError, match="expected IdentityRegistryInvalidExpiry"),
        expect_revert(registry, "IdentityRegistryInvalidExpiry", 0),
    ):
        registry.functions.registerInvestor(actors.alice, 0, 0, kyc_expiry).call({"from": actors.kyc})


def test_expect_revert_rejects_other_arguments(registry, actors, kyc_expiry):
    with (
        pytest.raises(AssertionError, match="expected arguments"),
        expect_revert(registry, "IdentityRegistryInvalidCountry", 1),
    ):
        registry.functions.registerInvestor(actors.alice, 0, 0, kyc_expiry).call({"from": actors.kyc})
    with (
        pytest.raises(AssertionError, match="expected arguments"),
        expect_revert(registry, "IdentityRegistryInvalidWallet", actors.alice),
    ):
        registry.functions.registerInvestor(ZERO_ADDRESS, FRANCE, 0, kyc_expiry).call({"from": actors.kyc})


def test_expect_revert_rejects_a_wrong_number_of_arguments(registry, actors, kyc_expiry):
    with (
        pytest.raises(AssertionError, match="does not take arguments"),
        expect_revert(registry, "IdentityRegistryInvalidCountry"),
    ):
        registry.functions.registerInvestor(actors.alice, 0, 0, kyc_expiry).call({"from": actors.kyc})


def test_expect_revert_any_matches_one_argument(registry, investors, actors, kyc_expiry):
    with expect_revert(registry, "IdentityRegistryWalletAlreadyRegistered", actors.alice, ANY):
        registry.functions.registerInvestor(actors.alice, FRANCE, 0, kyc_expiry).call({"from": actors.kyc})


def test_expect_revert_fails_when_nothing_reverts(registry, actors, kyc_expiry):
    with (
        pytest.raises(pytest.fail.Exception, match="did not revert"),
        expect_revert(registry, "IdentityRegistryInvalidCountry", 0),
    ):
        tx(registry.functions.registerInvestor(actors.alice, FRANCE, 0, kyc_expiry), actors.kyc)


def test_expect_revert_lets_other_exceptions_through(registry):
    with pytest.raises(ZeroDivisionError), expect_revert(registry, "IdentityRegistryInvalidCountry", 0):
        _ = 1 // 0


def test_clock_moves_views_to_the_exact_time(clock, registry, actors):
    start = clock.now()
    clock.travel_to(start + 1000)
    assert clock.now() == start + 1000
    assert clock.advance(50) == start + 1050
    # A view call runs at the latest block's time: an expiry equal to it is already past.
    with expect_revert(registry, "IdentityRegistryInvalidExpiry", start + 1050):
        registry.functions.registerInvestor(actors.alice, FRANCE, 0, start + 1050).call({"from": actors.kyc})


def test_interface_id_of_erc165_itself():
    assert interface_id(["supportsInterface(bytes4)"]) == bytes.fromhex("01ffc9a7")
