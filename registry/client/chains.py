"""registry chains, blocks, validators, and interventions (list, show, propose, sign, execute)."""

# No ``from __future__ import annotations``: Typer reads each command's annotations at every start,
# and string annotations would be evaluated again each time (about half of building the commands).
from typing import Annotated, Any, Final

import typer

from registry.client.common import AsJson, connected, drop_none, example, items_table, say, segment
from registry.client.output import console, fields, show


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
