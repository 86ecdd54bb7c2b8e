"""Bonds: issue one, and run its life (coupon record dates, funding, claims, sweeps, call, redemption).

The operations common to every regulated token (mint, transfer, freezes...) are in
`registry.assets.tokens`. Each operation here has a ``prepare_*`` form for the non-custodial flow and a
custodial form, like those; a claim or a redemption that the bond would withhold is refused before
anything is sent, with its reason (`PaymentWithheldError`).

Coupons: the issuer schedules a coupon period with a record date (the holders at that date earn it),
funds it once the date has passed (exactly the supply at the record date times the coupon per bond,
taken from the issuer's cash), and holders claim. After the claim period (a term of the bond) what is
left can be swept back to whoever funded it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_typing import ChecksumAddress
from web3.contract import Contract
from web3.logs import DISCARD

from registry.assets import precheck
from registry.assets.issuance import Issuance, Issuer, PreparedIssue
from registry.assets.payments import Funding, Payments
from registry.assets.terms import DAY, DAY_COUNT_CODES, BondTerms, parse_terms
from registry.assets.tokens import Call
from registry.context import ZERO_ADDRESS, ServiceContext, check_address, check_amount
from registry.custody.transactions import PreparedTransaction, TxOutcome
from registry.errors import InvalidInputError, OperationRefusedError
from registry.index.catalogue import AssetRecord
from registry.roles import require_role

FIXED_RATE = 1
ZERO_COUPON = 0


@dataclass(frozen=True)
class CouponScheduled:
    """A coupon period scheduled: its id (what funding and claims name) and the transaction."""

    period_id: int
    record_date: int
    outcome: TxOutcome


class BondService:
    """Bonds: issuance and their own operations (see the module docstring)."""

    def __init__(self, ctx: ServiceContext, issuer: Issuer, payments: Payments) -> None:
        self._ctx = ctx
        self._issuer = issuer
        self._payments = payments

    # -- issuing ---------------------------------------------------------------------------------

    def prepare_issue(
        self, chain: str, mode: str, terms: BondTerms | Mapping[str, Any], *, issuer: str
    ) -> PreparedIssue:
        """Validate ``terms`` and build the bond's creation; ``issuer`` becomes its admin.

        Raises:
            InvalidInputError: a bad term (``field`` names it), mode, chain or issuer, a maturity already
                past on the chain, or a currency that is no cash token there.
        """
        checked = parse_terms(BondTerms, terms)
        access = self._ctx.chain(chain)
        currency = self._issuer.resolve_currency(access, checked.currency)
        now = access.now()
        if checked.maturity_date <= now:
            raise InvalidInputError(
                "maturity_date",
                f"the bond would be matured at issue: the {access.name} chain's time is {now}",
            )
        final = checked.model_copy(update={"currency": currency})

        def args(admin: ChecksumAddress, registry: ChecksumAddress | None) -> list[Any]:
            return [_contract_terms(final), admin, registry or "0x" + "00" * 20, registry is not None]

        return self._issuer.prepare(
            "bond", chain, mode, final.model_dump(mode="json"), issuer=issuer, args=args
        )

    def issue(self, chain: str, mode: str, terms: BondTerms | Mapping[str, Any], *, issuer: str) -> Issuance:
        """Issue a bond on ``chain`` in ``mode`` (``kyc`` or ``open``), custodially, and catalogue it."""
        return self._issuer.issue(self.prepare_issue(chain, mode, terms, issuer=issuer))

    # -- helpers ---------------------------------------------------------------------------------

    def _bond(self, asset_id: str) -> tuple[AssetRecord, Contract]:
        asset = self._ctx.asset(asset_id, kinds=("bond",))
        return asset, self._ctx.token(asset)

    def _issuer_action(
        self, asset: AssetRecord, token: Contract, sender: str, call: Call
    ) -> PreparedTransaction:
        account = check_address(sender, "sender")
        require_role(token, "supply", account, what=f"{asset.asset_id} ({asset.symbol})")
        return call.prepared(asset, token, account)

    def _period(self, asset: AssetRecord, token: Contract, period_id: int) -> tuple[int, int, bool]:
        """A coupon period's record date, record id and whether it is funded."""
        count = int(token.functions.couponPeriodCount().call())
        if not isinstance(period_id, int) or isinstance(period_id, bool) or not 0 <= period_id < count:
            raise InvalidInputError(
                "period_id", f"{asset.asset_id} has coupon periods 0 to {count - 1}; got {period_id!r}"
            )
        record_date, record_id, funded, _at, _left = token.functions.couponPeriod(period_id).call()
        return int(record_date), int(record_id), bool(funded)

    # -- coupons ---------------------------------------------------------------------------------

    def prepare_schedule_coupon(self, asset_id: str, record_date: int, *, sender: str) -> PreparedTransaction:
        """Schedule a coupon period whose holders are those at ``record_date`` (Unix time): after the issue
        date, at most the maturity, in the future and after every earlier record date (supply role)."""
        asset, token = self._bond(asset_id)
        date = check_amount(record_date, "record_date", limit=2**40 - 1)
        if int(token.functions.couponRate().call()) == 0:
            raise OperationRefusedError(f"{asset.asset_id} is a zero-coupon bond: it has no coupon periods")
        if int(token.functions.calledAt().call()):
            raise OperationRefusedError(f"{asset.asset_id} was called: no more coupon periods")
        issued, matures = int(token.functions.issueDate().call()), int(token.functions.maturityDate().call())
        now = self._ctx.chain(asset.chain).now()
        if not issued < date <= matures:
            raise InvalidInputError(
                "record_date",
                f"a coupon record date falls after the issue date ({issued}) and at most at maturity "
                f"({matures}); got {date}",
            )
        if date <= now:
            raise InvalidInputError(
                "record_date", f"a record date must be in the future: the chain's time is {now}"
            )
        count = int(token.functions.recordDateCount().call())
        if count and date <= int(token.functions.recordDate(count - 1).call()):
            last = int(token.functions.recordDate(count - 1).call())
            raise InvalidInputError("record_date", f"record dates come in order: the last one is {last}")
        return self._issuer_action(
            asset,
            token,
            sender,
            Call("scheduleCouponPeriod", [date], f"schedule a coupon at record date {date}"),
        )

    def schedule_coupon(self, asset_id: str, record_date: int, *, sender: str) -> CouponScheduled:
        """`prepare_schedule_coupon`, sent; returns the new period's id."""
        _asset, token = self._bond(asset_id)
        outcome = self._ctx.send(
            self.prepare_schedule_coupon(asset_id, record_date, sender=sender), asset_id=asset_id
        )
        events = token.events.CouponPeriodScheduled().process_receipt(outcome.receipt, errors=DISCARD)
        return CouponScheduled(
            period_id=int(events[0]["args"]["periodId"]), record_date=record_date, outcome=outcome
        )

    def coupon_owed(self, asset_id: str, period_id: int) -> int:
        """The cash that funds coupon period ``period_id``: the supply at its record date times the coupon
        per bond (the record date must have passed)."""
        asset, token = self._bond(asset_id)
        record_date, record_id, _funded = self._period(asset, token, period_id)
        now = self._ctx.chain(asset.chain).now()
        if record_date > now:
            raise OperationRefusedError(
                f"coupon period {period_id} of {asset.asset_id} has its record date at {record_date}, "
                "after the "
                f"chain's time {now}: it can be funded once the date has passed"
            )
        return int(token.functions.totalSupplyAtRecord(record_id).call()) * int(
            token.functions.couponPerBond().call()
        )

    def prepare_fund_coupon(self, asset_id: str, period_id: int, *, sender: str) -> PreparedTransaction:
        """Pay coupon period ``period_id`` into the bond (supply role); the sender must have approved the
        bond for `coupon_owed` of its cash (the custodial `fund_coupon` does that itself)."""
        return self._fund_coupon_tx(asset_id, period_id, sender, allowance=True)

    def _fund_coupon_tx(
        self, asset_id: str, period_id: int, sender: str, *, allowance: bool
    ) -> PreparedTransaction:
        asset, token = self._bond(asset_id)
        _date, _record, funded = self._period(asset, token, period_id)
        if funded:
            raise OperationRefusedError(f"coupon period {period_id} of {asset.asset_id} is already funded")
        amount = self.coupon_owed(asset_id, period_id)
        tx = self._issuer_action(
            asset,
            token,
            sender,
            Call("fundCoupon", [period_id], f"fund coupon period {period_id} with {amount}"),
        )
        self._payments.check_funds(
            asset, token.functions.currency().call(), tx.sender, amount, allowance=allowance
        )
        if allowance:
            self._payments.refuse_failing(asset, tx, payment=False)
        return tx

    def fund_coupon(self, asset_id: str, period_id: int, *, sender: str) -> Funding:
        """Fund coupon period ``period_id`` from ``sender``'s cash, approving the bond first if needed."""
        asset, token = self._bond(asset_id)
        account = check_address(sender, "sender")
        amount = self.coupon_owed(asset_id, period_id)
        self._fund_coupon_tx(asset_id, period_id, account, allowance=False)
        return self._payments.fund(
            asset,
            token.functions.currency().call(),
            account,
            amount,
            lambda: self._fund_coupon_tx(asset_id, period_id, account, allowance=True),
        )

    def prepare_claim_coupon(self, asset_id: str, period_id: int, *, sender: str) -> PreparedTransaction:
        """Claim ``sender``'s coupon for ``period_id`` (paid to it, or to the wallet it was recovered to);
        refused before sending if the bond would withhold it, with the reason."""
        asset, token = self._bond(asset_id)
        self._period(asset, token, period_id)
        tx = Call("claimCoupon", [period_id], f"claim the coupon of period {period_id}").prepared(
            asset, token, check_address(sender, "sender")
        )
        self._payments.refuse_failing(asset, tx, payment=True)
        return tx

    def claim_coupon(self, asset_id: str, period_id: int, *, sender: str) -> TxOutcome:
        """`prepare_claim_coupon`, sent."""
        return self._ctx.send(
            self.prepare_claim_coupon(asset_id, period_id, sender=sender), asset_id=asset_id
        )

    def prepare_claim_coupon_for(
        self, asset_id: str, period_id: int, holder: str, *, sender: str
    ) -> PreparedTransaction:
        """Claim ``holder``'s coupon on its behalf: the cash goes to ``holder`` (or its recovery wallet),
        never to the caller. Only that wallet or the paying agent (supply role) may."""
        asset, token = self._bond(asset_id)
        self._period(asset, token, period_id)
        wallet = check_address(holder, "holder")
        tx = Call(
            "claimCouponFor", [period_id, wallet], f"claim the coupon of period {period_id} for {wallet}"
        ).prepared(asset, token, check_address(sender, "sender"))
        self._payments.refuse_failing(asset, tx, payment=True)
        return tx

    def claim_coupon_for(self, asset_id: str, period_id: int, holder: str, *, sender: str) -> TxOutcome:
        """`prepare_claim_coupon_for`, sent."""
        return self._ctx.send(
            self.prepare_claim_coupon_for(asset_id, period_id, holder, sender=sender), asset_id=asset_id
        )

    def prepare_sweep_coupon(self, asset_id: str, period_id: int, *, sender: str) -> PreparedTransaction:
        """Return what is left of coupon period ``period_id`` to its funder once its claim period ended
        (supply role; never while paused)."""
        asset, token = self._bond(asset_id)
        self._period(asset, token, period_id)
        if int(token.functions.sweepableCoupon(period_id).call()) == 0:
            raise OperationRefusedError(
                f"nothing of coupon period {period_id} of {asset.asset_id} can be swept now: it is not "
                "funded, or "
                "its claim period has not ended, or nothing is left"
            )
        tx = self._issuer_action(
            asset, token, sender, Call("sweepCoupon", [period_id], f"sweep coupon period {period_id}")
        )
        self._payments.refuse_failing(asset, tx, payment=False)
        return tx

    def sweep_coupon(self, asset_id: str, period_id: int, *, sender: str) -> TxOutcome:
        """`prepare_sweep_coupon`, sent."""
        return self._ctx.send(
            self.prepare_sweep_coupon(asset_id, period_id, sender=sender), asset_id=asset_id
        )

    # -- call and redemption ---------------------------------------------------------------------

    def prepare_call(self, asset_id: str, *, sender: str) -> PreparedTransaction:
        """Call the bond before maturity at its call price (supply role); holders then redeem at that
        price once the redemption is funded."""
        asset, token = self._bond(asset_id)
        price, start = int(token.functions.callPrice().call()), int(token.functions.callableFrom().call())
        now = self._ctx.chain(asset.chain).now()
        if price == 0:
            raise OperationRefusedError(f"{asset.asset_id} has no call option (its call price is 0)")
        if int(token.functions.calledAt().call()):
            raise OperationRefusedError(f"{asset.asset_id} was already called")
        if now < start:
            raise OperationRefusedError(
                f"{asset.asset_id} may be called from {start}; the chain's time is {now}"
            )
        if now >= int(token.functions.maturityDate().call()):
            raise OperationRefusedError(f"{asset.asset_id} has matured: a call no longer applies")
        return self._issuer_action(
            asset, token, sender, Call("callBond", [], f"call the bond at {price} per bond")
        )

    def call(self, asset_id: str, *, sender: str) -> TxOutcome:
        """`prepare_call`, sent."""
        return self._ctx.send(self.prepare_call(asset_id, sender=sender), asset_id=asset_id)

    def redemption_owed(self, asset_id: str) -> int:
        """The cash that funds the redemption: every outstanding bond at the redemption price."""
        _asset, token = self._bond(asset_id)
        return int(token.functions.totalSupply().call()) * int(token.functions.redemptionPrice().call())

    def prepare_fund_redemption(self, asset_id: str, *, sender: str) -> PreparedTransaction:
        """Pay the redemption of every outstanding bond into the bond, after maturity or a call (supply
        role); the sender must have approved the bond for `redemption_owed` of its cash."""
        return self._fund_redemption_tx(asset_id, sender, allowance=True)

    def _fund_redemption_tx(self, asset_id: str, sender: str, *, allowance: bool) -> PreparedTransaction:
        asset, token = self._bond(asset_id)
        now = self._ctx.chain(asset.chain).now()
        matures = int(token.functions.maturityDate().call())
        if not int(token.functions.calledAt().call()) and now < matures:
            raise OperationRefusedError(
                f"{asset.asset_id} matures at {matures} (the chain's time is {now}) and was not called: the "
                "redemption can be funded from then on"
            )
        if bool(token.functions.redemptionFunded().call()):
            raise OperationRefusedError(f"the redemption of {asset.asset_id} is already funded")
        amount = self.redemption_owed(asset_id)
        tx = self._issuer_action(
            asset, token, sender, Call("fundRedemption", [], f"fund the redemption with {amount}")
        )
        self._payments.check_funds(
            asset, token.functions.currency().call(), tx.sender, amount, allowance=allowance
        )
        return tx

    def fund_redemption(self, asset_id: str, *, sender: str) -> Funding:
        """Fund the redemption from ``sender``'s cash, approving the bond first if needed."""
        asset, token = self._bond(asset_id)
        account = check_address(sender, "sender")
        self._fund_redemption_tx(asset_id, account, allowance=False)
        return self._payments.fund(
            asset,
            token.functions.currency().call(),
            account,
            self.redemption_owed(asset_id),
            lambda: self._fund_redemption_tx(asset_id, account, allowance=True),
        )

    def prepare_redeem(self, asset_id: str, amount: int, *, sender: str) -> PreparedTransaction:
        """Redeem ``amount`` of ``sender``'s bonds: burnt, and the redemption price paid to it; refused
        before sending if the bond would withhold the payment."""
        asset, token = self._bond(asset_id)
        value = check_amount(amount, "amount")
        account = check_address(sender, "sender")
        if not bool(token.functions.redemptionFunded().call()):
            raise OperationRefusedError(f"the redemption of {asset.asset_id} is not funded yet")
        held = int(token.functions.balanceOf(account).call())
        if value > held:
            raise InvalidInputError(
                "amount", f"{account} holds {held} bonds of {asset.asset_id}; got {value}"
            )
        tx = Call("redeem", [value], f"redeem {value} bonds").prepared(asset, token, account)
        # A redemption burns the holder's bonds: it is withheld while the holder could not send them.
        blocked = precheck.violations(token, account, ZERO_ADDRESS, value, precheck.HOLDER_BURN_RULES)
        self._payments.refuse_withheld(asset, tx, account, blocked)
        self._payments.refuse_failing(asset, tx, payment=True)
        return tx

    def redeem(self, asset_id: str, amount: int, *, sender: str) -> TxOutcome:
        """`prepare_redeem`, sent."""
        return self._ctx.send(self.prepare_redeem(asset_id, amount, sender=sender), asset_id=asset_id)

    def prepare_sweep_redemption(self, asset_id: str, *, sender: str) -> PreparedTransaction:
        """Return to the funder the redemption cash nobody can claim any more (supply role)."""
        asset, token = self._bond(asset_id)
        if int(token.functions.sweepableRedemption().call()) == 0:
            raise OperationRefusedError(
                f"nothing of the redemption of {asset.asset_id} can be swept now: all the cash left is still "
                "claimable (or it is not funded)"
            )
        tx = self._issuer_action(asset, token, sender, Call("sweepRedemption", [], "sweep the redemption"))
        self._payments.refuse_failing(asset, tx, payment=False)
        return tx

    def sweep_redemption(self, asset_id: str, *, sender: str) -> TxOutcome:
        """`prepare_sweep_redemption`, sent."""
        return self._ctx.send(self.prepare_sweep_redemption(asset_id, sender=sender), asset_id=asset_id)


def _contract_terms(terms: BondTerms) -> tuple[Any, ...]:
    """``BondToken.BondTerms`` in the constructor's order."""
    return (
        terms.name,
        terms.symbol,
        terms.isin,
        terms.currency,
        terms.denomination,
        terms.issue_volume,
        terms.coupon_rate_bps,
        ZERO_COUPON if terms.zero_coupon else FIXED_RATE,
        terms.coupon_frequency,
        terms.issue_date,
        terms.maturity_date,
        DAY_COUNT_CODES[terms.day_count],
        terms.call_price,
        terms.callable_from or 0,
        terms.claim_period_days * DAY,
    )
