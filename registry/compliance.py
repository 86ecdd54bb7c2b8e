"""What the compliance rule codes of the regulated tokens mean, in words.

A regulated token's ``transferViolations(from, to, amount)`` returns every rule a
transfer would break as small integer codes, and a refused transfer reverts with
``ComplianceRuleViolated(rule, from, to, amount)`` for the five compliance rules
(7 to 11). This module turns those codes into a name and two sentences: what is
wrong, and what to do about it. The codes are fixed by the contracts
(``contracts/src/token/ComplianceRules.sol``); keep both in step.

A payment of a coupon, dividend or principal that the token withholds reverts with
``RegulatedTokenPaymentWithheld(payee, rule)``, ``rule`` being one of the sender codes
(2, 4, 6 or 13) read for the wallet to be paid; `explain_withheld` words it as a
payment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum


class Rule(IntEnum):
    """A rule code as reported by ``transferViolations`` and ``ComplianceRuleViolated``."""

    TOKEN_PAUSED = 1
    SENDER_NOT_VERIFIED = 2
    RECEIVER_NOT_VERIFIED = 3
    SENDER_FROZEN = 4
    RECEIVER_FROZEN = 5
    INSUFFICIENT_UNFROZEN_BALANCE = 6
    COUNTRY_NOT_ALLOWED = 7
    MAX_INVESTORS_EXCEEDED = 8
    MAX_BALANCE_EXCEEDED = 9
    LOCKUP_ACTIVE = 10
    RECEIVER_NOT_ACCREDITED = 11
    INSUFFICIENT_BALANCE = 12
    SENDER_WALLET_RELINKED = 13
    RECEIVER_WALLET_RELINKED = 14


@dataclass(frozen=True)
class Violation:
    """One broken rule, explained: ``message`` says what is wrong, ``remedy`` what to do."""

    rule: Rule
    message: str
    remedy: str

    @property
    def code(self) -> int:
        """The numeric rule code."""
        return int(self.rule)

    @property
    def name(self) -> str:
        """The rule's name, e.g. ``"COUNTRY_NOT_ALLOWED"``."""
        return self.rule.name

    def __str__(self) -> str:
        return f"{self.message} {self.remedy}"


_TEXTS: dict[Rule, tuple[str, str]] = {
    Rule.TOKEN_PAUSED: (
        "The token is paused: no transfer or mint can happen.",
        "Wait until the issuer's enforcement agent unpauses it.",
    ),
    Rule.SENDER_NOT_VERIFIED: (
        "The sender is not a verified investor (unknown wallet, KYC expired or investor revoked).",
        "Ask the KYC provider to register the wallet or renew the investor's KYC.",
    ),
    Rule.RECEIVER_NOT_VERIFIED: (
        "The receiver is not a verified investor (unknown wallet, KYC expired or investor revoked).",
        "Ask the KYC provider to register the receiving wallet or renew its investor's KYC.",
    ),
    Rule.SENDER_FROZEN: (
        "The sender's account is frozen: it can neither send nor receive this token.",
        "Contact the issuer's enforcement agent to have the account unfrozen.",
    ),
    Rule.RECEIVER_FROZEN: (
        "The receiver's account is frozen: it can neither send nor receive this token.",
        "Send to another wallet, or have the enforcement agent unfreeze the receiver.",
    ),
    Rule.INSUFFICIENT_UNFROZEN_BALANCE: (
        "Part of the sender's balance is frozen and the amount exceeds what remains unfrozen.",
        "Send at most the unfrozen balance, or ask the enforcement agent to lower the frozen amount.",
    ),
    Rule.COUNTRY_NOT_ALLOWED: (
        "The receiver's country is not allowed to hold this token.",
        "Send to an investor in an allowed country, or ask the compliance officer to review the list.",
    ),
    Rule.MAX_INVESTORS_EXCEEDED: (
        "The token already has its maximum number of investors and the receiver would be a new one.",
        "Send to an investor who already holds the token, or ask the compliance officer to raise the limit.",
    ),
    Rule.MAX_BALANCE_EXCEEDED: (
        "The receiving investor would hold more than the maximum balance per investor, all wallets counted.",
        "Send a smaller amount, or ask the compliance officer to raise the limit.",
    ),
    Rule.LOCKUP_ACTIVE: (
        "The token is in its lock-up period: holders cannot transfer it yet.",
        "Wait until the lock-up ends.",
    ),
    Rule.RECEIVER_NOT_ACCREDITED: (
        "Only accredited investors may hold this token and the receiver is not accredited.",
        "Send to an accredited investor, or have the KYC provider record the receiver's accreditation.",
    ),
    Rule.INSUFFICIENT_BALANCE: (
        "The sender's balance is smaller than the amount.",
        "Send at most the sender's balance.",
    ),
    Rule.SENDER_WALLET_RELINKED: (
        "The sending wallet still holds tokens of the investor it belonged to, but the identity "
        "registry has since removed it or linked it to another investor.",
        "Ask the enforcement agent to move its tokens out (a forced transfer); once empty, the wallet "
        "follows the registry again.",
    ),
    Rule.RECEIVER_WALLET_RELINKED: (
        "The receiving wallet still holds tokens of the investor it belonged to, but the identity "
        "registry has since removed it or linked it to another investor.",
        "Send to another wallet, or ask the enforcement agent to empty this one first.",
    ),
}

#: Why a payment to a wallet is withheld, per sender rule code: what is wrong, what to do.
_WITHHELD: dict[Rule, tuple[str, str]] = {
    Rule.SENDER_NOT_VERIFIED: (
        "The payment is withheld: the wallet to be paid is not a verified investor (unknown wallet, "
        "KYC expired or investor revoked).",
        "Renew the investor's KYC; if only the wallet is the problem, ask the enforcement agent to "
        "recover it to a verified wallet of the same investor. The payment stays owed until then.",
    ),
    Rule.SENDER_FROZEN: (
        "The payment is withheld: the wallet to be paid is frozen.",
        "It is paid once the enforcement agent lifts the freeze; it stays owed until then.",
    ),
    Rule.INSUFFICIENT_UNFROZEN_BALANCE: (
        "The payment is withheld: every token the wallet to be paid holds is frozen.",
        "It is paid once the enforcement agent lowers the frozen amount; it stays owed until then.",
    ),
    Rule.SENDER_WALLET_RELINKED: (
        "The payment is withheld: the identity registry changed the wallet's link while it held tokens.",
        "Ask the enforcement agent to settle the wallet's tokens (forced transfer or recovery); the "
        "payment stays owed until then.",
    ),
}


def explain_one(code: int) -> Violation:
    """Explain one rule code.

    Raises:
        ValueError: ``code`` is not a rule code (the message lists the known ones).
    """
    try:
        rule = Rule(code)
    except ValueError:
        known = ", ".join(f"{r.value} {r.name}" for r in Rule)
        raise ValueError(f"unknown compliance rule code {code}; known codes: {known}") from None
    message, remedy = _TEXTS[rule]
    return Violation(rule, message, remedy)


def explain_withheld(code: int) -> Violation:
    """Explain the ``rule`` of a ``RegulatedTokenPaymentWithheld(payee, rule)`` revert.

    Raises:
        ValueError: ``code`` is not a reason the token withholds a payment for.
    """
    try:
        rule = Rule(code)
        message, remedy = _WITHHELD[rule]
    except (ValueError, KeyError):
        known = ", ".join(f"{r.value} {r.name}" for r in _WITHHELD)
        raise ValueError(f"unknown reason {code} for a withheld payment; known reasons: {known}") from None
    return Violation(rule, message, remedy)


def explain(codes: Iterable[int]) -> list[Violation]:
    """Explain rule codes, e.g. the result of ``transferViolations``, in the order given.

    Raises:
        ValueError: one of the codes is not a rule code.
    """
    return [explain_one(code) for code in codes]
