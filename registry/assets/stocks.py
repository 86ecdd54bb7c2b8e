"""Stocks: issue shares, declare and pay dividends, split.

A dividend is paid in at declaration (the declarer's cash, approved first), fixed to the holders at its
record date; holders claim their part once the date has passed, until the record date plus the claim
period; then the rest can be swept back to the declarer. A split changes every balance at once: only
splits the token can represent exactly are accepted (checked here before sending); reverse splits
always are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_typing import ChecksumAddress
from web3.contract import Contract
from web3.logs import DISCARD

from registry.assets.issuance import Issuance, Issuer, PreparedIssue
from registry.assets.payments import Funding, Payments
from registry.assets.terms import DAY, StockTerms, parse_terms
from registry.assets.tokens import Call
from registry.context import ServiceContext, check_address, check_amount
from registry.custody.transactions import PreparedTransaction, TxOutcome
from registry.errors import InvalidInputError, OperationRefusedError
from registry.index.catalogue import AssetRecord
from registry.roles import require_role

MAX_UINT32 = 2**32 - 1
MAX_DIVIDEND = 2**128 - 1


@dataclass(frozen=True)
class DividendDeclared:
    """A dividend declared and paid in: its id (what claims name) and the funding."""

    dividend_id: int
    record_date: int
    funding: Funding


class StockService:
    """Stocks: issuance and their own operations (see the module docstring)."""

    def __init__(self, ctx: ServiceContext, issuer: Issuer, payments: Payments) -> None:
        self._ctx = ctx
        self._issuer = issuer
        self._payments = payments

    def prepare_issue(
        self, chain: str, mode: str, terms: StockTerms | Mapping[str, Any], *, issuer: str
    ) -> PreparedIssue:
        """Validate ``terms`` and build the stock's creation; ``issuer`` becomes its admin."""
        checked = parse_terms(StockTerms, terms)
        access = self._ctx.chain(chain)
        final = checked.model_copy(
            update={"currency": self._issuer.resolve_currency(access, checked.currency)}
        )

        def args(admin: ChecksumAddress, registry: ChecksumAddress | None) -> list[Any]:
            return [
                final.name,
                final.symbol,
                final.currency,
                admin,
                registry or "0x" + "00" * 20,
                registry is not None,
                final.claim_period_days * DAY,
            ]

        return self._issuer.prepare(
            "stock", chain, mode, final.model_dump(mode="json"), issuer=issuer, args=args
        )

    def issue(self, chain: str, mode: str, terms: StockTerms | Mapping[str, Any], *, issuer: str) -> Issuance:
        """Issue a stock on ``chain`` in ``mode``, custodially, and catalogue it."""
        return self._issuer.issue(self.prepare_issue(chain, mode, terms, issuer=issuer))

    def _stock(self, asset_id: str) -> tuple[AssetRecord, Contract]:
        asset = self._ctx.asset(asset_id, kinds=("stock",))
        return asset, self._ctx.token(asset)

    def _dividend(self, asset: AssetRecord, token: Contract, dividend_id: int) -> None:
        count = int(token.functions.dividendCount().call())
        if not isinstance(dividend_id, int) or isinstance(dividend_id, bool) or not 0 <= dividend_id < count:
            raise InvalidInputError(
                "dividend_id", f"{asset.asset_id} has dividends 0 to {count - 1}; got {dividend_id!r}"
            )

    # -- dividends -------------------------------------------------------------------------------

    def prepare_declare_dividend(
        self, asset_id: str, record_date: int, amount: int, *, sender: str
    ) -> PreparedTransaction:
        """Declare a dividend of ``amount`` cash for the holders at ``record_date``, paid in now from the
        sender's cash (supply role; the sender must have approved the stock for ``amount``)."""
        return self._declare_tx(asset_id, record_date, amount, sender, allowance=True)

    def _declare_tx(
        self, asset_id: str, record_date: int, amount: int, sender: str, *, allowance: bool
    ) -> PreparedTransaction:
        asset, token = self._stock(asset_id)
        date = check_amount(record_date, "record_date", limit=2**40 - 1)
        value = check_amount(amount, "amount", limit=MAX_DIVIDEND)
        now = self._ctx.chain(asset.chain).now()
        if date <= now:
            raise InvalidInputError(
                "record_date", f"a record date must be in the future: the chain's time is {now}"
            )
        count = int(token.functions.recordDateCount().call())
        if count and date <= (last := int(token.functions.recordDate(count - 1).call())):
            raise InvalidInputError("record_date", f"record dates come in order: the last one is {last}")
        account = check_address(sender, "sender")
        require_role(token, "supply", account, what=f"{asset.asset_id} ({asset.symbol})")
        tx = Call(
            "declareDividend", [date, value], f"declare a dividend of {value} at record date {date}"
        ).prepared(asset, token, account)
        self._payments.check_funds(
            asset, token.functions.currency().call(), account, value, allowance=allowance
        )
        return tx

    def declare_dividend(
        self, asset_id: str, record_date: int, amount: int, *, sender: str
    ) -> DividendDeclared:
        """Declare and pay in a dividend, approving the stock first if needed; returns its id."""
        asset, token = self._stock(asset_id)
        account = check_address(sender, "sender")
        self._declare_tx(asset_id, record_date, amount, account, allowance=False)
        funding = self._payments.fund(
            asset,
            token.functions.currency().call(),
            account,
            amount,
            lambda: self._declare_tx(asset_id, record_date, amount, account, allowance=True),
        )
        events = token.events.DividendDeclared().process_receipt(funding.outcome.receipt, errors=DISCARD)
        return DividendDeclared(
            dividend_id=int(events[0]["args"]["dividendId"]), record_date=record_date, funding=funding
        )

    def prepare_claim_dividend(self, asset_id: str, dividend_id: int, *, sender: str) -> PreparedTransaction:
        """Claim ``sender``'s part of dividend ``dividend_id``; refused before sending if the stock would
        withhold it, with the reason."""
        asset, token = self._stock(asset_id)
        self._dividend(asset, token, dividend_id)
        tx = Call("claimDividend", [dividend_id], f"claim dividend {dividend_id}").prepared(
            asset, token, check_address(sender, "sender")
        )
        self._payments.refuse_failing(asset, tx, payment=True)
        return tx

    def claim_dividend(self, asset_id: str, dividend_id: int, *, sender: str) -> TxOutcome:
        """`prepare_claim_dividend`, sent."""
        return self._ctx.send(
            self.prepare_claim_dividend(asset_id, dividend_id, sender=sender), asset_id=asset_id
        )

    def prepare_claim_dividend_for(
        self, asset_id: str, dividend_id: int, holder: str, *, sender: str
    ) -> PreparedTransaction:
        """Claim ``holder``'s part on its behalf (the cash goes to ``holder``); only that wallet or the
        paying agent (supply role) may."""
        asset, token = self._stock(asset_id)
        self._dividend(asset, token, dividend_id)
        wallet = check_address(holder, "holder")
        tx = Call(
            "claimDividendFor", [dividend_id, wallet], f"claim dividend {dividend_id} for {wallet}"
        ).prepared(asset, token, check_address(sender, "sender"))
        self._payments.refuse_failing(asset, tx, payment=True)
        return tx

    def claim_dividend_for(self, asset_id: str, dividend_id: int, holder: str, *, sender: str) -> TxOutcome:
        """`prepare_claim_dividend_for`, sent."""
        return self._ctx.send(
            self.prepare_claim_dividend_for(asset_id, dividend_id, holder, sender=sender), asset_id=asset_id
        )

    def prepare_sweep_dividend(self, asset_id: str, dividend_id: int, *, sender: str) -> PreparedTransaction:
        """Return what nobody can claim any more of dividend ``dividend_id`` to its declarer (supply role)."""
        asset, token = self._stock(asset_id)
        self._dividend(asset, token, dividend_id)
        if int(token.functions.sweepableDividend(dividend_id).call()) == 0:
            raise OperationRefusedError(
                f"nothing of dividend {dividend_id} of {asset.asset_id} can be swept now: its claim "
                "period has "
                "not ended (and its record date had shares outstanding), or nothing is left"
            )
        account = check_address(sender, "sender")
        require_role(token, "supply", account, what=f"{asset.asset_id} ({asset.symbol})")
        tx = Call("sweepDividend", [dividend_id], f"sweep dividend {dividend_id}").prepared(
            asset, token, account
        )
        self._payments.refuse_failing(asset, tx, payment=False)
        return tx

    def sweep_dividend(self, asset_id: str, dividend_id: int, *, sender: str) -> TxOutcome:
        """`prepare_sweep_dividend`, sent."""
        return self._ctx.send(
            self.prepare_sweep_dividend(asset_id, dividend_id, sender=sender), asset_id=asset_id
        )

    # -- splits ----------------------------------------------------------------------------------

    def prepare_split(
        self, asset_id: str, numerator: int, denominator: int, *, sender: str
    ) -> PreparedTransaction:
        """Split the shares ``numerator`` for ``denominator`` (2, 1 doubles every balance; 1, 10 is a
        reverse split) (supply role). A forward split that the token cannot represent exactly is refused."""
        asset, token = self._stock(asset_id)
        top = check_amount(numerator, "numerator", limit=MAX_UINT32)
        bottom = check_amount(denominator, "denominator", limit=MAX_UINT32)
        if top == bottom:
            raise InvalidInputError(
                "denominator", "a split changes the number of shares: numerator != denominator"
            )
        scale = int(token.functions.rawUnitsPerShare().call())
        if (scale * bottom) % top:
            raise InvalidInputError(
                "numerator",
                f"{asset.asset_id} keeps {scale} raw units per share, which a {top}-for-{bottom} split "
                "cannot "
                "divide exactly; choose a ratio whose numerator divides that scale times the denominator",
            )
        account = check_address(sender, "sender")
        require_role(token, "supply", account, what=f"{asset.asset_id} ({asset.symbol})")
        return Call("split", [top, bottom], f"split {top} for {bottom}").prepared(asset, token, account)

    def split(self, asset_id: str, numerator: int, denominator: int, *, sender: str) -> TxOutcome:
        """`prepare_split`, sent."""
        return self._ctx.send(
            self.prepare_split(asset_id, numerator, denominator, sender=sender), asset_id=asset_id
        )
