"""Print a demo report for people: one row per step, one column per chain."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from registry.demos.report import DemoReport, StepOutcome


def _cell(outcome: StepOutcome | None) -> str:
    if outcome is None:
        return "[dim]not run[/dim]"
    mark = "[green]✓[/green]" if outcome.ok else "[yellow]✗[/yellow]"
    gas = f"\n[dim]{outcome.gas:,} gas[/dim]" if outcome.gas else ""
    return f"{mark} {outcome.detail}{gas}"


def render_report(console: Console, report: DemoReport) -> None:
    """Print ``report`` as a side-by-side table, then the backends it ran on."""
    chains = list(report.chains)
    table = Table(title=f"demo: {report.scenario}", show_lines=True, expand=True)
    table.add_column("step", style="bold", width=16)
    for chain in chains:
        table.add_column(chain, ratio=3)
    for step in report.steps:
        table.add_row(step.title, *(_cell(step.outcomes.get(chain)) for chain in chains))
    console.print(table)
    for chain, line in report.chains.items():
        console.print(f"[dim]{chain}: {line}[/dim]")
