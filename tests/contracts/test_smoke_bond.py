"""Quick smoke checks of BondToken's coupon and redemption cycle (the exhaustive suite lives beside it)."""

from __future__ import annotations

DAY = 86_400


def _now(w3) -> int:
    return int(w3.eth.get_block("latest")["timestamp"])


def _terms(w3, cash: str, **overrides):
    issue = _now(w3)
    terms = {
        "name": "Green Energy 2030",
        "symbol": "GE30",
        "isin": "XS0000000001",
        "currency": cash,
        "denomination": 1_000_000_000,  # 1,000.000000 cash units
        "issueVolume": 1_000_000_000 * 1_000,
        "couponRate": 500,
        "couponType": 1,
        "couponFrequency": 2,
        "issueDate": issue,
        "maturityDate": issue + 365 * DAY,
        "dayCountBasis": 1,
        "callPrice": 0,
        "callableFrom": 0,
    }
    terms.update(overrides)
    return terms


def _as_tuple(terms):
    # web3 encodes a struct argument from a tuple in field order, not from a dict.
    return tuple(terms.values())


def test_coupon_claim_and_redemption(w3, deploy, chain_accounts):
    admin, a, b = (acct.address for acct in chain_accounts[:3])
    tester = w3.provider.ethereum_tester
    reg = deploy("IdentityRegistry", admin)
    reg.functions.batchRegisterInvestors([a, b], [250, 276], [1, 1], [_now(w3) + 10**8] * 2).transact()
    cash = deploy("CashToken", "Test USD", "TUSD", admin)
    terms = _terms(w3, cash.address)
    bond = deploy("BondToken", _as_tuple(terms), admin, reg.address, True)
    assert bond.functions.isin().call() == "XS0000000001"
    assert bond.functions.couponPerBond().call() == 25_000_000
    bond.functions.batchMint([a, b], [10, 30]).transact()
    record = terms["issueDate"] + 180 * DAY
    bond.functions.scheduleCouponPeriod(record).transact()
    tester.time_travel(record + 1)
    bond.functions.transfer(b, 10).transact({"from": a})  # after the record date: entitlement stays with a
    cash.functions.mint(admin, 10**15).transact()
    cash.functions.approve(bond.address, 2**256 - 1).transact()
    bond.functions.fundCoupon(0).transact()
    assert cash.functions.balanceOf(bond.address).call() == 40 * 25_000_000
    assert bond.functions.claimableCoupon(0, a).call() == 10 * 25_000_000
    bond.functions.claimCoupon(0).transact({"from": a})
    bond.functions.claimCouponFor(0, b).transact({"from": a})
    assert cash.functions.balanceOf(a).call() == 10 * 25_000_000
    assert cash.functions.balanceOf(b).call() == 30 * 25_000_000
    # 30 days after the record date at ACT/360 on 5%: 1000 * 0.05 * 30 / 360 per bond.
    assert bond.functions.accruedInterest(record + 30 * DAY).call() == 1_000_000_000 * 500 * 30 // (
        10_000 * 360
    )
    tester.time_travel(terms["maturityDate"])
    bond.functions.fundRedemption().transact()
    bond.functions.redeem(40).transact({"from": b})
    assert bond.functions.totalSupply().call() == 0
    assert cash.functions.balanceOf(b).call() == 30 * 25_000_000 + 40 * 1_000_000_000
