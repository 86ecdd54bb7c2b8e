"""The activity hub: ids in order, filters, bounded queues that drop (and say so) rather than block,
resuming from the replay buffer; and a registry's hub fed by its chains, index and governance."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from web3.exceptions import Web3RPCError

from registry.activity import RUN_FILE, RUN_SPAN, Activity, ActivityHub, Subscription, next_run_first_id
from registry.errors import SubmissionRejectedError
from registry.runtime import Registry
from tests.conftest import derived_keys
from tests.registry_fixtures import USD, make_world, service_settings

WAIT = 30.0
"""Seconds a test waits for an item before failing (a guard, never a pace)."""


def next_of(feed: Subscription, kind: str) -> Activity:
    """The next item of ``kind`` (others are skipped)."""
    while True:
        item = feed.get(timeout=WAIT)
        assert item is not None, f"no {kind} item came"
        if item.kind == kind:
            return item


def test_ids_increase_and_every_subscriber_sees_them_in_order() -> None:
    hub = ActivityHub()
    with hub.subscribe() as everything, hub.subscribe(kinds={"block"}, chain="permissioned") as blocks:
        published = [
            hub.publish("block", {"chain": "permissioned", "number": 1}),
            hub.publish("block", {"chain": "permissionless", "number": 1}),
            hub.publish("refusal", {"chain": "permissioned", "sender": "0x"}),
            hub.publish("demo", {"run_id": "r", "name": "n", "step": "s", "status": "done", "detail": ""}),
            hub.publish("block", {"chain": "permissioned", "number": 2}),
        ]
        assert [a.id for a in published] == [1, 2, 3, 4, 5]
        got, dropped = everything.take()
        assert got == published and dropped == 0
        assert [(a.kind, a.data["number"]) for a in blocks.take()[0]] == [("block", 1), ("block", 2)]
    assert hub.subscriber_count == 0 and hub.last_id == 5
    with pytest.raises(ValueError, match="unknown activity kind"):
        hub.publish("gossip", {})
    with pytest.raises(ValueError, match="unknown activity kind"):
        hub.subscribe(kinds={"gossip"})


def test_a_reader_that_never_reads_loses_its_oldest_items_and_is_told() -> None:
    hub = ActivityHub(queue_size=3)
    with hub.subscribe() as stalled:
        for number in range(10):
            hub.publish("block", {"chain": "permissioned", "number": number})
        items, dropped = stalled.take()
        assert [a.data["number"] for a in items] == [7, 8, 9] and dropped == 7
        assert stalled.take() == ([], 0)


def test_a_reader_resumes_after_the_last_id_it_saw_as_far_as_the_replay_reaches() -> None:
    hub = ActivityHub(replay_size=4)
    for number in range(10):
        hub.publish("block", {"chain": "permissioned", "number": number})
    with hub.subscribe(after=8) as near:
        assert [a.id for a in near.take()[0]] == [9, 10]
    with hub.subscribe(after=2) as far:
        items, dropped = far.take()
        assert [a.id for a in items] == [7, 8, 9, 10] and dropped == 4


def test_a_reader_resuming_from_an_id_this_run_never_issued_gets_what_is_kept_and_is_told() -> None:
    first = 3 * RUN_SPAN + 1
    hub = ActivityHub(replay_size=4, first_id=first)
    assert hub.last_id == first - 1
    for number in range(6):
        hub.publish("block", {"chain": "permissioned", "number": number})
    # From the run before (the server restarted), and from beyond the newest id (another server).
    for after in (2 * RUN_SPAN + 40, first + 500):
        with hub.subscribe(after=after) as resumed:
            items, dropped = resumed.take()
            assert resumed.other_run
            assert [a.id for a in items] == [first + 2, first + 3, first + 4, first + 5] and dropped == 2
    # Resuming inside this run is the ordinary case, also from just before its first item.
    for after, expected in ((first + 3, [first + 4, first + 5]), (first - 1, [first + 2, first + 3])):
        with hub.subscribe(after=after) as ordinary:
            assert not ordinary.other_run
            assert [a.id for a in ordinary.take()[0]][:2] == expected


def test_each_run_on_a_data_directory_numbers_its_ids_above_every_earlier_run(tmp_path: Path) -> None:
    firsts = [next_run_first_id(tmp_path) for _ in range(3)]
    assert firsts == [RUN_SPAN + 1, 2 * RUN_SPAN + 1, 3 * RUN_SPAN + 1]
    assert (tmp_path / RUN_FILE).read_text().strip() == "3" and not list(tmp_path.glob("*.new"))
    # A count damaged by hand starts again rather than stopping the registry.
    (tmp_path / RUN_FILE).write_text("not a number")
    assert next_run_first_id(tmp_path) == RUN_SPAN + 1


def test_a_reopened_registry_streams_ids_above_those_of_its_previous_run(tmp_path: Path) -> None:
    settings = service_settings(tmp_path)
    with Registry.open(settings, in_memory=True, chains=("permissionless",), follow=False) as before:
        before.activity.publish("demo", {"run_id": "r", "name": "hack", "step": "s", "status": "ok"})
        assert before.activity.first_id == RUN_SPAN + 1
        last = before.activity.last_id
    with Registry.open(settings, in_memory=True, chains=("permissionless",), follow=False) as after:
        assert after.activity.first_id > last
        with after.activity.subscribe(after=last) as resumed:
            assert resumed.other_run


def test_closing_the_hub_ends_every_reader() -> None:
    hub = ActivityHub()
    feed = hub.subscribe()
    ended = threading.Event()

    def read() -> None:
        assert feed.get(timeout=WAIT) is None
        ended.set()

    reader = threading.Thread(target=read)
    reader.start()
    hub.close()
    reader.join(WAIT)
    assert ended.is_set() and feed.closed and hub.subscriber_count == 0
    assert hub.subscribe().closed


# -- a registry's hub ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A registry whose index follows its chains (token events come from the follower's thread)."""
    opened = Registry.open(
        service_settings(Path(tmp_path_factory.mktemp("activity"))), in_memory=True, sealing="instant"
    )
    yield opened
    opened.close()


def test_blocks_token_events_refusals_interventions_and_a_rollback(registry: Registry) -> None:
    world = make_world(registry, "permissioned")
    (alice,) = world.onboard(1)
    with registry.activity.subscribe(chain="permissioned") as feed:
        outcome = registry.cash.mint(world.cash, alice.address, 5 * USD, sender=world.issuer)
        block = next_of(feed, "block")
        assert block.data["number"] == outcome.block_number
        assert block.data["hash"] == "0x" + bytes(outcome.block_hash).hex()
        assert block.data["tx_count"] == 1 and block.data["timestamp"].endswith("Z")
        validators = registry.governance.validators()
        assert block.data["validators"] == validators
        assert len(block.data["sealers"]) >= registry.governance.threshold()
        assert set(block.data["sealers"]) <= set(validators)
        event = next_of(feed, "token-event")
        assert event.id > block.id
        assert (event.data["asset_id"], event.data["symbol"], event.data["event"]) == (
            world.cash,
            "tUSD",
            "Transfer",
        )
        assert event.data["block_number"] == outcome.block_number
        assert event.data["tx_hash"] == "0x" + bytes(outcome.tx_hash).hex()
        assert event.data["args"]["to"] == alice.address and event.data["args"]["value"] == str(5 * USD)

        (stranger,) = derived_keys("activity stranger", 1)
        registry.context.chain("permissioned").sender.signers.add(stranger, "test stranger")
        with pytest.raises(SubmissionRejectedError):
            registry.cash.approve(world.cash, alice.address, 1, sender=stranger.address)
        refusal = next_of(feed, "refusal")
        assert refusal.data["sender"] == stranger.address and refusal.data["error"] == "unregistered"
        assert "is not registered" in refusal.data["reason"]

        to_block = registry.chain("permissioned").w3.eth.block_number - 1
        proposal = registry.governance.propose_rollback(to_block, reason="activity test")
        proposed = next_of(feed, "intervention")
        assert (proposed.data["kind"], proposed.data["status"], proposed.data["signers"]) == (
            "rollback",
            "open",
            [],
        )
        for validator in registry.governance.signers_available()[: registry.governance.threshold()]:
            registry.governance.sign(proposal.id, validator)
        rollback = next_of(feed, "rollback")
        assert rollback.data == {
            "chain": "permissioned",
            "first_changed_block": to_block + 1,
            "new_head": to_block,
        }
        executed = next_of(feed, "intervention")
        while executed.data["status"] != "executed":
            executed = next_of(feed, "intervention")
        report = registry.governance.rollback_report(proposal.id)
        assert executed.data["dropped"] == ["0x" + bytes(t.hash).hex() for t in report.transactions]
        assert executed.data["replayed"] == ["0x" + bytes(t.hash).hex() for t in report.replayed]
        assert executed.id > rollback.id


def test_a_stalled_reader_does_not_hold_sealing_back(registry: Registry) -> None:
    world = make_world(registry, "permissionless")
    with registry.activity.subscribe(kinds={"block"}, chain="permissionless", queue_size=2) as stalled:
        head = registry.chain("permissionless").w3.eth.block_number
        outcomes = [registry.cash.mint(world.cash, world.issuer, USD, sender=world.issuer) for _ in range(6)]
        # Every block was sealed while nobody read: the queue kept the newest two and counted the rest.
        assert [o.block_number for o in outcomes] == list(range(head + 1, head + 7))
        items, dropped = stalled.take()
        assert [a.data["number"] for a in items] == [head + 5, head + 6]
        assert dropped == 4


def test_a_raw_transaction_of_an_unverified_sender_is_a_refusal_with_its_hash(registry: Registry) -> None:
    # What cast or a wallet meets through JSON-RPC: the chain itself reports the refusal.
    w3 = registry.chain("permissioned").w3
    (stranger,) = derived_keys("activity raw stranger", 1)
    signed = stranger.sign_transaction(
        {
            "chainId": w3.eth.chain_id,
            "nonce": 0,
            "to": stranger.address,
            "value": 0,
            "gas": 21_000,
            "maxFeePerGas": 10**10,
            "maxPriorityFeePerGas": 10**9,
        }
    )
    with registry.activity.subscribe(kinds={"refusal"}) as feed:
        with pytest.raises(Web3RPCError, match="not registered"):
            w3.eth.send_raw_transaction(signed.raw_transaction)
        refusal = next_of(feed, "refusal")
    assert refusal.data["tx_hash"] == "0x" + bytes(signed.hash).hex()
    assert (refusal.data["sender"], refusal.data["error"]) == (stranger.address, "unregistered")
