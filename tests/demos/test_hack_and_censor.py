"""hack and censor: the validators' power to freeze and roll back, used against a thief and against an
honest investor; the open chain has no such power."""

from __future__ import annotations

import pytest

from registry.runtime import Registry
from tests.demos.helpers import CHAINS, check_shape, run, step


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
