"""Wallet recovery: kyc mode only, within one investor, and what it redirects.

A recovery moves a lost wallet's tokens (with their freezes) to another wallet of the same investor,
and redirects to that wallet what the lost one earned for that investor at past record dates. It
does not exist in open mode (nothing there proves that two wallets have one owner), and it never
redirects what the address earns after it changed hands.
"""

from __future__ import annotations

from .helpers import (
    DAY,
    ENFORCEMENT,
    ZERO_ADDRESS,
    event_names,
    events,
    expect_revert,
    tx,
    unauthorized,
)

COUPON = 25 * 10**6  # the default bond's coupon per bond and period


# ---------------------------------------------------------------- open mode: no recovery (defect 1)


def test_open_mode_has_no_recovery_so_earned_coupons_stay_with_their_holder(
    new_bond, *, investors, issuer_cash, cash, actors, clock, bond_terms
):
    bond = new_bond(kyc=False)
    issuer_cash(bond)
    tx(bond.functions.mint(actors.alice, 10), actors.admin)
    record = bond_terms["issueDate"] + 10 * DAY
    tx(bond.functions.scheduleCouponPeriod(record), actors.admin)
    clock.travel_to(record)
    tx(bond.functions.fundCoupon(0), actors.admin)
    # The enforcement agent cannot hand alice's balance and earned coupon to any address.
    with expect_revert(bond, "RegulatedTokenRecoveryNeedsKyc"):
        bond.functions.recoverWallet(actors.alice, actors.mallory).transact({"from": actors.admin})
    # A forced transfer still moves the tokens, and no past entitlement with them.
    tx(bond.functions.forcedTransfer(actors.alice, actors.mallory, 10), actors.admin)
    with expect_revert(bond, "BondTokenNothingToClaim", 0, actors.mallory):
        bond.functions.claimCoupon(0).transact({"from": actors.mallory})
    tx(bond.functions.claimCoupon(0), actors.alice)
    assert cash.functions.balanceOf(actors.alice).call() == 10 * COUPON
    assert bond.functions.balanceOf(actors.mallory).call() == 10


def test_open_mode_recovery_is_refused_even_while_paused(open_token, funded, actors):
    funded(open_token)
    tx(open_token.functions.pause(), actors.admin)
    with expect_revert(open_token, "RegulatedTokenRecoveryNeedsKyc"):
        open_token.functions.recoverWallet(actors.bob, actors.mallory).transact({"from": actors.admin})
    assert open_token.functions.balanceOf(actors.bob).call() == 500


# ---------------------------------------------------------------- kyc mode: what moves


def test_recovery_moves_balance_freezes_and_flag_and_freezes_the_lost_wallet(
    kyc_token, funded, registry, actors
):
    funded(kyc_token)
    tx(registry.functions.addWallet(1, actors.outsider), actors.kyc)
    tx(kyc_token.functions.setFrozenTokens(actors.alice, 300), actors.admin)
    tx(kyc_token.functions.setFrozenTokens(actors.outsider, 5), actors.admin)
    tx(kyc_token.functions.freezeAccount(actors.alice), actors.admin)
    receipt = tx(kyc_token.functions.recoverWallet(actors.alice, actors.outsider), actors.admin)
    assert events(kyc_token, receipt) == [
        ("Frozen", {"account": actors.alice, "amount": 0}),
        ("Transfer", {"from": actors.alice, "to": actors.outsider, "value": 1_000}),
        ("Frozen", {"account": actors.outsider, "amount": 305}),
        ("AccountFrozen", {"account": actors.outsider}),
        (
            "WalletRecovered",
            {"lost": actors.alice, "replacement": actors.outsider, "investorId": 1, "amount": 1_000},
        ),
    ]
    assert kyc_token.functions.balanceOf(actors.alice).call() == 0
    assert kyc_token.functions.balanceOf(actors.outsider).call() == 1_000
    assert kyc_token.functions.getFrozenTokens(actors.alice).call() == 0
    assert kyc_token.functions.getFrozenTokens(actors.outsider).call() == 305
    # The freeze followed the tokens, and the lost wallet stays frozen: nobody holds its key.
    assert kyc_token.functions.isAccountFrozen(actors.alice).call() is True
    assert kyc_token.functions.isAccountFrozen(actors.outsider).call() is True
    assert kyc_token.functions.recoveredWallet(actors.alice, 1).call() == actors.outsider
    assert kyc_token.functions.recoveredWallet(actors.alice, 2).call() == ZERO_ADDRESS
    assert kyc_token.functions.recoveredWallet(actors.outsider, 1).call() == ZERO_ADDRESS
    # One investor before and after: its total and the investor count do not move.
    assert kyc_token.functions.investorBalance(1).call() == 1_000
    assert kyc_token.functions.holdingInvestorOf(actors.outsider).call() == 1
    assert kyc_token.functions.totalSupply().call() == 1_500
    assert kyc_token.functions.complianceRules().call()[2] == 2


def test_recovery_without_freezes_freezes_only_the_lost_wallet(kyc_token, funded, registry, actors):
    funded(kyc_token)
    tx(registry.functions.addWallet(2, actors.outsider), actors.kyc)
    receipt = tx(kyc_token.functions.recoverWallet(actors.bob, actors.outsider), actors.admin)
    assert event_names(kyc_token, receipt) == ["Transfer", "AccountFrozen", "WalletRecovered"]
    assert events(kyc_token, receipt)[1] == ("AccountFrozen", {"account": actors.bob})
    assert kyc_token.functions.canSend(actors.bob).call() is False
    assert kyc_token.functions.canSend(actors.outsider).call() is True
    # Tokens can no longer be sent to the lost wallet by mistake.
    with expect_revert(kyc_token, "ERC7943CannotReceive", actors.bob):
        kyc_token.functions.transfer(actors.bob, 1).transact({"from": actors.alice})
    tx(kyc_token.functions.transfer(actors.carol, 500), actors.outsider)


def test_recovery_errors(kyc_token, funded, registry, actors):
    funded(kyc_token)
    tx(registry.functions.addWallet(1, actors.outsider), actors.kyc)
    bad_pairs = [
        (ZERO_ADDRESS, actors.outsider),
        (actors.alice, ZERO_ADDRESS),
        (actors.alice, actors.alice),
        (actors.alice, actors.bob),  # another investor
        (actors.alice, actors.mallory),  # unregistered replacement
        (actors.mallory, actors.alice),  # unregistered lost wallet that never held tokens
    ]
    for lost, replacement in bad_pairs:
        with expect_revert(kyc_token, "RegulatedTokenInvalidRecovery", lost, replacement):
            kyc_token.functions.recoverWallet(lost, replacement).transact({"from": actors.admin})
    with unauthorized(kyc_token, actors.carol, ENFORCEMENT):
        kyc_token.functions.recoverWallet(actors.alice, actors.outsider).transact({"from": actors.carol})


def test_recovery_into_a_wallet_that_may_not_receive_is_refused(kyc_token, funded, registry, actors):
    # Like a forced transfer, a recovery never leaves tokens on a wallet that may not hold them:
    # here the investor was revoked, so none of its wallets is verified any more.
    funded(kyc_token)
    tx(registry.functions.addWallet(1, actors.outsider), actors.kyc)
    tx(registry.functions.revokeInvestor(1), actors.kyc)
    with expect_revert(kyc_token, "ERC7943CannotReceive", actors.outsider):
        kyc_token.functions.recoverWallet(actors.alice, actors.outsider).transact({"from": actors.admin})
    assert kyc_token.functions.balanceOf(actors.outsider).call() == 0


def test_recovery_into_a_recovered_wallet_is_refused_but_chains_are_allowed(
    kyc_token, funded, registry, actors
):
    funded(kyc_token)
    for wallet in (actors.outsider, actors.mallory):
        tx(registry.functions.addWallet(1, wallet), actors.kyc)
    tx(kyc_token.functions.recoverWallet(actors.alice, actors.outsider), actors.admin)
    # Recovering the same wallet again, or into the wallet already recovered, is refused.
    for lost, replacement in ((actors.alice, actors.mallory), (actors.mallory, actors.alice)):
        with expect_revert(kyc_token, "RegulatedTokenInvalidRecovery", lost, replacement):
            kyc_token.functions.recoverWallet(lost, replacement).transact({"from": actors.admin})
    tx(kyc_token.functions.recoverWallet(actors.outsider, actors.mallory), actors.admin)
    assert kyc_token.functions.balanceOf(actors.mallory).call() == 1_000
    assert kyc_token.functions.recoveredWallet(actors.outsider, 1).call() == actors.mallory
    # The end of a chain may not point back into it.
    with expect_revert(kyc_token, "RegulatedTokenInvalidRecovery", actors.mallory, actors.outsider):
        kyc_token.functions.recoverWallet(actors.mallory, actors.outsider).transact({"from": actors.admin})


def test_a_wallet_already_unlinked_by_the_registry_can_be_recovered(kyc_token, funded, registry, actors):
    # The usual order when an owner reports a loss: the KYC provider unlinks the lost wallet and
    # links a new one, then the agent recovers. The tokens say whose they are.
    funded(kyc_token)
    tx(registry.functions.removeWallet(actors.alice), actors.kyc)
    tx(registry.functions.addWallet(1, actors.outsider), actors.kyc)
    assert kyc_token.functions.holdingInvestorOf(actors.alice).call() == 1
    receipt = tx(kyc_token.functions.recoverWallet(actors.alice, actors.outsider), actors.admin)
    assert events(kyc_token, receipt)[-1][1]["investorId"] == 1
    assert kyc_token.functions.balanceOf(actors.outsider).call() == 1_000
    assert kyc_token.functions.investorBalance(1).call() == 1_000
    # Once empty, the unlinked wallet holds nothing for anyone.
    assert kyc_token.functions.holdingInvestorOf(actors.alice).call() == 0


# ---------------------------------------------------------------- entitlements follow, within one investor


def test_claims_of_a_recovered_wallet_go_to_the_end_of_its_chain(
    issued, *, period, cash, issuer_cash, registry, actors, clock
):
    issuer_cash(issued)
    tx(registry.functions.addWallet(1, actors.outsider), actors.kyc)
    tx(registry.functions.addWallet(1, actors.mallory), actors.kyc)
    clock.travel_to(period)
    tx(issued.functions.recoverWallet(actors.alice, actors.outsider), actors.admin)
    tx(issued.functions.recoverWallet(actors.outsider, actors.mallory), actors.admin)
    tx(issued.functions.fundCoupon(0), actors.admin)
    # The wallet that will be paid may claim on alice's behalf.
    receipt = tx(issued.functions.claimCouponFor(0, actors.alice), actors.mallory)
    assert events(issued, receipt) == [
        (
            "CouponClaimed",
            {"periodId": 0, "holder": actors.alice, "payee": actors.mallory, "amount": 10 * COUPON},
        )
    ]
    assert cash.functions.balanceOf(actors.mallory).call() == 10 * COUPON
    assert cash.functions.balanceOf(actors.alice).call() == 0
    # The replacements held nothing at the record date: nothing more is due for alice's investor.
    with expect_revert(issued, "BondTokenNothingToClaim", 0, actors.mallory):
        issued.functions.claimCoupon(0).transact({"from": actors.mallory})


def test_whoever_holds_the_lost_key_can_only_claim_into_the_replacement(
    issued, *, period, cash, issuer_cash, registry, actors, clock
):
    # A stolen key, not a lost one: the thief signs as alice, but the coupon goes to the replacement.
    issuer_cash(issued)
    tx(registry.functions.addWallet(1, actors.outsider), actors.kyc)
    clock.travel_to(period)
    tx(issued.functions.recoverWallet(actors.alice, actors.outsider), actors.admin)
    tx(issued.functions.fundCoupon(0), actors.admin)
    tx(issued.functions.claimCoupon(0), actors.alice)
    assert cash.functions.balanceOf(actors.outsider).call() == 10 * COUPON
    assert cash.functions.balanceOf(actors.alice).call() == 0


def test_a_recovery_does_not_redirect_what_the_address_earns_after_it_changed_hands(
    issued, *, cash, issuer_cash, registry, actors, clock, bond_terms, kyc_expiry
):
    issuer_cash(issued)
    lost, replacement = actors.outsider, actors.mallory
    for wallet in (lost, replacement):
        tx(registry.functions.addWallet(1, wallet), actors.kyc)
    tx(issued.functions.transfer(lost, 10), actors.alice)  # alice's investor keeps its bonds in `lost`
    first = bond_terms["issueDate"] + 100 * DAY
    second = bond_terms["issueDate"] + 200 * DAY
    tx(issued.functions.scheduleCouponPeriod(first), actors.admin)
    tx(issued.functions.scheduleCouponPeriod(second), actors.admin)
    clock.travel_to(first)
    # Alice reports `lost` lost; the agent recovers it and the KYC provider unlinks it.
    tx(issued.functions.recoverWallet(lost, replacement), actors.admin)
    tx(registry.functions.removeWallet(lost), actors.kyc)
    # Later the address is registered to another investor, who buys bonds with it.
    tx(registry.functions.registerInvestor(lost, 250, 1, kyc_expiry), actors.kyc)
    tx(issued.functions.unfreezeAccount(lost), actors.admin)
    tx(issued.functions.transfer(lost, 30), actors.bob)
    clock.travel_to(second)
    tx(issued.functions.fundCoupon(0), actors.admin)
    tx(issued.functions.fundCoupon(1), actors.admin)
    # What the address earned for alice's investor goes to alice's replacement...
    tx(issued.functions.claimCouponFor(0, lost), replacement)
    assert cash.functions.balanceOf(replacement).call() == 10 * COUPON
    # ... what it earns for its new owner is its new owner's.
    receipt = tx(issued.functions.claimCoupon(1), lost)
    assert events(issued, receipt)[0][1]["payee"] == lost
    assert cash.functions.balanceOf(lost).call() == 30 * COUPON
    assert cash.functions.balanceOf(replacement).call() == 10 * COUPON


def test_stock_recovery_moves_the_fraction_and_reports_shares(stock, registry, actors):
    # The administration module converts units through the token: a split scale shows in its events.
    scale = stock.functions.INITIAL_RAW_UNITS_PER_SHARE().call()
    tx(registry.functions.addWallet(1, actors.outsider), actors.kyc)
    tx(stock.functions.split(1, 10), actors.admin)
    receipt = tx(stock.functions.recoverWallet(actors.alice, actors.outsider), actors.admin)
    assert events(stock, receipt)[-1] == (
        "WalletRecovered",
        {"lost": actors.alice, "replacement": actors.outsider, "investorId": 1, "amount": 1},
    )
    assert stock.functions.rawBalanceOf(actors.outsider).call() == 15 * scale
    assert stock.functions.rawBalanceOf(actors.alice).call() == 0
