"""What submission refuses, as geth's pool refuses it, and that eth_estimateGas never asks for less."""

from __future__ import annotations

import pytest

from registry.chain.errors import InvalidTransactionError
from registry.chain.node.chain import MAX_INITCODE_SIZE, MAX_TRANSACTION_SIZE
from registry.chain.node.gas import data_floor_gas, intrinsic_gas
from tests.chain.conftest import sign


def dev(chain, index=0):
    return chain.dev_accounts[index].account


def refused(chain, raw: bytes) -> str:
    with pytest.raises(InvalidTransactionError) as caught:
        chain.send_raw_transaction(raw)
    return str(caught.value)


def test_exactly_the_intrinsic_gas_is_accepted_and_one_less_is_refused_with_geths_words(manual_chain):
    sender = dev(manual_chain)
    access_list = [{"address": sender.address, "storageKeys": ["0x" + "00" * 32, "0x" + "00" * 31 + "01"]}]
    needed = 21_000 + 2_400 + 2 * 1_900  # EIP-2930: per address and per storage key

    def signed(gas: int) -> bytes:
        tx = {
            "type": 1,
            "chainId": manual_chain.chain_id,
            "nonce": 0,
            "to": sender.address,
            "value": 0,
            "gas": gas,
            "gasPrice": 5 * 10**9,
            "accessList": access_list,
        }
        return bytes(sender.sign_transaction(tx).raw_transaction)

    message = refused(manual_chain, signed(needed - 1))
    assert message.startswith(f"intrinsic gas too low: gas {needed - 1}, minimum needed {needed}")
    manual_chain.send_raw_transaction(signed(needed))
    block = manual_chain.seal_pending()
    assert block is not None
    assert len(block.transactions) == 1
    assert manual_chain.pending_count() == 0


def test_the_intrinsic_gas_of_a_creation_counts_its_code_words(manual_chain):
    sender = dev(manual_chain)
    code = b"\x01" * 65  # three 32-byte words
    needed = 21_000 + 32_000 + 65 * 16 + 3 * 2
    message = refused(manual_chain, sign(sender, nonce=0, data=code, gas=needed - 1))
    assert f"minimum needed {needed}" in message
    tx = manual_chain.decode_transaction(sign(sender, nonce=0, data=code, gas=needed))
    assert intrinsic_gas(tx) == needed


def test_calldata_below_the_eip_7623_floor_is_refused(manual_chain):
    sender = dev(manual_chain)
    data = b"\x01" * 100  # 400 tokens: intrinsic 22,600, floor 25,000
    floor = 21_000 + 10 * 400
    message = refused(manual_chain, sign(sender, nonce=0, to=sender.address, data=data, gas=floor - 1))
    assert message.startswith(
        f"insufficient gas for floor data gas cost: gas {floor - 1}, minimum needed {floor}"
    )
    tx = manual_chain.decode_transaction(sign(sender, nonce=0, to=sender.address, data=data, gas=floor))
    assert data_floor_gas(tx) == floor


def test_an_estimate_for_calldata_pays_the_floor_and_is_accepted(manual_chain):
    sender = dev(manual_chain)
    data = b"\x01" * 100
    unsigned = manual_chain.unsigned_transaction(to=bytes.fromhex(sender.address[2:]), data=data)
    estimate = manual_chain.estimate_gas(unsigned, bytes.fromhex(sender.address[2:]))
    assert estimate == 21_000 + 10 * 400
    manual_chain.send_raw_transaction(sign(sender, nonce=0, to=sender.address, data=data, gas=estimate))
    block = manual_chain.seal_pending()
    assert block is not None
    assert len(block.transactions) == 1


def test_other_submission_refusals_use_geths_words(manual_chain):
    sender = dev(manual_chain)
    to = dev(manual_chain, 1).address
    limit = manual_chain.head().gas_limit
    assert refused(manual_chain, sign(sender, nonce=0, to=to, gas=limit + 1)).startswith(
        "exceeds block gas limit"
    )
    assert refused(manual_chain, sign(sender, nonce=0, to=to, chain_id=1)).startswith(
        "invalid chain id for signer"
    )
    assert refused(manual_chain, sign(sender, nonce=0, to=to, max_fee=2 * 10**9, tip=3 * 10**9)).startswith(
        "max priority fee per gas higher than max fee per gas"
    )
    code = b"\x00" * (MAX_INITCODE_SIZE + 1)
    assert refused(manual_chain, sign(sender, nonce=0, data=code, gas=10_000_000)).startswith(
        "max initcode size exceeded"
    )
    oversized = sign(sender, nonce=0, to=to, data=b"\x00" * MAX_TRANSACTION_SIZE, gas=20_000_000)
    assert refused(manual_chain, oversized) == (
        f"oversized data: transaction size {len(oversized)}, limit {MAX_TRANSACTION_SIZE}; "
        "split the work over several transactions"
    )
    assert manual_chain.pending_count() == 0
