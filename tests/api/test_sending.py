"""Operations declared once with `api.sending` keep their public face: each custodial route and its
``/prepare`` twin have the operation id, method, path, status and schemas they had when they were written
out by hand, and POST /transactions completes each with the declared result and status."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import APIRouter

from api import create_app
from api.prepared import OPERATIONS
from api.schemas.transactions import OperationResultPublic
from api.sending import DECLARED, Built, Doc, plain_answer, sending

PINNED = [
    # method, path, status, request body schema, result schema, operation id, its /prepare twin's
    (
        "POST",
        "/assets/{asset_id}/mint",
        200,
        "MintCreate",
        "SupplyChangePublic",
        "mint_assets__asset_id__mint_post",
        "prepare_mint_assets__asset_id__mint_prepare_post",
    ),
    (
        "POST",
        "/assets/{asset_id}/burn",
        200,
        "BurnCreate",
        "SupplyChangePublic",
        "burn_assets__asset_id__burn_post",
        "prepare_burn_assets__asset_id__burn_prepare_post",
    ),
    (
        "POST",
        "/assets/{asset_id}/transfers",
        200,
        "TransferCreate",
        "TransferPublic",
        "transfer_assets__asset_id__transfers_post",
        "prepare_transfer_assets__asset_id__transfers_prepare_post",
    ),
    (
        "POST",
        "/assets/{asset_id}/coupons",
        201,
        "CouponCreate",
        "CouponScheduledPublic",
        "schedule_coupon_assets__asset_id__coupons_post",
        "prepare_schedule_coupon_assets__asset_id__coupons_prepare_post",
    ),
    (
        "POST",
        "/assets/{asset_id}/coupons/{period_id}/fund",
        200,
        "SenderBody",
        "FundedPublic",
        "fund_coupon_assets__asset_id__coupons__period_id__fund_post",
        "prepare_fund_coupon_assets__asset_id__coupons__period_id__fund_prepare_post",
    ),
    (
        "POST",
        "/assets/{asset_id}/coupons/{period_id}/claim",
        200,
        "ClaimCreate",
        "ClaimedPublic",
        "claim_coupon_assets__asset_id__coupons__period_id__claim_post",
        "prepare_claim_coupon_assets__asset_id__coupons__period_id__claim_prepare_post",
    ),
    (
        "POST",
        "/assets/{asset_id}/coupons/{period_id}/sweep",
        200,
        "SenderBody",
        "SweptPublic",
        "sweep_coupon_assets__asset_id__coupons__period_id__sweep_post",
        "prepare_sweep_coupon_assets__asset_id__coupons__period_id__sweep_prepare_post",
    ),
    (
        "POST",
        "/assets/{asset_id}/dividends",
        201,
        "DividendCreate",
        "DividendDeclaredPublic",
        "declare_dividend_assets__asset_id__dividends_post",
        "prepare_declare_dividend_assets__asset_id__dividends_prepare_post",
    ),
    (
        "POST",
        "/assets/{asset_id}/dividends/{dividend_id}/claim",
        200,
        "ClaimCreate",
        "ClaimedPublic",
        "claim_dividend_assets__asset_id__dividends__dividend_id__claim_post",
        "prepare_claim_dividend_assets__asset_id__dividends__dividend_id__claim_prepare_post",
    ),
    (
        "POST",
        "/assets/{asset_id}/dividends/{dividend_id}/sweep",
        200,
        "SenderBody",
        "SweptPublic",
        "sweep_dividend_assets__asset_id__dividends__dividend_id__sweep_post",
        "prepare_sweep_dividend_assets__asset_id__dividends__dividend_id__sweep_prepare_post",
    ),
    (
        "POST",
        "/assets/{asset_id}/splits",
        200,
        "SplitCreate",
        "SplitPublic",
        "split_assets__asset_id__splits_post",
        "prepare_split_assets__asset_id__splits_prepare_post",
    ),
    (
        "POST",
        "/assets/{asset_id}/call",
        200,
        "SenderBody",
        "CalledPublic",
        "call_bond_assets__asset_id__call_post",
        "prepare_call_bond_assets__asset_id__call_prepare_post",
    ),
    (
        "POST",
        "/assets/{asset_id}/redemption/fund",
        200,
        "SenderBody",
        "RedemptionFundedPublic",
        "fund_redemption_assets__asset_id__redemption_fund_post",
        "prepare_fund_redemption_assets__asset_id__redemption_fund_prepare_post",
    ),
    (
        "POST",
        "/assets/{asset_id}/redemptions",
        200,
        "RedeemCreate",
        "RedeemedPublic",
        "redeem_assets__asset_id__redemptions_post",
        "prepare_redeem_assets__asset_id__redemptions_prepare_post",
    ),
    (
        "POST",
        "/assets/{asset_id}/redemption/sweep",
        200,
        "SenderBody",
        "SweptPublic",
        "sweep_redemption_assets__asset_id__redemption_sweep_post",
        "prepare_sweep_redemption_assets__asset_id__redemption_sweep_prepare_post",
    ),
    (
        "PATCH",
        "/investors/{chain}/{investor_id}",
        200,
        "InvestorUpdate",
        "InvestorChangedPublic",
        "update_investor_investors__chain___investor_id__patch",
        "prepare_update_investors__chain___investor_id__prepare_patch",
    ),
    (
        "POST",
        "/investors/{chain}/{investor_id}/revoke",
        200,
        "SenderOnly",
        "InvestorChangedPublic",
        "revoke_investor_investors__chain___investor_id__revoke_post",
        "prepare_revoke_investors__chain___investor_id__revoke_prepare_post",
    ),
    (
        "POST",
        "/investors/{chain}/{investor_id}/wallets",
        200,
        "WalletCreate",
        "InvestorChangedPublic",
        "add_wallet_investors__chain___investor_id__wallets_post",
        "prepare_add_wallet_investors__chain___investor_id__wallets_prepare_post",
    ),
    (
        "DELETE",
        "/investors/{chain}/{investor_id}/wallets/{wallet}",
        200,
        None,
        "InvestorChangedPublic",
        "remove_wallet_investors__chain___investor_id__wallets__wallet__delete",
        "prepare_remove_wallet_investors__chain___investor_id__wallets__wallet__prepare_delete",
    ),
    (
        "PUT",
        "/assets/{asset_id}/compliance/{rule}",
        200,
        "RuleUpdate",
        "RuleChangedPublic",
        "set_rule_assets__asset_id__compliance__rule__put",
        "prepare_rule_assets__asset_id__compliance__rule__prepare_put",
    ),
    (
        "POST",
        "/assets/{asset_id}/pause",
        200,
        "EnforcementSender",
        "OperationResultPublic",
        "pause_assets__asset_id__pause_post",
        "prepare_pause_assets__asset_id__pause_prepare_post",
    ),
    (
        "POST",
        "/assets/{asset_id}/unpause",
        200,
        "EnforcementSender",
        "OperationResultPublic",
        "unpause_assets__asset_id__unpause_post",
        "prepare_unpause_assets__asset_id__unpause_prepare_post",
    ),
    (
        "POST",
        "/assets/{asset_id}/freezes",
        201,
        "FreezeCreate",
        "FreezeChangedPublic",
        "freeze_assets__asset_id__freezes_post",
        "prepare_freeze_assets__asset_id__freezes_prepare_post",
    ),
    (
        "DELETE",
        "/assets/{asset_id}/freezes/{account}",
        200,
        None,
        "FreezeChangedPublic",
        "unfreeze_assets__asset_id__freezes__account__delete",
        "prepare_unfreeze_assets__asset_id__freezes__account__prepare_delete",
    ),
    (
        "POST",
        "/assets/{asset_id}/forced-transfers",
        201,
        "ForcedTransferCreate",
        "MovePublic",
        "forced_transfer_assets__asset_id__forced_transfers_post",
        "prepare_forced_transfer_assets__asset_id__forced_transfers_prepare_post",
    ),
    (
        "POST",
        "/assets/{asset_id}/recoveries",
        201,
        "RecoveryCreate",
        "MovePublic",
        "recover_wallet_assets__asset_id__recoveries_post",
        "prepare_recovery_assets__asset_id__recoveries_prepare_post",
    ),
]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    found: dict[str, Any] = create_app().openapi()
    return found


def _schema(content: dict[str, Any] | None) -> str | None:
    if content is None:
        return None
    return str(content["application/json"]["schema"]["$ref"]).rsplit("/", 1)[1]


def _row(document: dict[str, Any], method: str, path: str) -> tuple[Any, ...]:
    operation = document["paths"][path][method.lower()]
    (status,) = [code for code in operation["responses"] if code.startswith("2")]
    body = operation.get("requestBody", {}).get("content")
    return (method, path, int(status), _schema(body), _schema(operation["responses"][status]["content"]))


def test_each_declared_route_and_its_twin_keep_their_ids_statuses_and_schemas(
    document: dict[str, Any],
) -> None:
    found = []
    for method, path, *_rest in PINNED:
        custodial = _row(document, method, path)
        twin = _row(document, method, f"{path}/prepare")
        assert twin == (method, f"{path}/prepare", 201, custodial[3], "PreparedPublic")
        ids = (
            document["paths"][path][method.lower()]["operationId"],
            document["paths"][f"{path}/prepare"][method.lower()]["operationId"],
        )
        found.append((*custodial, *ids))
    assert found == PINNED


def test_the_declarations_are_the_pinned_operations_and_complete_as_declared() -> None:
    declared = [(d.method, d.path, d.status_code, d.result.__name__) for d in DECLARED]
    assert sorted(declared) == sorted((row[0], row[1], row[2], row[4]) for row in PINNED)
    ids = {(row[0], row[1]): (row[5], row[6]) for row in PINNED}
    for d in DECLARED:
        custodial_id, twin_id = ids[(d.method, d.path)]
        assert custodial_id.startswith(f"{d.custodial.name}_"), d.name
        assert twin_id.startswith(f"{d.prepared.name}_"), d.name
        assert (OPERATIONS[d.name].result, OPERATIONS[d.name].status_code) == (d.result, d.status_code)


def _no_caller(registry: Any, asset_id: str) -> Built:
    raise AssertionError("never called")


def _clashing(registry: Any, caller: Any, now: int) -> Built:
    raise AssertionError("never called")


@pytest.mark.parametrize("build", [_no_caller, _clashing])
def test_a_build_must_take_the_registry_and_the_caller_then_request_parameters_only(build: Any) -> None:
    with pytest.raises(TypeError):
        sending(
            APIRouter(),
            "/x",
            "tests.refused",
            OperationResultPublic,
            build=build,
            answer=plain_answer,
            dependencies=[],
            custodial=Doc("x", "X", "An operation that is never registered."),
            prepared=Doc("prepare_x", "Prepare X", "Its twin."),
        )
    assert "tests.refused" not in OPERATIONS
