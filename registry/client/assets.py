"""registry assets: issue, list, show, events, pause, unpause."""

# No ``from __future__ import annotations``: Typer reads each command's annotations at every start,
# and string annotations would be evaluated again each time (about half of building the commands).
from typing import Annotated, Any

import typer

from registry.client.common import AsJson, ChainOpt, connected, drop_none, example, items_table, segment, sent
from registry.client.output import InputError, console, fields, reporting, show

assets_app = typer.Typer(
    help="Assets: issue a bond, a stock or a cash token; list and read them, their events; pause them.",
    no_args_is_help=True,
)


@assets_app.command(
    "issue",
    epilog=example(
        'registry assets issue cash --chain permissioned --name "Test USD" --symbol tUSD',
        'registry assets issue bond --chain permissioned --mode kyc --name "ACME 5% 2031" --symbol ACME31 '
        "--currency cash-0b6f3c1d2e4a5968778f --term isin=US0378331005 --term denomination=1000 "
        "--term issue_volume=1000000 --term coupon_rate_bps=500 --term coupon_frequency=2 "
        "--term issue_date=2026-01-01 --term maturity_date=2031-01-01",
    ),
)
def assets_issue(
    ctx: typer.Context,
    *,
    kind: Annotated[str, typer.Argument(help="bond, stock or cash.")],
    chain: ChainOpt,
    name: Annotated[str, typer.Option(help="The token's name.")],
    symbol: Annotated[str, typer.Option(help="The token's symbol.")],
    mode: Annotated[str, typer.Option(help="kyc (verified holders, compliance rules) or open.")] = "open",
    currency: Annotated[
        str | None, typer.Option(help="Bonds and stocks: the cash token they pay in (asset id or address).")
    ] = None,
    isin: Annotated[str | None, typer.Option(help="The ISIN (bonds: required; stocks: optional).")] = None,
    term: Annotated[
        list[str] | None,
        typer.Option(help="Another term as NAME=VALUE (repeat it): see GET /docs for each kind's terms."),
    ] = None,
    issuer: Annotated[str | None, typer.Option(help="The issuing address (an admin key names one).")] = None,
    as_json: AsJson = False,
) -> None:
    """Issue an asset on a chain, signed by custody as the issuer."""
    terms: dict[str, Any] = drop_none({"name": name, "symbol": symbol, "currency": currency, "isin": isin})
    for pair in term or ():
        key, equals, value = pair.partition("=")
        if not equals or not key.strip():
            with reporting():
                raise InputError(
                    f"--term {pair!r} is not NAME=VALUE (for example --term coupon_rate_bps=500)"
                )
        terms[key.strip()] = value.strip()
    body = {"kind": kind, "chain": chain, "terms": terms, "issuer": issuer}
    if kind != "cash":
        body["mode"] = mode
    with connected(ctx) as api:
        answer = api.post("/assets", drop_none(body))
    asset = answer["asset"]
    show(
        answer,
        as_json,
        lambda _: sent(
            answer,
            f"issued {asset['kind']} {asset['symbol']}: {asset['asset_id']} at {asset['address']} "
            f"on the {asset['chain']} chain",
        ),
    )


@assets_app.command("list", epilog=example("registry assets list --chain permissioned --kind bond"))
def assets_list(
    ctx: typer.Context,
    *,
    chain: Annotated[str | None, typer.Option("--chain", "-c", help="Only this chain's assets.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only bonds, stocks or cash tokens.")] = None,
    as_json: AsJson = False,
) -> None:
    """List the assets of the catalogue."""
    with connected(ctx) as api:
        found = list(api.items("/assets", {"chain": chain, "kind": kind}))
    show(
        found,
        as_json,
        lambda _: items_table(
            "assets", found, ("asset_id", "kind", "chain", "mode", "symbol", "name", "address")
        ),
    )


@assets_app.command("show", epilog=example("registry assets show bond-5f0c2a9d11e3b7a40c21"))
def assets_show(
    ctx: typer.Context, asset: Annotated[str, typer.Argument(help="The asset id.")], as_json: AsJson = False
) -> None:
    """Show one asset with its terms."""
    with connected(ctx) as api:
        found = api.get(f"/assets/{segment(asset)}")

    def render(_: Any) -> None:
        terms = found.get("terms") or {}
        console.print(
            fields(found["asset_id"], {key: value for key, value in found.items() if key != "terms"})
        )
        if terms:
            console.print(fields("terms", terms))

    show(found, as_json, render)


@assets_app.command("events", epilog=example("registry assets events bond-5f0c2a9d11e3b7a40c21 --limit 20"))
def assets_events(
    ctx: typer.Context,
    asset: Annotated[str, typer.Argument(help="The asset id.")],
    *,
    limit: Annotated[int | None, typer.Option(help="At most this many (default: all).", min=1)] = None,
    as_json: AsJson = False,
) -> None:
    """List an asset's indexed token events: block, transaction, event and its arguments."""
    found: list[dict[str, Any]] = []
    with connected(ctx) as api:
        for item in api.items(f"/assets/{segment(asset)}/events"):
            found.append(item)
            if limit is not None and len(found) >= limit:
                break
    rows = [
        {**item, "args": ", ".join(f"{key}={value}" for key, value in (item.get("args") or {}).items())}
        for item in found
    ]
    show(
        found,
        as_json,
        lambda _: items_table(
            f"events of {asset}",
            rows,
            ("block_number", "log_index", "event", "args", "tx_hash"),
            others=False,
        ),
    )


@assets_app.command("pause", epilog=example("registry assets pause bond-5f0c2a9d11e3b7a40c21"))
def assets_pause(
    ctx: typer.Context, asset: Annotated[str, typer.Argument(help="The asset id.")], as_json: AsJson = False
) -> None:
    """Pause every transfer of an asset (the issuer's enforcement role)."""
    with connected(ctx) as api:
        answer = api.post(f"/assets/{segment(asset)}/pause", {})
    show(answer, as_json, lambda _: sent(answer, f"paused {asset}"))


@assets_app.command("unpause", epilog=example("registry assets unpause bond-5f0c2a9d11e3b7a40c21"))
def assets_unpause(
    ctx: typer.Context, asset: Annotated[str, typer.Argument(help="The asset id.")], as_json: AsJson = False
) -> None:
    """Let an asset's transfers run again."""
    with connected(ctx) as api:
        answer = api.post(f"/assets/{segment(asset)}/unpause", {})
    show(answer, as_json, lambda _: sent(answer, f"unpaused {asset}"))
