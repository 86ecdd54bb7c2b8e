"""The Ethereum JSON-RPC dispatcher of an embedded chain, shared by the in-process provider and HTTP.

`RpcDispatcher.handle` takes a decoded JSON-RPC request (or a batch) and returns the
response object(s). Both `registry.chain.rpc.provider.EmbeddedProvider` (web3.py in process)
and `registry.chain.rpc.server` (HTTP for any client) go through it, so a client sees the
same answers and the same errors either way.

The methods are grouped in modules: `registry.chain.rpc.execution` (calls, estimates,
access lists, sending), `registry.chain.rpc.filters`, `registry.chain.rpc.signing`,
`registry.chain.rpc.txpool`; the rest (blocks, transactions, state, proofs, logs, fees,
development methods) is here. Each method declares its parameters
(`registry.chain.rpc.params`), so a bad one is answered with the method's name, the
parameter's name and what it should be.

Errors (JSON-RPC error objects):

    3        execution reverted; ``data`` is the revert payload (web3.py and ethers decode
             custom errors from it), ``message`` is "execution reverted" (plus the reason of
             an ``Error(string)``)
    -32000   transaction refused, in geth's words first: "nonce too low", "intrinsic gas too low",
             "insufficient funds for gas * price + value", "replacement transaction underpriced"...;
             "filter not found"
    -32003   sender not permitted on this chain; ``data`` repeats the reason as ``Error(string)``
             revert data, which wallets and ethers show for a failed estimate
    -32001   unknown block
    -32004   not supported on this chain (interventions on the permissionless chain)
    -32601   unknown method;  -32602 bad parameters;  -32600 bad request;  -32700 bad JSON
    -32603   internal error (the details go to the node's log, not to the client)

Besides the standard methods, the development methods that anvil and hardhat also
answer: ``evm_mine``, ``evm_increaseTime``, ``evm_setNextBlockTimestamp``, and
``eth_sendTransaction`` and message signing for the development accounts (unlocked, as
on any development node).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from eth.abc import BlockAPI, BlockHeaderAPI, ReceiptAPI

import registry
from registry.chain.errors import (
    RPC_INTERNAL_ERROR,
    RPC_INVALID_PARAMS,
    BlockNotFoundError,
    ChainError,
    RevertError,
    SenderNotPermittedError,
)
from registry.chain.node.chain import EmbeddedChain
from registry.chain.rpc import serializers as ser
from registry.chain.rpc.blocks import resolve_header
from registry.chain.rpc.execution import PRIORITY_FEE, Execution
from registry.chain.rpc.filters import FilterError, Filters
from registry.chain.rpc.logs import LogCriteria, scan_logs
from registry.chain.rpc.params import MethodSpec, Params, method, no_params, shown
from registry.chain.rpc.serializers import JSON, RpcParamsError
from registry.chain.rpc.signing import MessageSigning
from registry.chain.rpc.txpool import TxPoolMethods

logger = logging.getLogger(__name__)

RPC_PARSE_ERROR = -32700
RPC_INVALID_REQUEST = -32600
RPC_METHOD_NOT_FOUND = -32601

RECENT_LOG_OFFSETS = 64
"""Blocks whose log offsets the dispatcher keeps (receipts are fetched soon after sealing)."""

MAX_MINED_BLOCKS = 10_000
"""Blocks one ``evm_mine`` request may seal."""

MAX_PROOF_SLOTS = 1_000
"""Storage slots one ``eth_getProof`` request may ask for."""

_ERROR_STRING_SELECTOR = bytes.fromhex("08c379a0")

REFUSAL_NOTE = "(refused before it runs; data repeats this reason as revert data, for wallets)"
"""Appended to a refused sender's message; see `error_object`."""


class RpcMethodNotFoundError(LookupError):
    """The method does not exist on this node."""


CLIENT_ERRORS = (ChainError, RpcParamsError, RpcMethodNotFoundError, FilterError)
"""Errors that answer a request (the client's or the chain's doing), as opposed to a node bug."""


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


def _error_string(reason: str) -> bytes:
    from eth_abi.abi import encode

    return _ERROR_STRING_SELECTOR + encode(["string"], [reason])


def error_object(exc: BaseException, method: str | None = None) -> JSON:
    """The JSON-RPC error object for ``exc``, raised while answering ``method``.

    A sender the chain refuses (KYC, chain-wide freeze) gets the same object from every method:
    the refusal's code, its message with `REFUSAL_NOTE` appended, and the reason as
    ``Error(string)`` revert ``data``. Wallets and ethers v6 show a failed estimate's reason only
    from revert data beside a message that mentions a revert (ethers: ``execution reverted:
    "<reason>"``); web3.py, which looks for "execution reverted" or code 3, keeps raising its
    usual `Web3RPCError` with the message.
    """
    if isinstance(exc, RevertError):
        return {"code": exc.rpc_code, "message": _revert_message(exc), "data": ser.data(exc.data)}
    if isinstance(exc, SenderNotPermittedError):
        reason = str(exc)
        return {
            "code": exc.rpc_code,
            "message": f"{reason} {REFUSAL_NOTE}",
            "data": ser.data(_error_string(reason)),
        }
    if isinstance(exc, ChainError):
        return {"code": exc.rpc_code, "message": str(exc)}
    if isinstance(exc, (RpcParamsError, FilterError)):
        return {"code": exc.rpc_code, "message": str(exc)}
    if isinstance(exc, RpcMethodNotFoundError):
        return {"code": RPC_METHOD_NOT_FOUND, "message": str(exc)}
    shown = f" while answering {method}" if method else ""
    return {"code": RPC_INTERNAL_ERROR, "message": f"internal error{shown}; the node's log has the details"}


def parse_error(exc: Exception) -> JSON:
    """The JSON-RPC response to a body that is not JSON."""
    return {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": RPC_PARSE_ERROR, "message": f"parse error: {exc}"},
    }


class RpcDispatcher:
    """Answers Ethereum JSON-RPC requests from one `EmbeddedChain`.

    ``clock`` (seconds, monotonic) decides when idle filters expire; tests pass their own.
    """

    def __init__(self, chain: EmbeddedChain, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.chain = chain
        """The chain answered for."""
        self.filters = Filters(chain, clock=clock)
        """The filters installed through this dispatcher."""
        self._recent_offsets: OrderedDict[bytes, list[int]] = OrderedDict()
        self._offsets_lock = threading.Lock()
        block = ("block",)
        self._methods: dict[str, MethodSpec] = {
            "web3_clientVersion": no_params(self._client_version),
            "web3_sha3": method(self._sha3, "data"),
            "net_version": no_params(lambda: str(self.chain.chain_id)),
            "net_listening": no_params(lambda: True),
            "net_peerCount": no_params(lambda: "0x0"),
            "eth_chainId": no_params(lambda: ser.quantity(self.chain.chain_id)),
            "eth_syncing": no_params(lambda: False),
            "eth_mining": no_params(lambda: self.chain.sealing != "manual"),
            "eth_coinbase": no_params(lambda: ser.address(b"\x00" * 20)),
            "eth_accounts": no_params(lambda: [account.address for account in self.chain.dev_accounts]),
            "eth_blockNumber": no_params(lambda: ser.quantity(self.chain.block_number)),
            "eth_gasPrice": no_params(lambda: ser.quantity(self.chain.next_base_fee() + PRIORITY_FEE)),
            "eth_maxPriorityFeePerGas": no_params(lambda: ser.quantity(PRIORITY_FEE)),
            "eth_blobBaseFee": no_params(lambda: ser.quantity(1)),
            "eth_feeHistory": method(
                self._fee_history, "blockCount", "newestBlock", "rewardPercentiles", required=2
            ),
            "eth_getBlockByNumber": method(self._get_block_by_number, *block, "fullTransactions", required=1),
            "eth_getBlockByHash": method(
                self._get_block_by_hash, "blockHash", "fullTransactions", required=1
            ),
            "eth_getBlockTransactionCountByNumber": method(self._block_tx_count_by_number, *block),
            "eth_getBlockTransactionCountByHash": method(self._block_tx_count_by_hash, "blockHash"),
            "eth_getBlockReceipts": method(self._get_block_receipts, *block),
            "eth_getUncleCountByBlockNumber": method(lambda _p: "0x0", *block),
            "eth_getUncleCountByBlockHash": method(lambda _p: "0x0", "blockHash"),
            "eth_getTransactionByHash": method(self._get_transaction_by_hash, "transactionHash"),
            "eth_getTransactionByBlockNumberAndIndex": method(
                self._get_transaction_by_number_and_index, "block", "index"
            ),
            "eth_getTransactionByBlockHashAndIndex": method(
                self._get_transaction_by_hash_and_index, "blockHash", "index"
            ),
            "eth_getTransactionReceipt": method(self._get_transaction_receipt, "transactionHash"),
            "eth_getTransactionCount": method(self._get_transaction_count, "address", "block", required=1),
            "eth_getBalance": method(self._get_balance, "address", "block", required=1),
            "eth_getCode": method(self._get_code, "address", "block", required=1),
            "eth_getStorageAt": method(self._get_storage_at, "address", "slot", "block", required=2),
            "eth_getProof": method(self._get_proof, "address", "storageKeys", "block", required=2),
            "eth_getLogs": method(self._get_logs, "filter"),
            "evm_mine": method(self._evm_mine, "timestampOrOptions", required=0),
            "evm_increaseTime": method(self._evm_increase_time, "seconds"),
            "evm_setNextBlockTimestamp": method(self._evm_set_next_block_timestamp, "timestamp"),
        }
        for extra in (
            Execution(chain, self._header_for).methods(),
            self.filters.methods(),
            MessageSigning(chain).methods(),
            TxPoolMethods(chain).methods(),
        ):
            self._methods.update(extra)

    @property
    def methods(self) -> list[str]:
        """Every method this dispatcher answers, sorted."""
        return sorted(self._methods)

    def signature(self, name: str) -> str:
        """The parameters ``name`` takes, e.g. ``(address, block?)``."""
        return self._methods[name].signature()

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
        name = request["method"]
        params = request.get("params", [])
        if params is None:
            params = []
        if not isinstance(params, list):
            return {
                "jsonrpc": "2.0",
                "id": request_id,
                "error": {
                    "code": RPC_INVALID_PARAMS,
                    "message": f"{name}: params must be an array (positional parameters), "
                    f"got {shown(params)}",
                },
            }
        try:
            result = self.call(name, params)
        except Exception as exc:
            if not isinstance(exc, CLIENT_ERRORS):
                logger.exception("JSON-RPC %s failed", name)
            response: JSON = {"jsonrpc": "2.0", "id": request_id, "error": error_object(exc, name)}
        else:
            response = {"jsonrpc": "2.0", "id": request_id, "result": result}
        return None if is_notification else response

    def call(self, method: str, params: list[Any]) -> Any:
        """Run ``method`` with ``params`` and return its JSON result.

        Raises:
            RpcMethodNotFoundError: unknown method.
            RpcParamsError: malformed parameters; the message names the method and the parameter.
            ChainError: the chain refused (revert, bad nonce, unknown block...).
        """
        spec = self._methods.get(method)
        if spec is None:
            raise RpcMethodNotFoundError(
                f"the method {method} does not exist/is not available on the {self.chain.name} chain"
            )
        try:
            return spec.handler(Params(spec, params))
        except RpcParamsError as exc:
            raise RpcParamsError(f"{method}: {exc}") from exc

    # -- helpers ----------------------------------------------------------------------------------

    def _header_for(self, block_id: Any) -> BlockHeaderAPI:
        """Resolve a block tag, number, or EIP-1898 object to a canonical header."""
        return resolve_header(self.chain, block_id)

    def _header_by_hash(self, params: Params, index: int) -> BlockHeaderAPI:
        return self.chain.get_header(params.data(index, 32))

    def _block_and_receipts(self, header: BlockHeaderAPI) -> tuple[BlockAPI, tuple[ReceiptAPI, ...]]:
        return self.chain.block_with_receipts(header)

    # -- methods ----------------------------------------------------------------------------------

    def _client_version(self) -> str:
        return f"tokenized-asset-registry/v{registry.__version__}/{self.chain.name}/py-evm"

    def _sha3(self, params: Params) -> str:
        from eth_utils.crypto import keccak

        return ser.data(keccak(params.data(0)))

    def _block_at(self, params: Params) -> BlockHeaderAPI | None:
        """The header named by parameter 1 (a block), or None if there is no such block."""
        try:
            return self._header_for(params.block(0))
        except BlockNotFoundError:
            return None

    def _block_with_hash(self, params: Params) -> BlockHeaderAPI | None:
        """The header whose hash is parameter 1, or None if there is no such block."""
        try:
            return self._header_by_hash(params, 0)
        except BlockNotFoundError:
            return None

    def _block_json(self, header: BlockHeaderAPI | None, params: Params) -> JSON | None:
        full = params.boolean(1, False)
        return None if header is None else ser.block(self._block_and_receipts(header)[0], full)

    def _get_block_by_number(self, params: Params) -> JSON | None:
        return self._block_json(self._block_at(params), params)

    def _get_block_by_hash(self, params: Params) -> JSON | None:
        return self._block_json(self._block_with_hash(params), params)

    def _tx_count(self, header: BlockHeaderAPI | None) -> str | None:
        return None if header is None else ser.quantity(len(self._block_and_receipts(header)[0].transactions))

    def _block_tx_count_by_number(self, params: Params) -> str | None:
        return self._tx_count(self._block_at(params))

    def _block_tx_count_by_hash(self, params: Params) -> str | None:
        return self._tx_count(self._block_with_hash(params))

    def _get_block_receipts(self, params: Params) -> list[JSON] | None:
        header = self._block_at(params)
        if header is None:
            return None
        chain_block, receipts = self._block_and_receipts(header)
        offsets = ser.log_offsets(receipts)
        return [
            ser.receipt(tx, header, index, receipts, offsets[index])
            for index, tx in enumerate(chain_block.transactions)
        ]

    def _get_transaction_by_hash(self, params: Params) -> JSON | None:
        tx_hash = params.data(0, 32)
        location = self.chain.find_transaction(tx_hash)
        if location is not None:
            chain_block, _ = self._block_and_receipts(location.header)
            return ser.transaction(chain_block.transactions[location.index], location.header, location.index)
        pending = self.chain.pending_transaction(tx_hash)
        return None if pending is None else ser.transaction(pending)

    def _tx_by_index(self, header: BlockHeaderAPI | None, params: Params) -> JSON | None:
        index = params.quantity(1)
        if header is None:
            return None
        chain_block, _ = self._block_and_receipts(header)
        if index >= len(chain_block.transactions):
            return None
        return ser.transaction(chain_block.transactions[index], header, index)

    def _get_transaction_by_number_and_index(self, params: Params) -> JSON | None:
        return self._tx_by_index(self._block_at(params), params)

    def _get_transaction_by_hash_and_index(self, params: Params) -> JSON | None:
        return self._tx_by_index(self._block_with_hash(params), params)

    def _get_transaction_receipt(self, params: Params) -> JSON | None:
        tx_hash = params.data(0, 32)
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

    def _get_transaction_count(self, params: Params) -> str:
        account = params.address(0)
        block_id = params.block(1)
        if block_id == "pending":
            return ser.quantity(self.chain.nonce(account, pending=True))
        return ser.quantity(self.chain.state_at(self._header_for(block_id)).get_nonce(account))

    def _get_balance(self, params: Params) -> str:
        account = params.address(0)
        return ser.quantity(self.chain.state_at(self._header_for(params.block(1))).get_balance(account))

    def _get_code(self, params: Params) -> str:
        account = params.address(0)
        return ser.data(self.chain.state_at(self._header_for(params.block(1))).get_code(account))

    def _get_storage_at(self, params: Params) -> str:
        account = params.address(0)
        slot = params.word(1) if isinstance(params.raw(1), str) else params.quantity(1)
        header = self._header_for(params.block(2))
        return ser.word(self.chain.state_at(header).get_storage(account, slot))

    def _get_proof(self, params: Params) -> JSON:
        account = params.address(0)
        keys = params.items(1)
        if len(keys) > MAX_PROOF_SLOTS:
            raise RpcParamsError(
                f"parameter 2 (storageKeys) lists {len(keys)} slots; at most {MAX_PROOF_SLOTS} per request"
            )
        slots = [keys.word(index) for index in range(len(keys))]
        proof = self.chain.proof(account, slots, self._header_for(params.block(2)))
        return {
            "address": ser.address(proof.address),
            "balance": ser.quantity(proof.balance),
            "nonce": ser.quantity(proof.nonce),
            "codeHash": ser.data(proof.code_hash),
            "storageHash": ser.data(proof.storage_root),
            "accountProof": [ser.data(node) for node in proof.nodes],
            "storageProof": [
                {
                    "key": ser.word(entry.slot),
                    "value": ser.quantity(entry.value),
                    "proof": [ser.data(node) for node in entry.nodes],
                }
                for entry in proof.storage
            ],
        }

    def _get_logs(self, params: Params) -> list[JSON]:
        return scan_logs(self.chain, LogCriteria.read(params.fields(0)))

    def _fee_history(self, params: Params) -> JSON:
        count = max(1, min(params.quantity(0), 1024))
        newest = self._header_for(params.block(1))
        percentile_items = params.items(2) if params.has(2) else None
        percentiles: list[float] = []
        for index in range(len(percentile_items) if percentile_items is not None else 0):
            assert percentile_items is not None
            value = percentile_items.raw(index)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
                raise RpcParamsError(
                    f"parameter 3 (rewardPercentiles): item {index + 1} must be a number from 0 to 100, "
                    f"got {value!r}"
                )
            if percentiles and value < percentiles[-1]:
                raise RpcParamsError("parameter 3 (rewardPercentiles) must be in ascending order")
            percentiles.append(float(value))
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

    def _evm_mine(self, params: Params) -> str:
        # As anvil: a timestamp, or {"timestamp": ..., "blocks": n}; the timestamp is the first block's.
        blocks = 1
        if params.has(0) and isinstance(params.raw(0), dict):
            fields = params.fields(0)
            fields.refuse_unknown(("timestamp", "blocks"), "evm_mine")
            blocks = fields.quantity("blocks", 1)
            if not 1 <= blocks <= MAX_MINED_BLOCKS:
                raise RpcParamsError(
                    f"{fields.where}: field 'blocks' must be from 1 to {MAX_MINED_BLOCKS}, got {blocks}"
                )
            if fields.has("timestamp"):
                self._pin_timestamp(fields.quantity("timestamp"))
        elif params.has(0):
            self._pin_timestamp(params.quantity(0))
        for _ in range(blocks):
            self.chain.mine()
        return "0x0"

    def _evm_set_next_block_timestamp(self, params: Params) -> None:
        self._pin_timestamp(params.quantity(0))

    def _pin_timestamp(self, timestamp: int) -> None:
        try:
            self.chain.set_next_block_timestamp(timestamp)
        except ValueError as exc:
            raise RpcParamsError(str(exc)) from exc

    def _evm_increase_time(self, params: Params) -> str:
        value = params.raw(0)
        if isinstance(value, int) and not isinstance(value, bool) and value < 0:
            raise RpcParamsError(
                "parameter 1 (seconds) must be a positive number of seconds: time never goes back"
            )
        return ser.quantity(self.chain.increase_time(params.quantity(0)))
