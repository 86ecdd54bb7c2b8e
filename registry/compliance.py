"""What the compliance rule codes of the regulated tokens mean, in words.

A regulated token's ``transferViolations(from, to, amount)`` returns every rule a
transfer would break as small integer codes, and a refused transfer reverts with
``ComplianceRuleViolated(rule, from, to, amount)`` for the five compliance rules
(7 to 11). This module turns those codes into a name and two sentences: what is
wrong, and what to do about it. The codes are fixed by the contracts
(``contracts/src/token/ComplianceRules.sol``); keep both in step.
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


def explain(codes: Iterable[int]) -> list[Violation]:
    """Explain rule codes, e.g. the result of ``transferViolations``, in the order given.

    Raises:
        ValueError: one of the codes is not a rule code.
    """
    return [explain_one(code) for code in codes]
