"""The signed proposals the permissioned chain's validators vote on, and where they are kept.

Proposals (validator votes and interventions) are EIP-712 typed messages (`Proposal`),
signed by validators with their usual keys; a set of signatures over one proposal from
enough current validators is a quorum certificate (`collect_signers`). Proposals, their
signatures and outcomes, the chain-wide frozen accounts and the validator-change history
are kept in the chain's own key-value database (`GovernanceStore`), so they survive a
restart and travel with the chain. `ProposalDesk` is the shared base of the two desks
(validator votes, interventions): propose, sign, execute once the quorum is reached.

Errors raised here::

    registry.chain.errors.ChainError
    └── GovernanceError                    a proposal or vote cannot be accepted or carried out
        ├── UnknownProposalError           no proposal with that id (also LookupError)
        ├── InvalidProposalError           the proposal makes no sense now (also ValueError)
        ├── NotAValidatorError             a signer is not a current validator (also PermissionError)
        ├── InvalidProposalSignatureError  a signature does not recover to the claimed validator
        ├── QuorumNotReachedError          too few validator signatures to act
        └── ProposalClosedError            the proposal was already executed or failed
"""

from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_keys.datatypes import PrivateKey
from eth_keys.exceptions import BadSignature
from eth_typing import Address, ChecksumAddress, Hash32
from eth_utils.address import to_canonical_address
from eth_utils.crypto import keccak
from eth_utils.exceptions import ValidationError

from registry.chain.consensus.seals import MAX_VALIDATORS, canonical_validator_list, short
from registry.chain.errors import ChainError

if TYPE_CHECKING:
    from eth.abc import AtomicDatabaseAPI


class GovernanceError(ChainError):
    """Raised when a proposal, vote or signature cannot be accepted or carried out."""


class UnknownProposalError(GovernanceError, LookupError):
    """Raised when no proposal has the id asked for."""


class InvalidProposalError(GovernanceError, ValueError):
    """Raised when a proposal cannot apply to the chain as it is (e.g. adding a current validator)."""


class NotAValidatorError(GovernanceError, PermissionError):
    """Raised when a signature or vote comes from an address outside the current validator set."""


class InvalidProposalSignatureError(GovernanceError, ValueError):
    """Raised when a proposal signature is malformed or does not recover to the claimed validator."""


class QuorumNotReachedError(GovernanceError):
    """Raised when a proposal is executed with too few current-validator signatures; nothing changed."""


class ProposalClosedError(GovernanceError):
    """Raised when a proposal that was already executed (or failed) is signed or executed again."""


# ---------------------------------------------------------------------------------------------- proposals


class ProposalKind(StrEnum):
    """What a proposal asks for; the value is its EIP-712 primary type."""

    VALIDATOR_VOTE = "ValidatorVote"
    ACCOUNT_FREEZE = "AccountFreeze"
    ROLLBACK = "Rollback"


class ProposalStatus(StrEnum):
    """Where a proposal stands."""

    OPEN = "open"
    """Collecting signatures; nothing has changed."""
    APPROVED = "approved"
    """Has its quorum and is being carried out: a validator vote waits for the next block, where it
    takes effect; an intervention is running, or was cut short by a crash and is finished at the next
    start."""
    EXECUTED = "executed"
    """Carried out; ``outcome`` says what happened."""
    FAILED = "failed"
    """Had its quorum but could not be carried out; ``outcome`` holds the reason. Nothing changed."""


PROPOSAL_FIELDS: dict[ProposalKind, list[dict[str, str]]] = {
    ProposalKind.VALIDATOR_VOTE: [
        {"name": "action", "type": "string"},
        {"name": "validator", "type": "address"},
        {"name": "reason", "type": "string"},
        {"name": "nonce", "type": "uint256"},
    ],
    ProposalKind.ACCOUNT_FREEZE: [
        {"name": "account", "type": "address"},
        {"name": "frozen", "type": "bool"},
        {"name": "reason", "type": "string"},
        {"name": "nonce", "type": "uint256"},
    ],
    ProposalKind.ROLLBACK: [
        {"name": "toBlock", "type": "uint256"},
        {"name": "toBlockHash", "type": "bytes32"},
        {"name": "excludedTransactions", "type": "bytes32[]"},
        {"name": "excludedSenders", "type": "address[]"},
        {"name": "reason", "type": "string"},
        {"name": "nonce", "type": "uint256"},
    ],
}
"""The EIP-712 struct of each proposal kind, as validators' wallets display it."""

GOVERNANCE_DOMAIN_NAME = "Registry permissioned chain"
GOVERNANCE_DOMAIN_VERSION = "1"


@dataclass(frozen=True)
class Proposal:
    """A validator vote or an intervention, as the EIP-712 message validators sign.

    The domain binds it to one chain: ``chainId`` and, as ``salt``, the genesis hash, so that a
    signature cannot be replayed on another chain with the same id.
    """

    kind: ProposalKind
    chain_id: int
    genesis_hash: bytes
    message: dict[str, Any]
    """Field values in JSON form: addresses checksummed, bytes32 as 0x-hex, integers, strings, bools."""

    def typed_data(self) -> dict[str, Any]:
        """The full EIP-712 document (``eth_signTypedData_v4`` input)."""
        return {
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                    {"name": "salt", "type": "bytes32"},
                ],
                str(self.kind): PROPOSAL_FIELDS[self.kind],
            },
            "primaryType": str(self.kind),
            "domain": {
                "name": GOVERNANCE_DOMAIN_NAME,
                "version": GOVERNANCE_DOMAIN_VERSION,
                "chainId": self.chain_id,
                "salt": "0x" + self.genesis_hash.hex(),
            },
            "message": self.message,
        }

    def signable(self) -> SignableMessage:
        """The EIP-191 (version 1, EIP-712) message to sign."""
        return encode_typed_data(full_message=self.typed_data())

    @property
    def id(self) -> Hash32:
        """The EIP-712 digest: what validators sign, and the proposal's id everywhere."""
        signable = self.signable()
        return Hash32(keccak(b"\x19" + bytes(signable.version) + signable.header + signable.body))

    def sign(self, private_key: bytes | PrivateKey) -> bytes:
        """A validator's 65-byte signature over this proposal (``v`` is 27 or 28, as wallets produce)."""
        key = private_key.to_bytes() if isinstance(private_key, PrivateKey) else private_key
        return bytes(Account.sign_message(self.signable(), key).signature)

    def recover(self, signature: bytes) -> Address:
        """The address that signed this proposal with ``signature``.

        Raises:
            InvalidProposalSignatureError: ``signature`` is malformed or unrecoverable.
        """
        try:
            return Address(
                to_canonical_address(Account.recover_message(self.signable(), signature=signature))
            )
        except (BadSignature, ValidationError, ValueError, TypeError) as exc:
            raise InvalidProposalSignatureError(
                f"a signature on proposal 0x{self.id.hex()} is not a valid signature ({exc})"
            ) from exc

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable form (see `from_json`)."""
        return {
            "kind": str(self.kind),
            "chainId": self.chain_id,
            "genesisHash": "0x" + self.genesis_hash.hex(),
            "message": self.message,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Proposal:
        """Rebuild a proposal written by `to_json`."""
        return cls(
            kind=ProposalKind(data["kind"]),
            chain_id=int(data["chainId"]),
            genesis_hash=bytes.fromhex(str(data["genesisHash"]).removeprefix("0x")),
            message=dict(data["message"]),
        )


def collect_signers(
    proposal: Proposal, signatures: Mapping[Address, bytes], validators: Iterable[bytes]
) -> tuple[Address, ...]:
    """The current validators whose signature in ``signatures`` (signer -> signature) is valid.

    Signatures by former validators, or that do not recover to their claimed signer, do not count.
    """
    current = set(validators)
    counted: list[Address] = []
    for signer, signature in signatures.items():
        if signer not in current:
            continue
        try:
            if proposal.recover(signature) == signer:
                counted.append(Address(signer))
        except InvalidProposalSignatureError:
            continue
    return tuple(sorted(counted))


def apply_validator_change(validators: Sequence[bytes], action: str, subject: bytes) -> tuple[Address, ...]:
    """The validator set after ``action`` ("add" or "remove") of ``subject``.

    Raises:
        InvalidProposalError: adding a current validator, removing a non-validator, removing the last
            validator, or growing past `MAX_VALIDATORS`.
    """
    current = set(validators)
    if action == "add":
        if subject in current:
            raise InvalidProposalError(f"{short(subject)} is already a validator; nothing to add")
        if len(current) >= MAX_VALIDATORS:
            raise InvalidProposalError(f"the validator set is full ({MAX_VALIDATORS}); remove one first")
        current.add(subject)
    elif action == "remove":
        if subject not in current:
            raise InvalidProposalError(f"{short(subject)} is not a validator; nothing to remove")
        if len(current) == 1:
            raise InvalidProposalError("the last validator cannot be removed: the chain would stop")
        current.discard(subject)
    else:
        raise InvalidProposalError(f"unknown validator action {action!r}; use 'add' or 'remove'")
    return canonical_validator_list(current)


# ---------------------------------------------------------------------------------------------- persistence


@dataclass
class ProposalRecord:
    """A proposal with its signatures and what became of it, as stored in the chain database."""

    proposal: Proposal
    sequence: int
    """Order of creation (also the proposal's ``nonce``)."""
    created_at_block: int
    """Head block number when the proposal was made."""
    signatures: dict[Address, bytes] = field(default_factory=dict)
    status: ProposalStatus = ProposalStatus.OPEN
    executed_at_block: int | None = None
    """Block at which the proposal took effect (validator votes, freezes) or the new head (rollback)."""
    outcome: dict[str, Any] = field(default_factory=dict)
    """Kind-specific result: for a rollback, dropped / replayed / failed transactions and both heads."""

    @property
    def id(self) -> Hash32:
        """The proposal's id (its EIP-712 digest)."""
        return self.proposal.id

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable form, also the shape returned by the query APIs."""
        return {
            "id": "0x" + self.id.hex(),
            "sequence": self.sequence,
            "proposal": self.proposal.to_json(),
            "createdAtBlock": self.created_at_block,
            "signatures": {short(k): "0x" + v.hex() for k, v in sorted(self.signatures.items())},
            "status": str(self.status),
            "executedAtBlock": self.executed_at_block,
            "outcome": self.outcome,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProposalRecord:
        """Rebuild a record written by `to_json`."""
        return cls(
            proposal=Proposal.from_json(data["proposal"]),
            sequence=int(data["sequence"]),
            created_at_block=int(data["createdAtBlock"]),
            signatures={
                Address(to_canonical_address(k)): bytes.fromhex(v.removeprefix("0x"))
                for k, v in data["signatures"].items()
            },
            status=ProposalStatus(data["status"]),
            executed_at_block=data["executedAtBlock"],
            outcome=dict(data["outcome"]),
        )


@dataclass(frozen=True)
class ValidatorChange:
    """One change of the validator set: at which block, who, and who voted for it."""

    block_number: int
    block_hash: bytes
    action: str
    validator: Address
    voters: tuple[Address, ...]
    proposal_id: bytes
    validators_after: tuple[Address, ...]

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable form."""
        return {
            "blockNumber": self.block_number,
            "blockHash": "0x" + self.block_hash.hex(),
            "action": self.action,
            "validator": short(self.validator),
            "voters": [short(v) for v in self.voters],
            "proposalId": "0x" + self.proposal_id.hex(),
            "validatorsAfter": [short(v) for v in self.validators_after],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ValidatorChange:
        """Rebuild a change written by `to_json`."""
        return cls(
            block_number=int(data["blockNumber"]),
            block_hash=bytes.fromhex(data["blockHash"].removeprefix("0x")),
            action=str(data["action"]),
            validator=Address(to_canonical_address(data["validator"])),
            voters=tuple(Address(to_canonical_address(v)) for v in data["voters"]),
            proposal_id=bytes.fromhex(data["proposalId"].removeprefix("0x")),
            validators_after=tuple(Address(to_canonical_address(v)) for v in data["validatorsAfter"]),
        )


@dataclass(frozen=True)
class FrozenAccount:
    """An account frozen chain-wide: its transactions are refused until a quorum unfreezes it."""

    account: Address
    proposal_id: bytes
    since_block: int
    """First block at which the freeze applied."""
    reason: str


_PREFIX = b"registry-governance:"
_PROPOSAL_INDEX = _PREFIX + b"proposal-index"
_PROPOSAL = _PREFIX + b"proposal:"
_FROZEN = _PREFIX + b"frozen"
_VALIDATOR_CHANGES = _PREFIX + b"validator-changes"


class GovernanceStore:
    """Proposals, frozen accounts and validator changes, kept in the chain's key-value database.

    Each change is written in one atomic batch, under ``lock`` (pass the chain's lock, so that a write
    never races the block builder's flush). Reads go to the database every time, so several instances
    over the same database (the consensus class makes one per block check) agree.
    """

    def __init__(self, db: AtomicDatabaseAPI, lock: threading.RLock | None = None) -> None:
        self._db = db
        # The chain's own lock when given: the database buffer it writes to is shared with the builder.
        self._lock = lock or threading.RLock()

    def _get_json(self, key: bytes, default: Any) -> Any:
        try:
            with self._lock:
                raw = self._db[key]
        except KeyError:
            return default
        return json.loads(raw)

    @staticmethod
    def _dump(value: Any) -> bytes:
        return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()

    # proposals
    def proposal_ids(self) -> list[bytes]:
        """Every proposal id, oldest first."""
        return [bytes.fromhex(h) for h in self._get_json(_PROPOSAL_INDEX, [])]

    def next_sequence(self) -> int:
        """The sequence number (and nonce) the next proposal gets."""
        return len(self._get_json(_PROPOSAL_INDEX, []))

    def get(self, proposal_id: bytes) -> ProposalRecord:
        """The record of ``proposal_id``.

        Raises:
            UnknownProposalError: no proposal has that id.
        """
        data = self._get_json(_PROPOSAL + bytes(proposal_id), None)
        if data is None:
            raise UnknownProposalError(
                f"no proposal 0x{bytes(proposal_id).hex()} on this chain; list them with proposals()"
            )
        return ProposalRecord.from_json(data)

    def find(self, proposal_id: bytes) -> ProposalRecord | None:
        """The record of ``proposal_id``, or None."""
        try:
            return self.get(proposal_id)
        except UnknownProposalError:
            return None

    def records(self) -> list[ProposalRecord]:
        """Every proposal record, oldest first."""
        return [self.get(pid) for pid in self.proposal_ids()]

    def save(self, record: ProposalRecord) -> None:
        """Write ``record`` (new or updated) atomically."""
        with self._lock, self._db.atomic_batch() as batch:
            index = self._get_json(_PROPOSAL_INDEX, [])
            hex_id = record.id.hex()
            if hex_id not in index:
                index.append(hex_id)
                batch[_PROPOSAL_INDEX] = self._dump(index)
            batch[_PROPOSAL + bytes(record.id)] = self._dump(record.to_json())

    # frozen accounts
    def frozen(self) -> dict[Address, FrozenAccount]:
        """Accounts frozen chain-wide right now."""
        data = self._get_json(_FROZEN, {})
        return {
            Address(to_canonical_address(k)): FrozenAccount(
                account=Address(to_canonical_address(k)),
                proposal_id=bytes.fromhex(v["proposalId"].removeprefix("0x")),
                since_block=int(v["sinceBlock"]),
                reason=str(v["reason"]),
            )
            for k, v in data.items()
        }

    def set_frozen(self, frozen: Mapping[Address, FrozenAccount], record: ProposalRecord) -> None:
        """Replace the frozen set and save ``record`` (the proposal that changed it) in one batch."""
        value = {
            short(k): {
                "proposalId": "0x" + v.proposal_id.hex(),
                "sinceBlock": v.since_block,
                "reason": v.reason,
            }
            for k, v in frozen.items()
        }
        with self._lock, self._db.atomic_batch() as batch:
            batch[_FROZEN] = self._dump(value)
            batch[_PROPOSAL + bytes(record.id)] = self._dump(record.to_json())

    # validator changes
    def validator_changes(self) -> list[ValidatorChange]:
        """Every validator change recorded, in the order applied (including ones a rollback dropped)."""
        return [ValidatorChange.from_json(d) for d in self._get_json(_VALIDATOR_CHANGES, [])]

    def record_change(self, change: ValidatorChange, record: ProposalRecord) -> None:
        """Append ``change`` and save ``record`` (now executed) in one batch."""
        with self._lock, self._db.atomic_batch() as batch:
            changes = self._get_json(_VALIDATOR_CHANGES, [])
            changes.append(change.to_json())
            batch[_VALIDATOR_CHANGES] = self._dump(changes)
            batch[_PROPOSAL + bytes(record.id)] = self._dump(record.to_json())

    def replace_changes(self, changes: Sequence[ValidatorChange], records: Sequence[ProposalRecord]) -> None:
        """Rewrite the change history and save ``records`` in one batch (used after a rollback)."""
        with self._lock, self._db.atomic_batch() as batch:
            batch[_VALIDATOR_CHANGES] = self._dump([c.to_json() for c in changes])
            for record in records:
                batch[_PROPOSAL + bytes(record.id)] = self._dump(record.to_json())


class ProposalBook:
    """Creates, stores and tallies the proposals of one chain (all kinds)."""

    def __init__(self, store: GovernanceStore, chain_id: int, genesis_hash: bytes) -> None:
        self.store = store
        """Where the records live."""
        self.chain_id = chain_id
        self.genesis_hash = genesis_hash

    def create(self, kind: ProposalKind, fields: Mapping[str, Any], created_at_block: int) -> ProposalRecord:
        """Record a new open proposal of ``kind`` with ``fields`` (all but ``nonce``, which is assigned).

        Raises:
            InvalidProposalError: the fields do not fit the kind's EIP-712 struct.
        """
        sequence = self.store.next_sequence()
        proposal = Proposal(kind, self.chain_id, self.genesis_hash, {**fields, "nonce": sequence})
        try:
            proposal.signable()
        except (ValueError, TypeError, KeyError, ValidationError) as exc:
            raise InvalidProposalError(f"a {kind} proposal cannot hold {dict(fields)!r}: {exc}") from exc
        record = ProposalRecord(proposal=proposal, sequence=sequence, created_at_block=created_at_block)
        self.store.save(record)
        return record

    def get(self, proposal_id: bytes) -> ProposalRecord:
        """The record of ``proposal_id`` (raises `UnknownProposalError`)."""
        return self.store.get(proposal_id)

    def records(self) -> list[ProposalRecord]:
        """Every proposal, oldest first."""
        return self.store.records()

    def add_signature(
        self, proposal_id: bytes, signer: bytes, signature: bytes, validators: Sequence[bytes]
    ) -> ProposalRecord:
        """Check and store ``signer``'s ``signature`` on an open proposal; return the updated record.

        Raises:
            UnknownProposalError, ProposalClosedError, NotAValidatorError, InvalidProposalSignatureError.
        """
        record = self.store.get(proposal_id)
        shown = f"proposal 0x{record.id.hex()}"
        if record.status is not ProposalStatus.OPEN:
            raise ProposalClosedError(f"{shown} is already {record.status}; make a new proposal")
        if bytes(signer) not in {bytes(v) for v in validators}:
            raise NotAValidatorError(
                f"{short(signer)} is not a current validator; only the {len(validators)} current validators "
                f"may sign {shown}"
            )
        recovered = record.proposal.recover(signature)
        if recovered != signer:
            raise InvalidProposalSignatureError(
                f"the signature given for {short(signer)} on {shown} was made by {short(recovered)}"
            )
        record.signatures[Address(bytes(signer))] = bytes(signature)
        self.store.save(record)
        return record


class GovernanceContext(Protocol):
    """What the voting and intervention desks need from the chain's mode."""

    @property
    def book(self) -> ProposalBook:
        """The chain's proposals."""
        ...

    def exclusive(self) -> AbstractContextManager[Any]:
        """Hold the chain still (no block built or imported) while a decision is read, taken and written."""
        ...

    def current_validators(self) -> tuple[Address, ...]:
        """The validators that must seal the next block."""
        ...

    def held_key(self, validator: bytes) -> PrivateKey | None:
        """The key of ``validator`` if this node holds it."""
        ...

    def head_number(self) -> int:
        """Number of the canonical head block."""
        ...

    def is_canonical(self, number: int, block_hash: bytes) -> bool:
        """True if ``block_hash`` is the canonical block ``number``."""
        ...

    def persist(self) -> None:
        """Make every governance write so far durable (no-op in memory)."""
        ...


class ProposalDesk(ABC):
    """The shared flow of validator votes and interventions: propose, sign, reach a threshold, execute.

    A proposal changes nothing until enough current validators have signed it; then it is executed
    once (by the signature that completes the quorum, or by `execute`).
    """

    kinds: ClassVar[frozenset[ProposalKind]]
    """The proposal kinds this desk handles."""

    def __init__(self, context: GovernanceContext) -> None:
        self._ctx = context

    @abstractmethod
    def threshold(self, kind: ProposalKind) -> int:
        """Signatures of current validators that a proposal of ``kind`` needs now."""

    @abstractmethod
    def _carry_out(self, record: ProposalRecord) -> ProposalRecord:
        """Execute ``record`` (its quorum is checked); set its status and outcome, and save it."""

    def _open(self, kind: ProposalKind, fields: Mapping[str, Any]) -> ProposalRecord:
        with self._ctx.exclusive():
            record = self._ctx.book.create(kind, fields, self._ctx.head_number())
            self._ctx.persist()
            return record

    def get(self, proposal_id: bytes) -> ProposalRecord:
        """The proposal ``proposal_id`` with its signatures, status and outcome.

        Raises:
            UnknownProposalError: no proposal of this desk's kinds has that id.
        """
        record = self._ctx.book.get(proposal_id)
        if record.proposal.kind not in self.kinds:
            raise UnknownProposalError(
                f"proposal 0x{bytes(proposal_id).hex()} is a {record.proposal.kind}, not one of "
                f"{', '.join(sorted(self.kinds))}"
            )
        return record

    def proposals(self, status: ProposalStatus | None = None) -> list[ProposalRecord]:
        """Every proposal of this desk's kinds, oldest first, optionally only those with ``status``."""
        return [
            r
            for r in self._ctx.book.records()
            if r.proposal.kind in self.kinds and (status is None or r.status is status)
        ]

    def signers(self, proposal_id: bytes) -> tuple[ChecksumAddress, ...]:
        """Current validators whose signature on ``proposal_id`` counts."""
        record = self.get(proposal_id)
        return tuple(short(a) for a in collect_signers(record.proposal, record.signatures, self._current()))

    def _current(self) -> tuple[Address, ...]:
        return self._ctx.current_validators()

    def sign(self, proposal_id: bytes, validator: str | bytes, *, execute: bool = True) -> ProposalRecord:
        """Sign ``proposal_id`` with the key this node holds for ``validator`` (see `add_signature`).

        Raises:
            NotAValidatorError: ``validator`` is not a current validator, or its key is not held here.
        """
        signer = parse_address(validator)
        key = self._ctx.held_key(signer)
        if key is None:
            raise NotAValidatorError(
                f"this node holds no key for {short(signer)}; have that validator sign the proposal's "
                "typed data itself and pass the signature to add_signature"
            )
        record = self.get(proposal_id)
        return self.add_signature(proposal_id, signer, record.proposal.sign(key), execute=execute)

    def add_signature(
        self, proposal_id: bytes, validator: str | bytes, signature: bytes, *, execute: bool = True
    ) -> ProposalRecord:
        """Add ``validator``'s signature (over `Proposal.typed_data`, e.g. from ``eth_signTypedData_v4``).

        When the signatures then reach the threshold and ``execute`` is true, the proposal is executed
        at once and the returned record shows the outcome.

        Raises:
            NotAValidatorError, InvalidProposalSignatureError, ProposalClosedError, UnknownProposalError.
        """
        signer = parse_address(validator)
        with self._ctx.exclusive():
            self.get(proposal_id)
            record = self._ctx.book.add_signature(proposal_id, signer, signature, self._current())
            self._ctx.persist()
            if execute and self._tally(record) >= self.threshold(record.proposal.kind):
                return self._execute_locked(record)
            return record

    def execute(self, proposal_id: bytes) -> ProposalRecord:
        """Execute ``proposal_id`` now that it has its quorum.

        Raises:
            QuorumNotReachedError: too few current validators signed; nothing changed.
            ProposalClosedError: it was already executed or failed (an approved one is carried out again:
                it was cut short).
        """
        with self._ctx.exclusive():
            record = self.get(proposal_id)
            if record.status in (ProposalStatus.EXECUTED, ProposalStatus.FAILED):
                raise ProposalClosedError(f"proposal 0x{record.id.hex()} is already {record.status}")
            return self._execute_locked(record)

    def _tally(self, record: ProposalRecord) -> int:
        return len(collect_signers(record.proposal, record.signatures, self._current()))

    def _execute_locked(self, record: ProposalRecord) -> ProposalRecord:
        need = self.threshold(record.proposal.kind)
        have = self._tally(record)
        if have < need:
            raise QuorumNotReachedError(
                f"proposal 0x{record.id.hex()} ({record.proposal.kind}) has {have} valid signature(s) of "
                f"current validators; it needs {need} of {len(self._current())}. Nothing was changed."
            )
        result = self._carry_out(record)
        self._ctx.persist()
        return result


def parse_address(value: str | bytes) -> Address:
    """A 20-byte address from text (0x-hex, any case) or 20 bytes.

    Raises:
        InvalidProposalError: ``value`` is not an address.
    """
    try:
        return Address(to_canonical_address(value))
    except (ValueError, TypeError) as exc:
        raise InvalidProposalError(f"{value!r} is not an address: {exc}") from exc
