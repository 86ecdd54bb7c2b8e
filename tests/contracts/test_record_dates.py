"""Record dates of the regulated token base: scheduling and balance/supply snapshots (RegulatedTestToken).

The documented semantics: the balance at a record date is the balance just before the first block
whose timestamp is at or after that date.
"""

from __future__ import annotations

import pytest

from .helpers import DAY, events, expect_revert, tx


@pytest.fixture
def token(kyc_token, funded):
    """The kyc token with alice 1,000 and bob 500."""
    return funded(kyc_token)


def schedule(token, actors, date) -> int:
    record_id = int(token.functions.scheduleRecordDate(date).call({"from": actors.admin}))
    tx(token.functions.scheduleRecordDate(date), actors.admin)
    return record_id


def test_schedule_returns_sequential_ids_and_emits(token, actors, clock):
    now = clock.now()
    assert token.functions.recordDateCount().call() == 0
    for expected_id, date in enumerate((now + DAY, now + 2 * DAY, now + 2 * DAY + 1)):
        fn = token.functions.scheduleRecordDate(date)
        assert fn.call({"from": actors.admin}) == expected_id
        receipt = tx(fn, actors.admin)
        assert events(token, receipt) == [
            ("RecordDateScheduled", {"recordId": expected_id, "recordDate": date})
        ]
        assert token.functions.recordDate(expected_id).call() == date
    assert token.functions.recordDateCount().call() == 3


def test_schedule_errors(token, actors, clock):
    now = clock.now()
    for bad in (0, now - 1, now):
        with expect_revert(token, "RegulatedTokenInvalidRecordDate", bad):
            token.functions.scheduleRecordDate(bad).call({"from": actors.admin})
    schedule(token, actors, now + 10 * DAY)
    for bad in (now + 10 * DAY, now + 5 * DAY):
        with expect_revert(token, "RegulatedTokenInvalidRecordDate", bad):
            token.functions.scheduleRecordDate(bad).transact({"from": actors.admin})


@pytest.mark.parametrize(
    "view",
    [
        lambda t, a: t.functions.recordDate(0).call(),
        lambda t, a: t.functions.balanceAtRecord(a.alice, 0).call(),
        lambda t, a: t.functions.totalSupplyAtRecord(0).call(),
    ],
    ids=["recordDate", "balanceAtRecord", "totalSupplyAtRecord"],
)
def test_unknown_record(token, actors, view):
    with expect_revert(token, "RegulatedTokenUnknownRecord", 0):
        view(token, actors)


def test_snapshots_are_refused_before_the_date(token, actors, clock):
    date = clock.now() + DAY
    schedule(token, actors, date)
    with expect_revert(token, "RegulatedTokenRecordDateNotReached", 0, date):
        token.functions.balanceAtRecord(actors.alice, 0).call()
    with expect_revert(token, "RegulatedTokenRecordDateNotReached", 0, date):
        token.functions.totalSupplyAtRecord(0).call()
    clock.travel_to(date)
    assert token.functions.balanceAtRecord(actors.alice, 0).call() == 1_000


def test_a_block_at_the_record_date_is_after_the_snapshot(token, actors, clock):
    date = clock.now() + DAY
    schedule(token, actors, date)
    clock.travel_to(date - 2)
    tx(token.functions.transfer(actors.carol, 100), actors.alice)  # mined just before the date
    assert clock.now() < date
    tx(token.functions.transfer(actors.carol, 10), actors.alice)  # mined at the date (or later)
    assert clock.now() >= date
    assert token.functions.balanceAtRecord(actors.alice, 0).call() == 900
    assert token.functions.balanceAtRecord(actors.carol, 0).call() == 100
    assert token.functions.balanceOf(actors.alice).call() == 890


def test_snapshots_without_any_later_activity(token, actors, clock):
    date = clock.now() + DAY
    schedule(token, actors, date)
    clock.travel_to(date + 5 * DAY)
    # No transaction has synced the record epoch: the views still answer correctly.
    assert token.functions.balanceAtRecord(actors.alice, 0).call() == 1_000
    assert token.functions.balanceAtRecord(actors.carol, 0).call() == 0
    assert token.functions.totalSupplyAtRecord(0).call() == 1_500


def test_many_record_dates_with_sparse_activity(token, actors, clock):
    start = clock.now()
    dates = [start + (i + 1) * 10 * DAY for i in range(6)]
    for date in dates:
        schedule(token, actors, date)
    # Activity: between records 0 and 1, then nothing until after record 4, then between 4 and 5.
    clock.travel_to(dates[0] + DAY)
    tx(token.functions.transfer(actors.carol, 300), actors.alice)
    tx(token.functions.mint(actors.dave, 50), actors.admin)
    clock.travel_to(dates[4] + DAY)
    tx(token.functions.transfer(actors.alice, 100), actors.carol)
    tx(token.functions.burn(actors.bob, 500), actors.admin)
    clock.travel_to(dates[5])
    expected = {
        actors.alice: [1_000, 700, 700, 700, 700, 800],
        actors.bob: [500, 500, 500, 500, 500, 0],
        actors.carol: [0, 300, 300, 300, 300, 200],
        actors.dave: [0, 50, 50, 50, 50, 50],
    }
    for account, series in expected.items():
        assert [token.functions.balanceAtRecord(account, r).call() for r in range(6)] == series
    assert [token.functions.totalSupplyAtRecord(r).call() for r in range(6)] == [
        1_500,
        1_550,
        1_550,
        1_550,
        1_550,
        1_050,
    ]


def test_an_emptied_and_refilled_account(token, actors, clock):
    first, second, third = (clock.now() + i * DAY for i in (1, 2, 3))
    for date in (first, second, third):
        schedule(token, actors, date)
    clock.travel_to(first)
    tx(token.functions.transfer(actors.alice, 500), actors.bob)  # bob empty for record 1
    clock.travel_to(second)
    tx(token.functions.transfer(actors.bob, 200), actors.alice)
    clock.travel_to(third)
    assert [token.functions.balanceAtRecord(actors.bob, r).call() for r in range(3)] == [500, 0, 200]
    assert [token.functions.balanceAtRecord(actors.alice, r).call() for r in range(3)] == [
        1_000,
        1_500,
        1_300,
    ]


def test_enforcement_moves_respect_the_snapshot(token, registry, actors, clock):
    tx(registry.functions.addWallet(1, actors.outsider), actors.kyc)
    date = clock.now() + DAY
    schedule(token, actors, date)
    clock.travel_to(date)
    tx(token.functions.forcedTransfer(actors.bob, actors.carol, 200), actors.admin)
    tx(token.functions.recoverWallet(actors.alice, actors.outsider), actors.admin)
    tx(token.functions.burn(actors.carol, 50), actors.admin)
    assert token.functions.balanceAtRecord(actors.alice, 0).call() == 1_000
    assert token.functions.balanceAtRecord(actors.outsider, 0).call() == 0
    assert token.functions.balanceAtRecord(actors.bob, 0).call() == 500
    assert token.functions.balanceAtRecord(actors.carol, 0).call() == 0
    assert token.functions.totalSupplyAtRecord(0).call() == 1_500
    assert token.functions.totalSupply().call() == 1_450


def test_scheduling_after_earlier_dates_passed(token, actors, clock):
    first = clock.now() + DAY
    schedule(token, actors, first)
    clock.travel_to(first + DAY)
    second = clock.now() + DAY
    assert schedule(token, actors, second) == 1
    tx(token.functions.transfer(actors.carol, 1), actors.alice)
    clock.travel_to(second)
    assert token.functions.balanceAtRecord(actors.carol, 0).call() == 0
    assert token.functions.balanceAtRecord(actors.carol, 1).call() == 1
