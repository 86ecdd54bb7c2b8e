"""Investor totals and the investor count stay exact whatever the identity registry does.

A wallet's tokens count for the investor whose tokens they are: the investor the wallet was
registered to when its balance rose from zero (``holdingInvestorOf``). Unlinking that wallet, or
linking it to another investor, while it holds tokens does not move them to anyone: they keep
counting for the same investor, the wallet can neither send nor receive (rule codes 13 and 14), and
the enforcement agent moves them out (forced transfer, burn, recovery). Once empty, the wallet follows
the registry again. So, at every moment:

- every investor's total is the sum over its current wallets (those the registry links to it) plus
  any wallet unlinked or re-linked while holding its tokens;
- the investor count is the number of investors with a positive total.

The state machine at the end checks both after every step of random token and registry operations.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from .helpers import YEAR, attempt, deploy_contract, expect_revert, tx


def investor_count(token) -> int:
    return int(token.functions.complianceRules().call()[2])


# ---------------------------------------------------------------- the audit's two cases (defect 5)


def test_unlinking_a_funded_wallet_then_emptying_it_keeps_the_total_and_the_count(
    kyc_token, registry, actors
):
    token = kyc_token
    tx(token.functions.setMaxInvestors(2), actors.admin)
    tx(registry.functions.addWallet(1, actors.outsider), actors.kyc)
    tx(token.functions.mint(actors.outsider, 100), actors.admin)  # alice's investor, second wallet
    tx(token.functions.mint(actors.bob, 50), actors.admin)
    assert investor_count(token) == 2
    # The KYC provider unlinks the funded wallet; its tokens still count for alice's investor.
    tx(registry.functions.removeWallet(actors.outsider), actors.kyc)
    assert token.functions.investorBalance(1).call() == 100
    assert token.functions.holdingInvestorOf(actors.outsider).call() == 1
    # The agent empties it: part to bob, the rest burnt. Alice's investor no longer holds anything.
    tx(token.functions.forcedTransfer(actors.outsider, actors.bob, 60), actors.admin)
    tx(token.functions.burn(actors.outsider, 40), actors.admin)
    assert token.functions.investorBalance(1).call() == 0
    assert token.functions.investorBalance(2).call() == 110
    assert investor_count(token) == 1
    # With one real holder, a second investor may come in.
    tx(token.functions.transfer(actors.carol, 10), actors.bob)
    assert investor_count(token) == 2


def test_relinking_a_funded_wallet_lets_nobody_exceed_the_max_balance(kyc_token, registry, actors):
    token = kyc_token
    tx(token.functions.setMaxBalancePerInvestor(100), actors.admin)
    wallet = actors.outsider
    tx(registry.functions.addWallet(1, wallet), actors.kyc)
    tx(token.functions.mint(wallet, 100), actors.admin)
    tx(token.functions.mint(actors.bob, 100), actors.admin)
    # The registry moves the funded wallet to bob's investor.
    tx(registry.functions.removeWallet(wallet), actors.kyc)
    tx(registry.functions.addWallet(2, wallet), actors.kyc)
    # The tokens are still alice's: bob cannot use them, and nobody can add to them.
    assert token.functions.investorBalance(1).call() == 100
    assert token.functions.investorBalance(2).call() == 100
    assert token.functions.canSend(wallet).call() is False
    assert token.functions.transferViolations(wallet, actors.carol, 10).call() == [13]
    assert token.functions.transferViolations(actors.dave, wallet, 0).call() == [14]
    with expect_revert(token, "ERC7943CannotSend", wallet):
        token.functions.transfer(actors.carol, 10).transact({"from": wallet})
    with expect_revert(token, "ERC7943CannotReceive", wallet):
        token.functions.mint(wallet, 1).transact({"from": actors.admin})
    # The agent moves them back to alice's investor; the emptied wallet is bob's from then on, and bob
    # is at his limit, so it cannot receive anything for him either.
    tx(token.functions.forcedTransfer(wallet, actors.alice, 100), actors.admin)
    assert token.functions.holdingInvestorOf(wallet).call() == 0
    assert token.functions.canReceive(wallet).call() is True
    assert token.functions.investorBalance(1).call() == 100
    with expect_revert(token, "ComplianceRuleViolated", 9, actors.alice, wallet, 1):
        token.functions.transfer(wallet, 1).transact({"from": actors.alice})
    tx(token.functions.transfer(wallet, 40), actors.bob)
    assert token.functions.holdingInvestorOf(wallet).call() == 2
    assert token.functions.investorBalance(2).call() == 100


def test_a_relinked_key_wallet_cannot_happen_and_an_unlinked_one_keeps_the_total(kyc_token, registry, actors):
    # The registry never gives an investor's key wallet (where its total lives) to another investor.
    token = kyc_token
    tx(registry.functions.addWallet(1, actors.outsider), actors.kyc)
    tx(token.functions.mint(actors.outsider, 30), actors.admin)
    tx(registry.functions.removeWallet(actors.alice), actors.kyc)
    with expect_revert(registry, "IdentityRegistryWalletAlreadyRegistered", actors.alice, 1):
        registry.functions.addWallet(2, actors.alice).transact({"from": actors.kyc})
    # The unlinked key wallet still holds alice's total, and moves through it keep it exact.
    tx(token.functions.transfer(actors.bob, 10), actors.outsider)
    assert token.functions.investorBalance(1).call() == 20
    tx(token.functions.transfer(actors.bob, 20), actors.outsider)
    assert token.functions.investorBalance(1).call() == 0
    assert investor_count(token) == 1


# ---------------------------------------------------------------- the state machine

# Wallets of the machine: the five registered investors' key wallets, then two extra wallets that the
# registry links, unlinks and re-links. Investors: ids 1 to 5, plus those the machine registers.
KEYS = 5
EXTRA = 2
# Round amounts, so that wallets and investors often empty exactly (and investors leave).
AMOUNT = st.sampled_from([0, 10, 40, 80, 120])
MAX_BALANCE = 300
MAX_INVESTORS = 5
STEPS = 20


class InvestorTotals(RuleBasedStateMachine):
    """Token moves and registry changes at random; a Python model mirrors the registry's links and
    which investor each funded wallet's tokens belong to. Views are read from the chain."""

    def __init__(self, w3: Any, actors: Any) -> None:
        super().__init__()
        self.w3 = w3
        self.admin = actors.admin
        self.wallets = [actors.alice, actors.bob, actors.carol, actors.dave, actors.erin]
        self.wallets += [actors.outsider, actors.mallory]
        self.log: list[str] = []

    @initialize()
    def deploy(self) -> None:
        admin, far = self.admin, self.w3.eth.get_block("latest")["timestamp"] + 10 * YEAR
        self.registry = deploy_contract(self.w3, "IdentityRegistry", admin, sender=admin)
        keys = self.wallets[:KEYS]
        tx(
            self.registry.functions.batchRegisterInvestors(keys, [250] * KEYS, [1] * KEYS, [far] * KEYS),
            admin,
        )
        self.far = far
        self.token = deploy_contract(
            self.w3, "RegulatedTestToken", "Totals", "TOT", admin, self.registry.address, True, sender=admin
        )
        tx(self.token.functions.setMaxBalancePerInvestor(MAX_BALANCE), admin)
        tx(self.token.functions.setMaxInvestors(MAX_INVESTORS), admin)
        # The model: registry links, balances, and whose tokens each funded wallet holds.
        self.link = {w: i + 1 for i, w in enumerate(keys)}
        self.investors = KEYS
        self.balance: Counter[str] = Counter()
        self.holder: dict[str, int] = {}
        # Start with the extra wallets linked to alice and bob, and every wallet funded, so that the
        # registry changes below often touch funded wallets.
        for investor, wallet in enumerate(self.wallets[KEYS:], start=1):
            tx(self.registry.functions.addWallet(investor, wallet), admin)
            self.link[wallet] = investor
        tx(self.token.functions.batchMint(self.wallets, [40] * len(self.wallets)), admin)
        for wallet in self.wallets:
            self.credit(wallet, 40)

    # -- helpers

    def credit(self, wallet: str, amount: int) -> None:
        if amount and self.balance[wallet] == 0:
            self.holder[wallet] = self.link[wallet]
        self.balance[wallet] += amount

    def debit(self, wallet: str, amount: int) -> None:
        self.balance[wallet] -= amount

    def totals(self) -> Counter[int]:
        result: Counter[int] = Counter()
        for wallet, amount in self.balance.items():
            if amount:
                result[self.holder[wallet]] += amount
        return result

    # -- token operations

    @rule(to=st.integers(0, KEYS + EXTRA - 1), amount=AMOUNT)
    def mint(self, to: int, amount: int) -> None:
        wallet = self.wallets[to]
        self.log.append(f"mint({wallet[:6]}, {amount})")
        if attempt(self.token.functions.mint(wallet, amount), self.admin):
            self.credit(wallet, amount)
            assert self.totals()[self.link[wallet]] <= MAX_BALANCE, self.log

    @rule(frm=st.integers(0, KEYS + EXTRA - 1), to=st.integers(0, KEYS + EXTRA - 1), amount=AMOUNT)
    def transfer(self, frm: int, to: int, amount: int) -> None:
        sender, receiver = self.wallets[frm], self.wallets[to]
        self.log.append(f"transfer({sender[:6]}, {receiver[:6]}, {amount})")
        if attempt(self.token.functions.transfer(receiver, amount), sender):
            # A holder transfer only leaves a wallet that counts for its registry investor.
            assert self.balance[sender] == 0 or self.holder[sender] == self.link[sender], self.log
            self.debit(sender, amount)
            self.credit(receiver, amount)
            assert self.totals()[self.link[receiver]] <= MAX_BALANCE, self.log

    @rule(frm=st.integers(0, KEYS + EXTRA - 1), to=st.integers(0, KEYS + EXTRA - 1), amount=AMOUNT)
    def forced_transfer(self, frm: int, to: int, amount: int) -> None:
        sender, receiver = self.wallets[frm], self.wallets[to]
        self.log.append(f"forcedTransfer({sender[:6]}, {receiver[:6]}, {amount})")
        if attempt(self.token.functions.forcedTransfer(sender, receiver, amount), self.admin):
            self.debit(sender, amount)
            self.credit(receiver, amount)

    @rule(wallet=st.integers(0, KEYS + EXTRA - 1), amount=AMOUNT)
    def burn(self, wallet: int, amount: int) -> None:
        account = self.wallets[wallet]
        self.log.append(f"burn({account[:6]}, {amount})")
        if attempt(self.token.functions.burn(account, amount), self.admin):
            self.debit(account, amount)

    @rule(lost=st.integers(0, KEYS + EXTRA - 1), replacement=st.integers(0, KEYS + EXTRA - 1))
    def recover(self, lost: int, replacement: int) -> None:
        old, new = self.wallets[lost], self.wallets[replacement]
        self.log.append(f"recoverWallet({old[:6]}, {new[:6]})")
        owner = self.holder.get(old) or self.link[old]
        if attempt(self.token.functions.recoverWallet(old, new), self.admin):
            amount = self.balance.pop(old, 0)
            if amount and self.balance[new] == 0:
                self.holder[new] = owner
            self.balance[new] += amount
            # The lost wallet is frozen from now on; the test lifts that, to keep it in play.
            tx(self.token.functions.unfreezeAccount(old), self.admin)

    # -- registry operations

    @rule(wallet=st.integers(0, KEYS + EXTRA - 1))
    def remove_wallet(self, wallet: int) -> None:
        account = self.wallets[wallet]
        self.log.append(f"removeWallet({account[:6]})")
        if attempt(self.registry.functions.removeWallet(account), self.admin):
            self.link[account] = 0

    @rule(investor=st.integers(1, KEYS + 2), wallet=st.integers(KEYS, KEYS + EXTRA - 1))
    def add_wallet(self, investor: int, wallet: int) -> None:
        account = self.wallets[wallet]
        self.log.append(f"addWallet({investor}, {account[:6]})")
        if attempt(self.registry.functions.addWallet(investor, account), self.admin):
            self.link[account] = investor

    @rule(investor=st.integers(1, KEYS + 2), wallet=st.integers(KEYS, KEYS + EXTRA - 1))
    def relink_wallet(self, investor: int, wallet: int) -> None:
        """Unlink a wallet and link it to another investor, as a KYC provider correcting a mistake."""
        self.remove_wallet(wallet)
        self.add_wallet(investor, wallet)

    @rule(wallet=st.integers(KEYS, KEYS + EXTRA - 1))
    def register_investor(self, wallet: int) -> None:
        account = self.wallets[wallet]
        self.log.append(f"registerInvestor({account[:6]})")
        if attempt(self.registry.functions.registerInvestor(account, 276, 1, self.far), self.admin):
            self.investors += 1
            self.link[account] = self.investors

    # -- the invariant, read from the chain

    @invariant()
    def totals_and_count_are_exact(self) -> None:
        token, registry, log = self.token, self.registry, self.log
        balances = {w: token.functions.balanceOf(w).call() for w in self.wallets}
        assert balances == {w: self.balance[w] for w in self.wallets}, log
        holding = {w: token.functions.holdingInvestorOf(w).call() for w in self.wallets}
        assert holding == {w: self.holder[w] if balances[w] else 0 for w in self.wallets}, log
        positive = 0
        for investor in range(1, self.investors + 1):
            total = token.functions.investorBalance(investor).call()
            current = registry.functions.investor(investor).call()[4]
            # Its current wallets, plus any wallet unlinked or re-linked while it held its tokens.
            carried = [w for w in self.wallets if holding[w] == investor and w not in current]
            mine = [w for w in current if holding[w] in {0, investor}]
            assert total == sum(balances[w] for w in mine + carried) == self.totals()[investor], log
            positive += total > 0
        assert investor_count(token) == positive, log
        # A wallet holding another investor's tokens than its registry investor's can send nothing.
        for wallet in self.wallets:
            if holding[wallet] and holding[wallet] != self.link[wallet]:
                assert token.functions.canSend(wallet).call() is False, log


def test_investor_totals_under_registry_changes(w3, actors):
    class OnThisChain(InvestorTotals):
        def __init__(self) -> None:
            super().__init__(w3, actors)

    run_state_machine_as_test(
        OnThisChain,
        settings=settings(
            max_examples=6,
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
