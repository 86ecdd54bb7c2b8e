"""Print a demo report for people: the steps as they ran, then the result table, one column per chain."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from registry.demos.report import DemoReport, DemoStep

MARKS = {"done": "[green]✓[/green]", "refused": "[yellow]✗[/yellow]", "info": "[blue]·[/blue]"}


def step_line(step: DemoStep) -> str:
    """One step as a line: mark, chain, step, what happened."""
    return f"{MARKS.get(step.status, '?')} [bold]{step.chain}[/bold] {step.step}: {step.detail}"


def render_report(console: Console, report: DemoReport, *, steps: bool = True) -> None:
    """Print ``report``: its steps (unless already shown as progress), the result table, the timings."""
    if steps:
        for step in report.steps:
            console.print(step_line(step))
    table = Table(title=f"demo {report.name}", show_lines=True, expand=True)
    for index, column in enumerate(report.columns):
        table.add_column(column, style="bold" if index == 0 else None, ratio=1 if index == 0 else 2)
    for row in report.rows:
        table.add_row(*row)
    console.print(table)
    if report.timings:
        console.print(
            "[dim]measured on this machine: "
            + ", ".join(f"{key} {value:g}" for key, value in report.timings.items())
            + "[/dim]"
        )
    for chain, line in report.chains.items():
        console.print(f"[dim]{chain}: {line}[/dim]")
