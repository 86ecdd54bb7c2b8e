"""eth_call, eth_estimateGas and eth_createAccessList beyond what every node shares (see conformance.py)."""

from __future__ import annotations

import pytest
import rlp
from eth_utils.crypto import keccak
from web3 import Web3

from registry.chain.rpc.provider import EmbeddedProvider
from registry.deploy import deploy
from tests.chain.rpc.support import request

ZERO = "0x" + "00" * 20
PROBE = "0x" + "ab" * 20
RETURNS_SLOT_7 = "0x60075460005260206000f3"  # PUSH1 7, SLOAD, PUSH1 0, MSTORE, PUSH1 32, PUSH1 0, RETURN


def get_create_address(sender: str, nonce: int) -> str:
    """The address CREATE gives: the last 20 bytes of keccak(rlp([sender, nonce]))."""
    return "0x" + keccak(rlp.encode([bytes.fromhex(sender[2:]), nonce]))[12:].hex()


def test_overrides_apply_to_the_block_asked_for_and_leave_the_chain_alone(rpc, instant_chain):
    slot_7 = "0x" + "00" * 31 + "07"
    overrides = {PROBE: {"code": RETURNS_SLOT_7, "stateDiff": {slot_7: "0x" + "00" * 31 + "2a"}}}
    result = request(rpc, "eth_call", {"to": PROBE}, "earliest", overrides)["result"]
    assert int(result, 16) == 42
    # Short slot keys and values are read as numbers, as geth reads them.
    result = request(
        rpc, "eth_call", {"to": PROBE}, "latest", {PROBE: {"code": RETURNS_SLOT_7, "state": {"0x7": "0x5"}}}
    )
    assert int(result["result"], 16) == 5
    assert request(rpc, "eth_getCode", PROBE, "latest")["result"] == "0x"
    assert instant_chain.block_number == 0


def test_a_nonce_override_moves_the_address_of_a_created_contract(rpc, instant_chain):
    deployer = instant_chain.dev_accounts[0].address
    # Creation code returning its own address (ADDRESS, PUSH1 0, MSTORE, PUSH1 32, PUSH1 0, RETURN).
    creation = {"from": deployer, "data": "0x3060005260206000f3"}

    def created(overrides):
        return Web3.to_checksum_address(
            "0x" + request(rpc, "eth_call", creation, "latest", overrides)["result"][-40:]
        )

    assert created({}) == Web3.to_checksum_address(get_create_address(deployer, 0))
    assert created({deployer: {"nonce": "0x5"}}) == Web3.to_checksum_address(get_create_address(deployer, 5))


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {PROBE: {"movePrecompileToAddress": ZERO}},
            "state override field 'movePrecompileToAddress' is not supported; the supported fields are "
            "balance, nonce, code, state, stateDiff",
        ),
        ({PROBE: {"state": {}, "stateDiff": {}}}, "send one of them"),
        ({"0x12": {"balance": "0x1"}}, "account '0x12'"),
        ({PROBE: {"state": {"0x" + "11" * 33: "0x1"}}}, "at most 32 bytes"),
        ({PROBE: {"nonce": hex(2**64)}}, "below 2**64"),
    ],
)
def test_unsupported_or_malformed_overrides_are_refused(rpc, overrides, expected):
    for method in ("eth_call", "eth_estimateGas"):
        error = request(rpc, method, {"to": PROBE}, "latest", overrides)["error"]
        assert error["code"] == -32602
        assert error["message"].startswith(f"{method}: parameter 3 (stateOverrides)")
        assert expected in error["message"]


def test_block_overrides_are_refused_rather_than_ignored(rpc):
    error = request(rpc, "eth_call", {"to": PROBE}, "latest", {}, {"time": "0x1"})["error"]
    assert error["code"] == -32602
    assert "parameter 4 (blockOverrides) is not supported" in error["message"]
    assert "result" in request(rpc, "eth_call", {"to": PROBE}, "latest", {}, {})


def test_access_list_of_a_call_through_another_contract(rpc, instant_chain):
    w3 = Web3(EmbeddedProvider(rpc))
    sender = instant_chain.dev_accounts[0].address
    contract = deploy(w3, "PlainERC20", 10, sender=sender)
    token = contract.address
    # A caller contract: BALANCE of PROBE, then STATICCALL token.totalSupply() and return its answer.
    selector = contract.encode_abi("totalSupply", [])[2:10]
    program = [
        ("73" + PROBE[2:], "PUSH20 probe"),
        ("3150", "BALANCE, POP"),
        ("63" + selector + "60e01b600052", "PUSH4 selector, PUSH1 224, SHL, PUSH1 0, MSTORE"),
        ("602060006004600073" + token[2:], "PUSH1 32, PUSH1 0, PUSH1 4, PUSH1 0, PUSH20 token"),
        ("5afa", "GAS, STATICCALL"),
        ("5060206000f3", "POP, PUSH1 32, PUSH1 0, RETURN"),
    ]
    runtime = bytes.fromhex("".join(code for code, _meaning in program))
    init = b"\x60" + bytes([len(runtime)]) + b"\x80\x60\x0b\x60\x00\x39\x60\x00\xf3" + runtime
    deployed = w3.eth.get_transaction_receipt(w3.eth.send_transaction({"from": sender, "data": init}))
    caller = deployed["contractAddress"]
    assert caller is not None
    assert int.from_bytes(w3.eth.call({"to": caller}), "big") == 10
    result = request(rpc, "eth_createAccessList", {"from": sender, "to": caller})["result"]
    # The sender and the recipient are warm anyway; the others in the order first touched.
    assert result["accessList"] == [
        {"address": Web3.to_checksum_address(PROBE), "storageKeys": []},
        {"address": token, "storageKeys": ["0x" + "00" * 31 + "02"]},
    ]
    plain = request(rpc, "eth_estimateGas", {"from": sender, "to": caller})["result"]
    # Each listed address costs 2,400 and each key 1,900 up front, but saves more on its first access.
    assert int(result["gasUsed"], 16) < int(plain, 16)


def test_create_access_list_of_a_reverting_call_is_the_revert(rpc, instant_chain):
    w3 = Web3(EmbeddedProvider(rpc))
    sender, poor = (instant_chain.dev_accounts[i].address for i in (0, 1))
    token = deploy(w3, "PlainERC20", 10, sender=sender)
    data = token.encode_abi("transfer", [sender, 5])
    error = request(rpc, "eth_createAccessList", {"from": poor, "to": token.address, "data": data})["error"]
    assert error["code"] == 3
    assert error["data"].startswith("0xe450d38c")  # ERC20InsufficientBalance
