"""registry coupons and registry dividends: schedule or declare, fund, claim, sweep, list."""

# No ``from __future__ import annotations``: Typer reads each command's annotations at every start,
# and string annotations would be evaluated again each time (about half of building the commands).
from typing import Annotated, Any

import typer

from registry.client.common import (
    AsJson,
    Sender,
    connected,
    drop_none,
    example,
    items_table,
    segment,
    sent,
    when,
)
from registry.client.output import show

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
