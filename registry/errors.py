"""The exception tree of the registry.

    RegistryError                          root: catch this to catch everything the registry raises
    ├── ArtifactError                      a compiled contract cannot be found or read (LookupError)
    ├── ConfigurationError                 a setting is missing or invalid (ValueError)
    ├── InvalidInputError                  an argument is invalid; ``field`` names it (ValueError)
    │   ├── InvalidCursorError             a pagination cursor is malformed or from another query
    │   └── UnknownInvestorError           no investor has that id in the registry (LookupError)
    ├── KycRegistrationError               the identity registry refuses to register a wallet
    ├── OperationRefusedError              refused before sending: the chain's state forbids it now
    │   ├── ComplianceRefusedError         a transfer or mint would break the token's rules (each named)
    │   ├── PaymentWithheldError           a claim would be withheld; ``violation`` says why
    │   └── RoleMissingError               the sender lacks the role the operation needs (PermissionError)
    ├── CustodyError                       keys, signing and sending transactions (registry.custody)
    │   ├── KeystoreError                  a key file cannot be found, written, read or decrypted
    │   │   ├── PassphraseMissingError     REGISTRY_KEYSTORE_PASSPHRASE is unset (also a ConfigurationError)
    │   │   ├── WrongPassphraseError       the passphrase does not decrypt a key (PermissionError)
    │   │   ├── KeyNotFoundError           no key file for that address or label (LookupError)
    │   │   ├── KeyExistsError             a key with that address or label exists already
    │   │   └── KeyFileCorruptError        a file of the keystore is not a valid keystore v3 key
    │   ├── NoSigningKeyError              custody holds no key for that sender (LookupError)
    │   ├── SignedTransactionMismatchError a client's signed transaction is not the one prepared (ValueError)
    │   └── TransactionFailedError         a transaction did not do its work; ``description`` says which
    │       ├── TransactionRevertedError   it reverted (in the gas estimate: nothing sent; or on chain)
    │       ├── SubmissionRejectedError    the node refused it; it never entered a block, its nonce is free
    │       ├── TransactionNotLandedError  no receipt by the deadline, or dropped by the node
    │       └── BatchIncompleteError       a batch stopped half way; ``outcome`` says item by item
    │           └── BatchStoppedError      a service's batch stopped; ``report`` and ``batch_id`` to resume
    ├── AccessError                        API keys and idempotency records (registry.access)
    │   ├── UnknownApiKeyError             no API key has that id (LookupError)
    │   ├── LastAdminKeyError              revoking the last active admin key would lock everyone out
    │   └── UnknownPreparedOperationError  no prepared transaction has that id (or it expired) (LookupError)
    └── RegistryIndexError                 the index database and the indexer (registry.index)
        ├── DatabaseUnavailableError       the index database cannot be opened or reached
        ├── SchemaVersionError             the database's schema is unknown to this version (newer)
        ├── AssetExistsError               the catalogue holds another asset at that address (ValueError)
        ├── UnknownAssetError              no catalogued asset has that id (LookupError)
        ├── ChainMismatchError             the node is not the chain the index followed (another genesis)
        ├── ReorgTooDeepError              no common ancestor among the blocks the index kept
        ├── IndexerNodeError               the node failed or answered nonsense; the index is unchanged
        ├── ProjectionError                the events contradict the index (e.g. events are missing)
        ├── BlockNotIndexedError           a query asks for a block the index does not have (LookupError)
        ├── IndexBehindError               the index did not reach a block in time (TimeoutError)
        └── StaleCursorError               a cursor's block left the canonical chain (a reorganisation)

The chain backends' own tree (``registry.chain.errors.ChainError``) hangs under RegistryError too.
Each error says what was wrong and what to do about it. No error text ever holds a passphrase or a
private key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from registry.bulk.report import BatchReport
    from registry.compliance import Violation
    from registry.custody.batches import BatchOutcome
    from registry.reverts import DecodedError


class RegistryError(Exception):
    """Root of every error raised by the registry."""


class ArtifactError(RegistryError, LookupError):
    """Raised when a contract artifact is unknown or unreadable."""


class ConfigurationError(RegistryError, ValueError):
    """Raised when a setting is missing or has an invalid value."""


class InvalidInputError(RegistryError, ValueError):
    """Raised when an argument is invalid, before anything is written or sent; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        """The name of the invalid argument (or field of a model)."""


class UnknownInvestorError(InvalidInputError, LookupError):
    """Raised when a chain's identity registry has no investor with the id asked for (``field``
    ``investor_id``)."""


# -- custody --------------------------------------------------------------------------------------


class CustodyError(RegistryError):
    """Root of the errors of ``registry.custody``: keys, signing, nonces, sending."""


class KeystoreError(CustodyError):
    """Raised when a key of the keystore cannot be found, written, read or decrypted."""


class PassphraseMissingError(KeystoreError, ConfigurationError):
    """Raised when a key must be encrypted or decrypted and REGISTRY_KEYSTORE_PASSPHRASE is unset."""


class WrongPassphraseError(KeystoreError, PermissionError):
    """Raised when the configured passphrase does not decrypt a key file."""


class KeyNotFoundError(KeystoreError, LookupError):
    """Raised when the keystore holds no key with the address or label asked for."""


class KeyExistsError(KeystoreError):
    """Raised when creating or importing a key whose address or label the keystore already holds."""


class KeyFileCorruptError(KeystoreError):
    """Raised when a key file is not a keystore v3 document, or its address does not match its key."""


class NoSigningKeyError(CustodyError, LookupError):
    """Raised when custody cannot sign for a sender: the client must sign (the non-custodial flow)."""


class SignedTransactionMismatchError(CustodyError, ValueError):
    """Raised when a client's signed transaction differs from the prepared one, or names another chain.

    ``mismatches`` lists each differing field as ``(field, expected, got)``.
    """

    def __init__(self, message: str, mismatches: tuple[tuple[str, Any, Any], ...] = ()) -> None:
        super().__init__(message)
        self.mismatches = mismatches
        """Each field that differs: its name, the prepared value and the signed value."""


class TransactionFailedError(CustodyError):
    """Raised when a transaction did not do its work. ``description`` is the operation's one-line text;
    ``tx_hash`` and ``nonce`` are set when the transaction was signed (None otherwise)."""

    def __init__(
        self,
        message: str,
        *,
        description: str,
        sender: str | None = None,
        tx_hash: bytes | None = None,
        nonce: int | None = None,
    ) -> None:
        super().__init__(message)
        self.description = description
        """What the transaction was for, e.g. ``mint 100 ACME to 0xabc…``."""
        self.sender = sender
        """The sender's checksum address, when known."""
        self.tx_hash = tx_hash
        """The transaction's hash once signed; None if it never was."""
        self.nonce = nonce
        """The nonce it was signed with; None if it never was."""


class TransactionRevertedError(TransactionFailedError):
    """Raised when a transaction reverts: in the gas estimate (``sent`` False: nothing was sent, no gas
    spent) or on chain (``sent`` True: mined with status 0, ``block_number`` and ``gas_used`` set).

    ``error`` is the decoded custom error (name and arguments, searched in every contract artifact's
    ABI, plus ``Error(string)`` and ``Panic(uint256)``), None when the revert data matches nothing;
    ``data`` is the raw revert payload (empty when the chain gives none).
    """

    def __init__(
        self,
        message: str,
        *,
        description: str,
        error: DecodedError | None,
        data: bytes,
        sent: bool,
        sender: str | None = None,
        tx_hash: bytes | None = None,
        nonce: int | None = None,
        block_number: int | None = None,
        gas_used: int | None = None,
    ) -> None:
        super().__init__(message, description=description, sender=sender, tx_hash=tx_hash, nonce=nonce)
        self.error = error
        """The decoded revert (custom error, ``Error`` or ``Panic``), or None."""
        self.data = data
        """The raw revert payload."""
        self.sent = sent
        """True when the transaction was mined (and paid for); False when refused by the estimate."""
        self.block_number = block_number
        """The block the reverted transaction was mined in, when ``sent``."""
        self.gas_used = gas_used
        """The gas the reverted transaction used, when ``sent``."""


class SubmissionRejectedError(TransactionFailedError):
    """Raised when the node refuses a signed transaction (nonce, funds, fee, sender not permitted,
    malformed). It never entered a block or the pool; its nonce is released for the next transaction.
    ``reason`` is the node's own message."""

    def __init__(
        self,
        message: str,
        *,
        description: str,
        reason: str,
        sender: str | None = None,
        tx_hash: bytes | None = None,
        nonce: int | None = None,
    ) -> None:
        super().__init__(message, description=description, sender=sender, tx_hash=tx_hash, nonce=nonce)
        self.reason = reason
        """The node's message."""


class TransactionNotLandedError(TransactionFailedError):
    """Raised when a sent transaction has no receipt by the deadline, was dropped by the node, or its
    submission got no answer. It is never re-sent automatically: it may still land (look it up by
    ``tx_hash``) or never will; the message says which is likely and what to do."""


class BatchIncompleteError(TransactionFailedError):
    """Raised by `BatchOutcome.raise_for_failure` when not every transaction of a batch landed;
    ``outcome`` says which landed, which reverted (decoded) and which were never sent."""

    def __init__(self, message: str, *, outcome: BatchOutcome) -> None:
        super().__init__(message, description="batch")
        self.outcome = outcome
        """The whole batch's outcome, transaction by transaction."""


class BatchStoppedError(BatchIncompleteError):
    """Raised when a service's batch (registration, mint, transfer) stopped half way. ``report`` says
    item by item what landed (with its transaction hash), what failed and why, and what was never
    sent; calling the same operation again with ``batch_id`` sends only what did not land."""

    def __init__(self, message: str, *, outcome: BatchOutcome, report: BatchReport) -> None:
        super().__init__(message, outcome=outcome)
        self.report = report
        """The batch item by item."""
        self.batch_id = report.batch_id
        """The id to resume the batch with."""


class KycRegistrationError(RegistryError):
    """Raised when the identity registry refuses to register or update a wallet (e.g. a revoked investor)."""


# -- services -------------------------------------------------------------------------------------


class OperationRefusedError(RegistryError):
    """Raised before anything is sent when the chain's current state forbids the operation (a record date
    not reached, a coupon already funded, a mode without that feature...). Nothing was sent, no gas spent;
    the message says why and what to do. ``error`` is the contract's decoded refusal when a dry run found
    it (None when the service refused from what it read)."""

    def __init__(self, message: str, *, error: DecodedError | None = None) -> None:
        super().__init__(message)
        self.error = error
        """The custom error (name and arguments) the contract would revert with, when known."""


class ComplianceRefusedError(OperationRefusedError):
    """Raised before sending when a transfer or mint would break the token's rules.

    ``violations`` explains every broken rule (`registry.compliance.Violation`: code, name, what is
    wrong, what to do); for a batch, ``items`` maps each refused item's position to its violations.
    """

    def __init__(
        self,
        message: str,
        *,
        asset_id: str,
        violations: tuple[Violation, ...] = (),
        items: dict[int, tuple[Violation, ...]] | None = None,
    ) -> None:
        super().__init__(message)
        self.asset_id = asset_id
        """The asset whose rules refused."""
        self.violations = violations
        """Every broken rule of a single transfer or mint (for a batch: of every refused item, in order)."""
        self.items = dict(items or {})
        """For a batch: each refused item's position and its broken rules."""


class PaymentWithheldError(OperationRefusedError):
    """Raised before sending when a coupon, dividend or principal payment would be withheld (the wallet to
    be paid is frozen, unverified or re-linked, or the token is paused). ``violation`` says why and what
    clears it; the entitlement stays owed."""

    def __init__(self, message: str, *, asset_id: str, payee: str, violation: Violation) -> None:
        super().__init__(message)
        self.asset_id = asset_id
        """The asset that withholds the payment."""
        self.payee = payee
        """The wallet that would be paid."""
        self.violation = violation
        """Why the payment is withheld, and what to do."""


class RoleMissingError(OperationRefusedError, PermissionError):
    """Raised before sending when the sender does not hold the role the operation needs on the contract
    (``role`` names it: admin, supply, enforcement, compliance, kyc-provider, minter)."""

    def __init__(self, message: str, *, role: str, account: str, contract: str) -> None:
        super().__init__(message)
        self.role = role
        """The missing role."""
        self.account = account
        """The sender that lacks it."""
        self.contract = contract
        """The contract (token or identity registry) the role is held on."""


# -- access ---------------------------------------------------------------------------------------


class AccessError(RegistryError):
    """Root of the errors of ``registry.access``: API keys, idempotency records, prepared operations."""


class UnknownApiKeyError(AccessError, LookupError):
    """Raised when no API key has the id asked for."""


class LastAdminKeyError(AccessError):
    """Raised when revoking a key would leave no active admin key (``registry keys reset-admin`` makes a
    new one from the data directory, but nobody could manage keys over HTTP until then)."""


class UnknownPreparedOperationError(AccessError, LookupError):
    """Raised when no prepared operation has the id asked for (never prepared, another key's, or expired)."""


# -- index ----------------------------------------------------------------------------------------


class InvalidCursorError(InvalidInputError):
    """Raised when a pagination cursor is not one this index gave out, or was given for another query."""

    def __init__(self, message: str) -> None:
        super().__init__("cursor", message)


class RegistryIndexError(RegistryError):
    """Root of the errors of ``registry.index``: the database, the catalogue, the indexer, the queries."""


class DatabaseUnavailableError(RegistryIndexError, ConnectionError):
    """Raised when the index database cannot be opened or reached (the message hides any password)."""


class SchemaVersionError(RegistryIndexError):
    """Raised when the database carries a schema revision this version of the registry does not know
    (written by a newer version), or a migration fails; nothing was changed."""


class AssetExistsError(RegistryIndexError, ValueError):
    """Raised when cataloguing an asset whose chain and address the catalogue holds with other data."""


class UnknownAssetError(RegistryIndexError, LookupError):
    """Raised when no catalogued asset has the id (or chain and address) asked for."""


class ChainMismatchError(RegistryIndexError):
    """Raised when the node behind a chain name is not the chain the index followed under that name
    (another genesis block, or another chain id than the catalogue recorded)."""


class ReorgTooDeepError(RegistryIndexError):
    """Raised when a reorganisation reaches below every block the index kept: no common ancestor."""


class IndexerNodeError(RegistryIndexError):
    """Raised when the node fails a request or answers something inconsistent; the index is unchanged
    and the next sync starts again from its last indexed block."""


class ProjectionError(RegistryIndexError):
    """Raised when the events contradict what the index holds (a balance would go negative, a claim
    names a period never created): events are missing, usually because a contract was catalogued with
    a first block after its deployment. Nothing of the step was written."""


class BlockNotIndexedError(RegistryIndexError, LookupError):
    """Raised when a query asks for a block (or a date) outside what the index holds."""


class IndexBehindError(RegistryIndexError, TimeoutError):
    """Raised when the index of a chain did not reach a block within the time given (the indexer is slow
    or failing: the message carries its last error)."""


class StaleCursorError(RegistryIndexError):
    """Raised when a cursor's block is no longer canonical (a rollback or reorganisation replaced it):
    the pages it continues would mix two histories. Start again without a cursor."""
