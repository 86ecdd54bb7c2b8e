"""The custodial flow on both embedded chains and anvil: send, estimate, revert decoding, refusals,
nonces across threads."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest
from eth_abi.abi import encode
from eth_account import Account
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import Web3RPCError

from registry.chain.consensus.kyc import IDENTITY_REGISTRY_ADDRESS
from registry.chain.names import ChainName
from registry.custody import PreparedTransaction, TransactionSender, TxOutcome
from registry.custody.keystore import Keystore
from registry.errors import (
    InvalidInputError,
    NoSigningKeyError,
    SubmissionRejectedError,
    TransactionRevertedError,
)

from .conftest import ETHER, Target

MINTER_ROLE_ERROR = "AccessControlUnauthorizedAccount"


def test_a_transfer_lands_and_says_where(target: Target) -> None:
    alice, bob = target.accounts[:2]
    nonce = target.chain_nonce(alice.address)
    outcome = target.sender.send(target.transfer(alice, bob.address, 12345))
    assert isinstance(outcome, TxOutcome)
    assert outcome.status == 1
    assert outcome.sender == alice.address
    assert outcome.nonce == nonce
    assert outcome.gas_used == 21_000
    assert outcome.chain == target.handle.name
    block = target.w3.eth.get_block(outcome.block_number)
    assert bytes(block["hash"]) == outcome.block_hash
    assert outcome.tx_hash in [bytes(h) for h in block["transactions"]]  # type: ignore[arg-type]
    assert target.chain_nonce(alice.address, "latest") == nonce + 1


def test_a_deployment_gives_the_contract_address_and_its_logs(target: Target) -> None:
    cash = target.deploy("CashToken", "Cash", "CSH", target.accounts[0].address)
    assert target.w3.eth.get_code(cash.address) != b""
    assert cash.functions.symbol().call() == "CSH"


def test_a_call_that_would_revert_is_refused_decoded_and_nothing_is_sent(target: Target) -> None:
    admin, stranger = target.accounts[:2]
    cash = target.deploy("CashToken", "Cash", "CSH", admin.address)
    nonce = target.chain_nonce(stranger.address)
    with pytest.raises(TransactionRevertedError) as caught:
        target.sender.send(target.call(cash, "mint", stranger.address, 5, source=stranger))
    error = caught.value
    assert error.sent is False and error.tx_hash is None
    assert error.error is not None and error.error.name == MINTER_ROLE_ERROR
    assert error.error.args["account"].lower() == stranger.address.lower()
    assert error.description == f"mint on {cash.address}"
    assert str(error).startswith(f"mint on {cash.address}: would revert")
    assert "nothing was sent" in str(error)
    assert target.chain_nonce(stranger.address) == nonce
    # The nonce was not used up: the next transaction takes it.
    assert target.sender.send(target.transfer(stranger, admin.address)).nonce == nonce


def test_a_transaction_reverting_on_chain_raises_decoded_with_its_block(target: Target) -> None:
    admin, stranger = target.accounts[:2]
    cash = target.deploy("CashToken", "Cash", "CSH", admin.address)
    nonce = target.chain_nonce(stranger.address)
    with pytest.raises(TransactionRevertedError) as caught:
        target.sender.send(target.call(cash, "mint", stranger.address, 5, source=stranger, gas=100_000))
    error = caught.value
    assert error.sent is True
    assert error.error is not None and error.error.name == MINTER_ROLE_ERROR
    assert error.nonce == nonce and error.tx_hash is not None
    receipt = target.w3.eth.get_transaction_receipt(HexBytes(error.tx_hash))
    assert receipt["status"] == 0
    assert error.block_number == receipt["blockNumber"]
    assert error.gas_used == receipt["gasUsed"]
    assert f"in block {error.block_number}" in str(error)
    # A mined revert uses its nonce; the next transaction follows it.
    assert target.sender.send(target.transfer(stranger, admin.address)).nonce == nonce + 1


def test_a_refused_submission_frees_its_nonce(target: Target) -> None:
    alice, bob = target.accounts[:2]
    nonce = target.chain_nonce(alice.address)
    too_much = target.w3.eth.get_balance(alice.address) + 1
    with pytest.raises(SubmissionRejectedError) as caught:
        target.sender.send(target.transfer(alice, bob.address, too_much, gas=21_000))
    assert "insufficient funds" in caught.value.reason.lower()
    assert caught.value.nonce == nonce
    assert "Fund the sender" in str(caught.value)
    outcome = target.sender.send(target.transfer(alice, bob.address))
    assert outcome.nonce == nonce


def test_a_sender_custody_cannot_sign_for_points_to_the_non_custodial_flow(target: Target) -> None:
    nobody = Account.create()
    with pytest.raises(NoSigningKeyError, match="prepare_unsigned"):
        target.sender.send(target.transfer(nobody.address, target.accounts[0].address))


def test_a_transaction_for_the_other_chain_is_refused(target: Target) -> None:
    other: ChainName = "permissioned" if target.handle.name == "permissionless" else "permissionless"
    tx = PreparedTransaction(
        chain=other,
        sender=target.accounts[0].address,
        to=target.accounts[1].address,
        data=b"",
        description="x",
    )
    with pytest.raises(InvalidInputError, match=f"prepared for the {other} chain") as caught:
        target.sender.send(tx)
    assert caught.value.field == "chain"


def test_threads_sending_from_one_sender_never_collide(target: Target) -> None:
    alice, bob = target.accounts[:2]
    first = target.chain_nonce(alice.address)
    threads, per_thread = 4, 6
    outcomes: list[TxOutcome] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def work() -> None:
        start.wait()
        for _ in range(per_thread):
            try:
                outcome = target.sender.send(target.transfer(alice, bob.address))
            except BaseException as exc:
                with lock:
                    errors.append(exc)
                return
            with lock:
                outcomes.append(outcome)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    assert sorted(outcome.nonce for outcome in outcomes) == list(range(first, first + threads * per_thread))
    assert target.chain_nonce(alice.address, "latest") == first + threads * per_thread


def test_a_key_used_behind_custody_s_back_is_caught_up_with(
    target: Target, caplog: pytest.LogCaptureFixture
) -> None:
    alice, bob = target.accounts[:2]
    target.sender.send(target.transfer(alice, bob.address))
    # Another client signs with the same key; custody's counter is now one behind.
    unsigned = target.sender.prepare_unsigned(target.transfer(alice, bob.address))
    raw = alice.sign_transaction(unsigned.as_dict()).raw_transaction
    target.w3.eth.wait_for_transaction_receipt(target.w3.eth.send_raw_transaction(raw))
    with caplog.at_level(logging.INFO):
        outcome = target.sender.send(target.transfer(alice, bob.address))
    assert outcome.nonce == unsigned.nonce + 1
    assert "another client sent with this key" in caplog.text


def _kyc(target: Target, wallet: str) -> None:
    """Register ``wallet`` in the permissioned chain's identity registry, as its operator."""
    assert target.handle.embedded is not None
    operator = target.handle.embedded.mode.keyring.operator  # type: ignore[attr-defined]
    data = keccak(text="registerInvestor(address,uint16,uint8,uint40)")[:4] + encode(
        ["address", "uint16", "uint8", "uint40"], [wallet, 250, 1, 2**40 - 1]
    )
    target.sender.send(
        PreparedTransaction(
            chain="permissioned",
            sender=operator.address,
            to=Web3.to_checksum_address(bytes(IDENTITY_REGISTRY_ADDRESS)),
            data=data,
            description=f"register {wallet}",
        )
    )


def test_a_keystore_key_signs_once_funded_and_on_the_permissioned_chain_registered(
    target: Target, keystore: Keystore
) -> None:
    info = keystore.create("workshop issuer")
    target.sender.signers.keystore = keystore
    alice = target.accounts[0]
    target.sender.send(target.transfer(alice, info.address, ETHER))
    transfer = target.transfer(info.address, alice.address, 1)
    if target.handle.name == "permissioned":
        with pytest.raises(SubmissionRejectedError, match="registered in the identity registry"):
            target.sender.send(transfer)
        _kyc(target, info.address)
    outcome = target.sender.send(transfer)
    assert outcome.sender == info.address
    assert outcome.nonce == 0


def test_a_node_s_passing_trouble_while_waiting_is_not_taken_for_a_drop(
    embedded: Callable[..., Target], monkeypatch: pytest.MonkeyPatch
) -> None:
    target = embedded("permissionless")
    alice, bob = target.accounts[:2]
    pending = target.sender.broadcast(target.transfer(alice, bob.address))
    real = target.w3.eth.get_transaction_receipt
    troubles = [
        Web3RPCError(
            "rate limited",
            rpc_response={"jsonrpc": "2.0", "id": 1, "error": {"code": -32005, "message": "rate limited"}},
        ),
        ConnectionError("connection reset"),
    ]

    def flaky(tx_hash: Any) -> Any:
        if troubles:
            raise troubles.pop(0)
        return real(tx_hash)

    monkeypatch.setattr(target.w3.eth, "get_transaction_receipt", flaky)
    assert target.sender.wait(pending).nonce == pending.nonce
    assert troubles == []


def test_fees_are_read_once_per_block(
    embedded: Callable[..., Target], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A burst of transfers between two blocks asks the node for the fees once; a block ends them.
    target = embedded("permissionless", sealing="instant")
    # Kept for an hour at most, so that a slow machine does not end them between two calls.
    sender = TransactionSender.for_chain(target.handle, target.sender.signers, fees_max_age=3600)
    reads: list[int] = []
    fee_history = target.w3.eth.fee_history

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(1)
        return fee_history(*args, **kwargs)

    monkeypatch.setattr(target.w3.eth, "fee_history", counted)
    before = sender.fees()
    assert sender.fees() == before
    assert len(reads) == 1
    source, to = target.accounts[:2]
    sender.send(target.transfer(source, to.address))  # its own block (instant sealing)
    assert len(reads) == 1  # sent with the fees kept
    after = sender.fees()
    assert len(reads) == 2
    assert after != before  # a nearly empty block lowered the base fee
    assert sender.fees(fresh=True) == after
    assert len(reads) == 3
    sender.close()
