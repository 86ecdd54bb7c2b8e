"""The Ethereum JSON-RPC dispatcher of an embedded chain, shared by the in-process provider and HTTP.

`RpcDispatcher.handle` takes a decoded JSON-RPC request (or a batch) and returns the
response object(s). Both `registry.chain.rpc.provider.EmbeddedProvider` (web3.py in process)
and `registry.chain.rpc.server` (HTTP for any client) go through it, so a client sees the
same answers and the same errors either way.

Errors (JSON-RPC error objects):

    3        execution reverted; ``data`` is the revert payload (web3.py and ethers decode
             custom errors from it), ``message`` is "execution reverted" (plus the reason of
             an ``Error(string)``)
    -32000   transaction refused: "nonce too low", "insufficient funds for gas * price + value",
             "max fee per gas less than block base fee", "replacement transaction underpriced"...
    -32003   sender not permitted on this chain
    -32001   unknown block
    -32004   not supported on this chain (interventions on the permissionless chain)
    -32601   unknown method;  -32602 bad parameters;  -32600 bad request;  -32700 bad JSON
    -32603   internal error

Besides the standard methods, a few development methods that anvil and hardhat also
answer: ``evm_mine`` (optionally at a timestamp), ``evm_increaseTime``,
``evm_setNextBlockTimestamp``, ``eth_sendTransaction`` for the development
accounts (unlocked, as on any development node).
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from eth.abc import BlockAPI, BlockHeaderAPI, ReceiptAPI
from eth_bloom.bloom import BloomFilter

import registry
from registry.chain.errors import (
    RPC_INTERNAL_ERROR,
    RPC_INVALID_PARAMS,
    BlockNotFoundError,
    ChainError,
    InvalidTransactionError,
    RevertError,
)
from registry.chain.node.chain import EmbeddedChain
from registry.chain.rpc import serializers as ser
from registry.chain.rpc.serializers import JSON, RpcParamsError

logger = logging.getLogger(__name__)

RPC_PARSE_ERROR = -32700
RPC_INVALID_REQUEST = -32600
RPC_METHOD_NOT_FOUND = -32601

PRIORITY_FEE = 10**9
"""Suggested tip per gas (1 gwei), as anvil suggests."""

RECENT_LOG_OFFSETS = 64
"""Blocks whose log offsets the dispatcher keeps (receipts are fetched soon after sealing)."""

MAX_LOG_BLOCK_RANGE = 100_000
"""Widest block range one ``eth_getLogs`` request may scan."""

_ERROR_STRING_SELECTOR = bytes.fromhex("08c379a0")


class RpcMethodNotFoundError(LookupError):
    """The method does not exist on this node."""


def _revert_message(error: RevertError) -> str:
    if error.data[:4] == _ERROR_STRING_SELECTOR:
        try:
            from eth_abi.abi import decode

            (reason,) = decode(["string"], error.data[4:])
            return f"execution reverted: {reason}"
        except Exception:
            # A malformed Error(string) payload still is a revert; keep the plain message.
            return "execution reverted"
    return str(error) or "execution reverted"


def error_object(exc: BaseException) -> JSON:
    """The JSON-RPC error object for ``exc``."""
    if isinstance(exc, RevertError):
        return {"code": exc.rpc_code, "message": _revert_message(exc), "data": ser.data(exc.data)}
    if isinstance(exc, ChainError):
        return {"code": exc.rpc_code, "message": str(exc)}
    if isinstance(exc, RpcParamsError):
        return {"code": exc.rpc_code, "message": str(exc)}
    if isinstance(exc, RpcMethodNotFoundError):
        return {"code": RPC_METHOD_NOT_FOUND, "message": str(exc)}
    return {"code": RPC_INTERNAL_ERROR, "message": f"internal error: {type(exc).__name__}: {exc}"}


def parse_error(exc: Exception) -> JSON:
    """The JSON-RPC response to a body that is not JSON."""
    return {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": RPC_PARSE_ERROR, "message": f"parse error: {exc}"},
    }


class RpcDispatcher:
    """Answers Ethereum JSON-RPC requests from one `EmbeddedChain`."""

    def __init__(self, chain: EmbeddedChain) -> None:
        self.chain = chain
        """The chain answered for."""
        self._recent_offsets: OrderedDict[bytes, list[int]] = OrderedDict()
        self._offsets_lock = threading.Lock()
        self._methods: dict[str, Callable[[list[Any]], Any]] = {
            "web3_clientVersion": self._client_version,
            "web3_sha3": self._sha3,
            "net_version": lambda _p: str(self.chain.chain_id),
            "net_listening": lambda _p: True,
            "net_peerCount": lambda _p: "0x0",
            "eth_chainId": lambda _p: ser.quantity(self.chain.chain_id),
            "eth_syncing": lambda _p: False,
            "eth_mining": lambda _p: self.chain.sealing != "manual",
            "eth_coinbase": lambda _p: ser.address(b"\x00" * 20),
            "eth_accounts": lambda _p: [account.address for account in self.chain.dev_accounts],
            "eth_blockNumber": lambda _p: ser.quantity(self.chain.block_number),
            "eth_gasPrice": lambda _p: ser.quantity(self.chain.next_base_fee() + PRIORITY_FEE),
            "eth_maxPriorityFeePerGas": lambda _p: ser.quantity(PRIORITY_FEE),
            "eth_blobBaseFee": lambda _p: ser.quantity(1),
            "eth_feeHistory": self._fee_history,
            "eth_getBlockByNumber": self._get_block_by_number,
            "eth_getBlockByHash": self._get_block_by_hash,
            "eth_getBlockTransactionCountByNumber": self._block_tx_count_by_number,
            "eth_getBlockTransactionCountByHash": self._block_tx_count_by_hash,
            "eth_getBlockReceipts": self._get_block_receipts,
            "eth_getUncleCountByBlockNumber": lambda _p: "0x0",
            "eth_getUncleCountByBlockHash": lambda _p: "0x0",
            "eth_getTransactionByHash": self._get_transaction_by_hash,
            "eth_getTransactionByBlockNumberAndIndex": self._get_transaction_by_number_and_index,
            "eth_getTransactionByBlockHashAndIndex": self._get_transaction_by_hash_and_index,
            "eth_getTransactionReceipt": self._get_transaction_receipt,
            "eth_getTransactionCount": self._get_transaction_count,
            "eth_getBalance": self._get_balance,
            "eth_getCode": self._get_code,
            "eth_getStorageAt": self._get_storage_at,
            "eth_call": self._call,
            "eth_estimateGas": self._estimate_gas,
            "eth_sendRawTransaction": self._send_raw_transaction,
            "eth_sendTransaction": self._send_transaction,
            "eth_getLogs": self._get_logs,
            "evm_mine": self._evm_mine,
            "evm_increaseTime": self._evm_increase_time,
            "evm_setNextBlockTimestamp": self._evm_set_next_block_timestamp,
        }

    @property
    def methods(self) -> list[str]:
        """Every method this dispatcher answers, sorted."""
        return sorted(self._methods)

    # -- requests and responses -------------------------------------------------------------------

    def handle_bytes(self, body: bytes) -> bytes | None:
        """Answer a raw HTTP body (one request or a batch); None when nothing is to be sent back."""
        try:
            request = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            response: Any = parse_error(exc)
        else:
            response = self.handle(request)
        if response is None:
            return None
        return json.dumps(response).encode()

    def handle(self, request: Any) -> Any:
        """Answer a decoded request object, or a batch (a list) of them.

        Returns the response object, a list of them for a batch, or None when every
        request was a notification (no ``id``).
        """
        if isinstance(request, list):
            if not request:
                return self._invalid(None, "an empty batch is not a request")
            responses = [self._handle_one(item) for item in request]
            answered = [response for response in responses if response is not None]
            return answered or None
        return self._handle_one(request)

    def _invalid(self, request_id: Any, message: str) -> JSON:
        return {
            "jsonrpc": "2.0",
            "id": request_id,
            "error": {"code": RPC_INVALID_REQUEST, "message": message},
        }

    def _handle_one(self, request: Any) -> JSON | None:
        if not isinstance(request, dict) or not isinstance(request.get("method"), str):
            request_id = request.get("id") if isinstance(request, dict) else None
            return self._invalid(request_id, "a request is an object with a string 'method'")
        is_notification = "id" not in request
        request_id = request.get("id")
        params = request.get("params", [])
        if params is None:
            params = []
        if not isinstance(params, list):
            return {
                "jsonrpc": "2.0",
                "id": request_id,
                "error": {"code": RPC_INVALID_PARAMS, "message": "params must be an array"},
            }
        try:
            result = self.call(request["method"], params)
        except Exception as exc:
            if not isinstance(exc, (ChainError, RpcParamsError, RpcMethodNotFoundError)):
                logger.exception("JSON-RPC %s failed", request["method"])
            response: JSON = {"jsonrpc": "2.0", "id": request_id, "error": error_object(exc)}
        else:
            response = {"jsonrpc": "2.0", "id": request_id, "result": result}
        return None if is_notification else response

    def call(self, method: str, params: list[Any]) -> Any:
        """Run ``method`` with ``params`` and return its JSON result.

        Raises:
            RpcMethodNotFoundError: unknown method.
            RpcParamsError: malformed parameters.
            ChainError: the chain refused (revert, bad nonce, unknown block...).
        """
        handler = self._methods.get(method)
        if handler is None:
            raise RpcMethodNotFoundError(
                f"the method {method} does not exist/is not available on the {self.chain.name} chain"
            )
        try:
            return handler(params)
        except (IndexError, KeyError, TypeError) as exc:
            raise RpcParamsError(f"invalid parameters for {method}: {exc!r}") from exc

    # -- helpers ----------------------------------------------------------------------------------

    def _header_for(self, block_id: Any) -> BlockHeaderAPI:
        """Resolve a block tag, number, or EIP-1898 object to a canonical header."""
        chain = self.chain
        if block_id is None or block_id in ("latest", "pending", "safe", "finalized"):
            return chain.head()
        if block_id == "earliest":
            return chain.get_header(0)
        if isinstance(block_id, dict):
            if "blockHash" in block_id:
                header = chain.get_header(ser.parse_data(block_id["blockHash"], "blockHash", 32))
                if block_id.get("requireCanonical") and not chain.is_canonical(header):
                    raise BlockNotFoundError(f"block 0x{header.hash.hex()} is not canonical")
                return header
            return self._header_for(block_id.get("blockNumber"))
        number = ser.parse_quantity(block_id, "block number")
        return chain.get_header(number)

    def _block_and_receipts(self, header: BlockHeaderAPI) -> tuple[BlockAPI, tuple[ReceiptAPI, ...]]:
        return self.chain.block_with_receipts(header)

    def _tx_params(self, raw: Any) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise RpcParamsError(f"a transaction must be an object, got {raw!r}")
        return raw

    def _unsigned(self, params: dict[str, Any], head: BlockHeaderAPI) -> tuple[Any, bytes]:
        """An unsigned transaction and its sender from eth_call / eth_estimateGas parameters."""
        sender = ser.parse_address(params["from"], "from") if params.get("from") else b"\x00" * 20
        to = ser.parse_address(params["to"], "to") if params.get("to") else b""
        payload = params.get("input", params.get("data")) or "0x"
        gas = (
            ser.parse_quantity(params["gas"], "gas") if params.get("gas") is not None else int(head.gas_limit)
        )
        gas = min(gas, int(head.gas_limit))
        value = ser.parse_quantity(params.get("value", 0) or 0, "value")
        tx = self.chain.unsigned_transaction(
            to=to, data=ser.parse_data(payload, "input"), value=value, gas=gas
        )
        return tx, sender

    # -- methods ----------------------------------------------------------------------------------

    def _client_version(self, _params: list[Any]) -> str:
        return f"tokenized-asset-registry/v{registry.__version__}/{self.chain.name}/py-evm"

    def _sha3(self, params: list[Any]) -> str:
        from eth_utils.crypto import keccak

        return ser.data(keccak(ser.parse_data(params[0], "data")))

    def _get_block_by_number(self, params: list[Any]) -> JSON | None:
        try:
            header = self._header_for(params[0])
        except BlockNotFoundError:
            return None
        return ser.block(self._block_and_receipts(header)[0], bool(params[1]) if len(params) > 1 else False)

    def _get_block_by_hash(self, params: list[Any]) -> JSON | None:
        try:
            header = self.chain.get_header(ser.parse_data(params[0], "block hash", 32))
        except BlockNotFoundError:
            return None
        return ser.block(self._block_and_receipts(header)[0], bool(params[1]) if len(params) > 1 else False)

    def _block_tx_count_by_number(self, params: list[Any]) -> str | None:
        try:
            header = self._header_for(params[0])
        except BlockNotFoundError:
            return None
        return ser.quantity(len(self._block_and_receipts(header)[0].transactions))

    def _block_tx_count_by_hash(self, params: list[Any]) -> str | None:
        try:
            header = self.chain.get_header(ser.parse_data(params[0], "block hash", 32))
        except BlockNotFoundError:
            return None
        return ser.quantity(len(self._block_and_receipts(header)[0].transactions))

    def _get_block_receipts(self, params: list[Any]) -> list[JSON] | None:
        try:
            header = self._header_for(params[0])
        except BlockNotFoundError:
            return None
        chain_block, receipts = self._block_and_receipts(header)
        offsets = ser.log_offsets(receipts)
        return [
            ser.receipt(tx, header, index, receipts, offsets[index])
            for index, tx in enumerate(chain_block.transactions)
        ]

    def _get_transaction_by_hash(self, params: list[Any]) -> JSON | None:
        tx_hash = ser.parse_data(params[0], "transaction hash", 32)
        location = self.chain.find_transaction(tx_hash)
        if location is not None:
            chain_block, _ = self._block_and_receipts(location.header)
            return ser.transaction(chain_block.transactions[location.index], location.header, location.index)
        pending = self.chain.pending_transaction(tx_hash)
        return None if pending is None else ser.transaction(pending)

    def _tx_by_index(self, header: BlockHeaderAPI, raw_index: Any) -> JSON | None:
        index = ser.parse_quantity(raw_index, "index")
        chain_block, _ = self._block_and_receipts(header)
        if index >= len(chain_block.transactions):
            return None
        return ser.transaction(chain_block.transactions[index], header, index)

    def _get_transaction_by_number_and_index(self, params: list[Any]) -> JSON | None:
        try:
            header = self._header_for(params[0])
        except BlockNotFoundError:
            return None
        return self._tx_by_index(header, params[1])

    def _get_transaction_by_hash_and_index(self, params: list[Any]) -> JSON | None:
        try:
            header = self.chain.get_header(ser.parse_data(params[0], "block hash", 32))
        except BlockNotFoundError:
            return None
        return self._tx_by_index(header, params[1])

    def _get_transaction_receipt(self, params: list[Any]) -> JSON | None:
        tx_hash = ser.parse_data(params[0], "transaction hash", 32)
        location = self.chain.find_transaction(tx_hash)
        if location is None and self.chain.pending_transaction(tx_hash) is not None:
            # A pending transaction is sealed as soon as the builder gets to it: wait for
            # its block rather than make the client poll again later.
            self.chain.wait_until_mined(tx_hash)
            location = self.chain.find_transaction(tx_hash)
        if location is None:
            failure = self.chain.failure(tx_hash)
            if failure is not None:
                raise type(failure)(
                    f"transaction 0x{tx_hash.hex()} was dropped and will never be mined: {failure}"
                )
            return None
        chain_block, receipts = self._block_and_receipts(location.header)
        return ser.receipt(
            chain_block.transactions[location.index],
            location.header,
            location.index,
            receipts,
            self._log_offsets(location.header.hash, receipts)[location.index],
        )

    def _log_offsets(self, block_hash: bytes, receipts: Sequence[ReceiptAPI]) -> list[int]:
        """`serializers.log_offsets` of a block, remembered for the recent blocks.

        A client fetching each receipt of a block of N transactions would otherwise
        count the logs of the block N times.
        """
        with self._offsets_lock:
            offsets = self._recent_offsets.get(block_hash)
            if offsets is None:
                offsets = ser.log_offsets(receipts)
                self._recent_offsets[block_hash] = offsets
                while len(self._recent_offsets) > RECENT_LOG_OFFSETS:
                    self._recent_offsets.popitem(last=False)
            return offsets

    def _get_transaction_count(self, params: list[Any]) -> str:
        account = ser.parse_address(params[0], "address")
        block_id = params[1] if len(params) > 1 else "latest"
        if block_id == "pending":
            return ser.quantity(self.chain.nonce(account, pending=True))
        header = self._header_for(block_id)
        return ser.quantity(self.chain.state_at(header).get_nonce(account))

    def _get_balance(self, params: list[Any]) -> str:
        account = ser.parse_address(params[0], "address")
        header = self._header_for(params[1] if len(params) > 1 else "latest")
        return ser.quantity(self.chain.state_at(header).get_balance(account))

    def _get_code(self, params: list[Any]) -> str:
        account = ser.parse_address(params[0], "address")
        header = self._header_for(params[1] if len(params) > 1 else "latest")
        return ser.data(self.chain.state_at(header).get_code(account))

    def _get_storage_at(self, params: list[Any]) -> str:
        account = ser.parse_address(params[0], "address")
        slot = ser.parse_quantity(params[1], "slot")
        header = self._header_for(params[2] if len(params) > 2 else "latest")
        return ser.word(self.chain.state_at(header).get_storage(account, slot))

    def _call(self, params: list[Any]) -> str:
        header = self._header_for(params[1] if len(params) > 1 else "latest")
        tx, sender = self._unsigned(self._tx_params(params[0]), header)
        return ser.data(self.chain.call(tx, sender, header))

    def _estimate_gas(self, params: list[Any]) -> str:
        header = self._header_for(params[1] if len(params) > 1 else "latest")
        tx, sender = self._unsigned(self._tx_params(params[0]), header)
        return ser.quantity(self.chain.estimate_gas(tx, sender, header))

    def _send_raw_transaction(self, params: list[Any]) -> str:
        return ser.data(self.chain.send_raw_transaction(ser.parse_data(params[0], "raw transaction")))

    def _send_transaction(self, params: list[Any]) -> str:
        tx = self._tx_params(params[0])
        if not tx.get("from"):
            raise RpcParamsError("eth_sendTransaction needs 'from' (one of eth_accounts)")
        sender = ser.parse_address(tx["from"], "from")
        account = self.chain.dev_account(sender)
        if account is None:
            raise InvalidTransactionError(
                f"unknown account {ser.address(sender)}: this node signs only for its development accounts "
                "(eth_accounts); sign locally and use eth_sendRawTransaction"
            )
        head = self.chain.head()
        fields: dict[str, Any] = {
            "chainId": self.chain.chain_id,
            "nonce": ser.parse_quantity(tx["nonce"], "nonce")
            if tx.get("nonce") is not None
            else self.chain.nonce(sender, pending=True),
            "value": ser.parse_quantity(tx.get("value", 0) or 0, "value"),
            "data": tx.get("input", tx.get("data")) or "0x",
        }
        if tx.get("to"):
            fields["to"] = ser.address(ser.parse_address(tx["to"], "to"))
        if tx.get("gas") is not None:
            fields["gas"] = ser.parse_quantity(tx["gas"], "gas")
        else:
            unsigned, _ = self._unsigned(tx, head)
            fields["gas"] = self.chain.estimate_gas(unsigned, sender, head)
        if tx.get("gasPrice") is not None:
            fields["gasPrice"] = ser.parse_quantity(tx["gasPrice"], "gasPrice")
        else:
            tip = ser.parse_quantity(tx.get("maxPriorityFeePerGas", PRIORITY_FEE), "maxPriorityFeePerGas")
            default_max = 2 * self.chain.next_base_fee() + tip
            fields["type"] = 2
            fields["maxPriorityFeePerGas"] = tip
            fields["maxFeePerGas"] = ser.parse_quantity(tx.get("maxFeePerGas", default_max), "maxFeePerGas")
        signed = account.account.sign_transaction(fields)
        return ser.data(self.chain.send_raw_transaction(bytes(signed.raw_transaction)))

    def _get_logs(self, params: list[Any]) -> list[JSON]:
        query = params[0] if params else {}
        if not isinstance(query, dict):
            raise RpcParamsError("eth_getLogs takes one filter object")
        if query.get("blockHash"):
            headers = [self.chain.get_header(ser.parse_data(query["blockHash"], "blockHash", 32))]
        else:
            first = self._header_for(query.get("fromBlock", "latest")).block_number
            last = self._header_for(query.get("toBlock", "latest")).block_number
            if last - first + 1 > MAX_LOG_BLOCK_RANGE:
                raise RpcParamsError(
                    f"block range {first}..{last} is wider than {MAX_LOG_BLOCK_RANGE} blocks; split the query"
                )
            headers = [self.chain.get_header(number) for number in range(first, last + 1)]
        raw_addresses = query.get("address")
        if raw_addresses is None:
            addresses: list[bytes] = []
        elif isinstance(raw_addresses, list):
            addresses = [ser.parse_address(item, "address") for item in raw_addresses]
        else:
            addresses = [ser.parse_address(raw_addresses, "address")]
        topic_filters: list[list[int] | None] = []
        for position in query.get("topics") or []:
            if position is None:
                topic_filters.append(None)
            elif isinstance(position, list):
                topic_filters.append(
                    [int.from_bytes(ser.parse_data(t, "topic", 32), "big") for t in position] or None
                )
            else:
                topic_filters.append([int.from_bytes(ser.parse_data(position, "topic", 32), "big")])
        address_set = set(addresses)
        results: list[JSON] = []
        for header in headers:
            if not _bloom_may_match(int(header.bloom), addresses, topic_filters):
                continue
            chain_block, receipts = self._block_and_receipts(header)
            log_index = 0
            for tx_index, (tx, tx_receipt) in enumerate(zip(chain_block.transactions, receipts, strict=True)):
                for entry in tx_receipt.logs:
                    if _log_matches(entry.address, entry.topics, address_set, topic_filters):
                        results.append(ser.log(entry, header, tx.hash, tx_index, log_index))
                    log_index += 1
        return results

    def _fee_history(self, params: list[Any]) -> JSON:
        count = max(1, min(ser.parse_quantity(params[0], "blockCount"), 1024))
        newest = self._header_for(params[1] if len(params) > 1 else "latest")
        percentiles = [float(p) for p in (params[2] if len(params) > 2 and params[2] else [])]
        oldest_number = max(0, newest.block_number - count + 1)
        base_fees: list[str] = []
        ratios: list[float] = []
        rewards: list[list[str]] = []
        for number in range(oldest_number, newest.block_number + 1):
            header = self.chain.get_header(number)
            base_fees.append(ser.quantity(ser.base_fee_of(header)))
            ratios.append(header.gas_used / header.gas_limit)
            if percentiles:
                rewards.append([ser.quantity(tip) for tip in self._block_rewards(header, percentiles)])
        next_base_fee = (
            self.chain.next_base_fee()
            if newest.block_number == self.chain.block_number
            else ser.base_fee_of(self.chain.get_header(newest.block_number + 1))
        )
        base_fees.append(ser.quantity(next_base_fee))
        result: JSON = {
            "oldestBlock": ser.quantity(oldest_number),
            "baseFeePerGas": base_fees,
            "gasUsedRatio": ratios,
            "baseFeePerBlobGas": ["0x1"] * len(base_fees),
            "blobGasUsedRatio": [0.0] * len(ratios),
        }
        if percentiles:
            result["reward"] = rewards
        return result

    def _block_rewards(self, header: BlockHeaderAPI, percentiles: list[float]) -> list[int]:
        chain_block, receipts = self._block_and_receipts(header)
        if not chain_block.transactions:
            return [0] * len(percentiles)
        base_fee = ser.base_fee_of(header)
        used: list[tuple[int, int]] = []
        previous = 0
        for tx, tx_receipt in zip(chain_block.transactions, receipts, strict=True):
            tip = ser.effective_gas_price(tx, base_fee) - base_fee
            used.append((tip, tx_receipt.gas_used - previous))
            previous = tx_receipt.gas_used
        used.sort()
        total = sum(gas for _, gas in used) or 1
        tips = []
        for percentile in percentiles:
            threshold = total * percentile / 100
            cumulative = 0
            chosen = used[-1][0]
            for tip, gas in used:
                cumulative += gas
                if cumulative >= threshold:
                    chosen = tip
                    break
            tips.append(chosen)
        return tips

    def _evm_mine(self, params: list[Any]) -> str:
        if params and isinstance(params[0], (str, int)):
            self._pin_timestamp(params[0])
        self.chain.mine()
        return "0x0"

    def _evm_set_next_block_timestamp(self, params: list[Any]) -> None:
        if len(params) != 1:
            raise RpcParamsError("evm_setNextBlockTimestamp takes one timestamp")
        self._pin_timestamp(params[0])

    def _pin_timestamp(self, value: Any) -> None:
        try:
            self.chain.set_next_block_timestamp(ser.parse_quantity(value, "timestamp"))
        except ValueError as exc:
            raise RpcParamsError(str(exc)) from exc

    def _evm_increase_time(self, params: list[Any]) -> str:
        seconds = ser.parse_quantity(params[0], "seconds")
        if seconds < 0:
            raise RpcParamsError("evm_increaseTime takes a positive number of seconds: time never goes back")
        return ser.quantity(self.chain.increase_time(seconds))


def _bloom_may_match(bloom_value: int, addresses: list[bytes], topic_filters: list[list[int] | None]) -> bool:
    if not addresses and not any(topic_filters):
        return True
    bloom = BloomFilter(bloom_value)
    if addresses and not any(item in bloom for item in addresses):
        return False
    for options in topic_filters:
        if options and not any(topic.to_bytes(32, "big") in bloom for topic in options):
            return False
    return True


def _log_matches(
    log_address: bytes,
    topics: Sequence[int],
    addresses: set[bytes],
    topic_filters: list[list[int] | None],
) -> bool:
    if addresses and bytes(log_address) not in addresses:
        return False
    if len(topic_filters) > len(topics):
        return False
    return all(
        options is None or topics[position] in options for position, options in enumerate(topic_filters)
    )
