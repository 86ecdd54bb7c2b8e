"""`registry.calldata.encode_call` gives exactly web3.py's call data, for names and overloads alike."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from eth_typing import ChecksumAddress
from eth_utils.crypto import keccak
from web3 import Web3

from registry.artifacts import load_artifact
from registry.calldata import encode_call
from registry.errors import InvalidInputError


def _address(byte: str) -> ChecksumAddress:
    return Web3.to_checksum_address("0x" + byte * 20)


def _abi(name: str) -> Any:
    return load_artifact(name).abi


def test_encode_call_matches_web3() -> None:
    w3 = Web3()
    token = w3.eth.contract(address=_address("11"), abi=_abi("BondToken"))
    registry = w3.eth.contract(address=_address("22"), abi=_abi("IdentityRegistry"))
    wallets = [Account.from_key(keccak(text=f"calldata {i}")).address for i in range(5)]
    amounts = [1, 2**200, 3, 0, 7]
    for contract, function, args in (
        (token, "batchMint", [wallets, amounts]),
        (token, "batchTransfer(address[],uint256[])", [wallets, amounts]),
        (token, "mint", [wallets[0], 10]),
        (registry, "batchRegisterInvestors", [wallets, [756] * 5, [0, 1, 2, 3, 0], [2**40 - 1] * 5]),
    ):
        assert "0x" + encode_call(contract, function, args).hex() == contract.encode_abi(function, args)


def test_an_overloaded_name_or_a_bad_value_is_refused() -> None:
    token = Web3().eth.contract(address=_address("11"), abi=_abi("BondToken"))
    with pytest.raises(InvalidInputError, match="give its signature"):
        encode_call(token, "batchTransfer", [[], []])
    with pytest.raises(Exception, match="address"):
        encode_call(token, "mint", ["not an address", 1])
