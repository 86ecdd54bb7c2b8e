"""Log queries: the criteria of ``eth_getLogs`` and of log filters, and the scan that answers them.

A `LogCriteria` is read once from a filter object (addresses, topics, block range) and
then matched against blocks: the header's bloom first, the receipts only when the bloom
may match. `logs_of_block` lists a block's matching logs, marked ``removed`` when the
block has just left the canonical chain (as geth marks logs of a reorganised block).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eth.abc import BlockHeaderAPI
from eth_bloom.bloom import BloomFilter

from registry.chain.rpc import serializers as ser
from registry.chain.rpc.blocks import resolve_number
from registry.chain.rpc.params import Fields
from registry.chain.rpc.serializers import JSON, RpcParamsError

if TYPE_CHECKING:
    from registry.chain.node.chain import EmbeddedChain

MAX_TOPICS = 4
"""A log has at most four topics, so a filter has at most four positions."""

MAX_LOG_BLOCK_RANGE = 100_000
"""Widest block range one ``eth_getLogs`` request may scan."""


@dataclass(frozen=True)
class LogCriteria:
    """What a log must match: one of ``addresses`` (any if empty) and, per topic position, one of the
    topics listed there (any if None). ``from_block``/``to_block`` are as sent (tags or numbers);
    ``block_hash`` pins one block instead."""

    addresses: frozenset[bytes]
    topics: tuple[tuple[int, ...] | None, ...]
    from_block: Any = "latest"
    to_block: Any = "latest"
    block_hash: bytes | None = None

    @classmethod
    def read(cls, fields: Fields) -> LogCriteria:
        """Read a filter object (``eth_getLogs``, ``eth_newFilter``).

        Other fields are ignored, as geth ignores them.

        Raises:
            RpcParamsError: a field is malformed, or blockHash is combined with a range.
        """
        block_hash = fields.data("blockHash", 32) if fields.has("blockHash") else None
        if block_hash is not None and (fields.has("fromBlock") or fields.has("toBlock")):
            raise RpcParamsError(
                f"{fields.where}: blockHash cannot be combined with fromBlock or toBlock; send one of them"
            )
        addresses: list[bytes] = []
        if fields.has("address"):
            if isinstance(fields.raw("address"), list):
                items = fields.items("address")
                addresses = [bytes(items.address(i)) for i in range(len(items))]
            else:
                addresses = [bytes(fields.address("address"))]
        topics: list[tuple[int, ...] | None] = []
        if fields.has("topics"):
            positions = fields.items("topics")
            if len(positions) > MAX_TOPICS:
                raise RpcParamsError(
                    f"{fields.where}: field 'topics' has {len(positions)} positions; a log has at most "
                    f"{MAX_TOPICS} topics"
                )
            for position in range(len(positions)):
                value = positions.raw(position)
                if value is None:
                    topics.append(None)
                elif isinstance(value, list):
                    options = positions.items(position)
                    chosen = tuple(int.from_bytes(options.data(i, 32), "big") for i in range(len(options)))
                    topics.append(chosen or None)
                else:
                    topics.append((int.from_bytes(positions.data(position, 32), "big"),))
        return cls(
            addresses=frozenset(addresses),
            topics=tuple(topics),
            from_block=fields.block("fromBlock"),
            to_block=fields.block("toBlock"),
            block_hash=block_hash,
        )

    def bloom_may_match(self, header: BlockHeaderAPI) -> bool:
        """False when the block's bloom proves that no log of it matches."""
        if not self.addresses and not any(self.topics):
            return True
        bloom = BloomFilter(int(header.bloom))
        if self.addresses and not any(item in bloom for item in self.addresses):
            return False
        for options in self.topics:
            if options and not any(topic.to_bytes(32, "big") in bloom for topic in options):
                return False
        return True

    def matches(self, log_address: bytes, topics: Sequence[int]) -> bool:
        """True if a log of ``log_address`` with ``topics`` matches."""
        if self.addresses and bytes(log_address) not in self.addresses:
            return False
        if len(self.topics) > len(topics):
            return False
        return all(
            options is None or topics[position] in options for position, options in enumerate(self.topics)
        )


def logs_of_block(
    chain: EmbeddedChain, header: BlockHeaderAPI, criteria: LogCriteria, *, removed: bool = False
) -> list[JSON]:
    """The logs of the block ``header`` that match ``criteria``, in block order."""
    if not criteria.bloom_may_match(header):
        return []
    chain_block, receipts = chain.block_with_receipts(header)
    results: list[JSON] = []
    log_index = 0
    for tx_index, (tx, tx_receipt) in enumerate(zip(chain_block.transactions, receipts, strict=True)):
        for entry in tx_receipt.logs:
            if criteria.matches(entry.address, entry.topics):
                shaped = ser.log(entry, header, tx.hash, tx_index, log_index)
                if removed:
                    shaped["removed"] = True
                results.append(shaped)
            log_index += 1
    return results


def scan_logs(chain: EmbeddedChain, criteria: LogCriteria) -> list[JSON]:
    """Every canonical log matching ``criteria`` (``eth_getLogs``, ``eth_getFilterLogs``).

    A range reaching past the head stops at the head, as on geth and anvil; one starting
    past it is empty.

    Raises:
        RpcParamsError: the range is wider than `MAX_LOG_BLOCK_RANGE` blocks.
        BlockNotFoundError: an unknown ``blockHash``.
    """
    if criteria.block_hash is not None:
        headers = [chain.get_header(criteria.block_hash)]
    else:
        with chain.lock:
            head = chain.block_number
            first = resolve_number(chain, criteria.from_block, head)
            last = min(resolve_number(chain, criteria.to_block, head), head)
            if last - first + 1 > MAX_LOG_BLOCK_RANGE:
                raise RpcParamsError(
                    f"block range {first}..{last} is wider than {MAX_LOG_BLOCK_RANGE} blocks; split the query"
                )
            headers = [chain.get_header(number) for number in range(first, last + 1)]
    results: list[JSON] = []
    for header in headers:
        results.extend(logs_of_block(chain, header, criteria))
    return results
