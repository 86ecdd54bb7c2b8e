"""registry events (the server's live stream) and demos run on the server (registry demo NAME --server)."""

# No ``from __future__ import annotations``: Typer reads each command's annotations at every start,
# and string annotations would be evaluated again each time (about half of building the commands).
import json
import time
from typing import Annotated, Any

import typer
from rich.markup import escape

from registry.client.common import connected, drop_none, items_table, segment
from registry.client.output import EXIT_PROBLEM, cell_text, console, fail, print_json, show, table


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
