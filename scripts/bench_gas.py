#!/usr/bin/env python3
"""Gas of the regulated tokens against a plain OpenZeppelin ERC-20 transfer, measured in the same run.

Usage:
    python scripts/bench_gas.py [--holders N]

Every figure is the ``gasUsed`` of one transaction receipt on an in-process chain; the
ratio column divides it by a plain ERC-20 transfer between two existing holders
(``PlainERC20``). Transfers are measured on ``BondToken`` between existing holders, in
``open`` mode and in ``kyc`` mode with all five compliance rules active (country allow
list, max investors, max balance per investor, an expired lock-up, accredited-only),
in every shape a holder meets:

- between two investors' key wallets (the wallet each investor was registered with,
  whose storage word also holds the investor's total), in the current record epoch;
- between two investors' second wallets, and from a key wallet to another investor's
  second wallet, each investor holding tokens in both of its wallets;
- the first transfer after a record date, in which both accounts (and the token)
  cross the date and save a snapshot of their balance, in both modes, and between
  second wallets.

Coupon funding is measured for 10 holders and for ``--holders`` holders (1,000 by
default); pull-based coupons should make both equal.

Exits with status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from rich.console import Console
from rich.table import Table
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.types import RPCEndpoint

from registry.deploy import deploy, deploy_with_receipt

DAY = 86_400
#: Enough gas for any single benchmark transaction; a fixed limit skips gas estimation.
TX_GAS = 30_000_000
#: How many registrations or mints go into one batch transaction while setting up.
BATCH = 100
ACCREDITED = 1
FRANCE, GERMANY = 250, 276

OPEN_TARGET = 1.1
KYC_TARGET = 1.5
RECORD_DATE_TARGET = 3.0


def make_chain(n_accounts: int = 6) -> tuple[Web3, list[LocalAccount]]:
    """An in-process chain behind a `Web3` that signs for ``n_accounts`` funded local keys.

    This is the only place that knows which chain runs the benchmark: the project's own
    embedded permissionless chain, in memory, sealing each transaction as it arrives.
    """
    from web3.middleware import SignAndSendRawMiddlewareBuilder

    from registry.chain import connect
    from registry.settings import Settings

    handle = connect("permissionless", Settings(), embedded=True, in_memory=True, sealing="instant")
    assert handle.embedded is not None
    accounts = [dev.account for dev in handle.embedded.dev_accounts[:n_accounts]]
    w3 = handle.w3
    w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(accounts), layer=0)
    w3.eth.default_account = accounts[0].address
    return w3, accounts


@dataclass(frozen=True)
class Row:
    """One measured operation, with an optional upper bound on its ratio to the baseline."""

    operation: str
    gas: int
    target: float | None = None


class Bench:
    """Deploys the contracts and measures transactions on one chain."""

    def __init__(self, w3: Web3, accounts: Sequence[LocalAccount]) -> None:
        self.w3 = w3
        self.admin = accounts[0].address
        # Two investors, each with its key wallet and a second wallet.
        self.alice, self.bob = accounts[1].address, accounts[2].address
        self.alice2, self.bob2 = accounts[3].address, accounts[4].address

    def gas(self, call: ContractFunction, sender: ChecksumAddress | None = None) -> int:
        """Send ``call`` and return its receipt's gas used; raise if it reverted."""
        tx_hash = call.transact({"from": sender or self.admin, "gas": TX_GAS})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        if receipt["status"] != 1:
            raise RuntimeError(f"benchmark transaction {call.fn_name} reverted ({tx_hash.hex()})")
        return int(receipt["gasUsed"])

    def now(self) -> int:
        """Timestamp of the latest block."""
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def time_travel(self, timestamp: int) -> None:
        """Mine a block at ``timestamp`` (``evm_mine`` with a timestamp, as the chain and anvil answer it)."""
        self.w3.manager.request_blocking(RPCEndpoint("evm_mine"), [timestamp])

    def deploy(self, name: str, *args: Any) -> Contract:
        """Deploy contract ``name`` from the admin."""
        return deploy(self.w3, name, *args, sender=self.admin)

    def bond(self, cash: Contract, registry: Contract, *, kyc: bool, issue: int) -> Contract:
        """A five-year 5% semi-annual bond of 1,000 cash units, claimable for five years."""
        return self.bond_with_gas(cash, registry, kyc=kyc, issue=issue)[0]

    def bond_with_gas(
        self, cash: Contract, registry: Contract, *, kyc: bool, issue: int
    ) -> tuple[Contract, int]:
        """:meth:`bond`, and the gas its deployment used."""
        denomination = 1_000 * 10**6
        terms = (
            "Bench Bond 2031",
            "BB31",
            "XS0000000000",
            cash.address,
            denomination,
            denomination * 10**9,
            500,
            1,
            2,
            issue,
            issue + 5 * 365 * DAY,
            0,
            0,
            0,
            5 * 365 * DAY,
        )
        bond, receipt = deploy_with_receipt(
            self.w3, "BondToken", terms, self.admin, registry.address, kyc, sender=self.admin
        )
        return bond, int(receipt["gasUsed"])

    def with_rules(self, bond: Contract, issue: int) -> Contract:
        """Turn on all five compliance rules (the lock-up ends a day after issue)."""
        rules = bond.functions
        self.gas(rules.setCountryRule(1))
        self.gas(rules.setCountries([FRANCE, GERMANY], True))
        self.gas(rules.setMaxInvestors(100_000))
        self.gas(rules.setMaxBalancePerInvestor(10**9))
        self.gas(rules.setLockup(issue + DAY))
        self.gas(rules.setAccreditedOnly(True))
        return bond


def holder_addresses(count: int, salt: str) -> list[ChecksumAddress]:
    """``count`` distinct addresses nobody holds a key for (holders only receive)."""
    return [Web3.to_checksum_address(Web3.keccak(text=f"{salt}-{i}")[:20]) for i in range(count)]


def measure(holders: int) -> list[Row]:
    """Set everything up and measure each operation once."""
    w3, accounts = make_chain()
    bench = Bench(w3, accounts)
    admin, alice, bob, alice2, bob2 = bench.admin, bench.alice, bench.bob, bench.alice2, bench.bob2

    plain = bench.deploy("PlainERC20", 10**24)
    bench.gas(plain.functions.transfer(alice, 1_000))
    bench.gas(plain.functions.transfer(bob, 1_000))
    baseline = bench.gas(plain.functions.transfer(bob, 10), alice)

    registry = bench.deploy("IdentityRegistry", admin)
    issue = bench.now()
    far = issue + 100 * 365 * DAY
    bench.gas(
        registry.functions.batchRegisterInvestors(
            [alice, bob], [FRANCE, GERMANY], [ACCREDITED] * 2, [far] * 2
        )
    )
    bench.gas(registry.functions.addWallet(1, alice2))
    bench.gas(registry.functions.addWallet(2, bob2))
    cash = bench.deploy("CashToken", "Bench USD", "BUSD", admin)
    bench.gas(cash.functions.mint(admin, 10**30))

    # Steady-state bonds (no record date) and bonds whose record date the measured transfer crosses.
    open_bond = bench.bond(cash, registry, kyc=False, issue=issue)
    kyc_bond, deployment = bench.bond_with_gas(cash, registry, kyc=True, issue=issue)
    bench.with_rules(kyc_bond, issue)
    open_dated = bench.bond(cash, registry, kyc=False, issue=issue)
    kyc_dated = bench.with_rules(bench.bond(cash, registry, kyc=True, issue=issue), issue)
    kyc_dated_second = bench.with_rules(bench.bond(cash, registry, kyc=True, issue=issue), issue)
    wallets = [alice, bob, alice2, bob2]
    for bond in (open_bond, kyc_bond, open_dated, kyc_dated, kyc_dated_second):
        bench.gas(bond.functions.batchMint(wallets, [1_000] * 4))
    record = issue + 180 * DAY
    for bond in (open_dated, kyc_dated, kyc_dated_second):
        bench.gas(bond.functions.scheduleCouponPeriod(record))

    # Two bonds whose coupon period has 10 and `holders` holders.
    small, large = (bench.bond(cash, registry, kyc=True, issue=issue) for _ in range(2))
    for bond, count in ((small, 10), (large, holders)):
        addresses = holder_addresses(count, f"{bond.address}")
        for start in range(0, count, BATCH):
            chunk = addresses[start : start + BATCH]
            n = len(chunk)
            bench.gas(
                registry.functions.batchRegisterInvestors(chunk, [FRANCE] * n, [ACCREDITED] * n, [far] * n)
            )
            bench.gas(bond.functions.batchMint(chunk, [10] * n))
        bench.gas(bond.functions.mint(alice, 10))
        bench.gas(bond.functions.scheduleCouponPeriod(record))
        bench.gas(cash.functions.approve(bond.address, 2**256 - 1))

    # Past the lock-up and the record dates.
    bench.time_travel(record + DAY)

    rows = [
        Row("plain ERC-20 transfer (baseline)", baseline),
        Row("transfer, open mode", bench.gas(open_bond.functions.transfer(bob, 10), alice), OPEN_TARGET),
        Row(
            "transfer, kyc, key wallet to key wallet",
            bench.gas(kyc_bond.functions.transfer(bob, 10), alice),
            KYC_TARGET,
        ),
        Row(
            "transfer, kyc, second wallet to second wallet",
            bench.gas(kyc_bond.functions.transfer(bob2, 10), alice2),
            KYC_TARGET,
        ),
        Row(
            "transfer, kyc, key wallet to a second wallet",
            bench.gas(kyc_bond.functions.transfer(bob2, 10), alice),
            KYC_TARGET,
        ),
        Row(
            "first transfer after a record date, open mode",
            bench.gas(open_dated.functions.transfer(bob, 10), alice),
            RECORD_DATE_TARGET,
        ),
        Row(
            "first transfer after a record date, kyc, key wallets",
            bench.gas(kyc_dated.functions.transfer(bob, 10), alice),
            RECORD_DATE_TARGET,
        ),
        Row(
            "first transfer after a record date, kyc, second wallets",
            bench.gas(kyc_dated_second.functions.transfer(bob2, 10), alice2),
            RECORD_DATE_TARGET,
        ),
        Row("mint, kyc mode, to an existing holder", bench.gas(kyc_bond.functions.mint(alice, 10))),
        Row("forcedTransfer, kyc mode", bench.gas(kyc_bond.functions.forcedTransfer(alice, bob, 10))),
        Row("setFrozenTokens", bench.gas(kyc_bond.functions.setFrozenTokens(alice, 5))),
        Row("coupon funding, 10 holders", bench.gas(small.functions.fundCoupon(0))),
        Row(f"coupon funding, {holders:,} holders", bench.gas(large.functions.fundCoupon(0))),
        Row("coupon claim", bench.gas(large.functions.claimCoupon(0), alice)),
        Row("deploy BondToken (with its administration module and calendar)", deployment),
    ]
    return rows


def report(rows: list[Row], console: Console) -> bool:
    """Print the table and the targets; return whether every target was met."""
    baseline = rows[0].gas
    table = Table(title="Gas used (receipt gasUsed)", title_justify="left")
    table.add_column("operation")
    table.add_column("gas", justify="right")
    table.add_column("x plain transfer", justify="right")
    table.add_column("target", justify="right")
    all_met = True
    for row in rows:
        ratio = row.gas / baseline
        target = ""
        if row.target is not None:
            met = ratio <= row.target
            all_met &= met
            target = f"[{'green' if met else 'red'}]<= {row.target:.2f}x {'met' if met else 'MISSED'}[/]"
        table.add_row(row.operation, f"{row.gas:,}", f"{ratio:.3f}", target)
    console.print(table)

    funding = [row for row in rows if row.operation.startswith("coupon funding")]
    equal = len({row.gas for row in funding}) == 1
    all_met &= equal
    verdict = "[green]met[/]" if equal else "[red]MISSED[/]"
    console.print(
        f"coupon funding equal for {funding[0].operation.split(', ')[1]} and "
        f"{funding[1].operation.split(', ')[1]}: {verdict} ({funding[0].gas:,} vs {funding[1].gas:,})"
    )
    console.print("all targets met" if all_met else "[red]some targets missed[/]")
    return all_met


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--holders", type=int, default=1_000, help="holders of the large coupon (default 1000)"
    )
    args = parser.parse_args(argv)
    console = Console()
    with console.status(f"setting up ({args.holders:,} coupon holders)..."):
        rows = measure(args.holders)
    return 0 if report(rows, console) else 1


if __name__ == "__main__":
    sys.exit(main())
