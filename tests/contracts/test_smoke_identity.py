"""Quick smoke checks of IdentityRegistry (the exhaustive suite lives beside it)."""

from __future__ import annotations

import ast

import pytest
from eth_tester.exceptions import TransactionFailed
from web3 import Web3


def _revert_data(exc: TransactionFailed) -> bytes:
    # eth-tester reports a custom error as the text "execution reverted: b'...'".
    message = str(exc.args[0])
    return bytes(ast.literal_eval(message.removeprefix("execution reverted: ")))


def _now(w3) -> int:
    return int(w3.eth.get_block("latest")["timestamp"])


def test_register_add_revoke(w3, deploy, chain_accounts):
    admin, a1, a2, b1 = (acct.address for acct in chain_accounts[:4])
    reg = deploy("IdentityRegistry", admin)
    expiry = _now(w3) + 3600
    reg.functions.registerInvestor(a1, 250, 1, expiry).transact()
    assert reg.functions.isVerified(a1).call()
    assert not reg.functions.isVerified(a2).call()
    reg.functions.addWallet(1, a2).transact()
    assert reg.functions.investorOf(a2).call() == 1
    country, attributes, kyc, revoked, wallets = reg.functions.investor(1).call()
    assert (country, attributes, kyc, revoked, wallets) == (250, 1, expiry, False, [a1, a2])
    rec_a, rec_b = reg.functions.walletRecords(a2, b1).call()
    assert rec_a & ((1 << 160) - 1) == int(a1, 16) and rec_b == 0
    reg.functions.revokeInvestor(1).transact()
    assert not reg.functions.isVerified(a1).call() and not reg.functions.isVerified(a2).call()
    with pytest.raises(TransactionFailed) as info:
        reg.functions.updateInvestor(1, 250, 0, expiry).call()
    assert _revert_data(info.value)[:4] == Web3.keccak(text="IdentityRegistryInvestorRevoked(uint32)")[:4]
    reg.functions.removeWallet(a1).transact()
    assert reg.functions.investor(1).call()[4] == [a2]
    # a1 stays investor 1's key even after removal: it cannot start another investor.
    with pytest.raises(TransactionFailed) as info:
        reg.functions.registerInvestor(a1, 276, 0, expiry).call()
    selector = Web3.keccak(text="IdentityRegistryWalletAlreadyRegistered(address,uint32)")[:4]
    assert _revert_data(info.value)[:4] == selector
    c1 = chain_accounts[4].address
    ids = reg.functions.batchRegisterInvestors([b1, c1], [276, 840], [0, 3], [expiry, expiry]).call()
    assert ids == [2, 3]
