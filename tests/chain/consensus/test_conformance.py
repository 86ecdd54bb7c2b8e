"""The conformance suite against the embedded permissioned chain, plus what only that chain does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from web3 import Web3
from web3.exceptions import Web3RPCError
from web3.middleware import ExtraDataToPOAMiddleware
from web3.providers.base import BaseProvider

from registry.chain.consensus.mode import PermissionedMode
from registry.chain.consensus.seals import check_seals, validators_of
from registry.chain.node.chain import EmbeddedChain
from registry.chain.rpc.dispatcher import RpcDispatcher
from registry.chain.rpc.provider import EmbeddedProvider
from registry.chain.rpc.server import RpcServerThread
from tests.chain.conformance import GWEI, ChainConformance, ConformanceTarget
from tests.chain.permissioned_support import register

CHAIN_ID = 4_343


def _open(folder: Path) -> EmbeddedChain:
    mode = PermissionedMode(folder, chain_id=CHAIN_ID, dev_account_count=4)
    return EmbeddedChain.open(mode, data_dir=folder, chain_id=CHAIN_ID, dev_account_count=4)


def _web3(provider: BaseProvider) -> Web3:
    """A `Web3` for a QBFT-style chain: like any proof-of-authority chain, its extraData exceeds 32 bytes,
    which web3.py refuses unless the POA middleware moves it to ``proofOfAuthorityData``."""
    w3 = Web3(provider)
    w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    return w3


def _refused_sender_message(w3: Web3, funder) -> str:
    """Fund a new key, have it send, and return the node's refusal message."""
    outsider = Account.create()
    funding = funder.sign_transaction(
        {
            "type": 2,
            "chainId": CHAIN_ID,
            "to": outsider.address,
            "value": 10**18,
            "gas": 21_000,
            "maxFeePerGas": 50 * GWEI,
            "maxPriorityFeePerGas": GWEI,
            "nonce": w3.eth.get_transaction_count(funder.address, "pending"),
        }
    )
    w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(funding.raw_transaction))
    attempt = outsider.sign_transaction(
        {
            "type": 2,
            "chainId": CHAIN_ID,
            "to": funder.address,
            "value": 1,
            "gas": 21_000,
            "maxFeePerGas": 50 * GWEI,
            "maxPriorityFeePerGas": GWEI,
            "nonce": 0,
        }
    )
    with pytest.raises(Web3RPCError) as info:
        w3.eth.send_raw_transaction(attempt.raw_transaction)
    message = str(info.value)
    assert outsider.address in message
    return message


class TestEmbeddedPermissioned(ChainConformance):
    """The permissioned chain (4 validators, KYC'd senders) through the in-process provider."""

    @pytest.fixture
    def conformance_target(self, tmp_path: Path) -> Iterator[ConformanceTarget]:
        chain = _open(tmp_path / "permissioned")
        w3 = _web3(EmbeddedProvider(chain))
        accounts = [account.account for account in chain.dev_accounts[:4]]

        def permit(address: str) -> None:
            assert isinstance(chain.mode, PermissionedMode)
            chain.wait_until_mined(register(chain, chain.mode, address))

        yield ConformanceTarget(
            name="embedded-permissioned", w3=w3, accounts=accounts, extra={"chain": chain}, permit=permit
        )
        chain.close()

    def test_an_unverified_sender_is_refused_with_a_kyc_message(self, target):
        message = _refused_sender_message(target.w3, target.accounts[0])
        assert "KYC" in message

    def test_an_unfunded_unverified_sender_is_told_about_kyc_first(self, target):
        w3 = target.w3
        pauper = Account.create()
        tx = {
            "type": 2,
            "chainId": CHAIN_ID,
            "nonce": 0,
            "to": target.accounts[0].address,
            "value": 10**18,
            "gas": 21_000,
            "maxFeePerGas": 50 * GWEI,
            "maxPriorityFeePerGas": GWEI,
        }
        with pytest.raises(Web3RPCError) as sent:
            w3.eth.send_raw_transaction(pauper.sign_transaction(tx).raw_transaction)
        with pytest.raises(Web3RPCError) as estimated:
            w3.eth.estimate_gas({"from": pauper.address, "to": target.accounts[0].address, "value": 10**18})
        for refusal in (sent.value, estimated.value):
            assert "not registered" in str(refusal)
            assert "insufficient funds" not in str(refusal).lower()
        # The wallet sees, before signing, exactly what submission would answer.
        assert estimated.value.rpc_response is not None and sent.value.rpc_response is not None
        assert estimated.value.rpc_response["error"] == sent.value.rpc_response["error"]

    def test_every_block_carries_a_quorum_of_validator_seals(self, target):
        w3 = target.w3
        sender = target.accounts[1]
        w3.eth.wait_for_transaction_receipt(self.send(w3, sender, to=target.accounts[2].address, value=1))
        chain: EmbeddedChain = target.extra["chain"]
        head = w3.eth.block_number
        assert head >= 1
        for number in range(1, head + 1):
            header = chain.get_header(number)
            block = w3.eth.get_block(number)
            assert bytes(block["proofOfAuthorityData"]) == header.extra_data
            assert len(check_seals(header)) == 3
            assert len(validators_of(header)) == 4


class TestEmbeddedPermissionedOverHttp:
    """What a remote wallet sees of the permissioned chain's sender check."""

    def test_an_unverified_sender_is_refused_over_http(self, tmp_path: Path) -> None:
        chain = _open(tmp_path / "permissioned")
        try:
            with RpcServerThread(RpcDispatcher(chain)) as server:
                w3 = _web3(Web3.HTTPProvider(server.url, request_kwargs={"timeout": 30}))
                message = _refused_sender_message(w3, chain.dev_accounts[0].account)
                assert "KYC" in message
        finally:
            chain.close()
