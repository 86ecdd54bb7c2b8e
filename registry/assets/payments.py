"""Cash going in and out of a token: funding coupons, dividends and redemptions, and checking payments.

- **Funding** takes the cash from the funder with ``transferFrom``, so the funder first approves the
  token for the amount. The custodial form does both (an ``approve`` only when the allowance is short);
  the non-custodial form refuses until the allowance is there, naming the call that sets it.
- **Payments** (claims, redemptions) are dry-run from the wallet that will send them before anything is
  sent: a payment the token would withhold is refused with its reason (`PaymentWithheldError`, the
  sentences of `registry.compliance.explain_withheld`), any other refusal with the token's own error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address

from registry.compliance import Rule, Violation, explain_withheld
from registry.context import ServiceContext
from registry.custody.transactions import PreparedTransaction, TxOutcome
from registry.dryrun import dry_run
from registry.errors import OperationRefusedError, PaymentWithheldError
from registry.index.catalogue import AssetRecord

PAUSED = Violation(
    Rule.TOKEN_PAUSED,
    "The payment is withheld: the token is paused, and no cash leaves it while it is.",
    "It is paid once the enforcement agent unpauses the token; it stays owed until then.",
)
"""Why a payment waits while its token is paused."""


WITHHELD_RULES = frozenset(
    {
        Rule.SENDER_NOT_VERIFIED,
        Rule.SENDER_FROZEN,
        Rule.INSUFFICIENT_UNFROZEN_BALANCE,
        Rule.SENDER_WALLET_RELINKED,
    }
)
"""The rules for which a token withholds a payment (``RegulatedTokenPaymentWithheld``'s codes)."""


@dataclass(frozen=True)
class Funding:
    """Cash paid into a token: how much, the approval it needed (None if the allowance sufficed), and the
    funding transaction."""

    amount: int
    approval: TxOutcome | None
    outcome: TxOutcome


class Payments:
    """Funding and payment checks shared by bonds and stocks (see the module docstring)."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def check_funds(
        self, asset: AssetRecord, cash: str, funder: ChecksumAddress, amount: int, *, allowance: bool
    ) -> None:
        """Refuse unless ``funder`` holds ``amount`` of the cash token ``cash`` (and, with ``allowance``,
        has approved the token for it).

        Raises:
            OperationRefusedError: it does not; the message says how much and what to do.
        """
        token = self._ctx.chain(asset.chain).contract("CashToken", cash)
        held = int(token.functions.balanceOf(funder).call())
        if held < amount:
            raise OperationRefusedError(
                f"{funder} holds {held} units of the cash token {cash}; funding {asset.asset_id} "
                f"({asset.symbol}) "
                f"takes {amount}. Get it cash first (CashService.mint or transfer); nothing was sent"
            )
        if allowance:
            allowed = int(token.functions.allowance(funder, asset.address).call())
            if allowed < amount:
                raise OperationRefusedError(
                    f"{funder} has approved {asset.asset_id} ({asset.symbol}) for {allowed} units of "
                    "the cash "
                    f"token, and the funding takes {amount}: sign CashService.prepare_approve(<cash asset>, "
                    f"{asset.address}, {amount}) first; nothing was sent"
                )

    def approval(
        self, asset: AssetRecord, cash: str, funder: ChecksumAddress, amount: int
    ) -> PreparedTransaction:
        """The ``approve`` that lets ``asset``'s token take ``amount`` of ``cash`` from ``funder``."""
        token = self._ctx.chain(asset.chain).contract("CashToken", cash)
        return PreparedTransaction(
            chain=asset.chain,  # type: ignore[arg-type]
            sender=funder,
            to=token.address,
            data=token.encode_abi("approve", [asset.address, amount]),
            description=f"approve {asset.asset_id} ({asset.symbol}) for {amount} cash units",
        )

    def fund(
        self,
        asset: AssetRecord,
        cash: str,
        funder: ChecksumAddress,
        amount: int,
        funding: Callable[[], PreparedTransaction],
    ) -> Funding:
        """Custodially: approve ``amount`` if the allowance is short, then send ``funding()``.

        ``funding`` is called after the approval landed, so its own checks see it."""
        self.check_funds(asset, cash, funder, amount, allowance=False)
        token = self._ctx.chain(asset.chain).contract("CashToken", cash)
        approval = None
        if int(token.functions.allowance(funder, asset.address).call()) < amount:
            approval = self._ctx.send(self.approval(asset, cash, funder, amount), asset_id=asset.asset_id)
        outcome = self._ctx.send(funding(), asset_id=asset.asset_id)
        return Funding(amount=amount, approval=approval, outcome=outcome)

    def refuse_withheld(
        self, asset: AssetRecord, tx: PreparedTransaction, payee: str, found: tuple[Violation, ...]
    ) -> None:
        """Refuse ``tx`` with `PaymentWithheldError` for the first of ``found`` (the rules that stop
        ``payee`` from sending the token), worded as a withheld payment; nothing when ``found`` is empty."""
        withheld = [v.rule for v in found if v.rule == Rule.TOKEN_PAUSED or v.rule in WITHHELD_RULES]
        if not withheld:
            return
        violation = PAUSED if withheld[0] == Rule.TOKEN_PAUSED else explain_withheld(int(withheld[0]))
        raise PaymentWithheldError(
            f"{tx.description} (wallet {payee}): {violation} Nothing was sent.",
            asset_id=asset.asset_id,
            payee=payee,
            violation=violation,
        )

    def refuse_failing(self, asset: AssetRecord, tx: PreparedTransaction, *, payment: bool) -> None:
        """Dry-run ``tx``; refuse it before sending if it would fail.

        Raises:
            PaymentWithheldError: (``payment``) the token would withhold the payment, or is paused.
            OperationRefusedError: the token refuses for another reason (its error, decoded).
        """
        failure = dry_run(self._ctx.chain(asset.chain).w3, tx)
        if failure is None:
            return
        error = failure.error
        if payment and error is not None and error.name == "RegulatedTokenPaymentWithheld":
            violation = explain_withheld(int(error.args["rule"]))
            payee = to_checksum_address(error.args["payee"])
            raise PaymentWithheldError(
                f"{tx.description} (wallet {payee}): {violation} Nothing was sent.",
                asset_id=asset.asset_id,
                payee=payee,
                violation=violation,
            )
        if payment and error is not None and error.name == "EnforcedPause":
            raise PaymentWithheldError(
                f"{tx.description}: {PAUSED} Nothing was sent.",
                asset_id=asset.asset_id,
                payee=tx.sender,
                violation=PAUSED,
            )
        raise OperationRefusedError(
            f"{tx.description}: {asset.asset_id} refuses it: {failure}. Nothing was sent", error=error
        )
