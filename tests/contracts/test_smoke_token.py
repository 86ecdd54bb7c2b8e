"""Quick smoke checks of the regulated-token base (the exhaustive suite lives beside it)."""

from __future__ import annotations

import ast

import pytest
from eth_tester.exceptions import TransactionFailed
from web3 import Web3


def _revert_data(exc: TransactionFailed) -> bytes:
    # eth-tester reports a custom error as the text "execution reverted: b'...'".
    return bytes(ast.literal_eval(str(exc.args[0]).removeprefix("execution reverted: ")))


def _selector(signature: str) -> bytes:
    return bytes(Web3.keccak(text=signature)[:4])


def _expect(call, signature: str, sender: str | None = None) -> bytes:
    with pytest.raises(TransactionFailed) as info:
        call.call({"from": sender} if sender else None)
    data = _revert_data(info.value)
    assert data[:4] == _selector(signature), data.hex()
    return data


def _now(w3) -> int:
    return int(w3.eth.get_block("latest")["timestamp"])


@pytest.fixture
def setup(w3, deploy, chain_accounts):
    admin, a, a2, b, c = (acct.address for acct in chain_accounts[:5])
    reg = deploy("IdentityRegistry", admin)
    expiry = _now(w3) + 10**7
    reg.functions.batchRegisterInvestors([a, b, c], [250, 276, 840], [1, 1, 0], [expiry] * 3).transact()
    reg.functions.addWallet(1, a2).transact()
    token = deploy("RegulatedTestToken", "Test", "TST", admin, reg.address, True)
    return token, reg, (admin, a, a2, b, c)


def test_kyc_rules_and_violations(w3, setup):
    token, _reg, (_admin, a, a2, b, c) = setup
    token.functions.setAccreditedOnly(True).transact()
    token.functions.setCountryRule(1).transact()
    token.functions.setCountries([250, 276, 840], True).transact()
    token.functions.mint(a, 100).transact()
    _expect(token.functions.mint(c, 1), "ComplianceRuleViolated(uint8,address,address,uint256)")
    assert token.functions.transferViolations(a, c, 500).call() == [11, 12]
    token.functions.setMaxBalancePerInvestor(50).transact()
    token.functions.transfer(b, 50).transact({"from": a})
    assert token.functions.transferViolations(a, b, 1).call() == [9]
    token.functions.transfer(a2, 10).transact({"from": a})  # same investor: no total change
    assert token.functions.investorBalanceOf(a2).call() == 50
    assert token.functions.complianceRules().call()[2] == 2  # investor count
    token.functions.transfer(b, 0).transact({"from": a2})
    assert token.functions.canTransfer(a2, a, 10).call()
    assert not token.functions.canTransfer(a2, c, 1).call()


def test_freeze_forced_transfer_recovery_and_records(w3, setup):
    token, _reg, (_admin, a, a2, b, _c) = setup
    token.functions.mint(a, 100).transact()
    token.functions.setFrozenTokens(a, 80).transact()
    data = _expect(
        token.functions.transfer(b, 30), "ERC7943InsufficientUnfrozenBalance(address,uint256,uint256)", a
    )
    assert int.from_bytes(data[-32:], "big") == 20
    _expect(token.functions.transfer(b, 101), "ERC20InsufficientBalance(address,uint256,uint256)", a)
    receipt = w3.eth.wait_for_transaction_receipt(token.functions.forcedTransfer(a, b, 30).transact())
    names = [
        token.events[e].process_log(log)["event"]
        for log, e in zip(receipt["logs"], ["Frozen", "Transfer", "ForcedTransfer"], strict=True)
    ]
    assert names == ["Frozen", "Transfer", "ForcedTransfer"]
    assert token.functions.getFrozenTokens(a).call() == 70
    record_date = _now(w3) + 100
    token.functions.scheduleRecordDate(record_date).transact()
    w3.provider.ethereum_tester.time_travel(record_date + 1)
    token.functions.transfer(a, 5).transact({"from": b})
    token.functions.freezeAccount(a).transact()
    token.functions.recoverWallet(a, a2).transact()
    assert token.functions.balanceOf(a2).call() == 75
    assert token.functions.getFrozenTokens(a2).call() == 70
    assert token.functions.isAccountFrozen(a2).call()
    assert token.functions.balanceAtRecord(a, 0).call() == 70
    assert token.functions.balanceAtRecord(b, 0).call() == 30
    assert token.functions.balanceAtRecord(a2, 0).call() == 0
    assert token.functions.totalSupplyAtRecord(0).call() == 100
    assert token.functions.recoveredWallet(a).call() == a2


def test_interface_id_and_open_mode(deploy, chain_accounts):
    admin, a, b = (acct.address for acct in chain_accounts[:3])
    token = deploy("RegulatedTestToken", "Open", "OPN", admin, "0x" + "00" * 20, False)
    assert token.functions.supportsInterface(bytes.fromhex("3edbb4c4")).call()
    token.functions.mint(a, 10).transact()
    token.functions.transfer(b, 4).transact({"from": a})
    token.functions.pause().transact()
    _expect(token.functions.transfer(b, 1), "EnforcedPause()", a)
    assert token.functions.transferViolations(a, b, 7).call() == [1, 12]
