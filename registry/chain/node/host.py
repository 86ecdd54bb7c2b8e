"""What a chain mode may ask of the embedded chain that runs it, and the records the chain hands back.

A mode (`registry.chain.node.modes.ChainMode`) is given its chain in ``bind``; it sees the
chain only through `ChainHost`, so the modes (the permissioned consensus above all) depend on
this small protocol rather than on `registry.chain.node.chain.EmbeddedChain` itself, and the
node never has to know which modes exist.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from eth.abc import BlockAPI, BlockHeaderAPI, ReceiptAPI, SignedTransactionAPI
    from eth.chains.base import Chain

    from registry.chain.errors import ChainError
    from registry.chain.events import ChainEvent


@dataclass
class BuiltBlock:
    """The result of sealing: the block (None when nothing could be included) and what was left out."""

    block: BlockAPI | None
    included: list[bytes] = field(default_factory=list)
    """Hashes of the transactions in the block, in order."""
    failed: dict[bytes, ChainError] = field(default_factory=dict)
    """Transactions refused for good, by hash, with the reason."""
    deferred: list[bytes] = field(default_factory=list)
    """Transactions that did not fit and wait for the next block."""


@dataclass(frozen=True)
class TransactionLocation:
    """Where a mined transaction is: its block header and index."""

    tx: SignedTransactionAPI
    header: BlockHeaderAPI
    index: int


class ChainHost(Protocol):
    """The members of `EmbeddedChain` that a mode uses; see that class for what each does."""

    @property
    def name(self) -> str:
        """The chain's name."""
        ...

    @property
    def chain_id(self) -> int:
        """The EIP-155 chain id."""
        ...

    @property
    def lock(self) -> threading.RLock:
        """The chain's re-entrant lock."""
        ...

    @property
    def py_evm(self) -> Chain:
        """The py-evm chain (its database reads any stored block)."""
        ...

    def head(self) -> BlockHeaderAPI:
        """The canonical head header."""
        ...

    def get_header(self, block_id: int | bytes) -> BlockHeaderAPI:
        """A canonical header by number, or any stored header by hash."""
        ...

    def exclusive(self) -> AbstractContextManager[Any]:
        """Hold the chain's build lock and lock: nothing else seals, imports or reads meanwhile."""
        ...

    def atomic(self) -> AbstractContextManager[Any]:
        """Hold the chain still and commit everything written inside as one database transaction, or
        nothing (a crash or an exception inside leaves no trace); events wait for the commit."""
        ...

    def flush_metadata(self) -> None:
        """Commit writes made outside a block (a mode's own records) to disk now."""
        ...

    def mine(self) -> BlockAPI:
        """Seal a block now, empty if nothing is pending."""
        ...

    def build_block(
        self, transactions: Sequence[SignedTransactionAPI], *, allow_empty: bool = False
    ) -> BuiltBlock:
        """Seal one block from ``transactions`` (bypassing the pool)."""
        ...

    def find_transaction(self, tx_hash: bytes) -> TransactionLocation | None:
        """Where a canonical transaction is, or None."""
        ...

    def receipts_of(self, header: BlockHeaderAPI) -> tuple[ReceiptAPI, ...]:
        """The receipts of the block of ``header``."""
        ...

    def rewind(self, to_number: int) -> list[BlockAPI]:
        """Make block ``to_number`` the head and return the dropped blocks, oldest first."""
        ...

    def publish(self, event: ChainEvent) -> None:
        """Send ``event`` to the chain's subscribers."""
        ...
