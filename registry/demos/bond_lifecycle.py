"""Demo: one bond's life, run on the permissioned and on the permissionless chain.

On the permissioned chain the bond is issued in ``kyc`` mode against the chain's own
identity registry (deployed at genesis), so only KYC'd wallets may hold it and an
outsider cannot even send a transaction. On the permissionless chain the same bond is
issued in ``open`` mode: anyone may buy it. Everything else, from the coupon to the
redemption, works the same way on both, and the cash reconciles to the unit.

The demo runs on fresh in-memory embedded chains, so that moving their clocks forward
(to the record date and to maturity) touches nobody's data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError, Web3RPCError
from web3.middleware import SignAndSendRawMiddlewareBuilder
from web3.types import TxReceipt, Wei

from registry.chain import connect
from registry.chain.backend import ChainHandle
from registry.chain.clock import advance_to, latest_timestamp
from registry.chain.consensus.kyc import IDENTITY_REGISTRY_ADDRESS
from registry.compliance import explain
from registry.demos.report import DemoReport, StepOutcome
from registry.deploy import deploy_with_receipt
from registry.reverts import decode_revert
from registry.settings import Settings

DAY = 86_400
USDC = 10**6
DENOMINATION = 1_000 * USDC
COUPON_BPS = 500
ALLOCATION = (100, 60, 40)
"""Bonds first sold to investors A, B and C."""


@dataclass
class _Parties:
    issuer: LocalAccount
    investors: list[LocalAccount]
    outsider: LocalAccount


class _BondRun:
    """The scenario on one chain."""

    def __init__(self, handle: ChainHandle, parties: _Parties) -> None:
        self.handle = handle
        self.w3: Web3 = handle.w3
        self.p = parties
        self.kyc = handle.name == "permissioned"
        self.cash: Contract
        self.bond: Contract
        self.cash_start: dict[str, int] = {}

    # -- helpers -------------------------------------------------------------------------------

    def _send(self, call: Any, sender: LocalAccount) -> TxReceipt:
        tx_hash = call.transact({"from": sender.address})
        return self.w3.eth.wait_for_transaction_receipt(tx_hash)

    def _now(self) -> int:
        return latest_timestamp(self.w3)

    def _advance_to(self, timestamp: int) -> None:
        advance_to(self.w3, timestamp)

    def _cash_of(self, account: LocalAccount) -> int:
        return int(self.cash.functions.balanceOf(account.address).call())

    def _everyone(self) -> list[LocalAccount]:
        return [self.p.issuer, *self.p.investors, self.p.outsider]

    # -- steps ---------------------------------------------------------------------------------

    def issue(self) -> StepOutcome:
        issuer = self.p.issuer.address
        self.cash, cash_receipt = deploy_with_receipt(
            self.w3, "CashToken", "Demo USD", "dUSD", issuer, sender=issuer
        )
        now = self._now()
        terms = (
            "Demo 5% 1Y",
            "DEMO26",
            "XS0000000001",
            self.cash.address,
            DENOMINATION,
            1_000 * DENOMINATION,
            COUPON_BPS,
            1,  # fixed rate
            1,  # one coupon a year
            now,
            now + 365 * DAY,
            2,  # ACT/365
            0,  # not callable
            0,
            5 * 365 * DAY,  # claim period: unclaimed cash may be swept back five years after funding
        )
        # In kyc mode the bond checks holders against the chain's own identity registry.
        registry = Web3.to_checksum_address(IDENTITY_REGISTRY_ADDRESS) if self.kyc else "0x" + "00" * 20
        self.bond, bond_receipt = deploy_with_receipt(
            self.w3, "BondToken", terms, issuer, registry, self.kyc, sender=issuer
        )
        gas = cash_receipt["gasUsed"] + bond_receipt["gasUsed"]
        self._send(self.cash.functions.mint(issuer, 10_000_000 * USDC), self.p.issuer)
        self.cash_start = {acct.address: self._cash_of(acct) for acct in self._everyone()}
        mode = "kyc mode, identity registry 0x1D00…0001" if self.kyc else "open mode, no identity checks"
        return StepOutcome(True, f"cash token and bond {self.bond.address[:10]}… deployed ({mode})", gas)

    def distribute(self) -> StepOutcome:
        investors = [acct.address for acct in self.p.investors]
        receipt = self._send(self.bond.functions.batchMint(investors, list(ALLOCATION)), self.p.issuer)
        held = ", ".join(f"{name} {amount}" for name, amount in zip("ABC", ALLOCATION, strict=True))
        return StepOutcome(True, f"bonds minted to investors: {held}", receipt["gasUsed"])

    def trade(self) -> StepOutcome:
        a, b = self.p.investors[0], self.p.investors[1]
        receipt = self._send(self.bond.functions.transfer(b.address, 10), a)
        return StepOutcome(True, "A sells 10 bonds to B", receipt["gasUsed"])

    def outsider_buys(self) -> StepOutcome:
        a, outsider = self.p.investors[0], self.p.outsider.address
        codes = self.bond.functions.transferViolations(a.address, outsider, 5).call()
        try:
            receipt = self._send(self.bond.functions.transfer(outsider, 5), a)
        except ContractCustomError as exc:
            error = decode_revert(self.bond.abi, exc.data if isinstance(exc.data, str) else None)
            reasons = "; ".join(v.message for v in explain(codes))
            return StepOutcome(False, f"refused by the token ({error.name if error else exc}): {reasons}")
        return StepOutcome(
            True, "A sells 5 bonds to an outsider's wallet that nobody checked", receipt["gasUsed"]
        )

    def outsider_transacts(self) -> StepOutcome:
        # The issuer pays the outsider's gas; then the outsider tries a transaction of its own.
        self._send_ether(self.p.issuer, self.p.outsider.address, 10**17)
        try:
            receipt = self._send(self.cash.functions.approve(self.p.issuer.address, 1), self.p.outsider)
        except Web3RPCError as exc:
            message = (
                exc.rpc_response.get("error", {}).get("message", str(exc)) if exc.rpc_response else str(exc)
            )
            return StepOutcome(False, f"refused by the chain: {message}")
        return StepOutcome(True, "the outsider's own transaction is accepted", receipt["gasUsed"])

    def _send_ether(self, sender: LocalAccount, to: str, value: int) -> None:
        tx_hash = self.w3.eth.send_transaction({"from": sender.address, "to": to, "value": Wei(value)})
        self.w3.eth.wait_for_transaction_receipt(tx_hash)

    def record_date(self) -> StepOutcome:
        record = self._now() + 180 * DAY
        self.period = 0
        receipt = self._send(self.bond.functions.scheduleCouponPeriod(record), self.p.issuer)
        self._advance_to(record)
        a, c = self.p.investors[0], self.p.investors[2]
        after = self._send(self.bond.functions.transfer(c.address, 20), a)
        return StepOutcome(
            True,
            "record date set and passed; A then sells 20 bonds to C (A keeps that coupon)",
            receipt["gasUsed"] + after["gasUsed"],
        )

    def fund_coupon(self) -> StepOutcome:
        owed = int(self.bond.functions.totalSupplyAtRecord(0).call()) * int(
            self.bond.functions.couponPerBond().call()
        )
        approve = self._send(self.cash.functions.approve(self.bond.address, owed), self.p.issuer)
        receipt = self._send(self.bond.functions.fundCoupon(self.period), self.p.issuer)
        return StepOutcome(
            True, f"issuer funds the coupon: {owed / USDC:,.2f} dUSD", approve["gasUsed"] + receipt["gasUsed"]
        )

    def claim(self) -> StepOutcome:
        gas, paid = 0, []
        for name, investor in zip("ABCX", [*self.p.investors, self.p.outsider], strict=True):
            due = int(self.bond.functions.claimableCoupon(self.period, investor.address).call())
            if due == 0:
                continue
            gas += self._send(self.bond.functions.claimCoupon(self.period), investor)["gasUsed"]
            paid.append(f"{name} {due / USDC:,.0f}")
        return StepOutcome(True, f"holders claim their coupons (dUSD): {', '.join(paid)}", gas)

    def redeem(self) -> StepOutcome:
        self._advance_to(int(self.bond.functions.maturityDate().call()))
        owed = int(self.bond.functions.totalSupply().call()) * DENOMINATION
        gas = self._send(self.cash.functions.approve(self.bond.address, owed), self.p.issuer)["gasUsed"]
        gas += self._send(self.bond.functions.fundRedemption(), self.p.issuer)["gasUsed"]
        for holder in [*self.p.investors, self.p.outsider]:
            held = int(self.bond.functions.balanceOf(holder.address).call())
            if held:
                gas += self._send(self.bond.functions.redeem(held), holder)["gasUsed"]
        left = int(self.bond.functions.totalSupply().call())
        return StepOutcome(
            left == 0, f"maturity: {owed / USDC:,.0f} dUSD of principal paid, {left} bonds left", gas
        )

    def reconcile(self) -> StepOutcome:
        moved = {
            acct.address: self._cash_of(acct) - self.cash_start[acct.address] for acct in self._everyone()
        }
        contract_left = int(self.cash.functions.balanceOf(self.bond.address).call())
        total = sum(moved.values()) + contract_left
        investors_gain = sum(moved[acct.address] for acct in [*self.p.investors, self.p.outsider])
        return StepOutcome(
            total == 0,
            f"issuer paid {-moved[self.p.issuer.address] / USDC:,.2f}, holders received "
            f"{investors_gain / USDC:,.2f}, left in the bond contract {contract_left}: "
            + ("reconciles to the unit" if total == 0 else f"OFF BY {total} units"),
        )


STEPS: list[tuple[str, Callable[[_BondRun], StepOutcome]]] = [
    ("issue", _BondRun.issue),
    ("distribute", _BondRun.distribute),
    ("trade between investors", _BondRun.trade),
    ("sell to a wallet without KYC", _BondRun.outsider_buys),
    ("that wallet sends a transaction", _BondRun.outsider_transacts),
    ("record date", _BondRun.record_date),
    ("fund the coupon", _BondRun.fund_coupon),
    ("claim coupons", _BondRun.claim),
    ("maturity and redemption", _BondRun.redeem),
    ("cash reconciliation", _BondRun.reconcile),
]


def run(progress: Callable[[str, str], None] | None = None) -> DemoReport:
    """Run the bond lifecycle on two fresh in-memory chains; ``progress(chain, step)`` hears of each step."""
    settings = Settings()
    report = DemoReport("bond-lifecycle", chains={})
    for name in ("permissioned", "permissionless"):
        with connect(name, settings, embedded=True, in_memory=True) as handle:
            report.chains[name] = handle.announcement
            assert handle.embedded is not None  # embedded=True above
            dev = [account.account for account in handle.embedded.dev_accounts]
            parties = _Parties(issuer=dev[0], investors=dev[1:4], outsider=Account.create())
            handle.w3.middleware_onion.inject(
                SignAndSendRawMiddlewareBuilder.build([*dev[:4], parties.outsider]), layer=0
            )
            scenario = _BondRun(handle, parties)
            for title, step in STEPS:
                if progress is not None:
                    progress(name, title)
                report.record(title, name, step(scenario))
    return report
