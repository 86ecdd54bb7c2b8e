"""What every scenario uses: the open registry, seeded parties, the step log, refusals as data.

A scenario is a function ``run(demo)`` over a `Demo`. It sends through the registry's services (bonds,
stocks, cash, tokens, investors, governance) and touches raw web3 (``registry.chain(name).w3``) only where
no service fits: an attacker signing with a key of its own, an outsider deploying its own contract.

Parties are derived from the run's seed (``keccak(seed/label)``), so two runs with the same seed make the
same addresses and the same transactions; custody holds their keys in memory, so the services can sign
for them. On a registry that others use (the API server) each run takes a fresh seed, so no party of one
run collides with another's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3.contract import Contract

from registry.artifacts import load_artifact
from registry.chain.accounts import ETHER
from registry.chain.names import CHAIN_NAMES, ChainName
from registry.context import check_address
from registry.custody.transactions import PreparedTransaction, TxOutcome
from registry.demos.report import DemoReport, StepStatus
from registry.errors import ConfigurationError, RegistryError
from registry.investors.onboarding import InvestorSpec
from registry.keys import KeyService
from registry.runtime import Registry

Progress = Callable[[str, str, str, str], None]
"""``progress(chain, step, status, detail)``: hears of every step as it is recorded."""

USD = 10**6
"""One unit of the demos' cash token (6 decimals)."""
DAY = 86_400
YEAR = 365 * DAY
GAS_FOR_A_PARTY = 10 * ETHER
SWISS, GERMAN, AMERICAN = 756, 276, 840
"""ISO 3166 numeric country codes the scenarios use."""

T = TypeVar("T")


class Demo:
    """One run of one scenario on an open registry (see the module docstring)."""

    def __init__(
        self,
        registry: Registry,
        name: str,
        description: str,
        *,
        seed: str = "demo",
        progress: Progress | None = None,
        holders: int = 50,
        variant: str | None = None,
    ) -> None:
        missing = [name for name in CHAIN_NAMES if name not in registry.context.chains]
        if missing:
            raise ConfigurationError(
                f"the demos run on both chains; this registry has not opened {', '.join(missing)}"
            )
        for chain in CHAIN_NAMES:
            if registry.chain(chain).embedded is None:
                raise ConfigurationError(
                    f"the demos need the embedded {chain} chain (its faucet, validator keys and clock); "
                    f"this registry uses {registry.chain(chain).announcement}"
                )
        self.registry = registry
        self.seed = seed
        self.holders = holders
        """How many holders scenarios with a crowd create."""
        self.variant = variant
        self._progress = progress
        self._parties: dict[str, LocalAccount] = {}
        self.report = DemoReport(
            name=name,
            description=description,
            chains={chain: registry.chain(chain).announcement for chain in CHAIN_NAMES},
        )

    # -- the log -----------------------------------------------------------------------------------

    def side_by_side(
        self, column: Callable[[Demo, str], dict[str, str]], rows: Sequence[tuple[str, str]]
    ) -> None:
        """Run ``column(demo, chain)`` on each chain in turn (it returns the cells of that chain's column by
        key), then write the result table: one row per ``(label, key)``, one column per chain."""
        cells = {chain: column(self, chain) for chain in CHAIN_NAMES}
        self.report.columns = ["", *CHAIN_NAMES]
        for label, key in rows:
            self.report.row(label, *(cells[chain][key] for chain in CHAIN_NAMES))

    def step(self, chain: str, step: str, status: StepStatus, detail: str) -> None:
        """Record a step and tell the progress callback."""
        self.report.step(chain, step, status, detail)
        if self._progress is not None:
            self._progress(chain, step, status, self.report.fill(detail))

    def attempt(self, chain: str, step: str, action: Callable[[], T], done: Callable[[T], str]) -> T | None:
        """Run ``action``; record ``done(result)`` as done, or the registry's refusal as refused (None)."""
        try:
            result = action()
        except RegistryError as exc:
            self.step(chain, step, "refused", refusal(exc))
            return None
        self.step(chain, step, "done", done(result))
        return result

    @contextmanager
    def timed(self, key: str) -> Iterator[None]:
        """Measure the block's wall-clock time into ``report.timings[key]``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.report.timings[key] = round(time.perf_counter() - start, 4)

    # -- parties -----------------------------------------------------------------------------------

    def party(self, label: str) -> LocalAccount:
        """The seeded key of ``label``, held by custody on both chains (no gas, no KYC yet)."""
        account = self._parties.get(label)
        if account is None:
            account = Account.from_key(keccak(text=f"{self.seed}/{label}"))
            for chain in CHAIN_NAMES:
                self.registry.sender(chain).signers.add(account, f"demo party {label}")
            self._parties[label] = account
        return account

    def ready(self, label: str, *chains: str) -> ChecksumAddress:
        """``label``'s key made able to send on ``chains`` (default both): gas, and on the permissioned
        chain the chain-level KYC of a service key (see `registry.keys`)."""
        account = self.party(label)
        for chain in chains or CHAIN_NAMES:
            self.registry.keys.provision(account.address, chain)
        return account.address

    def fund_gas(self, chain: str, address: str, amount: int = GAS_FOR_A_PARTY) -> TxOutcome:
        """Send ``address`` ether for gas from the embedded chain's faucet, and nothing else (no KYC)."""
        faucet = KeyService.faucet(self.registry.context.chain(chain))
        assert faucet is not None  # Demo() checked that the chains are embedded
        return self.registry.context.send(
            PreparedTransaction(
                chain=self._chain(chain),
                sender=faucet,
                to=check_address(address, "address"),
                data=b"",
                value=amount,
                description="gas from the faucet",
            )
        )

    def _chain(self, chain: str) -> ChainName:
        return self.registry.context.chain(chain).name

    def send_all(self, chain: str, txs: Sequence[PreparedTransaction], *, gas: int) -> list[TxOutcome]:
        """Send many transactions that a service prepared and checked, pipelined, each with the gas limit
        ``gas`` (no estimate each: the crowd steps of a scenario then fit in a few blocks).

        Raises:
            RegistryError: the first transaction that did not land, with its reason.
        """
        if not txs:
            return []
        outcome = self.registry.sender(chain).send_many([tx.with_gas(gas) for tx in txs])
        for result in outcome.results:
            if result.status != "landed" or result.outcome is None:
                error = result.error or RegistryError(f"{result.tx.description}: did not land")
                raise error
        return [result.outcome for result in outcome.results if result.outcome is not None]

    def fund_gas_all(self, chain: str, addresses: Sequence[str], amount: int = GAS_FOR_A_PARTY) -> None:
        """`fund_gas` for many addresses, pipelined."""
        faucet = KeyService.faucet(self.registry.context.chain(chain))
        assert faucet is not None  # Demo() checked that the chains are embedded
        txs = [
            PreparedTransaction(
                chain=self._chain(chain),
                sender=faucet,
                to=check_address(address, "address"),
                data=b"",
                value=amount,
                description="gas from the faucet",
            )
            for address in addresses
        ]
        self.send_all(chain, txs, gas=21_000)

    def now(self, chain: str) -> int:
        """The timestamp of ``chain``'s latest block."""
        return self.registry.context.chain(chain).now()

    def head(self, chain: str) -> int:
        """``chain``'s latest block number."""
        return int(self.registry.chain(chain).w3.eth.block_number)

    def send(
        self, chain: str, sender: str, contract: Contract, function: str, *, args: list[Any], what: str
    ) -> TxOutcome:
        """Call ``function(*args)`` of ``contract`` from ``sender`` through custody (for contracts no
        service knows: the outsider's swap, a token approval for it)."""
        return self.registry.context.send(
            PreparedTransaction(
                chain=self._chain(chain),
                sender=check_address(sender, "sender"),
                to=contract.address,
                data=bytes(HexBytes(contract.encode_abi(function, args))),
                description=what,
            )
        )

    def deploy_swap(self, chain: str, sender: str) -> tuple[Contract, TxOutcome]:
        """Deploy the outsider's application, `TokenSwap`, from ``sender`` (custody signs)."""
        artifact = load_artifact("TokenSwap")
        outcome = self.registry.context.send(
            PreparedTransaction(
                chain=self._chain(chain),
                sender=check_address(sender, "sender"),
                to=None,
                data=bytes(HexBytes(artifact.bytecode)),
                description="deploy TokenSwap",
            )
        )
        assert outcome.contract_address is not None  # a successful creation
        return self.registry.context.chain(chain).contract("TokenSwap", outcome.contract_address), outcome

    def token(self, asset_id: str) -> Contract:
        """The contract of a catalogued asset."""
        return self.registry.context.token(self.registry.asset(asset_id))

    def onboard_crowd(self, chain: str, labels: list[str], *, country: int = SWISS) -> list[ChecksumAddress]:
        """Parties ``labels`` made verified investors of ``chain``'s identity registry in batches
        (nothing on the permissionless chain, where open-mode tokens check nobody); no gas."""
        wallets = [self.party(label).address for label in labels]
        # KYC valid for ten years: the bond scenario moves the clock past its two-year maturity.
        expiry = self.now(chain) + 10 * YEAR
        if chain == "permissioned" and wallets:
            self.registry.investors.batch_register(
                chain, [InvestorSpec(wallet=wallet, country=country, expiry=expiry) for wallet in wallets]
            )
        return wallets

    def issue_cash(self, chain: str, issuer: str) -> str:
        """A cash token (dUSD, no forced transfer) with ten million for ``issuer``; its asset id."""
        cash = self.registry.cash.issue(chain, {"name": "Demo USD", "symbol": "dUSD"}, issuer=issuer)
        self.registry.cash.mint(cash.asset.asset_id, issuer, 10_000_000 * USD, sender=issuer)
        return cash.asset.asset_id


def bond_terms(
    currency: str, now: int, *, years: int = 2, frequency: int = 2, **changes: Any
) -> dict[str, Any]:
    """Terms of the demos' 5% bond (denomination 1,000 dUSD) issued now."""
    terms: dict[str, Any] = {
        "name": "Demo 5% bond",
        "symbol": "DEMO",
        "isin": "US0378331005",
        "currency": currency,
        "denomination": 1_000 * USD,
        "issue_volume": 1_000_000 * 1_000 * USD,
        "coupon_rate_bps": 500,
        "coupon_frequency": frequency,
        "issue_date": now - DAY,
        "maturity_date": now + years * YEAR,
        "claim_period_days": 730,
    }
    terms.update(changes)
    return terms


def refusal(exc: BaseException) -> str:
    """A refusal in one line for people."""
    text = " ".join(str(exc).split())
    return text if len(text) <= 600 else text[:597] + "…"


def short(address: str) -> str:
    """``0x1234…abcd``."""
    return f"{address[:6]}…{address[-4:]}"


def usd(units: int) -> str:
    """``12,345.67 dUSD``."""
    return f"{units / USD:,.2f} dUSD"
