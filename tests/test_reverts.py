"""Decoding custom errors from revert data."""

from __future__ import annotations

from eth_abi.abi import encode
from eth_utils.abi import function_signature_to_4byte_selector

from registry.artifacts import load_artifact
from registry.reverts import decode_any_revert, decode_revert


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


def _encoded(signature: str, types: list[str], values: list[object]) -> bytes:
    return function_signature_to_4byte_selector(signature) + encode(types, values)


def test_any_revert_is_searched_in_every_artifact_and_solidity_s_own_errors() -> None:
    role = bytes(range(32))
    custom = _encoded(
        "AccessControlUnauthorizedAccount(address,bytes32)", ["address", "bytes32"], ["0x" + "cd" * 20, role]
    )
    error = decode_any_revert(custom)
    assert error is not None and error.name == "AccessControlUnauthorizedAccount"
    assert str(error) == f"AccessControlUnauthorizedAccount(account=0x{'cd' * 20}, neededRole=0x{role.hex()})"
    message = decode_any_revert(_encoded("Error(string)", ["string"], ["not allowed"]))
    assert message is not None and (message.name, message.args) == ("Error", {"message": "not allowed"})
    panic = decode_any_revert(_encoded("Panic(uint256)", ["uint256"], [0x11]))
    assert panic is not None and (panic.name, panic.args) == ("Panic", {"code": 0x11})


def test_unknown_or_malformed_reverts_decode_to_none() -> None:
    assert decode_any_revert(b"") is None
    assert decode_any_revert("0x12345678") is None
    # A known selector whose arguments do not decode is not that error.
    assert decode_any_revert(function_signature_to_4byte_selector("Error(string)") + b"\x01") is None
