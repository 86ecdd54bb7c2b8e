"""Validator votes: a majority of the current set adds or removes a validator, at a recorded block."""

from __future__ import annotations

from dataclasses import replace

import pytest
from eth_account import Account

from registry.chain.consensus.proposals import (
    InvalidProposalError,
    InvalidProposalSignatureError,
    NotAValidatorError,
    ProposalClosedError,
    ProposalStatus,
    QuorumNotReachedError,
)
from registry.chain.consensus.seals import (
    ValidatorSetChangeError,
    VoteAlreadyExecutedError,
    check_seals,
    quorum_size,
    seal_header,
    short,
    validators_of,
)
from registry.chain.errors import InvalidBlockError
from tests.chain.permissioned_support import block_naming_vote, decode, faucet, open_permissioned, signed


def _sign(desk, record, validators):
    """Sign with each of ``validators`` in turn until the proposal is no longer open."""
    for validator in validators:
        if record.status is not ProposalStatus.OPEN:
            break
        record = desk.sign(record.id, validator)
    return record


def test_adding_a_validator_needs_a_majority_and_takes_effect_at_a_recorded_block(permissioned):
    chain, mode = permissioned
    votes = mode.validator_votes()
    before = validators_of(chain.head())
    newcomer = mode.keyring.generate("institution-5")
    record = votes.propose("add", newcomer.address, reason="new member of the consortium")
    assert votes.threshold() == 3

    record = _sign(votes, record, before[:2])
    assert record.status is ProposalStatus.OPEN
    assert validators_of(chain.head()) == before
    with pytest.raises(QuorumNotReachedError):
        votes.execute(record.id)
    assert votes.history() == []

    head = chain.head().block_number
    record = votes.sign(record.id, before[2])
    assert record.status is ProposalStatus.EXECUTED
    after = validators_of(chain.head())
    assert set(after) == {*before, newcomer.address}
    assert chain.head().block_number == head + 1
    assert record.executed_at_block == head + 1

    [change] = votes.history()
    assert change.block_number == head + 1
    assert change.block_hash == chain.head().hash
    assert change.action == "add"
    assert change.validator == newcomer.address
    assert set(change.voters) == set(before[:3])
    # From now on 4 seals of 5 are needed, and the new validator may be one of them.
    chain.send_raw_transaction(signed(chain, faucet(chain), to="0x" + "00" * 20, gas=21_000))
    assert len(check_seals(chain.head())) == quorum_size(5) == 4


def test_removing_a_validator(permissioned):
    chain, mode = permissioned
    votes = mode.validator_votes()
    before = validators_of(chain.head())
    record = votes.propose("remove", before[3])
    record = _sign(votes, record, before[:3])
    assert record.status is ProposalStatus.EXECUTED
    assert validators_of(chain.head()) == before[:3]
    assert votes.history()[-1].action == "remove"
    # The removed validator can no longer sign proposals.
    later = votes.propose("remove", before[2])
    with pytest.raises(NotAValidatorError):
        votes.sign(later.id, before[3])


def test_signatures_of_outsiders_and_forgeries_are_refused(permissioned):
    chain, mode = permissioned
    votes = mode.validator_votes()
    validators = validators_of(chain.head())
    record = votes.propose("remove", validators[0])
    outsider = Account.create()
    with pytest.raises(NotAValidatorError):
        votes.add_signature(record.id, outsider.address, record.proposal.sign(outsider.key))
    # A signature by an outsider presented as a validator's.
    with pytest.raises(InvalidProposalSignatureError):
        votes.add_signature(record.id, validators[1], record.proposal.sign(outsider.key))
    # The same validator signing twice counts once.
    votes.sign(record.id, validators[1])
    record = votes.sign(record.id, validators[1])
    assert record.status is ProposalStatus.OPEN
    assert len(votes.signers(record.id)) == 1


def test_a_signature_made_by_a_wallet_over_the_typed_data_counts(permissioned):
    chain, mode = permissioned
    votes = mode.validator_votes()
    validators = validators_of(chain.head())
    record = votes.propose("remove", validators[0])
    for validator in validators[1:]:
        key = mode.held_key(validator)
        signature = Account.sign_typed_data(
            key.to_bytes(), full_message=record.proposal.typed_data()
        ).signature
        record = votes.add_signature(record.id, short(validator), signature)
    assert record.status is ProposalStatus.EXECUTED
    assert validators[0] not in validators_of(chain.head())


def test_impossible_changes_are_refused_at_proposal(permissioned):
    chain, mode = permissioned
    votes = mode.validator_votes()
    validators = validators_of(chain.head())
    with pytest.raises(InvalidProposalError):
        votes.propose("add", validators[0])
    with pytest.raises(InvalidProposalError):
        votes.propose("remove", Account.create().address)
    with pytest.raises(InvalidProposalError):
        votes.propose("promote", validators[0])


def test_a_vote_that_would_leave_this_node_unable_to_seal_fails_without_changing_anything(permissioned):
    chain, mode = permissioned
    votes = mode.validator_votes()
    validators = validators_of(chain.head())
    held = [v for v in validators if mode.held_key(v) is not None]
    # Institutions whose keys this node does not hold: with 6 validators it holds 4 of the 4 seals needed;
    # a 7th would need 5.
    for _ in range(2):
        record = votes.propose("add", Account.create().address)
        assert _sign(votes, record, held).status is ProposalStatus.EXECUTED
    current = validators_of(chain.head())
    assert len(current) == 6
    second = _sign(votes, votes.propose("add", Account.create().address), held)
    assert second.status is ProposalStatus.FAILED
    assert "could not seal" in second.outcome["error"]
    assert validators_of(chain.head()) == current
    with pytest.raises(ProposalClosedError):
        votes.sign(second.id, held[0])


def test_an_imported_block_may_change_the_set_only_as_voted(permissioned):
    chain, mode = permissioned
    votes = mode.validator_votes()
    validators = validators_of(chain.head())
    record = votes.propose("remove", validators[0])
    record = _sign(votes, record, validators[1:])
    assert record.status is ProposalStatus.EXECUTED
    enacting = chain.get_block(chain.head().block_number)
    chain.rewind(enacting.number - 1)
    # The block enacting the voted change (the vote's id in its vanity) is accepted on import ...
    chain.import_block(enacting)
    chain.rewind(enacting.number - 1)
    # ... removing another validator under the same vote id is not.
    wrong = [v for v in validators if v != validators[1]]
    forged = seal_header(enacting.header, wrong, [mode.held_key(v) for v in wrong], vanity=bytes(record.id))
    with pytest.raises(InvalidBlockError) as info:
        chain.import_block(enacting.copy(header=forged))
    assert isinstance(info.value, ValidatorSetChangeError)


def test_votes_and_history_survive_a_restart(tmp_path):
    chain, mode = open_permissioned(tmp_path)
    validators = validators_of(chain.head())
    votes = mode.validator_votes()
    done = _sign(votes, votes.propose("remove", validators[0]), validators[1:])
    pending = votes.sign(votes.propose("remove", validators[1]).id, validators[2])
    chain.close()

    chain, mode = open_permissioned(tmp_path)
    try:
        votes = mode.validator_votes()
        assert votes.get(done.id).status is ProposalStatus.EXECUTED
        assert votes.get(pending.id).status is ProposalStatus.OPEN
        assert set(votes.get(pending.id).signatures) == {validators[2]}
        [change] = votes.history()
        assert change.validator == validators[0]
        assert validators_of(chain.head()) == validators[1:]
        # The chain still seals with the reduced set after the restart.
        tx = decode(chain, signed(chain, faucet(chain), to="0x" + "00" * 20, gas=21_000))
        assert chain.build_block([tx]).block is not None
    finally:
        chain.close()


def test_a_signature_made_for_another_chain_does_not_count(permissioned):
    chain, mode = permissioned
    votes = mode.validator_votes()
    validators = validators_of(chain.head())
    record = votes.propose("remove", validators[0])
    elsewhere = replace(record.proposal, genesis_hash=b"\x01" * 32)
    assert elsewhere.id != record.id
    with pytest.raises(InvalidProposalSignatureError):
        votes.add_signature(record.id, validators[1], elsewhere.sign(mode.held_key(validators[1])))
    assert votes.get(record.id).signatures == {}


def test_an_executed_vote_takes_effect_once_even_in_a_block_sealed_by_a_quorum(permissioned):
    chain, mode = permissioned
    votes = mode.validator_votes()
    founders = validators_of(chain.head())
    newcomer = mode.keyring.generate("institution-5").address
    added = _sign(votes, votes.propose("add", newcomer), founders)
    removed = _sign(votes, votes.propose("remove", newcomer), founders)
    assert removed.status is ProposalStatus.EXECUTED
    assert validators_of(chain.head()) == founders
    history = votes.history(include_dropped=True)
    head = chain.head()

    # Replaying the executed "add" would bring back a validator that a later vote removed.
    replay = block_naming_vote(chain, mode, added.id, [*founders, newcomer])
    with pytest.raises(VoteAlreadyExecutedError) as info:
        chain.import_block(replay)
    assert info.value.proposal_id == added.id
    assert info.value.block_number == added.executed_at_block
    assert "takes effect once" in str(info.value)
    # Naming it without changing the list is refused too: a vanity names the vote its block enacts.
    with pytest.raises(VoteAlreadyExecutedError):
        chain.import_block(block_naming_vote(chain, mode, added.id, founders))

    assert chain.head() == head
    assert validators_of(chain.head()) == founders
    record = votes.get(added.id)
    assert (record.executed_at_block, record.outcome["blockHash"]) == (
        added.executed_at_block,
        added.outcome["blockHash"],
    )
    assert votes.history(include_dropped=True) == history


def test_a_block_that_keeps_the_validators_has_an_empty_vanity(permissioned):
    chain, mode = permissioned
    votes = mode.validator_votes()
    validators = validators_of(chain.head())
    pending = votes.propose("remove", validators[0])  # open, not executed
    with pytest.raises(ValidatorSetChangeError, match="keeps its parent's validators"):
        chain.import_block(block_naming_vote(chain, mode, pending.id, validators))


def test_the_sealing_side_never_enacts_a_vote_twice(tmp_path):
    chain, mode = open_permissioned(tmp_path)
    votes = mode.validator_votes()
    founders = validators_of(chain.head())
    newcomer = mode.keyring.generate("institution-5").address
    added = _sign(votes, votes.propose("add", newcomer), founders)
    _sign(votes, votes.propose("remove", newcomer), founders)
    # A record out of step with the history (as an older or interrupted node could leave it) says the
    # executed "add" is approved again; it was stored, and the node restarts.
    stale = votes.get(added.id)
    stale.status = ProposalStatus.APPROVED
    mode.store.save(stale)
    chain.close()
    chain, mode = open_permissioned(tmp_path)
    try:
        votes = mode.validator_votes()
        block = chain.mine()
        assert validators_of(block.header) == founders
        assert votes.get(added.id).status is ProposalStatus.EXECUTED
        assert votes.get(added.id).executed_at_block == added.executed_at_block
        assert len(votes.history(include_dropped=True)) == 2
    finally:
        chain.close()
