"""The permissioned mode: validators sealing with a 2/3 quorum, KYC'd senders, quorum-signed interventions.

`PermissionedMode` implements the `registry.chain.node.modes.ChainMode` protocol:

- **Genesis.** The header lists the validators (`registry.chain.consensus.seals.genesis_extra_data`);
  the state holds the identity registry (`registry.chain.consensus.kyc`).
- **Senders.** A transaction is refused, at submission, at ``eth_estimateGas`` and in an imported
  block, when a rollback excluded it, when its sender is frozen chain-wide by an intervention, or
  when the identity registry does not verify it at the timestamp of the block it would land in
  (`registry.chain.consensus.kyc.KycGate`); each refusal has its own error class and says what to do.
- **Blocks.** A block a rollback dropped is refused on import, whatever it holds.
- **Sealing.** Each block is sealed with ``ceil(2N/3)`` seals of the validators whose keys this
  node holds; a validator change approved by a majority vote is applied in the next block.
- **Governance.** ``validator_votes()`` returns the `registry.chain.consensus.validators.ValidatorVotes`
  desk; ``interventions()`` the `registry.chain.consensus.interventions.Interventions` desk
  (freeze, rollback).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from eth.abc import BlockAPI, BlockHeaderAPI, ConsensusAPI, SignedTransactionAPI
from eth_keys.datatypes import PrivateKey
from eth_typing import Address

from registry.chain.accounts import dev_accounts
from registry.chain.consensus.interventions import ExclusionList, Interventions, RollbackReport
from registry.chain.consensus.proposals import (
    FrozenAccount,
    GovernanceStore,
    InvalidProposalError,
    ProposalBook,
    ProposalKind,
    ProposalRecord,
    ProposalStatus,
    ValidatorChange,
    apply_validator_change,
    collect_signers,
    parse_address,
)
from registry.chain.consensus.quorum import QuorumConsensus, canonical_enactment
from registry.chain.consensus.seals import (
    EMPTY_VANITY,
    EXTRA_DATA_MAX_BYTES,
    ExtraData,
    genesis_extra_data,
    majority_size,
    quorum_size,
    remember_sealed,
    seal_header,
    short,
    validators_of,
)
from registry.chain.consensus.validators import ValidatorKeyring, ValidatorVotes
from registry.chain.errors import ChainDataError, ChainError, SenderFrozenError
from registry.chain.names import ChainName
from registry.chain.node.modes import GenesisAccount, StateView
from registry.errors import ConfigurationError

if TYPE_CHECKING:
    from registry.chain.node.host import ChainHost

from registry.chain.consensus.kyc import (
    DEFAULT_VALIDATORS,
    IDENTITY_REGISTRY_ADDRESS,
    OPERATOR_BALANCE,
    GenesisRegistration,
    KycGate,
    identity_registry_genesis,
    kyc_refusal,
)

# ---------------------------------------------------------------------------------------------- the mode


def _unbound() -> ChainError:
    return ChainError(
        "the permissioned mode is not attached to a chain yet; open one with EmbeddedChain.open"
    )


class PermissionedMode:
    """The permissioned chain's mode; pass it to ``EmbeddedChain.open``.

    ``data_dir`` is the chain's own folder (the one given to ``EmbeddedChain.open``): the validator
    and operator keys are kept there. ``validators`` is the number of validators of a new chain.
    ``chain_id`` and ``dev_account_count`` must match what the chain is opened with: they name the
    development accounts registered in the genesis identity registry. ``kyc_wallets`` are further
    wallets to register at genesis.
    """

    name: ChainName = "permissioned"
    consensus_class: ClassVar[type[ConsensusAPI] | None] = QuorumConsensus
    extra_data_max_bytes: ClassVar[int] = EXTRA_DATA_MAX_BYTES

    def __init__(
        self,
        data_dir: Path | None = None,
        *,
        validators: int = DEFAULT_VALIDATORS,
        chain_id: int | None = None,
        dev_account_count: int = 10,
        kyc_wallets: Sequence[str | bytes] = (),
        keyring: ValidatorKeyring | None = None,
    ) -> None:
        self.keyring = keyring or ValidatorKeyring.load_or_create(data_dir, validators)
        """The validators' and the operator's keys."""
        self.kyc = KycGate(IDENTITY_REGISTRY_ADDRESS)
        """The sender check against the identity registry."""
        self.identity_registry = IDENTITY_REGISTRY_ADDRESS
        """Address of the identity registry deployed at genesis."""
        self._chain_id = chain_id
        self._dev_account_count = dev_account_count
        self._kyc_wallets = [parse_address(w) for w in kyc_wallets]
        self._chain: ChainHost | None = None
        self._store: GovernanceStore | None = None
        self._book: ProposalBook | None = None
        self._votes: ValidatorVotes | None = None
        self._interventions: Interventions | None = None
        self._frozen: dict[Address, FrozenAccount] = {}
        self._exclusions = ExclusionList()
        self._validators_at: tuple[bytes, tuple[Address, ...]] | None = None
        # True while an approved validator vote may wait for its block; spares a scan of the proposals
        # at every seal.
        self._changes_waiting = False

    # -- genesis ------------------------------------------------------------------------------

    def genesis_extra_data(self) -> bytes:
        """The genesis validator list: every validator key of the keyring, sorted."""
        return genesis_extra_data(key.address for key in self.keyring.keys)

    def genesis_alloc(self) -> dict[bytes, GenesisAccount]:
        """The identity registry (operator and development accounts registered) and the operator's funds.

        Raises:
            ConfigurationError: the mode was made without ``chain_id``: the development accounts are unknown.
        """
        if self._chain_id is None:
            raise ConfigurationError(
                "PermissionedMode needs chain_id (the one given to EmbeddedChain.open) to register the "
                "development accounts in the genesis identity registry"
            )
        operator = bytes.fromhex(self.keyring.operator.address[2:])
        wallets: list[bytes] = [operator]
        for account in dev_accounts(self.name, self._chain_id, self._dev_account_count, 0):
            wallets.append(bytes.fromhex(account.address[2:]))
        wallets.extend(bytes(w) for w in self._kyc_wallets)
        unique = list(dict.fromkeys(wallets))
        registry = identity_registry_genesis(operator, [GenesisRegistration(w) for w in unique])
        return {bytes(IDENTITY_REGISTRY_ADDRESS): registry, operator: {"balance": OPERATOR_BALANCE}}

    # -- binding ---------------------------------------------------------------------------------

    def bind(self, chain: ChainHost) -> None:
        """Attach to ``chain``: open the governance records kept in its database, and finish an intervention
        that a crash cut short (`Interventions.resume`).

        Raises:
            ChainDataError: ``chain_id`` was given and differs from the chain's.
        """
        if self._chain_id is not None and self._chain_id != chain.chain_id:
            raise ChainDataError(
                f"the mode was made for chain id {self._chain_id}; the chain has {chain.chain_id}"
            )
        self._chain_id = chain.chain_id
        self._chain = chain
        store = GovernanceStore(chain.py_evm.chaindb.db, chain.lock)
        self._store = store
        self._book = ProposalBook(store, chain.chain_id, bytes(chain.get_header(0).hash))
        self._frozen = store.frozen()
        self._exclusions = ExclusionList.from_records(store.records())
        self._changes_waiting = True
        self._votes = ValidatorVotes(self, store, can_seal=self._can_seal, request_block=self._request_block)
        self._interventions = Interventions(
            self,
            store,
            chain,
            on_frozen=self._set_frozen,
            on_rewind=self._rewound,
            on_rolled_back=self._rolled_back,
        )
        self._interventions.resume()

    @property
    def chain(self) -> ChainHost:
        """The chain this mode runs.

        Raises:
            ChainError: the mode is not bound yet (open a chain with it first).
        """
        if self._chain is None:
            raise _unbound()
        return self._chain

    @property
    def store(self) -> GovernanceStore:
        """The governance records of the bound chain."""
        if self._store is None:
            raise _unbound()
        return self._store

    # -- GovernanceContext ---------------------------------------------------------------------

    @property
    def book(self) -> ProposalBook:
        """The chain's proposals."""
        if self._book is None:
            raise _unbound()
        return self._book

    def exclusive(self) -> AbstractContextManager[Any]:
        """Hold the chain still (its builder and import locks) while a governance decision is taken."""
        return self.chain.exclusive()

    def current_validators(self) -> tuple[Address, ...]:
        """The validators listed in the head block, who seal the next one."""
        return self._validators_after(self.chain.head())

    def held_key(self, validator: bytes) -> PrivateKey | None:
        """The key of ``validator`` if this node holds it."""
        key = self.keyring.key_for(validator)
        return None if key is None else key.private_key

    def head_number(self) -> int:
        """Number of the canonical head."""
        return int(self.chain.head().block_number)

    def is_canonical(self, number: int, block_hash: bytes) -> bool:
        """True if ``block_hash`` is the canonical block ``number``."""
        try:
            return bytes(self.chain.get_header(int(number)).hash) == bytes(block_hash)
        except ChainError:
            return False

    def persist(self) -> None:
        """Make governance writes durable now rather than with the next block."""
        self.chain.flush_metadata()

    # -- ChainMode -------------------------------------------------------------------------------

    def check_transaction(self, tx: SignedTransactionAPI, view: StateView) -> None:
        """Refuse a transaction a rollback excluded, then its sender as `check_sender` does.

        Raises:
            TransactionExcludedError: a rollback excluded this very transaction; the message names it.
            SenderNotPermittedError: a subclass saying why the sender is refused and what to do.
        """
        if self._exclusions:
            self._exclusions.check_transaction(bytes(tx.hash))
        self.check_sender(bytes(tx.sender), view, tx)

    def check_sender(self, sender: bytes, view: StateView, tx: SignedTransactionAPI | None = None) -> None:
        """Refuse a sender frozen chain-wide, or not verified by the identity registry at ``view.timestamp``.

        ``tx``, the transaction about to run in ``view``, if any, lets the KYC gate reuse what it read.

        Raises:
            SenderFrozenError: frozen by an intervention, which the message names.
            UnregisteredSenderError, KycExpiredError, KycRevokedError, SenderNotPermittedError: the identity
                registry does not verify the sender; the class and the message say why and what to do.
        """
        address = Address(bytes(sender))
        frozen = self._frozen.get(address)
        if frozen is not None:
            raise SenderFrozenError(
                f"sender {short(address)} is frozen chain-wide since block {frozen.since_block} "
                f"by intervention 0x{frozen.proposal_id.hex()} ({frozen.reason or 'no reason given'}); its "
                "transactions are refused until a validator quorum unfreezes it"
            )
        verdict = self.kyc.check(address, view, tx)
        if not verdict.verified:
            raise kyc_refusal(address, verdict, IDENTITY_REGISTRY_ADDRESS)

    def check_block(self, header: BlockHeaderAPI) -> None:
        """Refuse a block a rollback dropped.

        Raises:
            DroppedBlockError: naming the rollback.
        """
        if self._exclusions:
            self._exclusions.check_block(header, self.is_canonical)

    def seal(self, header: BlockHeaderAPI) -> BlockHeaderAPI:
        """Seal ``header`` with a quorum of held validator keys, applying one approved validator change.

        Raises:
            ChainError: this node holds too few of the validators' keys to reach the quorum.
        """
        parent = self.chain.py_evm.get_block_header_by_hash(header.parent_hash)
        validators = self._validators_after(parent)
        vanity = EMPTY_VANITY
        change = self._next_change(validators)
        if change is not None:
            record, validators = change
            vanity = bytes(record.id)
        signers = [k for k in (self.held_key(v) for v in validators) if k is not None]
        need = quorum_size(len(validators))
        if len(signers) < need:
            raise ChainError(
                f"cannot seal block #{header.block_number}: this node holds {len(signers)} of the "
                f"{len(validators)} validators' keys and a block needs {need} seals"
            )
        chosen = signers[:need]
        sealed = seal_header(header, validators, chosen, vanity)
        # Distinct validators' keys, a quorum of them: exactly what `check_seals` would recover, so the
        # activity stream reads them here instead of recovering every seal of every block.
        remember_sealed(sealed, [key.public_key.to_canonical_address() for key in chosen])
        if change is not None:
            # Written now, so that the record is committed together with the block it describes.
            self._record_change(change[0], sealed, parent)
        return sealed

    def on_block(self, block: BlockAPI) -> None:
        """Record a validator change carried by an imported block (built blocks recorded it when sealed)."""
        header = block.header
        parent = self.chain.py_evm.get_block_header_by_hash(header.parent_hash)
        before = self._validators_after(parent)
        extra = ExtraData.decode(header.extra_data)
        self._validators_at = (bytes(header.hash), extra.validators)
        if extra.validators == before:
            return
        record = self.store.find(extra.vanity)
        if record is None or record.outcome.get("blockHash") == "0x" + bytes(header.hash).hex():
            return
        self._record_change(record, header, parent)

    def interventions(self) -> Interventions:
        """The intervention desk (freeze, unfreeze, rollback)."""
        if self._interventions is None:
            raise _unbound()
        return self._interventions

    def validator_votes(self) -> ValidatorVotes:
        """The validator voting desk."""
        if self._votes is None:
            raise _unbound()
        return self._votes

    # -- internals ---------------------------------------------------------------------------------

    def frozen_accounts(self) -> dict[Address, FrozenAccount]:
        """Accounts frozen chain-wide now."""
        return dict(self._frozen)

    def _set_frozen(self, frozen: dict[Address, FrozenAccount]) -> None:
        self._frozen = dict(frozen)

    def _rolled_back(self, report: RollbackReport, reason: str) -> None:
        """Once a rollback is committed: refuse what it excluded and dropped from now on."""
        self._exclusions.add(report, reason)

    def _validators_after(self, header: BlockHeaderAPI) -> tuple[Address, ...]:
        cached = self._validators_at
        if cached is not None and cached[0] == bytes(header.hash):
            return cached[1]
        validators = validators_of(header)
        self._validators_at = (bytes(header.hash), validators)
        return validators

    def _can_seal(self, validators: Sequence[bytes]) -> bool:
        held = sum(1 for v in validators if self.keyring.key_for(v) is not None)
        return held >= quorum_size(len(validators))

    def _request_block(self) -> None:
        self._changes_waiting = True
        # An empty block if nothing is pending: the change takes effect now, not at the next transaction.
        self.chain.mine()

    def _next_change(
        self, validators: tuple[Address, ...]
    ) -> tuple[ProposalRecord, tuple[Address, ...]] | None:
        """The oldest approved validator vote that applies to ``validators``, with the set after it."""
        if not self._changes_waiting:
            return None
        for record in self.store.records():
            if (
                record.proposal.kind is not ProposalKind.VALIDATOR_VOTE
                or record.status is not ProposalStatus.APPROVED
            ):
                continue
            enacted = canonical_enactment(self.store, record.id, self.is_canonical)
            if enacted is not None:
                # The record is out of step with the history: the vote took effect already, and never twice.
                record.status = ProposalStatus.EXECUTED
                record.executed_at_block = enacted.block_number
                record.outcome = {**record.outcome, "blockHash": "0x" + enacted.block_hash.hex()}
                self.store.save(record)
                continue
            message = record.proposal.message
            try:
                after = apply_validator_change(
                    validators, str(message["action"]), parse_address(message["validator"])
                )
            except InvalidProposalError as exc:
                self._drop_change(record, f"no longer applies: {exc}")
                continue
            if len(collect_signers(record.proposal, record.signatures, validators)) < majority_size(
                len(validators)
            ):
                # An earlier change (or a rollback) altered the set: its voters are no longer a majority.
                self._drop_change(record, "its voters are no longer a majority of the current validators")
                continue
            if not self._can_seal(after):
                self._drop_change(record, "this node would hold too few validator keys to seal blocks")
                continue
            return record, after
        self._changes_waiting = False
        return None

    def _drop_change(self, record: ProposalRecord, reason: str) -> None:
        record.status = ProposalStatus.FAILED
        record.outcome = {**record.outcome, "error": reason}
        self.store.save(record)

    def _record_change(self, record: ProposalRecord, header: BlockHeaderAPI, parent: BlockHeaderAPI) -> None:
        before = validators_of(parent)
        message = record.proposal.message
        change = ValidatorChange(
            block_number=int(header.block_number),
            block_hash=bytes(header.hash),
            action=str(message["action"]),
            validator=parse_address(message["validator"]),
            voters=collect_signers(record.proposal, record.signatures, before),
            proposal_id=bytes(record.id),
            validators_after=validators_of(header),
        )
        record.status = ProposalStatus.EXECUTED
        record.executed_at_block = int(header.block_number)
        record.outcome = {**record.outcome, "blockHash": "0x" + bytes(header.hash).hex()}
        self.store.record_change(change, record)
        self._validators_at = (bytes(header.hash), change.validators_after)

    def _rewound(self, to_number: int) -> None:
        """After a rewind to ``to_number``: validator changes of dropped blocks go back to approved."""
        self._validators_at = None
        for record in self.store.records():
            if (
                record.proposal.kind is ProposalKind.VALIDATOR_VOTE
                and record.status is ProposalStatus.EXECUTED
                and record.executed_at_block is not None
                and record.executed_at_block > to_number
            ):
                record.status = ProposalStatus.APPROVED
                record.outcome = {
                    **record.outcome,
                    "droppedBlock": record.executed_at_block,
                    "note": "its block was removed by a rollback; it takes effect again at the next block",
                }
                record.executed_at_block = None
                self.store.save(record)
                self._changes_waiting = True
