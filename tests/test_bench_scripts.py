"""The benchmark harnesses measure what they say (small counts; no timing is asserted)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from registry.artifacts import load_artifact

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

import bench_chain  # noqa: E402
import bench_custody  # noqa: E402
import profile_transfer  # noqa: E402


def test_rounds_are_interleaved_and_the_median_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    order: list[str] = []
    real_run = bench_chain.run_transfers

    def recording_run(target: Any, token: Any, count: int, batch: int) -> bench_chain.Transfers:
        if batch == 50:
            order.append(type(target.w3.provider).__name__)
        return real_run(target, token, count, batch)

    monkeypatch.setattr(bench_chain, "run_transfers", recording_run)
    names = [bench_chain.BASELINE, "embedded permissionless"]
    results = bench_chain.measure_all(names, single_count=3, batched_count=100, rounds=2, batch=50)
    baseline, embedded = results[bench_chain.BASELINE], results["embedded permissionless"]
    assert len(baseline.rounds) == len(embedded.rounds) == 2
    assert baseline.batched == pytest.approx(sum(baseline.rounds) / 2)  # the median of two
    assert baseline.blocks == 100  # eth-tester mines one block per transaction
    assert 0 < embedded.blocks < 100  # a batch lands in few blocks
    assert embedded.single is not None and embedded.note == ""
    assert (baseline.path, embedded.path) == ("in process", "in process")
    assert len(embedded.phases) == 2 and all(send > 0 and receipt > 0 for send, receipt in embedded.phases)
    tester, ours = "EthereumTesterProvider", "EmbeddedProvider"
    assert order == [tester, ours, tester, ours]


def test_an_embedded_chain_is_measured_over_http_from_its_own_registry_node_process() -> None:
    name = "embedded permissionless over HTTP"
    with bench_chain.BACKENDS[name]() as target:
        provider = target.w3.provider
        assert type(provider).__name__ == "HTTPProvider"
        assert target.path == "HTTP"
        assert target.w3.eth.chain_id == bench_chain.PERMISSIONLESS_ID
        token = bench_chain.deploy_token(target)
        run = bench_chain.run_transfers(target, token, 20, 10)
        assert run.rate > 0
        assert 0 < run.blocks <= 20
        assert 1000 / run.rate == pytest.approx(run.send_ms + run.receipt_ms)
        # The node's CPU is split between its event loop (main thread) and its other threads.
        assert run.server_split_ms is not None
        assert all(part >= 0 for part in run.server_split_ms)


def test_a_process_cpu_is_split_between_its_main_thread_and_the_others() -> None:
    import os

    split = bench_chain.thread_cpu(os.getpid())
    total = bench_chain.process_cpu(os.getpid())
    assert split is not None and total is not None
    main, others = split
    assert main >= 0 and others >= 0
    assert main + others <= total  # read first; the process total also keeps ended threads' time
    assert bench_chain.thread_cpu(2**22 + 12345) is None  # no such process


def test_a_backend_that_fails_to_start_is_reported_not_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    @contextlib.contextmanager
    def broken() -> Iterator[Any]:
        raise OSError("no such binary")
        yield

    monkeypatch.setitem(bench_chain.BACKENDS, "broken", broken)
    results = bench_chain.measure_all(["broken"], single_count=1, batched_count=100, rounds=1)
    assert results["broken"].rounds == []
    assert results["broken"].batched is None
    assert "no such binary" in results["broken"].note


def test_the_phase_profile_measures_every_phase() -> None:
    phases = profile_transfer.measure(20)
    assert set(phases) == {
        "sign (eth-account)",
        "submit through web3.py",
        "seal (execute, roots, write)",
        "receipts through web3.py",
        "submit, dispatcher only",
        "receipts, dispatcher only",
    }
    assert all(seconds > 0 for seconds in phases.values())


def test_the_custody_benchmark_measures_every_way_and_every_transfer_lands(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ran: list[str] = []
    real_run = bench_custody._run

    def recording_run(way: str, handle: Any, sender: Any, txs: list[Any]) -> None:
        real_run(way, handle, sender, txs)
        token = handle.w3.eth.contract(address=txs[0].to, abi=load_artifact("PlainERC20").abi)
        holders = {handle.embedded.dev_accounts[2 + i].address for i in range(3)}
        assert sum(token.functions.balanceOf(holder).call() for holder in holders) == 3
        ran.append(way)

    monkeypatch.setattr(bench_custody, "_run", recording_run)
    rates = bench_custody.measure_chain("permissionless", 3)
    assert ran == list(bench_custody.WAYS)
    assert set(rates) == set(bench_custody.WAYS) and all(rate > 0 for rate in rates.values())
    assert bench_custody.measure_estimate("permissionless", 2) > 0
    created, unlocked = bench_custody.measure_keystore(2)
    assert created > 0 and unlocked > 0


def test_the_index_benchmark_indexes_every_log_and_pages_the_holders(tmp_path: Path) -> None:
    import bench_index

    built = bench_index.build_chain(tmp_path / "data", holders=20, transfers=60, seed=1)
    try:
        db, asset_id, result = bench_index.index_chain(built, f"sqlite:///{tmp_path / 'index.sqlite3'}")
        try:
            assert result.events == bench_index.read_logs_with_web3(built).events
            assert result.events >= 20 + 60  # every mint and transfer, plus the role grants
            page = bench_index.cap_page(db, asset_id, None)
            assert len(page.entries) == 20 + bench_index.SENDERS
            assert page.entries[0].balance >= page.entries[-1].balance
            largest = bench_index.naive_page(db, asset_id, page.block.number)[0]
            assert largest[0] == page.entries[0].balance_raw
            assert bench_index.versions(db, asset_id) >= len(page.entries)
        finally:
            db.close()
    finally:
        built.handle.close()
