"""The non-custodial flow's second step: post a prepared transaction, signed; get the operation's result.

`build_router` is called once every router has registered its operations (`api.prepared.operation`),
so that the OpenAPI document lists every result this endpoint can answer with.
"""

from __future__ import annotations

from typing import Any, Union

from fastapi import APIRouter
from fastapi.responses import Response

from api.deps import ClockDep, IdempotencyDep, PrincipalDep, RegistryDep
from api.prepared import OPERATIONS
from api.schemas.transactions import SignedTransactionCreate
from api.security import allow
from registry.access import prepared as store
from registry.custody.sender import check_expected
from registry.custody.transactions import decode_signed
from registry.errors import InvalidInputError, SignedTransactionMismatchError

TAG = {
    "name": "transactions",
    "description": "The non-custodial flow: an operation's `/prepare` twin gives an unsigned "
    "transaction; the "
    "client signs it with its own wallet and posts it here; the answer is the same as the custodial form's.",
}


def build_router() -> APIRouter:
    """The router, answering with the result of whichever operation was prepared."""
    router = APIRouter(prefix="/transactions", tags=["transactions"])
    results: tuple[Any, ...] = tuple(dict.fromkeys(op.result for op in OPERATIONS.values()))
    response_model: Any = Union[results] if len(results) > 1 else results[0]  # noqa: UP007
    statuses = sorted({op.status_code for op in OPERATIONS.values()})

    @router.post(
        "",
        status_code=statuses[0],
        response_model=response_model,
        responses={status: {"description": "The operation's result"} for status in statuses[1:]},
        dependencies=[allow("admin", "issuer", "agent", "kyc-provider", "validator", "investor")],
        summary="Send a signed prepared transaction",
        description="Checks that the signed transaction is the prepared one (sender, target, data, value and "
        "chain; a wallet may change fees, gas and nonce), sends it, waits for it, and answers with the "
        "operation's result and status, as its custodial form does (201 for an issue). Only the key that "
        "prepared it may post it, once. Send an Idempotency-Key to retry safely.",
    )
    def submit(
        body: SignedTransactionCreate,
        registry: RegistryDep,
        caller: PrincipalDep,
        idem: IdempotencyDep,
        now: ClockDep,
    ) -> Response:
        """Send a signed prepared transaction."""
        with registry.db.read() as session:
            prepared = store.load(session, body.prepared_id, key_id=caller.key_id, now=now)
        operation = OPERATIONS[prepared.operation]

        def work() -> Any:
            try:
                fields = decode_signed(body.raw_transaction)
            except InvalidInputError as exc:
                raise InvalidInputError("raw_transaction", str(exc).removeprefix("raw: ")) from None
            if fields.chain_id != prepared.unsigned.chain_id:
                raise SignedTransactionMismatchError(
                    f"the transaction is signed for chain id {fields.chain_id}; it was prepared for the "
                    f"{prepared.chain} chain ({prepared.unsigned.chain_id}): sign it again for that chain",
                    (("chain_id", prepared.unsigned.chain_id, fields.chain_id),),
                )
            check_expected(fields, prepared.unsigned)
            with registry.db.write() as session:
                store.mark_submitted(session, prepared.prepared_id, "0x" + fields.tx_hash.hex())
            outcome = registry.submit_signed(fields.raw, expected=prepared.unsigned)
            return operation.complete(registry, prepared, outcome)

        return idem.run(work, status_code=operation.status_code)

    return router
