"""The ``registry`` command line.

Heavy modules (web3, py-evm) are imported inside the commands that need them,
so that ``registry --help`` starts quickly.
"""

from __future__ import annotations

import json
import threading
import time
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from registry.settings import Settings

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


@app.command()
def node(
    chain: str = typer.Option(
        ..., "--chain", "-c", help="Which chain to serve: permissioned or permissionless."
    ),
    port: int = typer.Option(8545, "--port", "-p", min=0, max=65535, help="TCP port (0 picks a free one)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    data_dir: str | None = typer.Option(
        None, "--data-dir", help="Data directory (default: REGISTRY_DATA_DIR)."
    ),
) -> None:
    """Serve one embedded chain's JSON-RPC over HTTP, for any Ethereum client or wallet.

    Ctrl-C or SIGTERM stops it cleanly: requests in flight are answered, the block being
    sealed is finished and the chain database is closed.
    """
    import signal

    from registry.chain.backend import check_chain_name, open_embedded
    from registry.chain.events import ChainEvent, NewBlock
    from registry.chain.rpc.asgi import RpcApp
    from registry.chain.rpc.dispatcher import RpcDispatcher
    from registry.chain.rpc.server import listen, make_server, url_of
    from registry.errors import RegistryError
    from registry.settings import load_settings

    try:
        settings = load_settings(**({"data_dir": data_dir} if data_dir else {}))
        name = check_chain_name(chain)
        if settings.rpc_url(name):
            console.print(
                f"[yellow]REGISTRY_{name.upper()}_RPC_URL is set, but `registry node` serves the embedded "
                f"{name} chain; that variable is ignored here.[/yellow]"
            )
        embedded = open_embedded(name, settings)
    except RegistryError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=1) from exc
    try:
        sock = listen(host, port)
    except OSError as exc:
        embedded.close()
        console.print(f"[red]error:[/red] cannot listen on {host}:{port}: {exc}")
        raise typer.Exit(code=1) from exc
    app_ = RpcApp(RpcDispatcher(embedded))
    server = make_server(app_)
    # The head as the last event left it: the chain cannot be read any more once it is closed.
    head = [embedded.block_number]

    def follow(event: ChainEvent) -> None:
        head[0] = event.number if isinstance(event, NewBlock) else event.new_head_number

    embedded.subscribe(follow)

    # Plain lines, as anvil prints them: addresses and keys must never be wrapped or cut.
    lines = ["", "Available accounts", "=================="]
    lines += [
        f"({index}) {account.address} ({account.balance // 10**18} ETH)"
        for index, account in enumerate(embedded.dev_accounts)
    ]
    lines += ["", "Private keys", "=================="]
    lines += [f"({index}) {account.private_key}" for index, account in enumerate(embedded.dev_accounts)]
    faucet = embedded.dev_accounts[0]
    lines += [
        "",
        "These keys are derived from public data: never send anything of value to them.",
        "",
        f"Faucet account   {faucet.address}",
        f"Faucet key       {faucet.private_key}",
        f"Chain            {name}",
        f"Chain ID         {embedded.chain_id}",
        f"Block number     {embedded.block_number}",
        f"Data             {settings.chain_dir(name)}",
    ]
    if name == "permissioned":
        lines += _kyc_lines(settings)
    lines += ["", f"Listening on {url_of(sock)}"]
    # Other commands on this data directory (registry kyc register) send through this node.
    embedded.advertise(url_of(sock))
    typer.echo("\n".join(lines))

    def stop(_signum: int, _frame: object) -> None:
        # uvicorn handles the signals while it serves, and calls this handler again once it has
        # stopped: a signal only asks the server to stop, so that the chain is always closed below.
        server.should_exit = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        server.run(sockets=[sock])
    finally:
        typer.echo("stopping: finishing the block being sealed")
        app_.close()
        embedded.close()
        sock.close()
        typer.echo(f"closed the {name} chain at block #{head[0]}")


def _kyc_lines(settings: Settings) -> list[str]:
    """Who may register wallets on the permissioned chain, and the command that does it."""
    from registry.chain import IDENTITY_REGISTRY_ADDRESS, operator_account
    from registry.chain.consensus.validators import KEYS_FILE

    folder = settings.chain_dir("permissioned")
    registry_address = "0x" + bytes(IDENTITY_REGISTRY_ADDRESS).hex()
    return [
        "",
        "KYC              only wallets verified by the identity registry may send; the development",
        "                 accounts are verified at genesis",
        f"Registry         {registry_address}",
        f"KYC provider     {operator_account(folder).address}",
        f"                 (the chain operator; its key is in {folder / KEYS_FILE})",
        "Verify a wallet  registry kyc register --chain permissioned 0xYOUR_WALLET "
        "[--country 756] [--expiry YYYY-MM-DD]",
        "                 (run it with the same data directory; it signs as the chain operator and sends",
        "                 through this node)",
    ]


@app.command()
def serve(
    port: int = typer.Option(8000, "--port", "-p", min=0, max=65535, help="TCP port (0 picks a free one)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    data_dir: str | None = typer.Option(
        None, "--data-dir", help="Data directory (default: REGISTRY_DATA_DIR)."
    ),
) -> None:
    """Serve the HTTP API, both chains' JSON-RPC and both indexers, in one process.

    Runs the database migrations, opens both chains (embedded, or the nodes of
    REGISTRY_<NAME>_RPC_URL) and their index followers, and prints the URLs. The first start prints
    an admin API key, once. Ctrl-C or SIGTERM stops it cleanly: requests in flight are answered, the
    block being sealed is finished, the chains and the database are closed.
    """
    import signal

    from api.app import create_app
    from registry.access.keys import bootstrap_admin
    from registry.chain.rpc.server import listen, make_server, url_of
    from registry.custody.keystore import generated_passphrase
    from registry.errors import RegistryError
    from registry.runtime import Registry
    from registry.settings import load_settings

    try:
        settings = load_settings(**({"data_dir": data_dir} if data_dir else {}))
        notes: list[str] = []
        if settings.keystore_passphrase is None:
            passphrase, path, made = generated_passphrase(settings.data_dir)
            settings = settings.model_copy(update={"keystore_passphrase": passphrase})
            notes.append(
                f"REGISTRY_KEYSTORE_PASSPHRASE is unset: the keystore's passphrase is in {path} "
                f"({'generated now, ' if made else ''}owner-only; set the variable to choose your own)"
            )
        sock = listen(host, port)
    except (RegistryError, OSError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=1) from exc
    base = url_of(sock)
    try:
        with console.status("opening the chains and the index…"):
            registry = Registry.open(settings)
        with registry.db.write() as session:
            admin = bootstrap_admin(session, now=int(time.time()))
    except RegistryError as exc:
        sock.close()
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=1) from exc
    try:
        lines = ["", f"API              {base}", f"Documentation    {base}/docs"]
        for name, access in registry.context.chains.items():
            if access.handle.embedded is not None:
                rpc = f"{base}/chains/{name}/rpc"
                # Other commands on this data directory (registry kyc register) send through this server.
                access.handle.embedded.advertise(rpc)
                lines.append(f"{name:<17}{rpc}  (chain id {access.handle.chain_id}, JSON-RPC)")
            else:
                lines.append(f"{name:<17}{access.handle.announcement}")
        lines += [f"Data             {settings.data_dir}", *notes]
        if admin is not None:
            lines += [
                "",
                f"Admin API key    {admin.token}",
                "                 shown this once: keep it",
                "                 (`registry keys reset-admin` replaces a lost one);",
                "                 send it as `Authorization: Bearer <key>`",
            ]
        lines += ["", "Serving: Ctrl-C or SIGTERM stops the server cleanly"]
        typer.echo("\n".join(lines))
        server = make_server(create_app(registry=registry))
        ask_to_exit = server.handle_exit

        def handle_exit(signum: int, frame: FrameType | None) -> None:
            # Open event streams end now, cleanly, rather than being cut at the end of uvicorn's shutdown
            # grace. On a thread: a signal handler must not wait for a lock the code it interrupted holds.
            threading.Thread(target=registry.activity.close, name="close-streams", daemon=True).start()
            ask_to_exit(signum, frame)

        server.handle_exit = handle_exit  # type: ignore[method-assign,assignment]

        def stop(_signum: int, _frame: object) -> None:
            # uvicorn handles the signals while it serves and raises them again once it stopped: here
            # they only ask it to stop, so that the registry is always closed below.
            server.should_exit = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        server.run(sockets=[sock])
    finally:
        typer.echo("stopping: finishing the block being sealed, closing the chains and the database")
        registry.close()
        sock.close()
        typer.echo("stopped")


keys_app = typer.Typer(help="API keys of `registry serve`.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("reset-admin")
def keys_reset_admin(
    data_dir: Annotated[str | None, typer.Option(help="Data directory (default: REGISTRY_DATA_DIR).")] = None,
) -> None:
    """Revoke every admin API key and print a new one, once (for a lost or leaked admin key).

    Needs the data directory (or REGISTRY_DATABASE_URL); works while `registry serve` runs.
    """
    from registry.access.keys import reset_admin
    from registry.errors import RegistryError
    from registry.index.db import Database
    from registry.settings import load_settings

    try:
        settings = load_settings(**({"data_dir": data_dir} if data_dir else {}))
        with Database.open(settings) as db, db.write() as session:
            made, revoked = reset_admin(session, now=int(time.time()))
    except RegistryError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=1) from exc
    typer.echo(
        f"revoked {revoked} admin key(s)\n"
        f"Admin API key    {made.token}\n"
        "                 shown this once: keep it; send it as `Authorization: Bearer <key>`"
    )


kyc_app = typer.Typer(
    help="KYC on the permissioned chain: let a wallet send transactions.", no_args_is_help=True
)
app.add_typer(kyc_app, name="kyc")


@kyc_app.command("register")
def kyc_register(
    wallet: Annotated[str, typer.Argument(help="The wallet to verify (0x followed by 40 hex digits).")],
    *,
    chain: Annotated[str, typer.Option("--chain", "-c", help="The chain: only permissioned has KYC.")] = (
        "permissioned"
    ),
    country: Annotated[int, typer.Option(help="ISO 3166 numeric country code.")] = 756,
    expiry: Annotated[
        str | None,
        typer.Option(help="KYC expiry: YYYY-MM-DD (UTC), a Unix timestamp, or never; default a year on."),
    ] = None,
    accredited: Annotated[bool, typer.Option(help="Record the investor as accredited.")] = False,
    professional: Annotated[bool, typer.Option(help="Record the investor as professional.")] = False,
    data_dir: Annotated[str | None, typer.Option(help="Data directory (default: REGISTRY_DATA_DIR).")] = None,
) -> None:
    """Verify WALLET in the permissioned chain's identity registry, signed by the chain operator.

    Works on the embedded chain of the data directory, also while `registry node` serves it.
    """
    from registry.errors import RegistryError
    from registry.onboarding import NEVER, register_wallet
    from registry.settings import load_settings

    if chain != "permissioned":
        console.print(
            f"[red]error:[/red] the {chain} chain has no KYC: anyone with a funded key may send there; "
            "KYC exists on the permissioned chain only"
        )
        raise typer.Exit(code=2)
    try:
        settings = load_settings(**({"data_dir": data_dir} if data_dir else {}))
        done = register_wallet(
            settings, wallet, country=country, expiry=expiry, accredited=accredited, professional=professional
        )
    except RegistryError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=1) from exc
    expires = (
        "never"
        if done.kyc_expiry == NEVER
        else time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(done.kyc_expiry))
    )
    typer.echo(
        f"{done.wallet} {done.action}: investor {done.investor_id}, country {done.country}, "
        f"KYC valid until {expires}\n"
        f"transaction {done.transaction}, through {done.via}\n"
        "It may send on the permissioned chain once it holds ether for gas (the faucet key is printed by "
        "`registry node`)."
    )


@app.command()
def demo(
    scenario: Annotated[
        str, typer.Argument(help="Which demo to run; `registry demo --list` lists them.")
    ] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    list_: Annotated[bool, typer.Option("--list", help="List the demos and exit.")] = False,
    variant: Annotated[
        str | None, typer.Option("--variant", help="A variant of the scenario (hack: agent-key).")
    ] = None,
    holders: Annotated[
        int,
        typer.Option("--holders", min=2, max=500, help="Holders of the crowd scenarios (bond, hack, cost)."),
    ] = 50,
) -> None:
    """Run a demo on both chains, side by side, on a fresh temporary data directory (your data is never
    touched), and print each step and a result table with one column per chain.

    Example: registry demo hack --variant agent-key
    """
    from registry.demos import SCENARIOS

    if list_ or not scenario:
        table = Table("demo", "what it shows", "variants")
        for name, found in SCENARIOS.items():
            table.add_row(name, found.summary, ", ".join(found.variants))
        console.print(table)
        if not list_:
            raise typer.Exit(code=2)
        return
    if scenario not in SCENARIOS:
        console.print(f"[red]unknown demo {scenario!r}[/red]; the demos are: {', '.join(SCENARIOS)}")
        raise typer.Exit(code=2)
    chosen = SCENARIOS[scenario]
    if variant is not None and variant not in chosen.variants:
        known = ", ".join(chosen.variants) or "none"
        console.print(f"[red]the demo {scenario!r} has no variant {variant!r}[/red]; its variants: {known}")
        raise typer.Exit(code=2)
    from registry.demos import run_fresh
    from registry.demos.render import render_report, step_line
    from registry.demos.report import DemoStep
    from registry.errors import RegistryError

    try:
        if as_json:
            report = run_fresh(scenario, holders=holders, variant=variant)
            print(json.dumps(report.to_json(), indent=2))
            return
        with console.status("starting the chains…") as status:

            def progress(chain: str, step: str, state: str, detail: str) -> None:
                console.print(step_line(DemoStep(chain, step, state, detail)))  # type: ignore[arg-type]
                status.update(f"{chain}: {step}…")

            report = run_fresh(scenario, progress=progress, holders=holders, variant=variant)
    except RegistryError as exc:
        console.print(f"[red]the demo {scenario} failed:[/red] {exc}")
        raise typer.Exit(code=1) from None
    render_report(console, report, steps=False)
