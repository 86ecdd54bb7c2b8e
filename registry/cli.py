"""The ``registry`` command line.

Heavy modules (web3, py-evm) are imported inside the commands that need them,
so that ``registry --help`` starts quickly.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    help="Tokenized-asset registry: bonds and stock tokens on a permissioned and a permissionless chain.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()


@app.callback()
def main() -> None:
    """Tokenized-asset registry: bonds and stock tokens on a permissioned and a permissionless chain."""


@app.command()
def contracts() -> None:
    """List the compiled contracts this installation carries."""
    from registry.artifacts import known_contracts, load_artifact

    table = Table("contract", "compiler", "source hash")
    for name in known_contracts():
        artifact = load_artifact(name)
        table.add_row(name, artifact.compiler_version, artifact.source_hash[:16])
    console.print(table)
