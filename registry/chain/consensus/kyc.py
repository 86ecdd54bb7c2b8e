"""KYC on the permissioned chain: the identity registry in genesis, and the gate every sender passes.

- **Genesis.** The state holds the identity registry at `IDENTITY_REGISTRY_ADDRESS`, whose admin
  and KYC provider is the chain operator (its key is in ``validator-keys.json``), with the
  operator and the development accounts already registered, so that a workshop can transact at
  once. The registry is deployed by running its constructor and ``registerInvestor`` calls at
  that very address on a scratch py-evm state and copying the resulting code and storage into
  the genesis allocation (`identity_registry_genesis`).
- **Senders.** `KycGate` answers ``isVerified(sender)`` in the state just before a transaction,
  at the timestamp of the block it would land in (at submission: the next block's, from the
  chain clock, not the head's), from one storage read of the sender's record, read once per
  block while the block has not touched the registry. A refusal says why (`KycStatus`:
  unregistered, expired, revoked) and `kyc_refusal` turns it into the matching
  `registry.chain.errors.SenderNotPermittedError` subclass, with what to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from eth.abc import ComputationAPI, SignedTransactionAPI, StateAPI
from eth.constants import CREATE_CONTRACT_ADDRESS, EMPTY_SHA3
from eth.vm.forks.prague.constants import SET_CODE_TRANSACTION_TYPE
from eth.vm.message import Message
from eth_abi.abi import encode
from eth_typing import Address
from eth_utils.crypto import keccak

from registry.artifacts import load_artifact
from registry.chain.accounts import ETHER
from registry.chain.consensus.seals import short
from registry.chain.errors import (
    ChainError,
    KycExpiredError,
    KycRevokedError,
    SenderNotPermittedError,
    UnregisteredSenderError,
)
from registry.chain.node.modes import GenesisAccount, StateView

IDENTITY_REGISTRY_ADDRESS: Final = Address(bytes.fromhex("1d00000000000000000000000000000000000001"))
"""Where the permissioned chain's identity registry lives from genesis on (``0x1D00…0001``)."""

DEFAULT_VALIDATORS: Final = 4
"""Validators (simulated institutions) of a new permissioned chain unless told otherwise."""

DEV_KYC_COUNTRY: Final = 756
"""ISO 3166 numeric country recorded for the accounts registered at genesis (756, Switzerland)."""

DEV_KYC_ATTRIBUTES: Final = 0b11
"""Attributes recorded for the accounts registered at genesis: accredited and professional."""

DEV_KYC_EXPIRY: Final = 2**40 - 1
"""KYC expiry (a uint40 timestamp, far in the future) of the accounts registered at genesis."""

OPERATOR_BALANCE: Final = 1_000_000 * ETHER
"""Genesis balance of the chain operator, which pays for KYC registrations."""

_IS_VERIFIED = keccak(text="isVerified(address)")[:4]
_WALLET_RECORD = keccak(text="walletRecord(address)")[:4]
_REGISTER_INVESTOR = keccak(text="registerInvestor(address,uint16,uint8,uint40)")[:4]
_SCRATCH_GAS = 30_000_000
EMPTY_CODE_HASH: Final = bytes(EMPTY_SHA3)


# ---------------------------------------------------------------------------------------------- genesis


class _StorageWriteRecorder:
    """Wraps a py-evm state and notes every storage slot written through it.

    The genesis allocation needs storage by slot number, and py-evm's storage tries hold only the
    slots' hashes, so the slots are noted as the constructor writes them.
    """

    def __init__(self, state: StateAPI) -> None:
        self._state = state
        self.written: set[tuple[bytes, int]] = set()

    def set_storage(self, address: Address, slot: int, value: int) -> None:
        self.written.add((bytes(address), slot))
        self._state.set_storage(address, slot, value)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._state, name)


@dataclass(frozen=True)
class GenesisRegistration:
    """A wallet registered as a verified investor in the genesis identity registry."""

    wallet: bytes
    country: int = DEV_KYC_COUNTRY
    attributes: int = DEV_KYC_ATTRIBUTES
    kyc_expiry: int = DEV_KYC_EXPIRY


def identity_registry_genesis(
    admin: bytes,
    registrations: Sequence[GenesisRegistration],
    *,
    address: bytes = IDENTITY_REGISTRY_ADDRESS,
    timestamp: int = 1,
) -> GenesisAccount:
    """The genesis account of an identity registry at ``address`` administered by ``admin``.

    The constructor runs at ``address`` itself (so that anything derived from ``address(this)`` is
    right), then ``admin`` registers each wallet of ``registrations``; the code, nonce and every
    storage slot written are returned for the genesis allocation.

    Raises:
        ChainError: the constructor or a registration reverted (e.g. a wallet listed twice).
    """
    from eth.chains.base import Chain
    from eth.db.atomic import AtomicDB
    from eth.vm.forks.prague import PragueVM

    artifact = load_artifact("IdentityRegistry")
    scratch_class = Chain.configure(__name__="ScratchChain", vm_configuration=((0, PragueVM),), chain_id=1)
    scratch = scratch_class.from_genesis(
        AtomicDB(),
        {"difficulty": 0, "gas_limit": _SCRATCH_GAS, "timestamp": timestamp, "extra_data": b""},
        {},
    )
    state = scratch.get_vm().state
    recorder = _StorageWriteRecorder(state)
    origin = Address(bytes(admin))
    context = state.get_transaction_context_class()(gas_price=0, origin=origin)
    init_code = bytes.fromhex(artifact.bytecode.removeprefix("0x")) + encode(["address"], [bytes(admin)])
    create = Message(
        gas=_SCRATCH_GAS,
        to=CREATE_CONTRACT_ADDRESS,
        sender=origin,
        value=0,
        data=b"",
        code=init_code,
        create_address=Address(bytes(address)),
    )
    computation = state.computation_class.apply_create_message(recorder, create, context)  # type: ignore[arg-type]
    if computation.is_error:
        raise ChainError(f"the identity registry constructor failed at genesis: {computation.error}")
    code = state.get_code(Address(bytes(address)))
    for item in registrations:
        data = _REGISTER_INVESTOR + encode(
            ["address", "uint16", "uint8", "uint40"],
            [bytes(item.wallet), item.country, item.attributes, item.kyc_expiry],
        )
        call = Message(
            gas=_SCRATCH_GAS,
            to=Address(bytes(address)),
            sender=origin,
            value=0,
            data=data,
            code=code,
            code_address=Address(bytes(address)),
        )
        result = state.computation_class.apply_message(recorder, call, context)  # type: ignore[arg-type]
        if result.is_error:
            raise ChainError(
                f"registering {short(item.wallet)} in the genesis identity registry failed: {result.error}"
            )
    storage = {
        slot: value
        for owner, slot in sorted(recorder.written)
        if owner == bytes(address) and (value := state.get_storage(Address(bytes(address)), slot)) != 0
    }
    return {"code": code, "nonce": state.get_nonce(Address(bytes(address))), "storage": storage}


# ---------------------------------------------------------------------------------------------- senders


class _StateReadRecorder:
    """Wraps a py-evm state and notes every storage slot and balance read through it.

    Code run through it sees ``block_number`` and ``timestamp`` of the block the checked transaction
    would land in, which at submission is the next block, not the head whose state is read.
    """

    def __init__(self, state: StateAPI, block_number: int, timestamp: int) -> None:
        self._state = state
        self.block_number = block_number
        self.timestamp = timestamp
        self.storage: dict[tuple[bytes, int, bool], int] = {}
        self.balances: dict[bytes, int] = {}

    def get_storage(self, address: Address, slot: int, from_journal: bool = True) -> int:
        value = self._state.get_storage(address, slot, from_journal)
        self.storage[(bytes(address), slot, from_journal)] = value
        return value

    def get_balance(self, address: Address) -> int:
        value = self._state.get_balance(address)
        self.balances[bytes(address)] = value
        return value

    def __getattr__(self, name: str) -> Any:
        return getattr(self._state, name)


@dataclass(frozen=True)
class _Verdict:
    verified: bool
    storage: tuple[tuple[tuple[bytes, int, bool], int], ...]
    balances: tuple[tuple[bytes, int], ...]

    def still_holds(self, state: StateAPI) -> bool:
        return all(
            state.get_storage(Address(a), slot, from_journal) == value
            for (a, slot, from_journal), value in self.storage
        ) and all(state.get_balance(Address(a)) == value for a, value in self.balances)


def known_registry_code_hash() -> bytes:
    """keccak256 of the deployed code of the ``IdentityRegistry`` artifact shipped with this package."""
    return bytes(
        keccak(bytes.fromhex(load_artifact("IdentityRegistry").deployed_bytecode.removeprefix("0x")))
    )


class KycStatus(StrEnum):
    """What the identity registry says of a wallet at a given time."""

    VERIFIED = "verified"
    UNREGISTERED = "unregistered"
    """No record: the wallet was never registered (or was removed from its investor)."""
    EXPIRED = "expired"
    """Its KYC expiry is not after the timestamp checked."""
    REVOKED = "revoked"
    """Its investor was revoked, for good."""
    REFUSED = "refused"
    """``isVerified`` is false and the wallet's record cannot be read (a registry of unknown code)."""


def record_expiry(record: int) -> int:
    """The KYC expiry (a timestamp) in a packed wallet record."""
    return (record >> 176) & (2**40 - 1)


def record_investor(record: int) -> int:
    """The investor id in a packed wallet record (0 for an unknown wallet)."""
    return record >> 224


def record_status(record: int, timestamp: int) -> KycStatus:
    """``IdentityRecord.isVerified`` with the reason: a wallet's packed record at ``timestamp``.

    Layout (``contracts/src/identity/IIdentityRegistry.sol``): bits 176-215 KYC expiry, bits 216-223
    flags with bit 7 "revoked", bits 224-255 investor id; a zero record is an unknown wallet. The KYC
    is valid while ``timestamp < expiry``.
    """
    if record == 0:
        return KycStatus.UNREGISTERED
    if (record >> 216) & 0x80:
        return KycStatus.REVOKED
    if timestamp >= record_expiry(record):
        return KycStatus.EXPIRED
    return KycStatus.VERIFIED


def record_is_verified(record: int, timestamp: int) -> bool:
    """``IdentityRecord.isVerified``: a wallet's packed record is known, not revoked, and not expired."""
    return record_status(record, timestamp) is KycStatus.VERIFIED


@dataclass(frozen=True)
class KycVerdict:
    """The registry's answer for one wallet at one timestamp, with its record when it was read."""

    status: KycStatus
    timestamp: int
    """Timestamp of the block the answer is for."""
    record: int | None = None
    """The wallet's packed record, when it was read (always for a refusal other than REFUSED)."""

    @property
    def verified(self) -> bool:
        """True if the wallet may send."""
        return self.status is KycStatus.VERIFIED


def _utc(timestamp: int) -> str:
    try:
        return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return f"timestamp {timestamp}"


def kyc_refusal(
    sender: bytes, verdict: KycVerdict, registry: bytes = IDENTITY_REGISTRY_ADDRESS
) -> SenderNotPermittedError:
    """The error, with what to do, for a sender the identity registry does not verify.

    The text depends on the sender and the verdict only, so submission and ``eth_estimateGas`` refuse
    a sender with the same words.
    """
    who, where = short(sender), f"the identity registry at {short(registry)} of the permissioned chain"
    record = verdict.record or 0
    if verdict.status is KycStatus.UNREGISTERED:
        return UnregisteredSenderError(
            f"sender {who} is not registered in {where}, and only KYC'd wallets may send: have a KYC "
            "provider of that registry register this wallet (registerInvestor, or addWallet for an "
            "investor it already knows), then send again"
        )
    if verdict.status is KycStatus.EXPIRED:
        expiry = record_expiry(record)
        return KycExpiredError(
            f"the KYC of sender {who} (investor #{record_investor(record)} in {where}) is valid until "
            f"{_utc(expiry)} (timestamp {expiry}), and the block it would go in has timestamp "
            f"{verdict.timestamp}: have a KYC provider renew it (updateInvestor with a later expiry), then "
            "send again"
        )
    if verdict.status is KycStatus.REVOKED:
        return KycRevokedError(
            f"sender {who} belongs to investor #{record_investor(record)}, which was revoked in {where}; "
            "a revocation is final and none of that investor's wallets may send again: a KYC provider "
            "must register the person anew, as a new investor"
        )
    return SenderNotPermittedError(
        f"sender {who} is not verified by {where}, whose code is not the registry this node knows, so the "
        "reason cannot be read here: ask a KYC provider of that registry to check the wallet's record"
    )


class KycGate:
    """Decides whether the identity registry verifies a sender, cheaply enough to run per transaction.

    Two ways, both giving exactly what ``isVerified(sender)`` returns in the state at hand:

    - **Direct read**, when the registry runs the code of the shipped ``IdentityRegistry`` artifact:
      one storage read of the sender's packed record, decoded as the contract does
      (`record_is_verified`). Where the records live is learnt from the first real call (the slot it
      read) and cross-checked against that call's answer; any disagreement turns direct reads off.
    - **Call**, otherwise: ``isVerified(sender)`` runs on the EVM; the slots and balances it read are
      noted, and within one block (same number and timestamp) its verdict is reused while those
      values are unchanged. A view call's outcome depends only on its code (immutable since Cancun),
      input, block number and timestamp, and the state it read.
    """

    def __init__(
        self,
        registry: bytes = IDENTITY_REGISTRY_ADDRESS,
        *,
        direct_reads: bool = True,
        max_entries: int = 4096,
    ) -> None:
        self.registry = Address(bytes(registry))
        """The identity registry consulted."""
        self._direct_allowed = direct_reads
        self._records_slot: int | None = None
        self._code_checked = False
        self._slots: dict[bytes, int] = {}
        self._max_entries = max_entries
        self._verdicts: dict[tuple[bytes, int, int], _Verdict] = {}
        self._base_records: dict[tuple[bytes, bytes], int] = {}
        self._context: tuple[int, int, int, bytes] | None = None
        self._context_clean = True
        self.calls = 0
        """How many times the registry was actually called (for diagnostics and tests)."""

    @property
    def direct(self) -> bool:
        """True once verdicts come from direct storage reads."""
        return self._records_slot is not None

    def is_verified(self, sender: bytes, view: StateView, tx: SignedTransactionAPI | None = None) -> bool:
        """True if the registry verifies ``sender`` in the state of ``view`` (see `check`)."""
        return self.check(sender, view, tx).verified

    def check(self, sender: bytes, view: StateView, tx: SignedTransactionAPI | None = None) -> KycVerdict:
        """What the registry says of ``sender`` in the state of ``view``, at ``view.timestamp``.

        ``tx``, the transaction about to run in that state, lets later checks of the same block know
        whether the registry may have changed since the block started.
        """
        state = view.state
        sender = bytes(sender)
        timestamp = int(view.timestamp)
        if self._records_slot is not None:
            record = self._record(sender, view, tx)
            return KycVerdict(record_status(record, timestamp), timestamp, record)
        key = (sender, view.block_number, timestamp)
        cached = self._verdicts.get(key)
        if cached is None or not cached.still_holds(state):
            cached = self._ask(sender, state, view.block_number, timestamp)
            if len(self._verdicts) >= self._max_entries:
                self._verdicts.clear()
            self._verdicts[key] = cached
            if self._direct_allowed and self._records_slot is None:
                self._learn(sender, cached, state, timestamp)
        if cached.verified:
            return KycVerdict(KycStatus.VERIFIED, timestamp)
        return self._explain(sender, state, timestamp)

    def _explain(self, sender: bytes, state: StateAPI, timestamp: int) -> KycVerdict:
        """Why the registry refuses ``sender``: its record, read with ``walletRecord`` (a refusal is rare)."""
        try:
            output = self._view_call(state, _WALLET_RECORD + encode(["address"], [sender]))
        except ChainError:
            return KycVerdict(KycStatus.REFUSED, timestamp)
        if len(output) != 32:
            return KycVerdict(KycStatus.REFUSED, timestamp)
        record = int.from_bytes(output, "big")
        status = record_status(record, timestamp)
        # A record that reads as verified contradicts isVerified: this registry decides otherwise.
        if status is KycStatus.VERIFIED:
            return KycVerdict(KycStatus.REFUSED, timestamp)
        return KycVerdict(status, timestamp, record)

    def _view_call(self, state: StateAPI, data: bytes) -> bytes:
        computation = self._run(state, state, data)
        if computation.is_error:
            raise ChainError(f"the identity registry's view call failed: {computation.error}")
        return bytes(computation.output)

    def _run(self, state: StateAPI, runner: StateAPI | _StateReadRecorder, data: bytes) -> ComputationAPI:
        """Call the registry with ``data`` through ``runner`` (``state`` or its recorder); keep nothing."""
        zero = Address(b"\x00" * 20)
        message = Message(
            gas=1_000_000,
            to=self.registry,
            sender=zero,
            value=0,
            data=data,
            code=state.get_code(self.registry),
            code_address=self.registry,
        )
        context = state.get_transaction_context_class()(gas_price=0, origin=zero)
        snapshot = state.snapshot()
        try:
            return state.computation_class.apply_message(runner, message, context)  # type: ignore[arg-type]
        finally:
            state.revert(snapshot)

    def _record(self, sender: bytes, view: StateView, tx: SignedTransactionAPI | None) -> int:
        """The sender's packed record, read once per base state while the registry is untouched.

        A submission check reads the head state, which nothing writes. A block being built or imported
        starts from its parent's state (the same head) and stays equal to it, as far as the registry is
        concerned, while every transaction so far ran no code (plain transfers to code-less accounts):
        records read at submission are then reused instead of being read again from the trie.
        """
        state = view.state
        building = int(state.execution_context.block_number) == view.block_number
        # py-evm journals a block's writes and updates ``state_root`` only when the block is finalised,
        # so during a block it names the state the block started from.
        base = bytes(state.state_root)
        clean = True
        if building:
            context = (id(state), view.block_number, int(state.execution_context.timestamp), base)
            if context != self._context:
                self._context = context
                self._context_clean = True
            clean = self._context_clean
            if tx is not None and clean and self._may_write(tx, state):
                self._context_clean = False
        if not clean:
            return int(state.get_storage(self.registry, self._slot_of(sender)))
        key = (base, sender)
        record = self._base_records.get(key)
        if record is None:
            record = int(state.get_storage(self.registry, self._slot_of(sender)))
            if len(self._base_records) >= self._max_entries:
                self._base_records.clear()
            self._base_records[key] = record
        return record

    def _may_write(self, tx: SignedTransactionAPI, state: StateAPI) -> bool:
        """False only for a transaction that runs no code at all, hence writes no contract storage."""
        to = bytes(tx.to)
        if not to or to == bytes(self.registry) or getattr(tx, "type_id", None) == SET_CODE_TRANSACTION_TYPE:
            return True
        return bool(state.get_code_hash(Address(to)) != EMPTY_CODE_HASH)

    def _slot_of(self, sender: bytes) -> int:
        slot = self._slots.get(sender)
        if slot is None:
            # Solidity puts mapping entry m[k] at keccak256(pad32(k) ++ pad32(slot of m)).
            slot = int.from_bytes(
                keccak(sender.rjust(32, b"\x00") + (self._records_slot or 0).to_bytes(32, "big"))
            )
            if len(self._slots) >= self._max_entries:
                self._slots.clear()
            self._slots[sender] = slot
        return slot

    def _learn(self, sender: bytes, verdict: _Verdict, state: StateAPI, timestamp: int) -> None:
        if not self._code_checked:
            self._code_checked = True
            if bytes(keccak(state.get_code(self.registry))) != known_registry_code_hash():
                self._direct_allowed = False
                return
        reads = [
            (slot, value)
            for (owner, slot, journal), value in verdict.storage
            if owner == self.registry and journal
        ]
        if len(reads) != 1 or reads[0][1] == 0:
            # Learn only from a real record, so that decoding it is checked against the call's answer.
            return
        slot, value = reads[0]
        for base in range(64):
            probe = int.from_bytes(keccak(sender.rjust(32, b"\x00") + base.to_bytes(32, "big")))
            if probe == slot:
                if record_is_verified(value, timestamp) == verdict.verified:
                    self._records_slot = base
                else:
                    self._direct_allowed = False
                return

    def _ask(self, sender: bytes, state: StateAPI, block_number: int, timestamp: int) -> _Verdict:
        self.calls += 1
        recorder = _StateReadRecorder(state, block_number, timestamp)
        computation = self._run(state, recorder, _IS_VERIFIED + encode(["address"], [sender]))
        output = bytes(computation.output)
        # A registry that reverts or answers nonsense verifies nobody: refusing is the safe side.
        verified = not computation.is_error and len(output) == 32 and output[-1] == 1 and not any(output[:-1])
        return _Verdict(
            verified=verified,
            storage=tuple(recorder.storage.items()),
            balances=tuple(recorder.balances.items()),
        )
