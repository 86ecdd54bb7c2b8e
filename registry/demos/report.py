"""The result of a demo: its steps in the order they ran, and a result table with one column per chain."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

StepStatus = Literal["done", "refused", "info"]
"""``done``: the step went through; ``refused``: a chain, a token or a rule said no (which the scenario
shows); ``info``: an observation that sent nothing."""


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

    def steps_of(self, chain: str) -> list[DemoStep]:
        """The steps of ``chain``, in order."""
        return [step for step in self.steps if step.chain == chain]

    def to_json(self) -> dict[str, Any]:
        """The report as plain JSON-able data."""
        return asdict(self)
