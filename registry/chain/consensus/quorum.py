"""The py-evm consensus of the permissioned chain: quorum seals and voted validator changes.

`QuorumConsensus` is attached to the chain's VM: on every import it checks the seals
(`registry.chain.consensus.seals.check_seals`) and that a change of the validator list is
explained by a validator vote that a majority of the parent's validators signed and that has
not taken effect on the canonical chain yet (`check_validator_transition`).

A vote takes effect once: at the block whose vanity names it. If a rollback drops that block,
the vote has not taken effect on the canonical chain any more, and it may (and, on this node,
will) take effect again in a later block; the dropped block itself stays refused
(`registry.chain.consensus.interventions.ExclusionList`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from eth.abc import ConsensusAPI
from eth.db.header import HeaderDB
from eth.exceptions import HeaderNotFound
from eth_typing import Address, BlockNumber
from eth_utils.address import to_canonical_address

from registry.chain.consensus.proposals import (
    GovernanceStore,
    InvalidProposalError,
    ProposalKind,
    ProposalRecord,
    ValidatorChange,
    apply_validator_change,
    collect_signers,
)
from registry.chain.consensus.seals import (
    EMPTY_VANITY,
    ExtraData,
    ValidatorSetChangeError,
    VoteAlreadyExecutedError,
    check_seals,
    majority_size,
    short,
    validators_of,
)

if TYPE_CHECKING:
    from eth.abc import AtomicDatabaseAPI, BlockHeaderAPI, ConsensusContextAPI

# ---------------------------------------------------------------------------------------------- consensus


IsCanonical = Callable[[int, bytes], bool]
"""Answers whether a block (number, hash) is on the canonical chain."""


def canonical_enactment(
    store: GovernanceStore, vote_id: bytes, is_canonical: IsCanonical
) -> ValidatorChange | None:
    """The change by which vote ``vote_id`` took effect on the canonical chain, or None if it has not.

    Changes in blocks that a rollback dropped do not count: on the canonical chain those never happened.
    """
    for change in store.validator_changes():
        if change.proposal_id == bytes(vote_id) and is_canonical(change.block_number, change.block_hash):
            return change
    return None


def check_validator_transition(
    header: BlockHeaderAPI, parent: BlockHeaderAPI, store: GovernanceStore, is_canonical: IsCanonical
) -> ProposalRecord | None:
    """Check that ``header``'s validator list follows from ``parent``'s; return the vote that changed it.

    The list may only differ by one validator added or removed, and only if the vanity holds the id of a
    validator vote signed by a majority of the parent's validators that has not already taken effect on
    the canonical chain (``parent`` is its head). A block that keeps the list has an empty vanity.

    Raises:
        VoteAlreadyExecutedError: the vanity names a vote that already took effect.
        ValidatorSetChangeError: the list changed without such a vote, or the vanity names a vote the
            block does not enact.
    """
    before = validators_of(parent)
    extra = ExtraData.decode(header.extra_data)
    where = f"block #{header.block_number}"
    if extra.vanity != EMPTY_VANITY:
        enacted = canonical_enactment(store, extra.vanity, is_canonical)
        if enacted is not None:
            raise VoteAlreadyExecutedError(
                f"{where} names validator vote 0x{extra.vanity.hex()} in its vanity, which already took "
                f"effect at block #{enacted.block_number} 0x{enacted.block_hash.hex()} ({enacted.action} "
                f"{short(enacted.validator)}); a vote takes effect once: make a new vote for a new change",
                bytes(extra.vanity),
                enacted.block_number,
            )
    if extra.validators == before:
        if extra.vanity != EMPTY_VANITY:
            raise ValidatorSetChangeError(
                f"{where} names 0x{extra.vanity.hex()} in its vanity but keeps its parent's validators; "
                "the vanity is empty unless the block enacts the validator vote it names"
            )
        return None
    record = store.find(extra.vanity)
    if record is None or record.proposal.kind is not ProposalKind.VALIDATOR_VOTE:
        raise ValidatorSetChangeError(
            f"{where} changes the validator set without naming a known validator vote in its vanity"
        )
    message = record.proposal.message
    subject = Address(to_canonical_address(message["validator"]))
    try:
        expected = apply_validator_change(before, str(message["action"]), subject)
    except InvalidProposalError as exc:
        raise ValidatorSetChangeError(f"{where}: vote 0x{record.id.hex()} does not apply: {exc}") from exc
    if expected != extra.validators:
        raise ValidatorSetChangeError(
            f"{where} lists validators that do not follow from its parent's and vote 0x{record.id.hex()}"
        )
    voters = collect_signers(record.proposal, record.signatures, before)
    if len(voters) < majority_size(len(before)):
        raise ValidatorSetChangeError(
            f"{where}: vote 0x{record.id.hex()} has {len(voters)} valid vote(s) of the parent's "
            f"{len(before)} validators; a change needs {majority_size(len(before))}"
        )
    return record


class QuorumConsensus(ConsensusAPI):
    """py-evm consensus for the permissioned chain: ceil(2N/3) validator seals, voted validator changes.

    py-evm builds one instance per VM with a context holding the chain database, which is where the
    validator votes are stored; nothing else is needed to check a block.
    """

    def __init__(self, context: ConsensusContextAPI) -> None:
        # py-evm's ConsensusContext keeps the chain database as ``db``; the abstract API does not declare it.
        self._db: AtomicDatabaseAPI = context.db  # type: ignore[attr-defined]

    def validate_seal(self, header: BlockHeaderAPI) -> None:
        """Check the seals of ``header`` against the validators it lists (see `check_seals`)."""
        check_seals(header)

    def validate_seal_extension(self, header: BlockHeaderAPI, parents: Iterable[BlockHeaderAPI]) -> None:
        """Check that the validator list of ``header`` follows from its parent's by a voted change."""
        parent = next((p for p in parents if p.hash == header.parent_hash), None)
        if parent is None:
            parent = HeaderDB(self._db).get_block_header_by_hash(header.parent_hash)
        headers = HeaderDB(self._db)

        def is_canonical(number: int, block_hash: bytes) -> bool:
            try:
                return bytes(headers.get_canonical_block_hash(BlockNumber(number))) == bytes(block_hash)
            except HeaderNotFound:
                return False

        check_validator_transition(header, parent, GovernanceStore(self._db), is_canonical)

    @classmethod
    def get_fee_recipient(cls, header: BlockHeaderAPI) -> Address:
        """Fees go to the header's coinbase, as when the block was built."""
        return Address(header.coinbase)
