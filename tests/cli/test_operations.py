"""The client commands of the routes built beside the core API (investors, batches, transfers, cap table,
freezes, dividends, validators, interventions, the event stream, demos on the server), against a served
API. Each test runs once the server has its routes (routes.md); until then it is skipped, naming the
missing route."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from registry.client.http import batch_id_of
from registry.client.output import EXIT_PROBLEM
from tests.cli.conftest import Served
from tests.cli.test_client import data, head, issue_cash, write

WALLETS = [f"0x{index:040x}" for index in range(0x2001, 0x2030)]
REGISTRY = str(Path(sys.executable).parent / "registry")
"""The console script."""


@pytest.fixture(scope="module")
def provider(served: Served) -> str:
    """The permissioned chain's KYC provider (the chain operator), which an admin key names as sender."""
    address = served.registry.registries.provider("permissioned")
    assert address is not None
    return str(address)


def open_stock(served: Served, symbol: str) -> str:
    """An open-mode stock on the permissionless chain (any holder), issued through the CLI."""
    cash = issue_cash(served, symbol=f"c{symbol}")["asset"]["asset_id"]
    issued = served.run(
        "assets",
        "issue",
        "stock",
        "--chain",
        "permissionless",
        "--mode",
        "open",
        "--name",
        f"{symbol} shares",
        "--symbol",
        symbol,
        "--currency",
        cash,
        "--json",
        role="issuer",
    )
    asset_id: str = data(issued)["asset"]["asset_id"]
    return asset_id


def transfer(served: Served, asset: str, to: str, amount: str, *extra: str) -> Any:
    """``registry transfer`` from the issuer's wallet (an admin key names it as sender)."""
    return served.run(
        "transfer", asset, to, amount, "--sender", served.addresses["issuer"], *extra, role="admin"
    )


def settle(served: Served, answer: dict[str, Any]) -> None:
    """Let the index hold the block of a command's ``--json`` answer (the test server runs no index
    follower; `registry serve` does)."""
    tx = answer["transaction"]
    served.registry.wait_for_index(tx["chain"], tx["block_number"])


def balances(served: Served, asset: str, *extra: str) -> dict[str, str]:
    """The cap table of ``asset`` (through the CLI) as wallet -> balance."""
    table = data(served.run("cap-table", asset, *extra, "--json", role="auditor"))
    return {holder["wallet"].lower(): holder["balance"] for holder in table["items"]}


def test_add_show_list_and_revoke_an_investor(served: Served, provider: str) -> None:
    for method, path in (
        ("POST", "/investors"),
        ("GET", "/investors"),
        ("GET", "/investors/{chain}/{investor_id}"),
        ("POST", "/investors/{chain}/{investor_id}/revoke"),
    ):
        served.needs(method, path)
    added = data(
        served.run(
            "investors",
            "add",
            "--chain",
            "permissioned",
            "--wallet",
            WALLETS[0],
            "--wallet",
            WALLETS[1],
            "--country",
            "CH",
            "--kyc-expires",
            "2031-12-31",
            "--accredited",
            "--sender",
            provider,
            "--json",
        )
    )
    investor_id = str(added["investor_id"])
    assert [wallet.lower() for wallet in added["wallets"]] == WALLETS[:2]
    assert added["country"] == 756 and added["kyc_state"] == "verified"

    shown = data(
        served.run("investors", "show", investor_id, "--chain", "permissioned", "--json", role="auditor")
    )
    assert shown["investor_id"] == added["investor_id"]
    listed = data(served.run("investors", "list", "--chain", "permissioned", "--json", role="auditor"))
    assert added["investor_id"] in [investor["investor_id"] for investor in listed]

    people = served.run("investors", "show", investor_id, "--chain", "permissioned", role="auditor")
    assert people.exit_code == 0 and "verified" in people.stdout

    revoked = served.run("investors", "revoke", investor_id, "--chain", "permissioned", "--sender", provider)
    assert revoked.exit_code == 0, revoked.output
    assert f"investor {investor_id} revoked" in revoked.stdout
    shown = data(
        served.run("investors", "show", investor_id, "--chain", "permissioned", "--json", role="auditor")
    )
    assert shown["kyc_state"] == "revoked"

    again = served.run(
        "investors",
        "add",
        "--chain",
        "permissioned",
        "--wallet",
        WALLETS[0],
        "--country",
        "CH",
        "--sender",
        provider,
    )
    assert again.exit_code == EXIT_PROBLEM
    assert WALLETS[0][2:].lower() in again.stderr.lower()


def test_onboarding_a_csv_registers_every_row_and_a_refused_row_leaves_nothing_half_applied(
    served: Served, provider: str, tmp_path: Path
) -> None:
    served.needs("POST", "/investors/batch")
    good = write(
        tmp_path / "investors.csv",
        "wallet,country,kyc_expires_at,accredited\n"
        f"{WALLETS[4]},756,2031-12-31,yes\n"
        f"{WALLETS[5]},276,,no\n"
        f"{WALLETS[6]},250,2032-01-01T00:00:00+00:00,\n",
    )
    result = served.run(
        "investors", "onboard", "--chain", "permissioned", "--csv", str(good), "--sender", provider
    )
    assert result.exit_code == 0, result.output
    assert "3 of 3 landed" in result.stdout

    # One row names a wallet registered above: the server refuses the batch before sending anything.
    mixed = write(
        tmp_path / "mixed.csv", f"wallet,country\n{WALLETS[7]},756\n{WALLETS[8]},756\n{WALLETS[5]},756\n"
    )
    before = head(served, "permissioned")
    refused = served.run(
        "investors", "onboard", "--chain", "permissioned", "--csv", str(mixed), "--sender", provider
    )
    assert refused.exit_code == EXIT_PROBLEM, refused.output
    assert "error:" in refused.stderr
    assert head(served, "permissioned") == before
    if served.has("GET", "/wallets/{chain}/{address}"):
        with served.client("auditor") as client:
            for wallet in WALLETS[7:9]:
                assert client.get(f"/wallets/permissioned/{wallet}")["investor"] is None


def test_mint_transfer_and_the_cap_table_as_table_csv_and_json(served: Served) -> None:
    for method, path in (
        ("POST", "/assets/{asset_id}/mint"),
        ("POST", "/assets/{asset_id}/transfers"),
        ("GET", "/assets/{asset_id}/cap-table"),
    ):
        served.needs(method, path)
    stock = open_stock(served, "CLIS")
    issuer = served.addresses["issuer"]
    minted = served.run("mint", stock, issuer, "100", role="issuer")
    assert minted.exit_code == 0, minted.output
    assert f"minted 100 {stock}" in minted.stdout and "transaction 0x" in minted.stdout

    moved = transfer(served, stock, WALLETS[10], "25")
    assert moved.exit_code == 0, moved.output
    assert f"transferred 25 {stock} to {WALLETS[10]}" in moved.stdout
    settle(served, data(transfer(served, stock, WALLETS[10], "5", "--json")))
    assert balances(served, stock) == {issuer.lower(): "70", WALLETS[10]: "30"}

    csv_text = served.run("cap-table", stock, "--format", "csv", role="auditor")
    assert csv_text.exit_code == 0
    lines = csv_text.stdout.splitlines()
    assert lines[0].startswith("wallet,balance")
    assert len(lines) == 3 and any(line.lower().startswith(f"{WALLETS[10]},30,") for line in lines)
    people = served.run("cap-table", stock, role="auditor")
    assert people.exit_code == 0 and "cap table of" in people.stdout and "30" in people.stdout

    too_much = transfer(served, stock, WALLETS[11], "1000")
    assert too_much.exit_code == EXIT_PROBLEM
    assert too_much.stdout == "" and "error:" in too_much.stderr and "(403)" not in too_much.stderr


def test_mint_from_a_csv_with_a_progress_bar(served: Served, tmp_path: Path) -> None:
    served.needs("POST", "/assets/{asset_id}/mint/batch")
    served.needs("GET", "/assets/{asset_id}/cap-table")
    stock = open_stock(served, "CLIB")
    holders = write(
        tmp_path / "holders.csv",
        "to,amount\n" + "".join(f"{w},{i + 1}\n" for i, w in enumerate(WALLETS[12:17])),
    )
    result = served.run("mint", stock, "--csv", str(holders), role="issuer")
    assert result.exit_code == 0, result.output
    assert "5 of 5 landed" in result.stdout
    # A second batch under a key of the caller's choosing: filed under the id the client follows while it
    # runs; the same command again (a retry) answers that run and mints nothing more.
    again = data(
        served.run("mint", stock, "--csv", str(holders), "--idempotency-key", "m1", "--json", role="issuer")
    )
    assert again["batch_id"] == batch_id_of(served.tokens["issuer"], "m1")
    assert [item["status"] for item in again["items"]] == ["landed"] * 5
    retry = data(
        served.run("mint", stock, "--csv", str(holders), "--idempotency-key", "m1", "--json", role="issuer")
    )
    assert retry == again
    served.registry.wait_for_index("permissionless", head(served, "permissionless"))
    assert balances(served, stock) == {
        wallet: str(2 * (index + 1)) for index, wallet in enumerate(WALLETS[12:17])
    }


def test_freeze_stops_the_account_and_unfreeze_lets_it_go(served: Served) -> None:
    for method, path in (
        ("POST", "/assets/{asset_id}/mint"),
        ("POST", "/assets/{asset_id}/transfers"),
        ("POST", "/assets/{asset_id}/freezes"),
        ("DELETE", "/assets/{asset_id}/freezes/{account}"),
    ):
        served.needs(method, path)
    stock = open_stock(served, "CLIF")
    issuer = served.addresses["issuer"]
    assert served.run("mint", stock, issuer, "10", role="issuer").exit_code == 0
    frozen = served.run("freeze", stock, issuer, role="issuer")
    assert frozen.exit_code == 0, frozen.output
    refused = transfer(served, stock, WALLETS[18], "1")
    assert refused.exit_code == EXIT_PROBLEM and "(403)" not in refused.stderr
    assert "broken rule SENDER_FROZEN: " in refused.stderr
    thawed = served.run("unfreeze", stock, issuer, role="issuer")
    assert thawed.exit_code == 0, thawed.output
    assert transfer(served, stock, WALLETS[18], "1").exit_code == 0


def test_a_dividend_declared_and_listed(served: Served) -> None:
    for method, path in (
        ("POST", "/assets/{asset_id}/mint"),
        ("POST", "/assets/{asset_id}/dividends"),
        ("GET", "/assets/{asset_id}/dividends"),
    ):
        served.needs(method, path)
    cash = issue_cash(served, symbol="dUSD")["asset"]["asset_id"]
    stock = data(
        served.run(
            "assets",
            "issue",
            "stock",
            "--chain",
            "permissionless",
            "--mode",
            "open",
            "--name",
            "Div shares",
            "--symbol",
            "CLIV",
            "--currency",
            cash,
            "--json",
            role="issuer",
        )
    )["asset"]["asset_id"]
    issuer = served.addresses["issuer"]
    # The API mints bonds and stocks, not the test stablecoin: the issuer's cash comes from the service.
    served.registry.cash.mint(cash, issuer, 1_000 * 10**6, sender=issuer)
    assert served.run("mint", stock, WALLETS[21], "10", role="issuer").exit_code == 0
    now = served.registry.context.chain("permissionless").now()
    record = datetime.fromtimestamp(now + 86_400, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    declared = data(
        served.run(
            "dividends", "declare", stock, "--amount", "250", "--record-date", record, "--json", role="issuer"
        )
    )
    assert declared["amount"] == "250"
    settle(served, declared)
    listed = data(served.run("dividends", "list", stock, "--json", role="auditor"))
    assert [(item["dividend_id"], item["amount"]) for item in listed] == [(declared["dividend_id"], "250")]
    people = served.run("dividends", "list", stock, role="auditor")
    assert people.exit_code == 0 and "250" in people.stdout
    early = served.run(
        "dividends", "claim", stock, str(declared["dividend_id"]), "--holder", WALLETS[21], role="issuer"
    )
    assert early.exit_code == EXIT_PROBLEM and "error:" in early.stderr


def test_dividends_of_a_new_stock(served: Served) -> None:
    served.needs("GET", "/assets/{asset_id}/dividends")
    stock = open_stock(served, "CLID")
    served.registry.wait_for_index("permissionless", head(served, "permissionless"))
    assert data(served.run("dividends", "list", stock, "--json", role="auditor")) == []
    people = served.run("dividends", "list", stock, role="auditor")
    assert people.exit_code == 0 and "(none)" in people.stdout


def test_validators_and_interventions(served: Served) -> None:
    served.needs("GET", "/chains/{chain}/validators")
    found = data(served.run("validators", "permissioned", "--json", role="auditor"))
    assert found["current"] and 1 <= found["threshold"] <= len(found["current"])
    served.needs("GET", "/chains/{chain}/interventions")
    assert isinstance(
        data(served.run("interventions", "list", "permissioned", "--json", role="auditor")), list
    )
    served.needs("POST", "/chains/{chain}/interventions")
    forbidden = served.run(
        "interventions",
        "propose",
        "permissioned",
        "--kind",
        "freeze",
        "--account",
        WALLETS[19],
        "--reason",
        "test",
        role="auditor",
    )
    assert forbidden.exit_code == EXIT_PROBLEM and "(403)" in forbidden.stderr


def test_events_prints_each_event_of_the_stream(served: Served) -> None:
    served.needs("GET", "/events")
    env = {**os.environ, "REGISTRY_URL": served.url, "REGISTRY_API_KEY": served.tokens["auditor"]}
    process = subprocess.Popen(
        [REGISTRY, "events", "--kinds", "block", "--count", "1", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        # Blocks until the command has printed its one event: each new asset seals a block.
        for _ in range(60):
            issue_cash(served, symbol="eUSD")
            try:
                out, err = process.communicate(timeout=1)
                break
            except subprocess.TimeoutExpired:
                continue
        else:
            pytest.fail("registry events printed no block event")
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    event: dict[str, Any] = json.loads(out.splitlines()[0])
    assert event["kind"] == "block" and event["data"]["chain"] in ("permissioned", "permissionless")
    assert served.tokens["auditor"] not in out + err


def test_a_demo_on_the_server_is_followed_step_by_step(served: Served) -> None:
    served.needs("POST", "/demos/{name}")
    served.needs("GET", "/demos/runs/{run_id}")
    with served.client("auditor") as client:
        listed = client.get("/demos")
    names = [item["name"] for item in (listed["items"] if isinstance(listed, dict) else listed)]
    name = "access" if "access" in names else names[0]
    result = served.run("demo", name, "--server", role="admin")
    assert result.exit_code == 0, result.output
    assert f"demo {name} started" in result.stdout and "side by side" in result.stdout
    forbidden = served.run("demo", name, "--server", role="auditor")
    assert forbidden.exit_code == EXIT_PROBLEM and "(403)" in forbidden.stderr


def test_the_token_events_of_an_asset(served: Served) -> None:
    served.needs("POST", "/assets/{asset_id}/mint")
    served.needs("GET", "/assets/{asset_id}/events")
    stock = open_stock(served, "CLIE")
    minted = data(served.run("mint", stock, WALLETS[3], "7", "--json", role="issuer"))
    settle(served, minted)
    found = data(served.run("assets", "events", stock, "--json", role="auditor"))
    transfers = [event for event in found if event["event"] == "Transfer"]
    assert [event["tx_hash"] for event in transfers] == [minted["transaction"]["hash"]]
    assert str(transfers[0]["args"].get("value")) == "7"
    people = served.run("assets", "events", stock, "--limit", "1", role="auditor")
    assert people.exit_code == 0 and f"events of {stock}" in people.stdout


def test_an_intervention_proposed_and_signed_by_a_quorum_is_executed(served: Served) -> None:
    for method, path in (
        ("GET", "/chains/{chain}/validators"),
        ("POST", "/chains/{chain}/interventions"),
        ("POST", "/chains/{chain}/interventions/{id}/signatures"),
        ("POST", "/chains/{chain}/interventions/{id}/execute"),
        ("GET", "/chains/{chain}/interventions/{id}"),
    ):
        served.needs(method, path)
    found = data(served.run("validators", "permissioned", "--json", role="auditor"))
    validators = found.get("signers_available") or found["current"]
    quorum = validators[: found["threshold"]]
    proposed = data(
        served.run(
            "interventions",
            "propose",
            "permissioned",
            "--kind",
            "freeze",
            "--account",
            WALLETS[20],
            "--reason",
            "a stolen key",
            "--json",
        )
    )
    intervention = str(proposed["id"])
    assert proposed["status"] == "open"
    for count, validator in enumerate(quorum, start=1):
        signed = served.run("interventions", "sign", "permissioned", intervention, "--validator", validator)
        assert signed.exit_code == 0, signed.output
        assert f"signed intervention {intervention}: {count} signer(s)" in signed.stdout
    shown = data(served.run("interventions", "show", "permissioned", intervention, "--json", role="auditor"))
    assert shown["status"] == "executed"
    assert {signer.lower() for signer in shown["signers"]} == {validator.lower() for validator in quorum}
    # The last signature carried it out: executing it again is a clear refusal.
    again = served.run("interventions", "execute", "permissioned", intervention)
    assert again.exit_code == EXIT_PROBLEM and "(409)" in again.stderr and "already" in again.stderr
    listed = data(served.run("interventions", "list", "permissioned", "--json", role="auditor"))
    assert intervention in [str(item["id"]) for item in listed]
    people = served.run("interventions", "list", "permissioned", role="auditor")
    assert people.exit_code == 0 and "a stolen key" in people.stdout
