"""TokenSwap, the outsider's application of the demos: escrowed offers taken or cancelled atomically, and
a regulated token's compliance reaching through it."""

from __future__ import annotations

from web3 import Web3
from web3.contract import Contract

from .conftest import Actors
from .helpers import deploy_contract, expect_revert, tx


def _pair(w3: Web3, actors: Actors) -> tuple[Contract, Contract, Contract]:
    swap = deploy_contract(w3, "TokenSwap", sender=actors.outsider)
    first = deploy_contract(w3, "CashToken", "First", "ONE", actors.admin, sender=actors.admin)
    second = deploy_contract(w3, "CashToken", "Second", "TWO", actors.admin, sender=actors.admin)
    tx(first.functions.mint(actors.alice, 1_000), actors.admin)
    tx(second.functions.mint(actors.bob, 1_000), actors.admin)
    return swap, first, second


def test_an_offer_is_taken_in_one_transaction(w3: Web3, actors: Actors) -> None:
    swap, one, two = _pair(w3, actors)
    tx(one.functions.approve(swap.address, 100), actors.alice)
    tx(swap.functions.make(one.address, 100, two.address, 40), actors.alice)
    assert one.functions.balanceOf(swap.address).call() == 100
    tx(two.functions.approve(swap.address, 40), actors.bob)
    tx(swap.functions.take(0), actors.bob)
    assert one.functions.balanceOf(actors.bob).call() == 100
    assert two.functions.balanceOf(actors.alice).call() == 40
    assert one.functions.balanceOf(swap.address).call() == 0
    with expect_revert(swap, "TokenSwapOfferClosed", 0):
        swap.functions.take(0).call({"from": actors.bob})
    assert swap.functions.offerCount().call() == 1


def test_only_the_maker_cancels_and_gets_the_escrow_back(w3: Web3, actors: Actors) -> None:
    swap, one, two = _pair(w3, actors)
    tx(one.functions.approve(swap.address, 100), actors.alice)
    tx(swap.functions.make(one.address, 100, two.address, 40), actors.alice)
    with expect_revert(swap, "TokenSwapNotMaker", 0, actors.bob):
        swap.functions.cancel(0).call({"from": actors.bob})
    tx(swap.functions.cancel(0), actors.alice)
    assert one.functions.balanceOf(actors.alice).call() == 1_000
    assert swap.functions.offer(0).call()[5] is False
    with expect_revert(swap, "TokenSwapOfferClosed", 0):
        swap.functions.cancel(0).call({"from": actors.alice})


def test_invalid_offers_are_refused(w3: Web3, actors: Actors) -> None:
    swap, one, two = _pair(w3, actors)
    for args in (
        (one.address, 0, two.address, 1),
        (one.address, 1, two.address, 0),
        (one.address, 1, one.address, 1),
    ):
        with expect_revert(swap, "TokenSwapInvalidOffer"):
            swap.functions.make(*args).call({"from": actors.alice})


def test_a_kyc_token_refuses_the_unverified_escrow(
    w3: Web3, actors: Actors, kyc_token: Contract, registry: Contract
) -> None:
    swap, _one, two = _pair(w3, actors)
    tx(kyc_token.functions.mint(actors.alice, 10), actors.admin)
    tx(kyc_token.functions.approve(swap.address, 10), actors.alice)
    call = swap.functions.make(kyc_token.address, 10, two.address, 5)
    with expect_revert(kyc_token, "ERC7943CannotReceive", swap.address):
        call.call({"from": actors.alice})
    tx(registry.functions.registerInvestor(swap.address, 756, 0, 2**40 - 1), actors.kyc)
    tx(call, actors.alice)
    assert kyc_token.functions.balanceOf(swap.address).call() == 10
