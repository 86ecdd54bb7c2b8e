"""A report's measured values: placeholders in its texts, numbers in its timings, written out for people."""

from __future__ import annotations

import pytest

from registry.demos.report import DemoReport, measured


def test_measured_values_are_written_out_for_people_and_kept_apart_in_the_json() -> None:
    report = DemoReport("cost", "what it costs")
    report.columns = ["", "permissioned"]
    report.step("permissioned", "throughput", "info", f"{measured('p.tps')} per second")
    report.row("time to a sealed block", measured("p.sealed", "ms"))
    report.row("not measured here", measured("p.missing", ".2f"))
    report.timings.update({"p.tps": 43.456, "p.sealed": 0.0234})

    shown = report.filled()
    assert shown.steps[0].detail == "43.5 per second"
    assert shown.rows == [["time to a sealed block", "23 ms"], ["not measured here", "(not measured)"]]
    # The report itself (and so its JSON) keeps the placeholders: two runs differ only in timings.
    assert report.to_json()["steps"][0]["detail"] == "{timing:p.tps:.1f} per second"
    assert report.to_json()["rows"][0][1] == "{timing:p.sealed:ms}"


@pytest.mark.parametrize(("key", "fmt"), [("p tps", ".1f"), ("p.tps", "%d"), ("p.tps", ".12f"), ("", "ms")])
def test_a_malformed_placeholder_is_refused(key: str, fmt: str) -> None:
    with pytest.raises(ValueError, match="not a measured value"):
        measured(key, fmt)
