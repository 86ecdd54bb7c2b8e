"""scripts/bench_api.py measures what it says, both ways, at tiny sizes (no timing is asserted)."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

import bench_api  # noqa: E402


def test_the_api_bench_runs_both_ways_and_prints_every_row() -> None:
    console = Console(record=True, width=220)
    http = bench_api.run_http(4, 8, 2, console)
    local = bench_api.run_in_process(4, 8, 2, console)
    for side in (http, local):
        assert side.onboard_seconds > 0 and side.mint_seconds > 0
        assert side.transfers == 8 and len(side.transfer_ms) == 8 and side.rate > 0
        assert side.rss_mb > 0
    assert len(http.floor_ms) == 8 and http.floor_rate > 0
    assert local.cap_ms is not None and len(local.cap_ms) == 2
    # The cap-table route belongs to another part of the API: measured when served, said when not.
    assert http.cap_ms is None or len(http.cap_ms) == 2
    bench_api.report(console, 4, http, local)
    text = console.export_text()
    rows = (
        "onboard + mint 4",
        "transfers/s, 8 clients",
        "transfer p50",
        "floor: pre-signed",
        "cap table",
        "RSS",
    )
    for row in rows:
        assert row in text, row
    assert bench_api.percentile([1.0, 2.0, 3.0, 4.0, 100.0], 0.5) == 3.0
