"""The client commands of ``registry``: one group per resource of the HTTP API (see `register`).

Each command reads the server's URL and API key from the root options (``registry --url URL --key KEY``,
or REGISTRY_URL and REGISTRY_API_KEY), calls one route or a few, and prints a Rich table, or JSON with
``--json``. The key is sent as a bearer token and never printed.
"""

# No ``from __future__ import annotations`` here: Typer reads each command's annotations at every start,
# and string annotations would be evaluated again each time (about half of building the commands).
import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Final
from urllib.parse import quote

import typer
from rich.markup import escape

from registry.client.http import ApiClient, Remote
from registry.client.output import (
    EXIT_PROBLEM,
    InputError,
    cell_text,
    console,
    fail,
    fields,
    print_json,
    reporting,
    show,
    table,
    transaction_line,
)

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


# -- assets -----------------------------------------------------------------------------------------

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


# -- investors --------------------------------------------------------------------------------------

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


# -- tokens: mint, transfer, cap table, freezes ----------------------------------------------------


def batch(
    ctx: typer.Context,
    path: str,
    *,
    body: dict[str, Any],
    lines: Sequence[int],
    done: str,
    key: str | None,
    as_json: bool,
    poll: float = 0.3,
) -> None:
    """Send a batch with a progress bar (the server's own progress, read from GET /batches/{batch_id}
    while the request runs); print what became of every item (by CSV line); exit 1 unless all landed."""
    import threading
    import uuid

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from registry.client.http import ClientError, batch_id_of

    key = key or f"cli-{uuid.uuid4()}"
    remote = ctx.obj if isinstance(ctx.obj, Remote) else Remote()
    batch_id = batch_id_of(remote.key, key)
    outcome: dict[str, Any] = {}
    with connected(ctx) as api, connected(ctx) as watcher:

        def work() -> None:
            try:
                outcome["answer"] = api.post(path, body, idempotency_key=key)
            except Exception as exc:  # handed to the main thread, which reports it
                outcome["error"] = exc

        worker = threading.Thread(target=work, name="registry-batch", daemon=True)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=as_json,
        ) as progress:
            # The bar pulses until the server reports its stage: checking the chunks, then sending them.
            task = progress.add_task(f"sending {len(lines)} items", total=None)
            worker.start()
            while worker.is_alive():
                worker.join(poll)
                if batch_id is None or not worker.is_alive():
                    continue
                try:
                    running = watcher.get(f"/batches/{segment(batch_id)}").get("progress")
                except ClientError:
                    continue  # not journaled yet, or this server keeps no progress: keep pulsing
                if isinstance(running, dict) and running.get("total"):
                    progress.update(
                        task,
                        total=running["total"],
                        completed=running.get("done", 0),
                        description=f"{running.get('stage', 'sending')} {len(lines)} items",
                    )
            if "error" in outcome:
                raise outcome["error"]
            answer = outcome["answer"]
            landed = sum(1 for item in answer.get("items", ()) if item.get("status") == "landed")
            progress.update(task, total=len(lines), completed=landed, description=f"{done}: {landed} landed")
    failed = [item for item in answer.get("items", ()) if item.get("status") != "landed"]
    if as_json:
        print_json(answer)
    else:
        console.print(
            f"batch {answer.get('batch_id')}: {landed} of {len(lines)} landed in "
            f"{answer.get('transactions')} transaction(s), gas {answer.get('gas_used')}"
        )
    if failed:
        problems = [
            f"line {lines[item['index']]}: {item.get('status')}: {item.get('error') or 'not sent'}"
            for item in failed
            if 0 <= item.get("index", -1) < len(lines)
        ]
        fail(
            [
                f"{len(failed)} of {len(lines)} items did not land (batch {answer.get('state', 'stopped')})",
                *problems[:20],
                f"run the same command with --idempotency-key {key} to send only what did not land",
            ],
            EXIT_PROBLEM,
        )


def mint(
    ctx: typer.Context,
    *,
    asset: Annotated[str, typer.Argument(help="The asset id.")],
    to: Annotated[str | None, typer.Argument(help="The receiving wallet.")] = None,
    amount: Annotated[str | None, typer.Argument(help="How many, in the asset's units.")] = None,
    csv_file: Annotated[
        Path | None,
        typer.Option("--csv", help="Mint to every holder of a CSV file with a header: to,amount."),
    ] = None,
    sender: Sender = None,
    idempotency_key: Annotated[
        str | None, typer.Option(help="With --csv: resume a batch that stopped (the key it printed).")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Mint new tokens of an asset to a wallet, or to every holder of a CSV file in one batch."""
    if csv_file is not None:
        if to is not None or amount is not None:
            with reporting():
                raise InputError("give either TO AMOUNT or --csv FILE, not both")
        from registry.client.csvfiles import read_holders

        with reporting():
            rows = read_holders(csv_file)
        body = drop_none({"items": rows.items, "sender": sender})
        batch(
            ctx,
            f"/assets/{segment(asset)}/mint/batch",
            body=body,
            lines=rows.lines,
            done="minted",
            key=idempotency_key,
            as_json=as_json,
        )
        return
    if to is None or amount is None:
        with reporting():
            raise InputError("give TO and AMOUNT (or --csv FILE): registry mint ASSET TO AMOUNT")
    with connected(ctx) as api:
        answer = api.post(
            f"/assets/{segment(asset)}/mint", drop_none({"to": to, "amount": amount, "sender": sender})
        )
    show(answer, as_json, lambda _: sent(answer, f"minted {amount} {asset} to {to}"))


def transfer(
    ctx: typer.Context,
    *,
    asset: Annotated[str, typer.Argument(help="The asset id.")],
    to: Annotated[str, typer.Argument(help="The receiving wallet.")],
    amount: Annotated[str, typer.Argument(help="How many, in the asset's units.")],
    sender: Sender = None,
    as_json: AsJson = False,
) -> None:
    """Transfer tokens from the key's wallet (or --sender) to another wallet; a compliance refusal lists
    every rule the transfer breaks."""
    with connected(ctx) as api:
        answer = api.post(
            f"/assets/{segment(asset)}/transfers", drop_none({"to": to, "amount": amount, "sender": sender})
        )
    show(answer, as_json, lambda _: sent(answer, f"transferred {amount} {asset} to {to}"))


CAP_TABLE_COLUMNS: Final = ("wallet", "balance", "share", "investor_id", "country", "kyc_state", "frozen")


def cap_table(
    ctx: typer.Context,
    *,
    asset: Annotated[str, typer.Argument(help="The asset id.")],
    at: Annotated[str | None, typer.Option(help="As of a date or time (YYYY-MM-DD or ISO 8601).")] = None,
    block: Annotated[int | None, typer.Option(help="As of a block number.", min=0)] = None,
    output: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    as_json: AsJson = False,
) -> None:
    """Show an asset's holders with their balances, investors and KYC state, now or as of a block or date."""
    if output not in ("table", "csv", "json"):
        with reporting():
            raise InputError(f"--format {output!r}: choose table, csv or json")
    with connected(ctx) as api:
        query = {"at": when(at, "--at"), "block": block}
        pages = list(api.pages(f"/assets/{segment(asset)}/cap-table", query))
    holders = [holder for page in pages for holder in page["items"]]
    if as_json or output == "json":
        print_json({**pages[0], "items": holders, "next_cursor": None})
        return
    flat = [_flatten(holder) for holder in holders]
    if output == "csv":
        import csv
        import io

        columns = list(dict.fromkeys(key for holder in flat for key in holder))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(flat)
        typer.echo(buffer.getvalue(), nl=False)
        return
    as_of = pages[0].get("block")
    block_text = ""
    if isinstance(as_of, dict):
        block_text = f" as of block #{as_of.get('number')} ({as_of.get('timestamp')})"
    supply = f", supply {pages[0]['total_supply']}" if "total_supply" in pages[0] else ""
    items_table(f"cap table of {asset}{block_text}{supply}", flat, CAP_TABLE_COLUMNS)


def _flatten(item: dict[str, Any]) -> dict[str, Any]:
    """Nested objects one level up (``investor.kyc_state`` -> ``kyc_state`` when free, else dotted)."""
    flat: dict[str, Any] = {}
    for key, value in item.items():
        if isinstance(value, dict):
            for inner, inner_value in value.items():
                flat[inner if inner not in item and inner not in flat else f"{key}.{inner}"] = inner_value
        else:
            flat[key] = value
    return flat


def freeze(
    ctx: typer.Context,
    *,
    asset: Annotated[str, typer.Argument(help="The asset id.")],
    account: Annotated[str, typer.Argument(help="The wallet to freeze.")],
    amount: Annotated[
        str | None, typer.Option(help="Freeze only this many tokens (ERC-7943); default: the whole account.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Freeze a wallet's tokens of one asset (the issuer's token-level freeze; the chain-wide freeze of
    the permissioned chain is an intervention: `registry interventions propose`)."""
    with connected(ctx) as api:
        answer = api.post(
            f"/assets/{segment(asset)}/freezes", drop_none({"account": account, "amount": amount})
        )
    show(answer, as_json, lambda _: sent(answer, f"froze {amount or 'every'} {asset} of {account}"))


def unfreeze(
    ctx: typer.Context,
    *,
    asset: Annotated[str, typer.Argument(help="The asset id.")],
    account: Annotated[str, typer.Argument(help="The wallet to unfreeze.")],
    as_json: AsJson = False,
) -> None:
    """Lift a wallet's freeze on one asset."""
    with connected(ctx) as api:
        answer = api.delete(f"/assets/{segment(asset)}/freezes/{segment(account)}")
    show(answer or {}, as_json, lambda _: sent(answer or {}, f"unfroze {account} on {asset}"))


# -- coupons and dividends --------------------------------------------------------------------------

coupons_app = typer.Typer(help="Bond coupons: schedule, fund, claim, sweep.", no_args_is_help=True)
dividends_app = typer.Typer(help="Stock dividends: declare, claim, sweep.", no_args_is_help=True)


@coupons_app.command("list", epilog=example("registry coupons list bond-5f0c2a9d11e3b7a40c21"))
def coupons_list(
    ctx: typer.Context,
    *,
    asset: Annotated[str, typer.Argument(help="The bond's asset id.")],
    as_json: AsJson = False,
) -> None:
    """List a bond's coupon periods: record date, funded, claimed, outstanding."""
    with connected(ctx) as api:
        found = list(api.items(f"/assets/{segment(asset)}/coupons"))
    show(
        found,
        as_json,
        lambda _: items_table(
            f"coupons of {asset}",
            found,
            (
                "period_id",
                "record_date",
                "coupon_per_bond",
                "funded",
                "funded_amount",
                "claimed_amount",
                "outstanding",
            ),
        ),
    )


@coupons_app.command(
    "schedule", epilog=example("registry coupons schedule bond-5f0c2a9d11e3b7a40c21 --record-date 2026-07-01")
)
def coupons_schedule(
    ctx: typer.Context,
    *,
    asset: Annotated[str, typer.Argument(help="The bond's asset id.")],
    record_date: Annotated[
        str, typer.Option(help="Holders at this moment earn the coupon (YYYY-MM-DD or ISO 8601).")
    ],
    sender: Sender = None,
    as_json: AsJson = False,
) -> None:
    """Schedule a coupon period with its record date."""
    with connected(ctx) as api:
        answer = api.post(
            f"/assets/{segment(asset)}/coupons",
            drop_none({"record_date": when(record_date, "--record-date"), "sender": sender}),
        )
    show(
        answer,
        as_json,
        lambda _: sent(
            answer,
            f"coupon period {answer.get('period_id')} scheduled, record date {answer.get('record_date')}",
        ),
    )


def _payment_action(ctx: typer.Context, path: str, body: dict[str, Any], as_json: bool, summary: str) -> None:
    with connected(ctx) as api:
        answer = api.post(path, drop_none(body))
    amount = f": {answer['amount']}" if isinstance(answer, dict) and "amount" in answer else ""
    show(answer, as_json, lambda _: sent(answer, f"{summary}{amount}"))


@coupons_app.command("fund", epilog=example("registry coupons fund bond-5f0c2a9d11e3b7a40c21 0"))
def coupons_fund(
    ctx: typer.Context,
    *,
    asset: Annotated[str, typer.Argument(help="The bond's asset id.")],
    period: Annotated[int, typer.Argument(help="The coupon period's id.")],
    sender: Sender = None,
    as_json: AsJson = False,
) -> None:
    """Pay a period's coupons in (the supply at the record date times the coupon)."""
    _payment_action(
        ctx,
        f"/assets/{segment(asset)}/coupons/{period}/fund",
        {"sender": sender},
        as_json,
        f"funded coupon period {period}",
    )


@coupons_app.command(
    "claim",
    epilog=example(
        "registry coupons claim bond-5f0c2a9d11e3b7a40c21 0 "
        "--holder 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    ),
)
def coupons_claim(
    ctx: typer.Context,
    *,
    asset: Annotated[str, typer.Argument(help="The bond's asset id.")],
    period: Annotated[int, typer.Argument(help="The coupon period's id.")],
    holder: Annotated[
        str | None, typer.Option(help="Claim for this holder (the paying agent); default: your own.")
    ] = None,
    sender: Sender = None,
    as_json: AsJson = False,
) -> None:
    """Claim a coupon: the cash goes to the holder."""
    _payment_action(
        ctx,
        f"/assets/{segment(asset)}/coupons/{period}/claim",
        {"holder": holder, "sender": sender},
        as_json,
        f"claimed coupon period {period}",
    )


@coupons_app.command("sweep", epilog=example("registry coupons sweep bond-5f0c2a9d11e3b7a40c21 0"))
def coupons_sweep(
    ctx: typer.Context,
    *,
    asset: Annotated[str, typer.Argument(help="The bond's asset id.")],
    period: Annotated[int, typer.Argument(help="The coupon period's id.")],
    sender: Sender = None,
    as_json: AsJson = False,
) -> None:
    """Take back the unclaimed cash of a period once its claim period is over."""
    _payment_action(
        ctx,
        f"/assets/{segment(asset)}/coupons/{period}/sweep",
        {"sender": sender},
        as_json,
        f"swept coupon period {period}",
    )


@dividends_app.command("list", epilog=example("registry dividends list stock-7d1e0c2b3a4f5e6d7c8b"))
def dividends_list(
    ctx: typer.Context,
    *,
    asset: Annotated[str, typer.Argument(help="The stock's asset id.")],
    as_json: AsJson = False,
) -> None:
    """List a stock's dividends: record date, amount, claimed, outstanding."""
    with connected(ctx) as api:
        found = list(api.items(f"/assets/{segment(asset)}/dividends"))
    show(
        found,
        as_json,
        lambda _: items_table(
            f"dividends of {asset}",
            found,
            ("dividend_id", "record_date", "amount", "claimed_amount", "claims", "outstanding"),
        ),
    )


@dividends_app.command(
    "declare",
    epilog=example(
        "registry dividends declare stock-7d1e0c2b3a4f5e6d7c8b --amount 40000 --record-date 2026-07-01"
    ),
)
def dividends_declare(
    ctx: typer.Context,
    *,
    asset: Annotated[str, typer.Argument(help="The stock's asset id.")],
    amount: Annotated[
        str, typer.Option(help="The whole dividend in the cash token's units, shared pro rata.")
    ],
    record_date: Annotated[
        str, typer.Option(help="Holders at this moment share it (YYYY-MM-DD or ISO 8601).")
    ],
    sender: Sender = None,
    as_json: AsJson = False,
) -> None:
    """Declare a dividend, paid in at once from the sender's cash."""
    body = {"amount": amount, "record_date": when(record_date, "--record-date"), "sender": sender}
    _payment_action(ctx, f"/assets/{segment(asset)}/dividends", body, as_json, "dividend declared")


@dividends_app.command("claim", epilog=example("registry dividends claim stock-7d1e0c2b3a4f5e6d7c8b 0"))
def dividends_claim(
    ctx: typer.Context,
    *,
    asset: Annotated[str, typer.Argument(help="The stock's asset id.")],
    dividend: Annotated[int, typer.Argument(help="The dividend's id.")],
    holder: Annotated[
        str | None, typer.Option(help="Claim for this holder (the paying agent); default: your own.")
    ] = None,
    sender: Sender = None,
    as_json: AsJson = False,
) -> None:
    """Claim a dividend: the cash goes to the holder."""
    _payment_action(
        ctx,
        f"/assets/{segment(asset)}/dividends/{dividend}/claim",
        {"holder": holder, "sender": sender},
        as_json,
        f"claimed dividend {dividend}",
    )


@dividends_app.command("sweep", epilog=example("registry dividends sweep stock-7d1e0c2b3a4f5e6d7c8b 0"))
def dividends_sweep(
    ctx: typer.Context,
    *,
    asset: Annotated[str, typer.Argument(help="The stock's asset id.")],
    dividend: Annotated[int, typer.Argument(help="The dividend's id.")],
    sender: Sender = None,
    as_json: AsJson = False,
) -> None:
    """Take back a dividend's unclaimed cash once its claim period is over."""
    _payment_action(
        ctx,
        f"/assets/{segment(asset)}/dividends/{dividend}/sweep",
        {"sender": sender},
        as_json,
        f"swept dividend {dividend}",
    )


# -- chains, validators, interventions --------------------------------------------------------------


def chains(ctx: typer.Context, as_json: AsJson = False) -> None:
    """List the chains: chain id, backend, JSON-RPC URL, head and indexed head."""
    with connected(ctx) as api:
        found = list(api.items("/chains"))
    show(
        found,
        as_json,
        lambda _: items_table(
            "chains", found, ("name", "chain_id", "backend", "head", "indexed_head", "rpc_url")
        ),
    )


def blocks(
    ctx: typer.Context,
    *,
    chain: Annotated[str, typer.Argument(help="permissioned or permissionless.")],
    limit: Annotated[int, typer.Option(help="How many blocks.", min=1, max=200)] = 10,
    as_json: AsJson = False,
) -> None:
    """List a chain's blocks (the first page the server answers)."""
    with connected(ctx) as api:
        found = api.get(f"/chains/{segment(chain)}/blocks", {"limit": limit})["items"]
    show(
        found,
        as_json,
        lambda _: items_table(
            f"blocks of {chain}",
            [{**block, "transactions": len(block.get("transactions", []))} for block in found],
            ("number", "hash", "timestamp", "transactions", "gas_used"),
            others=False,
        ),
    )


def validators(
    ctx: typer.Context,
    *,
    chain: Annotated[
        str, typer.Argument(help="The chain (only the permissioned one has validators).")
    ] = "permissioned",
    as_json: AsJson = False,
) -> None:
    """Show a chain's validators, the quorum a block or an intervention needs, and the history of votes."""
    with connected(ctx) as api:
        found = api.get(f"/chains/{segment(chain)}/validators")

    def render(_: Any) -> None:
        current = found.get("current") or []
        rows = [item if isinstance(item, dict) else {"address": item} for item in current]
        items_table(
            f"validators of {chain} (threshold {found.get('threshold')})",
            rows,
            ("address", "name", "since_block"),
        )
        history = found.get("history") or []
        if history:
            items_table(
                "history",
                [item if isinstance(item, dict) else {"change": item} for item in history],
                ("block_number", "action", "validator"),
            )

    show(found, as_json, render)


interventions_app = typer.Typer(
    help="Interventions on the permissioned chain: a validator quorum freezes accounts chain-wide or rolls "
    "the chain back.",
    no_args_is_help=True,
)
INTERVENTION_COLUMNS: Final = ("id", "kind", "status", "reason", "signers", "accounts", "to_block")


@interventions_app.command("list", epilog=example("registry interventions list permissioned"))
def interventions_list(
    ctx: typer.Context,
    *,
    chain: Annotated[str, typer.Argument(help="The chain.")] = "permissioned",
    as_json: AsJson = False,
) -> None:
    """List the interventions of a chain with their status and signers."""
    with connected(ctx) as api:
        found = list(api.items(f"/chains/{segment(chain)}/interventions"))
    show(found, as_json, lambda _: items_table(f"interventions on {chain}", found, INTERVENTION_COLUMNS))


@interventions_app.command("show", epilog=example("registry interventions show permissioned 1"))
def interventions_show(
    ctx: typer.Context,
    *,
    chain: Annotated[str, typer.Argument(help="The chain.")],
    intervention: Annotated[str, typer.Argument(help="The intervention's id.")],
    as_json: AsJson = False,
) -> None:
    """Show an intervention: status, signers, and what a rollback dropped, replayed and excluded."""
    with connected(ctx) as api:
        found = api.get(f"/chains/{segment(chain)}/interventions/{segment(intervention)}")
    show(
        found,
        as_json,
        lambda _: console.print(
            fields(
                f"intervention {intervention} on {chain}",
                found,
                (*INTERVENTION_COLUMNS, "dropped", "replayed", "excluded"),
            )
        ),
    )


@interventions_app.command(
    "propose",
    epilog=example(
        "registry interventions propose permissioned --kind freeze "
        '--account 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed --reason "stolen key"',
        "registry interventions propose permissioned --kind rollback --to-block 41 "
        '--exclude 0x3f3f...3f --reason "hack"',
    ),
)
def interventions_propose(
    ctx: typer.Context,
    *,
    chain: Annotated[str, typer.Argument(help="The chain.")],
    kind: Annotated[str, typer.Option(help="freeze, unfreeze or rollback.")],
    reason: Annotated[str, typer.Option(help="Why: kept in the intervention's record.")],
    account: Annotated[list[str] | None, typer.Option(help="freeze/unfreeze: an account (repeat).")] = None,
    to_block: Annotated[int | None, typer.Option(help="rollback: the block to return to.", min=0)] = None,
    exclude: Annotated[
        list[str] | None, typer.Option(help="rollback: a transaction hash not to replay (repeat).")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Propose an intervention; it runs once a quorum of validators signed it and it is executed."""
    body = drop_none(
        {"kind": kind, "reason": reason, "accounts": account, "to_block": to_block, "exclude": exclude}
    )
    with connected(ctx) as api:
        answer = api.post(f"/chains/{segment(chain)}/interventions", body)
    show(
        answer,
        as_json,
        lambda _: say(
            f"intervention {answer.get('id', answer.get('intervention_id'))} proposed ({kind}): "
            f"{answer.get('status')}"
        ),
    )


@interventions_app.command(
    "sign",
    epilog=example(
        "registry interventions sign permissioned 1 --validator 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    ),
)
def interventions_sign(
    ctx: typer.Context,
    *,
    chain: Annotated[str, typer.Argument(help="The chain.")],
    intervention: Annotated[str, typer.Argument(help="The intervention's id.")],
    validator: Annotated[str, typer.Option(help="The validator signing (one of the key's addresses).")],
    as_json: AsJson = False,
) -> None:
    """Sign an intervention as a validator."""
    with connected(ctx) as api:
        answer = api.post(
            f"/chains/{segment(chain)}/interventions/{segment(intervention)}/signatures",
            {"validator": validator},
        )
    show(
        answer,
        as_json,
        lambda _: say(
            f"signed intervention {intervention}: {len(answer.get('signers') or [])} signer(s), "
            f"{answer.get('status')}"
        ),
    )


@interventions_app.command("execute", epilog=example("registry interventions execute permissioned 1"))
def interventions_execute(
    ctx: typer.Context,
    *,
    chain: Annotated[str, typer.Argument(help="The chain.")],
    intervention: Annotated[str, typer.Argument(help="The intervention's id.")],
    as_json: AsJson = False,
) -> None:
    """Execute an intervention that has its quorum of signatures."""
    with connected(ctx) as api:
        answer = api.post(f"/chains/{segment(chain)}/interventions/{segment(intervention)}/execute", {})
    show(
        answer,
        as_json,
        lambda _: console.print(
            fields(
                f"intervention {intervention} executed",
                answer,
                (*INTERVENTION_COLUMNS, "dropped", "replayed", "excluded"),
            )
        ),
    )


# -- the event stream, demos on the server ----------------------------------------------------------


def describe_event(kind: str, data: Any) -> str:
    """One plain line for an event of the stream."""
    if not isinstance(data, dict):
        return json.dumps(data)
    chain = data.get("chain", "")
    if kind == "block":
        sealers = f", sealed by {len(data['sealers'])}" if data.get("sealers") else ""
        block = f"block #{data.get('number')} {str(data.get('hash'))[:12]}…"
        return f"{chain} {block} {data.get('tx_count')} tx{sealers}"
    if kind == "token-event":
        args = ", ".join(f"{key}={value}" for key, value in (data.get("args") or {}).items())
        return f"{chain} {data.get('symbol')} {data.get('event')}({args}) block #{data.get('block_number')}"
    if kind == "refusal":
        return f"{chain} refused {data.get('sender')}: {data.get('reason')}"
    if kind == "intervention":
        what = f"intervention {data.get('id')} {data.get('kind')} {data.get('status')}"
        return f"{chain} {what}, signers {cell_text(data.get('signers'))}"
    if kind == "rollback":
        first, head = data.get("first_changed_block"), data.get("new_head")
        return f"{chain} rolled back: first changed block #{first}, new head #{head}"
    if kind == "demo":
        where = f" {data['chain']}" if data.get("chain") else ""
        step = f"{data.get('step')} [{data.get('status')}] {data.get('detail') or ''}"
        return f"demo {data.get('run_id')}{where}: {step}".rstrip()
    return json.dumps(data, separators=(",", ":"))


def events(
    ctx: typer.Context,
    *,
    chain: Annotated[str | None, typer.Option("--chain", "-c", help="Only this chain's events.")] = None,
    kinds: Annotated[
        str | None,
        typer.Option(
            help="Only these kinds, comma-separated: "
            "block, token-event, refusal, intervention, rollback, demo."
        ),
    ] = None,
    count: Annotated[int | None, typer.Option(help="Stop after this many events.", min=1)] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per line: {kind, id, data}.")
    ] = False,
) -> None:
    """Follow the server's live event stream and print each event as it comes (Ctrl-C stops)."""
    seen = 0
    try:
        with connected(ctx) as api:
            for kind, event_id, data in api.events({"chain": chain, "kinds": kinds}):
                if as_json:
                    typer.echo(
                        json.dumps({"kind": kind, "id": event_id, "data": data}, separators=(",", ":"))
                    )
                else:
                    console.print(f"[cyan]{escape(kind):<12}[/cyan] {escape(describe_event(kind, data))}")
                seen += 1
                if count is not None and seen >= count:
                    return
    except KeyboardInterrupt:
        return


def demo_on_server(
    ctx: typer.Context,
    name: str,
    as_json: bool,
    *,
    variant: str | None = None,
    holders: int | None = None,
    poll: float = 0.25,
) -> None:
    """Start demo ``name`` on the server (POST /demos/{name}) and print its steps as they run."""
    body = drop_none({"variant": variant, "holders": holders})
    with connected(ctx) as api:
        run_id = api.post(f"/demos/{segment(name)}", body, sends=False)["run_id"]
        if not as_json:
            console.print(f"demo {escape(name)} started on {escape(api.url)}: run {escape(str(run_id))}")
        shown = 0
        while True:
            run = api.get(f"/demos/runs/{segment(str(run_id))}")
            steps = run.get("steps") or []
            for step in steps[shown:]:
                if not as_json:
                    where = f"{step.get('chain')}: " if step.get("chain") else ""
                    line = f"  {where}{step.get('step')} [{step.get('status')}] {step.get('detail') or ''}"
                    console.print(escape(line.rstrip()))
            shown = len(steps)
            if run.get("status") != "running":
                break
            time.sleep(poll)
    if as_json:
        print_json(run)
    elif run.get("result"):
        result = run["result"]
        console.print(table(f"{name}: side by side", result.get("columns") or [], result.get("rows") or []))
    if run.get("status") != "done":
        fail([f"demo {name} {run.get('status')}: {run.get('error') or 'no reason given'}"], EXIT_PROBLEM)


def demos_on_server(ctx: typer.Context, as_json: bool) -> None:
    """List the demos the server offers (GET /demos)."""
    with connected(ctx) as api:
        found = api.get("/demos")
    found = found.get("items", found) if isinstance(found, dict) else found
    show(
        found,
        as_json,
        lambda _: items_table(
            "demos on the server", list(found), ("name", "summary", "variants"), others=False
        ),
    )


# -- registration ------------------------------------------------------------------------------------

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
