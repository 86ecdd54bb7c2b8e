"""Compliance pre-checks: ask the token which rules a transfer or mint would break, before sending it.

A transfer or a mint enforces exactly the rules ``transferViolations`` reports (every rule for a
transfer, `MINT_RULES` for a mint), so `gas_or_refuse` asks the cheaper question first: the gas
estimate, which runs the operation itself. When it succeeds no rule is broken and the estimate is the
transaction's gas (custody does not estimate it again); only when it fails is the view asked, to name
every broken rule. One execution instead of two for every operation that goes through.

``transferViolations(from, to, amount)`` returns every rule a holder's transfer would break now. A mint
is checked against the same view from the zero address, keeping only the rules a mint enforces
(`MINT_RULES`); a forced transfer keeps `FORCED_RULES`. A refusal names every broken rule with the
sentences of `registry.compliance` (what is wrong, what to do) and nothing is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

from web3.contract import Contract

from registry.bulk.runner import Failed
from registry.compliance import Rule, Violation, explain
from registry.context import ZERO_ADDRESS, describe_violations
from registry.custody.sender import TransactionSender
from registry.custody.transactions import PreparedTransaction
from registry.errors import ComplianceRefusedError, TransactionFailedError
from registry.index.catalogue import AssetRecord

MINT_RULES: Final = frozenset(
    {
        Rule.TOKEN_PAUSED,
        Rule.RECEIVER_NOT_VERIFIED,
        Rule.RECEIVER_FROZEN,
        Rule.COUNTRY_NOT_ALLOWED,
        Rule.MAX_INVESTORS_EXCEEDED,
        Rule.MAX_BALANCE_EXCEEDED,
        Rule.RECEIVER_NOT_ACCREDITED,
        Rule.RECEIVER_WALLET_RELINKED,
    }
)
"""The rules a mint enforces (the lock-up does not stop a mint; the sender is nobody)."""

FORCED_RULES: Final = frozenset(
    {
        Rule.RECEIVER_NOT_VERIFIED,
        Rule.RECEIVER_FROZEN,
        Rule.INSUFFICIENT_BALANCE,
        Rule.RECEIVER_WALLET_RELINKED,
    }
)
"""The rules a forced transfer still enforces: the receiver may hold the tokens, the balance suffices."""


HOLDER_BURN_RULES: Final = frozenset(
    {
        Rule.TOKEN_PAUSED,
        Rule.SENDER_NOT_VERIFIED,
        Rule.SENDER_FROZEN,
        Rule.INSUFFICIENT_UNFROZEN_BALANCE,
        Rule.INSUFFICIENT_BALANCE,
        Rule.SENDER_WALLET_RELINKED,
    }
)
"""The rules a holder's own burn (a redemption) enforces: the holder must be able to send its tokens."""


def violations(
    token: Contract, sender: str, to: str, amount: int, rules: Iterable[int] | None = None
) -> tuple[Violation, ...]:
    """Every rule a transfer of ``amount`` from ``sender`` (the zero address for a mint) to ``to`` would
    break now, explained; only ``rules`` when given."""
    codes = [int(code) for code in token.functions.transferViolations(sender, to, amount).call()]
    if rules is not None:
        kept = {int(rule) for rule in rules}
        codes = [code for code in codes if code in kept]
    return tuple(explain(codes))


def refuse(asset: AssetRecord, description: str, found: tuple[Violation, ...]) -> None:
    """Raise `ComplianceRefusedError` for ``found`` (nothing when it is empty)."""
    if not found:
        return
    raise ComplianceRefusedError(
        f"{description}: refused by {asset.asset_id} ({asset.symbol}): "
        f"{len(found)} rule{'s' if len(found) > 1 else ''} broken: {describe_violations(found)} "
        "Nothing was sent.",
        asset_id=asset.asset_id,
        violations=found,
    )


def check_mint(token: Contract, asset: AssetRecord, to: str, amount: int, description: str) -> None:
    """Refuse a mint of ``amount`` to ``to`` that would break a rule."""
    refuse(asset, description, violations(token, ZERO_ADDRESS, to, amount, MINT_RULES))


def check_transfer(
    token: Contract, asset: AssetRecord, sender: str, to: str, amount: int, *, description: str
) -> None:
    """Refuse a holder's transfer that would break a rule."""
    refuse(asset, description, violations(token, sender, to, amount))


def gas_or_refuse(
    sender: TransactionSender,
    token: Contract,
    asset: AssetRecord,
    tx: PreparedTransaction,
    *,
    source: str,
    to: str,
    amount: int,
    rules: Iterable[int] | None,
) -> PreparedTransaction:
    """``tx`` (a transfer or a mint of ``amount`` from ``source``, the zero address for a mint, to ``to``)
    with its estimated gas; refused naming every rule it breaks (only ``rules`` when given) when it
    would fail. Nothing is sent.

    Raises:
        ComplianceRefusedError: it breaks rules.
        TransactionRevertedError, SubmissionRejectedError: it would fail for another reason (decoded).
    """
    try:
        return tx.with_gas(sender.estimate(tx))
    except TransactionFailedError:
        refuse(asset, tx.description, violations(token, source, to, amount, rules))
        raise


def refuse_items(
    asset: AssetRecord,
    token: Contract,
    sender: str,
    failed: Sequence[Failed],
    *,
    rules: Iterable[int] | None,
    what: str,
) -> ComplianceRefusedError | None:
    """Batch chunks of ``(wallet, amount)`` items failed their dry run: the refusal naming every broken
    rule of every item that breaks one (each judged alone), or None when no item breaks a rule alone
    (the chunks fail for another reason, or as a whole)."""
    refused: dict[int, tuple[Violation, ...]] = {}
    shown: list[str] = []
    for first, items, _failure in failed:
        for offset, (wallet, amount) in enumerate(items):
            found = violations(token, sender, wallet, amount, rules)
            if found:
                refused[first + offset] = found
                shown.append(f"item {first + offset} ({wallet}, {amount}): {describe_violations(found)}")
    if not refused:
        return None
    return ComplianceRefusedError(
        f"{what} of {asset.asset_id} ({asset.symbol}) refused: {len(refused)} item"
        f"{'s' if len(refused) > 1 else ''} would break the token's rules: {'; '.join(shown)} "
        "Nothing was sent.",
        asset_id=asset.asset_id,
        violations=tuple(v for found in refused.values() for v in found),
        items=refused,
    )
