"""eth_sign, personal_sign and eth_signTypedData_v4: development accounts only, EIP-191 and EIP-712."""

from __future__ import annotations

import json

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data

from tests.chain.rpc.support import request

PERMIT = {
    "types": {
        "EIP712Domain": [
            {"name": "name", "type": "string"},
            {"name": "chainId", "type": "uint256"},
            {"name": "verifyingContract", "type": "address"},
        ],
        "Permit": [
            {"name": "owner", "type": "address"},
            {"name": "value", "type": "uint256"},
        ],
    },
    "primaryType": "Permit",
    "domain": {"name": "Bond", "chainId": 1, "verifyingContract": "0x" + "cc" * 20},
    "message": {"owner": "0x" + "aa" * 20, "value": 10**18},
}


def test_eth_sign_and_personal_sign_give_the_same_eip_191_signature(rpc, instant_chain):
    account = instant_chain.dev_accounts[3]
    message = "0x" + b"hello".hex()
    signature = request(rpc, "eth_sign", account.address, message)["result"]
    assert request(rpc, "personal_sign", message, account.address)["result"] == signature
    expected = account.account.sign_message(encode_defunct(text="hello")).signature
    assert signature == "0x" + expected.hex()
    assert int(signature[-2:], 16) in (27, 28)


def test_typed_data_is_signed_as_an_object_or_as_its_json(rpc, instant_chain):
    account = instant_chain.dev_accounts[1]
    signature = request(rpc, "eth_signTypedData_v4", account.address, PERMIT)["result"]
    assert request(rpc, "eth_signTypedData_v4", account.address, json.dumps(PERMIT))["result"] == signature
    recovered = Account.recover_message(encode_typed_data(full_message=PERMIT), signature=signature)
    assert recovered == account.address


def test_only_development_accounts_sign(rpc):
    stranger = Account.create().address
    error = request(rpc, "eth_sign", stranger, "0x00")["error"]
    assert error["code"] == -32602
    assert stranger in error["message"]
    assert "development accounts" in error["message"]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("{not json", "the text given is not JSON"),
        (5, "must be EIP-712 typed data"),
        ({"types": {}}, "is not valid EIP-712 typed data"),
        ({**PERMIT, "message": {"owner": "nobody", "value": 1}}, "is not valid EIP-712 typed data"),
    ],
)
def test_malformed_typed_data_is_refused_plainly(rpc, instant_chain, typed, expected):
    error = request(rpc, "eth_signTypedData_v4", instant_chain.dev_accounts[0].address, typed)["error"]
    assert error["code"] == -32602
    assert error["message"].startswith("eth_signTypedData_v4: parameter 2 (typedData)")
    assert expected in error["message"]
