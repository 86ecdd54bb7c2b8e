"""The result of a demo: for each step, what happened on each chain."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class StepOutcome:
    """What one step did on one chain."""

    ok: bool
    """Whether the step went through (a refusal the scenario expects is ``ok=False``)."""
    detail: str
    """One sentence for people."""
    gas: int | None = None
    """Gas used by the step's transactions, if it sent any."""


@dataclass
class DemoStep:
    """One step of a scenario and its outcome per chain."""

    title: str
    outcomes: dict[str, StepOutcome] = field(default_factory=dict)


@dataclass
class DemoReport:
    """A whole scenario run: its steps in order, and the chains it ran on."""

    scenario: str
    chains: dict[str, str]
    """Chain name -> one line describing the backend it ran on."""
    steps: list[DemoStep] = field(default_factory=list)

    def record(self, title: str, chain: str, outcome: StepOutcome) -> None:
        """Add ``outcome`` of step ``title`` on ``chain`` (steps keep their first-seen order)."""
        for step in self.steps:
            if step.title == title:
                step.outcomes[chain] = outcome
                return
        self.steps.append(DemoStep(title, {chain: outcome}))

    def to_json(self) -> dict[str, Any]:
        """The report as plain JSON-able data."""
        return asdict(self)
