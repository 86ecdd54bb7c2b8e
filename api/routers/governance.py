"""Validators, validator votes and interventions (freeze, unfreeze, rollback) of the permissioned chain.

Who may do what: every role reads; admin and validator keys propose, sign and execute. A validator key
signs only as its own validator address (`Principal.sender`); an admin signs as any validator whose key
this node holds. The quorum rules are the chain's (`registry.governance.desks`). On the permissionless
chain every route answers 409 ``immutable-chain`` (its history is final and it has no validators); on an
external node 501 ``not-supported-by-backend``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query
from fastapi.responses import Response

from api.deps import IdempotencyDep, PageDep, PageParams, PrincipalDep, RegistryDep
from api.schemas.common import ChainName, decode_cursor, encode_cursor
from api.schemas.governance import (
    FrozenAccountPublic,
    FrozenAccountsPublic,
    InterventionCreate,
    InterventionPublic,
    InterventionsPublic,
    SignatureCreate,
    ValidatorChangePublic,
    ValidatorsPublic,
    VoteCreate,
    VotePublic,
    VotesPublic,
)
from api.security import EVERY_ROLE, Principal, allow
from registry.access.keys import Role
from registry.chain.consensus.proposals import ProposalKind, ProposalRecord, ProposalStatus
from registry.errors import InvalidInputError
from registry.runtime import Registry

TAG = {
    "name": "governance",
    "description": "The permissioned chain's validators and what they decide together: validator votes "
    "(a majority adds or removes a validator) and interventions (ceil(2N/3) of them freeze or unfreeze an "
    "account chain-wide, or roll the chain back and replay the honest transactions). Every proposal is an "
    "EIP-712 message; a validator signs it through custody or with its own wallet. The permissionless "
    "chain has none of this: its history is final (409 immutable-chain).",
}

router = APIRouter(prefix="/chains", tags=["governance"])

Chain = Annotated[ChainName, Path(description="The chain: permissioned (permissionless answers 409).")]
ProposalIdPath = Annotated[
    str,
    Path(
        pattern=r"^0x[0-9a-fA-F]{64}$",
        description="The proposal's id (0x and 64 hex digits).",
        examples=["0x" + "5c" * 32],
    ),
]
Status = Annotated[
    ProposalStatus | None,
    Query(description="Only proposals with this status (open, approved, executed, failed)."),
]

GOVERNORS: tuple[Role, ...] = ("admin", "validator")
"""Who proposes, signs and executes."""


def _page(
    records: Sequence[ProposalRecord], page: PageParams, chain: str
) -> tuple[list[ProposalRecord], str | None]:
    """One page of ``records`` (oldest first), after the cursor's sequence."""
    if page.cursor is not None:
        payload = decode_cursor(page.cursor, "chain", "after")
        after = payload["after"]
        if payload["chain"] != chain or not isinstance(after, int):
            raise InvalidInputError("cursor", "this cursor continues another chain's list")
        records = [r for r in records if r.sequence > after]
    items = list(records[: page.limit])
    more = len(records) > page.limit
    return items, encode_cursor({"chain": chain, "after": items[-1].sequence}) if more else None


def _intervention(registry: Registry, chain: str, record: ProposalRecord) -> InterventionPublic:
    governance = registry.governance
    report = None
    if record.proposal.kind is ProposalKind.ROLLBACK and record.status is ProposalStatus.EXECUTED:
        report = governance.rollback_report(record.id, chain=chain)
    return InterventionPublic.of(
        registry.chain(chain).name,
        record,
        governance.signers(record.id, chain=chain),
        governance.threshold(chain),
        report,
    )


def _vote(registry: Registry, chain: str, record: ProposalRecord) -> VotePublic:
    governance = registry.governance
    return VotePublic.of(
        registry.chain(chain).name,
        record,
        governance.vote_signers(record.id, chain=chain),
        governance.vote_threshold(chain),
    )


def _validator(caller: Principal, body: SignatureCreate) -> str:
    """The validator the caller signs as: its own address (a validator key), any named one (an admin)."""
    return caller.sender(body.validator, "validator")


# -- validators ----------------------------------------------------------------------------------------


@router.get(
    "/{chain}/validators",
    dependencies=[allow(*EVERY_ROLE)],
    summary="The validators",
    description="The current validators, the signatures an intervention (ceil(2N/3)) and a validator vote "
    "(a majority) need, the validators whose keys this node holds, and every change of the set.",
)
def get_validators(chain: Chain, registry: RegistryDep) -> ValidatorsPublic:
    """The validators."""
    governance = registry.governance
    # The votes' desk first: on the permissionless chain its refusal says there are no validators.
    history = governance.validator_history(chain=chain)
    return ValidatorsPublic(
        chain=registry.chain(chain).name,
        current=governance.validators(chain),
        threshold=governance.threshold(chain),
        vote_threshold=governance.vote_threshold(chain),
        signers_available=governance.signers_available(chain),
        history=[ValidatorChangePublic.of(change) for change in history],
    )


@router.get(
    "/{chain}/frozen",
    dependencies=[allow(*EVERY_ROLE)],
    summary="Accounts frozen chain-wide",
    description="Accounts an intervention froze: the chain refuses their transactions until a quorum "
    "unfreezes them. Ordered by address.",
)
def list_frozen(chain: Chain, registry: RegistryDep, page: PageDep) -> FrozenAccountsPublic:
    """Accounts frozen chain-wide."""
    frozen = sorted(registry.governance.frozen_accounts(chain), key=lambda f: str(f["account"]).lower())
    if page.cursor is not None:
        after = str(decode_cursor(page.cursor, "after")["after"]).lower()
        frozen = [f for f in frozen if str(f["account"]).lower() > after]
    items = frozen[: page.limit]
    return FrozenAccountsPublic(
        items=[
            FrozenAccountPublic(
                account=f["account"],
                intervention_id=f["proposal_id"],
                since_block=f["since_block"],
                reason=f["reason"],
            )
            for f in items
        ],
        next_cursor=encode_cursor({"after": items[-1]["account"]}) if len(frozen) > page.limit else None,
    )


# -- votes ---------------------------------------------------------------------------------------------


@router.get(
    "/{chain}/votes",
    dependencies=[allow(*EVERY_ROLE)],
    summary="List validator votes",
    description="Votes to add or remove a validator, oldest first, optionally only those with a status.",
)
def list_votes(chain: Chain, registry: RegistryDep, page: PageDep, status: Status = None) -> VotesPublic:
    """List validator votes."""
    records = registry.governance.votes(status=None if status is None else status.value, chain=chain)
    items, cursor = _page(records, page, chain)
    return VotesPublic(items=[_vote(registry, chain, r) for r in items], next_cursor=cursor)


@router.post(
    "/{chain}/votes",
    status_code=201,
    response_model=VotePublic,
    dependencies=[allow(*GOVERNORS)],
    summary="Propose a validator vote",
    description="Opens a vote to add or remove a validator. It changes nothing until a majority of the "
    "current validators signed it (POST .../signatures); it then takes effect at the next block. Adding a "
    "current validator or removing one that is not is 409 proposal-refused.",
)
def propose_vote(
    chain: Chain,
    body: Annotated[VoteCreate, Body()],
    registry: RegistryDep,
    idem: IdempotencyDep,
) -> Response:
    """Propose a validator vote."""

    def work() -> VotePublic:
        record = registry.governance.propose_validator_change(
            body.action, body.validator, reason=body.reason, chain=chain
        )
        return _vote(registry, chain, record)

    return idem.run(work, status_code=201)


@router.post(
    "/{chain}/votes/{vote_id}/signatures",
    response_model=VotePublic,
    dependencies=[allow(*GOVERNORS)],
    summary="Sign a validator vote",
    description="Adds a validator's signature: custody signs with the validator's key this node holds, or "
    "`signature` carries the validator's own signature over the vote's `typed_data`. A validator key signs "
    "only as its own address (another is 403 scope-forbidden); an admin names the validator. A signature "
    "of an address that is not a current validator is 403 not-a-validator; a closed vote 409.",
)
def sign_vote(
    chain: Chain,
    vote_id: ProposalIdPath,
    *,
    body: Annotated[SignatureCreate, Body()],
    registry: RegistryDep,
    caller: PrincipalDep,
    idem: IdempotencyDep,
) -> Response:
    """Sign a validator vote."""
    registry.governance.vote(vote_id, chain=chain)  # an unknown vote is 404 before anything else
    validator = _validator(caller, body)

    def work() -> VotePublic:
        governance = registry.governance
        if body.signature is not None:
            record = governance.add_vote_signature(vote_id, validator, body.signature, chain=chain)
        else:
            record = governance.sign_vote(vote_id, validator, chain=chain)
        return _vote(registry, chain, record)

    return idem.run(work)


# -- interventions -------------------------------------------------------------------------------------


@router.get(
    "/{chain}/interventions",
    dependencies=[allow(*EVERY_ROLE)],
    summary="List interventions",
    description="Freezes, unfreezes and rollbacks, oldest first, optionally only those with a status; an "
    "executed rollback with what it dropped, replayed and excluded.",
)
def list_interventions(
    chain: Chain, registry: RegistryDep, page: PageDep, status: Status = None
) -> InterventionsPublic:
    """List interventions."""
    records = registry.governance.proposals(status=None if status is None else status.value, chain=chain)
    items, cursor = _page(records, page, chain)
    return InterventionsPublic(items=[_intervention(registry, chain, r) for r in items], next_cursor=cursor)


@router.post(
    "/{chain}/interventions",
    status_code=201,
    response_model=InterventionPublic,
    dependencies=[allow(*GOVERNORS)],
    summary="Propose an intervention",
    description="Opens a freeze or unfreeze of one account chain-wide, or a rollback to `to_block` that "
    "replays every later transaction except those of `accounts` and those in `exclude`. Nothing changes "
    "until ceil(2N/3) current validators signed (POST .../signatures); the signature completing the "
    "quorum carries it out. A proposal that cannot apply (an account already frozen, a block not below "
    "the head, an excluded transaction not in a dropped block) is 409 proposal-refused.",
)
def propose_intervention(
    chain: Chain,
    body: Annotated[InterventionCreate, Body()],
    registry: RegistryDep,
    idem: IdempotencyDep,
) -> Response:
    """Propose an intervention."""

    def work() -> InterventionPublic:
        governance = registry.governance
        if body.kind == "rollback":
            assert body.to_block is not None  # the schema requires it for a rollback
            record = governance.propose_rollback(
                body.to_block,
                exclude_transactions=body.exclude,
                exclude_senders=body.accounts,
                reason=body.reason,
                chain=chain,
            )
        elif body.kind == "freeze":
            record = governance.propose_freeze(body.accounts[0], reason=body.reason, chain=chain)
        else:
            record = governance.propose_unfreeze(body.accounts[0], reason=body.reason, chain=chain)
        return _intervention(registry, chain, record)

    return idem.run(work, status_code=201)


@router.get(
    "/{chain}/interventions/{id}",
    dependencies=[allow(*EVERY_ROLE)],
    summary="One intervention",
    description="An intervention's status and signers; an executed rollback with every dropped "
    "transaction and whether it was replayed (and where), excluded, or failed on replay.",
)
def get_intervention(
    chain: Chain, intervention_id: Annotated[ProposalIdPath, Path(alias="id")], registry: RegistryDep
) -> InterventionPublic:
    """One intervention."""
    return _intervention(registry, chain, registry.governance.proposal(intervention_id, chain=chain))


@router.post(
    "/{chain}/interventions/{id}/signatures",
    response_model=InterventionPublic,
    dependencies=[allow(*GOVERNORS)],
    summary="Sign an intervention",
    description="Adds a validator's signature: custody signs with the validator's key this node holds, or "
    "`signature` carries the validator's own signature over `typed_data`. The signature completing the "
    "quorum (ceil(2N/3)) carries the intervention out at once: the answer shows it executed. A validator "
    "key signs only as its own address (another is 403 scope-forbidden); an admin names the validator. A "
    "closed intervention is 409 proposal-closed.",
)
def sign_intervention(
    chain: Chain,
    intervention_id: Annotated[ProposalIdPath, Path(alias="id")],
    *,
    body: Annotated[SignatureCreate, Body()],
    registry: RegistryDep,
    caller: PrincipalDep,
    idem: IdempotencyDep,
) -> Response:
    """Sign an intervention."""
    registry.governance.proposal(intervention_id, chain=chain)  # an unknown one is 404 before anything else
    validator = _validator(caller, body)

    def work() -> InterventionPublic:
        governance = registry.governance
        if body.signature is not None:
            record = governance.add_signature(intervention_id, validator, body.signature, chain=chain)
        else:
            record = governance.sign(intervention_id, validator, chain=chain)
        return _intervention(registry, chain, record)

    return idem.run(work)


@router.post(
    "/{chain}/interventions/{id}/execute",
    response_model=InterventionPublic,
    dependencies=[allow(*GOVERNORS)],
    summary="Execute an intervention",
    description="Carries out an intervention that has its quorum but was not carried out (a crash cut it "
    "short, or the signatures were added without executing). Too few signatures: 409 quorum-not-reached, "
    "nothing changes; already executed or failed: 409 proposal-closed, nothing happens twice.",
)
def execute_intervention(
    chain: Chain,
    intervention_id: Annotated[ProposalIdPath, Path(alias="id")],
    registry: RegistryDep,
    idem: IdempotencyDep,
) -> Response:
    """Execute an intervention."""

    def work() -> InterventionPublic:
        return _intervention(registry, chain, registry.governance.execute(intervention_id, chain=chain))

    return idem.run(work)
