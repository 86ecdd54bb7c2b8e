"""The one mapping of errors to problem details: every kind of registry error, and the unexpected one
(500 with a correlation id, logged with its traceback, never echoed)."""

from __future__ import annotations

import logging

import pytest

from api.errors import PROBLEM_TYPES, problem_for
from registry.bulk.report import BatchReport
from registry.chain import errors as chain_errors
from registry.compliance import Rule, explain_one, explain_withheld
from registry.custody.batches import BatchOutcome
from registry.errors import (
    BatchStoppedError,
    ComplianceRefusedError,
    ConfigurationError,
    OperationRefusedError,
    PaymentWithheldError,
    RoleMissingError,
    SubmissionRejectedError,
    TransactionNotLandedError,
    TransactionRevertedError,
)
from registry.reverts import DecodedError

from .conftest import Api, problem

ACCOUNT = "0x" + "ab" * 20


def test_a_compliance_refusal_lists_every_broken_rule() -> None:
    broken = (explain_one(Rule.COUNTRY_NOT_ALLOWED), explain_one(Rule.LOCKUP_ACTIVE))
    status, body, _ = problem_for(
        ComplianceRefusedError("refused", asset_id="bond-1", violations=broken, items={2: broken}), "/x"
    )
    assert status == 422 and body["type"] == "/problems/compliance-refused"
    assert [v["name"] for v in body["violations"]] == ["COUNTRY_NOT_ALLOWED", "LOCKUP_ACTIVE"]
    assert body["violations"][0] == {
        "code": 7,
        "name": "COUNTRY_NOT_ALLOWED",
        "sentence": broken[0].message,
        "remedy": broken[0].remedy,
    }
    assert list(body["items"]) == ["2"]


def test_reverts_name_their_custom_error_with_decoded_arguments() -> None:
    error = DecodedError("ERC20InsufficientBalance", {"sender": ACCOUNT, "balance": 2**200, "needed": 5})
    status, body, _ = problem_for(
        TransactionRevertedError("r", description="mint", error=error, data=b"", sent=False), "/x"
    )
    assert (status, body["type"]) == (422, "/problems/transaction-would-revert")
    assert body["error"] == {
        "name": "ERC20InsufficientBalance",
        "args": {"sender": ACCOUNT, "balance": str(2**200), "needed": 5},
    }
    status, body, _ = problem_for(
        TransactionRevertedError(
            "r", description="mint", error=error, data=b"", sent=True, tx_hash=b"\x01" * 32, block_number=7
        ),
        "/x",
    )
    assert (status, body["tx_hash"], body["block_number"]) == (409, "0x" + "01" * 32, 7)
    refused = OperationRefusedError("no", error=DecodedError("RecordDateNotReached", {"id": b"\x0a"}))
    assert problem_for(refused, "/x")[1]["error"] == {"name": "RecordDateNotReached", "args": {"id": "0x0a"}}


def test_withheld_payments_and_missing_chain_roles_carry_their_custom_error() -> None:
    withheld = PaymentWithheldError("w", asset_id="bond-1", payee=ACCOUNT, violation=explain_withheld(4))
    status, body, _ = problem_for(withheld, "/x")
    assert status == 422 and body["error"] == {
        "name": "RegulatedTokenPaymentWithheld",
        "args": {"payee": ACCOUNT, "rule": 4},
    }
    missing = RoleMissingError("m", role="supply", account=ACCOUNT, contract="bond-1")
    status, body, _ = problem_for(missing, "/x")
    assert (status, body["chain_role"], body["error"]["name"]) == (
        403,
        "supply",
        "AccessControlUnauthorizedAccount",
    )


@pytest.mark.parametrize(
    ("reason", "refusal"),
    [
        ("sender 0xab…ab is not registered in the identity registry at 0x1d…01", "unregistered"),
        ("the KYC of sender 0xab…ab (investor #3 in the registry) is valid until 2026", "kyc-expired"),
        ("sender 0xab…ab belongs to investor #3, which was revoked in the registry", "kyc-revoked"),
        ("sender 0xab…ab is frozen chain-wide since block 4 by intervention 0x01", "frozen"),
    ],
)
def test_the_permissioned_chains_sender_refusals_say_what_to_do(reason: str, refusal: str) -> None:
    rejected = SubmissionRejectedError(
        "x", description="mint", reason=f"{reason} (refused before it runs; …)"
    )
    status, body, _ = problem_for(rejected, "/x")
    assert (status, body["refusal"]) == (422, refusal)
    assert body["remedy"] in body["detail"] and "refused before it runs" not in body["detail"]


def test_other_chain_and_custody_errors() -> None:
    assert problem_for(chain_errors.ImmutableChainError("final"), "/x")[0] == 409
    assert problem_for(chain_errors.NotSupportedByBackendError("no"), "/x")[0] == 501
    late = TransactionNotLandedError(
        "late", description="mint", tx_hash=b"\x02" * 32, nonce=3, sender=ACCOUNT
    )
    status, body, _ = problem_for(late, "/x")
    assert (status, body["tx_hash"], body["nonce"]) == (504, "0x" + "02" * 32, 3)
    assert (
        problem_for(SubmissionRejectedError("x", description="d", reason="nonce too low"), "/x")[1]["reason"]
        == "nonce too low"
    )
    assert problem_for(ConfigurationError("REGISTRY_X is invalid"), "/x")[0] == 503


def test_every_problem_type_is_served_by_the_catalogue(sqlite_api: Api) -> None:
    listed = sqlite_api.client.get("/problems").json()["items"]
    assert {item["type"] for item in listed} == {kind.uri for kind in PROBLEM_TYPES.values()}
    one = sqlite_api.client.get("/problems/compliance-refused").json()
    assert one["status"] == 422
    problem(sqlite_api.client.get("/problems/nope"), 404, "not-found")
    problem(sqlite_api.client.get("/no/such/route"), 404, "not-found")
    problem(sqlite_api.client.put("/health"), 405, "method-not-allowed")


def test_an_unexpected_error_is_a_500_with_a_correlation_id_logged_and_never_echoed(
    sqlite_api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "passphrase-hunter2-in-an-exception"

    def broken(**_kwargs: object) -> list[object]:
        raise RuntimeError(secret)

    monkeypatch.setattr(sqlite_api.registry, "assets", broken)
    with caplog.at_level(logging.ERROR, logger="api.errors"):
        response = sqlite_api.call("GET", "/assets", "auditor")
    body = problem(response, 500, "internal-error")
    assert secret not in response.text
    assert body["correlation_id"] in body["detail"]
    assert body["correlation_id"] in caplog.text and "RuntimeError" in caplog.text


def test_a_batch_stop_carries_its_report_and_batch_id() -> None:
    report = BatchReport(
        batch_id="api-x", operation="mint", chain="permissionless", items=(), transactions=0, gas_used=0
    )
    stopped = BatchStoppedError("stopped", outcome=BatchOutcome(results=()), report=report)
    status, body, _ = problem_for(stopped, "/x")
    assert (status, body["batch_id"]) == (409, "api-x") and body["report"]["batch_id"] == "api-x"
