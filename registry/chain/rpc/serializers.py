"""py-evm objects as Ethereum JSON-RPC values (hex quantities and data, camelCase keys).

The shapes follow the execution-apis specification as geth and anvil return them, so
that web3.py, ethers, cast and wallets read them without special cases.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import rlp
from eth.abc import BlockAPI, BlockHeaderAPI, LogAPI, ReceiptAPI, SignedTransactionAPI
from eth.constants import BLANK_ROOT_HASH, EMPTY_SHA256
from eth_typing import Address
from eth_utils.address import to_checksum_address

from registry.chain.errors import RPC_INVALID_PARAMS

JSON = dict[str, Any]


class RpcParamsError(ValueError):
    """A request parameter is malformed; answered with JSON-RPC code -32602."""

    rpc_code = RPC_INVALID_PARAMS


def quantity(value: int) -> str:
    """An unsigned integer as a JSON-RPC quantity (``0x``-prefixed, no leading zeros)."""
    return hex(int(value))


def data(value: bytes) -> str:
    """Bytes as JSON-RPC data (``0x``-prefixed hex, two digits a byte)."""
    return "0x" + bytes(value).hex()


@functools.lru_cache(maxsize=4096)
def address(value: bytes) -> str:
    """A 20-byte address, checksummed (cached: the same few addresses recur in every block)."""
    return to_checksum_address(bytes(value))


def word(value: int) -> str:
    """A 256-bit integer as 32 bytes of data (log topics, storage slots)."""
    return "0x" + int(value).to_bytes(32, "big").hex()


def parse_quantity(value: Any, name: str) -> int:
    """Read a JSON-RPC quantity (hex string, or a plain integer from lenient clients).

    Raises:
        RpcParamsError: it is neither.
    """
    if isinstance(value, bool):
        raise RpcParamsError(f"{name} must be a hex quantity, not a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value, 16) if value.lower().startswith("0x") else int(value)
        except ValueError:
            pass
    raise RpcParamsError(f"{name} must be a hex quantity such as 0x1a, got {value!r}")


def parse_data(value: Any, name: str, length: int | None = None) -> bytes:
    """Read JSON-RPC data (``0x`` hex); with ``length``, require exactly that many bytes.

    Raises:
        RpcParamsError: malformed or of the wrong length.
    """
    if not isinstance(value, str) or not value.lower().startswith("0x"):
        raise RpcParamsError(f"{name} must be 0x-prefixed hex data, got {value!r}")
    text = value[2:]
    if len(text) % 2:
        text = "0" + text
    try:
        raw = bytes.fromhex(text)
    except ValueError as exc:
        raise RpcParamsError(f"{name} is not valid hex: {value!r}") from exc
    if length is not None and len(raw) != length:
        raise RpcParamsError(f"{name} must be {length} bytes, got {len(raw)}")
    return raw


def parse_address(value: Any, name: str) -> Address:
    """Read a 20-byte address (any letter case)."""
    return Address(parse_data(value, name, 20))


def base_fee_of(header: BlockHeaderAPI) -> int:
    """The header's base fee per gas (every block of these chains has one)."""
    return int(header.base_fee_per_gas or 0)


def transaction_type(tx: SignedTransactionAPI) -> int:
    """The EIP-2718 type of ``tx`` (0 for legacy)."""
    type_id = getattr(tx, "type_id", None)
    return 0 if type_id is None else int(type_id)


def effective_gas_price(tx: SignedTransactionAPI, base_fee: int) -> int:
    """What the sender pays per gas in a block with ``base_fee``."""
    return min(int(tx.max_fee_per_gas), base_fee + int(tx.max_priority_fee_per_gas))


def contract_address(tx: SignedTransactionAPI) -> bytes | None:
    """The address a contract-creating transaction creates, else None."""
    if tx.to:
        return None
    from eth._utils.address import generate_contract_address

    return bytes(generate_contract_address(tx.sender, tx.nonce))


def transaction(
    tx: SignedTransactionAPI,
    header: BlockHeaderAPI | None = None,
    index: int | None = None,
) -> JSON:
    """A transaction object; ``header``/``index`` place a mined one (pending ones get nulls)."""
    tx_type = transaction_type(tx)
    result: JSON = {
        "type": quantity(tx_type),
        "hash": data(tx.hash),
        "nonce": quantity(tx.nonce),
        "blockHash": None if header is None else data(header.hash),
        "blockNumber": None if header is None else quantity(header.block_number),
        "transactionIndex": None if index is None else quantity(index),
        "from": address(tx.sender),
        "to": address(tx.to) if tx.to else None,
        "value": quantity(tx.value),
        "gas": quantity(tx.gas),
        "input": data(tx.data),
        "r": quantity(tx.r),
        "s": quantity(tx.s),
    }
    if tx_type == 0:
        result["gasPrice"] = quantity(tx.gas_price)
        result["v"] = quantity(getattr(tx, "v", 27))
        if tx.chain_id is not None:
            result["chainId"] = quantity(tx.chain_id)
    else:
        result["chainId"] = quantity(tx.chain_id or 0)
        result["v"] = quantity(tx.y_parity)
        result["yParity"] = quantity(tx.y_parity)
        result["accessList"] = [
            {"address": address(entry_address), "storageKeys": [word(key) for key in keys]}
            for entry_address, keys in tx.access_list
        ]
        if tx_type == 1:
            result["gasPrice"] = quantity(tx.gas_price)
        else:
            result["maxFeePerGas"] = quantity(tx.max_fee_per_gas)
            result["maxPriorityFeePerGas"] = quantity(tx.max_priority_fee_per_gas)
            base_fee = None if header is None else base_fee_of(header)
            result["gasPrice"] = quantity(
                tx.max_fee_per_gas if base_fee is None else effective_gas_price(tx, base_fee)
            )
    return result


def log(
    entry: LogAPI,
    header: BlockHeaderAPI,
    tx_hash: bytes,
    tx_index: int,
    log_index: int,
) -> JSON:
    """A log object as in receipts and ``eth_getLogs``."""
    return {
        "address": address(entry.address),
        "topics": [word(topic) for topic in entry.topics],
        "data": data(entry.data),
        "blockNumber": quantity(header.block_number),
        "blockHash": data(header.hash),
        "blockTimestamp": quantity(header.timestamp),
        "transactionHash": data(tx_hash),
        "transactionIndex": quantity(tx_index),
        "logIndex": quantity(log_index),
        "removed": False,
    }


def log_offsets(receipts: Sequence[ReceiptAPI]) -> list[int]:
    """For each receipt of a block, the block-wide index of its first log."""
    offsets = []
    total = 0
    for entry in receipts:
        offsets.append(total)
        total += len(entry.logs)
    return offsets


def receipt(
    tx: SignedTransactionAPI,
    header: BlockHeaderAPI,
    index: int,
    receipts: Sequence[ReceiptAPI],
    first_log_index: int,
) -> JSON:
    """The receipt of transaction ``index`` of a block whose receipts are ``receipts``.

    ``first_log_index`` is the block-wide index of its first log (see `log_offsets`).
    """
    mine = receipts[index]
    previous_gas = receipts[index - 1].gas_used if index > 0 else 0
    created = contract_address(tx)
    status = 1 if mine.state_root == b"\x01" else 0
    return {
        "type": quantity(transaction_type(tx)),
        "transactionHash": data(tx.hash),
        "transactionIndex": quantity(index),
        "blockHash": data(header.hash),
        "blockNumber": quantity(header.block_number),
        "from": address(tx.sender),
        "to": address(tx.to) if tx.to else None,
        "cumulativeGasUsed": quantity(mine.gas_used),
        "gasUsed": quantity(mine.gas_used - previous_gas),
        "effectiveGasPrice": quantity(effective_gas_price(tx, base_fee_of(header))),
        "contractAddress": address(created) if created is not None else None,
        "logs": [
            log(entry, header, tx.hash, index, first_log_index + offset)
            for offset, entry in enumerate(mine.logs)
        ],
        "logsBloom": data(int(mine.bloom).to_bytes(256, "big")),
        "status": quantity(status),
    }


def block(chain_block: BlockAPI, full_transactions: bool) -> JSON:
    """A block object; transactions as objects when ``full_transactions``, else as hashes."""
    header = chain_block.header
    txs: list[Any]
    if full_transactions:
        txs = [transaction(tx, header, index) for index, tx in enumerate(chain_block.transactions)]
    else:
        txs = [data(tx.hash) for tx in chain_block.transactions]
    return {
        "number": quantity(header.block_number),
        "hash": data(header.hash),
        "parentHash": data(header.parent_hash),
        "nonce": data(header.nonce),
        "mixHash": data(header.mix_hash),
        "sha3Uncles": data(header.uncles_hash),
        "logsBloom": data(int(header.bloom).to_bytes(256, "big")),
        "transactionsRoot": data(header.transaction_root),
        "stateRoot": data(header.state_root),
        "receiptsRoot": data(header.receipt_root),
        "miner": address(header.coinbase),
        "difficulty": quantity(header.difficulty),
        "totalDifficulty": quantity(0),
        "extraData": data(header.extra_data),
        "size": quantity(len(rlp.encode(chain_block))),
        "gasLimit": quantity(header.gas_limit),
        "gasUsed": quantity(header.gas_used),
        "timestamp": quantity(header.timestamp),
        "transactions": txs,
        "uncles": [],
        "baseFeePerGas": quantity(base_fee_of(header)),
        "withdrawals": [],
        "withdrawalsRoot": data(header.withdrawals_root or BLANK_ROOT_HASH),
        "blobGasUsed": quantity(header.blob_gas_used),
        "excessBlobGas": quantity(header.excess_blob_gas),
        "parentBeaconBlockRoot": data(header.parent_beacon_block_root or bytes(32)),
        "requestsHash": data(getattr(header, "requests_hash", EMPTY_SHA256)),
    }
