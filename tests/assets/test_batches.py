"""Batch mints and transfers: chunked, every chunk checked before anything is sent (every refused item
named), reported item by item; a batch that stops or crashes half way is resumed by its id without doing
anything twice."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from eth_account import Account
from eth_utils.address import to_checksum_address

import registry.bulk.runner as runner_module
from registry.compliance import Rule
from registry.custody.batches import BatchOutcome, send_batch
from registry.errors import BatchStoppedError, ComplianceRefusedError, InvalidInputError
from tests.registry_fixtures import World


class Crash(BaseException):
    """The process dies here."""


def balances(world: World, asset: str, wallets: Sequence[str]) -> list[int]:
    return [world.registry.tokens.balance_of(asset, wallet) for wallet in wallets]


def nonce_of(world: World, address: str) -> int:
    return int(world.registry.chain(world.chain).w3.eth.get_transaction_count(to_checksum_address(address)))


def test_a_batch_mint_in_chunks_reports_every_item(world: World) -> None:
    bond = world.bond("kyc")
    wallets = [a.address for a in world.onboard(7)]
    seen: list[tuple[str, int, int]] = []
    report = world.registry.tokens.batch_mint(
        bond,
        [(w, 10 + i) for i, w in enumerate(wallets)],
        sender=world.issuer,
        max_items=3,
        progress=lambda stage, done, total: seen.append((stage, done, total)),
    )
    assert report.ok and report.transactions == 3
    assert balances(world, bond, wallets) == [10 + i for i in range(7)]
    assert [item.status for item in report.items] == ["landed"] * 7
    hashes = [item.tx_hash for item in report.items]
    assert hashes[0] == hashes[2] != hashes[3] == hashes[5] != hashes[6]
    assert report.block_number is not None and report.gas_used > 0
    assert seen[-1] == ("sending", 7, 7) and ("checking", 7, 7) in seen
    assert world.registry.context.journal.load(report.batch_id).state == "done"  # type: ignore[union-attr]


def test_a_batch_with_refused_items_names_each_and_sends_nothing(world: World) -> None:
    bond = world.bond("kyc")
    wallets = [a.address for a in world.onboard(4)]
    strangers = [Account.create().address for _ in range(2)]
    items = [
        (wallets[0], 1),
        (strangers[0], 1),
        (wallets[1], 1),
        (wallets[2], 1),
        (wallets[3], 1),
        (strangers[1], 1),
    ]
    before = nonce_of(world, world.issuer)
    with pytest.raises(ComplianceRefusedError) as caught:
        world.registry.tokens.batch_mint(bond, items, sender=world.issuer, max_items=2)
    assert sorted(caught.value.items) == [1, 5]
    assert [v.rule for v in caught.value.items[5]] == [Rule.RECEIVER_NOT_VERIFIED]
    assert strangers[1] in str(caught.value) and "Nothing was sent" in str(caught.value)
    assert nonce_of(world, world.issuer) == before
    assert balances(world, bond, wallets) == [0, 0, 0, 0]


def test_batch_items_are_validated_first(world: World) -> None:
    bond = world.bond("open")
    wallet = Account.create().address
    for items, field in (
        ([(wallet, 1), (wallet, 2)], "items[1].wallet"),
        ([(wallet, 0)], "items[0].amount"),
        ([("0x12", 1)], "items[0].wallet"),
        ([(wallet,)], "items[0]"),
        ([], "items"),
    ):
        with pytest.raises(InvalidInputError) as caught:
            world.registry.tokens.batch_mint(bond, items, sender=world.issuer)  # type: ignore[arg-type]
        assert caught.value.field == field


def test_a_batch_transfer_fits_the_senders_balance(world: World) -> None:
    tokens = world.registry.tokens
    bond = world.bond("kyc")
    source, *others = world.onboard(4)
    tokens.mint(bond, source.address, 30, sender=world.issuer)
    with pytest.raises(ComplianceRefusedError) as caught:
        tokens.batch_transfer(bond, [(o.address, 11) for o in others], sender=source.address)
    assert [v.rule for v in caught.value.violations] == [Rule.INSUFFICIENT_BALANCE]
    report = tokens.batch_transfer(
        bond, [(o.address, 10) for o in others], sender=source.address, max_items=2
    )
    assert report.ok and report.transactions == 2
    assert balances(world, bond, [source.address, *(o.address for o in others)]) == [0, 10, 10, 10]


def test_a_batch_stopped_half_way_says_what_landed_and_resumes_without_doubling(world: World) -> None:
    tokens = world.registry.tokens
    bond = world.bond("kyc")
    wallets = [a.address for a in world.onboard(6)]
    tokens.set_max_investors(bond, 3, sender=world.issuer)
    items = [(w, 5) for w in wallets]
    # Each chunk alone fits the limit (each is checked against the chain as it is); together they do not.
    with pytest.raises(BatchStoppedError) as caught:
        tokens.batch_mint(bond, items, sender=world.issuer, max_items=2)
    report = caught.value.report
    assert report.landed == [0, 1]
    # The chunks were in flight together: both later ones reverted on chain.
    assert report.failed == [2, 3, 4, 5] and report.items[2].status == "reverted"
    assert "ComplianceRuleViolated(rule=8" in (report.items[2].error or "")
    assert caught.value.batch_id == report.batch_id and report.batch_id in str(caught.value)
    assert balances(world, bond, wallets) == [5, 5, 0, 0, 0, 0]
    tokens.set_max_investors(bond, 0, sender=world.issuer)
    resumed = tokens.batch_mint(bond, items, sender=world.issuer, max_items=2, batch_id=report.batch_id)
    assert resumed.ok and resumed.batch_id == report.batch_id
    assert resumed.items[0].tx_hash == report.items[0].tx_hash  # the first chunk was not sent again
    assert balances(world, bond, wallets) == [5] * 6
    # Running it again sends nothing at all.
    before = nonce_of(world, world.issuer)
    again = tokens.batch_mint(bond, items, sender=world.issuer, max_items=2, batch_id=report.batch_id)
    assert again.ok and nonce_of(world, world.issuer) == before
    with pytest.raises(InvalidInputError) as other:
        tokens.batch_mint(bond, items[:5], sender=world.issuer, batch_id=report.batch_id)
    assert other.value.field == "batch_id"


def test_a_crash_after_the_first_chunk_landed_is_resumed_without_minting_twice(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    bond = world.bond("open")
    wallets = [Account.create().address for _ in range(6)]
    items = [(w, 7) for w in wallets]
    real = send_batch
    batch_ids: list[str] = []

    def dies_after_one(sender: Any, entries: list[Any], **options: Any) -> BatchOutcome:
        entry = world.registry.context.journal.entries(state="open")[-1]
        batch_ids.append(entry.id)
        real(sender, entries[:1], **options)
        raise Crash

    monkeypatch.setattr(runner_module, "send_batch", dies_after_one)
    with pytest.raises(Crash):
        world.registry.tokens.batch_mint(bond, items, sender=world.issuer, max_items=2)
    monkeypatch.setattr(runner_module, "send_batch", real)
    assert balances(world, bond, wallets) == [7, 7, 0, 0, 0, 0]
    journaled = world.registry.context.journal.load(batch_ids[0])
    assert journaled is not None and [c.state for c in journaled.chunks] == ["signed", "planned", "planned"]
    report = world.registry.tokens.batch_mint(
        bond, items, sender=world.issuer, max_items=2, batch_id=batch_ids[0]
    )
    assert report.ok
    assert balances(world, bond, wallets) == [7] * 6


def test_a_crash_between_journaling_and_submitting_sends_that_chunk_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    bond = world.bond("open")
    wallets = [Account.create().address for _ in range(4)]
    items = [(w, 3) for w in wallets]
    eth = world.registry.chain(world.chain).w3.eth
    real = eth.send_raw_transaction
    calls = {"count": 0}

    def dies_on_the_second(raw: Any) -> Any:
        calls["count"] += 1
        if calls["count"] == 2:
            raise Crash  # the hash is journaled; the node never saw the transaction
        return real(raw)

    monkeypatch.setattr(eth, "send_raw_transaction", dies_on_the_second)
    with pytest.raises(Crash):
        world.registry.tokens.batch_mint(bond, items, sender=world.issuer, max_items=2)
    monkeypatch.setattr(eth, "send_raw_transaction", real)
    entry = world.registry.context.journal.entries(state="open")[-1]
    assert [c.state for c in entry.chunks] == ["signed", "signed"]
    world.registry.sender(world.chain).nonces.resync(reason="the process restarted")
    report = world.registry.tokens.batch_mint(
        bond, items, sender=world.issuer, max_items=2, batch_id=entry.id
    )
    assert report.ok
    assert balances(world, bond, wallets) == [3] * 4
    assert report.items[2].tx_hash != entry.chunks[1].tx_hash  # a new transaction for the lost one


def test_a_transaction_whose_hash_cannot_be_journaled_is_never_sent(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    bond = world.bond("open")
    wallets = [Account.create().address for _ in range(2)]
    journal = world.registry.context.journal
    real_save = journal.save

    def disk_full(entry: Any) -> None:
        if any(chunk.state == "signed" for chunk in entry.chunks):
            raise OSError(28, "No space left on device")
        real_save(entry)

    monkeypatch.setattr(journal, "save", disk_full)
    before = nonce_of(world, world.issuer)
    with pytest.raises(BatchStoppedError) as caught:
        world.registry.tokens.batch_mint(bond, [(w, 1) for w in wallets], sender=world.issuer)
    assert caught.value.report.landed == [] and "No space left" in (caught.value.report.items[0].error or "")
    assert nonce_of(world, world.issuer) == before
    assert balances(world, bond, wallets) == [0, 0]


def test_a_client_signs_the_chunks_of_a_batch(world: World) -> None:
    registry = world.registry
    bond = world.bond("open")
    wallets = [Account.create().address for _ in range(5)]
    entries = registry.tokens.prepare_batch_mint(
        bond, [(w, 2) for w in wallets], sender=world.issuer, max_items=2
    )
    assert [list(e.items) for e in entries] == [[0, 1], [2, 3], [4]]
    assert all(e.tx.gas for e in entries)
    for entry in entries:
        unsigned = registry.prepare_unsigned(entry.tx)
        key = registry.context.keystore.unlock(world.issuer)  # type: ignore[union-attr]
        registry.submit_signed(key.sign_transaction(unsigned.as_dict()).raw_transaction, expected=unsigned)
    assert balances(world, bond, wallets) == [2] * 5


def test_a_batch_mint_on_anvil(anvil_world: World) -> None:
    bond = anvil_world.bond("kyc")
    wallets = [a.address for a in anvil_world.onboard(3)]
    report = anvil_world.registry.tokens.batch_mint(
        bond, [(w, 4) for w in wallets], sender=anvil_world.issuer, max_items=2
    )
    assert report.ok and report.transactions == 2
    assert balances(anvil_world, bond, wallets) == [4, 4, 4]
