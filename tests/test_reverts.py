"""Decoding custom errors from revert data."""

from __future__ import annotations

from eth_abi.abi import encode
from eth_utils.abi import function_signature_to_4byte_selector

from registry.artifacts import load_artifact
from registry.reverts import decode_revert


def test_decodes_a_custom_error_by_name_with_its_arguments() -> None:
    abi = load_artifact("PlainERC20").abi
    holder = "0x" + "ab" * 20
    data = function_signature_to_4byte_selector("ERC20InsufficientBalance(address,uint256,uint256)") + encode(
        ["address", "uint256", "uint256"], [holder, 5, 7]
    )
    error = decode_revert(abi, "0x" + data.hex())
    assert error is not None
    assert error.name == "ERC20InsufficientBalance"
    assert error.args == {"sender": holder, "balance": 5, "needed": 7}
    assert str(error) == f"ERC20InsufficientBalance(sender={holder}, balance=5, needed=7)"


def test_unknown_or_empty_data_decodes_to_none() -> None:
    abi = load_artifact("PlainERC20").abi
    assert decode_revert(abi, "0x") is None
    assert decode_revert(abi, None) is None
    assert decode_revert(abi, "0xdeadbeef") is None
