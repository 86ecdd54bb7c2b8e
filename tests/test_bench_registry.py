"""The service-layer benchmark does the work it reports (small counts; no timing is asserted)."""

from __future__ import annotations

import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

import bench_registry  # noqa: E402


def test_every_way_onboards_and_mints_what_it_says(tmp_path: Path) -> None:
    bench = bench_registry.open_bench(tmp_path, "permissioned")
    try:
        service = bench_registry.run_services(bench, 5)
        tokens, investors = bench.registry.tokens, bench.registry.investors
        for label, count in (("services", 5),):
            for wallet in bench_registry.wallets(label, count):
                assert tokens.balance_of(bench.bond, wallet) == 10
                assert investors.investor_of("permissioned", wallet) > 0
        assert service.transactions == 2 and service.total > 0 and service.checking_seconds > 0
        index = bench_registry.run_index(bench, service, tmp_path, repeats=3)
        assert index.reindex_events >= 10 and len(index.now_ms) == len(index.past_ms) == 3
        assert bench_registry.run_baseline(bench, 2) > 0
        assert bench_registry.run_unchecked(bench, 3, register_chunk=2, mint_chunk=2) > 0
        for label, count in (("baseline", 2), ("unchecked", 3)):
            for wallet in bench_registry.wallets(label, count):
                assert tokens.balance_of(bench.bond, wallet) == 10
    finally:
        bench.registry.close()
    assert bench_registry.percentile([3.0, 1.0, 2.0], 0.5) == 2.0
