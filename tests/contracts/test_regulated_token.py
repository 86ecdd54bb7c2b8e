"""RegulatedToken (through RegulatedTestToken): ERC-20, ERC-7943, supply, enforcement and recovery.

Behaviour common to both modes runs on the ``token`` fixture (once per mode); kyc-only and
open-only behaviour uses ``kyc_token`` / ``open_token``. Compliance rules live in test_compliance.py,
record dates in test_record_dates.py.
"""

from __future__ import annotations

import pytest

from registry.artifacts import load_artifact

from .helpers import (
    ADMIN_ROLE,
    COMPLIANCE,
    ENFORCEMENT,
    MAX_AMOUNT,
    MAX_UINT256,
    SUPPLY,
    ZERO_ADDRESS,
    deploy_contract,
    event_names,
    events,
    expect_revert,
    interface_id,
    role,
    tx,
    unauthorized,
)

ERC7943_FUNCTIONS = [
    "forcedTransfer(address,address,uint256)",
    "setFrozenTokens(address,uint256)",
    "canSend(address)",
    "canReceive(address)",
    "getFrozenTokens(address)",
    "canTransfer(address,address,uint256)",
]


def is_kyc(token) -> bool:
    return bool(token.functions.kycMode().call())


# ---------------------------------------------------------------- deployment, metadata, ERC-165


def test_constructor_sets_metadata_mode_and_roles(w3, actors, registry):
    token = deploy_contract(
        w3,
        "RegulatedTestToken",
        "Green Bond",
        "GRB",
        actors.alice,
        registry.address,
        True,
        sender=actors.admin,
    )
    assert token.functions.name().call() == "Green Bond"
    assert token.functions.symbol().call() == "GRB"
    assert token.functions.decimals().call() == 0
    assert token.functions.totalSupply().call() == 0
    assert token.functions.kycMode().call() is True
    assert token.functions.identityRegistry().call() == registry.address
    assert token.functions.paused().call() is False
    for name in ("DEFAULT_ADMIN_ROLE", SUPPLY, ENFORCEMENT, COMPLIANCE):
        role_id = ADMIN_ROLE if name == "DEFAULT_ADMIN_ROLE" else role(name)
        assert token.functions.hasRole(role_id, actors.alice).call(), name
        assert not token.functions.hasRole(role_id, actors.admin).call(), f"deployer got {name}"
    assert token.functions.SUPPLY_ROLE().call() == role(SUPPLY)
    assert token.functions.ENFORCEMENT_ROLE().call() == role(ENFORCEMENT)
    assert token.functions.COMPLIANCE_ROLE().call() == role(COMPLIANCE)


def test_open_mode_needs_no_registry(open_token):
    assert open_token.functions.kycMode().call() is False
    assert open_token.functions.identityRegistry().call() == ZERO_ADDRESS


@pytest.mark.parametrize("which", ["zero", "wallet"])
def test_kyc_mode_needs_a_registry_contract(w3, actors, which):
    artifact = load_artifact("RegulatedTestToken")
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    bad = ZERO_ADDRESS if which == "zero" else actors.alice
    with expect_revert(factory, "RegulatedTokenInvalidRegistry", bad):
        factory.constructor("T", "T", actors.admin, bad, True).transact({"from": actors.admin})


def test_erc7943_interface_id_is_the_xor_of_its_selectors(token):
    computed = interface_id(ERC7943_FUNCTIONS)
    assert computed == bytes.fromhex("3edbb4c4")
    assert token.functions.supportsInterface(computed).call() is True


def test_supports_erc165_and_access_control_but_not_garbage(token):
    assert token.functions.supportsInterface(interface_id(["supportsInterface(bytes4)"])).call() is True
    access_control = interface_id(
        [
            "hasRole(bytes32,address)",
            "getRoleAdmin(bytes32)",
            "grantRole(bytes32,address)",
            "revokeRole(bytes32,address)",
            "renounceRole(bytes32,address)",
        ]
    )
    assert token.functions.supportsInterface(access_control).call() is True
    assert token.functions.supportsInterface(b"\xff\xff\xff\xff").call() is False
    # The non-fungible and multi-token flavours of ERC-7943 are not claimed.
    for other in ("bf1ef5fe", "41c4fbad"):
        assert token.functions.supportsInterface(bytes.fromhex(other)).call() is False


# ---------------------------------------------------------------- roles

# Every restricted function, the role it needs, and arguments valid for its holder (on a funded token).
RESTRICTED = {
    "mint": (SUPPLY, lambda a: (a.alice, 1)),
    "batchMint": (SUPPLY, lambda a: ([a.alice], [1])),
    "burn": (SUPPLY, lambda a: (a.alice, 1)),
    "scheduleRecordDate": (SUPPLY, lambda a: (2**40 - 1,)),
    "pause": (ENFORCEMENT, lambda a: ()),
    "setFrozenTokens": (ENFORCEMENT, lambda a: (a.alice, 1)),
    "batchSetFrozenTokens": (ENFORCEMENT, lambda a: ([a.alice], [1])),
    "freezeAccount": (ENFORCEMENT, lambda a: (a.alice,)),
    "unfreezeAccount": (ENFORCEMENT, lambda a: (a.alice,)),
    "forcedTransfer": (ENFORCEMENT, lambda a: (a.alice, a.bob, 1)),
    "recoverWallet": (ENFORCEMENT, lambda a: (a.alice, a.outsider)),
    "setCountryRule": (COMPLIANCE, lambda a: (1,)),
    "setCountries": (COMPLIANCE, lambda a: ([250], True)),
    "setMaxInvestors": (COMPLIANCE, lambda a: (3,)),
    "setMaxBalancePerInvestor": (COMPLIANCE, lambda a: (10,)),
    "setLockup": (COMPLIANCE, lambda a: (1,)),
    "setAccreditedOnly": (COMPLIANCE, lambda a: (True,)),
    "grantRole": ("DEFAULT_ADMIN_ROLE", lambda a: (role(SUPPLY), a.carol)),
    "revokeRole": ("DEFAULT_ADMIN_ROLE", lambda a: (role(SUPPLY), a.admin)),
}
PUBLIC_WRITES = {"approve", "transfer", "transferFrom", "batchTransfer", "renounceRole"}
# What a role holder gets from a restricted function that the open token of `separated` refuses after
# the role check (recovery needs kyc mode).
AFTER_ROLE_CHECK = {"recoverWallet": "RegulatedTokenRecoveryNeedsKyc"}


def test_every_state_changing_function_is_classified(open_token):
    mutating = {
        item["name"]
        for item in open_token.abi
        if item.get("type") == "function" and item["stateMutability"] not in ("view", "pure")
    }
    # "unpause" needs a paused token: it is covered by its own test below.
    assert mutating == set(RESTRICTED) | PUBLIC_WRITES | {"unpause"}


@pytest.fixture
def separated(open_token, funded, actors):
    """An open token (so that no KYC rule interferes) whose four roles are held by four different
    accounts: admin by ``admin`` only, supply by ``agent``, enforcement by ``kyc``, compliance by
    ``mallory``."""
    token = funded(open_token)
    for holder, name in ((actors.agent, SUPPLY), (actors.kyc, ENFORCEMENT), (actors.mallory, COMPLIANCE)):
        tx(token.functions.grantRole(role(name), holder), actors.admin)
        tx(token.functions.revokeRole(role(name), actors.admin), actors.admin)
    return token


@pytest.mark.parametrize("name", sorted(RESTRICTED))
def test_each_role_unlocks_only_its_own_functions(separated, actors, name):
    needed, make_args = RESTRICTED[name]
    fn = getattr(separated.functions, name)(*make_args(actors))
    holders = {SUPPLY: actors.agent, ENFORCEMENT: actors.kyc, COMPLIANCE: actors.mallory}
    holders["DEFAULT_ADMIN_ROLE"] = actors.admin
    for role_name, holder in holders.items():
        if role_name == needed and name in AFTER_ROLE_CHECK:
            with expect_revert(separated, AFTER_ROLE_CHECK[name]):
                fn.call({"from": holder})
        elif role_name == needed:
            fn.call({"from": holder})  # must not revert
        else:
            with unauthorized(separated, holder, needed):
                fn.call({"from": holder})
    with unauthorized(separated, actors.carol, needed):
        fn.transact({"from": actors.carol})


def test_unpause_needs_the_enforcement_role(separated, actors):
    tx(separated.functions.pause(), actors.kyc)
    for intruder in (actors.agent, actors.mallory, actors.alice):
        with unauthorized(separated, intruder, ENFORCEMENT):
            separated.functions.unpause().transact({"from": intruder})
    tx(separated.functions.unpause(), actors.kyc)
    assert separated.functions.paused().call() is False


def test_a_revoked_role_no_longer_works(open_token, actors):
    tx(open_token.functions.revokeRole(role(SUPPLY), actors.admin), actors.admin)
    with unauthorized(open_token, actors.admin, SUPPLY):
        open_token.functions.mint(actors.alice, 1).transact({"from": actors.admin})


# ---------------------------------------------------------------- ERC-20


def test_mint_emits_transfer_and_grows_supply(token, actors):
    receipt = tx(token.functions.mint(actors.alice, 700), actors.admin)
    assert events(token, receipt) == [("Transfer", {"from": ZERO_ADDRESS, "to": actors.alice, "value": 700})]
    assert token.functions.balanceOf(actors.alice).call() == 700
    assert token.functions.totalSupply().call() == 700


def test_transfer_moves_and_emits(token, funded, actors):
    funded(token)
    fn = token.functions.transfer(actors.carol, 300)
    assert fn.call({"from": actors.alice}) is True
    receipt = tx(fn, actors.alice)
    assert events(token, receipt) == [("Transfer", {"from": actors.alice, "to": actors.carol, "value": 300})]
    assert token.functions.balanceOf(actors.alice).call() == 700
    assert token.functions.balanceOf(actors.carol).call() == 300
    assert token.functions.totalSupply().call() == 1_500


def test_transfer_of_zero_and_to_self(token, funded, actors):
    funded(token)
    receipt = tx(token.functions.transfer(actors.carol, 0), actors.alice)
    assert events(token, receipt) == [("Transfer", {"from": actors.alice, "to": actors.carol, "value": 0})]
    tx(token.functions.transfer(actors.alice, 400), actors.alice)
    assert token.functions.balanceOf(actors.alice).call() == 1_000
    assert token.functions.balanceOf(actors.carol).call() == 0
    assert token.functions.totalSupply().call() == 1_500


def test_transfer_errors(token, funded, actors):
    funded(token)
    with expect_revert(token, "ERC20InvalidReceiver", ZERO_ADDRESS):
        token.functions.transfer(ZERO_ADDRESS, 1).transact({"from": actors.alice})
    with expect_revert(token, "ERC20InsufficientBalance", actors.alice, 1_000, 1_001):
        token.functions.transfer(actors.bob, 1_001).transact({"from": actors.alice})
    with expect_revert(token, "ERC20InsufficientBalance", actors.carol, 0, 1):
        token.functions.transfer(actors.bob, 1).transact({"from": actors.carol})


def test_approve_and_allowance(token, actors):
    fn = token.functions.approve(actors.bob, 250)
    assert fn.call({"from": actors.alice}) is True
    receipt = tx(fn, actors.alice)
    assert events(token, receipt) == [
        ("Approval", {"owner": actors.alice, "spender": actors.bob, "value": 250})
    ]
    assert token.functions.allowance(actors.alice, actors.bob).call() == 250
    assert token.functions.allowance(actors.bob, actors.alice).call() == 0
    tx(token.functions.approve(actors.bob, 0), actors.alice)
    assert token.functions.allowance(actors.alice, actors.bob).call() == 0
    with expect_revert(token, "ERC20InvalidSpender", ZERO_ADDRESS):
        token.functions.approve(ZERO_ADDRESS, 1).transact({"from": actors.alice})


def test_approve_works_while_paused(token, actors):
    tx(token.functions.pause(), actors.admin)
    tx(token.functions.approve(actors.bob, 5), actors.alice)
    assert token.functions.allowance(actors.alice, actors.bob).call() == 5


def test_transfer_from_spends_the_allowance(token, funded, actors):
    funded(token)
    tx(token.functions.approve(actors.dave, 400), actors.alice)
    fn = token.functions.transferFrom(actors.alice, actors.carol, 150)
    assert fn.call({"from": actors.dave}) is True
    receipt = tx(fn, actors.dave)
    # Spending an allowance emits no Approval (as OpenZeppelin's ERC-20 does).
    assert events(token, receipt) == [("Transfer", {"from": actors.alice, "to": actors.carol, "value": 150})]
    assert token.functions.allowance(actors.alice, actors.dave).call() == 250
    assert token.functions.balanceOf(actors.carol).call() == 150
    with expect_revert(token, "ERC20InsufficientAllowance", actors.dave, 250, 251):
        token.functions.transferFrom(actors.alice, actors.carol, 251).transact({"from": actors.dave})
    with expect_revert(token, "ERC20InsufficientAllowance", actors.erin, 0, 1):
        token.functions.transferFrom(actors.alice, actors.carol, 1).transact({"from": actors.erin})


def test_transfer_from_with_an_infinite_allowance_does_not_decrease_it(token, funded, actors):
    funded(token)
    tx(token.functions.approve(actors.dave, MAX_UINT256), actors.alice)
    tx(token.functions.transferFrom(actors.alice, actors.carol, 10), actors.dave)
    assert token.functions.allowance(actors.alice, actors.dave).call() == MAX_UINT256


def test_transfer_from_errors(token, funded, actors):
    funded(token)
    tx(token.functions.approve(actors.dave, 2_000), actors.alice)
    with expect_revert(token, "ERC20InvalidReceiver", ZERO_ADDRESS):
        token.functions.transferFrom(actors.alice, ZERO_ADDRESS, 1).transact({"from": actors.dave})
    with expect_revert(token, "ERC20InsufficientBalance", actors.alice, 1_000, 1_500):
        token.functions.transferFrom(actors.alice, actors.carol, 1_500).transact({"from": actors.dave})
    with expect_revert(token, "ERC20InvalidSender", ZERO_ADDRESS):
        token.functions.transferFrom(ZERO_ADDRESS, actors.carol, 0).transact({"from": actors.dave})
    # A failed transferFrom spends nothing.
    assert token.functions.allowance(actors.alice, actors.dave).call() == 2_000


def test_batch_transfer_is_all_or_nothing(token, funded, actors):
    funded(token)
    fn = token.functions.batchTransfer([actors.carol, actors.dave], [100, 200])
    assert fn.call({"from": actors.alice}) is True
    receipt = tx(fn, actors.alice)
    assert [args for _, args in events(token, receipt)] == [
        {"from": actors.alice, "to": actors.carol, "value": 100},
        {"from": actors.alice, "to": actors.dave, "value": 200},
    ]
    with expect_revert(token, "ERC20InsufficientBalance", actors.alice, 600, 601):
        token.functions.batchTransfer([actors.carol, actors.dave], [100, 601]).transact(
            {"from": actors.alice}
        )
    assert token.functions.balanceOf(actors.alice).call() == 700
    with expect_revert(token, "RegulatedTokenLengthMismatch"):
        token.functions.batchTransfer([actors.carol], [1, 2]).transact({"from": actors.alice})
    with expect_revert(token, "RegulatedTokenLengthMismatch"):
        token.functions.batchTransfer([actors.carol, actors.dave], [1]).transact({"from": actors.alice})


def test_batch_transfer_of_nothing(token, actors):
    receipt = tx(token.functions.batchTransfer([], []), actors.alice)
    assert events(token, receipt) == []


# ---------------------------------------------------------------- supply


def test_batch_mint_and_its_errors(token, actors):
    receipt = tx(token.functions.batchMint([actors.alice, actors.bob, actors.alice], [1, 2, 3]), actors.admin)
    assert event_names(token, receipt) == ["Transfer"] * 3
    assert token.functions.balanceOf(actors.alice).call() == 4
    assert token.functions.totalSupply().call() == 6
    with expect_revert(token, "RegulatedTokenLengthMismatch"):
        token.functions.batchMint([actors.alice], []).transact({"from": actors.admin})
    with expect_revert(token, "ERC20InvalidReceiver", ZERO_ADDRESS):
        token.functions.batchMint([actors.alice, ZERO_ADDRESS], [5, 5]).transact({"from": actors.admin})
    assert token.functions.totalSupply().call() == 6


def test_mint_to_zero(token, actors):
    with expect_revert(token, "ERC20InvalidReceiver", ZERO_ADDRESS):
        token.functions.mint(ZERO_ADDRESS, 1).transact({"from": actors.admin})


def test_supply_is_capped_at_80_bits(token, actors):
    tx(token.functions.mint(actors.alice, MAX_AMOUNT - 1), actors.admin)
    tx(token.functions.mint(actors.bob, 1), actors.admin)
    assert token.functions.totalSupply().call() == MAX_AMOUNT
    with expect_revert(token, "RegulatedTokenSupplyCapExceeded", MAX_AMOUNT + 1, MAX_AMOUNT):
        token.functions.mint(actors.carol, 1).transact({"from": actors.admin})


def test_mint_of_an_absurd_amount_reverts_with_a_custom_error(token, actors):
    tx(token.functions.mint(actors.alice, 1), actors.admin)
    # Not a bare arithmetic panic: the caller must learn that the amount does not fit.
    with expect_revert(token, "RegulatedTokenAmountTooLarge", MAX_UINT256, MAX_AMOUNT):
        token.functions.mint(actors.bob, MAX_UINT256).call({"from": actors.admin})


def test_burn_destroys_and_emits(token, funded, actors):
    funded(token)
    receipt = tx(token.functions.burn(actors.alice, 400), actors.admin)
    assert events(token, receipt) == [("Transfer", {"from": actors.alice, "to": ZERO_ADDRESS, "value": 400})]
    assert token.functions.balanceOf(actors.alice).call() == 600
    assert token.functions.totalSupply().call() == 1_100


def test_burn_errors(token, funded, actors):
    funded(token)
    with expect_revert(token, "ERC20InsufficientBalance", actors.bob, 500, 501):
        token.functions.burn(actors.bob, 501).transact({"from": actors.admin})
    with expect_revert(token, "ERC20InvalidSender", ZERO_ADDRESS):
        token.functions.burn(ZERO_ADDRESS, 0).transact({"from": actors.admin})


def test_burn_takes_frozen_tokens_and_unfreezes_them_first(token, funded, actors):
    funded(token)
    tx(token.functions.setFrozenTokens(actors.alice, 900), actors.admin)
    receipt = tx(token.functions.burn(actors.alice, 300), actors.admin)
    # 100 unfrozen tokens go first, then 200 frozen ones: Frozen is emitted before Transfer.
    assert events(token, receipt) == [
        ("Frozen", {"account": actors.alice, "amount": 700}),
        ("Transfer", {"from": actors.alice, "to": ZERO_ADDRESS, "value": 300}),
    ]
    assert token.functions.getFrozenTokens(actors.alice).call() == 700
    assert token.functions.balanceOf(actors.alice).call() == 700


def test_burn_works_while_paused_and_on_a_frozen_account(token, funded, actors):
    funded(token)
    tx(token.functions.pause(), actors.admin)
    tx(token.functions.freezeAccount(actors.bob), actors.admin)
    tx(token.functions.burn(actors.bob, 500), actors.admin)
    assert token.functions.balanceOf(actors.bob).call() == 0
    assert token.functions.totalSupply().call() == 1_000


def test_mint_refused_to_a_frozen_account_and_while_paused(token, actors):
    tx(token.functions.freezeAccount(actors.carol), actors.admin)
    with expect_revert(token, "ERC7943CannotReceive", actors.carol):
        token.functions.mint(actors.carol, 1).transact({"from": actors.admin})
    tx(token.functions.pause(), actors.admin)
    with expect_revert(token, "EnforcedPause"):
        token.functions.mint(actors.alice, 1).transact({"from": actors.admin})


# ---------------------------------------------------------------- pause


def test_pause_and_unpause(token, funded, actors):
    funded(token)
    receipt = tx(token.functions.pause(), actors.admin)
    assert events(token, receipt) == [("Paused", {"account": actors.admin})]
    assert token.functions.paused().call() is True
    with expect_revert(token, "EnforcedPause"):
        token.functions.pause().transact({"from": actors.admin})
    receipt = tx(token.functions.unpause(), actors.admin)
    assert events(token, receipt) == [("Unpaused", {"account": actors.admin})]
    assert token.functions.paused().call() is False
    with expect_revert(token, "ExpectedPause"):
        token.functions.unpause().transact({"from": actors.admin})
    tx(token.functions.transfer(actors.carol, 1), actors.alice)


def test_pause_stops_holder_transfers(token, funded, actors):
    funded(token)
    tx(token.functions.approve(actors.dave, 100), actors.alice)
    tx(token.functions.pause(), actors.admin)
    assert token.functions.canTransfer(actors.alice, actors.carol, 1).call() is False
    with expect_revert(token, "EnforcedPause"):
        token.functions.transfer(actors.carol, 1).transact({"from": actors.alice})
    with expect_revert(token, "EnforcedPause"):
        token.functions.transferFrom(actors.alice, actors.carol, 1).transact({"from": actors.dave})
    with expect_revert(token, "EnforcedPause"):
        token.functions.batchTransfer([actors.carol], [1]).transact({"from": actors.alice})
    # Pause is token-wide, not account eligibility.
    assert token.functions.canSend(actors.alice).call() is True


def test_enforcement_keeps_working_while_paused(token, funded, actors):
    funded(token)
    tx(token.functions.pause(), actors.admin)
    tx(token.functions.setFrozenTokens(actors.alice, 10), actors.admin)
    tx(token.functions.forcedTransfer(actors.alice, actors.carol, 100), actors.admin)
    tx(token.functions.freezeAccount(actors.bob), actors.admin)
    assert token.functions.balanceOf(actors.carol).call() == 100


# ---------------------------------------------------------------- ERC-7943: partial freezes


def test_set_frozen_tokens_overwrites_and_may_exceed_the_balance(token, funded, actors):
    funded(token)
    fn = token.functions.setFrozenTokens(actors.bob, 2_000)
    assert fn.call({"from": actors.admin}) is True
    receipt = tx(fn, actors.admin)
    assert events(token, receipt) == [("Frozen", {"account": actors.bob, "amount": 2_000})]
    assert token.functions.getFrozenTokens(actors.bob).call() == 2_000
    tx(token.functions.setFrozenTokens(actors.bob, 100), actors.admin)
    assert token.functions.getFrozenTokens(actors.bob).call() == 100
    # An account without tokens can be frozen ahead of time.
    tx(token.functions.setFrozenTokens(actors.carol, 5), actors.admin)
    assert token.functions.getFrozenTokens(actors.carol).call() == 5
    assert token.functions.getFrozenTokens(actors.dave).call() == 0


def test_set_frozen_tokens_errors(token, actors):
    with expect_revert(token, "RegulatedTokenInvalidAccount", ZERO_ADDRESS):
        token.functions.setFrozenTokens(ZERO_ADDRESS, 1).transact({"from": actors.admin})
    with expect_revert(token, "RegulatedTokenAmountTooLarge", MAX_AMOUNT + 1, MAX_AMOUNT):
        token.functions.setFrozenTokens(actors.alice, MAX_AMOUNT + 1).transact({"from": actors.admin})
    tx(token.functions.setFrozenTokens(actors.alice, MAX_AMOUNT), actors.admin)
    assert token.functions.getFrozenTokens(actors.alice).call() == MAX_AMOUNT


def test_frozen_tokens_cannot_be_sent(token, funded, actors):
    funded(token)
    tx(token.functions.setFrozenTokens(actors.alice, 800), actors.admin)
    assert token.functions.canTransfer(actors.alice, actors.carol, 200).call() is True
    assert token.functions.canTransfer(actors.alice, actors.carol, 201).call() is False
    with expect_revert(token, "ERC7943InsufficientUnfrozenBalance", actors.alice, 201, 200):
        token.functions.transfer(actors.carol, 201).transact({"from": actors.alice})
    tx(token.functions.approve(actors.dave, 1_000), actors.alice)
    with expect_revert(token, "ERC7943InsufficientUnfrozenBalance", actors.alice, 1_000, 200):
        token.functions.transferFrom(actors.alice, actors.carol, 1_000).transact({"from": actors.dave})
    # Above the whole balance, the base standard's error wins.
    with expect_revert(token, "ERC20InsufficientBalance", actors.alice, 1_000, 1_001):
        token.functions.transfer(actors.carol, 1_001).transact({"from": actors.alice})
    tx(token.functions.transfer(actors.carol, 200), actors.alice)
    assert token.functions.getFrozenTokens(actors.alice).call() == 800
    with expect_revert(token, "ERC7943InsufficientUnfrozenBalance", actors.alice, 1, 0):
        token.functions.transfer(actors.carol, 1).transact({"from": actors.alice})


def test_frozen_above_balance_blocks_everything_and_receiving_frees_nothing(token, funded, actors):
    funded(token)
    tx(token.functions.setFrozenTokens(actors.bob, 600), actors.admin)
    with expect_revert(token, "ERC7943InsufficientUnfrozenBalance", actors.bob, 1, 0):
        token.functions.transfer(actors.carol, 1).transact({"from": actors.bob})
    tx(token.functions.transfer(actors.bob, 150), actors.alice)
    # 650 held, 600 frozen: 50 free.
    with expect_revert(token, "ERC7943InsufficientUnfrozenBalance", actors.bob, 51, 50):
        token.functions.transfer(actors.carol, 51).transact({"from": actors.bob})
    tx(token.functions.transfer(actors.carol, 50), actors.bob)


def test_batch_set_frozen_tokens(token, actors):
    fn = token.functions.batchSetFrozenTokens([actors.alice, actors.bob], [3, 4])
    assert fn.call({"from": actors.admin}) is True
    receipt = tx(fn, actors.admin)
    assert events(token, receipt) == [
        ("Frozen", {"account": actors.alice, "amount": 3}),
        ("Frozen", {"account": actors.bob, "amount": 4}),
    ]
    with expect_revert(token, "RegulatedTokenLengthMismatch"):
        token.functions.batchSetFrozenTokens([actors.alice], [1, 2]).transact({"from": actors.admin})
    with expect_revert(token, "RegulatedTokenInvalidAccount", ZERO_ADDRESS):
        token.functions.batchSetFrozenTokens([actors.carol, ZERO_ADDRESS], [1, 2]).transact(
            {"from": actors.admin}
        )
    assert token.functions.getFrozenTokens(actors.carol).call() == 0


# ---------------------------------------------------------------- whole-account freezes


def test_freeze_account_blocks_sending_and_receiving(token, funded, actors):
    funded(token)
    receipt = tx(token.functions.freezeAccount(actors.alice), actors.admin)
    assert events(token, receipt) == [("AccountFrozen", {"account": actors.alice})]
    assert token.functions.isAccountFrozen(actors.alice).call() is True
    assert token.functions.canSend(actors.alice).call() is False
    assert token.functions.canReceive(actors.alice).call() is False
    assert token.functions.canTransfer(actors.alice, actors.carol, 1).call() is False
    assert token.functions.canTransfer(actors.bob, actors.alice, 1).call() is False
    with expect_revert(token, "ERC7943CannotSend", actors.alice):
        token.functions.transfer(actors.carol, 1).transact({"from": actors.alice})
    with expect_revert(token, "ERC7943CannotReceive", actors.alice):
        token.functions.transfer(actors.alice, 1).transact({"from": actors.bob})
    receipt = tx(token.functions.unfreezeAccount(actors.alice), actors.admin)
    assert events(token, receipt) == [("AccountUnfrozen", {"account": actors.alice})]
    assert token.functions.isAccountFrozen(actors.alice).call() is False
    tx(token.functions.transfer(actors.carol, 1), actors.alice)


def test_freeze_account_keeps_the_partial_freeze(token, funded, actors):
    funded(token)
    tx(token.functions.setFrozenTokens(actors.alice, 10), actors.admin)
    tx(token.functions.freezeAccount(actors.alice), actors.admin)
    tx(token.functions.unfreezeAccount(actors.alice), actors.admin)
    assert token.functions.getFrozenTokens(actors.alice).call() == 10
    assert token.functions.balanceOf(actors.alice).call() == 1_000


def test_freeze_account_errors(token, actors):
    with expect_revert(token, "RegulatedTokenInvalidAccount", ZERO_ADDRESS):
        token.functions.freezeAccount(ZERO_ADDRESS).transact({"from": actors.admin})
    with expect_revert(token, "RegulatedTokenInvalidAccount", ZERO_ADDRESS):
        token.functions.unfreezeAccount(ZERO_ADDRESS).transact({"from": actors.admin})


# ---------------------------------------------------------------- forced transfers


def test_forced_transfer_moves_and_emits_transfer_then_forced_transfer(token, funded, actors):
    funded(token)
    fn = token.functions.forcedTransfer(actors.alice, actors.carol, 250)
    assert fn.call({"from": actors.admin}) is True
    receipt = tx(fn, actors.admin)
    assert events(token, receipt) == [
        ("Transfer", {"from": actors.alice, "to": actors.carol, "value": 250}),
        ("ForcedTransfer", {"from": actors.alice, "to": actors.carol, "amount": 250}),
    ]
    assert token.functions.balanceOf(actors.alice).call() == 750
    assert token.functions.balanceOf(actors.carol).call() == 250


def test_forced_transfer_unfreezes_what_it_takes_before_the_transfer(token, funded, actors):
    funded(token)
    tx(token.functions.setFrozenTokens(actors.alice, 950), actors.admin)
    receipt = tx(token.functions.forcedTransfer(actors.alice, actors.carol, 100), actors.admin)
    # 50 unfrozen tokens plus 50 frozen ones move: the frozen amount drops to 900 first.
    assert events(token, receipt) == [
        ("Frozen", {"account": actors.alice, "amount": 900}),
        ("Transfer", {"from": actors.alice, "to": actors.carol, "value": 100}),
        ("ForcedTransfer", {"from": actors.alice, "to": actors.carol, "amount": 100}),
    ]
    assert token.functions.getFrozenTokens(actors.alice).call() == 900


def test_forced_transfer_within_the_unfrozen_part_leaves_the_freeze(token, funded, actors):
    funded(token)
    tx(token.functions.setFrozenTokens(actors.alice, 500), actors.admin)
    receipt = tx(token.functions.forcedTransfer(actors.alice, actors.carol, 500), actors.admin)
    assert "Frozen" not in event_names(token, receipt)
    assert token.functions.getFrozenTokens(actors.alice).call() == 500


def test_forced_transfer_bypasses_pause_sender_freeze_and_sender_eligibility(token, funded, actors):
    funded(token)
    tx(token.functions.pause(), actors.admin)
    tx(token.functions.freezeAccount(actors.alice), actors.admin)
    tx(token.functions.setFrozenTokens(actors.alice, 1_000), actors.admin)
    tx(token.functions.forcedTransfer(actors.alice, actors.carol, 1_000), actors.admin)
    assert token.functions.balanceOf(actors.alice).call() == 0
    assert token.functions.getFrozenTokens(actors.alice).call() == 0
    assert token.functions.balanceOf(actors.carol).call() == 1_000


def test_forced_transfer_still_checks_the_receiver(token, funded, actors):
    funded(token)
    tx(token.functions.freezeAccount(actors.carol), actors.admin)
    with expect_revert(token, "ERC7943CannotReceive", actors.carol):
        token.functions.forcedTransfer(actors.alice, actors.carol, 1).transact({"from": actors.admin})
    with expect_revert(token, "ERC20InvalidReceiver", ZERO_ADDRESS):
        token.functions.forcedTransfer(actors.alice, ZERO_ADDRESS, 1).transact({"from": actors.admin})
    with expect_revert(token, "ERC20InvalidSender", ZERO_ADDRESS):
        token.functions.forcedTransfer(ZERO_ADDRESS, actors.bob, 1).transact({"from": actors.admin})
    with expect_revert(token, "ERC20InsufficientBalance", actors.bob, 500, 501):
        token.functions.forcedTransfer(actors.bob, actors.dave, 501).transact({"from": actors.admin})


def test_kyc_forced_transfer_refuses_an_unverified_receiver(kyc_token, funded, actors):
    funded(kyc_token)
    with expect_revert(kyc_token, "ERC7943CannotReceive", actors.outsider):
        kyc_token.functions.forcedTransfer(actors.alice, actors.outsider, 1).transact({"from": actors.admin})


def test_kyc_forced_transfer_takes_from_a_revoked_investor(kyc_token, funded, registry, actors):
    funded(kyc_token)
    tx(registry.functions.revokeInvestor(1), actors.kyc)
    assert kyc_token.functions.canSend(actors.alice).call() is False
    tx(kyc_token.functions.forcedTransfer(actors.alice, actors.bob, 1_000), actors.admin)
    assert kyc_token.functions.balanceOf(actors.bob).call() == 1_500


# ---------------------------------------------------------------- ERC-7943 views


def test_can_send_and_receive_in_kyc_mode_follow_the_registry(kyc_token, registry, actors, clock):
    for wallet in (actors.alice, actors.bob, actors.carol):
        assert kyc_token.functions.canSend(wallet).call() is True
        assert kyc_token.functions.canReceive(wallet).call() is True
    for stranger in (actors.outsider, actors.mallory, ZERO_ADDRESS):
        assert kyc_token.functions.canSend(stranger).call() is False
        assert kyc_token.functions.canReceive(stranger).call() is False
    tx(registry.functions.revokeInvestor(2), actors.kyc)
    assert kyc_token.functions.canSend(actors.bob).call() is False
    assert kyc_token.functions.canReceive(actors.bob).call() is False
    # A second wallet of an investor is eligible as soon as it is linked.
    tx(registry.functions.addWallet(1, actors.outsider), actors.kyc)
    assert kyc_token.functions.canReceive(actors.outsider).call() is True


def test_can_send_in_kyc_mode_ends_with_the_kyc(kyc_token, registry, actors, clock):
    expiry = clock.now() + 500
    tx(registry.functions.registerInvestor(actors.outsider, 250, 0, expiry), actors.kyc)
    clock.travel_to(expiry - 1)
    assert kyc_token.functions.canSend(actors.outsider).call() is True
    clock.travel_to(expiry)
    assert kyc_token.functions.canSend(actors.outsider).call() is False
    assert kyc_token.functions.canReceive(actors.outsider).call() is False


def test_open_mode_lets_anyone_send_and_receive(open_token, funded, actors):
    funded(open_token)
    for wallet in (actors.outsider, actors.mallory, actors.alice):
        assert open_token.functions.canSend(wallet).call() is True
        assert open_token.functions.canReceive(wallet).call() is True
    tx(open_token.functions.transfer(actors.outsider, 10), actors.alice)
    tx(open_token.functions.transfer(actors.mallory, 10), actors.outsider)
    tx(open_token.functions.mint(actors.mallory, 1), actors.admin)
    assert open_token.functions.balanceOf(actors.mallory).call() == 11


def test_kyc_mode_refuses_unverified_parties(kyc_token, funded, registry, actors):
    funded(kyc_token)
    assert kyc_token.functions.canTransfer(actors.alice, actors.outsider, 1).call() is False
    with expect_revert(kyc_token, "ERC7943CannotReceive", actors.outsider):
        kyc_token.functions.transfer(actors.outsider, 1).transact({"from": actors.alice})
    with expect_revert(kyc_token, "ERC7943CannotReceive", actors.outsider):
        kyc_token.functions.mint(actors.outsider, 1).transact({"from": actors.admin})
    tx(registry.functions.revokeInvestor(1), actors.kyc)
    with expect_revert(kyc_token, "ERC7943CannotSend", actors.alice):
        kyc_token.functions.transfer(actors.bob, 1).transact({"from": actors.alice})
    tx(kyc_token.functions.approve(actors.carol, 10), actors.alice)
    with expect_revert(kyc_token, "ERC7943CannotSend", actors.alice):
        kyc_token.functions.transferFrom(actors.alice, actors.bob, 1).transact({"from": actors.carol})


def test_sender_errors_come_before_receiver_errors(kyc_token, funded, registry, actors):
    funded(kyc_token)
    tx(registry.functions.revokeInvestor(1), actors.kyc)
    with expect_revert(kyc_token, "ERC7943CannotSend", actors.alice):
        kyc_token.functions.transfer(actors.outsider, 1).transact({"from": actors.alice})


def test_can_transfer_ignores_the_plain_balance(token, funded, actors):
    funded(token)
    # ERC-7943: canTransfer must not fail on non-permissioned checks such as the balance.
    assert token.functions.canTransfer(actors.bob, actors.carol, 501).call() is True
    assert token.functions.canTransfer(actors.carol, actors.dave, 10).call() is True


def test_can_transfer_never_reverts_on_huge_amounts(token, funded, actors):
    funded(token)
    tx(token.functions.setMaxBalancePerInvestor(1_000_000), actors.admin)
    tx(token.functions.setFrozenTokens(actors.alice, 1), actors.admin)
    for amount in (MAX_AMOUNT, MAX_AMOUNT + 1, MAX_UINT256):
        assert token.functions.canTransfer(actors.alice, actors.bob, amount).call() is False
        assert token.functions.canTransfer(actors.bob, actors.alice, amount).call() in (True, False)


def test_transfer_of_a_huge_amount_reverts_with_the_balance_error(token, funded, actors):
    funded(token)
    tx(token.functions.setMaxBalancePerInvestor(1_000_000), actors.admin)
    with expect_revert(token, "ERC20InsufficientBalance", actors.alice, 1_000, MAX_UINT256):
        token.functions.transfer(actors.bob, MAX_UINT256).call({"from": actors.alice})


# ---------------------------------------------------------------- investor totals (kyc)


def test_investor_balance_sums_every_wallet_of_the_investor(kyc_token, registry, actors):
    tx(registry.functions.addWallet(1, actors.outsider), actors.kyc)
    tx(kyc_token.functions.mint(actors.alice, 100), actors.admin)
    tx(kyc_token.functions.mint(actors.outsider, 50), actors.admin)
    assert kyc_token.functions.investorBalance(1).call() == 150
    assert kyc_token.functions.holdingInvestorOf(actors.outsider).call() == 1
    tx(kyc_token.functions.transfer(actors.bob, 30), actors.outsider)
    assert kyc_token.functions.investorBalance(1).call() == 120
    assert kyc_token.functions.investorBalance(2).call() == 30
    # Moving between an investor's own wallets changes no total.
    tx(kyc_token.functions.transfer(actors.outsider, 100), actors.alice)
    assert kyc_token.functions.investorBalance(1).call() == 120
    assert kyc_token.functions.balanceOf(actors.outsider).call() == 120
    # Unknown investors (and investor 0) hold nothing; neither does a wallet with no tokens.
    assert kyc_token.functions.investorBalance(3).call() == 0
    assert kyc_token.functions.investorBalance(0).call() == 0
    assert kyc_token.functions.investorBalance(99).call() == 0
    assert kyc_token.functions.holdingInvestorOf(actors.alice).call() == 0


def test_investor_balance_is_zero_in_open_mode(open_token, funded, actors):
    funded(open_token)
    assert open_token.functions.investorBalance(1).call() == 0
    assert open_token.functions.holdingInvestorOf(actors.alice).call() == 0


def test_investor_count_counts_investors_not_wallets(kyc_token, registry, actors):
    def count():
        return kyc_token.functions.complianceRules().call()[2]

    tx(registry.functions.addWallet(1, actors.outsider), actors.kyc)
    tx(kyc_token.functions.mint(actors.alice, 100), actors.admin)
    assert count() == 1
    tx(kyc_token.functions.mint(actors.outsider, 100), actors.admin)
    assert count() == 1
    tx(kyc_token.functions.transfer(actors.bob, 100), actors.alice)
    assert count() == 2
    tx(kyc_token.functions.transfer(actors.bob, 100), actors.outsider)
    assert count() == 1, "alice's investor left when its last wallet emptied"
    tx(kyc_token.functions.burn(actors.bob, 200), actors.admin)
    assert count() == 0
    tx(kyc_token.functions.mint(actors.carol, 0), actors.admin)
    assert count() == 0, "a zero mint makes nobody an investor"


def test_investor_count_stays_zero_in_open_mode(open_token, funded, actors):
    funded(open_token)
    tx(open_token.functions.transfer(actors.carol, 5), actors.alice)
    assert open_token.functions.complianceRules().call()[2] == 0


# ---------------------------------------------------------------- accounts


def test_accounts_are_independent(token, funded, actors):
    funded(token)
    tx(token.functions.setFrozenTokens(actors.alice, 7), actors.admin)
    tx(token.functions.freezeAccount(actors.alice), actors.admin)
    assert token.functions.getFrozenTokens(actors.bob).call() == 0
    assert token.functions.isAccountFrozen(actors.bob).call() is False
    assert token.functions.balanceOf(actors.bob).call() == 500


# ---------------------------------------------------------------- inherited by every concrete token


def test_every_token_claims_erc7943_by_its_computed_id(any_token):
    assert any_token.functions.supportsInterface(interface_id(ERC7943_FUNCTIONS)).call() is True
    assert any_token.functions.supportsInterface(b"\xff\xff\xff\xff").call() is False


def test_every_token_enforces_the_shared_rules(any_token, funded, actors):
    token = funded(any_token)
    tx(token.functions.setFrozenTokens(actors.alice, 995), actors.admin)
    with expect_revert(token, "ERC7943InsufficientUnfrozenBalance", actors.alice, 6, 5):
        token.functions.transfer(actors.bob, 6).transact({"from": actors.alice})
    with expect_revert(token, "ERC7943CannotReceive", actors.outsider):
        token.functions.transfer(actors.outsider, 1).transact({"from": actors.alice})
    tx(token.functions.setAccreditedOnly(True), actors.admin)
    assert token.functions.transferViolations(actors.bob, actors.carol, 1).call() == [11]
    tx(token.functions.pause(), actors.admin)
    with expect_revert(token, "EnforcedPause"):
        token.functions.transfer(actors.erin, 1).transact({"from": actors.bob})
    receipt = tx(token.functions.forcedTransfer(actors.alice, actors.erin, 10), actors.admin)
    assert event_names(token, receipt) == ["Frozen", "Transfer", "ForcedTransfer"]
    assert token.functions.getFrozenTokens(actors.alice).call() == 990
    with unauthorized(token, actors.alice, ENFORCEMENT):
        token.functions.unpause().transact({"from": actors.alice})


def test_kyc_batch_mint_is_all_or_nothing(kyc_token, actors):
    with expect_revert(kyc_token, "ERC7943CannotReceive", actors.outsider):
        kyc_token.functions.batchMint([actors.alice, actors.outsider], [5, 5]).transact(
            {"from": actors.admin}
        )
    assert kyc_token.functions.totalSupply().call() == 0
    assert kyc_token.functions.complianceRules().call()[2] == 0


# ---------------------------------------------------------------- the administration module


def test_each_token_delegates_to_its_own_administration_module(w3, new_token, any_token, actors):
    module = any_token.functions.administration().call()
    assert w3.eth.get_code(module) != b""
    assert new_token().functions.administration().call() not in (module, ZERO_ADDRESS)


def test_the_administration_module_called_directly_obeys_nobody(w3, token, actors):
    # On its own storage nobody holds a role, the token's admin included: a direct call cannot pause,
    # freeze or recover anything, here or in the token.
    artifact = load_artifact("RegulatedTokenAdmin")
    module = w3.eth.contract(address=token.functions.administration().call(), abi=artifact.abi)
    with unauthorized(module, actors.admin, ENFORCEMENT):
        module.functions.pause().transact({"from": actors.admin})
    with unauthorized(module, actors.admin, ENFORCEMENT):
        module.functions.freezeAccount(actors.alice).transact({"from": actors.admin})
    with unauthorized(module, actors.admin, COMPLIANCE):
        module.functions.setMaxInvestors(1).transact({"from": actors.admin})
    assert token.functions.paused().call() is False
    assert token.functions.isAccountFrozen(actors.alice).call() is False


def test_delegated_functions_return_what_the_interface_promises(token, actors):
    assert token.functions.setFrozenTokens(actors.alice, 3).call({"from": actors.admin}) is True
    assert token.functions.batchSetFrozenTokens([actors.alice], [3]).call({"from": actors.admin}) is True
    receipt = tx(token.functions.setFrozenTokens(actors.alice, 3), actors.admin)
    assert events(token, receipt) == [("Frozen", {"account": actors.alice, "amount": 3})]
    assert token.functions.getFrozenTokens(actors.alice).call() == 3
