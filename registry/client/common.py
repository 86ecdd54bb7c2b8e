"""What the client commands share: their common options, the client of the server the root options
name, and the printing of results."""

# No ``from __future__ import annotations``: Typer reads each command's annotations at every start,
# and string annotations would be evaluated again each time (about half of building the commands).
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.markup import escape

from registry.client.http import ApiClient, Remote
from registry.client.output import InputError, console, reporting, table, transaction_line

AsJson = Annotated[bool, typer.Option("--json", help="Print the server's answer as JSON (for scripts).")]
ChainOpt = Annotated[str, typer.Option("--chain", "-c", help="The chain: permissioned or permissionless.")]
Sender = Annotated[
    str | None,
    typer.Option(
        help="The address to sign as (one of the key's addresses; may be left out when the key has one)."
    ),
]


def example(*commands: str) -> str:
    """A help epilog showing ``commands``."""
    return "Example:\n\n" + "\n\n".join(f"  $ {command}" for command in commands)


@contextmanager
def connected(ctx: typer.Context) -> Iterator[ApiClient]:
    """A client of the server the root options name; the client's errors end the command in red."""
    remote = ctx.obj if isinstance(ctx.obj, Remote) else Remote()
    with reporting(), ApiClient(remote) as client:
        yield client


def segment(value: str) -> str:
    """``value`` as one path segment."""
    return quote(value, safe="")


def drop_none(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` without its None members (the server's defaults apply)."""
    return {key: value for key, value in body.items() if value is not None}


def when(value: str | None, name: str) -> str | None:
    """A date or time option as ISO 8601 with a time zone (a bare date is midnight UTC)."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            return f"{date.fromisoformat(value).isoformat()}T00:00:00Z"
    except ValueError:
        pass
    if "T" not in value and " " not in value:
        with reporting():
            raise InputError(f"{name} {value!r} is not a date (YYYY-MM-DD) or an ISO 8601 time")
    return value


def items_table(
    title: str, items: Sequence[dict[str, Any]], preferred: Sequence[str], *, others: bool = True
) -> None:
    """Print ``items`` as a table: the ``preferred`` columns present, then (``others``) the other scalar
    members, up to eight columns."""
    columns = [key for key in preferred if any(key in item for item in items)]
    for item in items if others else ():
        columns += [
            key
            for key, value in item.items()
            if key not in columns and not isinstance(value, dict | list) and len(columns) < 8
        ]
    console.print(table(title, columns, ([item.get(key) for key in columns] for item in items)))
    if not items:
        console.print("(none)")


def say(text: str) -> None:
    """Print ``text`` in green (what was done)."""
    console.print(f"[green]{escape(text)}[/green]")


def sent(body: dict[str, Any], summary: str) -> None:
    """Print what a sending call did and its transaction."""
    say(summary)
    if line := transaction_line(body):
        console.print(line)
