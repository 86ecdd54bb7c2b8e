"""Interventions: chain-wide freezes and rollbacks, each needing a 2/3 quorum certificate."""

from __future__ import annotations

import pytest

from registry.chain.consensus.proposals import (
    InvalidProposalError,
    NotAValidatorError,
    ProposalClosedError,
    ProposalStatus,
    QuorumNotReachedError,
)
from registry.chain.consensus.seals import VoteAlreadyExecutedError, validators_of
from registry.chain.errors import (
    BlockNotFoundError,
    DroppedBlockError,
    ImmutableChainError,
    InvalidBlockError,
    SenderFrozenError,
    SenderNotPermittedError,
    TransactionExcludedError,
)
from registry.chain.events import ChainEvent, NewBlock, Rollback
from registry.chain.node.modes import PermissionlessMode
from registry.chain.rpc.dispatcher import RpcDispatcher
from tests.chain.permissioned_support import (
    block_naming_vote,
    decode,
    faucet,
    open_permissioned,
    register,
    signed,
    stranger,
    unchecked_block,
)

CAROL = "0x" + "ca" * 20
MALLORY_DROP = "0x" + "dd" * 20


def _approve(desk, record, count=None):
    """Sign ``record`` with held validator keys until it is no longer open (or ``count`` signatures)."""
    signers = desk.signers_available()
    for validator in signers[: count if count is not None else len(signers)]:
        if record.status is not ProposalStatus.OPEN:
            break
        record = desk.sign(record.id, validator)
    return record


def _transfer(chain, account, to=CAROL, value=10**15):
    return chain.send_raw_transaction(signed(chain, account, to=to, value=value, gas=21_000))


def _balance(chain, address):
    return int(chain.state_at().get_balance(bytes.fromhex(address[2:])))


# -- freeze ------------------------------------------------------------------------------------------------


def test_freeze_without_quorum_changes_nothing(permissioned):
    chain, mode = permissioned
    desk = mode.interventions()
    alice = chain.dev_accounts[1].account
    record = _approve(desk, desk.propose_freeze(alice.address, reason="suspicious"), count=2)
    assert desk.threshold() == 3
    assert record.status is ProposalStatus.OPEN
    with pytest.raises(QuorumNotReachedError, match="2 valid signature"):
        desk.execute(record.id)
    assert desk.frozen() == []
    _transfer(chain, alice)  # still allowed


def test_frozen_account_is_refused_at_submission_and_on_import_until_unfrozen(permissioned):
    chain, mode = permissioned
    desk = mode.interventions()
    alice = chain.dev_accounts[1].account
    queued = decode(chain, signed(chain, alice, to=CAROL, value=1, gas=21_000))
    record = _approve(desk, desk.propose_freeze(alice.address, reason="stolen key"))
    assert record.status is ProposalStatus.EXECUTED
    assert [f.account.hex() for f in desk.frozen()] == [alice.address[2:].lower()]

    with pytest.raises(SenderFrozenError, match="frozen") as info:
        _transfer(chain, alice)
    assert alice.address in str(info.value)

    # A block built elsewhere that still carries the frozen account's transaction is refused.
    parent = chain.head()
    with pytest.raises(InvalidBlockError) as refused:
        chain.import_block(unchecked_block(chain, mode, [queued]))
    assert isinstance(refused.value.__cause__, SenderFrozenError)
    assert chain.head() == parent

    with pytest.raises(InvalidProposalError):
        desk.propose_freeze(alice.address)
    unfreeze = _approve(desk, desk.propose_unfreeze(alice.address, reason="key rotated"))
    assert unfreeze.status is ProposalStatus.EXECUTED
    assert desk.frozen() == []
    _transfer(chain, alice)


def test_only_current_validators_sign_and_closed_proposals_stay_closed(permissioned):
    chain, mode = permissioned
    desk = mode.interventions()
    alice = chain.dev_accounts[1].account
    record = desk.propose_freeze(alice.address)
    with pytest.raises(NotAValidatorError):
        desk.sign(record.id, alice.address)
    record = _approve(desk, record)
    with pytest.raises(ProposalClosedError):
        desk.sign(record.id, desk.signers_available()[-1])
    with pytest.raises(ProposalClosedError):
        desk.execute(record.id)


# -- rollback ----------------------------------------------------------------------------------------------


@pytest.fixture
def hacked(permissioned):
    """A chain where, after block K, an attacker drained funds between honest transfers."""
    chain, mode = permissioned
    attacker = stranger(chain)
    register(chain, mode, attacker.address)
    alice = chain.dev_accounts[1].account
    bank = faucet(chain)
    k = chain.head().block_number
    snapshot = {
        name: _balance(chain, addr) for name, addr in [("attacker", attacker.address), ("drop", MALLORY_DROP)]
    }
    txs = {
        "alice-1": _transfer(chain, alice),  # K+1
        "bank-0": _transfer(chain, bank),  # K+2, excluded by hash
        "hack": _transfer(chain, attacker, to=MALLORY_DROP, value=10**18),  # K+3, excluded by sender
        "alice-2": _transfer(chain, alice),  # K+4
        "bank-1": _transfer(chain, bank),  # K+5: its nonce follows bank-0, so it fails on replay
    }
    return chain, mode, attacker, k, txs, snapshot


def test_rollback_replays_honest_transactions_and_records_everything(hacked):
    chain, mode, attacker, k, txs, snapshot = hacked
    desk = mode.interventions()
    events: list[ChainEvent] = []
    chain.subscribe(events.append)
    old_head = chain.head()
    record = desk.propose_rollback(
        k, exclude_transactions=[txs["bank-0"]], exclude_senders=[attacker.address], reason="exploit"
    )
    record = _approve(desk, record)
    assert record.status is ProposalStatus.EXECUTED

    report = desk.report(record.id)
    assert report.to_block == k
    assert (report.old_head_number, report.old_head_hash) == (old_head.block_number, old_head.hash)
    assert [n for n, _ in report.dropped_blocks] == list(range(k + 1, old_head.block_number + 1))
    assert [t.hash for t in report.transactions] == [
        txs[n] for n in ("alice-1", "bank-0", "hack", "alice-2", "bank-1")
    ]
    fates = {t.hash: t.fate for t in report.transactions}
    assert fates[txs["bank-0"]] == "excluded-by-hash"
    assert fates[txs["hack"]] == "excluded-by-sender"
    assert [t.hash for t in report.replayed] == [txs["alice-1"], txs["alice-2"]]
    [failed] = report.failed
    assert failed.hash == txs["bank-1"]
    assert "nonce" in failed.error.lower()
    assert all(t.status for t in report.replayed)

    head = chain.head()
    assert (report.new_head_number, report.new_head_hash) == (head.block_number, head.hash)
    assert head.block_number == k + 1  # both honest transfers fit in one replay block
    assert {t.new_block for t in report.replayed} == {k + 1}

    # The hack is undone; the attacker's funds are back.
    assert _balance(chain, MALLORY_DROP) == snapshot["drop"]
    assert _balance(chain, attacker.address) == snapshot["attacker"]

    # No ghosts: readers by number see the new chain only, and dropped transactions have no receipt.
    with pytest.raises(BlockNotFoundError):
        chain.get_block(k + 2)
    rpc = RpcDispatcher(chain)
    assert rpc.call("eth_blockNumber", []) == hex(k + 1)
    assert rpc.call("eth_getTransactionReceipt", ["0x" + txs["hack"].hex()]) is None
    assert rpc.call("eth_getBlockByNumber", [hex(k + 2), False]) is None
    receipt = rpc.call("eth_getTransactionReceipt", ["0x" + txs["alice-2"].hex()])
    assert int(receipt["blockNumber"], 16) == k + 1
    assert receipt["blockHash"] == "0x" + head.hash.hex()

    # Listeners learn of the rollback first, then of the replay block.
    assert events[0] == Rollback(
        first_changed_block=k + 1, new_head_number=k, new_head_hash=chain.get_header(k).hash
    )
    assert isinstance(events[1], NewBlock)
    assert events[1].number == k + 1
    assert desk.rollbacks() == [report]


def test_rollback_without_quorum_changes_nothing(hacked):
    chain, mode, attacker, k, _txs, _snapshot = hacked
    desk = mode.interventions()
    head = chain.head()
    record = _approve(desk, desk.propose_rollback(k, exclude_senders=[attacker.address]), count=2)
    assert record.status is ProposalStatus.OPEN
    with pytest.raises(QuorumNotReachedError):
        desk.execute(record.id)
    assert chain.head() == head
    assert desk.rollbacks() == []


def test_rollback_to_a_block_that_changed_since_the_proposal_fails_harmlessly(hacked):
    chain, mode, _attacker, k, _txs, _snapshot = hacked
    desk = mode.interventions()
    later = desk.propose_rollback(k + 2)  # names block K+2 of the current history by its hash
    _approve(desk, desk.propose_rollback(k))  # K+1.. replaced by one replay block
    for _ in range(3):
        _transfer(chain, chain.dev_accounts[2].account)  # a new block K+2 and more
    head = chain.head()
    assert head.block_number > k + 2
    record = _approve(desk, later)
    assert record.status is ProposalStatus.FAILED
    assert "the validators signed for" in record.outcome["error"]
    assert chain.head() == head


def test_rollback_proposals_are_checked(hacked):
    chain, mode, _attacker, k, txs, _snapshot = hacked
    desk = mode.interventions()
    with pytest.raises(InvalidProposalError):
        desk.propose_rollback(chain.head().block_number)
    with pytest.raises(InvalidProposalError, match="not in a block after"):
        desk.propose_rollback(k + 3, exclude_transactions=[txs["alice-1"]])


def test_rollback_below_a_validator_change_applies_the_change_again(permissioned):
    chain, mode = permissioned
    k = chain.head().block_number
    votes = mode.validator_votes()
    validators = validators_of(chain.head())
    change = votes.propose("remove", validators[0])
    for validator in validators[1:]:
        change = votes.sign(change.id, validator)
    assert change.status is ProposalStatus.EXECUTED
    enacting = chain.get_block(k + 1)
    _transfer(chain, faucet(chain))
    desk = mode.interventions()
    _approve(desk, desk.propose_rollback(k))
    # The vote still stands: the replay block applies it again, and the history shows both blocks.
    assert validators_of(chain.head()) == validators[1:]
    assert votes.get(change.id).status is ProposalStatus.EXECUTED
    assert [c.block_number for c in votes.history(include_dropped=True)] == [k + 1, k + 1]
    assert len(votes.history()) == 1
    assert votes.history()[0].block_hash == chain.get_header(k + 1).hash
    # It took effect again once, and only once: neither a new block naming it nor the dropped block that
    # first enacted it is taken.
    with pytest.raises(VoteAlreadyExecutedError):
        chain.import_block(block_naming_vote(chain, mode, change.id, list(validators)))
    chain.rewind(k)  # even where the dropped block would extend the head again
    with pytest.raises(DroppedBlockError):
        chain.import_block(enacting)
    assert len(votes.history(include_dropped=True)) == 2


def _exclusion_case(tmp_path, how):
    chain, mode = open_permissioned(tmp_path)
    attacker = stranger(chain)
    register(chain, mode, attacker.address)
    k = chain.head().block_number
    raw = signed(chain, attacker, to=MALLORY_DROP, value=10**18, gas=21_000)
    hack = chain.send_raw_transaction(raw)  # block K+1, alone
    dropped = chain.get_block(k + 1)
    desk = mode.interventions()
    exclusion = (
        {"exclude_senders": [attacker.address]} if how == "sender" else {"exclude_transactions": [hack]}
    )
    record = _approve(desk, desk.propose_rollback(k, reason="bridge exploit", **exclusion))
    assert record.status is ProposalStatus.EXECUTED
    assert chain.head().block_number == k  # every dropped transaction was excluded: nothing to replay
    return chain, record, raw, dropped


@pytest.mark.parametrize("how", ["sender", "hash"])
def test_excluded_transactions_and_dropped_blocks_stay_refused_across_a_restart(tmp_path, how):
    chain, record, raw, dropped = _exclusion_case(tmp_path, how)
    chain.close()
    for _restart in range(2):
        chain, mode = open_permissioned(tmp_path)
        try:
            head = chain.head()
            # The attacker's original raw transaction: its nonce is valid again after the rollback.
            with pytest.raises(TransactionExcludedError) as sent:
                chain.send_raw_transaction(raw)
            # The dropped block extends the head again, since nothing was replayed.
            assert dropped.header.parent_hash == head.hash
            with pytest.raises(DroppedBlockError) as imported:
                chain.import_block(dropped)
            # Any other block holding the excluded transaction.
            honest = decode(chain, signed(chain, faucet(chain), to=CAROL, value=1, gas=21_000))
            with pytest.raises(InvalidBlockError) as holding:
                chain.import_block(unchecked_block(chain, mode, [honest, decode(chain, raw)]))
            assert isinstance(holding.value.__cause__, TransactionExcludedError)
            for refusal in (sent.value, imported.value, holding.value.__cause__):
                assert refusal.proposal_id == record.id
                assert "0x" + record.id.hex() in str(refusal)
                assert "bridge exploit" in str(refusal)
            assert chain.head() == head
            assert _balance(chain, MALLORY_DROP) == 0
        finally:
            chain.close()


def test_a_rollback_that_fails_halfway_leaves_no_trace_and_can_be_executed_again(hacked, monkeypatch):
    chain, mode, attacker, k, txs, snapshot = hacked
    desk = mode.interventions()
    events: list[ChainEvent] = []
    chain.subscribe(events.append)
    head = chain.head()
    record = desk.propose_rollback(k, exclude_senders=[attacker.address], reason="exploit")
    original = chain.build_block

    def build_then_fail(*args, **kwargs):
        original(*args, **kwargs)  # the first replay block is sealed ...
        raise OSError("disk full")  # ... and then the write fails

    monkeypatch.setattr(chain, "build_block", build_then_fail)
    with pytest.raises(OSError, match="disk full"):
        _approve(desk, record)
    # Nothing of it stayed: the head, the blocks, the transactions, the listeners' view.
    assert chain.head() == head
    assert all(chain.find_transaction(tx_hash) is not None for tx_hash in txs.values())
    assert events == []
    assert desk.rollbacks() == []
    assert desk.get(record.id).status is ProposalStatus.APPROVED  # the quorum's decision stands
    _transfer(chain, attacker, value=1)  # nothing is excluded yet

    events.clear()
    monkeypatch.undo()
    done = desk.execute(record.id)
    assert done.status is ProposalStatus.EXECUTED
    report = desk.report(record.id)
    assert [t.hash for t in report.replayed] == [txs["alice-1"], txs["bank-0"], txs["alice-2"], txs["bank-1"]]
    assert _balance(chain, MALLORY_DROP) == snapshot["drop"]
    assert isinstance(events[0], Rollback)


def test_interventions_survive_a_restart(tmp_path):
    chain, mode = open_permissioned(tmp_path)
    alice = chain.dev_accounts[1].account
    desk = mode.interventions()
    k = chain.head().block_number
    _transfer(chain, alice)
    rollback = _approve(desk, desk.propose_rollback(k, exclude_senders=[alice.address]))
    freeze = _approve(desk, desk.propose_freeze(alice.address, reason="investigation"))
    open_one = desk.sign(desk.propose_unfreeze(alice.address).id, desk.signers_available()[0])
    chain.close()

    chain, mode = open_permissioned(tmp_path)
    try:
        desk = mode.interventions()
        assert [r.id for r in desk.proposals()] == [rollback.id, freeze.id, open_one.id]
        assert desk.get(open_one.id).status is ProposalStatus.OPEN
        assert len(desk.get(open_one.id).signatures) == 1
        assert desk.report(rollback.id).excluded[0].sender.hex() == alice.address[2:].lower()
        with pytest.raises(SenderNotPermittedError, match="frozen"):
            _transfer(chain, alice, value=7)  # not the excluded transfer itself, which stays excluded
    finally:
        chain.close()


def test_a_permissionless_chain_has_no_interventions():
    with pytest.raises(ImmutableChainError, match="immutable"):
        PermissionlessMode().interventions()
    with pytest.raises(ImmutableChainError, match="immutable"):
        PermissionlessMode().validator_votes()
