"""access, build and cost: who may hold and build, and what each chain costs; unknown names refused."""

from __future__ import annotations

import pytest

from registry.demos import SCENARIOS, run_scenario
from registry.errors import ConfigurationError
from registry.runtime import Registry
from tests.demos.helpers import CHAINS, check_shape, run, step


def test_access_refuses_at_the_chain_then_by_the_named_country_rule(registry: Registry) -> None:
    report, heard = run(registry, "access")
    check_shape(report, heard)
    for who in ("american", "unchecked"):
        before = step(report, "permissioned", f"{who} pays before onboarding")
        assert before.status == "refused"
        assert "not registered in the identity registry" in before.detail
    american = step(report, "permissioned", "american buys")
    assert american.status == "refused" and "COUNTRY_NOT_ALLOWED" in american.detail
    assert step(report, "permissioned", "unchecked buys").status == "done"
    assert report.numbers["permissioned"]["bond balance american"] == 0
    assert report.numbers["permissioned"]["bond balance unchecked"] == 1
    assert report.numbers["permissionless"]["bought"] == 2


def test_build_the_outsiders_contract_is_refused_until_kyc(registry: Registry) -> None:
    report, heard = run(registry, "build")
    check_shape(report, heard)
    assert step(report, "permissioned", "the outsider deploys its swap").status == "refused"
    assert step(report, "permissioned", "the outsider deploys again").status == "done"
    assert step(report, "permissioned", "the seller offers bonds on it").status == "refused"
    assert "ERC7943CannotReceive" in step(report, "permissioned", "the seller offers bonds on it").detail
    assert step(report, "permissioned", "the seller offers again").status == "done"
    assert step(report, "permissionless", "the outsider deploys its swap").status == "done"
    assert report.numbers["permissioned"]["registrations"] == 2
    assert report.numbers["permissionless"]["registrations"] == 0
    assert (
        report.numbers["permissioned"]["bonds traded"]
        == report.numbers["permissionless"]["bonds traded"]
        == 5
    )


def test_cost_measures_both_chains_and_kyc_costs_more_gas(registry: Registry) -> None:
    report, heard = run(registry, "cost")
    check_shape(report, heard)
    assert [row[0] for row in report.rows] == [
        "transfers per second (this machine)",
        "gas per transfer, kyc mode",
        "gas per transfer, open mode",
        "time to a sealed block",
        "time to finality",
        "onboarding an investor",
    ]
    for chain in CHAINS:
        numbers = report.numbers[chain]
        assert numbers["gas per transfer kyc"] > numbers["gas per transfer open"] > 21_000
        for key in ("transfers_per_second", "sealed_block_seconds", "finality_seconds"):
            assert report.timings[f"{chain}.{key}"] > 0
    assert (
        report.numbers["permissioned"]["onboarding gas"] > report.numbers["permissionless"]["onboarding gas"]
    )
    assert "64 confirmations" in report.rows[4][2]


def test_unknown_scenarios_and_variants_are_refused(registry: Registry) -> None:
    with pytest.raises(
        ConfigurationError, match="the demos are: hack, censor, access, build, bond, stock, cost"
    ):
        run_scenario(registry, "bond-lifecycle")
    with pytest.raises(ConfigurationError, match="no variant 'nope'; its variants: agent-key"):
        run_scenario(registry, "hack", variant="nope")
    assert list(SCENARIOS) == ["hack", "censor", "access", "build", "bond", "stock", "cost"]
    for found in SCENARIOS.values():
        assert found.summary and found.description
    for name in ("bond", "stock"):
        assert "clock" in SCENARIOS[name].summary and "everyone" in SCENARIOS[name].description
