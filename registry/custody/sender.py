"""The transaction sender of one chain: fill gas, fees and nonce, sign, submit, wait, decode reverts.

Everything goes through the chain's `Web3` (the seam), so the same sender works on both embedded
chains and on any JSON-RPC node. Two flows end in the same `TxOutcome` or the same errors:

- **custodial**: ``send(tx)`` = ``wait(broadcast(tx))``; custody signs with the sender's key
  (`Signers`), the nonce comes from the sender's `NonceBook` entry;
- **non-custodial**: ``prepare_unsigned(tx)`` gives the client an `UnsignedTransaction` to sign,
  ``submit_signed(raw, expected=...)`` checks it against what was prepared and sends it.

What can go wrong, and what the caller gets (see ``registry.errors``):

- the gas estimate reverts: `TransactionRevertedError` (``sent`` False), decoded; nothing is sent;
- the node refuses the submission: `SubmissionRejectedError` with the node's reason; the nonce is
  not used up. "nonce too low" (another client used the key) and "fee below the base fee" are
  retried once with a fresh nonce or fees, since the refused transaction exists nowhere;
- the submission gets no answer, the node drops the transaction, or no receipt comes by the
  deadline: `TransactionNotLandedError` with the hash, the nonce and what to do. It is never
  re-sent automatically: it may still land, and a second copy could do the operation twice;
- mined with status 0: `TransactionRevertedError` (``sent`` True); the revert data is recovered
  by replaying the call at its block, and decoded against every contract artifact.

Crash safety: ``on_signed(pending)`` is called after signing and before submitting, so a caller
can record the hash first (an idempotency store does); after a restart, ``outcome_of(hash)`` says
what became of it. A process that dies between signing and submitting sent nothing: the restarted
process reads the nonce from the chain and reuses it. One that dies after submitting finds the
transaction counted in the chain's pending nonce, so nothing collides with it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import ContractLogicError, ProviderConnectionError, TransactionNotFound, Web3RPCError
from web3.types import TxParams, TxReceipt

from registry.chain.events import ChainEvent, Rollback
from registry.chain.names import ChainName
from registry.custody.nonces import NonceBook
from registry.custody.signers import Signers
from registry.custody.transactions import (
    PendingTransaction,
    PreparedTransaction,
    SignedFields,
    TxOutcome,
    UnsignedTransaction,
    decode_signed,
)
from registry.errors import (
    InvalidInputError,
    SignedTransactionMismatchError,
    SubmissionRejectedError,
    TransactionNotLandedError,
    TransactionRevertedError,
)
from registry.reverts import decode_any_revert

if TYPE_CHECKING:
    from registry.chain.backend import ChainHandle
    from registry.custody.batches import BatchEntry, BatchOutcome, Progress

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_TIMEOUT = 120.0
"""Seconds a sent transaction may take to be mined before it is reported as not landed."""

GAS_MARGIN = 0.25
"""Added to a gas estimate: state can change between the estimate and the block (a new holder's
slot costs more than an existing one's); unused gas is not paid for."""

FEES_MAX_AGE = 1.0
"""Seconds the fees read from the node serve for further transactions, while no block came (`fees`)."""

POLL_INTERVAL = 0.05
"""Seconds between two receipt requests (the embedded chain itself holds a request until mined)."""

_CONNECTION_ERRORS = (OSError, ProviderConnectionError)


@dataclass(frozen=True)
class Fees:
    """EIP-1559 fees for the next transactions: at most twice the next base fee, plus the tip."""

    max_fee_per_gas: int
    max_priority_fee_per_gas: int


TxState = Literal["mined", "pending", "unknown"]
"""Where a node has a transaction: in a block, in its pool, or nowhere."""

OnSigned = Callable[[PendingTransaction], None]
"""Called with each transaction after it is signed and before it is submitted; raising aborts it."""


def _rpc_message(exc: Web3RPCError) -> str:
    response = exc.rpc_response or {}
    error = response.get("error") if isinstance(response, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    return str(exc.message if hasattr(exc, "message") else exc)


def revert_payload(exc: ContractLogicError) -> bytes:
    """The revert payload web3.py put in ``exc.data`` (hex text or bytes), empty when it has none."""
    data = exc.data
    if isinstance(data, bytes):
        return data
    if isinstance(data, str) and data.startswith("0x"):
        try:
            return bytes.fromhex(data[2:])
        except ValueError:
            return b""
    return b""


def _hint(reason: str) -> str:
    text = reason.lower()
    if "insufficient funds" in text:
        return " Fund the sender with gas money first (on an embedded chain, from the faucet account)."
    if "not verified" in text or "not permitted" in text or "kyc" in text:
        return " On the permissioned chain a sender must be registered in the identity registry first."
    if "frozen" in text:
        return " The account is frozen chain-wide by the validators."
    return ""


class TransactionSender:
    """Sends the registry's transactions on one chain through its `Web3`.

    ``chain`` names the chain (prepared transactions for the other chain are refused);
    ``timeout`` is the receipt deadline in seconds; ``on_signed`` is the pre-submission hook (see
    the module docstring). Safe to use from many threads at once.
    """

    def __init__(
        self,
        w3: Web3,
        signers: Signers,
        *,
        chain: ChainName,
        timeout: float = DEFAULT_TIMEOUT,
        on_signed: OnSigned | None = None,
        gas_margin: float = GAS_MARGIN,
        poll_interval: float = POLL_INTERVAL,
        fees_max_age: float = FEES_MAX_AGE,
    ) -> None:
        if timeout <= 0:
            raise InvalidInputError(
                "timeout", f"the receipt deadline is a positive number of seconds, got {timeout}"
            )
        self.w3 = w3
        """The chain seam."""
        self.signers = signers
        """Whose keys custody holds."""
        self.chain: ChainName = chain
        """The chain's name."""
        self.chain_id = int(w3.eth.chain_id)
        """The chain's id, read once."""
        self.timeout = timeout
        """The receipt deadline, in seconds."""
        self.nonces = NonceBook(self._pending_count, chain=chain)
        """The senders' next nonces on this chain."""
        self._on_signed = on_signed
        self._gas_margin = gas_margin
        self._poll_interval = poll_interval
        self._block_gas_limit: int | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._fees_max_age = fees_max_age
        self._fees_lock = threading.Lock()
        self._fees: tuple[int, float, Fees] | None = None
        """(chain events seen when read, when read, fees): the last fees, while they hold (`fees`)."""
        self._events_seen = 0

    @classmethod
    def for_chain(
        cls,
        handle: ChainHandle,
        signers: Signers,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        on_signed: OnSigned | None = None,
        fees_max_age: float = FEES_MAX_AGE,
    ) -> TransactionSender:
        """The sender of ``handle``'s chain, following its blocks (fees) and rollbacks (nonces are read
        again after one)."""
        sender = cls(
            handle.w3,
            signers,
            chain=handle.name,
            timeout=timeout,
            on_signed=on_signed,
            fees_max_age=fees_max_age,
        )
        sender._unsubscribe = handle.subscribe(sender.on_chain_event)
        return sender

    def close(self) -> None:
        """Stop following the chain's events."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def __enter__(self) -> TransactionSender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"TransactionSender({self.chain}, chain id {self.chain_id})"

    def on_chain_event(self, event: ChainEvent) -> None:
        """A chain event: a new block or a rollback ends the fees kept (`fees`); after a rollback every
        sender's nonce is read from the chain again."""
        with self._fees_lock:
            self._events_seen += 1
            self._fees = None
        if isinstance(event, Rollback):
            logger.info(
                "the %s chain was rolled back to block %d: nonces will be read from the chain again",
                self.chain,
                event.new_head_number,
            )
            self.nonces.resync(reason=f"the chain was rolled back to block {event.new_head_number}")

    # -- gas and fees ----------------------------------------------------------------------------

    def block_gas_limit(self) -> int:
        """The chain's block gas limit (read once)."""
        if self._block_gas_limit is None:
            self._block_gas_limit = int(self.w3.eth.get_block("latest")["gasLimit"])
        return self._block_gas_limit

    def fees(self, *, fresh: bool = False) -> Fees:
        """Fees for a transaction sent now: twice the next block's base fee plus the node's tip.

        A sender following its chain (`for_chain`) reads them once per block: they hold until the chain
        announces a block or a rollback (at most ``fees_max_age`` seconds, default `FEES_MAX_AGE`, for a
        node whose blocks are announced late). Each read is two requests that wait for the block being
        sealed; a burst of transfers would otherwise pay them for every transaction. ``fresh`` reads them
        again.
        """
        now = time.monotonic()
        with self._fees_lock:
            seen, kept = self._events_seen, self._fees
        if (
            not fresh
            and kept is not None
            and self._unsubscribe is not None
            and kept[0] == seen
            and now - kept[1] < self._fees_max_age
        ):
            return kept[2]
        history = self.w3.eth.fee_history(1, "latest")
        base_fee = int(history["baseFeePerGas"][-1])
        tip = int(self.w3.eth.max_priority_fee)
        fees = Fees(max_fee_per_gas=2 * base_fee + tip, max_priority_fee_per_gas=tip)
        with self._fees_lock:
            if self._events_seen == seen:  # no block came while they were read
                self._fees = (seen, now, fees)
        return fees

    def estimate(self, tx: PreparedTransaction) -> int:
        """The gas limit to send ``tx`` with: the node's estimate plus `GAS_MARGIN`, at most a block.

        Raises:
            TransactionRevertedError: it would revert (``sent`` False, decoded); nothing was sent.
            SubmissionRejectedError: the node cannot estimate it (e.g. the sender cannot pay the value).
        """
        self._check_chain(tx)
        try:
            estimated = int(self.w3.eth.estimate_gas(tx.call_params()))
        except ContractLogicError as exc:
            raise self._reverted(tx.description, revert_payload(exc), sender=tx.sender) from None
        except Web3RPCError as exc:
            reason = _rpc_message(exc)
            raise SubmissionRejectedError(
                f"{tx.description}: the {self.chain} chain cannot estimate its gas: {reason}. Nothing was "
                f"sent.{_hint(reason)}",
                description=tx.description,
                reason=reason,
                sender=tx.sender,
            ) from None
        return min(estimated + int(estimated * self._gas_margin), self.block_gas_limit())

    # -- custodial flow --------------------------------------------------------------------------

    def send(self, tx: PreparedTransaction) -> TxOutcome:
        """Sign ``tx`` with custody's key for its sender, submit it and wait for its receipt.

        Raises:
            NoSigningKeyError: custody holds no key for ``tx.sender`` (use the non-custodial flow).
            TransactionRevertedError, SubmissionRejectedError, TransactionNotLandedError: see the
                module docstring. Keystore errors when the sender's key cannot be unlocked.
        """
        return self.wait(self.broadcast(tx))

    def broadcast(self, tx: PreparedTransaction, *, fees: Fees | None = None) -> PendingTransaction:
        """Sign and submit ``tx`` without waiting for it to be mined; `wait` gives its outcome."""
        self._check_chain(tx)
        signer = self.signers.signer_for(tx.sender)
        gas = tx.gas if tx.gas is not None else self.estimate(tx)
        current_fees = fees or self.fees()
        with self.nonces.reserve(tx.sender) as slot:
            for attempt in (1, 2):
                signed = signer.sign_transaction(self._eip1559(tx, slot.nonce, gas, current_fees))
                pending = PendingTransaction(
                    chain=self.chain,
                    tx_hash=bytes(signed.hash),
                    sender=tx.sender,
                    nonce=slot.nonce,
                    to=tx.to,
                    data=tx.data,
                    value=tx.value,
                    gas=gas,
                    description=tx.description,
                )
                refusal = self._submit(bytes(signed.raw_transaction), pending)
                if refusal is not None:
                    lowered = refusal.lower()
                    if attempt == 1 and "nonce too low" in lowered:
                        # Another client used the key; the refused transaction exists nowhere.
                        slot.refresh(f"the node said: {refusal}")
                        continue
                    if attempt == 1 and "base fee" in lowered:
                        current_fees = self.fees(fresh=True)
                        continue
                    raise self._refused(pending, refusal, "its nonce stays free for the next transaction")
                slot.commit()
                logger.debug(
                    "sent %s: %s, nonce %d of %s", tx.description, pending.hash_hex, slot.nonce, tx.sender
                )
                return pending
        raise AssertionError("unreachable: the second attempt returns or raises")

    def _eip1559(self, tx: PreparedTransaction, nonce: int, gas: int, fees: Fees) -> dict[str, Any]:
        transaction: dict[str, Any] = {
            "type": 2,
            "chainId": self.chain_id,
            "nonce": nonce,
            "gas": gas,
            "maxFeePerGas": fees.max_fee_per_gas,
            "maxPriorityFeePerGas": fees.max_priority_fee_per_gas,
            "value": tx.value,
            "data": tx.data,
        }
        if tx.to is not None:
            transaction["to"] = tx.to
        return transaction

    def send_many(
        self,
        txs: Sequence[PreparedTransaction | BatchEntry],
        *,
        progress: Progress | None = None,
        max_in_flight: int | None = None,
        keep_going: bool = False,
    ) -> BatchOutcome:
        """Send a batch pipelined; see ``registry.custody.batches.send_batch``."""
        # batches builds on this module, hence the import here.
        from registry.custody.batches import DEFAULT_MAX_IN_FLIGHT, send_batch

        return send_batch(
            self,
            txs,
            progress=progress,
            max_in_flight=max_in_flight or DEFAULT_MAX_IN_FLIGHT,
            keep_going=keep_going,
        )

    def send_chunked(
        self,
        items: Sequence[T],
        build: Callable[[Sequence[T]], PreparedTransaction],
        *,
        gas_budget: int | None = None,
        max_items: int | None = None,
        progress: Progress | None = None,
        keep_going: bool = False,
    ) -> BatchOutcome:
        """Send ``items`` as transactions ``build(chunk)`` that each fit ``gas_budget`` (default half
        the block gas limit); see ``registry.custody.batches.send_chunked``."""
        from registry.custody.batches import send_chunked

        return send_chunked(
            self,
            items,
            build,
            gas_budget=gas_budget,
            max_items=max_items,
            progress=progress,
            keep_going=keep_going,
        )

    # -- waiting ---------------------------------------------------------------------------------

    def wait(self, pending: PendingTransaction, *, timeout: float | None = None) -> TxOutcome:
        """Wait for ``pending``'s receipt (at most ``timeout``, default the sender's deadline).

        Raises:
            TransactionRevertedError: mined with status 0 (``sent`` True), decoded.
            TransactionNotLandedError: dropped by the node, or no receipt by the deadline.
        """
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            receipt = self._receipt(pending)
            if receipt is not None:
                return self._outcome(pending, receipt)
            if time.monotonic() >= deadline:
                self.nonces.resync(pending.sender, reason=f"transaction {pending.hash_hex} did not land")
                raise self._not_landed(pending)
            time.sleep(self._poll_interval)

    def _receipt(self, pending: PendingTransaction) -> TxReceipt | None:
        """``pending``'s receipt, or None if there is none yet (or the node is in passing trouble).

        Raises:
            TransactionNotLandedError: the node says it dropped the transaction.
        """
        try:
            return self.w3.eth.get_transaction_receipt(HexBytes(pending.tx_hash))
        except TransactionNotFound:
            return None
        except _CONNECTION_ERRORS as exc:
            logger.warning("asking the %s chain for %s failed: %s", self.chain, pending.hash_hex, exc)
            return None
        except Web3RPCError as exc:
            reason = _rpc_message(exc)
            if "dropped" not in reason.lower():
                # A rate limit, a restarting node...: ask again until the deadline.
                logger.warning("asking the %s chain for %s failed: %s", self.chain, pending.hash_hex, reason)
                return None
        # The embedded chain answers so when its builder dropped a pooled transaction.
        self.nonces.resync(pending.sender, reason=f"transaction {pending.hash_hex} was dropped")
        raise TransactionNotLandedError(
            f"{pending.description}: transaction {pending.hash_hex} (nonce {pending.nonce} of "
            f"{pending.sender}) was dropped by the {self.chain} chain and will never be mined: "
            f"{reason}. None of it happened; send the operation again if it is still wanted",
            description=pending.description,
            sender=pending.sender,
            tx_hash=pending.tx_hash,
            nonce=pending.nonce,
        )

    def outcome_of(self, tx_hash: bytes | str, *, timeout: float | None = None) -> TxOutcome:
        """What became of a transaction known only by its hash (e.g. recorded by ``on_signed`` before
        a crash): waits for it like `wait` if the node knows it.

        Raises:
            TransactionNotLandedError: the node does not know it (never submitted, or dropped), or
                it is not mined by the deadline.
            TransactionRevertedError: it was mined and reverted.
        """
        raw_hash = bytes(HexBytes(tx_hash))
        try:
            found = self.w3.eth.get_transaction(HexBytes(raw_hash))
        except TransactionNotFound:
            raise TransactionNotLandedError(
                f"transaction 0x{raw_hash.hex()} is unknown to the {self.chain} chain: it was never "
                "submitted or was dropped, and will not land as it is. Send the operation again if it is "
                "still wanted",
                description=f"transaction 0x{raw_hash.hex()}",
                tx_hash=raw_hash,
            ) from None
        to = found.get("to")
        pending = PendingTransaction(
            chain=self.chain,
            tx_hash=raw_hash,
            sender=to_checksum_address(found["from"]),
            nonce=int(found["nonce"]),
            to=to_checksum_address(to) if to else None,
            data=bytes(found["input"]),
            value=int(found["value"]),
            gas=int(found["gas"]),
            description=f"transaction 0x{raw_hash.hex()}",
        )
        return self.wait(pending, timeout=timeout)

    def transaction_state(self, tx_hash: bytes) -> TxState:
        """Where the node has ``tx_hash``: ``mined``, ``pending`` (in its pool) or ``unknown``.

        Never waits, unlike a receipt request to an embedded chain."""
        try:
            found = self.w3.eth.get_transaction(HexBytes(tx_hash))
        except TransactionNotFound:
            return "unknown"
        return "pending" if found.get("blockNumber") is None else "mined"

    def _not_landed(self, pending: PendingTransaction) -> TransactionNotLandedError:
        try:
            state = self.transaction_state(pending.tx_hash)
        except _CONNECTION_ERRORS:
            state = "pending"  # unknown: say the cautious thing
        if state != "unknown":
            advice = (
                "it is still pending in the node and may land later: look it up with outcome_of(tx_hash) "
                "before sending the operation again, or replace it by a transaction with the same nonce "
                "and a higher fee"
            )
        else:
            used = int(self.w3.eth.get_transaction_count(pending.sender, "latest"))
            if used > pending.nonce:
                advice = f"nonce {pending.nonce} was used by another transaction, so this one will never land"
            else:
                advice = (
                    "the node no longer knows it (dropped from its pool, or rolled back): it will not land; "
                    "send the operation again if it is still wanted"
                )
        return TransactionNotLandedError(
            f"{pending.description}: transaction {pending.hash_hex} (nonce {pending.nonce} of "
            f"{pending.sender}) was not mined on the {self.chain} chain within {self.timeout:g} s; {advice}",
            description=pending.description,
            sender=pending.sender,
            tx_hash=pending.tx_hash,
            nonce=pending.nonce,
        )

    def _outcome(self, pending: PendingTransaction, receipt: TxReceipt) -> TxOutcome:
        block_number = int(receipt["blockNumber"])
        if int(receipt["status"]) != 1:
            data, note = self._replay_revert(pending, block_number, int(receipt["gasUsed"]))
            raise self._reverted(
                pending.description,
                data,
                sender=pending.sender,
                pending=pending,
                block_number=block_number,
                gas_used=int(receipt["gasUsed"]),
                note=note,
            )
        created = receipt.get("contractAddress")
        return TxOutcome(
            chain=self.chain,
            description=pending.description,
            tx_hash=pending.tx_hash,
            sender=pending.sender,
            nonce=pending.nonce,
            block_number=block_number,
            block_hash=bytes(receipt["blockHash"]),
            status=int(receipt["status"]),
            gas_used=int(receipt["gasUsed"]),
            effective_gas_price=int(receipt.get("effectiveGasPrice", 0)),
            contract_address=to_checksum_address(created) if created else None,
            logs=tuple(receipt["logs"]),
            receipt=receipt,
        )

    def _replay_revert(
        self, pending: PendingTransaction, block_number: int, gas_used: int
    ) -> tuple[bytes, str]:
        """The revert data of a mined failed transaction, by replaying it as a call (receipts carry none).

        Replayed after its block first (the state its batch-mates left), then before it.
        """
        params = cast(
            TxParams,
            {"from": pending.sender, "data": pending.data, "value": pending.value, "gas": pending.gas},
        )
        if pending.to is not None:
            params["to"] = pending.to
        for block in dict.fromkeys((block_number, max(block_number - 1, 0))):
            try:
                self.w3.eth.call(params, block)
            except ContractLogicError as exc:
                return revert_payload(exc), ""
            except Web3RPCError as exc:
                return b"", f" ({_rpc_message(exc)})"
        if gas_used >= pending.gas:
            return b"", f" (it used all of its {pending.gas} gas: out of gas)"
        return b"", " (replaying it no longer reverts: the state it depended on has changed since)"

    def _reverted(
        self,
        description: str,
        data: bytes,
        *,
        sender: ChecksumAddress,
        pending: PendingTransaction | None = None,
        block_number: int | None = None,
        gas_used: int | None = None,
        note: str = "",
    ) -> TransactionRevertedError:
        error = decode_any_revert(data)
        if error is not None:
            what = str(error)
        elif data:
            what = f"an error unknown to the registry's contracts (0x{data.hex()})"
        else:
            what = "no reason given"
        if pending is None:
            message = f"{description}: would revert on the {self.chain} chain with {what}; nothing was sent"
        else:
            message = (
                f"{description}: reverted on the {self.chain} chain with {what}{note}, in block "
                f"{block_number} (transaction {pending.hash_hex}, nonce {pending.nonce} of {sender}, "
                f"{gas_used} gas used)"
            )
            logger.warning("%s", message)
        return TransactionRevertedError(
            message,
            description=description,
            error=error,
            data=data,
            sent=pending is not None,
            sender=sender,
            tx_hash=pending.tx_hash if pending else None,
            nonce=pending.nonce if pending else None,
            block_number=block_number,
            gas_used=gas_used,
        )

    # -- non-custodial flow ----------------------------------------------------------------------

    def prepare_unsigned(self, tx: PreparedTransaction, *, nonce: int | None = None) -> UnsignedTransaction:
        """``tx`` with nonce, gas, fees and chain id filled, for its sender to sign; works for any sender.

        The nonce is the chain's pending count for the sender (or custody's next nonce if higher);
        nothing is reserved. Give ``nonce`` to prepare several transactions of one sender at once.

        Raises:
            TransactionRevertedError: it would revert (decoded); SubmissionRejectedError: the gas
                cannot be estimated.
        """
        self._check_chain(tx)
        if nonce is not None and (not isinstance(nonce, int) or isinstance(nonce, bool) or nonce < 0):
            raise InvalidInputError("nonce", f"a nonce is an integer >= 0, got {nonce!r}")
        gas = tx.gas if tx.gas is not None else self.estimate(tx)
        fees = self.fees()
        return UnsignedTransaction(
            chain=self.chain,
            chain_id=self.chain_id,
            sender=tx.sender,
            to=tx.to,
            data=tx.data,
            value=tx.value,
            nonce=self.nonces.suggest(tx.sender) if nonce is None else nonce,
            gas=gas,
            max_fee_per_gas=fees.max_fee_per_gas,
            max_priority_fee_per_gas=fees.max_priority_fee_per_gas,
            description=tx.description,
        )

    def submit_signed(self, raw: bytes | str, *, expected: UnsignedTransaction | None = None) -> TxOutcome:
        """Send a client's signed raw transaction and wait for it: the same outcome and errors as `send`.

        With ``expected`` (what `prepare_unsigned` gave), the signed transaction must have its
        sender, target, data, value and chain id; fees, gas and nonce may differ (wallets adjust them).

        Raises:
            InvalidInputError: ``raw`` is not a signed transaction.
            SignedTransactionMismatchError: another chain id, or it differs from ``expected``.
            SubmissionRejectedError, TransactionNotLandedError, TransactionRevertedError: as `send`.
        """
        return self.wait(self.broadcast_signed(raw, expected=expected))

    def broadcast_signed(
        self, raw: bytes | str, *, expected: UnsignedTransaction | None = None
    ) -> PendingTransaction:
        """Check and submit a client's signed raw transaction without waiting (see `submit_signed`)."""
        fields = decode_signed(raw)
        if fields.chain_id != self.chain_id:
            raise SignedTransactionMismatchError(
                f"the transaction is signed for chain id {fields.chain_id}; the {self.chain} chain has "
                f"chain id {self.chain_id}: sign it again for this chain",
                (("chain_id", self.chain_id, fields.chain_id),),
            )
        if expected is not None:
            check_expected(fields, expected)
            description = expected.description
        else:
            target = fields.to or "a new contract"
            description = f"client-signed transaction from {fields.sender} to {target}"
        pending = PendingTransaction(
            chain=self.chain,
            tx_hash=fields.tx_hash,
            sender=fields.sender,
            nonce=fields.nonce,
            to=fields.to,
            data=fields.data,
            value=fields.value,
            gas=fields.gas,
            description=description,
        )
        refusal = self._submit(fields.raw, pending)
        if refusal is not None:
            raise self._refused(
                pending, refusal, "prepare it again (prepare_unsigned) and have it signed anew"
            )
        self.nonces.observe(fields.sender, fields.nonce)
        return pending

    # -- helpers ---------------------------------------------------------------------------------

    def _submit(self, raw: bytes, pending: PendingTransaction) -> str | None:
        """Run the ``on_signed`` hook, then submit ``raw``; return the node's reason if it refused.

        Raises:
            TransactionNotLandedError: the node did not answer: it may or may not have the transaction.
        """
        if self._on_signed is not None:
            self._on_signed(pending)
        try:
            self.w3.eth.send_raw_transaction(HexBytes(raw))
        except Web3RPCError as exc:
            self.nonces.resync(pending.sender, reason="a submission was refused")
            return _rpc_message(exc)
        except _CONNECTION_ERRORS as exc:
            self.nonces.resync(pending.sender, reason="a submission got no answer")
            raise TransactionNotLandedError(
                f"{pending.description}: the {self.chain} chain's node did not answer the submission of "
                f"transaction {pending.hash_hex} (nonce {pending.nonce} of {pending.sender}): {exc}. It may "
                "or may not have been accepted: look it up with outcome_of(tx_hash) before sending the "
                "operation again",
                description=pending.description,
                sender=pending.sender,
                tx_hash=pending.tx_hash,
                nonce=pending.nonce,
            ) from exc
        return None

    def _refused(self, pending: PendingTransaction, reason: str, advice: str) -> SubmissionRejectedError:
        return SubmissionRejectedError(
            f"{pending.description}: the {self.chain} chain refused transaction {pending.hash_hex} from "
            f"{pending.sender} (nonce {pending.nonce}): {reason}. It was not sent; {advice}.{_hint(reason)}",
            description=pending.description,
            reason=reason,
            sender=pending.sender,
            tx_hash=pending.tx_hash,
            nonce=pending.nonce,
        )

    def _check_chain(self, tx: PreparedTransaction) -> None:
        if tx.chain != self.chain:
            raise InvalidInputError(
                "chain",
                f"'{tx.description}' is prepared for the {tx.chain} chain; this sender sends on the "
                f"{self.chain} chain",
            )

    def _pending_count(self, sender: ChecksumAddress) -> int:
        return int(self.w3.eth.get_transaction_count(sender, "pending"))


def check_expected(fields: SignedFields, expected: UnsignedTransaction) -> None:
    """Refuse a signed transaction that is not the one prepared: another sender, target, data, value or
    chain id (fees, gas and nonce may differ: wallets adjust them).

    Raises:
        SignedTransactionMismatchError: with each differing field.
    """
    mismatches = tuple(
        (name, want, got)
        for name, want, got in (
            ("sender", expected.sender, fields.sender),
            ("to", expected.to, fields.to),
            ("data", expected.data, fields.data),
            ("value", expected.value, fields.value),
            ("chain_id", expected.chain_id, fields.chain_id),
        )
        if want != got
    )
    if mismatches:
        shown = "; ".join(
            f"{name}: prepared {_short(want)}, signed {_short(got)}" for name, want, got in mismatches
        )
        raise SignedTransactionMismatchError(
            f"the signed transaction is not the one prepared for '{expected.description}' ({shown}); "
            "nothing was sent. Sign the prepared transaction as it is",
            mismatches,
        )


def _short(value: object) -> str:
    if isinstance(value, bytes):
        shown = "0x" + value.hex()
        return shown if len(shown) <= 22 else f"{shown[:18]}… ({len(value)} bytes)"
    return str(value)
