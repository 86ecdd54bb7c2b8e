"""The non-custodial flow: custody prepares, the client signs, custody checks, sends and reports."""

from __future__ import annotations

import pytest
import rlp
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from registry.custody import PreparedTransaction, TxOutcome, decode_signed
from registry.errors import (
    InvalidInputError,
    SignedTransactionMismatchError,
    SubmissionRejectedError,
    TransactionRevertedError,
)

from .conftest import ETHER, Target


def _client(target: Target) -> LocalAccount:
    """A key only the client holds, funded (and, on the permissioned chain, able to send)."""
    if target.handle.name == "permissioned":
        # Development account 0 is KYC'd at genesis; custody's signers hold it, the test signs itself.
        assert target.handle.embedded is not None
        client: LocalAccount = target.handle.embedded.dev_accounts[0].account
        return client
    client = Account.create()
    target.sender.send(target.transfer(target.accounts[0], client.address, ETHER))
    return client


def test_prepared_signed_and_submitted_gives_the_same_outcome_as_custody(target: Target) -> None:
    client = _client(target)
    bob = target.accounts[1]
    nonce = target.chain_nonce(client.address)
    unsigned = target.sender.prepare_unsigned(target.transfer(client.address, bob.address, 77))
    fields = unsigned.as_dict()
    assert fields["chainId"] == target.sender.chain_id == target.w3.eth.chain_id
    assert fields["nonce"] == nonce
    assert fields["gas"] >= 21_000
    assert fields["maxFeePerGas"] >= fields["maxPriorityFeePerGas"] > 0
    assert fields["type"] == 2 and fields["to"] == bob.address and fields["value"] == 77
    raw = client.sign_transaction(fields).raw_transaction
    outcome = target.sender.submit_signed(raw, expected=unsigned)
    assert isinstance(outcome, TxOutcome)
    assert (outcome.sender, outcome.nonce, outcome.gas_used) == (client.address, nonce, 21_000)
    assert outcome.description == unsigned.description
    # The next preparation follows the submitted one.
    assert target.sender.prepare_unsigned(target.transfer(client.address, bob.address)).nonce == nonce + 1


def test_a_contract_creation_can_be_prepared_and_signed(target: Target) -> None:
    client = _client(target)
    factory = target.w3.eth.contract(abi=[], bytecode="0x6001600c60003960016000f300")
    unsigned = target.sender.prepare_unsigned(
        PreparedTransaction(
            chain=target.handle.name,
            sender=client.address,
            to=None,
            data=factory.constructor().data_in_transaction,
            description="deploy a one-byte contract",
        )
    )
    assert "to" not in unsigned.as_dict()
    outcome = target.sender.submit_signed(client.sign_transaction(unsigned.as_dict()).raw_transaction)
    assert outcome.contract_address is not None
    assert outcome.description.startswith(
        f"client-signed transaction from {client.address} to a new contract"
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("to", "0x" + "12" * 20), ("value", 78), ("data", "0x1234")],
)
def test_a_signed_transaction_other_than_the_prepared_one_is_refused_and_not_sent(
    target: Target, field: str, value: object
) -> None:
    client = _client(target)
    unsigned = target.sender.prepare_unsigned(target.transfer(client.address, target.accounts[1].address, 77))
    nonce = target.chain_nonce(client.address)
    tampered = {**unsigned.as_dict(), field: value, "gas": 50_000}
    raw = client.sign_transaction(tampered).raw_transaction
    with pytest.raises(SignedTransactionMismatchError, match=f"{field}: prepared") as caught:
        target.sender.submit_signed(raw, expected=unsigned)
    assert [name for name, _want, _got in caught.value.mismatches] == [field]
    assert target.chain_nonce(client.address) == nonce


def test_a_transaction_signed_by_someone_else_is_refused(target: Target) -> None:
    client = _client(target)
    unsigned = target.sender.prepare_unsigned(target.transfer(client.address, target.accounts[1].address))
    impostor = Account.create()
    raw = impostor.sign_transaction(unsigned.as_dict()).raw_transaction
    with pytest.raises(SignedTransactionMismatchError, match="sender: prepared"):
        target.sender.submit_signed(raw, expected=unsigned)


def test_a_transaction_signed_for_another_chain_is_refused(target: Target) -> None:
    client = _client(target)
    unsigned = target.sender.prepare_unsigned(target.transfer(client.address, target.accounts[1].address))
    raw = client.sign_transaction({**unsigned.as_dict(), "chainId": 1}).raw_transaction
    with pytest.raises(SignedTransactionMismatchError, match="signed for chain id 1"):
        target.sender.submit_signed(raw)


def test_fees_gas_and_nonce_may_differ_from_what_was_prepared(target: Target) -> None:
    client = _client(target)
    unsigned = target.sender.prepare_unsigned(target.transfer(client.address, target.accounts[1].address))
    adjusted = {**unsigned.as_dict(), "gas": 30_000, "maxFeePerGas": unsigned.max_fee_per_gas * 2}
    outcome = target.sender.submit_signed(
        client.sign_transaction(adjusted).raw_transaction, expected=unsigned
    )
    assert outcome.gas_used == 21_000


def test_a_client_transaction_that_reverts_on_chain_raises_like_a_custodial_one(target: Target) -> None:
    client = _client(target)
    cash = target.deploy("CashToken", "Cash", "CSH", target.accounts[0].address)
    prepared = target.call(cash, "mint", client.address, 5, source=client)
    with pytest.raises(TransactionRevertedError, match="would revert") as early:
        target.sender.prepare_unsigned(prepared)
    assert early.value.error is not None and early.value.error.name == "AccessControlUnauthorizedAccount"
    unsigned = target.sender.prepare_unsigned(prepared.with_gas(100_000))
    raw = client.sign_transaction(unsigned.as_dict()).raw_transaction
    with pytest.raises(TransactionRevertedError) as caught:
        target.sender.submit_signed(raw, expected=unsigned)
    assert caught.value.sent is True
    assert caught.value.error is not None and caught.value.error.name == "AccessControlUnauthorizedAccount"
    assert caught.value.description == prepared.description


def test_a_stale_signed_transaction_is_refused_by_the_node(target: Target) -> None:
    client = _client(target)
    unsigned = target.sender.prepare_unsigned(target.transfer(client.address, target.accounts[1].address))
    raw = client.sign_transaction(unsigned.as_dict()).raw_transaction
    target.sender.submit_signed(raw, expected=unsigned)
    replay = client.sign_transaction({**unsigned.as_dict(), "value": 2}).raw_transaction
    with pytest.raises(SubmissionRejectedError, match="prepare it again") as caught:
        target.sender.submit_signed(replay)
    assert caught.value.nonce == unsigned.nonce


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("0x", "empty"),
        ("0x05c0", "type 5"),
        ("0xdeadbeef", "not a signed Ethereum transaction"),
        ("zz", "hex"),
    ],
)
def test_garbage_is_not_a_signed_transaction(raw: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message) as caught:
        decode_signed(raw)
    assert caught.value.field == "raw"


def test_legacy_transactions_need_a_chain_id() -> None:
    account = Account.create()
    fields = {
        "nonce": 3,
        "to": "0x" + "34" * 20,
        "value": 9,
        "gas": 21_000,
        "gasPrice": 10**9,
        "data": b"\x01",
    }
    with_id = account.sign_transaction({**fields, "chainId": 771_002}).raw_transaction
    decoded = decode_signed(with_id)
    assert (decoded.type, decoded.chain_id, decoded.sender, decoded.nonce) == (0, 771_002, account.address, 3)
    assert (decoded.value, decoded.data, decoded.gas) == (9, b"\x01", 21_000)
    unsigned_rlp = [3, 10**9, 21_000, bytes.fromhex("34" * 20), 9, b"\x01"]
    pre_eip155 = account.unsafe_sign_hash(keccak(rlp.encode(unsigned_rlp)))
    raw = rlp.encode([*unsigned_rlp, pre_eip155.v, pre_eip155.r, pre_eip155.s])
    with pytest.raises(InvalidInputError, match="without chain id"):
        decode_signed(raw)
