"""Properties over random operation sequences (hypothesis).

Each example deploys fresh contracts on the test's chain (a deployment costs milliseconds) and runs a
random sequence of holder, issuer, enforcement and KYC operations, some of which revert. After every
operation the properties are checked against the chain, and a plain Python model of the balances
(updated only by operations that succeeded) must equal the on-chain balances:

- balances always sum to the total supply (raw units for a stock, whose splits round balances);
- in kyc mode no wallet that is not verified ever receives tokens;
- a frozen amount never moves, except through the enforcement actions that may take it
  (forced transfer, burn, wallet recovery) or a change of the freeze itself;
- coupons and dividends claimed never exceed what was paid in, and all of it can be claimed once
  every holder is cleared (payments to a wallet that could not send the token are withheld).

The investor totals under identity-registry changes have their own state machine in
test_investor_totals.py.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .helpers import (
    CASH_UNIT,
    DAY,
    DENOMINATION,
    YEAR,
    ZERO_ADDRESS,
    attempt,
    deploy_contract,
    reverted,
    role,
    terms_tuple,
    tx,
)

SETTINGS = settings(
    max_examples=6,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Indexes into the wallets of a world: alice, bob, carol (verified investors), dave (verified for three
# days only), mallory (alice's second wallet) and outsider (never registered).
WALLETS = 6
wallet = st.integers(0, WALLETS - 1)
amount = st.integers(0, 400)

# Operations that may move tokens a holder froze: every other operation must leave frozen tokens alone.
TAKES_FROZEN = {"forcedTransfer", "burn", "recoverWallet"}


@dataclass
class World:
    """Fresh contracts for one example, and the model the chain must agree with."""

    w3: Any
    clock: Any
    admin: str
    wallets: list[str]
    registry: Any
    token: Any
    kyc: bool
    model: Counter[str] = field(default_factory=Counter)
    log: list[str] = field(default_factory=list)


def build_world(w3, clock, actors, name: str, kyc: bool, *args: Any, extra: tuple[Any, ...] = ()) -> World:
    admin = actors.admin
    wallets = [actors.alice, actors.bob, actors.carol, actors.dave, actors.mallory, actors.outsider]
    registry = deploy_contract(w3, "IdentityRegistry", admin, sender=admin)
    long, short = clock.now() + YEAR, clock.now() + 3 * DAY
    tx(
        registry.functions.batchRegisterInvestors(
            wallets[:4], [250, 276, 840, 250], [1, 1, 0, 0], [long] * 3 + [short]
        ),
        admin,
    )
    tx(registry.functions.addWallet(1, actors.mallory), admin)
    registry_address = registry.address if kyc else ZERO_ADDRESS
    token = deploy_contract(w3, name, *args, admin, registry_address, kyc, *extra, sender=admin)
    return World(w3, clock, admin, wallets, registry, token, kyc)


def check_supply(world: World) -> None:
    token = world.token
    balances = {w: token.functions.balanceOf(w).call() for w in world.wallets}
    assert sum(balances.values()) == token.functions.totalSupply().call(), world.log
    assert balances == {w: world.model[w] for w in world.wallets}, world.log


# ---------------------------------------------------------------- regulated token

token_ops = st.one_of(
    st.tuples(st.just("mint"), wallet, amount),
    st.tuples(st.just("transfer"), wallet, wallet, amount),
    st.tuples(st.just("batchTransfer"), wallet, wallet, wallet, amount),
    st.tuples(st.just("forcedTransfer"), wallet, wallet, amount),
    st.tuples(st.just("burn"), wallet, amount),
    st.tuples(st.just("setFrozenTokens"), wallet, amount),
    st.tuples(st.just("freezeAccount"), wallet),
    st.tuples(st.just("unfreezeAccount"), wallet),
    st.tuples(st.just("pause")),
    st.tuples(st.just("unpause")),
    st.tuples(st.just("recoverWallet"), wallet, wallet),
    st.tuples(st.just("revokeInvestor"), st.integers(1, 4)),
    st.tuples(st.just("advance"), st.integers(0, 2 * DAY)),
)


def run_token_op(world: World, op: tuple[Any, ...]) -> bool:
    """Run one operation; on success apply its effect to the model. Returns whether it succeeded."""
    token, admin, w, model = world.token, world.admin, world.wallets, world.model
    kind = op[0]
    world.log.append(repr(op))
    if kind == "advance":
        if op[1]:
            world.clock.advance(op[1])
        return True
    if kind == "revokeInvestor":
        return attempt(world.registry.functions.revokeInvestor(op[1]), admin)
    if kind == "mint":
        ok = attempt(token.functions.mint(w[op[1]], op[2]), admin)
        if ok:
            model[w[op[1]]] += op[2]
        return ok
    if kind in ("transfer", "forcedTransfer"):
        sender, receiver, value = w[op[1]], w[op[2]], op[3]
        call = (
            token.functions.transfer(receiver, value)
            if kind == "transfer"
            else token.functions.forcedTransfer(sender, receiver, value)
        )
        ok = attempt(call, sender if kind == "transfer" else admin)
        if ok:
            model[sender] -= value
            model[receiver] += value
        return ok
    if kind == "batchTransfer":
        sender, receivers, value = w[op[1]], [w[op[2]], w[op[3]]], op[4]
        ok = attempt(token.functions.batchTransfer(receivers, [value, value]), sender)
        if ok:
            model[sender] -= 2 * value
            for receiver in receivers:
                model[receiver] += value
        return ok
    if kind == "burn":
        ok = attempt(token.functions.burn(w[op[1]], op[2]), admin)
        if ok:
            model[w[op[1]]] -= op[2]
        return ok
    if kind == "recoverWallet":
        lost, replacement = w[op[1]], w[op[2]]
        ok = attempt(token.functions.recoverWallet(lost, replacement), admin)
        if ok:
            model[replacement] += model.pop(lost, 0)
        return ok
    if kind in ("setFrozenTokens",):
        return attempt(token.functions.setFrozenTokens(w[op[1]], op[2]), admin)
    if kind in ("freezeAccount", "unfreezeAccount"):
        return attempt(getattr(token.functions, kind)(w[op[1]]), admin)
    return attempt(getattr(token.functions, kind)(), admin)


def snapshot(world: World) -> dict[str, tuple[int, int]]:
    """Each wallet's (balance, frozen amount)."""
    return {
        w: (world.token.functions.balanceOf(w).call(), world.token.functions.getFrozenTokens(w).call())
        for w in world.wallets
    }


def check_step(
    world: World, op: tuple[Any, ...], before: dict[str, tuple[int, int]]
) -> dict[str, tuple[int, int]]:
    after = snapshot(world)
    balances = {w: after[w][0] for w in world.wallets}
    assert sum(balances.values()) == world.token.functions.totalSupply().call(), world.log
    assert balances == {w: world.model[w] for w in world.wallets}, world.log
    for w in world.wallets:
        (balance_before, frozen_before), (balance_after, frozen_after) = before[w], after[w]
        if world.kyc and balance_after > balance_before:
            assert world.registry.functions.isVerified(w).call(), f"unverified {w} received: {world.log}"
        if op[0] in TAKES_FROZEN or op[0] == "setFrozenTokens":
            continue
        assert frozen_after == frozen_before, world.log
        held_frozen = min(frozen_before, balance_before)
        assert balance_after >= held_frozen, f"frozen tokens of {w} moved: {world.log}"
    return after


@pytest.mark.parametrize("mode", ["kyc", "open"])
@SETTINGS
@given(ops=st.lists(token_ops, min_size=1, max_size=20))
def test_regulated_token_properties(w3, clock, actors, mode, ops):
    world = build_world(w3, clock, actors, "RegulatedTestToken", mode == "kyc", "Prop", "PRP")
    tx(world.token.functions.batchMint(world.wallets[:3], [300, 200, 100]), world.admin)
    world.model.update({world.wallets[0]: 300, world.wallets[1]: 200, world.wallets[2]: 100})
    before = snapshot(world)
    for op in ops:
        run_token_op(world, op)
        before = check_step(world, op, before)


# ---------------------------------------------------------------- bond coupons

COUPON = DENOMINATION * 500 // 10_000 // 2

bond_ops = st.one_of(
    st.tuples(st.just("transfer"), wallet, wallet, st.integers(0, 30)),
    st.tuples(st.just("forcedTransfer"), wallet, wallet, st.integers(0, 30)),
    st.tuples(st.just("mint"), wallet, st.integers(0, 30)),
    st.tuples(st.just("burn"), wallet, st.integers(0, 30)),
    st.tuples(st.just("recoverWallet"), wallet, wallet),
    st.tuples(st.just("advance"), st.integers(0, 8 * DAY)),
    st.tuples(st.just("fund"), st.integers(0, 2)),
    st.tuples(st.just("claim"), wallet, st.integers(0, 2)),
)


@SETTINGS
@given(ops=st.lists(bond_ops, min_size=1, max_size=20))
def test_coupon_claims_never_exceed_funding(w3, clock, actors, cash, ops):
    issue = clock.now()
    terms = {
        "name": "Prop Bond",
        "symbol": "PB",
        "isin": "XS0000000002",
        "currency": cash.address,
        "denomination": DENOMINATION,
        "issueVolume": 500 * DENOMINATION,
        "couponRate": 500,
        "couponType": 1,
        "couponFrequency": 2,
        "issueDate": issue,
        "maturityDate": issue + YEAR,
        "dayCountBasis": 1,
        "callPrice": 0,
        "callableFrom": 0,
        "claimPeriod": 0,
    }
    world = build_world(w3, clock, actors, "BondToken", True, terms_tuple(terms))
    bond, admin, w = world.token, world.admin, world.wallets
    tx(cash.functions.mint(admin, 10**6 * CASH_UNIT), admin)
    tx(cash.functions.approve(bond.address, 2**256 - 1), admin)
    tx(bond.functions.batchMint(w[:3], [30, 20, 10]), admin)
    world.model.update({w[0]: 30, w[1]: 20, w[2]: 10})
    for period in range(3):
        tx(bond.functions.scheduleCouponPeriod(issue + (period + 1) * 5 * DAY), admin)
    funded: Counter[int] = Counter()
    claimed: Counter[int] = Counter()
    recovered: set[str] = set()

    def check() -> None:
        check_supply(world)
        for period in range(3):
            assert claimed[period] <= funded[period], world.log
        assert cash.functions.balanceOf(bond.address).call() == sum(funded.values()) - sum(claimed.values())

    def cash_of_wallets() -> int:
        return sum(cash.functions.balanceOf(x).call() for x in w)

    for op in ops:
        if op[0] == "fund":
            world.log.append(repr(op))
            if reverted(bond.functions.fundCoupon(op[1]), admin) is None:
                amount_due = bond.functions.fundCoupon(op[1]).call({"from": admin})
                tx(bond.functions.fundCoupon(op[1]), admin)
                funded[op[1]] += amount_due
                assert amount_due == bond.functions.totalSupplyAtRecord(op[1]).call() * COUPON
        elif op[0] == "claim":
            world.log.append(repr(op))
            holder, period = w[op[1]], op[2]
            before = cash_of_wallets()
            if attempt(bond.functions.claimCoupon(period), holder):
                paid = cash_of_wallets() - before
                assert paid == bond.functions.balanceAtRecord(holder, period).call() * COUPON
                claimed[period] += paid
        elif run_token_op(world, op) and op[0] == "recoverWallet":
            recovered.add(w[op[1]])
        check()

    # Whatever was funded can be claimed in full, to the unit, once every holder is cleared: dave's
    # short KYC renewed and every freeze lifted (a recovered wallet stays frozen: it is paid through
    # its replacement). The paying agent pushes the claims.
    tx(world.registry.functions.updateInvestor(4, 250, 0, clock.now() + YEAR), admin)
    for holder in w:
        if holder not in recovered:
            tx(bond.functions.unfreezeAccount(holder), admin)
        tx(bond.functions.setFrozenTokens(holder, 0), admin)
    for period in range(3):
        if not funded[period]:
            continue
        for holder in w:
            if bond.functions.claimableCoupon(period, holder).call():
                claimed[period] += bond.functions.claimCouponFor(period, holder).call({"from": admin})
                tx(bond.functions.claimCouponFor(period, holder), admin)
        assert claimed[period] == funded[period], world.log
    check()


# ---------------------------------------------------------------- stock splits and dividends

stock_ops = st.one_of(
    st.tuples(st.just("transfer"), wallet, wallet, amount),
    st.tuples(st.just("mint"), wallet, amount),
    st.tuples(st.just("burn"), wallet, amount),
    st.tuples(
        st.just("split"), st.sampled_from([(2, 1), (1, 2), (3, 2), (2, 3), (1, 10), (10, 1), (5, 1), (7, 3)])
    ),
    st.tuples(st.just("dividend"), st.integers(1, 10**6)),
    st.tuples(st.just("advance"), st.integers(0, 2 * DAY)),
    st.tuples(st.just("claim"), wallet, st.integers(0, 3)),
)


@SETTINGS
@given(ops=st.lists(stock_ops, min_size=1, max_size=20))
def test_stock_supply_and_dividends(w3, clock, actors, cash, ops):
    world = build_world(w3, clock, actors, "StockToken", True, "Prop", "PRP", cash.address, extra=(0,))
    stock, admin, w = world.token, world.admin, world.wallets
    tx(cash.functions.mint(admin, 10**9 * CASH_UNIT), admin)
    tx(cash.functions.approve(stock.address, 2**256 - 1), admin)
    tx(stock.functions.batchMint(w[:3], [300, 200, 100]), admin)
    declared: Counter[int] = Counter()
    claimed: Counter[int] = Counter()

    def check() -> None:
        raw = [stock.functions.rawBalanceOf(x).call() for x in w]
        shares = [stock.functions.balanceOf(x).call() for x in w]
        scale = stock.functions.rawUnitsPerShare().call()
        assert sum(raw) == stock.functions.rawTotalSupply().call(), world.log
        assert shares == [r // scale for r in raw], world.log
        holders = sum(1 for r in raw if r)
        gap = stock.functions.totalSupply().call() - sum(shares)
        assert 0 <= gap <= max(holders - 1, 0), world.log
        for dividend_id in declared:
            assert claimed[dividend_id] <= declared[dividend_id], world.log

    for op in ops:
        world.log.append(repr(op))
        kind = op[0]
        if kind == "split":
            attempt(stock.functions.split(*op[1]), admin)
        elif kind == "dividend":
            record = clock.now() + DAY
            dividend_id = stock.functions.dividendCount().call()
            if attempt(stock.functions.declareDividend(record, op[1]), admin):
                declared[dividend_id] = op[1]
        elif kind == "claim":
            if op[2] in declared:
                before = cash.functions.balanceOf(w[op[1]]).call()
                if attempt(stock.functions.claimDividend(op[2]), w[op[1]]):
                    claimed[op[2]] += cash.functions.balanceOf(w[op[1]]).call() - before
        elif kind == "transfer":
            attempt(stock.functions.transfer(w[op[2]], op[3]), w[op[1]])
        elif kind == "mint":
            attempt(stock.functions.mint(w[op[1]], op[2]), admin)
        elif kind == "burn":
            attempt(stock.functions.burn(w[op[1]], op[2]), admin)
        elif op[1]:
            clock.advance(op[1])
        check()
    assert role("SUPPLY_ROLE") == stock.functions.SUPPLY_ROLE().call()
