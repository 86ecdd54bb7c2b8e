"""`registry demo`: the list, refusals, and a run on a fresh temporary registry whose JSON is the same
twice apart from the timings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from registry.cli import app


def test_the_list_names_every_scenario() -> None:
    result = CliRunner().invoke(app, ["demo", "--list"])
    assert result.exit_code == 0
    for name in ("hack", "censor", "access", "build", "bond", "stock", "cost", "agent-key"):
        assert name in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [(["demo", "nope"], "unknown demo 'nope'"), (["demo", "hack", "--variant", "x"], "has no variant 'x'")],
)
def test_bad_names_exit_2(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output


def test_a_run_touches_no_data_and_repeats_byte_for_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Settings from the environment must not steer the demo to someone's data.
    monkeypatch.setenv("REGISTRY_DATA_DIR", str(tmp_path / "users-data"))
    outputs = []
    for _ in range(2):
        result = CliRunner().invoke(app, ["demo", "access", "--json"])
        assert result.exit_code == 0, result.output
        report = json.loads(result.output)
        report.pop("timings")
        outputs.append(json.dumps(report, sort_keys=True))
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[0])["name"] == "access"
    assert not (tmp_path / "users-data").exists()
