"""The client commands of ``registry``: one group per resource of the HTTP API (see `register`).

Each command reads the server's URL and API key from the root options (``registry --url URL --key KEY``,
or REGISTRY_URL and REGISTRY_API_KEY), calls one route or a few, and prints a Rich table, or JSON with
``--json``. The key is sent as a bearer token and never printed.
"""

# No ``from __future__ import annotations``: Typer reads each command's annotations at every start,
# and string annotations would be evaluated again each time (about half of building the commands).
from typing import Final

import typer

from registry.client.assets import assets_app
from registry.client.chains import blocks, chains, interventions_app, validators
from registry.client.common import example
from registry.client.investors import investors_app
from registry.client.live import demo_on_server, demos_on_server, events
from registry.client.payments import coupons_app, dividends_app
from registry.client.tokens import cap_table, freeze, mint, transfer, unfreeze

__all__ = ["demo_on_server", "demos_on_server", "example", "register"]


GROUPS: Final = (
    ("assets", assets_app),
    ("investors", investors_app),
    ("coupons", coupons_app),
    ("dividends", dividends_app),
    ("interventions", interventions_app),
)
COMMANDS: Final = (
    (
        "mint",
        mint,
        "registry mint bond-5f0c2a9d11e3b7a40c21 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed 100",
        "registry mint bond-5f0c2a9d11e3b7a40c21 --csv holders.csv",
    ),
    (
        "transfer",
        transfer,
        "registry transfer bond-5f0c2a9d11e3b7a40c21 0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359 5",
    ),
    ("cap-table", cap_table, "registry cap-table bond-5f0c2a9d11e3b7a40c21 --at 2026-07-01 --format csv"),
    (
        "freeze",
        freeze,
        "registry freeze bond-5f0c2a9d11e3b7a40c21 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    ),
    (
        "unfreeze",
        unfreeze,
        "registry unfreeze bond-5f0c2a9d11e3b7a40c21 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    ),
    ("chains", chains, "registry chains"),
    ("blocks", blocks, "registry blocks permissioned --limit 5"),
    ("validators", validators, "registry validators permissioned"),
    ("events", events, "registry events --kinds block,token-event --count 10"),
)
CLIENT_PANEL: Final = "Against a running server (registry serve)"


def register(app: typer.Typer) -> None:
    """Add the client commands and groups to ``app``."""
    for name, group in GROUPS:
        app.add_typer(group, name=name, rich_help_panel=CLIENT_PANEL)
    for name, function, *examples in COMMANDS:
        app.command(name, epilog=example(*examples), rich_help_panel=CLIENT_PANEL)(function)
