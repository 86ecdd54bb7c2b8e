"""Account permissioning: the identity registry deployed at genesis and the KYC check on senders."""

from __future__ import annotations

import pytest
from eth_account import Account

from registry.artifacts import load_artifact
from registry.chain.consensus.kyc import (
    IDENTITY_REGISTRY_ADDRESS,
    GenesisRegistration,
    KycGate,
    identity_registry_genesis,
)
from registry.chain.errors import (
    InvalidBlockError,
    KycExpiredError,
    KycRevokedError,
    SenderNotPermittedError,
    UnregisteredSenderError,
)
from tests.chain.permissioned_support import (
    call_data,
    decode,
    faucet,
    fund,
    is_verified,
    open_permissioned,
    register,
    revoke,
    signed,
    stranger,
    unchecked_block,
)

ZERO = "0x" + "00" * 20


# -- the registry at genesis ---------------------------------------------------------------------


def test_registry_is_deployed_at_its_documented_address(permissioned):
    chain, _mode = permissioned
    code = chain.state_at().get_code(IDENTITY_REGISTRY_ADDRESS)
    assert code == bytes.fromhex(load_artifact("IdentityRegistry").deployed_bytecode.removeprefix("0x"))
    assert "0x" + IDENTITY_REGISTRY_ADDRESS.hex() == "0x1d00000000000000000000000000000000000001"


def test_operator_and_development_accounts_are_verified_at_genesis(permissioned):
    chain, mode = permissioned
    for account in [mode.keyring.operator.address, *(a.address for a in chain.dev_accounts)]:
        assert is_verified(chain, account), account
    assert not is_verified(chain, Account.create().address)
    count = chain.state_view().call(IDENTITY_REGISTRY_ADDRESS, call_data("investorCount()", [], []))
    assert int.from_bytes(count, "big") == 1 + len(chain.dev_accounts)


def test_operator_holds_the_admin_and_kyc_provider_roles(permissioned):
    chain, mode = permissioned
    role = bytes.fromhex(
        chain.state_view().call(IDENTITY_REGISTRY_ADDRESS, call_data("KYC_PROVIDER_ROLE()", [], [])).hex()
    )
    for role_id in (role, b"\x00" * 32):
        answer = chain.state_view().call(
            IDENTITY_REGISTRY_ADDRESS,
            call_data(
                "hasRole(bytes32,address)", ["bytes32", "address"], [role_id, mode.keyring.operator.address]
            ),
        )
        assert answer[-1] == 1


def test_genesis_deployment_runs_registrations_at_the_fixed_address():
    admin = Account.create()
    wallets = [Account.create().address for _ in range(3)]
    account = identity_registry_genesis(
        bytes.fromhex(admin.address[2:]), [GenesisRegistration(bytes.fromhex(w[2:])) for w in wallets]
    )
    assert account["nonce"] == 1
    # Roles (2 x (member flag)) and, per wallet, its record and its investor's list entry and length.
    assert len(account["storage"]) >= 2 + 3 * len(wallets)


def test_operator_can_register_new_investors_after_genesis(permissioned):
    chain, mode = permissioned
    newcomer = Account.create()
    tx_hash = register(chain, mode, newcomer.address)
    assert chain.find_transaction(tx_hash) is not None
    assert is_verified(chain, newcomer.address)


# -- the sender check ----------------------------------------------------------------------------------


def test_unverified_sender_is_refused_at_submission_with_a_clear_error(permissioned):
    chain, _mode = permissioned
    outsider = stranger(chain)
    head = chain.head()
    with pytest.raises(SenderNotPermittedError) as info:
        chain.send_raw_transaction(signed(chain, outsider, to=ZERO, gas=21_000))
    message = str(info.value)
    assert outsider.address in message
    assert "KYC" in message
    assert chain.head() == head


def test_sender_may_transact_once_registered(permissioned):
    chain, mode = permissioned
    outsider = stranger(chain)
    register(chain, mode, outsider.address)
    tx_hash = chain.send_raw_transaction(signed(chain, outsider, to=ZERO, value=1, gas=21_000))
    assert chain.find_transaction(tx_hash) is not None


def test_expired_kyc_is_refused(permissioned):
    chain, mode = permissioned
    outsider = stranger(chain)
    expiry = chain.head().timestamp + 3_600
    register(chain, mode, outsider.address, expiry=expiry)
    chain.send_raw_transaction(signed(chain, outsider, to=ZERO, gas=21_000))
    chain.increase_time(2 * 3_600)
    chain.mine()  # the head's timestamp is now past the expiry
    with pytest.raises(SenderNotPermittedError):
        chain.send_raw_transaction(signed(chain, outsider, to=ZERO, gas=21_000))


def _unsigned_transfer(chain, value=1):
    return chain.unsigned_transaction(to=bytes.fromhex(ZERO[2:]), data=b"", value=value)


def _address(account):
    return bytes.fromhex(account.address[2:])


@pytest.mark.parametrize("direct", [True, False])
def test_unregistered_expired_and_revoked_senders_each_get_their_own_error(direct):
    chain, mode = open_permissioned(sealing="instant")
    try:
        mode.kyc = KycGate(direct_reads=direct)
        chain.send_raw_transaction(signed(chain, faucet(chain), to=ZERO, gas=21_000))  # learn the layout
        unknown, expiring, revoked = stranger(chain), stranger(chain), stranger(chain)
        expiry = chain.head().timestamp + 3_600
        register(chain, mode, expiring.address, expiry=expiry)
        register(chain, mode, revoked.address)
        revoke(chain, mode, revoked.address)
        chain.increase_time(2 * 3_600)
        expected = [
            (unknown, UnregisteredSenderError, ["is not registered", "register this wallet"]),
            (expiring, KycExpiredError, [f"valid until {_utc(expiry)}", "renew"]),
            (revoked, KycRevokedError, ["was revoked", "register the person anew"]),
        ]
        for account, error, phrases in expected:
            with pytest.raises(error) as info:
                chain.send_raw_transaction(signed(chain, account, to=ZERO, gas=21_000))
            assert isinstance(info.value, SenderNotPermittedError)  # existing callers still catch them
            assert account.address in str(info.value)
            for phrase in phrases:
                assert phrase in str(info.value)
        assert mode.kyc.direct is direct
    finally:
        chain.close()


def _utc(timestamp):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@pytest.mark.parametrize("direct", [True, False])
def test_kyc_expiry_is_checked_against_the_next_blocks_timestamp(direct):
    chain, mode = open_permissioned(sealing="manual")
    try:
        mode.kyc = KycGate(direct_reads=direct)
        outsider = Account.create()
        fund(chain, outsider.address)
        chain.seal_pending()
        expiry = chain.head().timestamp + 10_000
        register(chain, mode, outsider.address, expiry=expiry)
        chain.seal_pending()
        # The next block carries the last second of the KYC: accepted, and it lands.
        chain.set_next_block_timestamp(expiry - 1)
        landed = chain.send_raw_transaction(signed(chain, outsider, to=ZERO, value=1, gas=21_000))
        chain.seal_pending()
        assert chain.find_transaction(landed) is not None
        head = chain.head()
        assert head.timestamp == expiry - 1
        assert is_verified(chain, outsider.address)  # at the head's time the KYC still holds ...
        # ... but the next block cannot be earlier than the expiry: refused now, not dropped at sealing.
        late = signed(chain, outsider, to=ZERO, value=2, gas=21_000)
        with pytest.raises(KycExpiredError) as refused:
            chain.send_raw_transaction(late)
        assert f"the block it would go in has timestamp {expiry}" in str(refused.value)
        assert chain.pending_count() == 0
        with pytest.raises(KycExpiredError):
            chain.estimate_gas(_unsigned_transfer(chain), _address(outsider))
    finally:
        chain.close()


def test_estimate_gas_refuses_an_unverified_sender_with_the_submission_error(permissioned):
    chain, _mode = permissioned
    outsider = stranger(chain)
    with pytest.raises(UnregisteredSenderError) as estimated:
        chain.estimate_gas(_unsigned_transfer(chain), _address(outsider))
    with pytest.raises(UnregisteredSenderError) as submitted:
        chain.send_raw_transaction(signed(chain, outsider, to=ZERO, value=1, gas=21_000))
    assert str(estimated.value) == str(submitted.value)
    # A KYC'd sender, and a call that names no sender at all, are estimated as usual.
    assert chain.estimate_gas(_unsigned_transfer(chain), _address(faucet(chain))) == 21_000
    assert chain.estimate_gas(_unsigned_transfer(chain, value=0), b"\x00" * 20) == 21_000


def test_an_unfunded_unverified_sender_is_told_about_kyc_first(permissioned):
    chain, _mode = permissioned
    pauper = Account.create()
    with pytest.raises(UnregisteredSenderError):
        chain.send_raw_transaction(signed(chain, pauper, to=ZERO, value=10**18, gas=21_000))
    with pytest.raises(UnregisteredSenderError):
        chain.estimate_gas(_unsigned_transfer(chain, value=10**18), _address(pauper))


def test_block_with_an_unverified_sender_is_refused_on_import(permissioned):
    chain, mode = permissioned
    outsider = stranger(chain)
    rogue = decode(chain, signed(chain, outsider, to=ZERO, gas=21_000))
    block = unchecked_block(chain, mode, [rogue])
    head = chain.head()
    with pytest.raises(InvalidBlockError) as info:
        chain.import_block(block)
    assert isinstance(info.value.__cause__, SenderNotPermittedError)
    assert outsider.address in str(info.value)
    assert chain.head() == head
    # The same block without the rogue transaction is fine: the refusal is about the sender.
    honest = decode(chain, signed(chain, faucet(chain), to=ZERO, gas=21_000))
    chain.import_block(unchecked_block(chain, mode, [honest]))
    assert chain.head().block_number == head.block_number + 1


def test_direct_reads_are_learnt_from_the_first_call_and_stay_cheap():
    chain, mode = open_permissioned(sealing="manual")
    try:
        account = faucet(chain)
        transactions = [
            decode(chain, signed(chain, account, to=ZERO, gas=21_000, nonce=n, value=1)) for n in range(50)
        ]
        built = chain.build_block(transactions)
        assert len(built.included) == 50
        assert mode.kyc.direct
        assert mode.kyc.calls == 1
    finally:
        chain.close()


def test_call_verdicts_are_reused_within_a_block_while_what_they_read_is_unchanged():
    chain, mode = open_permissioned(sealing="manual")
    try:
        mode.kyc = KycGate(direct_reads=False)
        account = faucet(chain)
        transactions = [
            decode(chain, signed(chain, account, to=ZERO, gas=21_000, nonce=n, value=1)) for n in range(50)
        ]
        assert len(chain.build_block(transactions).included) == 50
        assert not mode.kyc.direct
        assert mode.kyc.calls == 1
    finally:
        chain.close()


@pytest.mark.parametrize("direct", [True, False])
def test_a_revocation_inside_a_block_is_seen_by_both_ways_of_checking(direct):
    chain, mode = open_permissioned(sealing="manual")
    try:
        mode.kyc = KycGate(direct_reads=direct)
        chain.build_block([decode(chain, signed(chain, faucet(chain), to=ZERO, gas=21_000))])  # learn
        alice = chain.dev_accounts[1].account
        investor_id = chain.state_view().call(
            IDENTITY_REGISTRY_ADDRESS, call_data("investorOf(address)", ["address"], [alice.address])
        )
        revoke = call_data("revokeInvestor(uint32)", ["uint32"], [int.from_bytes(investor_id, "big")])
        operator = mode.keyring.operator
        before = decode(chain, signed(chain, alice, to=ZERO, gas=21_000, nonce=0))
        revocation = decode(chain, signed(chain, operator, to=IDENTITY_REGISTRY_ADDRESS, data=revoke))
        after = decode(chain, signed(chain, alice, to=ZERO, gas=21_000, nonce=1))
        built = chain.build_block([before, revocation, after])
        assert built.included == [before.hash, revocation.hash]
        assert isinstance(built.failed[after.hash], SenderNotPermittedError)
        assert mode.kyc.direct is direct
    finally:
        chain.close()


@pytest.mark.parametrize("direct", [True, False])
def test_kyc_gate_answers_exactly_like_the_registry(permissioned, direct):
    chain, mode = permissioned
    now = chain.head().timestamp
    expiring = stranger(chain)
    register(chain, mode, expiring.address, expiry=now + 100)
    revoked = stranger(chain)
    register(chain, mode, revoked.address)
    revoke(chain, mode, revoked.address)
    wallets = [
        *(a.address for a in chain.dev_accounts),
        expiring.address,
        revoked.address,
        Account.create().address,
    ]
    gate = KycGate(direct_reads=direct)
    answers = []
    for _ in range(2):
        view = chain.state_view()
        for wallet in wallets:
            verdict = gate.is_verified(bytes.fromhex(wallet[2:]), view)
            assert verdict == is_verified(chain, wallet), wallet
            answers.append(verdict)
        chain.increase_time(200)  # the expiring KYC lapses in the next block
        chain.mine()
    assert True in answers
    assert False in answers
    assert gate.direct is direct


def test_funding_an_unverified_address_is_allowed(permissioned):
    chain, _mode = permissioned
    receiver = Account.create().address
    fund(chain, receiver, ether=1)
    assert chain.state_at().get_balance(bytes.fromhex(receiver[2:])) == 10**18
