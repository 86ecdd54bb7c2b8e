"""Interventions and validator votes through the services: a freeze, a rollback the index follows, a
validator vote; the chain's own errors pass through with their sentences."""

from __future__ import annotations

import pytest
from eth_account import Account

from registry.chain.consensus.proposals import (
    InvalidProposalError,
    NotAValidatorError,
    ProposalRecord,
    QuorumNotReachedError,
)
from registry.chain.errors import ImmutableChainError, NotSupportedByBackendError
from registry.errors import InvalidInputError, SubmissionRejectedError
from registry.index import queries
from registry.runtime import Registry
from tests.registry_fixtures import make_world


def approve(registry: Registry, record: ProposalRecord, *, vote: bool = False) -> ProposalRecord:
    governance = registry.governance
    need = len(governance.validators()) // 2 + 1 if vote else governance.threshold()
    for validator in governance.signers_available()[:need]:
        sign = governance.sign_vote if vote else governance.sign
        record = sign("0x" + bytes(record.id).hex(), validator)
    return record


def test_a_chain_wide_freeze_and_its_lifting(registry: Registry) -> None:
    world = make_world(registry, "permissioned")
    (mallory,) = world.onboard(1)
    governance = registry.governance
    proposal = governance.propose_freeze(mallory.address, reason="stolen keys")
    assert governance.proposal(proposal.id).status == "open"
    with pytest.raises(QuorumNotReachedError, match="Nothing was changed"):
        governance.execute(proposal.id)
    executed = approve(registry, proposal)
    assert executed.status == "executed"
    assert [f["account"] for f in governance.frozen_accounts()] == [mallory.address]
    with pytest.raises(SubmissionRejectedError, match="frozen"):
        registry.cash.approve(world.cash, world.issuer, 1, sender=mallory.address)
    with pytest.raises(InvalidProposalError, match="already frozen"):
        governance.propose_freeze(mallory.address)
    approve(registry, governance.propose_unfreeze(mallory.address, reason="keys rotated"))
    assert governance.frozen_accounts() == []
    assert {p.id for p in governance.proposals(status="executed")} >= {proposal.id}


def test_a_rollback_undoes_a_mint_and_the_index_follows(registry: Registry) -> None:
    world = make_world(registry, "permissioned")
    bond = world.bond("kyc")
    (alice,) = world.onboard(1)
    registry.tokens.mint(bond, alice.address, 10, sender=world.issuer)
    before_hack = registry.chain("permissioned").w3.eth.block_number
    hack = registry.tokens.mint(bond, alice.address, 1_000, sender=world.issuer)
    registry.wait_for_index("permissioned", hack.block_number)
    proposal = registry.governance.propose_rollback(
        before_hack, exclude_transactions=[hack.hash_hex], reason="the issuer key minted without mandate"
    )
    assert approve(registry, proposal).status == "executed"
    report = registry.governance.rollback_report(proposal.id)
    assert [t.hash for t in report.excluded] == [hack.tx_hash]
    assert registry.tokens.balance_of(bond, alice.address) == 10
    registry.wait_for_index("permissioned", registry.chain("permissioned").w3.eth.block_number)
    with registry.db.read() as session:
        page = queries.cap_table(session, bond)
    assert [(e.wallet, e.balance) for e in page.entries] == [(alice.address, 10)]
    # Custody's nonces followed the rollback: the issuer sends again at once.
    registry.tokens.mint(bond, alice.address, 1, sender=world.issuer)


def test_a_validator_vote(registry: Registry) -> None:
    governance = registry.governance
    validators = governance.validators()
    leaving = validators[-1]
    proposal = governance.propose_validator_change("remove", leaving, reason="institution left")
    assert proposal.status == "open"
    approve(registry, proposal, vote=True)
    assert leaving not in governance.validators()
    history = governance.validator_history()
    assert history[-1].action == "remove"
    assert [v.id for v in governance.votes()] == [proposal.id]


def test_bad_requests_and_the_chains_own_errors(registry: Registry) -> None:
    governance = registry.governance
    with pytest.raises(ImmutableChainError):
        governance.propose_freeze(Account.create().address, chain="permissionless")
    with pytest.raises(ImmutableChainError):
        governance.validator_history(chain="permissionless")
    for call, field in (
        (lambda: governance.proposal("0x1234"), "proposal_id"),
        (lambda: governance.proposal("not hex"), "proposal_id"),
        (lambda: governance.proposals(status="pending"), "status"),
        (lambda: governance.propose_validator_change("promote", Account.create().address), "action"),
        (lambda: governance.propose_freeze(Account.create().address, reason="a\nb"), "reason"),
        (lambda: governance.propose_rollback(-1), "to_block"),
    ):
        with pytest.raises(InvalidInputError) as caught:
            call()
        assert caught.value.field == field
    proposal = governance.propose_freeze(Account.create().address)
    with pytest.raises(NotAValidatorError):
        governance.sign(proposal.id, Account.create().address)


def test_an_external_node_has_no_desks(anvil_registry: Registry) -> None:
    with pytest.raises(NotSupportedByBackendError):
        anvil_registry.governance.propose_freeze(Account.create().address, chain="permissionless")
    with pytest.raises(NotSupportedByBackendError):
        anvil_registry.governance.validators(chain="permissionless")
