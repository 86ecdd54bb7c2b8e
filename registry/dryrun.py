"""Ask the chain what a prepared transaction would do, without sending it (``eth_call``).

The services run every pre-check this way: a batch chunk is called with the gas it will be sent with,
so a chunk that would revert, or run out of that gas, is found before anything is signed; a claim is
called from the wallet that will claim, so a withheld payment is refused with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from web3 import Web3
from web3.exceptions import ContractLogicError, Web3RPCError
from web3.types import BlockIdentifier

from registry.custody.sender import revert_payload
from registry.custody.transactions import PreparedTransaction
from registry.reverts import DecodedError, decode_any_revert


@dataclass(frozen=True)
class CallFailure:
    """Why a dry run failed: a revert (``error`` decoded when known, ``data`` raw) or another failure
    (``message`` from the node: out of gas, a refused sender...)."""

    message: str
    data: bytes = b""
    error: DecodedError | None = None

    @property
    def out_of_gas(self) -> bool:
        """True when the call ran out of the gas it was given (it would succeed with more)."""
        text = self.message.lower().replace(" ", "")
        return "outofgas" in text or "gascannotbenegative" in text

    def __str__(self) -> str:
        if self.error is not None:
            return str(self.error)
        if self.data:
            return f"an error unknown to the registry's contracts (0x{self.data.hex()})"
        return self.message


def dry_run(w3: Web3, tx: PreparedTransaction, block: BlockIdentifier = "latest") -> CallFailure | None:
    """Run ``tx`` as an ``eth_call`` at ``block`` (with its gas when it has one): None if it would
    succeed, else why not. Nothing is sent.

    Raises:
        web3.exceptions.Web3Exception, OSError: the node failed otherwise (unreachable...).
    """
    try:
        w3.eth.call(tx.call_params(), block)
    except ContractLogicError as exc:
        data = revert_payload(exc)
        return CallFailure(message=str(exc), data=data, error=decode_any_revert(data))
    except Web3RPCError as exc:
        response = exc.rpc_response or {}
        error = response.get("error") if isinstance(response, dict) else None
        message = error.get("message") if isinstance(error, dict) else None
        return CallFailure(message=str(message) if isinstance(message, str) else str(exc))
    return None
