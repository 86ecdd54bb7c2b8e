"""Demos: the same assets on the permissioned and the permissionless chain, side by side.

Each scenario runs its steps on both chains and returns a `DemoReport`, which the CLI
prints as a table (or as JSON with ``--json``).
"""

from __future__ import annotations

from collections.abc import Callable

from registry.demos.report import DemoReport, StepOutcome

SCENARIOS: dict[str, str] = {
    "bond-lifecycle": "issue a bond, trade it, pay a coupon and redeem it at maturity, on both chains",
}
"""Scenario name -> one line saying what it shows."""

__all__ = ["SCENARIOS", "DemoReport", "StepOutcome", "run_scenario"]


def run_scenario(name: str, progress: Callable[[str, str], None] | None = None) -> DemoReport:
    """Run the scenario ``name`` on fresh embedded chains; ``progress(chain, step)`` hears of each step.

    Raises:
        ConfigurationError: no scenario has that name.
    """
    from registry.errors import ConfigurationError

    if name == "bond-lifecycle":
        from registry.demos.bond_lifecycle import run

        return run(progress)
    raise ConfigurationError(f"unknown demo {name!r}; the demos are: {', '.join(SCENARIOS)}")
