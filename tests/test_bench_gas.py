"""The gas benchmark's verdict: it fails when a target is missed (no gas is asserted here)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from rich.console import Console

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

import bench_gas  # noqa: E402


def _rows(transfer: int, funding_large: int) -> list[bench_gas.Row]:
    return [
        bench_gas.Row("plain ERC-20 transfer (baseline)", 1_000),
        bench_gas.Row("transfer, kyc", transfer, bench_gas.KYC_TARGET),
        bench_gas.Row("coupon funding, 10 holders", 2_000),
        bench_gas.Row("coupon funding, 1,000 holders", funding_large),
    ]


@pytest.mark.parametrize(
    ("transfer", "funding_large", "met"),
    [(1_500, 2_000, True), (1_501, 2_000, False), (1_400, 2_001, False)],
    ids=["all met", "a ratio above its target", "funding grows with holders"],
)
def test_the_gas_report_fails_when_a_target_is_missed(transfer: int, funding_large: int, met: bool) -> None:
    out = io.StringIO()
    assert bench_gas.report(_rows(transfer, funding_large), Console(file=out, width=200)) is met
    assert ("some targets missed" in out.getvalue()) is not met
    assert f"{transfer / 1_000:.3f}" in out.getvalue()
