"""registry investors: add, list, show, revoke, and onboard a CSV file in one batch."""

# No ``from __future__ import annotations``: Typer reads each command's annotations at every start,
# and string annotations would be evaluated again each time (about half of building the commands).
from pathlib import Path
from typing import Annotated, Final

import typer

from registry.client.common import (
    AsJson,
    ChainOpt,
    Sender,
    connected,
    drop_none,
    example,
    items_table,
    segment,
    sent,
    when,
)
from registry.client.output import console, fields, reporting, show
from registry.client.tokens import batch

investors_app = typer.Typer(
    help="Investors: KYC onboarding in a chain's identity registry.", no_args_is_help=True
)

INVESTOR_COLUMNS: Final = (
    "investor_id",
    "chain",
    "wallets",
    "country",
    "kyc_state",
    "kyc_expires_at",
    "accredited",
)


@investors_app.command(
    "add",
    epilog=example(
        "registry investors add --chain permissioned --wallet 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed "
        "--country CH --kyc-expires 2027-12-31 --accredited"
    ),
)
def investors_add(
    ctx: typer.Context,
    *,
    chain: ChainOpt,
    wallet: Annotated[list[str], typer.Option(help="A wallet of the investor (repeat for several).")],
    country: Annotated[str, typer.Option(help="ISO 3166 country: alpha-2 (CH) or numeric (756).")],
    kyc_expires: Annotated[
        str | None, typer.Option(help="When its KYC expires: YYYY-MM-DD or ISO 8601 (default: never).")
    ] = None,
    accredited: Annotated[bool, typer.Option(help="An accredited investor.")] = False,
    professional: Annotated[bool, typer.Option(help="A professional investor.")] = False,
    sender: Sender = None,
    as_json: AsJson = False,
) -> None:
    """Register an investor (its wallets, country and KYC expiry) on a chain."""
    body = {
        "chain": chain,
        "wallets": wallet,
        "country": int(country) if country.isdigit() else country,
        "kyc_expires_at": when(kyc_expires, "--kyc-expires"),
        "accredited": accredited,
        "professional": professional,
        "sender": sender,
    }
    with connected(ctx) as api:
        answer = api.post("/investors", drop_none(body))
    show(
        answer,
        as_json,
        lambda _: sent(
            answer,
            f"investor {answer['investor_id']} registered on the {answer['chain']} chain "
            f"with {', '.join(answer['wallets'])}",
        ),
    )


@investors_app.command("list", epilog=example("registry investors list --chain permissioned"))
def investors_list(
    ctx: typer.Context,
    *,
    chain: Annotated[str | None, typer.Option("--chain", "-c", help="Only this chain's investors.")] = None,
    as_json: AsJson = False,
) -> None:
    """List the investors with their KYC state."""
    with connected(ctx) as api:
        found = list(api.items("/investors", {"chain": chain}))
    show(found, as_json, lambda _: items_table("investors", found, INVESTOR_COLUMNS))


@investors_app.command("show", epilog=example("registry investors show 3 --chain permissioned"))
def investors_show(
    ctx: typer.Context,
    *,
    investor_id: Annotated[int, typer.Argument(help="The investor's id in the chain's identity registry.")],
    chain: ChainOpt = "permissioned",
    as_json: AsJson = False,
) -> None:
    """Show an investor: wallets, country, KYC state."""
    with connected(ctx) as api:
        found = api.get(f"/investors/{segment(chain)}/{investor_id}")
    show(
        found,
        as_json,
        lambda _: console.print(fields(f"investor {investor_id} on {chain}", found, INVESTOR_COLUMNS)),
    )


@investors_app.command("revoke", epilog=example("registry investors revoke 3 --chain permissioned"))
def investors_revoke(
    ctx: typer.Context,
    *,
    investor_id: Annotated[int, typer.Argument(help="The investor's id.")],
    chain: ChainOpt = "permissioned",
    sender: Sender = None,
    as_json: AsJson = False,
) -> None:
    """Revoke an investor's KYC: its wallets may no longer hold kyc-mode tokens or send on the chain."""
    with connected(ctx) as api:
        answer = api.post(f"/investors/{segment(chain)}/{investor_id}/revoke", drop_none({"sender": sender}))
    show(answer, as_json, lambda _: sent(answer, f"investor {investor_id} revoked on the {chain} chain"))


@investors_app.command(
    "onboard", epilog=example("registry investors onboard --chain permissioned --csv investors.csv")
)
def investors_onboard(
    ctx: typer.Context,
    *,
    csv_file: Annotated[
        Path,
        typer.Option(
            "--csv",
            help="CSV with a header: wallet,country[,kyc_expires_at,accredited,professional] "
            "(country ISO 3166 numeric; one wallet per row).",
        ),
    ],
    chain: ChainOpt,
    sender: Sender = None,
    idempotency_key: Annotated[
        str | None,
        typer.Option(help="Resume a batch that stopped: the key the stopped run printed."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Onboard every investor of a CSV file in one batch. Every row is checked first: one bad row and
    nothing is sent; the server checks the whole batch again before it sends anything."""
    from registry.client.csvfiles import read_investors

    with reporting():
        rows = read_investors(csv_file)
    body = drop_none({"chain": chain, "investors": rows.items, "sender": sender})
    batch(
        ctx,
        "/investors/batch",
        body=body,
        lines=rows.lines,
        done="investors onboarded",
        key=idempotency_key,
        as_json=as_json,
    )
