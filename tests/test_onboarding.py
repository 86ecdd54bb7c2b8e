"""KYC for a participant's wallet, signed by the chain operator, on the embedded chain or through its node."""

from __future__ import annotations

import calendar
import time

import pytest
from eth_account import Account
from hexbytes import HexBytes

from registry.chain import connect, operator_account
from registry.chain.backend import open_embedded
from registry.chain.consensus.kyc import IDENTITY_REGISTRY_ADDRESS
from registry.chain.errors import ChainInUseError, SenderNotPermittedError
from registry.chain.rpc.dispatcher import RpcDispatcher
from registry.chain.rpc.server import RpcServerThread
from registry.errors import ConfigurationError, KycRegistrationError
from registry.onboarding import NEVER, parse_expiry, register_wallet
from registry.settings import load_settings
from tests.chain.conftest import sign
from tests.chain.permissioned_support import call_data, is_verified


def signed(chain, sender, *, to, value=0, data=b"", gas=200_000, nonce=None):
    """A transaction of ``sender`` on ``chain`` (whose chain id is the settings', not the test helpers')."""
    if nonce is None:
        nonce = chain.nonce(bytes.fromhex(sender.address[2:]), pending=True)
    target = to if isinstance(to, str) else "0x" + bytes(to).hex()
    return sign(
        sender,
        nonce=nonce,
        to=target,
        value=value,
        data=data,
        gas=gas,
        max_fee=50 * 10**9,
        chain_id=chain.chain_id,
    )


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.delenv("REGISTRY_PERMISSIONED_RPC_URL", raising=False)
    return load_settings(data_dir=tmp_path, dev_accounts=2)


def send_from(chain, account):
    return chain.send_raw_transaction(
        signed(chain, account, to=account.address, value=1, gas=21_000, nonce=0)
    )


def test_a_registered_wallet_may_send_and_a_renewal_revives_an_expired_kyc(settings):
    participant = Account.create()
    done = register_wallet(settings, participant.address, country=250, accredited=True)
    assert done.action == "registered"
    assert (done.wallet, done.country, done.attributes) == (participant.address, 250, 1)
    assert str(settings.chain_dir("permissioned")) in done.via
    chain = open_embedded("permissioned", settings, sealing="instant")
    try:
        assert is_verified(chain, participant.address)
        faucet = chain.dev_accounts[0].account
        chain.send_raw_transaction(signed(chain, faucet, to=participant.address, value=10**18, gas=21_000))
        chain.increase_time(2 * 365 * 24 * 3600)
        chain.mine()
        assert not is_verified(chain, participant.address)  # the default validity is a year
        with pytest.raises(SenderNotPermittedError):
            send_from(chain, participant)
    finally:
        chain.close()
    # The renewal is computed from the chain's time, so it is valid whatever that time is.
    renewed = register_wallet(settings, participant.address, expiry="never")
    assert renewed.action == "updated"
    assert renewed.investor_id == done.investor_id
    assert renewed.kyc_expiry == NEVER


def test_registration_goes_through_the_node_that_serves_the_chain(settings):
    chain = open_embedded("permissioned", settings, sealing="instant")
    participant = Account.create()
    try:
        with RpcServerThread(RpcDispatcher(chain)) as server:
            chain.advertise(server.url)
            done = register_wallet(settings, participant.address)
        assert done.via == f"the node at {server.url}"
        assert is_verified(chain, participant.address)
    finally:
        chain.close()


def test_a_chain_open_elsewhere_without_a_node_is_left_alone(settings):
    chain = open_embedded("permissioned", settings, sealing="instant")
    head = chain.head()
    try:
        with pytest.raises(ChainInUseError, match="serves no JSON-RPC"):
            register_wallet(settings, Account.create().address)
        assert chain.head() == head
    finally:
        chain.close()


def test_a_revoked_investor_is_not_revived(settings):
    participant = Account.create()
    done = register_wallet(settings, participant.address)
    with connect("permissioned", settings, embedded=True) as handle:
        chain = handle.embedded
        assert chain is not None
        operator = operator_account(settings.chain_dir("permissioned"))
        revoke = call_data("revokeInvestor(uint32)", ["uint32"], [done.investor_id])
        tx_hash = chain.send_raw_transaction(
            signed(chain, operator, to=IDENTITY_REGISTRY_ADDRESS, data=revoke)
        )
        assert handle.w3.eth.wait_for_transaction_receipt(HexBytes(tx_hash))["status"] == 1
    with pytest.raises(
        KycRegistrationError, match=r"IdentityRegistryInvestorRevoked.*register another wallet"
    ):
        register_wallet(settings, participant.address)


@pytest.mark.parametrize(
    ("wallet", "options", "expected"),
    [
        ("0x12", {}, "is not an Ethereum address"),
        (None, {"country": 0}, "ISO 3166 numeric code"),
        (None, {"country": 1000}, "ISO 3166 numeric code"),
        (None, {"expiry": "tomorrow"}, "give a date"),
        (None, {"expiry": "2001-01-01"}, "is not after the chain's current time"),
    ],
)
def test_bad_input_is_refused_before_anything_is_sent(settings, wallet, options, expected):
    with pytest.raises(ConfigurationError, match=expected):
        register_wallet(settings, wallet or Account.create().address, **options)


def test_expiry_forms():
    now = 1_700_000_000
    assert parse_expiry("never", now) == NEVER
    assert parse_expiry("2030-01-02", now) == calendar.timegm(time.strptime("2030-01-02", "%Y-%m-%d"))
    assert parse_expiry(str(now + 1), now) == now + 1
    with pytest.raises(ConfigurationError, match="not a calendar date"):
        parse_expiry("2030-02-30", now)
    with pytest.raises(ConfigurationError, match="beyond"):
        parse_expiry(str(NEVER + 1), now)
