"""Every scenario runs on both chains and its key numbers are what each chain's rules say."""

from __future__ import annotations

import json

import pytest

from registry.demos import SCENARIOS, DemoReport, run_scenario
from registry.demos.report import DemoStep
from registry.errors import ConfigurationError
from registry.runtime import Registry
from tests.demos.conftest import HOLDERS

CHAINS = ("permissioned", "permissionless")


def run(
    registry: Registry, name: str, *, variant: str | None = None
) -> tuple[DemoReport, list[tuple[str, ...]]]:
    heard: list[tuple[str, ...]] = []
    report = run_scenario(
        registry,
        name,
        seed=f"test {name} {variant}",
        holders=HOLDERS,
        variant=variant,
        progress=lambda *args: heard.append(args),
    )
    return report, heard


def step(report: DemoReport, chain: str, title: str) -> DemoStep:
    found = [s for s in report.steps if s.chain == chain and s.step == title]
    assert found, f"no step {title!r} on {chain}: {[s.step for s in report.steps_of(chain)]}"
    return found[0]


def check_shape(report: DemoReport, heard: list[tuple[str, ...]]) -> None:
    """Steps on both chains, each heard by the progress callback; a table with one column per chain."""
    assert {s.chain for s in report.steps} >= set(CHAINS)
    assert heard == [(s.chain, s.step, s.status, s.detail) for s in report.steps]
    assert report.columns == ["", *CHAINS]
    assert report.rows and all(len(row) == 3 for row in report.rows)
    assert set(report.numbers) == set(CHAINS)
    assert json.loads(json.dumps(report.to_json()))["name"] == report.name


@pytest.mark.parametrize("variant", [None, "agent-key"])
def test_hack_rollback_loses_nothing_and_the_open_chain_recovers_only_what_is_reachable(
    registry: Registry, variant: str | None
) -> None:
    report, heard = run(registry, "hack", variant=variant)
    check_shape(report, heard)
    closed, open_ = report.numbers["permissioned"], report.numbers["permissionless"]
    assert closed["loss"] == 0
    assert closed["recovered"] == closed["stolen"] == 100
    assert closed["honest trades kept"] == closed["honest trades"] == 4
    assert open_["loss"] > 0
    assert open_["loss"] == open_["stolen"] - open_["recovered"]
    assert open_["honest trades kept"] == open_["honest trades"]
    rollback = step(report, "permissioned", "validators roll back")
    assert "0 failed on replay" in rollback.detail
    log = [s.detail for s in report.steps if s.step == "intervention log"]
    assert any(d.startswith("Rollback") and "executed, signed by 0x" in d for d in log)
    assert sum(d.startswith("AccountFreeze") for d in log) == 4
    assert step(report, "permissionless", "freeze or roll back").status == "refused"
    assert "immutable" in step(report, "permissionless", "freeze or roll back").detail


def test_censor_a_quorum_undoes_a_lawful_trade_only_on_the_permissioned_chain(registry: Registry) -> None:
    report, heard = run(registry, "censor")
    check_shape(report, heard)
    assert report.numbers["permissioned"] == {"buyer holds": 0, "investor frozen chain-wide": 1}
    assert report.numbers["permissionless"] == {"buyer holds": 10, "investor frozen chain-wide": 0}
    refused = step(report, "permissioned", "the investor tries to transact")
    assert refused.status == "refused" and "frozen chain-wide" in refused.detail
    for chain in CHAINS:
        assert step(report, chain, "issuer's token-level freeze").status == "refused"
        assert step(report, chain, "the investor's other business").status == "done"


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


def test_bond_cash_reconciles_to_the_unit_on_both_chains(registry: Registry) -> None:
    report, heard = run(registry, "bond")
    check_shape(report, heard)
    for chain in CHAINS:
        numbers = report.numbers[chain]
        assert numbers["holders"] == HOLDERS
        assert numbers["difference"] == 0
        assert numbers["left in the bond"] == 0
        assert numbers["bonds left"] == 0
        assert (
            numbers["issuer paid"]
            == numbers["holders received"]
            == (numbers["coupons paid"] + numbers["principal paid"])
        )
        assert numbers["coupons paid"] > 0
        assert sum(1 for s in report.steps_of(chain) if s.step.startswith("coupon ")) == 4


def test_stock_split_doubles_the_cap_table_and_the_rules_hold_only_in_kyc_mode(registry: Registry) -> None:
    report, heard = run(registry, "stock")
    check_shape(report, heard)
    for chain in CHAINS:
        numbers = report.numbers[chain]
        assert numbers["supply after split"] == 2 * numbers["supply before"] == 400
        for name in ("alice", "bruno", "chloe"):
            assert numbers[f"{name} after split"] == 2 * numbers[f"{name} before"]
        assert numbers["dividend to alice"] == 5_000 * 10**6
    assert "LOCKUP_ACTIVE" in step(report, "permissioned", "alice sells during the lock-up").detail
    assert step(report, "permissioned", "alice sells after the lock-up").status == "done"
    assert "COUNTRY_NOT_ALLOWED" in step(report, "permissioned", "the American buys").detail
    assert report.numbers["permissioned"]["american holds"] == 0
    assert report.numbers["permissionless"]["american holds"] == 5


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
