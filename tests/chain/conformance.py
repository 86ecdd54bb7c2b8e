"""One behaviour suite for every chain backend: embedded chains (in process and over HTTP) and anvil.

Subclass `ChainConformance` and provide a ``conformance_target`` fixture returning a
`ConformanceTarget`: a `Web3` and funded keys allowed to send (on a permissioned chain,
KYC'd ones). Every test signs locally and sends raw transactions, as a wallet would, so
nothing depends on a node's unlocked accounts. Tests never assume a block layout (one
transaction per block or many), only what every Ethereum node guarantees.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import rlp
from eth_abi.abi import decode
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError, Web3RPCError
from web3.types import RPCEndpoint

from registry.artifacts import load_artifact
from tests.chain.mpt import verify_proof

SUPPLY = 1_000_000 * 10**18
GWEI = 10**9


@dataclass
class ConformanceTarget:
    """A backend under test: a `Web3` and funded keys permitted to send (index 0 deploys)."""

    name: str
    w3: Web3
    accounts: list[LocalAccount]
    extra: dict[str, Any] = field(default_factory=dict)
    permit: Callable[[str], None] | None = None
    """Lets a new address send (KYC on a permissioned chain); None where anyone may send."""


def error_selector(signature: str) -> str:
    """``0x`` + the 4-byte selector of a custom error signature."""
    return "0x" + function_signature_to_4byte_selector(signature).hex()


def decode_custom_error(abi: Any, data: Any) -> tuple[str, tuple[Any, ...]]:
    """Find the custom error of ``abi`` whose selector starts ``data`` and decode its arguments."""
    raw = HexBytes(data)
    for entry in abi:
        if entry["type"] != "error":
            continue
        types = [item["type"] for item in entry["inputs"]]
        signature = f"{entry['name']}({','.join(types)})"
        if raw[:4] == function_signature_to_4byte_selector(signature):
            return entry["name"], tuple(decode(types, raw[4:]))
    raise AssertionError(f"no custom error of the ABI matches {data}")


class ChainConformance:
    """The shared suite; subclasses provide the ``conformance_target`` fixture."""

    # -- helpers ------------------------------------------------------------------------------------

    @pytest.fixture
    def target(self, conformance_target: ConformanceTarget) -> ConformanceTarget:
        return conformance_target

    @staticmethod
    def send(
        w3: Web3,
        sender: LocalAccount,
        *,
        to: str | None = None,
        data: bytes | str = b"",
        value: int = 0,
        gas: int | None = None,
        nonce: int | None = None,
        access_list: list[Any] | None = None,
    ) -> HexBytes:
        """Sign an EIP-1559 transaction locally and send it raw; return its hash."""
        tx: dict[str, Any] = {
            "type": 2,
            "chainId": w3.eth.chain_id,
            "nonce": w3.eth.get_transaction_count(sender.address, "pending") if nonce is None else nonce,
            "value": value,
            "data": data,
            "maxPriorityFeePerGas": GWEI,
            "maxFeePerGas": 2 * w3.eth.get_block("latest")["baseFeePerGas"] + GWEI,
        }
        if to is not None:
            tx["to"] = to
        if access_list is not None:
            tx["accessList"] = access_list
        tx["gas"] = gas if gas is not None else w3.eth.estimate_gas({**tx, "from": sender.address})  # type: ignore[typeddict-item]
        signed = sender.sign_transaction(tx)
        return w3.eth.send_raw_transaction(signed.raw_transaction)

    def deploy_token(self, target: ConformanceTarget, supply: int = SUPPLY) -> Contract:
        """Deploy PlainERC20 from account 0 and return it bound."""
        w3 = target.w3
        artifact = load_artifact("PlainERC20")
        factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        data = factory.constructor(supply).data_in_transaction
        receipt = w3.eth.wait_for_transaction_receipt(
            self.send(w3, target.accounts[0], data=data), timeout=30
        )
        assert receipt["status"] == 1
        assert receipt["contractAddress"] is not None
        return w3.eth.contract(address=receipt["contractAddress"], abi=artifact.abi)

    def transfer(
        self, target: ConformanceTarget, token: Contract, sender: LocalAccount, to: str, amount: int
    ) -> Any:
        data = token.encode_abi("transfer", [to, amount])
        tx_hash = self.send(target.w3, sender, to=token.address, data=data)
        return target.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)

    # -- identity ---------------------------------------------------------------------------------------

    def test_chain_id_and_version_agree(self, target):
        w3 = target.w3
        assert int(w3.net.version) == w3.eth.chain_id
        assert w3.client_version
        assert w3.eth.block_number >= 0

    # -- contracts ---------------------------------------------------------------------------------------

    def test_deploy_then_call(self, target):
        token = self.deploy_token(target)
        w3 = target.w3
        assert len(w3.eth.get_code(token.address)) > 0
        assert token.functions.totalSupply().call() == SUPPLY
        assert token.functions.balanceOf(target.accounts[0].address).call() == SUPPLY
        # OpenZeppelin's ERC20 keeps the total supply in storage slot 2.
        assert int.from_bytes(w3.eth.get_storage_at(token.address, 2), "big") == SUPPLY

    def test_transfer_receipt_transaction_and_logs_agree(self, target):
        token = self.deploy_token(target)
        sender, recipient = target.accounts[0], target.accounts[1]
        receipt = self.transfer(target, token, sender, recipient.address, 1234)
        w3 = target.w3
        assert receipt["status"] == 1
        assert 21_000 < receipt["gasUsed"] <= receipt["cumulativeGasUsed"]
        assert receipt["effectiveGasPrice"] > 0
        assert receipt["from"] == sender.address
        assert receipt["to"] == token.address
        (event,) = token.events.Transfer().process_receipt(receipt)
        assert event["args"] == {"from": sender.address, "to": recipient.address, "value": 1234}
        assert event["blockHash"] == receipt["blockHash"]
        tx = w3.eth.get_transaction(receipt["transactionHash"])
        assert tx["from"] == sender.address
        assert tx["blockNumber"] == receipt["blockNumber"]
        assert tx["transactionIndex"] == receipt["transactionIndex"]
        assert HexBytes(tx["input"])[:4] == function_signature_to_4byte_selector("transfer(address,uint256)")
        block = w3.eth.get_block(receipt["blockNumber"])
        assert receipt["transactionHash"] in block["transactions"]
        assert token.functions.balanceOf(recipient.address).call() == 1234

    def test_get_logs_filters_by_range_address_and_topic(self, target):
        w3 = target.w3
        token = self.deploy_token(target)
        other = self.deploy_token(target)
        a, b, c = target.accounts[0], target.accounts[1], target.accounts[2]
        first = self.transfer(target, token, a, b.address, 10)
        second = self.transfer(target, token, a, c.address, 20)
        self.transfer(target, other, a, b.address, 30)
        transfer_topic = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
        to_b = "0x" + bytes(12).hex() + b.address[2:].lower()

        logs = w3.eth.get_logs(
            {"fromBlock": first["blockNumber"], "toBlock": "latest", "address": token.address}
        )
        assert [token.events.Transfer().process_log(entry)["args"]["value"] for entry in logs] == [10, 20]

        logs = w3.eth.get_logs(
            {"fromBlock": first["blockNumber"], "toBlock": "latest", "topics": [transfer_topic, None, to_b]}
        )
        assert sorted(int.from_bytes(entry["data"], "big") for entry in logs) == [10, 30]

        logs = w3.eth.get_logs(
            {
                "fromBlock": first["blockNumber"],
                "toBlock": "latest",
                "address": [token.address, other.address],
            }
        )
        assert len(logs) == 3

        logs = w3.eth.get_logs({"blockHash": second["blockHash"], "address": token.address})
        assert 20 in [int.from_bytes(entry["data"], "big") for entry in logs]

    # -- reverts -----------------------------------------------------------------------------------------

    def test_call_revert_decodes_the_custom_error(self, target):
        token = self.deploy_token(target)
        poor, rich = target.accounts[1], target.accounts[0]
        with pytest.raises(ContractCustomError) as caught:
            token.functions.transfer(rich.address, 5).call({"from": poor.address})
        data = caught.value.data
        assert isinstance(data, str)
        assert data.startswith(error_selector("ERC20InsufficientBalance(address,uint256,uint256)"))
        name, args = decode_custom_error(token.abi, data)
        assert name == "ERC20InsufficientBalance"
        assert args == (poor.address.lower(), 0, 5)

    def test_estimate_gas_of_a_reverting_transaction_raises_the_custom_error(self, target):
        token = self.deploy_token(target)
        poor = target.accounts[1]
        with pytest.raises(ContractCustomError) as caught:
            token.functions.transfer(target.accounts[0].address, 1).estimate_gas({"from": poor.address})
        assert decode_custom_error(token.abi, caught.value.data)[0] == "ERC20InsufficientBalance"

    def test_reverting_transaction_is_mined_with_status_zero(self, target):
        token = self.deploy_token(target)
        poor = target.accounts[1]
        data = token.encode_abi("transfer", [target.accounts[0].address, 1])
        tx_hash = self.send(target.w3, poor, to=token.address, data=data, gas=100_000)
        receipt = target.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
        assert receipt["status"] == 0
        assert receipt["logs"] == []

    # -- accounts and nonces -------------------------------------------------------------------------------

    def test_value_transfer_moves_exactly_value_plus_fee(self, target):
        w3 = target.w3
        sender, recipient = target.accounts[0], target.accounts[3]
        before_sender = w3.eth.get_balance(sender.address)
        before_recipient = w3.eth.get_balance(recipient.address)
        tx_hash = self.send(w3, sender, to=recipient.address, value=12345, gas=21_000)
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
        fee = receipt["gasUsed"] * receipt["effectiveGasPrice"]
        assert receipt["gasUsed"] == 21_000
        assert w3.eth.get_balance(recipient.address) == before_recipient + 12345
        assert w3.eth.get_balance(sender.address) == before_sender - 12345 - fee

    def test_nonces_count_mined_and_pending_transactions(self, target):
        w3 = target.w3
        sender = target.accounts[2]
        start = w3.eth.get_transaction_count(sender.address)
        hashes = [
            self.send(w3, sender, to=target.accounts[3].address, value=1, gas=21_000, nonce=start + i)
            for i in range(5)
        ]
        receipts = [w3.eth.wait_for_transaction_receipt(h, timeout=30) for h in hashes]
        assert all(r["status"] == 1 for r in receipts)
        # Several transactions of one sender may share a block, but always in nonce order.
        positions = [(r["blockNumber"], r["transactionIndex"]) for r in receipts]
        assert positions == sorted(positions)
        assert w3.eth.get_transaction_count(sender.address) == start + 5
        assert w3.eth.get_transaction_count(sender.address, "pending") == start + 5

    def test_reused_nonce_is_refused_and_says_so(self, target):
        w3 = target.w3
        sender = target.accounts[0]
        nonce = w3.eth.get_transaction_count(sender.address)
        w3.eth.wait_for_transaction_receipt(
            self.send(w3, sender, to=sender.address, value=1, gas=21_000, nonce=nonce), timeout=30
        )
        with pytest.raises(Web3RPCError) as caught:
            self.send(w3, sender, to=sender.address, value=2, gas=21_000, nonce=nonce)
        assert "nonce" in str(caught.value).lower()

    def test_unfunded_sender_is_refused_for_insufficient_funds(self, target):
        w3 = target.w3
        pauper = Account.from_key(keccak(text=f"pauper of {target.name}"))
        if target.permit is not None:
            target.permit(pauper.address)  # else a permissioned chain names the missing KYC first
        tx = {
            "type": 2,
            "chainId": w3.eth.chain_id,
            "nonce": 0,
            "to": target.accounts[0].address,
            "value": 10**18,
            "gas": 21_000,
            "maxFeePerGas": 2 * w3.eth.get_block("latest")["baseFeePerGas"] + GWEI,
            "maxPriorityFeePerGas": GWEI,
        }
        with pytest.raises(Web3RPCError) as caught:
            w3.eth.send_raw_transaction(pauper.sign_transaction(tx).raw_transaction)
        assert "insufficient funds" in str(caught.value).lower()

    # -- blocks --------------------------------------------------------------------------------------------

    def test_blocks_link_keep_their_gas_limit_and_never_go_back_in_time(self, target):
        w3 = target.w3
        token = self.deploy_token(target)
        for amount in (1, 2, 3):
            self.transfer(target, token, target.accounts[0], target.accounts[1].address, amount)
        head = w3.eth.get_block("latest")
        assert head["number"] >= 3
        blocks = [w3.eth.get_block(n) for n in range(head["number"] - 3, head["number"] + 1)]
        for parent, child in itertools.pairwise(blocks):
            assert child["parentHash"] == parent["hash"]
            assert child["number"] == parent["number"] + 1
            assert child["timestamp"] >= parent["timestamp"]
            assert child["gasLimit"] == parent["gasLimit"]
        by_hash = w3.eth.get_block(head["hash"], full_transactions=True)
        assert by_hash["number"] == head["number"]
        assert [tx["hash"] for tx in by_hash["transactions"]] == list(head["transactions"])
        assert w3.eth.get_block("earliest")["number"] == 0

    def test_fee_market_answers(self, target):
        w3 = target.w3
        assert w3.eth.gas_price > 0
        assert w3.eth.max_priority_fee >= 0
        history = w3.eth.fee_history(2, "latest", [50])
        assert len(history["baseFeePerGas"]) == len(history["gasUsedRatio"]) + 1
        assert len(history["reward"]) == len(history["gasUsedRatio"])

    def test_burst_of_transfers_from_several_senders_all_land(self, target):
        w3 = target.w3
        token = self.deploy_token(target)
        a, b = target.accounts[0], target.accounts[1]
        self.transfer(target, token, a, b.address, 1_000)
        hashes = []
        for sender, to in ((a, b), (b, a)):
            start = w3.eth.get_transaction_count(sender.address, "pending")
            for i in range(4):
                data = token.encode_abi("transfer", [to.address, 1])
                hashes.append(self.send(w3, sender, to=token.address, data=data, gas=80_000, nonce=start + i))
        receipts = [w3.eth.wait_for_transaction_receipt(h, timeout=30) for h in hashes]
        assert all(r["status"] == 1 for r in receipts)
        assert token.functions.balanceOf(b.address).call() == 1_000

    # -- submission checks ---------------------------------------------------------------------------

    def signed(self, target: ConformanceTarget, **fields: Any) -> bytes:
        """A transfer from account 0 to account 1 with ``fields`` changed, signed (not sent)."""
        w3 = target.w3
        sender = target.accounts[0]
        tx: dict[str, Any] = {
            "type": 2,
            "chainId": w3.eth.chain_id,
            "nonce": w3.eth.get_transaction_count(sender.address, "pending"),
            "to": target.accounts[1].address,
            "value": 1,
            "gas": 21_000,
            "maxPriorityFeePerGas": GWEI,
            "maxFeePerGas": 2 * w3.eth.get_block("latest")["baseFeePerGas"] + GWEI,
        }
        tx.update(fields)
        return bytes(sender.sign_transaction(tx).raw_transaction)

    def refusal(self, target: ConformanceTarget, raw: bytes) -> str:
        with pytest.raises(Web3RPCError) as caught:
            target.w3.eth.send_raw_transaction(raw)
        return str(caught.value).lower()

    def test_gas_below_the_intrinsic_gas_is_refused_at_submission(self, target):
        assert "intrinsic gas too low" in self.refusal(target, self.signed(target, gas=20_999))

    def test_gas_above_the_block_gas_limit_is_refused(self, target):
        limit = target.w3.eth.get_block("latest")["gasLimit"]
        message = self.refusal(target, self.signed(target, gas=limit + 1))
        assert "block" in message
        assert "gas" in message
        assert "limit" in message

    def test_a_transaction_for_another_chain_is_refused(self, target):
        other = target.w3.eth.chain_id + 1
        assert "invalid chain id" in self.refusal(target, self.signed(target, chainId=other))

    def test_a_tip_above_the_max_fee_is_refused(self, target):
        raw = self.signed(target, maxPriorityFeePerGas=10 * GWEI, maxFeePerGas=5 * GWEI)
        assert "max priority fee per gas higher than max fee per gas" in self.refusal(target, raw)

    def test_creation_code_above_the_eip_3860_limit_is_refused(self, target):
        raw = self.signed(target, to=None, data=b"\x00" * (2 * 24_576 + 1), gas=10_000_000)
        assert "initcode size" in self.refusal(target, raw)

    # -- logs and filters ---------------------------------------------------------------------------

    def test_get_logs_to_a_block_past_the_head_stops_at_the_head(self, target):
        w3 = target.w3
        token = self.deploy_token(target)
        receipt = self.transfer(target, token, target.accounts[0], target.accounts[1].address, 5)
        head = w3.eth.block_number
        logs = w3.eth.get_logs(
            {"fromBlock": receipt["blockNumber"], "toBlock": head + 1_000, "address": token.address}
        )
        assert [int.from_bytes(entry["data"], "big") for entry in logs] == [5]

    def test_a_log_filter_reports_each_new_log_once(self, target):
        token = self.deploy_token(target)
        # No fromBlock: geth and this node report only blocks added after the filter, but anvil also
        # reports the blocks of an explicit fromBlock (even "latest") on the first poll.
        log_filter = target.w3.eth.filter({"address": token.address})
        a, b = target.accounts[0], target.accounts[1]

        def new_values() -> list[int]:
            entries = log_filter.get_new_entries()
            return [token.events.Transfer().process_log(entry)["args"]["value"] for entry in entries]

        self.transfer(target, token, a, b.address, 10)
        self.transfer(target, token, a, b.address, 20)
        assert new_values() == [10, 20]
        assert new_values() == []
        self.transfer(target, token, a, b.address, 30)
        assert new_values() == [30]

    def test_filter_logs_answer_the_whole_range(self, target):
        w3 = target.w3
        token = self.deploy_token(target)
        start = w3.eth.block_number
        self.transfer(target, token, target.accounts[0], target.accounts[1].address, 7)
        event_filter = token.events.Transfer.create_filter(from_block=start)
        assert [entry["args"]["value"] for entry in event_filter.get_all_entries()] == [SUPPLY, 7]
        assert w3.eth.uninstall_filter(event_filter.filter_id) is True
        assert w3.eth.uninstall_filter(event_filter.filter_id) is False

    def test_block_and_pending_transaction_filters(self, target):
        w3 = target.w3
        blocks = w3.eth.filter("latest")
        pending = w3.eth.filter("pending")
        sender = target.accounts[2]
        tx_hash = self.send(w3, sender, to=target.accounts[3].address, value=1, gas=21_000)
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
        assert receipt["blockHash"] in blocks.get_new_entries()
        assert tx_hash in pending.get_new_entries()
        assert pending.get_new_entries() == []
        w3.eth.uninstall_filter(blocks.filter_id)
        with pytest.raises(Web3RPCError) as caught:
            w3.eth.get_filter_changes(blocks.filter_id)
        assert "filter not found" in str(caught.value)

    # -- calls ---------------------------------------------------------------------------------------

    def test_call_state_overrides_are_applied(self, target):
        w3 = target.w3
        token = self.deploy_token(target)
        stranger = Account.from_key(keccak(text=f"override stranger of {target.name}")).address
        copy = Account.from_key(keccak(text=f"override copy of {target.name}")).address
        # OpenZeppelin's ERC20 keeps balances in the mapping at slot 0 and the total supply in slot 2.
        balance_slot = "0x" + keccak(bytes(12) + bytes.fromhex(stranger[2:]) + bytes(32)).hex()
        amount = "0x" + (4242).to_bytes(32, "big").hex()
        code = w3.eth.get_code(token.address)
        balance_of = token.encode_abi("balanceOf", [stranger])
        total_supply = token.encode_abi("totalSupply", [])

        def call(to: str, data: str, overrides: dict[str, Any]) -> int:
            answer = w3.eth.call({"to": to, "data": data}, "latest", overrides)
            return int.from_bytes(answer, "big")

        assert call(token.address, balance_of, {}) == 0
        assert call(token.address, balance_of, {token.address: {"stateDiff": {balance_slot: amount}}}) == 4242
        # stateDiff keeps the other slots; state replaces the whole storage.
        assert (
            call(token.address, total_supply, {token.address: {"stateDiff": {balance_slot: amount}}})
            == SUPPLY
        )
        assert call(token.address, total_supply, {token.address: {"state": {balance_slot: amount}}}) == 0
        # Code at an empty address, with storage of its own.
        assert call(copy, balance_of, {copy: {"code": code, "state": {balance_slot: amount}}}) == 4242
        # The override changed nothing for good.
        assert call(token.address, balance_of, {}) == 0
        assert w3.eth.get_code(copy) == b""

    def test_overrides_reach_the_evm_in_calls_and_estimates(self, target):
        w3 = target.w3
        probe = Account.from_key(keccak(text=f"override probe of {target.name}")).address
        # Runtime code: SELFBALANCE, PUSH1 0, MSTORE, PUSH1 32, PUSH1 0, RETURN.
        returns_own_balance = "0x4760005260206000f3"
        answer = w3.eth.call(
            {"to": probe, "data": "0x"},
            "latest",
            {probe: {"code": returns_own_balance, "balance": hex(123_456)}},
        )
        assert int.from_bytes(answer, "big") == 123_456
        # From a sender allowed to send (KYC'd on the permissioned chain), to code that writes a slot.
        call = {"from": target.accounts[3].address, "to": probe}
        assert w3.eth.estimate_gas(call) == 21_000
        writes_slot_0 = "0x600160005500"  # PUSH1 1, PUSH1 0, SSTORE, STOP
        estimate = w3.eth.estimate_gas(call, "latest", {probe: {"code": writes_slot_0}})
        assert estimate > 21_000 + 20_000

    def test_create_access_list_names_the_slots_a_transfer_touches(self, target):
        w3 = target.w3
        token = self.deploy_token(target)
        sender, recipient = target.accounts[0], target.accounts[3]
        data = token.encode_abi("transfer", [recipient.address, 9])
        answer = w3.provider.make_request(
            RPCEndpoint("eth_createAccessList"),
            [{"from": sender.address, "to": token.address, "data": data}, "latest"],
        )
        result = answer["result"]

        def balance_slot(holder: str) -> str:
            return "0x" + keccak(bytes(12) + bytes.fromhex(holder[2:]) + bytes(32)).hex()

        assert len(result["accessList"]) == 1
        (entry,) = result["accessList"]
        assert entry["address"].lower() == token.address.lower()
        assert set(entry["storageKeys"]) == {balance_slot(sender.address), balance_slot(recipient.address)}
        tx_hash = self.send(
            w3,
            sender,
            to=token.address,
            data=data,
            gas=int(result["gasUsed"], 16),
            access_list=result["accessList"],
        )
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
        assert receipt["status"] == 1
        assert receipt["gasUsed"] == int(result["gasUsed"], 16)

    # -- signing, pool, proofs ---------------------------------------------------------------------

    def test_node_accounts_sign_messages_and_typed_data(self, target):
        w3 = target.w3
        account = w3.eth.accounts[0]
        message = b"sign in to the registry"
        for method, params in (
            ("eth_sign", [account, "0x" + message.hex()]),
            ("personal_sign", ["0x" + message.hex(), account]),
        ):
            signature = w3.provider.make_request(RPCEndpoint(method), params)["result"]
            assert Account.recover_message(encode_defunct(primitive=message), signature=signature) == account
        typed = {
            "types": {
                "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "chainId", "type": "uint256"}],
                "Vote": [{"name": "proposal", "type": "uint256"}, {"name": "support", "type": "bool"}],
            },
            "primaryType": "Vote",
            "domain": {"name": "registry", "chainId": w3.eth.chain_id},
            "message": {"proposal": 7, "support": True},
        }
        signature = w3.provider.make_request(RPCEndpoint("eth_signTypedData_v4"), [account, typed])["result"]
        assert Account.recover_message(encode_typed_data(full_message=typed), signature=signature) == account
        stranger = Account.from_key(keccak(text=f"signing stranger of {target.name}")).address
        refused = w3.provider.make_request(RPCEndpoint("eth_sign"), [stranger, "0x00"])
        assert "error" in refused

    def test_txpool_shows_a_transaction_waiting_for_a_missing_nonce(self, target):
        w3 = target.w3
        sender = target.accounts[3]
        gap = w3.eth.get_transaction_count(sender.address, "pending") + 2
        tx_hash = self.send(w3, sender, to=target.accounts[0].address, value=1, gas=21_000, nonce=gap)
        status = w3.provider.make_request(RPCEndpoint("txpool_status"), [])["result"]
        assert int(status["queued"], 16) >= 1
        content = w3.provider.make_request(RPCEndpoint("txpool_content"), [])["result"]
        queued = {address.lower(): by_nonce for address, by_nonce in content["queued"].items()}
        entry = queued[sender.address.lower()][str(gap)]
        assert entry["hash"] == tx_hash.to_0x_hex()
        assert entry["blockHash"] is None
        assert int(entry["nonce"], 16) == gap

    def test_get_proof_checks_against_the_block_state_root(self, target):
        w3 = target.w3
        token = self.deploy_token(target)
        absent = Account.from_key(keccak(text=f"proof absentee of {target.name}")).address
        block = w3.eth.get_block("latest")
        # A storage key as 32 bytes: anvil refuses the short form 0x2.
        proof = w3.eth.get_proof(token.address, ["0x" + (2).to_bytes(32, "big").hex()], block["number"])
        encoded = verify_proof(
            bytes(block["stateRoot"]),
            keccak(bytes.fromhex(token.address[2:])),
            [bytes(node) for node in proof["accountProof"]],
        )
        assert encoded is not None
        nonce, balance, storage_root, code_hash = rlp.decode(encoded)
        assert int.from_bytes(nonce, "big") == proof["nonce"]
        assert int.from_bytes(balance, "big") == proof["balance"]
        assert storage_root == bytes(proof["storageHash"])
        assert code_hash == bytes(proof["codeHash"]) == keccak(w3.eth.get_code(token.address))
        (slot,) = proof["storageProof"]
        stored = verify_proof(
            storage_root, keccak((2).to_bytes(32, "big")), [bytes(n) for n in slot["proof"]]
        )
        assert stored is not None
        # web3.py shows the slot's value as bytes.
        assert int.from_bytes(rlp.decode(stored), "big") == int.from_bytes(slot["value"], "big") == SUPPLY
        nothing = w3.eth.get_proof(absent, [], block["number"])
        key = keccak(bytes.fromhex(absent[2:]))
        assert (
            verify_proof(bytes(block["stateRoot"]), key, [bytes(n) for n in nothing["accountProof"]]) is None
        )
        assert nothing["balance"] == 0
