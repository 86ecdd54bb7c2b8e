"""The JSON-RPC dispatcher: request handling, error objects, and the methods clients rely on."""

from __future__ import annotations

import json
from typing import Any

from eth_utils.abi import function_signature_to_4byte_selector
from web3 import Web3
from web3.types import RPCEndpoint

from registry.artifacts import load_artifact
from registry.chain.rpc.dispatcher import RpcDispatcher
from registry.chain.rpc.provider import EmbeddedProvider
from tests.chain.conftest import GWEI, derived_keys, sign
from tests.chain.rpc.support import request, result


def dev_address(chain, index=0):
    return chain.dev_accounts[index].address


def test_identity_methods(rpc, instant_chain):
    assert result(rpc, "eth_chainId") == hex(instant_chain.chain_id)
    assert result(rpc, "net_version") == str(instant_chain.chain_id)
    assert "permissionless" in result(rpc, "web3_clientVersion")
    assert result(rpc, "eth_accounts") == [a.address for a in instant_chain.dev_accounts]
    assert result(rpc, "eth_blockNumber") == "0x0"


def test_the_provider_answers_the_chain_id_as_the_dispatcher_does_without_asking_it(rpc, monkeypatch):
    provider = EmbeddedProvider(rpc)
    expected = rpc.handle({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})["result"]
    asked: list[Any] = []
    handle = rpc.handle

    def counted(request: Any) -> Any:
        asked.append(request)
        return handle(request)

    monkeypatch.setattr(rpc, "handle", counted)
    answer = provider.make_request(RPCEndpoint("eth_chainId"), [])
    assert answer["result"] == expected and "error" not in answer
    assert Web3(provider).eth.chain_id == int(expected, 16)
    assert asked == []
    # With parameters it is the dispatcher's to refuse, as before.
    assert provider.make_request(RPCEndpoint("eth_chainId"), [1])["error"]["code"] == -32602
    assert len(asked) == 1


def test_unknown_method_bad_params_and_bad_requests(rpc):
    assert request(rpc, "eth_doesNotExist")["error"]["code"] == -32601
    assert request(rpc, "eth_getBalance", "0x1234")["error"]["code"] == -32602
    assert request(rpc, "eth_getBalance")["error"]["code"] == -32602
    assert rpc.handle({"jsonrpc": "2.0", "id": 3, "params": []})["error"]["code"] == -32600
    assert (
        rpc.handle({"jsonrpc": "2.0", "id": 4, "method": "eth_chainId", "params": {}})["error"]["code"]
        == -32602
    )
    parsed = json.loads(rpc.handle_bytes(b"{not json"))
    assert parsed["error"]["code"] == -32700


def test_batches_answer_in_order_and_skip_notifications(rpc):
    answers = rpc.handle(
        [
            {"jsonrpc": "2.0", "id": "a", "method": "eth_chainId", "params": []},
            {"jsonrpc": "2.0", "method": "eth_blockNumber", "params": []},
            {"jsonrpc": "2.0", "id": "c", "method": "nope", "params": []},
        ]
    )
    assert [answer["id"] for answer in answers] == ["a", "c"]
    assert "result" in answers[0]
    assert "error" in answers[1]
    assert rpc.handle({"jsonrpc": "2.0", "method": "eth_chainId", "params": []}) is None
    assert rpc.handle([])["error"]["code"] == -32600


def test_revert_is_code_3_with_its_data(rpc, instant_chain):
    w3 = Web3(EmbeddedProvider(rpc))
    artifact = load_artifact("PlainERC20")
    deployer = instant_chain.dev_accounts[0].address
    tx_hash = (
        w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        .constructor(100)
        .transact({"from": deployer})
    )
    token = w3.eth.get_transaction_receipt(tx_hash)["contractAddress"]
    call = {
        "from": dev_address(instant_chain, 1),
        "to": token,
        "data": w3.eth.contract(abi=artifact.abi).encode_abi("transfer", [deployer, 5]),
    }
    response = request(rpc, "eth_call", call, "latest")
    error = response["error"]
    assert error["code"] == 3
    assert error["message"] == "execution reverted"
    selector = function_signature_to_4byte_selector("ERC20InsufficientBalance(address,uint256,uint256)")
    assert error["data"].startswith("0x" + selector.hex())
    assert request(rpc, "eth_estimateGas", call)["error"]["code"] == 3


def test_error_string_reverts_carry_the_reason_in_the_message(rpc, instant_chain):
    # Runtime code that reverts with Error("no"): store the ABI-encoded payload in memory and REVERT.
    payload = function_signature_to_4byte_selector("Error(string)") + (32).to_bytes(32, "big")
    payload += (2).to_bytes(32, "big") + b"no".ljust(32, b"\x00")
    runtime = b""
    for offset in range(0, len(payload), 32):
        runtime += (
            b"\x7f" + payload[offset : offset + 32].ljust(32, b"\x00") + b"\x60" + bytes([offset]) + b"\x52"
        )
    runtime += b"\x60" + bytes([len(payload)]) + b"\x60\x00\xfd"
    init = b"\x60" + bytes([len(runtime)]) + b"\x80\x60\x0b\x60\x00\x39\x60\x00\xf3" + runtime
    sender = instant_chain.dev_accounts[0].account
    raw = sign(sender, nonce=0, data=init, gas=300_000)
    tx_hash = result(rpc, "eth_sendRawTransaction", "0x" + raw.hex())
    receipt = result(rpc, "eth_getTransactionReceipt", tx_hash)
    error = request(rpc, "eth_call", {"to": receipt["contractAddress"], "data": "0x"})["error"]
    assert error["code"] == 3
    assert error["message"] == "execution reverted: no"


def test_transaction_refusals_are_server_errors_that_say_why(rpc, instant_chain):
    poor = derived_keys("rpc poor", 1)[0]
    raw = sign(poor, nonce=0, to=poor.address, value=1)
    error = request(rpc, "eth_sendRawTransaction", "0x" + raw.hex())["error"]
    assert error["code"] == -32000
    assert error["message"].startswith("insufficient funds")
    sender = instant_chain.dev_accounts[0].account
    result(rpc, "eth_sendRawTransaction", "0x" + sign(sender, nonce=0, to=poor.address).hex())
    error = request(
        rpc, "eth_sendRawTransaction", "0x" + sign(sender, nonce=0, to=poor.address, value=2).hex()
    )
    assert error["error"]["message"].startswith("nonce too low")


def test_nonce_balance_code_and_storage_by_block(rpc, instant_chain):
    sender = instant_chain.dev_accounts[0]
    before = int(result(rpc, "eth_getBalance", sender.address, "latest"), 16)
    result(
        rpc,
        "eth_sendRawTransaction",
        "0x" + sign(sender.account, nonce=0, to=dev_address(instant_chain, 1)).hex(),
    )
    assert result(rpc, "eth_getTransactionCount", sender.address, "latest") == "0x1"
    assert result(rpc, "eth_getTransactionCount", sender.address, "earliest") == "0x0"
    assert result(rpc, "eth_getTransactionCount", sender.address, "0x0") == "0x0"
    assert int(result(rpc, "eth_getBalance", sender.address, "0x0"), 16) == before
    assert int(result(rpc, "eth_getBalance", sender.address, "latest"), 16) < before
    assert result(rpc, "eth_getCode", sender.address, "latest") == "0x"
    assert result(rpc, "eth_getStorageAt", sender.address, "0x0", "latest") == "0x" + "00" * 32
    block_hash = result(rpc, "eth_getBlockByNumber", "0x1", False)["hash"]
    assert result(rpc, "eth_getTransactionCount", sender.address, {"blockHash": block_hash}) == "0x1"
    assert result(rpc, "eth_getBlockByNumber", "0x99", False) is None
    assert request(rpc, "eth_getBalance", sender.address, "0x99")["error"]["code"] == -32001


def test_pending_nonce_and_pending_transactions(manual_chain):
    rpc = RpcDispatcher(manual_chain)
    sender = manual_chain.dev_accounts[0]
    raws = [sign(sender.account, nonce=n, to=dev_address(manual_chain, 1)) for n in range(2)]
    hashes = [result(rpc, "eth_sendRawTransaction", "0x" + raw.hex()) for raw in raws]
    assert result(rpc, "eth_getTransactionCount", sender.address, "pending") == "0x2"
    assert result(rpc, "eth_getTransactionCount", sender.address, "latest") == "0x0"
    pending = result(rpc, "eth_getTransactionByHash", hashes[0])
    assert pending["blockHash"] is None
    assert pending["from"] == sender.address
    # With manual sealing nobody will seal it: the receipt is simply not there yet.
    assert result(rpc, "eth_getTransactionReceipt", hashes[0]) is None
    manual_chain.seal_pending()
    receipts = [result(rpc, "eth_getTransactionReceipt", tx_hash) for tx_hash in hashes]
    assert [r["transactionIndex"] for r in receipts] == ["0x0", "0x1"]
    assert int(receipts[1]["cumulativeGasUsed"], 16) == 2 * int(receipts[1]["gasUsed"], 16)


def test_receipt_of_a_dropped_transaction_is_an_error(manual_chain):
    rpc = RpcDispatcher(manual_chain)
    poor = derived_keys("rpc dropped", 1)[0]
    fee = 21_000 * 5 * GWEI
    manual_chain.send_raw_transaction(
        sign(manual_chain.dev_accounts[0].account, nonce=0, to=poor.address, value=fee + 1)
    )
    manual_chain.seal_pending()
    manual_chain.send_raw_transaction(sign(poor, nonce=0, to=poor.address, value=1))
    second = manual_chain.send_raw_transaction(sign(poor, nonce=1, to=poor.address, value=1))
    manual_chain.seal_pending()
    error = request(rpc, "eth_getTransactionReceipt", "0x" + second.hex())["error"]
    assert "dropped" in error["message"]
    assert "insufficient funds" in error["message"]


def test_get_logs_and_block_receipts(rpc, instant_chain):
    w3 = Web3(EmbeddedProvider(rpc))
    artifact = load_artifact("PlainERC20")
    deployer = instant_chain.dev_accounts[0].address
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    receipt = w3.eth.get_transaction_receipt(factory.constructor(10**6).transact({"from": deployer}))
    token = w3.eth.contract(address=receipt["contractAddress"], abi=artifact.abi)
    token.functions.transfer(dev_address(instant_chain, 1), 7).transact({"from": deployer})
    logs = result(
        rpc, "eth_getLogs", {"fromBlock": "earliest", "toBlock": "latest", "address": token.address}
    )
    assert [int(entry["data"], 16) for entry in logs] == [10**6, 7]
    none = result(rpc, "eth_getLogs", {"fromBlock": "0x0", "toBlock": "latest", "topics": ["0x" + "11" * 32]})
    assert none == []
    receipts = result(rpc, "eth_getBlockReceipts", "latest")
    assert len(receipts) == 1
    assert receipts[0]["logs"][0]["logIndex"] == "0x0"


def test_log_indexes_run_through_the_block(manual_chain):
    """Each receipt numbers its logs from where the previous transaction's logs ended."""
    rpc = RpcDispatcher(manual_chain)
    w3 = Web3(EmbeddedProvider(rpc))
    artifact = load_artifact("PlainERC20")
    deployer = manual_chain.dev_accounts[0]
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    deployment = manual_chain.send_raw_transaction(
        sign(
            deployer.account,
            nonce=0,
            data=Web3.to_bytes(hexstr=factory.constructor(10**6).data_in_transaction),
            gas=2_000_000,
        )
    )
    manual_chain.seal_pending()
    token = result(rpc, "eth_getTransactionReceipt", "0x" + deployment.hex())["contractAddress"]
    contract = w3.eth.contract(address=Web3.to_checksum_address(token), abi=artifact.abi)
    hashes = []
    for nonce in range(1, 5):
        recipient = dev_address(manual_chain, nonce)
        data = Web3.to_bytes(hexstr=contract.encode_abi("transfer", [recipient, nonce]))
        hashes.append(
            manual_chain.send_raw_transaction(
                sign(deployer.account, nonce=nonce, to=token, data=data, gas=100_000)
            )
        )
        if nonce == 2:
            # Another sender calls the token without data: it reverts (no fallback), logging nothing.
            other = manual_chain.dev_accounts[1].account
            hashes.append(manual_chain.send_raw_transaction(sign(other, nonce=0, to=token, gas=50_000)))
    block = manual_chain.seal_pending()
    assert block is not None
    assert [bytes(tx.hash) for tx in block.transactions] == hashes
    # Fetched last to first, so that no receipt benefits from an earlier one's work.
    receipts = [result(rpc, "eth_getTransactionReceipt", "0x" + h.hex()) for h in reversed(hashes)][::-1]
    assert receipts[2]["status"] == "0x0"
    indexes = [[int(entry["logIndex"], 16) for entry in receipt["logs"]] for receipt in receipts]
    assert indexes == [[0], [1], [], [2], [3]]
    assert result(rpc, "eth_getBlockReceipts", "latest") == receipts


def test_send_transaction_signs_for_development_accounts_only(rpc, instant_chain):
    tx_hash = result(
        rpc,
        "eth_sendTransaction",
        {"from": dev_address(instant_chain), "to": dev_address(instant_chain, 2), "value": "0x5"},
    )
    receipt = result(rpc, "eth_getTransactionReceipt", tx_hash)
    assert receipt["status"] == "0x1"
    error = request(rpc, "eth_sendTransaction", {"from": "0x" + "12" * 20, "to": dev_address(instant_chain)})
    assert "unknown account" in error["error"]["message"]


def test_evm_mine_and_increase_time(rpc, instant_chain):
    before = instant_chain.head().timestamp
    result(rpc, "evm_increaseTime", "0xe10")
    result(rpc, "evm_mine")
    assert instant_chain.block_number == 1
    assert instant_chain.head().timestamp >= before + 3600
    assert request(rpc, "evm_increaseTime", -5)["error"]["code"] == -32602


def test_a_pinned_timestamp_lands_exactly_and_time_then_moves_on(rpc, instant_chain):
    target = instant_chain.head().timestamp + 86_400
    result(rpc, "evm_mine", hex(target))
    assert instant_chain.head().timestamp == target
    result(rpc, "evm_setNextBlockTimestamp", hex(target + 7))
    result(rpc, "evm_mine")
    assert instant_chain.head().timestamp == target + 7
    result(rpc, "evm_mine")
    assert instant_chain.head().timestamp > target + 7
    # Time never goes back: a timestamp at or before the head's is refused and changes nothing.
    head = instant_chain.head()
    refusal = request(rpc, "evm_setNextBlockTimestamp", hex(head.timestamp))
    assert refusal["error"]["code"] == -32602
    assert "later than the head" in refusal["error"]["message"]
    assert request(rpc, "evm_mine", hex(head.timestamp - 10))["error"]["code"] == -32602
    assert instant_chain.head() == head


def test_fee_history_shape(rpc, instant_chain):
    sender = instant_chain.dev_accounts[0].account
    for nonce in range(2):
        result(rpc, "eth_sendRawTransaction", "0x" + sign(sender, nonce=nonce, to=sender.address).hex())
    history = result(rpc, "eth_feeHistory", "0x3", "latest", [25, 75])
    assert history["oldestBlock"] == "0x0"
    assert len(history["baseFeePerGas"]) == 4
    assert len(history["reward"]) == 3
    assert history["reward"][1] == [hex(GWEI), hex(GWEI)]
    assert int(result(rpc, "eth_gasPrice"), 16) == instant_chain.next_base_fee() + GWEI


def test_get_logs_range_past_the_head(rpc, instant_chain):
    sender = instant_chain.dev_accounts[0].account
    # A contract whose creation logs one LOG0 of nothing: PUSH1 0, PUSH1 0, LOG0, then returns nothing.
    tx_hash = result(
        rpc,
        "eth_sendRawTransaction",
        "0x" + sign(sender, nonce=0, data=bytes.fromhex("60006000a0"), gas=100_000).hex(),
    )
    head = instant_chain.block_number
    assert result(rpc, "eth_getTransactionReceipt", tx_hash)["logs"]
    assert len(result(rpc, "eth_getLogs", {"fromBlock": "0x0", "toBlock": hex(head + 50)})) == 1
    assert result(rpc, "eth_getLogs", {"fromBlock": hex(head + 1), "toBlock": hex(head + 50)}) == []
    assert request(rpc, "eth_getLogs", {"blockHash": "0x" + "00" * 32})["error"]["code"] == -32001


def test_get_proof_of_absent_slots_and_accounts(rpc, instant_chain):
    sender = instant_chain.dev_accounts[0].address
    proof = result(rpc, "eth_getProof", sender, ["0x0", "0x" + "ff" * 32], "latest")
    assert proof["address"] == sender
    assert int(proof["balance"], 16) == instant_chain.dev_accounts[0].balance
    assert proof["storageHash"] == "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421"
    assert [entry["key"] for entry in proof["storageProof"]] == ["0x" + "00" * 32, "0x" + "ff" * 32]
    assert all(entry["value"] == "0x0" and entry["proof"] == [] for entry in proof["storageProof"])
    too_many = request(rpc, "eth_getProof", sender, ["0x1"] * 1001, "latest")["error"]
    assert too_many["code"] == -32602
    assert "at most 1000" in too_many["message"]


def test_evm_mine_takes_anvils_options(rpc, instant_chain):
    target = instant_chain.head().timestamp + 1_000
    result(rpc, "evm_mine", {"timestamp": hex(target), "blocks": "0x3"})
    assert instant_chain.block_number == 3
    assert instant_chain.get_header(1).timestamp == target
    assert instant_chain.head().timestamp > target
    refusal = request(rpc, "evm_mine", {"interval": 5})["error"]
    assert refusal["code"] == -32602
    assert "'interval' is not supported" in refusal["message"]
