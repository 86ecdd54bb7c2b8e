"""Compliance rules of the regulated token (kyc mode) and their explanation in registry/compliance.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from registry.compliance import Rule, Violation, explain, explain_one, explain_withheld

from .helpers import (
    DAY,
    FRANCE,
    GERMANY,
    MAX_AMOUNT,
    NORTH_KOREA,
    USA,
    ZERO_ADDRESS,
    events,
    expect_revert,
    tx,
)

NONE, ALLOW_LIST, BLOCK_LIST = 0, 1, 2
ALL_CODES = list(range(1, 15))
SOURCE = Path(__file__).resolve().parents[2] / "contracts" / "src" / "token" / "ComplianceRules.sol"


def rules(token) -> dict[str, object]:
    names = (
        "countryRule",
        "maxInvestors",
        "investorCount",
        "maxBalancePerInvestor",
        "lockupUntil",
        "accreditedOnly",
    )
    return dict(zip(names, token.functions.complianceRules().call(), strict=True))


def violations(token, sender, receiver, amount) -> list[int]:
    return list(token.functions.transferViolations(sender, receiver, amount).call())


@pytest.fixture
def kyc(kyc_token, funded):
    """A kyc token where alice (FR, accredited) holds 1,000 and bob (DE, accredited) 500."""
    return funded(kyc_token)


# ---------------------------------------------------------------- settings


def test_default_rules_are_off(kyc_token):
    assert rules(kyc_token) == {
        "countryRule": NONE,
        "maxInvestors": 0,
        "investorCount": 0,
        "maxBalancePerInvestor": 0,
        "lockupUntil": 0,
        "accreditedOnly": False,
    }
    assert kyc_token.functions.isCountryListed(FRANCE).call() is False


def test_setters_store_and_emit(kyc_token, actors):
    admin = actors.admin
    cases = [
        (kyc_token.functions.setCountryRule(BLOCK_LIST), ("CountryRuleChanged", {"mode": BLOCK_LIST})),
        (kyc_token.functions.setMaxInvestors(7), ("MaxInvestorsChanged", {"maxInvestors": 7})),
        (
            kyc_token.functions.setMaxBalancePerInvestor(MAX_AMOUNT),
            ("MaxBalancePerInvestorChanged", {"maxBalance": MAX_AMOUNT}),
        ),
        (kyc_token.functions.setLockup(2**40 - 1), ("LockupChanged", {"lockupUntil": 2**40 - 1})),
        (kyc_token.functions.setAccreditedOnly(True), ("AccreditedOnlyChanged", {"accreditedOnly": True})),
    ]
    for call, expected in cases:
        assert events(kyc_token, tx(call, admin)) == [expected]
    assert rules(kyc_token) == {
        "countryRule": BLOCK_LIST,
        "maxInvestors": 7,
        "investorCount": 0,
        "maxBalancePerInvestor": MAX_AMOUNT,
        "lockupUntil": 2**40 - 1,
        "accreditedOnly": True,
    }
    # Each setting lives in its own bits: clearing them one by one leaves the others.
    tx(kyc_token.functions.setCountryRule(NONE), admin)
    tx(kyc_token.functions.setAccreditedOnly(False), admin)
    assert rules(kyc_token)["maxInvestors"] == 7
    assert rules(kyc_token)["lockupUntil"] == 2**40 - 1
    assert rules(kyc_token)["maxBalancePerInvestor"] == MAX_AMOUNT


@pytest.mark.parametrize("mode", [3, 255])
def test_set_country_rule_rejects_unknown_modes(kyc_token, actors, mode):
    with expect_revert(kyc_token, "ComplianceInvalidCountryRule", mode):
        kyc_token.functions.setCountryRule(mode).transact({"from": actors.admin})


def test_set_max_balance_rejects_what_does_not_fit(kyc_token, actors):
    with expect_revert(kyc_token, "RegulatedTokenAmountTooLarge", MAX_AMOUNT + 1, MAX_AMOUNT):
        kyc_token.functions.setMaxBalancePerInvestor(MAX_AMOUNT + 1).transact({"from": actors.admin})


def test_set_countries_lists_and_unlists(kyc_token, actors):
    receipt = tx(kyc_token.functions.setCountries([FRANCE, 1, 999, 256], True), actors.admin)
    assert events(kyc_token, receipt) == [
        ("CountryListChanged", {"country": c, "listed": True}) for c in (FRANCE, 1, 999, 256)
    ]
    for country in (FRANCE, 1, 999, 256):
        assert kyc_token.functions.isCountryListed(country).call() is True
    # Neighbours in the bitmap are untouched.
    for country in (FRANCE - 1, FRANCE + 1, 255, 257, 998, 2):
        assert kyc_token.functions.isCountryListed(country).call() is False
    receipt = tx(kyc_token.functions.setCountries([FRANCE], False), actors.admin)
    assert events(kyc_token, receipt) == [("CountryListChanged", {"country": FRANCE, "listed": False})]
    assert kyc_token.functions.isCountryListed(FRANCE).call() is False
    assert kyc_token.functions.isCountryListed(999).call() is True


@pytest.mark.parametrize("bad", [0, 1000, 65535])
def test_set_countries_rejects_invalid_codes_all_or_nothing(kyc_token, actors, bad):
    with expect_revert(kyc_token, "ComplianceInvalidCountry", bad):
        kyc_token.functions.setCountries([GERMANY, bad], True).transact({"from": actors.admin})
    assert kyc_token.functions.isCountryListed(GERMANY).call() is False


# ---------------------------------------------------------------- country rule


def test_allow_list_checks_the_receivers_country_only(kyc, actors):
    tx(kyc.functions.setCountries([GERMANY], True), actors.admin)
    tx(kyc.functions.setCountryRule(ALLOW_LIST), actors.admin)
    # alice is French (not listed) and may still send to a German.
    tx(kyc.functions.transfer(actors.erin, 10), actors.alice)
    assert violations(kyc, actors.bob, actors.alice, 10) == [Rule.COUNTRY_NOT_ALLOWED]
    with expect_revert(kyc, "ComplianceRuleViolated", Rule.COUNTRY_NOT_ALLOWED, actors.bob, actors.alice, 10):
        kyc.functions.transfer(actors.alice, 10).transact({"from": actors.bob})
    with expect_revert(
        kyc, "ComplianceRuleViolated", Rule.COUNTRY_NOT_ALLOWED, ZERO_ADDRESS, actors.carol, 3
    ):
        kyc.functions.mint(actors.carol, 3).transact({"from": actors.admin})
    tx(kyc.functions.mint(actors.erin, 3), actors.admin)


def test_block_list(kyc, actors):
    tx(kyc.functions.setCountries([USA, NORTH_KOREA], True), actors.admin)
    tx(kyc.functions.setCountryRule(BLOCK_LIST), actors.admin)
    assert kyc.functions.canTransfer(actors.alice, actors.carol, 1).call() is False
    with expect_revert(
        kyc, "ComplianceRuleViolated", Rule.COUNTRY_NOT_ALLOWED, actors.alice, actors.carol, 1
    ):
        kyc.functions.transfer(actors.carol, 1).transact({"from": actors.alice})
    tx(kyc.functions.transfer(actors.dave, 1), actors.alice)
    # Unlisting lifts the block.
    tx(kyc.functions.setCountries([USA], False), actors.admin)
    tx(kyc.functions.transfer(actors.carol, 1), actors.alice)


def test_country_list_is_ignored_without_a_rule(kyc, actors):
    tx(kyc.functions.setCountries([USA], True), actors.admin)
    tx(kyc.functions.setCountryRule(BLOCK_LIST), actors.admin)
    tx(kyc.functions.setCountryRule(NONE), actors.admin)
    tx(kyc.functions.transfer(actors.carol, 1), actors.alice)


# ---------------------------------------------------------------- max investors


def test_max_investors_refuses_a_new_investor(kyc, actors):
    assert rules(kyc)["investorCount"] == 2
    tx(kyc.functions.setMaxInvestors(2), actors.admin)
    assert violations(kyc, actors.alice, actors.carol, 10) == [Rule.MAX_INVESTORS_EXCEEDED]
    with expect_revert(
        kyc, "ComplianceRuleViolated", Rule.MAX_INVESTORS_EXCEEDED, actors.alice, actors.carol, 10
    ):
        kyc.functions.transfer(actors.carol, 10).transact({"from": actors.alice})
    with expect_revert(
        kyc, "ComplianceRuleViolated", Rule.MAX_INVESTORS_EXCEEDED, ZERO_ADDRESS, actors.carol, 1
    ):
        kyc.functions.mint(actors.carol, 1).transact({"from": actors.admin})
    # Existing investors still trade, and zero-amount transfers create no investor.
    tx(kyc.functions.transfer(actors.bob, 10), actors.alice)
    tx(kyc.functions.transfer(actors.carol, 0), actors.alice)
    assert rules(kyc)["investorCount"] == 2


def test_max_investors_lets_a_leaving_investor_be_replaced(kyc, actors):
    tx(kyc.functions.setMaxInvestors(2), actors.admin)
    assert violations(kyc, actors.bob, actors.carol, 500) == []
    tx(kyc.functions.transfer(actors.carol, 500), actors.bob)
    assert rules(kyc)["investorCount"] == 2
    assert kyc.functions.balanceOf(actors.bob).call() == 0


def test_max_investors_counts_wallets_of_one_investor_once(kyc, registry, actors):
    tx(registry.functions.addWallet(1, actors.outsider), actors.kyc)
    tx(kyc.functions.setMaxInvestors(2), actors.admin)
    tx(kyc.functions.transfer(actors.outsider, 10), actors.bob)
    assert rules(kyc)["investorCount"] == 2


def test_lowering_max_investors_below_the_count_only_stops_newcomers(kyc, actors):
    tx(kyc.functions.setMaxInvestors(1), actors.admin)
    tx(kyc.functions.transfer(actors.bob, 1), actors.alice)
    assert violations(kyc, actors.bob, actors.dave, 1) == [Rule.MAX_INVESTORS_EXCEEDED]
    tx(kyc.functions.setMaxInvestors(0), actors.admin)
    tx(kyc.functions.transfer(actors.dave, 1), actors.bob)
    assert rules(kyc)["investorCount"] == 3


# ---------------------------------------------------------------- max balance per investor


def test_max_balance_counts_every_wallet_of_the_receiver(kyc, registry, actors):
    tx(registry.functions.addWallet(2, actors.outsider), actors.kyc)
    tx(kyc.functions.setMaxBalancePerInvestor(600), actors.admin)
    # bob already holds 500; his second wallet may receive 100 more, not 101.
    assert violations(kyc, actors.alice, actors.outsider, 101) == [Rule.MAX_BALANCE_EXCEEDED]
    with expect_revert(
        kyc, "ComplianceRuleViolated", Rule.MAX_BALANCE_EXCEEDED, actors.alice, actors.outsider, 101
    ):
        kyc.functions.transfer(actors.outsider, 101).transact({"from": actors.alice})
    tx(kyc.functions.transfer(actors.outsider, 100), actors.alice)
    assert kyc.functions.investorBalance(2).call() == 600
    with expect_revert(kyc, "ComplianceRuleViolated", Rule.MAX_BALANCE_EXCEEDED, ZERO_ADDRESS, actors.bob, 1):
        kyc.functions.mint(actors.bob, 1).transact({"from": actors.admin})
    # Between its own wallets an investor's total does not change: no limit applies.
    tx(kyc.functions.transfer(actors.outsider, 500), actors.bob)


def test_max_balance_applies_to_mints(kyc_token, actors):
    tx(kyc_token.functions.setMaxBalancePerInvestor(100), actors.admin)
    tx(kyc_token.functions.mint(actors.carol, 100), actors.admin)
    with expect_revert(
        kyc_token, "ComplianceRuleViolated", Rule.MAX_BALANCE_EXCEEDED, ZERO_ADDRESS, actors.carol, 1
    ):
        kyc_token.functions.mint(actors.carol, 1).transact({"from": actors.admin})


# ---------------------------------------------------------------- lock-up


def test_lockup_blocks_transfers_until_its_end_but_not_mints(kyc, actors, clock):
    until = clock.now() + 10 * DAY
    tx(kyc.functions.setLockup(until), actors.admin)
    assert violations(kyc, actors.alice, actors.bob, 1) == [Rule.LOCKUP_ACTIVE]
    with expect_revert(kyc, "ComplianceRuleViolated", Rule.LOCKUP_ACTIVE, actors.alice, actors.bob, 1):
        kyc.functions.transfer(actors.bob, 1).transact({"from": actors.alice})
    tx(kyc.functions.mint(actors.carol, 5), actors.admin)
    tx(kyc.functions.forcedTransfer(actors.alice, actors.bob, 5), actors.admin)
    clock.travel_to(until - 1)
    assert violations(kyc, actors.alice, actors.bob, 1) == [Rule.LOCKUP_ACTIVE]
    clock.travel_to(until)
    assert violations(kyc, actors.alice, actors.bob, 1) == []
    tx(kyc.functions.transfer(actors.bob, 1), actors.alice)


def test_a_past_lockup_blocks_nothing(kyc, actors, clock):
    tx(kyc.functions.setLockup(clock.now() - 1), actors.admin)
    tx(kyc.functions.transfer(actors.bob, 1), actors.alice)


# ---------------------------------------------------------------- accredited only


def test_accredited_only_checks_the_receiver(kyc, registry, actors, kyc_expiry):
    tx(kyc.functions.setAccreditedOnly(True), actors.admin)
    assert violations(kyc, actors.alice, actors.carol, 1) == [Rule.RECEIVER_NOT_ACCREDITED]
    with expect_revert(
        kyc, "ComplianceRuleViolated", Rule.RECEIVER_NOT_ACCREDITED, actors.alice, actors.carol, 1
    ):
        kyc.functions.transfer(actors.carol, 1).transact({"from": actors.alice})
    with expect_revert(
        kyc, "ComplianceRuleViolated", Rule.RECEIVER_NOT_ACCREDITED, ZERO_ADDRESS, actors.dave, 1
    ):
        kyc.functions.mint(actors.dave, 1).transact({"from": actors.admin})
    tx(kyc.functions.transfer(actors.erin, 1), actors.alice)
    # The registry update is seen at once: carol becomes accredited.
    tx(registry.functions.updateInvestor(3, USA, 1, kyc_expiry), actors.kyc)
    tx(kyc.functions.transfer(actors.carol, 1), actors.alice)
    # A non-accredited holder may still send to an accredited one.
    tx(registry.functions.updateInvestor(3, USA, 0, kyc_expiry), actors.kyc)
    tx(kyc.functions.transfer(actors.alice, 1), actors.carol)


# ---------------------------------------------------------------- several rules at once


def test_the_lowest_broken_compliance_rule_is_the_revert_reason(kyc, actors):
    tx(kyc.functions.setCountries([USA], True), actors.admin)
    tx(kyc.functions.setCountryRule(BLOCK_LIST), actors.admin)
    tx(kyc.functions.setMaxBalancePerInvestor(5), actors.admin)
    tx(kyc.functions.setAccreditedOnly(True), actors.admin)
    assert violations(kyc, actors.alice, actors.carol, 10) == [7, 9, 11]
    with expect_revert(kyc, "ComplianceRuleViolated", 7, actors.alice, actors.carol, 10):
        kyc.functions.transfer(actors.carol, 10).transact({"from": actors.alice})
    tx(kyc.functions.setCountryRule(NONE), actors.admin)
    assert violations(kyc, actors.alice, actors.carol, 10) == [9, 11]
    with expect_revert(kyc, "ComplianceRuleViolated", 9, actors.alice, actors.carol, 10):
        kyc.functions.transfer(actors.carol, 10).transact({"from": actors.alice})


def test_every_broken_rule_is_reported_at_once(kyc_token, registry, actors):
    token = kyc_token
    admin = actors.admin
    tx(token.functions.mint(actors.alice, 100), admin)
    tx(token.functions.setFrozenTokens(actors.alice, 50), admin)
    tx(token.functions.freezeAccount(actors.alice), admin)
    # The receiver: a wallet funded for carol's investor, then moved by the registry to dave's
    # (revoked, so known but no longer verified), and frozen.
    receiver = actors.outsider
    tx(registry.functions.addWallet(3, receiver), actors.kyc)
    tx(token.functions.mint(receiver, 5), admin)
    tx(registry.functions.removeWallet(receiver), actors.kyc)
    tx(registry.functions.addWallet(4, receiver), actors.kyc)
    tx(registry.functions.revokeInvestor(4), actors.kyc)
    tx(token.functions.freezeAccount(receiver), admin)
    # The sender: unlinked by the registry while it holds alice's tokens.
    tx(registry.functions.removeWallet(actors.alice), actors.kyc)
    tx(token.functions.setCountries([FRANCE], True), admin)
    tx(token.functions.setCountryRule(BLOCK_LIST), admin)
    tx(token.functions.setMaxInvestors(1), admin)
    tx(token.functions.setMaxBalancePerInvestor(10), admin)
    tx(token.functions.setLockup(2**40 - 1), admin)
    tx(token.functions.setAccreditedOnly(True), admin)
    tx(token.functions.pause(), admin)

    codes = violations(token, actors.alice, receiver, 1_000)
    assert codes == ALL_CODES
    explained = explain(codes)
    assert [v.rule for v in explained] == list(Rule)
    assert [v.name for v in explained] == [r.name for r in Rule]
    assert token.functions.canTransfer(actors.alice, receiver, 1_000).call() is False
    # The revert names the first problem: the pause.
    with expect_revert(token, "EnforcedPause"):
        token.functions.transfer(receiver, 1_000).transact({"from": actors.alice})


def test_revert_precedence_follows_the_documented_order(kyc_token, registry, actors):
    token = kyc_token
    admin = actors.admin
    tx(token.functions.mint(actors.alice, 100), admin)
    tx(token.functions.setFrozenTokens(actors.alice, 50), admin)
    tx(token.functions.setAccreditedOnly(True), admin)
    # 6 (unfrozen) and 11 (accredited): the freeze is named.
    assert violations(token, actors.alice, actors.carol, 60) == [6, 11]
    with expect_revert(token, "ERC7943InsufficientUnfrozenBalance", actors.alice, 60, 50):
        token.functions.transfer(actors.carol, 60).transact({"from": actors.alice})
    # 6 and 12 (more than the balance): the balance is named.
    assert violations(token, actors.alice, actors.carol, 101) == [6, 11, 12]
    with expect_revert(token, "ERC20InsufficientBalance", actors.alice, 100, 101):
        token.functions.transfer(actors.carol, 101).transact({"from": actors.alice})
    # 3 (receiver) before 12.
    with expect_revert(token, "ERC7943CannotReceive", actors.outsider):
        token.functions.transfer(actors.outsider, 101).transact({"from": actors.alice})
    tx(token.functions.freezeAccount(actors.bob), admin)
    assert violations(token, actors.bob, actors.alice, 1) == [4, 12]
    with expect_revert(token, "ERC7943CannotSend", actors.bob):
        token.functions.transfer(actors.alice, 1).transact({"from": actors.bob})


def test_an_unknown_receiver_is_reported_as_unverified_only(kyc, actors):
    tx(kyc.functions.setCountryRule(ALLOW_LIST), actors.admin)
    tx(kyc.functions.setAccreditedOnly(True), actors.admin)
    tx(kyc.functions.setMaxBalancePerInvestor(1), actors.admin)
    assert violations(kyc, actors.alice, actors.outsider, 10) == [Rule.RECEIVER_NOT_VERIFIED]


def test_sender_unknown_to_the_registry(kyc, actors):
    assert violations(kyc, actors.outsider, actors.alice, 0) == [Rule.SENDER_NOT_VERIFIED]
    assert violations(kyc, actors.outsider, actors.alice, 1) == [
        Rule.SENDER_NOT_VERIFIED,
        Rule.INSUFFICIENT_BALANCE,
    ]


def test_an_expired_kyc_is_reported_for_both_sides(kyc, registry, actors, clock):
    expiry = clock.now() + 100
    tx(registry.functions.updateInvestor(1, FRANCE, 1, expiry), actors.kyc)
    clock.travel_to(expiry)
    assert violations(kyc, actors.alice, actors.bob, 1) == [Rule.SENDER_NOT_VERIFIED]
    assert violations(kyc, actors.bob, actors.alice, 1) == [Rule.RECEIVER_NOT_VERIFIED]


def test_a_clean_transfer_has_no_violation_and_can_transfer_agrees(kyc, actors):
    assert violations(kyc, actors.alice, actors.bob, 1_000) == []
    assert kyc.functions.canTransfer(actors.alice, actors.bob, 1_000).call() is True
    # Balance alone: reported as 12, which canTransfer ignores.
    assert violations(kyc, actors.alice, actors.bob, 1_001) == [Rule.INSUFFICIENT_BALANCE]
    assert kyc.functions.canTransfer(actors.alice, actors.bob, 1_001).call() is True


def test_open_mode_stores_rules_but_enforces_none(open_token, funded, actors, clock):
    token = funded(open_token)
    admin = actors.admin
    tx(token.functions.setCountries([USA], True), admin)
    tx(token.functions.setCountryRule(BLOCK_LIST), admin)
    tx(token.functions.setMaxInvestors(1), admin)
    tx(token.functions.setMaxBalancePerInvestor(1), admin)
    tx(token.functions.setLockup(clock.now() + DAY), admin)
    tx(token.functions.setAccreditedOnly(True), admin)
    assert rules(token)["countryRule"] == BLOCK_LIST
    assert violations(token, actors.alice, actors.carol, 100) == []
    tx(token.functions.transfer(actors.carol, 100), actors.alice)
    tx(token.functions.transfer(actors.outsider, 100), actors.carol)
    tx(token.functions.mint(actors.mallory, 100), admin)
    # Only pause, freezes and balances apply in open mode.
    tx(token.functions.setFrozenTokens(actors.bob, 450), admin)
    tx(token.functions.freezeAccount(actors.outsider), admin)
    tx(token.functions.pause(), admin)
    assert violations(token, actors.bob, actors.outsider, 600) == [1, 5, 6, 12]


# ---------------------------------------------------------------- registry/compliance.py


def test_python_rule_codes_match_the_contract_constants():
    source = SOURCE.read_text()
    constants = dict(re.findall(r"uint8 internal constant _([A-Z_]+) = (\d+);", source))
    codes = {name: int(value) for name, value in constants.items() if not name.startswith("COUNTRY_RULE_")}
    assert codes == {rule.name: rule.value for rule in Rule}


@pytest.mark.parametrize("rule", list(Rule))
def test_every_rule_is_explained(rule):
    violation = explain_one(int(rule))
    assert isinstance(violation, Violation)
    assert violation.rule is rule
    assert violation.code == int(rule)
    assert violation.name == rule.name
    assert violation.message.strip() and violation.remedy.strip()
    assert violation.message != violation.remedy
    assert str(violation) == f"{violation.message} {violation.remedy}"


def test_explanations_are_distinct():
    messages = [explain_one(code).message for code in ALL_CODES]
    remedies = [explain_one(code).remedy for code in ALL_CODES]
    assert len(set(messages)) == len(messages)
    assert len(set(remedies)) == len(remedies)


def test_explain_keeps_the_order_given():
    assert [v.code for v in explain([11, 7, 1])] == [11, 7, 1]
    assert explain([]) == []


@pytest.mark.parametrize("code", [0, 15, -1, 255])
def test_unknown_codes_are_refused_with_the_known_ones(code):
    with pytest.raises(ValueError, match=f"unknown compliance rule code {code}") as info:
        explain_one(code)
    assert "COUNTRY_NOT_ALLOWED" in str(info.value)
    with pytest.raises(ValueError, match="unknown compliance rule code"):
        explain([1, code])


@pytest.mark.parametrize("code", [2, 4, 6, 13])
def test_every_reason_for_withholding_a_payment_is_explained_as_a_payment(code):
    violation = explain_withheld(code)
    assert violation.code == code
    assert violation.message.startswith("The payment is withheld")
    assert "owed" in violation.remedy
    assert violation.message != explain_one(code).message


@pytest.mark.parametrize("code", [1, 3, 12, 14, 99])
def test_a_code_that_never_withholds_a_payment_is_refused(code):
    with pytest.raises(ValueError, match=f"unknown reason {code} for a withheld payment") as info:
        explain_withheld(code)
    assert "SENDER_FROZEN" in str(info.value)
