"""bond and stock: the same assets' lifecycles on both chains; cash reconciles, the cap table follows."""

from __future__ import annotations

from registry.runtime import Registry
from tests.demos.conftest import HOLDERS
from tests.demos.helpers import CHAINS, check_shape, run, step


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
