"""The bond-lifecycle demo: the same bond behaves as each chain's rules say."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from registry.cli import app
from registry.demos import DemoReport, run_scenario
from registry.errors import ConfigurationError


@pytest.fixture(scope="module")
def report() -> DemoReport:
    return run_scenario("bond-lifecycle")


def _outcome(report: DemoReport, title: str, chain: str):
    step = next(step for step in report.steps if step.title == title)
    return step.outcomes[chain]


def test_every_step_ran_on_both_chains(report: DemoReport) -> None:
    assert set(report.chains) == {"permissioned", "permissionless"}
    for step in report.steps:
        assert set(step.outcomes) == {"permissioned", "permissionless"}, step.title


def test_only_the_permissioned_chain_refuses_the_outsider(report: DemoReport) -> None:
    sale = _outcome(report, "sell to a wallet without KYC", "permissioned")
    assert not sale.ok
    assert "ERC7943CannotReceive" in sale.detail
    assert "not a verified investor" in sale.detail
    assert _outcome(report, "sell to a wallet without KYC", "permissionless").ok

    own = _outcome(report, "that wallet sends a transaction", "permissioned")
    assert not own.ok
    assert "is not registered in the identity registry" in own.detail
    assert _outcome(report, "that wallet sends a transaction", "permissionless").ok


def test_coupon_entitlement_is_fixed_at_the_record_date(report: DemoReport) -> None:
    # A held 90 bonds at the record date and sold 20 after it: A is paid for 90 (50 dUSD each).
    claims = _outcome(report, "claim coupons", "permissioned").detail
    assert "A 4,500" in claims
    assert "C 2,000" in claims


def test_cash_reconciles_and_every_bond_is_redeemed(report: DemoReport) -> None:
    for chain in report.chains:
        assert _outcome(report, "maturity and redemption", chain).ok
        reconciliation = _outcome(report, "cash reconciliation", chain)
        assert reconciliation.ok, reconciliation.detail
        assert "reconciles to the unit" in reconciliation.detail


def test_kyc_transfers_cost_more_gas_than_open_ones(report: DemoReport) -> None:
    kyc = _outcome(report, "trade between investors", "permissioned").gas
    open_ = _outcome(report, "trade between investors", "permissionless").gas
    assert kyc is not None
    assert open_ is not None
    assert kyc > open_


def test_unknown_scenario_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="the demos are: bond-lifecycle"):
        run_scenario("moon-landing")


def test_cli_prints_the_report_as_json() -> None:
    result = CliRunner().invoke(app, ["demo", "bond-lifecycle", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["scenario"] == "bond-lifecycle"
    assert data["steps"][0]["title"] == "issue"


def test_cli_refuses_an_unknown_demo_and_lists_the_known_ones() -> None:
    result = CliRunner().invoke(app, ["demo", "moon-landing"])
    assert result.exit_code == 2
    assert "bond-lifecycle" in result.output
