"""Role ids match the contracts' constants; dry runs tell a revert (decoded), running out of gas, and
success apart without sending anything."""

from __future__ import annotations

from eth_account import Account

from registry.artifacts import load_artifact
from registry.context import check_address
from registry.custody.transactions import PreparedTransaction
from registry.dryrun import CallFailure, dry_run
from registry.roles import ROLE_IDS, role_name
from registry.runtime import Registry
from tests.registry_fixtures import make_world, registry

__all__ = ["registry"]


def test_role_ids_are_the_contracts_constants(registry: Registry) -> None:
    world = make_world(registry, "permissionless")
    cash = registry.context.token(registry.asset(world.cash))
    bond = registry.context.token(registry.asset(world.bond("open")))
    assert bond.functions.SUPPLY_ROLE().call() == ROLE_IDS["supply"]
    assert bond.functions.ENFORCEMENT_ROLE().call() == ROLE_IDS["enforcement"]
    assert bond.functions.COMPLIANCE_ROLE().call() == ROLE_IDS["compliance"]
    assert bond.functions.DEFAULT_ADMIN_ROLE().call() == ROLE_IDS["admin"]
    assert cash.functions.MINTER_ROLE().call() == ROLE_IDS["minter"]
    identity = load_artifact("IdentityRegistry")
    assert any(item.get("name") == "KYC_PROVIDER_ROLE" for item in identity.abi)
    assert role_name(ROLE_IDS["kyc-provider"]) == "kyc-provider" and role_name(b"\1" * 32) == "0x" + "01" * 32


def test_a_dry_run_reports_reverts_and_gas_without_sending(registry: Registry) -> None:
    world = make_world(registry, "permissioned")
    access = registry.context.chain("permissioned")
    token = registry.context.token(registry.asset(world.cash))
    mint = PreparedTransaction(
        chain="permissioned",
        sender=check_address(world.issuer, "issuer"),
        to=token.address,
        data=token.encode_abi("mint", [world.issuer, 1]),
        description="mint",
    )
    before = access.w3.eth.get_transaction_count(check_address(world.issuer, "issuer"))
    assert dry_run(access.w3, mint) is None
    stranger = PreparedTransaction(
        chain="permissioned",
        sender=check_address(Account.create().address, "stranger"),
        to=token.address,
        data=mint.data,
        description="mint",
    )
    refused = dry_run(access.w3, stranger)
    assert isinstance(refused, CallFailure) and refused.error is not None
    assert refused.error.name == "AccessControlUnauthorizedAccount" and not refused.out_of_gas
    assert str(refused).startswith("AccessControlUnauthorizedAccount(")
    starved = dry_run(access.w3, mint.with_gas(30_000))
    assert starved is not None and starved.out_of_gas
    assert access.w3.eth.get_transaction_count(check_address(world.issuer, "issuer")) == before
    assert str(CallFailure(message="m", data=b"\x12\x34\x56\x78")).startswith("an error unknown")
