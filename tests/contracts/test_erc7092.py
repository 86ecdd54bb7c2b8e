"""ERC-7092 (Financial Bonds), the whole token interface of the final text, on BondToken.

The interface id is computed here from the selectors of the final text's ``IERC7092``; the optional
parameters interface ``IERC7092ESG`` is claimed too, the optional cross-chain one is not. Every
ERC-7092 path is a regulated transfer: the same rules apply as to ``transfer``.
"""

from __future__ import annotations

from registry.artifacts import load_artifact

from .helpers import (
    MAX_UINT256,
    ZERO_ADDRESS,
    event_names,
    events,
    expect_revert,
    interface_id,
    selector,
    tx,
)

# The functions of IERC7092 as the final text has them (events are not part of an ERC-165 id).
ERC7092_FUNCTIONS = [
    "isin()",
    "name()",
    "symbol()",
    "currency()",
    "denomination()",
    "issueVolume()",
    "couponRate()",
    "issueDate()",
    "maturityDate()",
    "principalOf(address)",
    "allowance(address,address)",
    "approve(address,uint256)",
    "decreaseAllowance(address,uint256)",
    "transfer(address,uint256,bytes)",
    "transferFrom(address,address,uint256,bytes)",
    "batchApprove(address[],uint256[])",
    "batchDecreaseAllowance(address[],uint256[])",
    "batchTransfer(address[],uint256[],bytes[])",
    "batchTransferFrom(address[],address[],uint256[],bytes[])",
]
ERC7092_ESG_FUNCTIONS = [
    "decimals()",
    "currencyOfCoupon()",
    "couponType()",
    "couponFrequency()",
    "dayCountBasis()",
]
ERC7092_CROSS_CHAIN_FUNCTIONS = [
    "crossChainApprove(address,uint256,bytes32,address)",
    "crossChainBatchApprove(address[],uint256[],bytes32[],address[])",
    "crossChainDecreaseAllowance(address,uint256,bytes32,address)",
    "crossChainBatchDecreaseAllowance(address[],uint256[],bytes32[],address[])",
    "crossChainTransfer(address,uint256,bytes,bytes32,address)",
    "crossChainBatchTransfer(address[],uint256[],bytes[],bytes32[],address[])",
    "crossChainTransferFrom(address,address,uint256,bytes,bytes32,address)",
    "crossChainBatchTransferFrom(address[],address[],uint256[],bytes[],bytes32[],address[])",
]
# Functions of the standard returning bool (all its setters, in the final text).
RETURNS_BOOL = {
    sig
    for sig in ERC7092_FUNCTIONS
    if sig.split("(")[0].startswith(("approve", "decrease", "transfer", "batch"))
}


def test_the_erc7092_interface_id_is_the_xor_of_the_final_texts_selectors(issued):
    computed = interface_id(ERC7092_FUNCTIONS)
    assert issued.functions.supportsInterface(computed).call() is True
    assert issued.functions.supportsInterface(interface_id(ERC7092_ESG_FUNCTIONS)).call() is True
    # The optional cross-chain interface is not implemented, hence not claimed.
    assert issued.functions.supportsInterface(interface_id(ERC7092_CROSS_CHAIN_FUNCTIONS)).call() is False
    # Any other set of functions gives another id, which is not claimed.
    assert issued.functions.supportsInterface(interface_id(ERC7092_FUNCTIONS[:-1])).call() is False


def test_every_erc7092_function_is_in_the_abi_with_the_standards_outputs():
    abi = load_artifact("BondToken").abi
    functions = {}
    for item in abi:
        if item.get("type") == "function":
            signature = f"{item['name']}({','.join(i['type'] for i in item['inputs'])})"
            functions[selector(signature)] = (signature, [o["type"] for o in item["outputs"]])
    for signature in ERC7092_FUNCTIONS + ERC7092_ESG_FUNCTIONS:
        assert selector(signature) in functions, signature
        if signature in RETURNS_BOOL:
            assert functions[selector(signature)][1] == ["bool"], signature


def test_decrease_allowance(issued, actors):
    tx(issued.functions.approve(actors.dave, 10), actors.alice)
    fn = issued.functions.decreaseAllowance(actors.dave, 4)
    assert fn.call({"from": actors.alice}) is True
    receipt = tx(fn, actors.alice)
    # Approval carries the new allowance, as ERC-20 readers expect.
    assert events(issued, receipt) == [
        ("Approval", {"owner": actors.alice, "spender": actors.dave, "value": 6})
    ]
    assert issued.functions.allowance(actors.alice, actors.dave).call() == 6
    with expect_revert(issued, "BondTokenAllowanceBelowZero", actors.dave, 6, 7):
        issued.functions.decreaseAllowance(actors.dave, 7).transact({"from": actors.alice})
    tx(issued.functions.decreaseAllowance(actors.dave, 6), actors.alice)
    assert issued.functions.allowance(actors.alice, actors.dave).call() == 0
    # An infinite allowance can be lowered too.
    tx(issued.functions.approve(actors.dave, MAX_UINT256), actors.alice)
    tx(issued.functions.decreaseAllowance(actors.dave, 1), actors.alice)
    assert issued.functions.allowance(actors.alice, actors.dave).call() == MAX_UINT256 - 1
    with expect_revert(issued, "ERC20InvalidSpender", ZERO_ADDRESS):
        issued.functions.decreaseAllowance(ZERO_ADDRESS, 0).transact({"from": actors.alice})


def test_transfer_with_data_is_a_regulated_transfer(issued, actors):
    fn = issued.functions.transfer(actors.dave, 4, b"invoice 17")
    assert fn.call({"from": actors.alice}) is True
    receipt = tx(fn, actors.alice)
    assert events(issued, receipt) == [("Transfer", {"from": actors.alice, "to": actors.dave, "value": 4})]
    assert issued.functions.balanceOf(actors.dave).call() == 4
    with expect_revert(issued, "ERC7943CannotReceive", actors.outsider):
        issued.functions.transfer(actors.outsider, 1, b"").transact({"from": actors.alice})
    tx(issued.functions.freezeAccount(actors.bob), actors.admin)
    with expect_revert(issued, "ERC7943CannotSend", actors.bob):
        issued.functions.transfer(actors.dave, 1, b"x").transact({"from": actors.bob})


def test_transfer_from_with_data_spends_the_allowance(issued, actors):
    tx(issued.functions.approve(actors.dave, 5), actors.alice)
    fn = issued.functions.transferFrom(actors.alice, actors.erin, 3, b"\x01\x02")
    assert fn.call({"from": actors.dave}) is True
    tx(fn, actors.dave)
    assert issued.functions.allowance(actors.alice, actors.dave).call() == 2
    assert issued.functions.balanceOf(actors.erin).call() == 3
    with expect_revert(issued, "ERC20InsufficientAllowance", actors.dave, 2, 3):
        issued.functions.transferFrom(actors.alice, actors.erin, 3, b"").transact({"from": actors.dave})


def test_batch_approve_and_batch_decrease_allowance(issued, actors):
    spenders = [actors.dave, actors.erin]
    receipt = tx(issued.functions.batchApprove(spenders, [7, 9]), actors.alice)
    assert events(issued, receipt) == [
        ("Approval", {"owner": actors.alice, "spender": actors.dave, "value": 7}),
        ("Approval", {"owner": actors.alice, "spender": actors.erin, "value": 9}),
        ("ApprovalBatch", {"owner": actors.alice, "spender": spenders, "amount": [7, 9]}),
    ]
    receipt = tx(issued.functions.batchDecreaseAllowance(spenders, [2, 9]), actors.alice)
    assert events(issued, receipt)[-1] == (
        "ApprovalBatch",
        {"owner": actors.alice, "spender": spenders, "amount": [5, 0]},
    )
    # All or nothing: one decrease below zero undoes the batch.
    with expect_revert(issued, "BondTokenAllowanceBelowZero", actors.erin, 0, 1):
        issued.functions.batchDecreaseAllowance(spenders, [1, 1]).transact({"from": actors.alice})
    assert issued.functions.allowance(actors.alice, actors.dave).call() == 5
    for call in (
        issued.functions.batchApprove(spenders, [1]),
        issued.functions.batchDecreaseAllowance([actors.dave], [1, 2]),
    ):
        with expect_revert(issued, "RegulatedTokenLengthMismatch"):
            call.transact({"from": actors.alice})


def test_batch_transfer_with_data(issued, actors):
    receivers = [actors.dave, actors.erin]
    fn = issued.functions.batchTransfer(receivers, [3, 4], [b"a", b""])
    assert fn.call({"from": actors.bob}) is True
    receipt = tx(fn, actors.bob)
    assert events(issued, receipt) == [
        ("Transfer", {"from": actors.bob, "to": actors.dave, "value": 3}),
        ("Transfer", {"from": actors.bob, "to": actors.erin, "value": 4}),
        ("TransferBatch", {"from": [actors.bob, actors.bob], "to": receivers, "amount": [3, 4]}),
    ]
    assert issued.functions.balanceOf(actors.bob).call() == 23
    # All or nothing, and every rule applies to each leg.
    with expect_revert(issued, "ERC7943CannotReceive", actors.outsider):
        issued.functions.batchTransfer([actors.dave, actors.outsider], [1, 1], [b"", b""]).transact(
            {"from": actors.bob}
        )
    assert issued.functions.balanceOf(actors.dave).call() == 3
    with expect_revert(issued, "RegulatedTokenLengthMismatch"):
        issued.functions.batchTransfer(receivers, [1, 1], [b""]).transact({"from": actors.bob})


def test_batch_transfer_from_with_data(issued, actors):
    tx(issued.functions.approve(actors.dave, 5), actors.alice)
    tx(issued.functions.approve(actors.dave, 5), actors.bob)
    senders, receivers = [actors.alice, actors.bob], [actors.erin, actors.erin]
    receipt = tx(issued.functions.batchTransferFrom(senders, receivers, [2, 5], [b"", b""]), actors.dave)
    assert event_names(issued, receipt) == ["Transfer", "Transfer", "TransferBatch"]
    assert events(issued, receipt)[-1][1] == {"from": senders, "to": receivers, "amount": [2, 5]}
    assert issued.functions.balanceOf(actors.erin).call() == 7
    assert issued.functions.allowance(actors.alice, actors.dave).call() == 3
    assert issued.functions.allowance(actors.bob, actors.dave).call() == 0
    with expect_revert(issued, "ERC20InsufficientAllowance", actors.dave, 0, 1):
        issued.functions.batchTransferFrom(senders, receivers, [1, 1], [b"", b""]).transact(
            {"from": actors.dave}
        )
    assert issued.functions.allowance(actors.alice, actors.dave).call() == 3
    with expect_revert(issued, "RegulatedTokenLengthMismatch"):
        issued.functions.batchTransferFrom(senders, [actors.erin], [1, 1], [b"", b""]).transact(
            {"from": actors.dave}
        )


def test_the_optional_parameters(issued, cash):
    assert issued.functions.decimals().call() == 0
    assert issued.functions.currencyOfCoupon().call() == cash.address
    assert issued.functions.couponType().call() == 1
    assert issued.functions.couponFrequency().call() == 2
    assert issued.functions.dayCountBasis().call() == 1
