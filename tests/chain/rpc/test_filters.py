"""Polled filters: what each kind reports, across a permissioned rollback, and their expiry."""

from __future__ import annotations

from web3 import Web3

from registry.artifacts import load_artifact
from registry.chain.consensus.proposals import ProposalStatus
from registry.chain.rpc import filters as filters_module
from registry.chain.rpc.dispatcher import RpcDispatcher
from registry.chain.rpc.filters import FILTER_TIMEOUT
from registry.chain.rpc.provider import EmbeddedProvider
from registry.deploy import deploy_with_receipt
from tests.chain.conftest import sign
from tests.chain.permissioned_support import faucet, signed
from tests.chain.rpc.support import error, result


class FakeClock:
    """Monotonic seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def deploy_token(chain, rpc, sender, nonce=0):
    artifact = load_artifact("PlainERC20")
    factory = Web3().eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    data = Web3.to_bytes(hexstr=factory.constructor(10**6).data_in_transaction)
    raw = sign(sender, nonce=nonce, data=data, gas=2_000_000, chain_id=chain.chain_id)
    tx_hash = result(rpc, "eth_sendRawTransaction", "0x" + raw.hex())
    return result(rpc, "eth_getTransactionReceipt", tx_hash)["contractAddress"]


def transfer_data(to: str, amount: int) -> bytes:
    artifact = load_artifact("PlainERC20")
    return Web3.to_bytes(hexstr=Web3().eth.contract(abi=artifact.abi).encode_abi("transfer", [to, amount]))


def token_world(chain):
    """A dispatcher, the faucet (which deploys a token and holds its supply), a recipient, the token."""
    rpc = RpcDispatcher(chain)
    bank = faucet(chain)
    return rpc, bank, chain.dev_accounts[1].account.address, deploy_token(chain, rpc, bank)


def roll_back(chain, mode, to_block, **options):
    """Roll the permissioned chain back to ``to_block`` with a quorum of signatures."""
    # Later than the dropped blocks: a replayed block made in the same second could be identical to the
    # one it replaces (same parent, transactions, time and deterministic seals), and stay canonical.
    chain.increase_time(60)
    desk = mode.interventions()
    record = desk.propose_rollback(to_block, reason="drill", **options)
    for validator in desk.signers_available()[: desk.threshold()]:
        record = desk.sign(record.id, validator)
    assert record.status is ProposalStatus.EXECUTED


def amounts(logs):
    return [(int(entry["data"], 16), entry["removed"]) for entry in logs]


def test_a_log_filter_after_a_rollback_withdraws_the_dropped_logs(permissioned):
    chain, mode = permissioned
    rpc, bank, bob, token = token_world(chain)
    k = chain.block_number
    logs = result(rpc, "eth_newFilter", {"address": token})
    blocks = result(rpc, "eth_newBlockFilter")
    honest = chain.send_raw_transaction(signed(chain, bank, to=token, data=transfer_data(bob, 10)))
    exploit = chain.send_raw_transaction(signed(chain, bank, to=token, data=transfer_data(bob, 20)))
    old = [chain.get_header(k + 1).hash, chain.get_header(k + 2).hash]
    assert amounts(result(rpc, "eth_getFilterChanges", logs)) == [(10, False), (20, False)]
    assert result(rpc, "eth_getFilterChanges", blocks) == ["0x" + h.hex() for h in old]

    roll_back(chain, mode, k, exclude_transactions=["0x" + exploit.hex()])
    replayed = chain.find_transaction(honest)
    assert replayed is not None
    assert replayed.header.hash not in old

    changes = result(rpc, "eth_getFilterChanges", logs)
    # First what was reported from the dropped blocks, withdrawn newest first, then the new canonical logs.
    assert amounts(changes) == [(20, True), (10, True), (10, False)]
    assert [entry["blockHash"] for entry in changes] == [
        "0x" + old[1].hex(),
        "0x" + old[0].hex(),
        "0x" + replayed.header.hash.hex(),
    ]
    assert result(rpc, "eth_getFilterChanges", logs) == []
    assert result(rpc, "eth_getFilterChanges", blocks) == ["0x" + replayed.header.hash.hex()]
    # The filter's whole range holds only canonical logs.
    assert amounts(result(rpc, "eth_getFilterLogs", logs)) == [(10, False)]


def test_a_rollback_below_the_filter_withdraws_only_what_it_reported(permissioned):
    chain, mode = permissioned
    rpc, bank, bob, token = token_world(chain)
    k = chain.block_number
    chain.send_raw_transaction(signed(chain, bank, to=token, data=transfer_data(bob, 1)))  # k+1, before
    logs = result(rpc, "eth_newFilter", {"address": token})
    chain.send_raw_transaction(signed(chain, bank, to=token, data=transfer_data(bob, 2)))  # k+2, reported
    assert amounts(result(rpc, "eth_getFilterChanges", logs)) == [(2, False)]
    roll_back(chain, mode, k)
    # Withdrawn: the log it reported; new: both transfers, replayed into new blocks.
    assert amounts(result(rpc, "eth_getFilterChanges", logs)) == [(2, True), (1, False), (2, False)]


def test_log_filters_report_new_blocks_within_their_range(instant_chain):
    rpc = RpcDispatcher(instant_chain)
    sender = instant_chain.dev_accounts[0].account
    bob = instant_chain.dev_accounts[1].account.address
    token = deploy_token(instant_chain, rpc, sender)
    head = instant_chain.block_number
    everything = result(rpc, "eth_newFilter", {"fromBlock": "earliest", "address": token})
    bounded = result(rpc, "eth_newFilter", {"fromBlock": hex(head + 1), "toBlock": hex(head + 1)})
    for nonce, amount in ((1, 5), (2, 6)):
        raw = sign(
            sender,
            nonce=nonce,
            to=token,
            data=transfer_data(bob, amount),
            gas=100_000,
            chain_id=instant_chain.chain_id,
        )
        result(rpc, "eth_sendRawTransaction", "0x" + raw.hex())
    # As on geth, changes start at the filter's installation, whatever its fromBlock.
    assert amounts(result(rpc, "eth_getFilterChanges", everything)) == [(5, False), (6, False)]
    assert amounts(result(rpc, "eth_getFilterChanges", bounded)) == [(5, False)]
    assert amounts(result(rpc, "eth_getFilterLogs", everything)) == [(10**6, False), (5, False), (6, False)]


def test_contract_event_filters_through_web3(instant_chain):
    w3 = Web3(EmbeddedProvider(instant_chain))
    sender = instant_chain.dev_accounts[0].address
    token, receipt = deploy_with_receipt(w3, "PlainERC20", 50, sender=sender)
    event_filter = token.events.Transfer.create_filter(from_block=receipt["blockNumber"])
    token.functions.transfer(instant_chain.dev_accounts[2].address, 3).transact({"from": sender})
    assert [entry["args"]["value"] for entry in event_filter.get_new_entries()] == [3]
    assert [entry["args"]["value"] for entry in event_filter.get_all_entries()] == [50, 3]


def test_a_pending_transaction_filter_reports_each_accepted_transaction(manual_chain):
    rpc = RpcDispatcher(manual_chain)
    pending = result(rpc, "eth_newPendingTransactionFilter")
    sender = manual_chain.dev_accounts[0].account
    hashes = [
        result(rpc, "eth_sendRawTransaction", "0x" + sign(sender, nonce=n, to=sender.address).hex())
        for n in range(3)
    ]
    manual_chain.seal_pending()
    assert result(rpc, "eth_getFilterChanges", pending) == hashes
    assert result(rpc, "eth_getFilterChanges", pending) == []
    assert error(rpc, "eth_getFilterLogs", pending)["message"].startswith("filter not found")


def test_idle_filters_expire_like_geths_and_polled_ones_stay(instant_chain):
    clock = FakeClock()
    rpc = RpcDispatcher(instant_chain, clock=clock)
    polled = result(rpc, "eth_newBlockFilter")
    idle = result(rpc, "eth_newPendingTransactionFilter")
    clock.now += FILTER_TIMEOUT
    assert result(rpc, "eth_getFilterChanges", polled) == []
    clock.now += 1
    message = error(rpc, "eth_getFilterChanges", idle)["message"]
    assert message.startswith("filter not found")
    assert "300 s without a poll" in message
    clock.now += FILTER_TIMEOUT - 1
    assert result(rpc, "eth_getFilterChanges", polled) == []
    assert len(rpc.filters) == 1
    # Once no pending-transaction filter is left, submissions are no longer watched.
    sender = instant_chain.dev_accounts[0].account
    result(rpc, "eth_sendRawTransaction", "0x" + sign(sender, nonce=0, to=sender.address).hex())
    assert result(rpc, "eth_uninstallFilter", polled) is True
    assert len(rpc.filters) == 0


def test_filter_requests_that_cannot_work_are_refused(instant_chain, monkeypatch):
    rpc = RpcDispatcher(instant_chain)
    refusal = error(rpc, "eth_newFilter", {"blockHash": "0x" + "11" * 32})
    assert refusal["code"] == -32602
    assert "eth_getLogs" in refusal["message"]
    assert error(rpc, "eth_getFilterChanges", "0x1234")["message"].startswith("filter not found")
    assert error(rpc, "eth_getFilterChanges", "nonsense")["code"] == -32602
    monkeypatch.setattr(filters_module, "MAX_FILTERS", 2)
    result(rpc, "eth_newBlockFilter")
    result(rpc, "eth_newBlockFilter")
    assert "too many filters" in error(rpc, "eth_newBlockFilter")["message"]
