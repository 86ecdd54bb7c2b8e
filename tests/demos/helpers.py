"""Helpers of the scenario tests: run a scenario with its own seed, find a step, check a report's shape."""

from __future__ import annotations

import json

from registry.demos import DemoReport, run_scenario
from registry.demos.report import DemoStep
from registry.runtime import Registry
from tests.demos.conftest import HOLDERS

CHAINS = ("permissioned", "permissionless")


def run(
    registry: Registry, name: str, *, variant: str | None = None
) -> tuple[DemoReport, list[tuple[str, ...]]]:
    heard: list[tuple[str, ...]] = []
    report = run_scenario(
        registry,
        name,
        seed=f"test {name} {variant}",
        holders=HOLDERS,
        variant=variant,
        progress=lambda *args: heard.append(args),
    )
    return report, heard


def step(report: DemoReport, chain: str, title: str) -> DemoStep:
    found = [s for s in report.steps if s.chain == chain and s.step == title]
    assert found, f"no step {title!r} on {chain}: {[s.step for s in report.steps_of(chain)]}"
    return found[0]


def check_shape(report: DemoReport, heard: list[tuple[str, ...]]) -> None:
    """Steps on both chains, each heard by the progress callback; a table with one column per chain."""
    assert {s.chain for s in report.steps} >= set(CHAINS)
    assert heard == [(s.chain, s.step, s.status, s.detail) for s in report.steps]
    assert report.columns == ["", *CHAINS]
    assert report.rows and all(len(row) == 3 for row in report.rows)
    assert set(report.numbers) == set(CHAINS)
    assert json.loads(json.dumps(report.to_json()))["name"] == report.name
