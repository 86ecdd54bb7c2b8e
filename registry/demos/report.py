"""The result of a demo: its steps in the order they ran, and a result table with one column per chain."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

StepStatus = Literal["done", "refused", "info"]
"""``done``: the step went through; ``refused``: a chain, a token or a rule said no (which the scenario
shows); ``info``: an observation that sent nothing."""


MEASURED = re.compile(r"\{timing:([\w.]+):(ms|\.\df)\}")
"""A measured value inside a step's or a cell's text: ``{timing:KEY:FORMAT}`` stands for
``timings[KEY]`` (seconds, or a rate), shown as milliseconds (``ms``) or with that many decimals (``.1f``)."""


def measured(key: str, fmt: str = ".1f") -> str:
    """The placeholder of ``timings[key]`` in a text (see `MEASURED`): the JSON report keeps the placeholder,
    so that two runs print the same bytes, and people see the number (`DemoReport.filled`)."""
    if MEASURED.fullmatch(f"{{timing:{key}:{fmt}}}") is None:
        raise ValueError(f"not a measured value's key and format: {key!r}, {fmt!r}")
    return f"{{timing:{key}:{fmt}}}"


@dataclass(frozen=True)
class DemoStep:
    """One step on one chain, explained in one sentence."""

    chain: str
    """``permissioned``, ``permissionless``, or ``both`` for a step that concerns neither alone."""
    step: str
    status: StepStatus
    detail: str


@dataclass
class DemoReport:
    """A whole scenario run: its steps, its result table and, apart, the wall-clock timings."""

    name: str
    description: str
    chains: dict[str, str] = field(default_factory=dict)
    """Chain name -> one line describing the backend it ran on."""
    steps: list[DemoStep] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    """The result table's header: what is compared, then one column per chain."""
    rows: list[list[str]] = field(default_factory=list)
    numbers: dict[str, dict[str, int]] = field(default_factory=dict)
    """The result table's key figures as integers, per chain (what tests and programs read)."""
    timings: dict[str, float] = field(default_factory=dict)
    """Measured durations in seconds: the only part that differs between two runs."""

    def step(self, chain: str, step: str, status: StepStatus, detail: str) -> DemoStep:
        """Append a step."""
        made = DemoStep(chain, step, status, detail)
        self.steps.append(made)
        return made

    def row(self, label: str, *cells: object) -> None:
        """Append a result row: ``label`` and one cell per chain column."""
        self.rows.append([label, *(str(cell) for cell in cells)])

    def fill(self, text: str) -> str:
        """``text`` with its measured values (`measured`) written out from `timings`."""

        def value(match: re.Match[str]) -> str:
            key, fmt = match.group(1), match.group(2)
            if key not in self.timings:
                return "(not measured)"
            number = self.timings[key]
            return f"{number * 1000:.0f} ms" if fmt == "ms" else format(number, fmt)

        return MEASURED.sub(value, text)

    def filled(self) -> DemoReport:
        """A copy whose steps and rows show the measured values (for people; the JSON keeps placeholders)."""
        return replace(
            self,
            steps=[replace(step, detail=self.fill(step.detail)) for step in self.steps],
            rows=[[self.fill(cell) for cell in row] for row in self.rows],
        )

    def steps_of(self, chain: str) -> list[DemoStep]:
        """The steps of ``chain``, in order."""
        return [step for step in self.steps if step.chain == chain]

    def to_json(self) -> dict[str, Any]:
        """The report as plain JSON-able data."""
        return asdict(self)
