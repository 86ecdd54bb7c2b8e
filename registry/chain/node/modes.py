"""The seam between the embedded chain and a chain mode (permissionless or permissioned).

The embedded chain (``registry.chain.node.chain.EmbeddedChain``) owns everything that is
the same for both chains: the py-evm database, the transaction pool, the block builder,
persistence, JSON-RPC. A *mode* owns what differs: who may send, how a block is sealed
and checked, what goes into genesis, and which interventions exist. The chain talks to
its mode only through the `ChainMode` protocol below; a mode may talk back to the chain
through the `registry.chain.node.host.ChainHost` view of the chain it is given in `ChainMode.bind`.

The contract, in the order the chain calls each member:

``name``
    ``"permissioned"`` or ``"permissionless"``: the chain's name everywhere (CLI, settings,
    data directory).
``consensus_class``, ``extra_data_max_bytes``
    Class attributes read once when the chain builds its py-evm VM class. ``consensus_class``
    is a py-evm ``ConsensusAPI`` subclass (``validate_seal``, ``validate_seal_extension``,
    ``get_fee_recipient``) or ``None`` for no seal (py-evm's ``NoProofConsensus``).
    ``extra_data_max_bytes`` replaces py-evm's default of 32 bytes for every header.
``genesis_extra_data()``
    The ``extra_data`` of the genesis header (e.g. the initial validator list). Called only
    when a chain is created, never when it is reopened.
``genesis_alloc()``
    Extra genesis accounts, merged over the chain's funded development accounts:
    ``{20-byte address: GenesisAccount}`` with optional ``balance``, ``nonce``, ``code`` and
    ``storage`` (slot -> value). Called only when a chain is created.
``bind(chain)``
    Called once, after the chain is opened (created or reopened) and before any block is
    built. A mode keeps the chain to reach its state, rewind it or publish events.
``check_transaction(tx, view)``
    Decide whether ``tx.sender`` may send ``tx``; raise a `registry.chain.errors.ChainError`
    subclass (``SenderNotPermittedError`` for the permissioned refusal) to refuse. The chain
    calls it (1) at submission, against the head state and the timestamp the next block will
    carry, before the transaction enters the pool and before its fee, funds and nonce are
    checked (a sender the mode refuses learns that first); (2) while building a block, against
    the state just before that transaction (a transaction refused there is dropped from the
    pool and reported as failed); (3) while importing a block, for every transaction, against
    the state just before it: a refusal makes the whole block invalid. ``view`` is a
    `StateView`; it must not be modified.
``check_sender(sender, view)``
    The part of ``check_transaction`` that depends on the sender alone. The chain calls it
    before estimating gas (``eth_estimateGas``), against the head state and the next block's
    timestamp, so that a wallet shows the refusal before anything is signed; it raises what
    submission would raise for that sender.
``check_block(header)``
    Called first when a block is imported, before its parent, seal or transactions are
    looked at; raise `registry.chain.errors.InvalidBlockError` (or a subclass) to refuse a
    block the mode knows it never accepts (e.g. one a rollback dropped).
``seal(header)``
    Called by the block builder once the header is complete (state root, receipts, gas
    used, timestamp). Return the header to persist: a sealing mode returns
    ``header.copy(extra_data=...)`` with its seals; ``extra_data`` is the only field a mode
    may change. Permissionless returns the header unchanged. Seals are then checked by
    ``consensus_class`` whenever a block is imported.
``on_block(block)``
    Called after a block is persisted and has become the canonical head (built or imported),
    before subscribers are notified. Must be quick; it runs on the builder thread.
``interventions()``, ``validator_votes()``
    The mode's intervention and validator-voting APIs (objects defined by the mode).
    Permissionless raises `ImmutableChainError`; other modes return their object.

Nothing else is needed to plug a mode in: pass an instance to ``EmbeddedChain.open``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypedDict, runtime_checkable

from registry.chain.errors import ImmutableChainError
from registry.chain.names import ChainName

if TYPE_CHECKING:
    from eth.abc import BlockAPI, BlockHeaderAPI, ConsensusAPI, SignedTransactionAPI, StateAPI

    from registry.chain.node.host import ChainHost


class GenesisAccount(TypedDict, total=False):
    """One account of the genesis state; missing fields default to zero or empty."""

    balance: int
    nonce: int
    code: bytes
    storage: dict[int, int]


@runtime_checkable
class StateView(Protocol):
    """Read-only access to the chain state at one point, given to `ChainMode.check_transaction`."""

    @property
    def state(self) -> StateAPI:
        """The py-evm state (read it; never write through it)."""
        ...

    @property
    def block_number(self) -> int:
        """Number of the block being built or imported (head + 1 at submission)."""
        ...

    @property
    def timestamp(self) -> int:
        """Timestamp of that block: the one being built or imported, or at submission the one the
        chain clock gives the next block (the head's state may be older)."""
        ...

    def call(self, to: bytes, data: bytes, sender: bytes | None = None) -> bytes:
        """Run a read-only message call against this state and return its output.

        Raises:
            RevertError: the call reverted (its ``data`` holds the revert payload).
        """
        ...


@runtime_checkable
class ChainMode(Protocol):
    """What makes a chain permissioned or permissionless; see the module docstring for when each runs."""

    name: ChainName
    consensus_class: ClassVar[type[ConsensusAPI] | None]
    extra_data_max_bytes: ClassVar[int]

    def genesis_extra_data(self) -> bytes:
        """``extra_data`` of the genesis header."""
        ...

    def genesis_alloc(self) -> dict[bytes, GenesisAccount]:
        """Accounts to add to genesis, keyed by 20-byte address."""
        ...

    def bind(self, chain: ChainHost) -> None:
        """Remember the chain this mode runs; called once after opening."""
        ...

    def check_transaction(self, tx: SignedTransactionAPI, view: StateView) -> None:
        """Raise a ChainError if ``tx.sender`` may not send ``tx`` in the state of ``view``."""
        ...

    def check_sender(self, sender: bytes, view: StateView) -> None:
        """Raise a ChainError if ``sender`` may not send at all in the state of ``view``."""
        ...

    def check_block(self, header: BlockHeaderAPI) -> None:
        """Raise an InvalidBlockError if an imported block with ``header`` is refused outright."""
        ...

    def seal(self, header: BlockHeaderAPI) -> BlockHeaderAPI:
        """Return ``header`` with its seal in ``extra_data`` (or unchanged)."""
        ...

    def on_block(self, block: BlockAPI) -> None:
        """React to a block that just became the canonical head."""
        ...

    def interventions(self) -> Any:
        """The intervention API of this chain, or raise ImmutableChainError."""
        ...

    def validator_votes(self) -> Any:
        """The validator-voting API of this chain, or raise ImmutableChainError."""
        ...


class PermissionlessMode:
    """Anyone with a funded key may send; blocks carry no seal; history is final."""

    name: ChainName = "permissionless"
    consensus_class: ClassVar[type[ConsensusAPI] | None] = None
    extra_data_max_bytes: ClassVar[int] = 32

    def genesis_extra_data(self) -> bytes:
        """No validators to list: the genesis ``extra_data`` is empty."""
        return b""

    def genesis_alloc(self) -> dict[bytes, GenesisAccount]:
        """Nothing beyond the development accounts."""
        return {}

    def bind(self, chain: ChainHost) -> None:
        """Nothing to remember: this mode never reaches back into the chain."""

    def check_transaction(self, tx: SignedTransactionAPI, view: StateView) -> None:
        """Every signed transaction may be sent; nonce and funds are checked by the chain."""

    def check_sender(self, sender: bytes, view: StateView) -> None:
        """Every sender may send."""

    def check_block(self, header: BlockHeaderAPI) -> None:
        """No block is refused outright: history is final, nothing was ever dropped."""

    def seal(self, header: BlockHeaderAPI) -> BlockHeaderAPI:
        """No seal: the header is persisted as built."""
        return header

    def on_block(self, block: BlockAPI) -> None:
        """Nothing to track per block."""

    def interventions(self) -> Any:
        """Always refused: a permissionless chain's history is final."""
        raise ImmutableChainError(
            "the permissionless chain is immutable: no rollback, freeze or forced transfer exists at the "
            "chain level; use the token's own enforcement functions, or the permissioned chain"
        )

    def validator_votes(self) -> Any:
        """Always refused: a permissionless chain has no validator set to vote on."""
        raise ImmutableChainError(
            "the permissionless chain is immutable and has no validators: there is nothing to vote on; "
            "validator votes exist only on the permissioned chain"
        )
