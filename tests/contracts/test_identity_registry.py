"""IdentityRegistry: every function, role check, revert path and event."""

from __future__ import annotations

import pytest

from .helpers import (
    ACCREDITED,
    ADMIN_ROLE,
    DAY,
    FRANCE,
    GERMANY,
    PROFESSIONAL,
    REVOKED_FLAG,
    USA,
    ZERO_ADDRESS,
    events,
    expect_revert,
    interface_id,
    role,
    tx,
    unauthorized,
)

KYC_ROLE = role("KYC_PROVIDER_ROLE")


def record_of(key: str, country: int, expiry: int, flags: int, investor_id: int) -> int:
    """The packed wallet record, built independently of the contract's library."""
    return int(key, 16) | country << 160 | expiry << 176 | flags << 216 | investor_id << 224


def fresh_wallet(w3):
    """An address nobody registered (no key needed: the registry only stores it)."""
    return w3.eth.account.create().address


# ---------------------------------------------------------------- deployment and roles


def test_constructor_grants_both_roles_to_the_given_admin_not_the_deployer(deploy, actors):
    reg = deploy("IdentityRegistry", actors.alice, sender=actors.admin)
    assert reg.functions.hasRole(ADMIN_ROLE, actors.alice).call()
    assert reg.functions.hasRole(KYC_ROLE, actors.alice).call()
    assert not reg.functions.hasRole(ADMIN_ROLE, actors.admin).call()
    assert not reg.functions.hasRole(KYC_ROLE, actors.admin).call()
    assert reg.functions.getRoleAdmin(KYC_ROLE).call() == ADMIN_ROLE


def test_constants(registry):
    assert registry.functions.KYC_PROVIDER_ROLE().call() == KYC_ROLE
    assert registry.functions.MAX_WALLETS().call() == 16
    assert registry.functions.DEFAULT_ADMIN_ROLE().call() == ADMIN_ROLE


def test_empty_registry_views(registry, actors):
    assert registry.functions.investorCount().call() == 0
    assert registry.functions.isVerified(actors.alice).call() is False
    assert registry.functions.investorOf(actors.alice).call() == 0
    assert registry.functions.investorKeyOf(actors.alice).call() == ZERO_ADDRESS
    assert registry.functions.walletRecord(actors.alice).call() == 0
    assert registry.functions.walletRecords(actors.alice, actors.bob).call() == [0, 0]


WRITES = {
    "registerInvestor": lambda reg, a, exp: reg.functions.registerInvestor(a.outsider, FRANCE, 0, exp),
    "batchRegisterInvestors": lambda reg, a, exp: reg.functions.batchRegisterInvestors(
        [a.outsider], [FRANCE], [0], [exp]
    ),
    "updateInvestor": lambda reg, a, exp: reg.functions.updateInvestor(1, FRANCE, 0, exp),
    "revokeInvestor": lambda reg, a, exp: reg.functions.revokeInvestor(1),
    "addWallet": lambda reg, a, exp: reg.functions.addWallet(1, a.outsider),
    "removeWallet": lambda reg, a, exp: reg.functions.removeWallet(a.alice),
}


def test_writes_cover_every_state_changing_function(registry):
    mutating = {
        item["name"]
        for item in registry.abi
        if item.get("type") == "function" and item["stateMutability"] not in ("view", "pure")
    }
    assert mutating - {"grantRole", "revokeRole", "renounceRole"} == set(WRITES)


@pytest.mark.parametrize("name", sorted(WRITES))
def test_every_write_needs_the_kyc_provider_role(registry, investors, actors, kyc_expiry, name):
    fn = WRITES[name](registry, actors, kyc_expiry)
    assert fn.fn_name == name
    for intruder in (actors.mallory, actors.alice, actors.agent):
        with unauthorized(registry, intruder, "KYC_PROVIDER_ROLE"):
            fn.transact({"from": intruder})
    # The same call succeeds with the role: the refusal above was about the role only.
    tx(fn, actors.kyc)


def test_role_management_is_admin_only(registry, actors, kyc_expiry):
    with unauthorized(registry, actors.kyc, "DEFAULT_ADMIN_ROLE"):
        registry.functions.grantRole(KYC_ROLE, actors.mallory).transact({"from": actors.kyc})
    with unauthorized(registry, actors.mallory, "DEFAULT_ADMIN_ROLE"):
        registry.functions.revokeRole(KYC_ROLE, actors.kyc).transact({"from": actors.mallory})
    tx(registry.functions.revokeRole(KYC_ROLE, actors.kyc), actors.admin)
    assert not registry.functions.hasRole(KYC_ROLE, actors.kyc).call()
    with unauthorized(registry, actors.kyc, "KYC_PROVIDER_ROLE"):
        registry.functions.registerInvestor(actors.alice, FRANCE, 0, kyc_expiry).transact(
            {"from": actors.kyc}
        )


def test_renounce_role_needs_the_callers_own_address(registry, actors):
    with expect_revert(registry, "AccessControlBadConfirmation"):
        registry.functions.renounceRole(KYC_ROLE, actors.kyc).transact({"from": actors.admin})
    tx(registry.functions.renounceRole(KYC_ROLE, actors.kyc), actors.kyc)
    assert not registry.functions.hasRole(KYC_ROLE, actors.kyc).call()


def test_supports_interface_ids_computed_from_selectors(registry):
    identity_id = interface_id(
        [
            "isVerified(address)",
            "investorOf(address)",
            "walletRecord(address)",
            "walletRecords(address,address)",
            "investor(uint32)",
            "investorCount()",
            "investorKey(uint32)",
        ]
    )
    access_control_id = interface_id(
        [
            "hasRole(bytes32,address)",
            "getRoleAdmin(bytes32)",
            "grantRole(bytes32,address)",
            "revokeRole(bytes32,address)",
            "renounceRole(bytes32,address)",
        ]
    )
    erc165_id = interface_id(["supportsInterface(bytes4)"])
    assert erc165_id == bytes.fromhex("01ffc9a7")
    for supported in (identity_id, access_control_id, erc165_id):
        assert registry.functions.supportsInterface(supported).call() is True
    for unsupported in (b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", bytes.fromhex("3edbb4c4")):
        assert registry.functions.supportsInterface(unsupported).call() is False


# ---------------------------------------------------------------- registration


def test_register_investor_stores_the_packed_record_and_emits_one_event(registry, actors, kyc_expiry):
    fn = registry.functions.registerInvestor(actors.alice, FRANCE, ACCREDITED, kyc_expiry)
    assert fn.call({"from": actors.kyc}) == 1
    receipt = tx(fn, actors.kyc)
    assert events(registry, receipt) == [
        (
            "InvestorRegistered",
            {
                "investorId": 1,
                "wallet": actors.alice,
                "country": FRANCE,
                "attributes": ACCREDITED,
                "kycExpiry": kyc_expiry,
            },
        )
    ]
    assert registry.functions.investorCount().call() == 1
    assert registry.functions.isVerified(actors.alice).call() is True
    assert registry.functions.investorOf(actors.alice).call() == 1
    assert registry.functions.investorKeyOf(actors.alice).call() == actors.alice
    assert registry.functions.walletRecord(actors.alice).call() == record_of(
        actors.alice, FRANCE, kyc_expiry, ACCREDITED, 1
    )
    assert registry.functions.investor(1).call() == [FRANCE, ACCREDITED, kyc_expiry, False, [actors.alice]]


def test_register_ids_are_sequential(registry, actors, kyc_expiry):
    for expected_id, wallet in enumerate((actors.alice, actors.bob, actors.carol), start=1):
        fn = registry.functions.registerInvestor(wallet, USA, 0, kyc_expiry)
        assert fn.call({"from": actors.kyc}) == expected_id
        tx(fn, actors.kyc)
        assert registry.functions.investorOf(wallet).call() == expected_id
    assert registry.functions.investorCount().call() == 3


@pytest.mark.parametrize("country", [1, 999])
def test_register_accepts_country_bounds(registry, actors, kyc_expiry, country):
    tx(registry.functions.registerInvestor(actors.alice, country, 0, kyc_expiry), actors.kyc)
    assert registry.functions.investor(1).call()[0] == country


@pytest.mark.parametrize("country", [0, 1000, 65535])
def test_register_rejects_invalid_country(registry, actors, kyc_expiry, country):
    with expect_revert(registry, "IdentityRegistryInvalidCountry", country):
        registry.functions.registerInvestor(actors.alice, country, 0, kyc_expiry).transact(
            {"from": actors.kyc}
        )


def test_register_accepts_every_attribute_bit_but_the_reserved_one(registry, actors, kyc_expiry):
    tx(registry.functions.registerInvestor(actors.alice, FRANCE, 0x7F, kyc_expiry), actors.kyc)
    assert registry.functions.investor(1).call()[1] == 0x7F
    assert registry.functions.isVerified(actors.alice).call()


@pytest.mark.parametrize("attributes", [0x80, 0x81, 0xFF])
def test_register_rejects_the_reserved_revoked_bit(registry, actors, kyc_expiry, attributes):
    with expect_revert(registry, "IdentityRegistryInvalidAttributes", attributes):
        registry.functions.registerInvestor(actors.alice, FRANCE, attributes, kyc_expiry).transact(
            {"from": actors.kyc}
        )


def test_register_expiry_must_be_after_now(registry, actors, clock):
    now = clock.now()
    # A view runs at the latest block's timestamp: `now` itself is already expired, now + 1 is not.
    for expiry in (0, now - 1, now):
        with expect_revert(registry, "IdentityRegistryInvalidExpiry", expiry):
            registry.functions.registerInvestor(actors.alice, FRANCE, 0, expiry).call({"from": actors.kyc})
    assert (
        registry.functions.registerInvestor(actors.alice, FRANCE, 0, now + 1).call({"from": actors.kyc}) == 1
    )


def test_register_rejects_the_zero_wallet(registry, actors, kyc_expiry):
    with expect_revert(registry, "IdentityRegistryInvalidWallet", ZERO_ADDRESS):
        registry.functions.registerInvestor(ZERO_ADDRESS, FRANCE, 0, kyc_expiry).transact(
            {"from": actors.kyc}
        )


def test_register_rejects_a_wallet_already_linked(registry, investors, actors, kyc_expiry):
    with expect_revert(registry, "IdentityRegistryWalletAlreadyRegistered", actors.bob, 2):
        registry.functions.registerInvestor(actors.bob, USA, 0, kyc_expiry).transact({"from": actors.kyc})
    # A second wallet of an investor is taken too.
    tx(registry.functions.addWallet(1, actors.outsider), actors.kyc)
    with expect_revert(registry, "IdentityRegistryWalletAlreadyRegistered", actors.outsider, 1):
        registry.functions.registerInvestor(actors.outsider, USA, 0, kyc_expiry).transact(
            {"from": actors.kyc}
        )


def test_register_rejects_a_wallet_of_a_revoked_investor(registry, investors, actors, kyc_expiry):
    tx(registry.functions.revokeInvestor(3), actors.kyc)
    with expect_revert(registry, "IdentityRegistryWalletAlreadyRegistered", actors.carol, 3):
        registry.functions.registerInvestor(actors.carol, USA, 0, kyc_expiry).transact({"from": actors.kyc})


def test_register_check_order_wallet_then_country_attributes_expiry(registry, investors, actors, clock):
    past = clock.now() - 1
    with expect_revert(registry, "IdentityRegistryInvalidWallet", ZERO_ADDRESS):
        registry.functions.registerInvestor(ZERO_ADDRESS, 0, 0x80, past).call({"from": actors.kyc})
    with expect_revert(registry, "IdentityRegistryWalletAlreadyRegistered", actors.alice, 1):
        registry.functions.registerInvestor(actors.alice, 0, 0x80, past).call({"from": actors.kyc})
    with expect_revert(registry, "IdentityRegistryInvalidCountry", 0):
        registry.functions.registerInvestor(actors.outsider, 0, 0x80, past).call({"from": actors.kyc})
    with expect_revert(registry, "IdentityRegistryInvalidAttributes", 0x80):
        registry.functions.registerInvestor(actors.outsider, FRANCE, 0x80, past).call({"from": actors.kyc})
    with expect_revert(registry, "IdentityRegistryInvalidExpiry", past):
        registry.functions.registerInvestor(actors.outsider, FRANCE, 0, past).call({"from": actors.kyc})


# ---------------------------------------------------------------- batch registration


def test_batch_register_returns_ids_and_emits_one_event_each(registry, actors, kyc_expiry):
    wallets = [actors.alice, actors.bob, actors.carol]
    fn = registry.functions.batchRegisterInvestors(
        wallets,
        [FRANCE, GERMANY, USA],
        [ACCREDITED, PROFESSIONAL, 0],
        [kyc_expiry, kyc_expiry + 1, kyc_expiry + 2],
    )
    assert fn.call({"from": actors.kyc}) == [1, 2, 3]
    receipt = tx(fn, actors.kyc)
    assert [(name, args["investorId"], args["wallet"]) for name, args in events(registry, receipt)] == [
        ("InvestorRegistered", 1, actors.alice),
        ("InvestorRegistered", 2, actors.bob),
        ("InvestorRegistered", 3, actors.carol),
    ]
    assert registry.functions.investor(2).call() == [
        GERMANY,
        PROFESSIONAL,
        kyc_expiry + 1,
        False,
        [actors.bob],
    ]
    assert registry.functions.investor(3).call() == [USA, 0, kyc_expiry + 2, False, [actors.carol]]
    assert registry.functions.investorCount().call() == 3


def test_batch_register_empty_is_a_no_op(registry, actors):
    assert registry.functions.batchRegisterInvestors([], [], [], []).call({"from": actors.kyc}) == []
    receipt = tx(registry.functions.batchRegisterInvestors([], [], [], []), actors.kyc)
    assert events(registry, receipt) == []
    assert registry.functions.investorCount().call() == 0


@pytest.mark.parametrize("short", ["countries", "attributes", "expiries", "wallets"])
def test_batch_register_rejects_length_mismatch(registry, actors, kyc_expiry, short):
    columns = {
        "wallets": [actors.alice, actors.bob],
        "countries": [FRANCE, GERMANY],
        "attributes": [0, 0],
        "expiries": [kyc_expiry, kyc_expiry],
    }
    columns[short] = columns[short][:1]
    with expect_revert(registry, "IdentityRegistryLengthMismatch"):
        registry.functions.batchRegisterInvestors(*columns.values()).transact({"from": actors.kyc})


def test_batch_register_is_all_or_nothing(registry, actors, kyc_expiry):
    with expect_revert(registry, "IdentityRegistryInvalidCountry", 0):
        registry.functions.batchRegisterInvestors(
            [actors.alice, actors.bob, actors.carol], [FRANCE, 0, USA], [0, 0, 0], [kyc_expiry] * 3
        ).transact({"from": actors.kyc})
    assert registry.functions.investorCount().call() == 0
    assert registry.functions.investorOf(actors.alice).call() == 0


def test_batch_register_rejects_a_wallet_twice_in_the_same_batch(registry, actors, kyc_expiry):
    with expect_revert(registry, "IdentityRegistryWalletAlreadyRegistered", actors.alice, 1):
        registry.functions.batchRegisterInvestors(
            [actors.alice, actors.alice], [FRANCE, FRANCE], [0, 0], [kyc_expiry] * 2
        ).transact({"from": actors.kyc})
    assert registry.functions.investorCount().call() == 0


# ---------------------------------------------------------------- update


def test_update_investor_rewrites_every_wallet_and_keeps_the_key(registry, investors, actors, kyc_expiry):
    tx(registry.functions.addWallet(1, actors.outsider), actors.kyc)
    tx(registry.functions.addWallet(1, actors.mallory), actors.kyc)
    receipt = tx(registry.functions.updateInvestor(1, USA, PROFESSIONAL, kyc_expiry + DAY), actors.kyc)
    assert events(registry, receipt) == [
        (
            "InvestorUpdated",
            {"investorId": 1, "country": USA, "attributes": PROFESSIONAL, "kycExpiry": kyc_expiry + DAY},
        )
    ]
    expected = record_of(actors.alice, USA, kyc_expiry + DAY, PROFESSIONAL, 1)
    for wallet in (actors.alice, actors.outsider, actors.mallory):
        assert registry.functions.walletRecord(wallet).call() == expected
        assert registry.functions.investorKeyOf(wallet).call() == actors.alice
    assert registry.functions.investor(1).call() == [
        USA,
        PROFESSIONAL,
        kyc_expiry + DAY,
        False,
        [actors.alice, actors.outsider, actors.mallory],
    ]
    # Other investors are untouched.
    assert registry.functions.walletRecord(actors.bob).call() == record_of(
        actors.bob, GERMANY, kyc_expiry, ACCREDITED | PROFESSIONAL, 2
    )


@pytest.mark.parametrize("investor_id", [0, 6, 2**32 - 1])
def test_update_unknown_investor(registry, investors, actors, kyc_expiry, investor_id):
    with expect_revert(registry, "IdentityRegistryUnknownInvestor", investor_id):
        registry.functions.updateInvestor(investor_id, FRANCE, 0, kyc_expiry).transact({"from": actors.kyc})


def test_update_validates_like_register(registry, investors, actors, clock, kyc_expiry):
    with expect_revert(registry, "IdentityRegistryInvalidCountry", 1000):
        registry.functions.updateInvestor(1, 1000, 0, kyc_expiry).transact({"from": actors.kyc})
    with expect_revert(registry, "IdentityRegistryInvalidAttributes", 0x80 | ACCREDITED):
        registry.functions.updateInvestor(1, FRANCE, 0x80 | ACCREDITED, kyc_expiry).transact(
            {"from": actors.kyc}
        )
    now = clock.now()
    with expect_revert(registry, "IdentityRegistryInvalidExpiry", now):
        registry.functions.updateInvestor(1, FRANCE, 0, now).call({"from": actors.kyc})
    # The rejected updates left the investor as it was.
    assert registry.functions.investor(1).call()[:3] == [FRANCE, ACCREDITED, kyc_expiry]


def test_update_a_revoked_investor_is_refused(registry, investors, actors, kyc_expiry):
    tx(registry.functions.revokeInvestor(2), actors.kyc)
    with expect_revert(registry, "IdentityRegistryInvestorRevoked", 2):
        registry.functions.updateInvestor(2, GERMANY, 0, kyc_expiry).transact({"from": actors.kyc})


def test_update_renews_an_expired_kyc(registry, actors, clock):
    expiry = clock.now() + 100
    tx(registry.functions.registerInvestor(actors.alice, FRANCE, 0, expiry), actors.kyc)
    clock.travel_to(expiry)
    assert not registry.functions.isVerified(actors.alice).call()
    tx(registry.functions.updateInvestor(1, FRANCE, 0, expiry + 1000), actors.kyc)
    assert registry.functions.isVerified(actors.alice).call()


# ---------------------------------------------------------------- verification and expiry


def test_kyc_expires_exactly_at_the_expiry(registry, actors, clock):
    expiry = clock.now() + 1000
    tx(registry.functions.registerInvestor(actors.alice, FRANCE, 0, expiry), actors.kyc)
    tx(registry.functions.addWallet(1, actors.outsider), actors.kyc)
    clock.travel_to(expiry - 1)
    assert registry.functions.isVerified(actors.alice).call() is True
    assert registry.functions.isVerified(actors.outsider).call() is True
    clock.travel_to(expiry)
    assert registry.functions.isVerified(actors.alice).call() is False
    assert registry.functions.isVerified(actors.outsider).call() is False
    # Expiry is not revocation: the records stay, the investor can still be updated.
    assert registry.functions.investorOf(actors.alice).call() == 1
    assert registry.functions.investor(1).call()[3] is False


def test_revoke_unverifies_every_wallet_and_is_final(registry, investors, actors, kyc_expiry):
    tx(registry.functions.addWallet(2, actors.outsider), actors.kyc)
    receipt = tx(registry.functions.revokeInvestor(2), actors.kyc)
    assert events(registry, receipt) == [("InvestorRevoked", {"investorId": 2})]
    for wallet in (actors.bob, actors.outsider):
        assert registry.functions.isVerified(wallet).call() is False
        assert registry.functions.investorOf(wallet).call() == 2
        assert registry.functions.walletRecord(wallet).call() == record_of(
            actors.bob, GERMANY, kyc_expiry, ACCREDITED | PROFESSIONAL | REVOKED_FLAG, 2
        )
    # investor() reports the attributes without the revoked bit, and the flag apart.
    assert registry.functions.investor(2).call() == [
        GERMANY,
        ACCREDITED | PROFESSIONAL,
        kyc_expiry,
        True,
        [actors.bob, actors.outsider],
    ]
    assert registry.functions.isVerified(actors.alice).call() is True
    with expect_revert(registry, "IdentityRegistryInvestorRevoked", 2):
        registry.functions.revokeInvestor(2).transact({"from": actors.kyc})


@pytest.mark.parametrize("investor_id", [0, 6])
def test_revoke_unknown_investor(registry, investors, actors, investor_id):
    with expect_revert(registry, "IdentityRegistryUnknownInvestor", investor_id):
        registry.functions.revokeInvestor(investor_id).transact({"from": actors.kyc})


@pytest.mark.parametrize("investor_id", [0, 6])
def test_investor_view_of_unknown_id_reverts(registry, investors, investor_id):
    with expect_revert(registry, "IdentityRegistryUnknownInvestor", investor_id):
        registry.functions.investor(investor_id).call()


def test_wallet_records_reads_both_parties(registry, investors, actors, kyc_expiry):
    alice = record_of(actors.alice, FRANCE, kyc_expiry, ACCREDITED, 1)
    carol = record_of(actors.carol, USA, kyc_expiry, 0, 3)
    assert registry.functions.walletRecords(actors.alice, actors.carol).call() == [alice, carol]
    assert registry.functions.walletRecords(actors.carol, actors.alice).call() == [carol, alice]
    assert registry.functions.walletRecords(actors.outsider, actors.alice).call() == [0, alice]
    assert registry.functions.walletRecords(actors.alice, actors.alice).call() == [alice, alice]


# ---------------------------------------------------------------- wallets


def test_add_wallet_copies_the_investor_record(registry, investors, actors):
    receipt = tx(registry.functions.addWallet(3, actors.outsider), actors.kyc)
    assert events(registry, receipt) == [("WalletAdded", {"investorId": 3, "wallet": actors.outsider})]
    assert (
        registry.functions.walletRecord(actors.outsider).call()
        == registry.functions.walletRecord(actors.carol).call()
    )
    assert registry.functions.isVerified(actors.outsider).call() is True
    assert registry.functions.investorKeyOf(actors.outsider).call() == actors.carol
    assert registry.functions.investor(3).call()[4] == [actors.carol, actors.outsider]
    assert registry.functions.investorCount().call() == 5


def test_add_wallet_errors(registry, investors, actors):
    with expect_revert(registry, "IdentityRegistryUnknownInvestor", 9):
        registry.functions.addWallet(9, actors.outsider).transact({"from": actors.kyc})
    with expect_revert(registry, "IdentityRegistryInvalidWallet", ZERO_ADDRESS):
        registry.functions.addWallet(1, ZERO_ADDRESS).transact({"from": actors.kyc})
    with expect_revert(registry, "IdentityRegistryWalletAlreadyRegistered", actors.bob, 2):
        registry.functions.addWallet(1, actors.bob).transact({"from": actors.kyc})
    with expect_revert(registry, "IdentityRegistryWalletAlreadyRegistered", actors.alice, 1):
        registry.functions.addWallet(1, actors.alice).transact({"from": actors.kyc})
    tx(registry.functions.revokeInvestor(4), actors.kyc)
    with expect_revert(registry, "IdentityRegistryInvestorRevoked", 4):
        registry.functions.addWallet(4, actors.outsider).transact({"from": actors.kyc})


def test_add_wallet_check_order_investor_then_wallet(registry, investors, actors):
    with expect_revert(registry, "IdentityRegistryUnknownInvestor", 0):
        registry.functions.addWallet(0, ZERO_ADDRESS).call({"from": actors.kyc})
    tx(registry.functions.revokeInvestor(4), actors.kyc)
    with expect_revert(registry, "IdentityRegistryInvestorRevoked", 4):
        registry.functions.addWallet(4, actors.alice).call({"from": actors.kyc})


def test_add_wallet_stops_at_max_wallets(w3, registry, investors, actors):
    extra = [fresh_wallet(w3) for _ in range(15)]
    for wallet in extra:
        tx(registry.functions.addWallet(1, wallet), actors.kyc)
    assert len(registry.functions.investor(1).call()[4]) == 16
    with expect_revert(registry, "IdentityRegistryTooManyWallets", 1, 16):
        registry.functions.addWallet(1, actors.outsider).transact({"from": actors.kyc})
    # Wallet checks come before the count.
    with expect_revert(registry, "IdentityRegistryWalletAlreadyRegistered", actors.bob, 2):
        registry.functions.addWallet(1, actors.bob).call({"from": actors.kyc})
    # Removing one makes room again.
    tx(registry.functions.removeWallet(extra[0]), actors.kyc)
    tx(registry.functions.addWallet(1, actors.outsider), actors.kyc)
    assert registry.functions.investorOf(actors.outsider).call() == 1


def test_remove_wallet_swaps_the_last_into_the_hole(registry, investors, actors):
    tx(registry.functions.addWallet(1, actors.outsider), actors.kyc)
    tx(registry.functions.addWallet(1, actors.mallory), actors.kyc)
    receipt = tx(registry.functions.removeWallet(actors.alice), actors.kyc)
    assert events(registry, receipt) == [("WalletRemoved", {"investorId": 1, "wallet": actors.alice})]
    assert registry.functions.investor(1).call()[4] == [actors.mallory, actors.outsider]
    assert registry.functions.walletRecord(actors.alice).call() == 0
    assert registry.functions.isVerified(actors.alice).call() is False
    assert registry.functions.investorOf(actors.alice).call() == 0
    assert registry.functions.investorKeyOf(actors.alice).call() == ZERO_ADDRESS
    # The investor keeps its first wallet as key even though that wallet is gone.
    assert registry.functions.investorKeyOf(actors.mallory).call() == actors.alice
    assert registry.functions.investorKey(1).call() == actors.alice
    assert registry.functions.isVerified(actors.mallory).call() is True


def test_investor_key_by_id(registry, investors, actors):
    for investor in investors.values():
        assert registry.functions.investorKey(investor.investor_id).call() == investor.wallet
    # Unknown ids, including 0, have no key; a revoked investor keeps its key.
    assert registry.functions.investorKey(0).call() == ZERO_ADDRESS
    assert registry.functions.investorKey(6).call() == ZERO_ADDRESS
    tx(registry.functions.revokeInvestor(2), actors.kyc)
    assert registry.functions.investorKey(2).call() == actors.bob


def test_remove_the_last_wallet_then_add_one(registry, investors, actors, kyc_expiry):
    tx(registry.functions.removeWallet(actors.dave), actors.kyc)
    assert registry.functions.investor(4).call() == [FRANCE, 0, kyc_expiry, False, []]
    tx(registry.functions.addWallet(4, actors.outsider), actors.kyc)
    assert registry.functions.investorKeyOf(actors.outsider).call() == actors.dave
    assert registry.functions.investor(4).call()[4] == [actors.outsider]


def test_a_removed_secondary_wallet_can_join_another_investor_or_register_anew(
    registry, investors, actors, kyc_expiry
):
    tx(registry.functions.addWallet(5, actors.outsider), actors.kyc)
    tx(registry.functions.removeWallet(actors.outsider), actors.kyc)
    assert (
        registry.functions.registerInvestor(actors.outsider, USA, 0, kyc_expiry).call({"from": actors.kyc})
        == 6
    )
    tx(registry.functions.addWallet(1, actors.outsider), actors.kyc)
    assert registry.functions.investorOf(actors.outsider).call() == 1
    assert registry.functions.investorKeyOf(actors.outsider).call() == actors.alice


def test_a_removed_key_wallet_stays_bound_to_its_investor(registry, investors, actors, kyc_expiry):
    # Tokens keep an investor's totals in its key wallet's storage: the key may never change hands.
    tx(registry.functions.removeWallet(actors.erin), actors.kyc)
    assert registry.functions.investor(5).call()[4] == []
    with expect_revert(registry, "IdentityRegistryWalletAlreadyRegistered", actors.erin, 5):
        registry.functions.registerInvestor(actors.erin, USA, 0, kyc_expiry).transact({"from": actors.kyc})
    with expect_revert(registry, "IdentityRegistryWalletAlreadyRegistered", actors.erin, 5):
        registry.functions.addWallet(1, actors.erin).transact({"from": actors.kyc})
    tx(registry.functions.addWallet(5, actors.erin), actors.kyc)
    assert registry.functions.investor(5).call()[4] == [actors.erin]
    assert registry.functions.investorKeyOf(actors.erin).call() == actors.erin
    assert registry.functions.isVerified(actors.erin).call()


def test_a_removed_key_wallet_of_a_revoked_investor_stays_bound(registry, investors, actors, kyc_expiry):
    tx(registry.functions.revokeInvestor(4), actors.kyc)
    tx(registry.functions.removeWallet(actors.dave), actors.kyc)
    with expect_revert(registry, "IdentityRegistryWalletAlreadyRegistered", actors.dave, 4):
        registry.functions.registerInvestor(actors.dave, FRANCE, 0, kyc_expiry).transact({"from": actors.kyc})


def test_remove_wallet_of_a_revoked_investor_is_allowed(registry, investors, actors):
    tx(registry.functions.revokeInvestor(2), actors.kyc)
    tx(registry.functions.removeWallet(actors.bob), actors.kyc)
    assert registry.functions.walletRecord(actors.bob).call() == 0
    assert registry.functions.investor(2).call()[3:] == [True, []]


def test_remove_unknown_wallet(registry, investors, actors):
    with expect_revert(registry, "IdentityRegistryUnknownWallet", actors.outsider):
        registry.functions.removeWallet(actors.outsider).transact({"from": actors.kyc})
    tx(registry.functions.removeWallet(actors.alice), actors.kyc)
    with expect_revert(registry, "IdentityRegistryUnknownWallet", actors.alice):
        registry.functions.removeWallet(actors.alice).transact({"from": actors.kyc})
