"""Quick smoke checks of StockToken's splits and dividends (the exhaustive suite lives beside it)."""

from __future__ import annotations


def _now(w3) -> int:
    return int(w3.eth.get_block("latest")["timestamp"])


def test_split_dividend_and_snapshots(w3, deploy, chain_accounts):
    admin, a, b = (acct.address for acct in chain_accounts[:3])
    cash = deploy("CashToken", "Test USD", "TUSD", admin)
    stock = deploy("StockToken", "Acme", "ACME", cash.address, admin, "0x" + "00" * 20, False)
    stock.functions.batchMint([a, b], [10, 20]).transact()
    stock.functions.split(2, 1).transact()
    assert stock.functions.balanceOf(a).call() == 20
    assert stock.functions.totalSupply().call() == 60
    cash.functions.mint(admin, 10**12).transact()
    cash.functions.approve(stock.address, 2**256 - 1).transact()
    record = _now(w3) + 100
    stock.functions.declareDividend(record, 600).transact()
    w3.provider.ethereum_tester.time_travel(record + 1)
    stock.functions.transfer(b, 20).transact({"from": a})  # after the record date
    stock.functions.split(1, 3).transact()  # reverse split after the record date
    assert stock.functions.balanceOf(b).call() == 20  # 60 old shares / 3
    assert stock.functions.balanceAtRecord(a, 0).call() == 20  # the scale at the record date
    assert stock.functions.claimableDividend(0, a).call() == 200
    stock.functions.claimDividend(0).transact({"from": a})
    stock.functions.claimDividendFor(0, b).transact()
    assert cash.functions.balanceOf(a).call() == 200
    assert cash.functions.balanceOf(b).call() == 400
    stock.functions.mint(a, 1).transact()
    stock.functions.split(1, 2).transact()  # a holds 1 share = half of a new share
    assert stock.functions.balanceOf(a).call() == 0
    assert stock.functions.rawBalanceOf(a).call() * 2 == stock.functions.rawUnitsPerShare().call()
    stock.functions.split(2, 1).transact()
    assert stock.functions.balanceOf(a).call() == 1
