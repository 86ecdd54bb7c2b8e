"""Printing: results as Rich tables (or JSON with ``--json``), errors in red on stderr with a non-zero exit.

Exit codes: 0 done; 1 the server refused or failed (its problem printed); 2 bad input found before
anything was sent (a usage error, a bad CSV row); 3 no server answered.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from registry.client.http import ApiProblemError, InputError, ServerUnreachableError

EXIT_PROBLEM: Final = 1
EXIT_INPUT: Final = 2
EXIT_UNREACHABLE: Final = 3

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)

__all__ = [
    "EXIT_INPUT",
    "EXIT_PROBLEM",
    "EXIT_UNREACHABLE",
    "InputError",
    "console",
    "errors",
    "fail",
    "reporting",
]


def fail(lines: Sequence[str], code: int) -> NoReturn:
    """Print ``lines`` in red on stderr and exit with ``code``."""
    first, *rest = lines
    errors.print(f"[bold red]error:[/bold red] [red]{escape(first)}[/red]")
    for line in rest:
        errors.print(f"[red]{escape(line)}[/red]")
    raise typer.Exit(code=code)


@contextmanager
def reporting() -> Iterator[None]:
    """Turn the client's errors into a red message and an exit code (never a traceback)."""
    try:
        yield
    except ApiProblemError as exc:
        fail(exc.lines, EXIT_PROBLEM)
    except ServerUnreachableError as exc:
        fail([str(exc)], EXIT_UNREACHABLE)
    except InputError as exc:
        fail(str(exc).splitlines() or ["bad input"], EXIT_INPUT)


def print_json(data: Any) -> None:
    """``data`` as indented JSON on stdout (no markup, no wrapping)."""
    typer.echo(json.dumps(data, indent=2, sort_keys=False))


def show(data: Any, as_json: bool, render: Callable[[Any], None]) -> None:
    """``data`` as JSON, or through ``render`` for people."""
    if as_json:
        print_json(data)
    else:
        render(data)


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    """A Rich table whose cells fold rather than being cut (addresses and hashes stay whole)."""
    made = Table(title=title, title_justify="left")
    for column in columns:
        made.add_column(column, overflow="fold")
    for row in rows:
        made.add_row(*(cell_text(cell) for cell in row))
    return made


def cell_text(value: Any) -> str:
    """A value as a table shows it (lists joined, None as a dash)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(cell_text(item) for item in value) or "-"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return escape(str(value))


def fields(title: str, data: dict[str, Any], keys: Sequence[str] | None = None) -> Table:
    """One record as a two-column table (``keys`` first, in order; the rest after)."""
    chosen = [key for key in (keys or ()) if key in data]
    chosen += [key for key in data if key not in chosen]
    return table(title, ("field", "value"), ((key, data[key]) for key in chosen))


def transaction_line(body: dict[str, Any]) -> str:
    """One line naming the transaction of a sending answer (hash, block, status)."""
    tx = body.get("transaction") if isinstance(body, dict) else None
    if not isinstance(tx, dict):
        return ""
    status = f" ({tx['status']})" if tx.get("status") else ""
    return f"transaction {tx.get('hash')} in block {tx.get('block_number')}{status}"
