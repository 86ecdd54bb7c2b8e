"""The one place where errors become HTTP: RFC 9457 problem details (``application/problem+json``).

Every response of status 400 and above is a problem: ``type`` (a URI reference ``/problems/<slug>``,
described by ``GET /problems/<slug>``), ``title``, ``status``, ``detail`` (what went wrong and what to do),
``instance`` (the request path), plus the fields of its type: ``field`` for a malformed field,
``violations`` for a compliance refusal, ``error`` (a custom error's name and decoded arguments) for a
revert, ``roles_needed`` for a key whose role does not allow the call, and so on (`PROBLEM_TYPES`).

Routers raise the registry's own errors (or `ApiProblemError` for what only the API knows: a key's scope, a
resource it cannot find) and never build error responses themselves; `install` puts the handlers on the
app, and `problem_for` is what the idempotency layer calls to store the same response it returns.

Anything unexpected is a 500 whose detail says nothing of the cause but gives a correlation id; the
server logs the traceback under that id. No response or log line carries an API key, a passphrase or a
private key: the registry's errors never hold them, and unexpected errors are not echoed.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from registry.chain import errors as chain_errors
from registry.chain.consensus import proposals
from registry.compliance import Violation
from registry.demos.runs import DemoRunningError
from registry.errors import (
    AssetExistsError,
    BatchStoppedError,
    BlockNotIndexedError,
    ComplianceRefusedError,
    ConfigurationError,
    DatabaseUnavailableError,
    IndexBehindError,
    InvalidInputError,
    KeyExistsError,
    KycRegistrationError,
    LastAdminKeyError,
    NoSigningKeyError,
    OperationRefusedError,
    PaymentWithheldError,
    RegistryError,
    RoleMissingError,
    SignedTransactionMismatchError,
    StaleCursorError,
    SubmissionRejectedError,
    TransactionNotLandedError,
    TransactionRevertedError,
    UnknownApiKeyError,
    UnknownAssetError,
    UnknownInvestorError,
    UnknownPreparedOperationError,
)
from registry.reverts import DecodedError

logger = logging.getLogger("api.errors")

PROBLEM_JSON: Final = "application/problem+json"


@dataclass(frozen=True)
class ProblemType:
    """A kind of problem: its slug (``type`` is ``/problems/<slug>``), title, status and what it means."""

    slug: str
    title: str
    status: int
    description: str

    @property
    def uri(self) -> str:
        """The ``type`` member of its problems."""
        return f"/problems/{self.slug}"


_TYPES: tuple[ProblemType, ...] = (
    ProblemType(
        "validation-error",
        "Invalid request",
        422,
        "A field, parameter or header is malformed; "
        "`field` names the first, `errors` lists each with what is expected.",
    ),
    ProblemType(
        "invalid-input",
        "Invalid input",
        422,
        "A value was refused by the registry's checks "
        "(terms, ISIN, dates, amounts, cursor); `field` names it.",
    ),
    ProblemType(
        "unauthenticated",
        "API key missing or invalid",
        401,
        "Send a valid API key as `Authorization: Bearer rk_…`; a revoked key is invalid.",
    ),
    ProblemType(
        "role-forbidden",
        "Role not allowed",
        403,
        "The key's role may not call this operation; "
        "`roles_needed` lists the roles that may, `role` is the key's.",
    ),
    ProblemType(
        "scope-forbidden",
        "Outside the key's scope",
        403,
        "The key's role allows the operation, "
        "but not on this address or asset (an issuer acts only as its own addresses, an agent only on "
        "its assigned assets, an investor only as its own wallets).",
    ),
    ProblemType(
        "not-found",
        "Not found",
        404,
        "No such resource (asset, investor, API key, prepared transaction, "
        "block, route); `resource` says what was looked for.",
    ),
    ProblemType("method-not-allowed", "Method not allowed", 405, "The path exists, the method does not."),
    ProblemType(
        "compliance-refused",
        "Refused by the token's compliance rules",
        422,
        "The transfer or "
        "mint would break the token's rules; `violations` lists every broken rule (code, name, "
        "what is wrong, what to do). Nothing was sent.",
    ),
    ProblemType(
        "payment-withheld",
        "Payment would be withheld",
        422,
        "The token would withhold this "
        "coupon, dividend or principal; `violation` says why and what clears it. Nothing was sent.",
    ),
    ProblemType(
        "chain-role-missing",
        "The sender lacks an on-chain role",
        403,
        "The sender does not hold "
        "the contract role the operation needs (`chain_role`); the asset's admin can grant it. "
        "Nothing was sent.",
    ),
    ProblemType(
        "operation-refused",
        "Operation refused by the chain's state",
        409,
        "The chain's current "
        "state forbids the operation; `error` is the contract's custom error when known. Nothing "
        "was sent.",
    ),
    ProblemType(
        "transaction-would-revert",
        "The transaction would revert",
        422,
        "Its gas estimate reverted; `error` is the decoded custom error. Nothing was sent, no gas spent.",
    ),
    ProblemType(
        "transaction-reverted",
        "The transaction reverted on chain",
        409,
        "It was mined with "
        "status 0 (gas was spent); `error` is the decoded custom error, `tx_hash` and "
        "`block_number` say where.",
    ),
    ProblemType(
        "sender-not-permitted",
        "The chain refuses the sender",
        422,
        "The permissioned chain lets "
        "only wallets its identity registry verifies send; `refusal` says why (unregistered, "
        "kyc-expired, kyc-revoked, frozen) and `remedy` what to do.",
    ),
    ProblemType(
        "submission-rejected",
        "The node refused the transaction",
        409,
        "It never entered a block; `reason` is the node's message. Its nonce is free again.",
    ),
    ProblemType(
        "transaction-not-landed",
        "The transaction did not land in time",
        504,
        "It was sent but "
        "no receipt came by the deadline, or the node dropped it; it is never re-sent "
        "automatically. Look `tx_hash` up before trying again.",
    ),
    ProblemType(
        "no-signing-key",
        "Custody holds no key for the sender",
        409,
        "Use the non-custodial "
        "flow: the operation's prepare endpoint gives the transaction to sign, POST /transactions "
        "sends the signed one.",
    ),
    ProblemType(
        "signed-transaction-mismatch",
        "The signed transaction is not the prepared one",
        422,
        "`mismatches` lists each differing field. Nothing was sent: sign the prepared transaction as it is.",
    ),
    ProblemType(
        "batch-stopped",
        "The batch stopped half way",
        409,
        "`report` says item by item what "
        "landed and what did not; retry with the same Idempotency-Key (or `batch_id`) to send only "
        "what did not land.",
    ),
    ProblemType(
        "kyc-registration-refused",
        "The identity registry refused",
        409,
        "The identity registry refuses this registration (e.g. a revoked investor).",
    ),
    ProblemType(
        "conflict",
        "Conflict",
        409,
        "The resource exists already, or the change would leave the "
        "registry unusable (e.g. revoking the last admin key).",
    ),
    ProblemType(
        "demo-running",
        "A demo is running",
        409,
        "One demo runs at a time on a server; `run_id` names the running one: follow it at "
        "GET /demos/runs/{run_id} and start yours once it has ended.",
    ),
    ProblemType(
        "stale-cursor",
        "The cursor's block is gone",
        409,
        "A rollback replaced the block the cursor was pinned to; start again without a cursor.",
    ),
    ProblemType(
        "immutable-chain",
        "The chain's history is final",
        409,
        "Interventions and validator votes exist on the permissioned chain only.",
    ),
    ProblemType(
        "not-a-validator",
        "Not a current validator",
        403,
        "Only the chain's current validators sign proposals, and custody signs only for the validator "
        "keys this node holds; `validator` names the address refused.",
    ),
    ProblemType(
        "invalid-proposal-signature",
        "The signature does not recover to the validator",
        422,
        "Sign the proposal's `typed_data` (EIP-712, `eth_signTypedData_v4`) with the validator's key "
        "and send the 65-byte signature as 0x-hex.",
    ),
    ProblemType(
        "proposal-refused",
        "The proposal cannot apply to the chain as it is",
        409,
        "E.g. freezing an account already frozen, rolling back to a block that is not below the head, "
        "adding a current validator. Nothing was proposed.",
    ),
    ProblemType(
        "quorum-not-reached",
        "Too few validator signatures",
        409,
        "The proposal needs more signatures of current validators before it can be carried out; "
        "`signers` and `threshold` say where it stands. Nothing was changed.",
    ),
    ProblemType(
        "proposal-closed",
        "The proposal was already carried out",
        409,
        "An executed or failed proposal is final: it is not signed or executed again. Look at its "
        "`status` and outcome.",
    ),
    ProblemType(
        "not-supported-by-backend",
        "Not supported by this chain's backend",
        501,
        "An external node lacks the feature (e.g. interventions).",
    ),
    ProblemType(
        "idempotency-key-reused",
        "Idempotency-Key used for another request",
        422,
        "The key was first used with another method, path or body; use a new key for a new request.",
    ),
    ProblemType(
        "idempotency-in-flight",
        "The first request with this Idempotency-Key is still running",
        409,
        "Retry once it has finished: the retry then gets its response.",
    ),
    ProblemType(
        "idempotency-interrupted",
        "The first request with this Idempotency-Key was cut short",
        409,
        "The server stopped while it ran, after signing `transactions`; they are not sent again. "
        "Look them up before deciding what to do next.",
    ),
    ProblemType("index-behind", "The index is behind the chain", 503, "Retry shortly."),
    ProblemType(
        "service-unavailable",
        "A backing service is unavailable",
        503,
        "The database or a chain's node cannot be reached, or the server is misconfigured; retry later.",
    ),
    ProblemType(
        "internal-error",
        "Internal error",
        500,
        "Something unexpected failed; `correlation_id` names the server's log entry.",
    ),
)

PROBLEM_TYPES: Final[dict[str, ProblemType]] = {problem.slug: problem for problem in _TYPES}
"""Every problem type, by slug."""


class ApiProblemError(Exception):
    """A problem only the API knows (scope, not found, idempotency...): raise it from a router."""

    def __init__(self, slug: str, detail: str, *, headers: Mapping[str, str] | None = None, **extra: Any):
        super().__init__(detail)
        if slug not in PROBLEM_TYPES:
            raise ValueError(f"unknown problem type {slug!r}")
        self.slug = slug
        self.detail = detail
        self.extra = extra
        self.headers = dict(headers or {})


def not_found(resource: str, detail: str) -> ApiProblemError:
    """A 404 problem for ``resource`` (``asset``, ``api-key``, ``block``...)."""
    return ApiProblemError("not-found", detail, resource=resource)


# -- mapping ------------------------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """A decoded contract value as JSON: bytes as 0x-hex, integers beyond 2**53 as decimal text (so
    JavaScript clients keep them exact), sequences and mappings element by element."""
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, bool) or value is None or isinstance(value, str | float):
        return value
    if isinstance(value, int):
        return value if abs(value) <= 2**53 else str(value)
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, Sequence):
        return [jsonable(item) for item in value]
    return str(value)


def decoded(error: DecodedError | None) -> dict[str, Any] | None:
    """A decoded custom error as ``{"name", "args"}``."""
    if error is None:
        return None
    return {"name": error.name, "args": jsonable(error.args)}


def violation_json(violation: Violation) -> dict[str, Any]:
    """A broken rule: its code, name, what is wrong, what to do."""
    return {
        "code": violation.code,
        "name": violation.name,
        "sentence": violation.message,
        "remedy": violation.remedy,
    }


_SENDER_REFUSALS: Final[dict[type[chain_errors.SenderNotPermittedError], tuple[str, str]]] = {
    chain_errors.UnregisteredSenderError: (
        "unregistered",
        "Have a KYC provider register this wallet in the permissioned chain's identity registry (a new "
        "investor, or a wallet added to one it knows), then send again.",
    ),
    chain_errors.KycExpiredError: (
        "kyc-expired",
        "Have a KYC provider renew the investor's KYC with a later expiry, then send again.",
    ),
    chain_errors.KycRevokedError: (
        "kyc-revoked",
        "A revocation is final: a KYC provider must register the person anew, as a new investor with a "
        "new wallet.",
    ),
    chain_errors.SenderFrozenError: (
        "frozen",
        "The validators froze this account chain-wide: only a validator quorum can lift it (an unfreeze "
        "intervention).",
    ),
    chain_errors.SenderNotPermittedError: (
        "not-verified",
        "Ask a KYC provider of the chain's identity registry to check the wallet's record.",
    ),
}


def _sender_refusal(text: str, tx_hash: bytes | None) -> tuple[str, str, dict[str, Any]] | None:
    kind = chain_errors.sender_refusal_of(text)
    if kind is None:
        return None
    refusal, remedy = _SENDER_REFUSALS[kind]
    reason = text.split(" (refused before it runs", 1)[0]
    extra: dict[str, Any] = {"refusal": refusal, "remedy": remedy}
    if tx_hash is not None:
        extra["tx_hash"] = "0x" + bytes(tx_hash).hex()
    return "sender-not-permitted", f"{reason}. {remedy}", extra


def _classify(exc: BaseException) -> tuple[str, str, dict[str, Any]] | None:
    """The slug, detail and extra fields of a known error; None for an unexpected one."""
    text = str(exc)
    if isinstance(exc, ApiProblemError):
        return exc.slug, exc.detail, dict(exc.extra)
    if isinstance(exc, UnknownAssetError):
        return "not-found", text, {"resource": "asset"}
    if isinstance(exc, UnknownApiKeyError):
        return "not-found", text, {"resource": "api-key"}
    if isinstance(exc, UnknownPreparedOperationError):
        return "not-found", text, {"resource": "prepared-transaction"}
    if isinstance(exc, UnknownInvestorError):
        return "not-found", text, {"resource": "investor"}
    if isinstance(exc, BlockNotIndexedError):
        return "not-found", text, {"resource": "block"}
    if isinstance(exc, InvalidInputError):
        return "invalid-input", text, {"field": exc.field}
    if isinstance(exc, ComplianceRefusedError):
        extra: dict[str, Any] = {
            "asset_id": exc.asset_id,
            "violations": [violation_json(v) for v in exc.violations],
        }
        if exc.items:
            extra["items"] = {
                str(position): [violation_json(v) for v in found] for position, found in exc.items.items()
            }
        return "compliance-refused", text, extra
    if isinstance(exc, PaymentWithheldError):
        return (
            "payment-withheld",
            text,
            {
                "asset_id": exc.asset_id,
                "payee": exc.payee,
                "violation": violation_json(exc.violation),
                "error": {
                    "name": "RegulatedTokenPaymentWithheld",
                    "args": {"payee": exc.payee, "rule": exc.violation.code},
                },
            },
        )
    if isinstance(exc, RoleMissingError):
        return (
            "chain-role-missing",
            text,
            {
                "chain_role": exc.role,
                "account": exc.account,
                "contract": exc.contract,
                "error": {
                    "name": "AccessControlUnauthorizedAccount",
                    "args": {"account": exc.account, "neededRole": exc.role},
                },
            },
        )
    if isinstance(exc, OperationRefusedError):
        return "operation-refused", text, {"error": decoded(exc.error)}
    if isinstance(exc, TransactionRevertedError):
        message = exc.error.args.get("message") if exc.error and exc.error.name == "Error" else None
        refusal = _sender_refusal(str(message), exc.tx_hash) if isinstance(message, str) else None
        if refusal is not None:
            return refusal
        extra = {"error": decoded(exc.error), "description": exc.description}
        if not exc.sent:
            return "transaction-would-revert", text, extra
        extra |= {
            "tx_hash": "0x" + bytes(exc.tx_hash).hex() if exc.tx_hash else None,
            "block_number": exc.block_number,
            "gas_used": exc.gas_used,
        }
        return "transaction-reverted", text, extra
    if isinstance(exc, SubmissionRejectedError):
        return _sender_refusal(exc.reason, exc.tx_hash) or (
            "submission-rejected",
            text,
            {"reason": exc.reason, "description": exc.description},
        )
    if isinstance(exc, TransactionNotLandedError):
        return (
            "transaction-not-landed",
            text,
            {
                "tx_hash": "0x" + bytes(exc.tx_hash).hex() if exc.tx_hash else None,
                "nonce": exc.nonce,
                "sender": exc.sender,
            },
        )
    if isinstance(exc, BatchStoppedError):
        return "batch-stopped", text, {"batch_id": exc.batch_id, "report": jsonable(exc.report.to_json())}
    if isinstance(exc, NoSigningKeyError):
        return "no-signing-key", text, {}
    if isinstance(exc, SignedTransactionMismatchError):
        return (
            "signed-transaction-mismatch",
            text,
            {
                "mismatches": [
                    {"field": name, "prepared": jsonable(want), "signed": jsonable(got)}
                    for name, want, got in exc.mismatches
                ]
            },
        )
    if isinstance(exc, chain_errors.SenderNotPermittedError):
        return _sender_refusal(text, None) or ("sender-not-permitted", text, {})
    if isinstance(exc, KycRegistrationError):
        return "kyc-registration-refused", text, {}
    if isinstance(exc, AssetExistsError | LastAdminKeyError | KeyExistsError):
        return "conflict", text, {}
    if isinstance(exc, DemoRunningError):
        return "demo-running", text, {"run_id": exc.run_id}
    if isinstance(exc, StaleCursorError):
        return "stale-cursor", text, {"field": "cursor"}
    if isinstance(exc, proposals.UnknownProposalError):
        return "not-found", text, {"resource": "proposal"}
    if isinstance(exc, proposals.NotAValidatorError):
        return "not-a-validator", text, {}
    if isinstance(exc, proposals.InvalidProposalSignatureError):
        return "invalid-proposal-signature", text, {"field": "signature"}
    if isinstance(exc, proposals.InvalidProposalError):
        return "proposal-refused", text, {}
    if isinstance(exc, proposals.QuorumNotReachedError):
        return "quorum-not-reached", text, {}
    if isinstance(exc, proposals.ProposalClosedError):
        return "proposal-closed", text, {}
    if isinstance(exc, chain_errors.ImmutableChainError):
        return "immutable-chain", text, {}
    if isinstance(exc, chain_errors.NotSupportedByBackendError):
        return "not-supported-by-backend", text, {}
    if isinstance(exc, IndexBehindError):
        return "index-behind", text, {}
    if isinstance(
        exc,
        DatabaseUnavailableError
        | ConfigurationError
        | chain_errors.ChainConnectionError
        | chain_errors.ChainClosedError,
    ):
        # Their texts name settings and hide passwords (registry.settings, registry.index.db).
        return "service-unavailable", text, {}
    return None


def problem_for(exc: BaseException, instance: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    """The status, problem body and headers for ``exc`` met while answering ``instance``."""
    headers: dict[str, str] = dict(exc.headers) if isinstance(exc, ApiProblemError) else {}
    classified = _classify(exc)
    if classified is None:
        correlation = uuid.uuid4().hex
        logger.error("unexpected error %s while answering %s", correlation, instance, exc_info=exc)
        classified = (
            "internal-error",
            f"the server met an unexpected error; its log has the details under {correlation}",
            {"correlation_id": correlation},
        )
    slug, detail, extra = classified
    status, body = problem_body(slug, detail, instance, **extra)
    return status, body, headers


def problem_body(slug: str, detail: str, instance: str, **extra: Any) -> tuple[int, dict[str, Any]]:
    """A problem of type ``slug``: its status and body."""
    kind = PROBLEM_TYPES[slug]
    body = {
        "type": kind.uri,
        "title": kind.title,
        "status": kind.status,
        "detail": detail,
        "instance": instance,
    }
    body.update({key: value for key, value in extra.items() if key not in body})
    return kind.status, body


def problem_response(
    status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """The ``application/problem+json`` response of a problem body."""
    return JSONResponse(dict(body), status_code=status, headers=dict(headers or {}), media_type=PROBLEM_JSON)


# -- handlers -----------------------------------------------------------------------------------------


def _field_of(location: Sequence[Any]) -> str:
    parts = [str(part) for part in location]
    if parts and parts[0] in ("body", "query", "path", "header"):
        source, parts = parts[0], parts[1:]
        if source == "header" and parts:
            return f"header {parts[0]}"
    return ".".join(parts) or "body"


def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Only the location and pydantic's message: never the submitted value, which could be anything.
    errors = [
        {"field": _field_of(error.get("loc", ())), "message": str(error.get("msg", "invalid"))}
        for error in exc.errors()
    ]
    shown = "; ".join(f"{error['field']}: {error['message']}" for error in errors[:5])
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    status, body = problem_body(
        "validation-error",
        f"{shown}{more}",
        request.url.path,
        field=errors[0]["field"] if errors else "body",
        errors=errors,
    )
    return problem_response(status, body)


def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        status, body = problem_body(
            "not-found", f"no route {request.url.path}: see /docs", request.url.path, resource="route"
        )
    elif exc.status_code == 405:
        status, body = problem_body(
            "method-not-allowed", f"{request.method} is not served at {request.url.path}", request.url.path
        )
    else:
        status, body = (
            exc.status_code,
            {
                "type": "about:blank",
                "title": str(exc.detail),
                "status": exc.status_code,
                "detail": str(exc.detail),
                "instance": request.url.path,
            },
        )
    return problem_response(status, body, getattr(exc, "headers", None))


def _problem(request: Request, exc: Exception) -> JSONResponse:
    status, body, headers = problem_for(exc, request.url.path)
    return problem_response(status, body, headers)


def install(app: FastAPI) -> None:
    """Put the problem handlers on ``app``: validation errors, HTTP errors, the registry's errors and
    `ApiProblemError`, and (as Starlette's last resort, which also lets the server log it) anything else."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(RegistryError, _problem)
    app.add_exception_handler(ApiProblemError, _problem)
    app.add_exception_handler(Exception, _problem)
