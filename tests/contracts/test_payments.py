"""One payment policy for coupons, dividends and principal.

- Nothing is paid while the token is paused; the entitlement stays and is paid after.
- A payment is withheld (``RegulatedTokenPaymentWithheld(payee, rule)``) while the wallet to be paid
  could not send the token: account frozen (4), every token frozen (6), not verified (2: unknown
  wallet, KYC expired, investor revoked), or no longer registered to the investor that earned it
  (13). Once cleared, it is paid.
- On behalf of a holder only the wallet to be paid or the paying agent (SUPPLY_ROLE) may claim:
  nobody else can push cash into a wallet, in particular one whose owner reported it lost.
- Principal follows the same rules: a holder that may not send its bonds cannot redeem them.
"""

from __future__ import annotations

import pytest

from .helpers import CASH_UNIT, DAY, YEAR, events, expect_revert, role, tx

COUPON = 25 * CASH_UNIT  # the default bond's coupon per bond and period


@pytest.fixture
def funded_period(issued, period, issuer_cash, actors, clock):
    """``issued`` with coupon period 0 funded (alice 10, bob 30, carol 60 at the record date)."""
    issuer_cash(issued)
    clock.travel_to(period)
    tx(issued.functions.fundCoupon(0), actors.admin)
    return issued


@pytest.fixture
def second_wallet_coupon(issued, *, issuer_cash, registry, actors, clock, bond_terms):
    """``outsider``, a second wallet of alice's investor, held 10 of alice's bonds at the record date
    of coupon period 0 of ``issued``, now funded; returns that wallet."""
    wallet = actors.outsider
    tx(registry.functions.addWallet(1, wallet), actors.kyc)
    tx(issued.functions.transfer(wallet, 10), actors.alice)
    record = bond_terms["issueDate"] + 10 * DAY
    tx(issued.functions.scheduleCouponPeriod(record), actors.admin)
    issuer_cash(issued)
    clock.travel_to(record)
    tx(issued.functions.fundCoupon(0), actors.admin)
    return wallet


def block_and_clear(cause, token, *, registry, actors, clock):
    """Make alice's wallet unable to send for ``cause``; return (rule code, a function clearing it)."""
    if cause == "account frozen":
        tx(token.functions.freezeAccount(actors.alice), actors.admin)
        return 4, lambda: tx(token.functions.unfreezeAccount(actors.alice), actors.admin)
    if cause == "every token frozen":
        balance = token.functions.balanceOf(actors.alice).call()
        tx(token.functions.setFrozenTokens(actors.alice, balance), actors.admin)
        return 6, lambda: tx(token.functions.setFrozenTokens(actors.alice, 0), actors.admin)
    if cause == "KYC expired":
        soon = clock.now() + DAY
        tx(registry.functions.updateInvestor(1, 250, 1, soon), actors.kyc)
        clock.travel_to(soon)
        return 2, lambda: tx(registry.functions.updateInvestor(1, 250, 1, clock.now() + YEAR), actors.kyc)
    raise AssertionError(cause)


CAUSES = ["account frozen", "every token frozen", "KYC expired"]


# ---------------------------------------------------------------- withheld, then paid (defect 3)


@pytest.mark.parametrize("cause", CAUSES)
def test_a_coupon_is_withheld_while_the_holder_could_not_send_and_paid_once_cleared(
    funded_period, *, cash, registry, actors, clock, cause
):
    bond = funded_period
    rule, clear = block_and_clear(cause, bond, registry=registry, actors=actors, clock=clock)
    with expect_revert(bond, "RegulatedTokenPaymentWithheld", actors.alice, rule):
        bond.functions.claimCoupon(0).transact({"from": actors.alice})
    # Nobody can trigger the payment instead: not a third party, not even the paying agent.
    with expect_revert(bond, "RegulatedTokenPaymentWithheld", actors.alice, rule):
        bond.functions.claimCouponFor(0, actors.alice).transact({"from": actors.admin})
    # The entitlement stays recorded.
    assert bond.functions.claimableCoupon(0, actors.alice).call() == 10 * COUPON
    assert cash.functions.balanceOf(actors.alice).call() == 0
    clear()
    tx(bond.functions.claimCoupon(0), actors.alice)
    assert cash.functions.balanceOf(actors.alice).call() == 10 * COUPON


@pytest.mark.parametrize("cause", CAUSES)
def test_a_dividend_is_withheld_while_the_holder_could_not_send_and_paid_once_cleared(
    stock, *, issuer_cash, cash, registry, actors, clock, cause
):
    issuer_cash(stock)
    record = clock.now() + DAY
    tx(stock.functions.declareDividend(record, 3_000 * CASH_UNIT), actors.admin)
    clock.travel_to(record)
    rule, clear = block_and_clear(cause, stock, registry=registry, actors=actors, clock=clock)
    with expect_revert(stock, "RegulatedTokenPaymentWithheld", actors.alice, rule):
        stock.functions.claimDividend(0).transact({"from": actors.alice})
    with expect_revert(stock, "RegulatedTokenPaymentWithheld", actors.alice, rule):
        stock.functions.claimDividendFor(0, actors.alice).transact({"from": actors.admin})
    assert stock.functions.claimableDividend(0, actors.alice).call() == 1_500 * CASH_UNIT
    clear()
    tx(stock.functions.claimDividend(0), actors.alice)
    assert cash.functions.balanceOf(actors.alice).call() == 1_500 * CASH_UNIT


def test_a_revoked_investor_is_never_paid_and_its_coupon_stays_owed(funded_period, cash, registry, actors):
    bond = funded_period
    tx(registry.functions.revokeInvestor(3), actors.kyc)
    with expect_revert(bond, "RegulatedTokenPaymentWithheld", actors.carol, 2):
        bond.functions.claimCoupon(0).transact({"from": actors.carol})
    assert bond.functions.claimableCoupon(0, actors.carol).call() == 60 * COUPON
    assert bond.functions.couponPeriod(0).call()[4] == 100 * COUPON
    # The others are paid as usual.
    tx(bond.functions.claimCoupon(0), actors.bob)
    assert cash.functions.balanceOf(actors.bob).call() == 30 * COUPON


def test_partly_frozen_tokens_do_not_hold_back_the_coupon(funded_period, cash, actors):
    # A holder that can still send some of its tokens is paid in full.
    bond = funded_period
    tx(bond.functions.setFrozenTokens(actors.bob, 29), actors.admin)
    tx(bond.functions.claimCoupon(0), actors.bob)
    assert cash.functions.balanceOf(actors.bob).call() == 30 * COUPON


def test_a_payment_to_a_wallet_the_registry_gave_to_another_investor_is_withheld(
    issued, *, second_wallet_coupon, cash, registry, actors
):
    # A second wallet of alice earns a coupon, then the registry links it to erin: that coupon is
    # alice's, not erin's, so it is withheld until the agent recovers the wallet for alice.
    wallet = second_wallet_coupon
    tx(registry.functions.removeWallet(wallet), actors.kyc)
    tx(registry.functions.addWallet(5, wallet), actors.kyc)
    with expect_revert(issued, "RegulatedTokenPaymentWithheld", wallet, 13):
        issued.functions.claimCoupon(0).transact({"from": wallet})
    # Emptied by the agent, the wallet still may not collect alice's coupon for erin.
    tx(issued.functions.forcedTransfer(wallet, actors.alice, 10), actors.admin)
    with expect_revert(issued, "RegulatedTokenPaymentWithheld", wallet, 13):
        issued.functions.claimCoupon(0).transact({"from": wallet})
    # Recovered for alice's investor, the coupon goes to alice.
    tx(issued.functions.recoverWallet(wallet, actors.alice), actors.admin)
    tx(issued.functions.claimCouponFor(0, wallet), actors.alice)
    assert cash.functions.balanceOf(actors.alice).call() == 10 * COUPON
    assert cash.functions.balanceOf(wallet).call() == 0


# ---------------------------------------------------------------- pause


def test_claims_and_redemptions_wait_while_paused(
    issued, *, period, cash, issuer_cash, actors, clock, bond_terms
):
    issuer_cash(issued)
    clock.travel_to(bond_terms["maturityDate"])
    tx(issued.functions.pause(), actors.admin)
    # The issuer may still pay in while paused; nothing is paid out.
    tx(issued.functions.fundCoupon(0), actors.admin)
    tx(issued.functions.fundRedemption(), actors.admin)
    for call in (
        lambda: issued.functions.claimCoupon(0).transact({"from": actors.alice}),
        lambda: issued.functions.claimCouponFor(0, actors.alice).transact({"from": actors.admin}),
        lambda: issued.functions.redeem(1).transact({"from": actors.alice}),
    ):
        with expect_revert(issued, "EnforcedPause"):
            call()
    tx(issued.functions.unpause(), actors.admin)
    tx(issued.functions.claimCoupon(0), actors.alice)
    tx(issued.functions.redeem(10), actors.alice)
    principal = 10 * issued.functions.denomination().call()
    assert cash.functions.balanceOf(actors.alice).call() == 10 * COUPON + principal


def test_dividend_claims_wait_while_paused(stock, issuer_cash, cash, actors, clock):
    issuer_cash(stock)
    record = clock.now() + DAY
    tx(stock.functions.declareDividend(record, 300), actors.admin)
    clock.travel_to(record)
    tx(stock.functions.pause(), actors.admin)
    with expect_revert(stock, "EnforcedPause"):
        stock.functions.claimDividend(0).transact({"from": actors.bob})
    tx(stock.functions.unpause(), actors.admin)
    tx(stock.functions.claimDividend(0), actors.bob)
    assert cash.functions.balanceOf(actors.bob).call() == 100


# ---------------------------------------------------------------- who may claim on behalf (defect 4)


def test_only_the_wallet_paid_or_the_paying_agent_may_claim_on_behalf(funded_period, cash, actors):
    bond = funded_period
    with expect_revert(bond, "RegulatedTokenClaimNotAllowed", actors.mallory, actors.bob):
        bond.functions.claimCouponFor(0, actors.bob).transact({"from": actors.mallory})
    # Another holder has no more right to push bob's coupon than a stranger.
    with expect_revert(bond, "RegulatedTokenClaimNotAllowed", actors.carol, actors.bob):
        bond.functions.claimCouponFor(0, actors.bob).transact({"from": actors.carol})
    # The paying agent pushes: the cash goes to bob, never to the caller.
    receipt = tx(bond.functions.claimCouponFor(0, actors.bob), actors.admin)
    assert events(bond, receipt)[0][1]["payee"] == actors.bob
    assert cash.functions.balanceOf(actors.bob).call() == 30 * COUPON
    # A holder may claim for itself through either function.
    tx(bond.functions.claimCouponFor(0, actors.carol), actors.carol)
    assert cash.functions.balanceOf(actors.carol).call() == 60 * COUPON
    # A paying agent that is not the issuer: the supply role is what counts.
    tx(bond.functions.grantRole(role("SUPPLY_ROLE"), actors.agent), actors.admin)
    tx(bond.functions.claimCouponFor(0, actors.alice), actors.agent)
    assert cash.functions.balanceOf(actors.alice).call() == 10 * COUPON
    assert cash.functions.balanceOf(actors.agent).call() == 0


def test_only_the_wallet_paid_or_the_paying_agent_may_claim_a_dividend_on_behalf(
    stock, issuer_cash, cash, actors, clock
):
    issuer_cash(stock)
    record = clock.now() + DAY
    tx(stock.functions.declareDividend(record, 300), actors.admin)
    clock.travel_to(record)
    with expect_revert(stock, "RegulatedTokenClaimNotAllowed", actors.mallory, actors.bob):
        stock.functions.claimDividendFor(0, actors.bob).transact({"from": actors.mallory})
    tx(stock.functions.claimDividendFor(0, actors.bob), actors.admin)
    assert cash.functions.balanceOf(actors.bob).call() == 100


def test_nobody_can_push_a_coupon_into_a_wallet_reported_lost(
    issued, *, second_wallet_coupon, cash, registry, actors
):
    lost = second_wallet_coupon
    # A stranger cannot push the coupon into the wallet, reported lost or not.
    with expect_revert(issued, "RegulatedTokenClaimNotAllowed", actors.mallory, lost):
        issued.functions.claimCouponFor(0, lost).transact({"from": actors.mallory})
    # Alice reports the loss: the agent freezes the wallet (or the KYC provider unlinks it). From then
    # on not even the paying agent can pay into it.
    tx(issued.functions.freezeAccount(lost), actors.admin)
    with expect_revert(issued, "RegulatedTokenPaymentWithheld", lost, 4):
        issued.functions.claimCouponFor(0, lost).transact({"from": actors.admin})
    tx(registry.functions.removeWallet(lost), actors.kyc)
    with expect_revert(issued, "RegulatedTokenPaymentWithheld", lost, 2):
        issued.functions.claimCouponFor(0, lost).transact({"from": actors.admin})
    assert cash.functions.balanceOf(lost).call() == 0
    # Recovered, the coupon is paid to the replacement, which may claim it itself. A freeze follows the
    # tokens on recovery (a recovery never lifts a freeze): the agent lifts this one, made for the loss.
    tx(registry.functions.addWallet(1, actors.mallory), actors.kyc)
    tx(issued.functions.recoverWallet(lost, actors.mallory), actors.admin)
    assert issued.functions.isAccountFrozen(actors.mallory).call() is True
    tx(issued.functions.unfreezeAccount(actors.mallory), actors.admin)
    tx(issued.functions.claimCouponFor(0, lost), actors.mallory)
    assert cash.functions.balanceOf(actors.mallory).call() == 10 * COUPON
    assert cash.functions.balanceOf(lost).call() == 0


# ---------------------------------------------------------------- principal, same policy (defect 8)


@pytest.fixture
def at_maturity(issued, *, period, issuer_cash, actors, clock, bond_terms):
    """``issued`` at maturity with coupon 0 and the redemption funded."""
    issuer_cash(issued)
    clock.travel_to(bond_terms["maturityDate"])
    tx(issued.functions.fundCoupon(0), actors.admin)
    tx(issued.functions.fundRedemption(), actors.admin)
    return issued


def test_a_lapsed_kyc_holds_back_coupon_and_principal_alike_until_renewed(
    at_maturity, cash, registry, actors, clock
):
    bond = at_maturity
    expiry = clock.now() + DAY
    tx(registry.functions.updateInvestor(1, 250, 1, expiry), actors.kyc)
    clock.travel_to(expiry)
    with expect_revert(bond, "RegulatedTokenPaymentWithheld", actors.alice, 2):
        bond.functions.claimCoupon(0).transact({"from": actors.alice})
    with expect_revert(bond, "ERC7943CannotSend", actors.alice):
        bond.functions.redeem(10).transact({"from": actors.alice})
    tx(registry.functions.updateInvestor(1, 250, 1, clock.now() + YEAR), actors.kyc)
    tx(bond.functions.claimCoupon(0), actors.alice)
    tx(bond.functions.redeem(10), actors.alice)
    principal = 10 * bond.functions.denomination().call()
    assert cash.functions.balanceOf(actors.alice).call() == 10 * COUPON + principal


def test_a_frozen_holder_gets_neither_coupon_nor_principal_until_unfrozen(at_maturity, cash, actors):
    bond = at_maturity
    tx(bond.functions.freezeAccount(actors.bob), actors.admin)
    with expect_revert(bond, "RegulatedTokenPaymentWithheld", actors.bob, 4):
        bond.functions.claimCoupon(0).transact({"from": actors.bob})
    with expect_revert(bond, "ERC7943CannotSend", actors.bob):
        bond.functions.redeem(30).transact({"from": actors.bob})
    tx(bond.functions.unfreezeAccount(actors.bob), actors.admin)
    tx(bond.functions.claimCoupon(0), actors.bob)
    tx(bond.functions.redeem(30), actors.bob)
    principal = 30 * bond.functions.denomination().call()
    assert cash.functions.balanceOf(actors.bob).call() == 30 * COUPON + principal


def test_a_revoked_holders_position_is_settled_by_the_agent_and_its_coupon_stays_owed(
    at_maturity, cash, registry, actors, kyc_expiry
):
    # Revocation is final in the registry. The principal stays owed; the enforcement agent moves the
    # bonds to the wallet a competent decision designates (here a new, verified investor), which then
    # redeems. The coupon earned by the revoked wallet is not moved by that: it stays owed to it.
    bond = at_maturity
    tx(registry.functions.revokeInvestor(3), actors.kyc)
    with expect_revert(bond, "ERC7943CannotSend", actors.carol):
        bond.functions.redeem(60).transact({"from": actors.carol})
    tx(registry.functions.registerInvestor(actors.mallory, 840, 0, kyc_expiry), actors.kyc)
    tx(bond.functions.forcedTransfer(actors.carol, actors.mallory, 60), actors.admin)
    tx(bond.functions.redeem(60), actors.mallory)
    assert cash.functions.balanceOf(actors.mallory).call() == 60 * bond.functions.denomination().call()
    with expect_revert(bond, "RegulatedTokenPaymentWithheld", actors.carol, 2):
        bond.functions.claimCoupon(0).transact({"from": actors.carol})
    assert bond.functions.claimableCoupon(0, actors.carol).call() == 60 * COUPON


def test_a_holder_whose_wallet_is_the_only_problem_is_paid_in_a_recovered_wallet(
    at_maturity, cash, registry, actors
):
    # The wallet, not the investor, is the problem (e.g. it was unlinked after a loss): the agent
    # recovers it to a verified wallet of the same investor, which receives principal and coupon.
    bond = at_maturity
    tx(registry.functions.removeWallet(actors.bob), actors.kyc)
    tx(registry.functions.addWallet(2, actors.outsider), actors.kyc)
    with expect_revert(bond, "ERC7943CannotSend", actors.bob):
        bond.functions.redeem(30).transact({"from": actors.bob})
    tx(bond.functions.recoverWallet(actors.bob, actors.outsider), actors.admin)
    tx(bond.functions.claimCouponFor(0, actors.bob), actors.outsider)
    tx(bond.functions.redeem(30), actors.outsider)
    denomination = bond.functions.denomination().call()
    assert cash.functions.balanceOf(actors.outsider).call() == 30 * COUPON + 30 * denomination
