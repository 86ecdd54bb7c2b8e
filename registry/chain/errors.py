"""The exception tree of the chain backends.

    ChainError                              root of every chain error (a registry.errors.RegistryError)
    ├── TransactionRejectedError            refused before execution; never entered a block (ValueError)
    │   ├── InvalidTransactionError         malformed, badly signed, wrong chain id, gas above the block limit
    │   ├── NonceError                      nonce already used, or a gap before it
    │   ├── InsufficientFundsError          balance below gas * fee + value
    │   ├── FeeTooLowError                  max fee below the block's base fee
    │   ├── TransactionExcludedError        a rollback excluded this very transaction for good
    │   └── SenderNotPermittedError         the chain's mode refuses this sender (PermissionError)
    │       ├── UnregisteredSenderError     the identity registry does not know the wallet
    │       ├── KycExpiredError             its KYC expires before the next block's timestamp
    │       ├── KycRevokedError             its investor was revoked (for good)
    │       └── SenderFrozenError           frozen chain-wide by an intervention
    ├── RevertError                         execution reverted; ``data`` holds the revert payload
    ├── ExecutionFailedError                execution failed without revert (out of gas, invalid opcode)
    ├── BlockNotFoundError                  no block, transaction or receipt with that id (LookupError)
    ├── InvalidBlockError                   an imported block is refused (bad seal, state, transaction)
    │   └── DroppedBlockError               a rollback dropped this block for good
    ├── ImmutableChainError                 intervention asked of the permissionless chain (PermissionError)
    ├── NotSupportedByBackendError          feature missing, e.g. on an external node (NotImplementedError)
    ├── ChainClosedError                    the chain was closed; reopen it
    ├── ChainDataError                      the data directory holds another or a damaged chain
    │   └── ChainInUseError                 another process has the chain's folder open
    └── ChainConnectionError                an external node cannot be reached (ConnectionError)

The permissioned consensus adds its own subclasses of ``InvalidBlockError`` (seal and validator-set
errors, `registry.chain.consensus.seals`) and of ``ChainError`` (proposal errors,
`registry.chain.consensus.proposals`); each of those modules draws its part of the tree.

Each class maps to one JSON-RPC error code (``rpc_code``) at the RPC boundary, so a
client over HTTP sees the same refusal as a caller in process; see ``registry.chain.rpc.dispatcher``.
"""

from __future__ import annotations

from registry.errors import RegistryError

# JSON-RPC codes used by Ethereum nodes: -32000 is the generic "server error" geth uses for
# transaction refusals; 3 is the code for a revert with data (EIP-1474 and every client).
RPC_SERVER_ERROR = -32000
RPC_EXECUTION_REVERTED = 3
RPC_RESOURCE_NOT_FOUND = -32001
RPC_METHOD_NOT_SUPPORTED = -32004
RPC_TRANSACTION_REJECTED = -32003
RPC_INVALID_PARAMS = -32602
RPC_INTERNAL_ERROR = -32603


class ChainError(RegistryError):
    """Root of every error raised by a chain backend."""

    rpc_code: int = RPC_SERVER_ERROR
    """JSON-RPC error code used when this error crosses the RPC boundary."""


class TransactionRejectedError(ChainError, ValueError):
    """Raised when a transaction is refused before execution; it is not in the pool nor in a block."""

    rpc_code = RPC_SERVER_ERROR


class InvalidTransactionError(TransactionRejectedError):
    """Raised for a transaction that cannot be decoded, is badly signed, names another chain id,
    or asks for more gas than a block holds."""


class NonceError(TransactionRejectedError):
    """Raised when a transaction's nonce is already used ("nonce too low") or leaves a gap
    ("nonce too high"); the message gives the expected nonce."""


class InsufficientFundsError(TransactionRejectedError):
    """Raised when the sender cannot pay gas limit * max fee + value."""


class FeeTooLowError(TransactionRejectedError):
    """Raised when a transaction's max fee per gas is below the next block's base fee."""


class TransactionExcludedError(TransactionRejectedError):
    """Raised when a rollback excluded this transaction (by hash or by sender): it is refused for good,
    at submission and inside an imported block. ``proposal_id`` names the rollback."""

    rpc_code = RPC_TRANSACTION_REJECTED

    def __init__(self, message: str, proposal_id: bytes) -> None:
        super().__init__(message)
        self.proposal_id = proposal_id
        """Id of the rollback proposal that excluded the transaction."""


class SenderNotPermittedError(TransactionRejectedError, PermissionError):
    """Raised when the chain's mode refuses the sender (e.g. not verified on a permissioned chain).

    The permissioned chain raises one of the subclasses when it knows why; this class itself when the
    identity registry refuses for a reason it cannot read."""

    rpc_code = RPC_TRANSACTION_REJECTED


class UnregisteredSenderError(SenderNotPermittedError):
    """Raised when the identity registry has no record of the sender: a KYC provider must register it."""


class KycExpiredError(SenderNotPermittedError):
    """Raised when the sender's KYC is no longer valid at the timestamp of the next block; renew it."""


class KycRevokedError(SenderNotPermittedError):
    """Raised when the sender belongs to a revoked investor, which is never verified again."""


class SenderFrozenError(SenderNotPermittedError):
    """Raised when an intervention froze the sender chain-wide; a validator quorum must unfreeze it."""


class RevertError(ChainError):
    """Raised when execution reverted; ``data`` is the revert payload (a custom error's selector and
    arguments, ``Error(string)``, ``Panic(uint256)``, or empty)."""

    rpc_code = RPC_EXECUTION_REVERTED

    def __init__(self, message: str, data: bytes = b"") -> None:
        super().__init__(message)
        self.data = data
        """The raw revert payload returned by the EVM."""


class ExecutionFailedError(ChainError):
    """Raised when a call or gas estimate fails without reverting: out of gas, invalid opcode, stack error."""


class BlockNotFoundError(ChainError, LookupError):
    """Raised when no block, transaction or receipt matches the number or hash asked for."""

    rpc_code = RPC_RESOURCE_NOT_FOUND


class InvalidBlockError(ChainError, ValueError):
    """Raised when an imported block is refused: bad seal, wrong state root, a refused transaction."""


class DroppedBlockError(InvalidBlockError):
    """Raised when an imported block is one that a rollback dropped: it is refused for good.
    ``proposal_id`` names the rollback."""

    def __init__(self, message: str, proposal_id: bytes) -> None:
        super().__init__(message)
        self.proposal_id = proposal_id
        """Id of the rollback proposal that dropped the block."""


class ImmutableChainError(ChainError, PermissionError):
    """Raised when an intervention or validator vote is asked of a chain whose history is final."""

    rpc_code = RPC_METHOD_NOT_SUPPORTED


class NotSupportedByBackendError(ChainError, NotImplementedError):
    """Raised when the backend (e.g. an external JSON-RPC node) lacks the feature asked for."""

    rpc_code = RPC_METHOD_NOT_SUPPORTED


class ChainClosedError(ChainError, RuntimeError):
    """Raised when a closed chain is used; open it again."""


class ChainDataError(ChainError):
    """Raised when the data directory holds a chain with another id or mode, or a damaged database."""


class ChainInUseError(ChainDataError):
    """Raised when another process has the chain's folder open; the message names it and its URL."""


class ChainConnectionError(ChainError, ConnectionError):
    """Raised when an external JSON-RPC node cannot be reached or answers nonsense."""


_SENDER_REFUSALS: tuple[tuple[str, type[SenderNotPermittedError]], ...] = (
    ("is frozen chain-wide", SenderFrozenError),
    ("which was revoked in", KycRevokedError),
    ("the KYC of sender", KycExpiredError),
    ("is not registered in", UnregisteredSenderError),
    ("is not verified by", SenderNotPermittedError),
)


def sender_refusal_of(message: str) -> type[SenderNotPermittedError] | None:
    """Which refusal of a sender ``message`` reports, when a client meets it as text (over JSON-RPC every
    refusal is code -32003 with the permissioned mode's words, `registry.chain.consensus.kyc.kyc_refusal`
    and the chain-wide freeze); None when it is no sender refusal. Those words and these phrases are kept
    in step by tests/chain/test_errors.py."""
    for phrase, kind in _SENDER_REFUSALS:
        if phrase in message:
            return kind
    return None
