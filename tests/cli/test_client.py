"""The client commands against a served API: outputs, exit codes, errors in red naming what to fix, the
key never shown, the CSV files checked before anything is sent."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import typer
from typer.main import get_command

from registry.cli import app
from registry.client.output import EXIT_INPUT, EXIT_PROBLEM, EXIT_UNREACHABLE
from tests.cli.conftest import Served

WALLETS = [f"0x{index:040x}" for index in range(0x1001, 0x1010)]


def data(result: Any) -> Any:
    """The JSON a ``--json`` command printed."""
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def issue_cash(served: Served, chain: str = "permissionless", symbol: str = "tUSD") -> dict[str, Any]:
    result = served.run(
        "assets",
        "issue",
        "cash",
        "--chain",
        chain,
        "--name",
        "Test USD",
        "--symbol",
        symbol,
        "--json",
        role="issuer",
    )
    answer: dict[str, Any] = data(result)
    return answer


def head(served: Served, chain: str) -> int:
    with served.client("auditor") as client:
        found: int = client.get(f"/chains/{chain}")["head"]
    return found


def test_every_command_has_help_with_an_example() -> None:
    root = get_command(app)
    assert isinstance(root, typer.core.TyperGroup)
    seen = 0

    def walk(group: Any, path: list[str]) -> None:
        nonlocal seen
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                walk(command, [*path, name])
                continue
            seen += 1
            assert command.help, f"registry {' '.join([*path, name])} has no help"
            assert command.epilog and "Example" in command.epilog, f"registry {' '.join([*path, name])}"
            assert "$ registry " in command.epilog

    walk(root, [])
    assert seen >= 30


def test_issue_list_and_show_an_asset(served: Served) -> None:
    issued = issue_cash(served, symbol="cUSD")
    asset = issued["asset"]
    assert asset["kind"] == "cash" and asset["chain"] == "permissionless"
    assert issued["transaction"]["block_number"] >= 1

    listed = data(served.run("assets", "list", "--chain", "permissionless", "--json", role="auditor"))
    assert asset["asset_id"] in [item["asset_id"] for item in listed]
    assert all(item["chain"] == "permissionless" for item in listed)

    shown = data(served.run("assets", "show", asset["asset_id"], "--json", role="auditor"))
    assert shown["address"] == asset["address"]

    table = served.run("assets", "list", role="auditor")
    assert table.exit_code == 0, table.output
    assert asset["asset_id"] in table.stdout and "cUSD" in table.stdout

    people = served.run(
        "assets",
        "issue",
        "cash",
        "--chain",
        "permissioned",
        "--name",
        "Test USD",
        "--symbol",
        "pUSD",
        role="issuer",
    )
    assert people.exit_code == 0, people.output
    assert "issued cash pUSD" in people.stdout and "transaction 0x" in people.stdout


def test_a_forbidden_role_is_a_red_problem_naming_the_roles_and_no_key_is_shown(served: Served) -> None:
    before = head(served, "permissionless")
    result = served.run(
        "assets", "issue", "cash", "--chain", "permissionless", "--name", "X", "--symbol", "X", role="auditor"
    )
    assert result.exit_code == EXIT_PROBLEM
    assert result.stdout == ""
    assert "error:" in result.stderr and "(403)" in result.stderr
    assert "roles that may: admin, issuer" in result.stderr
    assert served.tokens["auditor"] not in result.output
    assert head(served, "permissionless") == before

    on_the_line = served.run(
        "--key",
        served.tokens["auditor"],
        "assets",
        "issue",
        "cash",
        "--chain",
        "permissionless",
        "--name",
        "X",
        "--symbol",
        "X",
        role=None,
    )
    assert on_the_line.exit_code == EXIT_PROBLEM
    assert served.tokens["auditor"] not in on_the_line.output


def test_no_key_or_a_wrong_one_says_how_to_send_one(served: Served) -> None:
    for token in (None, "rk_not-a-key-at-all"):
        result = served.run("assets", "list", role=None, token=token)
        assert result.exit_code == EXIT_PROBLEM, result.output
        assert "(401)" in result.stderr and "REGISTRY_API_KEY" in result.stderr
        if token is not None:
            assert token not in result.output


def test_the_help_never_shows_the_key(served: Served) -> None:
    for args in (["--help"], ["assets", "list", "--help"], ["events", "--help"]):
        result = served.run(*args, role="admin")
        assert result.exit_code == 0
        assert "REGISTRY_API_KEY" in result.stdout or args != ["--help"]
        assert served.tokens["admin"] not in result.output


def test_a_bad_term_is_a_problem_naming_the_field(served: Served) -> None:
    cash = issue_cash(served, symbol="bUSD")["asset"]["asset_id"]
    result = served.run(
        "assets",
        "issue",
        "bond",
        "--chain",
        "permissionless",
        "--mode",
        "open",
        "--name",
        "Bad bond",
        "--symbol",
        "BAD",
        "--currency",
        cash,
        "--isin",
        "US0378331006",
        "--term",
        "denomination=1000",
        "--term",
        "issue_volume=1000000",
        "--term",
        "coupon_rate_bps=500",
        "--term",
        "coupon_frequency=2",
        "--term",
        "issue_date=2026-01-01",
        "--term",
        "maturity_date=2031-01-01",
        role="issuer",
    )
    assert result.exit_code == EXIT_PROBLEM, result.output
    assert "isin" in result.stderr
    malformed = served.run(
        "assets",
        "issue",
        "stock",
        "--chain",
        "permissionless",
        "--name",
        "S",
        "--symbol",
        "S",
        "--term",
        "nonsense",
        role="issuer",
    )
    assert malformed.exit_code == EXIT_INPUT
    assert "NAME=VALUE" in malformed.stderr


def test_no_server_says_how_to_start_one() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on the port once the socket is closed.
    from typer.testing import CliRunner

    result = CliRunner().invoke(
        app, ["--url", f"http://127.0.0.1:{port}", "assets", "list"], env={"REGISTRY_API_KEY": "rk_x"}
    )
    assert result.exit_code == EXIT_UNREACHABLE, result.output
    assert "registry serve" in result.stderr and f"127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.output


def test_a_url_that_is_no_http_url_is_bad_input() -> None:
    from typer.testing import CliRunner

    for url in ("localhost:8000", "http://", "http://[::1"):
        result = CliRunner().invoke(app, ["--url", url, "chains"], env={"REGISTRY_API_KEY": "rk_x"})
        assert result.exit_code == EXIT_INPUT, result.output
        assert f"--url {url!r}" in result.stderr and "http://127.0.0.1:8000" in result.stderr


def test_the_client_files_a_batch_under_the_id_the_server_does(served: Served) -> None:
    from registry.access.idempotency import batch_id_for
    from registry.client.http import batch_id_of

    token = served.tokens["issuer"]
    key_id = token.split("_")[1]
    for key in ("cli-3f1c", "a retry key"):
        assert batch_id_of(token, key) == batch_id_for(key_id, key)
    assert batch_id_of("not a key", "k") is None


def test_chains_and_blocks(served: Served) -> None:
    issue_cash(served, symbol="kUSD")
    chains = data(served.run("chains", "--json", role="auditor"))
    assert {chain["name"] for chain in chains} == {"permissioned", "permissionless"}
    blocks = data(served.run("blocks", "permissionless", "--limit", "3", "--json", role="auditor"))
    assert 1 <= len(blocks) <= 3
    assert all(block["chain"] == "permissionless" for block in blocks)
    table = served.run("blocks", "permissionless", "--limit", "3", role="auditor")
    assert table.exit_code == 0 and blocks[0]["hash"] in table.stdout


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_onboarding_a_csv_with_bad_rows_sends_nothing_and_names_every_bad_row(
    served: Served, tmp_path: Path
) -> None:
    csv_file = write(
        tmp_path / "investors.csv",
        "wallet,country,kyc_expires_at,accredited\n"
        f"{WALLETS[0]},756,2031-12-31,yes\n"
        f"{WALLETS[1]},CH,2031-12-31,no\n"
        f"not-a-wallet,276,,\n"
        f"{WALLETS[0]},276,,\n"
        f"{WALLETS[2]},276,31/12/2031,maybe\n",
    )
    before = head(served, "permissioned")
    result = served.run(
        "investors", "onboard", "--chain", "permissioned", "--csv", str(csv_file), role="admin"
    )
    assert result.exit_code == EXIT_INPUT, result.output
    assert "nothing was sent" in result.stderr
    lines = result.stderr
    assert f"{csv_file}:3: country 'CH'" in lines
    assert f"{csv_file}:4: wallet 'not-a-wallet'" in lines
    assert f"{csv_file}:5: wallet {WALLETS[0]} is already on line 2" in lines
    assert f"{csv_file}:6: kyc_expires_at '31/12/2031'" in lines
    assert f"{csv_file}:2:" not in lines
    assert head(served, "permissioned") == before
    if served.has("GET", "/investors"):
        listed = data(served.run("investors", "list", "--chain", "permissioned", "--json", role="auditor"))
        registered = {wallet.lower() for investor in listed for wallet in investor["wallets"]}
        assert WALLETS[0] not in registered

    no_header = write(tmp_path / "bare.csv", f"{WALLETS[3]},756\n")
    result = served.run("investors", "onboard", "--chain", "permissioned", "--csv", str(no_header))
    assert result.exit_code == EXIT_INPUT and ":1: the header lacks" in result.stderr
    result = served.run(
        "investors", "onboard", "--chain", "permissioned", "--csv", str(tmp_path / "none.csv")
    )
    assert result.exit_code == EXIT_INPUT and "cannot read" in result.stderr


def test_minting_a_csv_with_a_bad_row_sends_nothing(served: Served, tmp_path: Path) -> None:
    cash = issue_cash(served, symbol="mUSD")["asset"]["asset_id"]
    csv_file = write(
        tmp_path / "holders.csv", f"to,amount\n{WALLETS[4]},10\n{WALLETS[5]},-3\n{WALLETS[6]},ten\n"
    )
    before = head(served, "permissionless")
    result = served.run("mint", cash, "--csv", str(csv_file), role="issuer")
    assert result.exit_code == EXIT_INPUT, result.output
    assert f"{csv_file}:3: amount '-3' is not a positive number" in result.stderr
    assert f"{csv_file}:4: amount 'ten' is not a number" in result.stderr
    assert head(served, "permissionless") == before
    both = served.run("mint", cash, WALLETS[4], "1", "--csv", str(csv_file), role="issuer")
    assert both.exit_code == EXIT_INPUT and "not both" in both.stderr
