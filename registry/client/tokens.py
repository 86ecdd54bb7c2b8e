"""registry mint (one wallet or a CSV file in one batch), transfer, cap-table, freeze, unfreeze; the batch
sender with its progress bar."""

# No ``from __future__ import annotations``: Typer reads each command's annotations at every start,
# and string annotations would be evaluated again each time (about half of building the commands).
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Final

import typer

from registry.client.common import AsJson, Sender, connected, drop_none, items_table, segment, sent, when
from registry.client.http import Remote
from registry.client.output import EXIT_PROBLEM, InputError, console, fail, print_json, reporting, show


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
