"""The embedded chain: pool and builder, blocks, persistence, rewind, import, listeners, modes."""

from __future__ import annotations

import itertools
import os
import stat
from typing import Any

import pytest
import rlp
from eth_account import Account

from registry.chain.accounts import dev_accounts
from registry.chain.errors import (
    BlockNotFoundError,
    ChainClosedError,
    ChainDataError,
    FeeTooLowError,
    InsufficientFundsError,
    InvalidBlockError,
    InvalidTransactionError,
    NonceError,
    SenderNotPermittedError,
)
from registry.chain.events import NewBlock
from registry.chain.node.chain import EmbeddedChain
from registry.chain.node.modes import ChainMode, PermissionlessMode
from registry.chain.node.vm import RegistryPragueVM
from tests.chain.conftest import GWEI, PERMISSIONLESS_CHAIN_ID, derived_keys, sign


def dev(chain, index=0):
    return chain.dev_accounts[index].account


def address(account):
    return bytes.fromhex(account.address[2:])


def transfer(chain, sender, nonce, to=None, value=1, **kwargs):
    target = to or dev(chain, 9).address
    return chain.send_raw_transaction(sign(sender, nonce=nonce, to=target, value=value, **kwargs))


# -- the mode seam ---------------------------------------------------------------------------------


def test_permissionless_mode_satisfies_the_protocol():
    assert isinstance(PermissionlessMode(), ChainMode)


class RefusingMode(PermissionlessMode):
    """Permissionless, except for the senders in ``banned``; records every sealed block."""

    def __init__(self):
        self.banned: set[bytes] = set()
        self.blocks: list[int] = []

    def check_transaction(self, tx, view):
        assert view.block_number >= 1
        if bytes(tx.sender) in self.banned:
            raise SenderNotPermittedError(f"0x{bytes(tx.sender).hex()} is banned")

    def on_block(self, block):
        self.blocks.append(block.number)


def test_mode_refuses_at_submission_and_sees_every_block(tmp_path):
    mode = RefusingMode()
    chain = EmbeddedChain.open(mode, data_dir=None, chain_id=PERMISSIONLESS_CHAIN_ID, sealing="instant")
    try:
        transfer(chain, dev(chain, 1), 0)
        mode.banned.add(address(dev(chain, 1)))
        with pytest.raises(SenderNotPermittedError, match="banned"):
            transfer(chain, dev(chain, 1), 1)
        transfer(chain, dev(chain, 2), 0)
        assert mode.blocks == [1, 2]
    finally:
        chain.close()


def test_import_refuses_a_block_with_a_refused_sender():
    mode = RefusingMode()
    chain = EmbeddedChain.open(mode, data_dir=None, chain_id=PERMISSIONLESS_CHAIN_ID, sealing="instant")
    try:
        transfer(chain, dev(chain, 1), 0)
        (dropped,) = chain.rewind(0)
        mode.banned.add(address(dev(chain, 1)))
        with pytest.raises(InvalidBlockError, match="refused"):
            chain.import_block(dropped)
        assert chain.block_number == 0
    finally:
        chain.close()


# -- pool and builder ------------------------------------------------------------------------------


def test_one_block_packs_every_pending_transaction_in_nonce_order(manual_chain):
    senders = [dev(manual_chain, i) for i in range(3)]
    hashes = {sender.address: [transfer(manual_chain, sender, n) for n in range(5)] for sender in senders}
    assert manual_chain.pending_count() == 15
    block = manual_chain.seal_pending()
    assert block is not None
    assert len(block.transactions) == 15
    for sender in senders:
        mine = [tx.hash for tx in block.transactions if tx.sender == address(sender)]
        assert mine == hashes[sender.address]
    assert manual_chain.pending_count() == 0
    assert manual_chain.seal_pending() is None


def test_a_burst_lands_in_one_block(tmp_path):
    # The burst is sent while the test holds the chain (nothing is sealed meanwhile), so that it
    # is pooled whole whatever the machine's speed; the background builder then seals it at once.
    chain = EmbeddedChain.open(
        PermissionlessMode(), data_dir=tmp_path / "burst", chain_id=PERMISSIONLESS_CHAIN_ID
    )
    target = dev(chain, 9).address
    raw = [sign(dev(chain, i % 3), nonce=i // 3, to=target, value=1) for i in range(45)]
    with chain.exclusive():
        hashes = [chain.send_raw_transaction(tx) for tx in raw]
    for tx_hash in hashes:
        assert chain.wait_until_mined(tx_hash, timeout=30)
    locations = [chain.find_transaction(tx_hash) for tx_hash in hashes]
    assert None not in locations
    assert {location.header.block_number for location in locations if location is not None} == {1}
    assert chain.block_number == 1
    chain.close()


def test_a_client_waiting_for_a_receipt_ends_the_gathering():
    # The batching window is far longer than the wait allowed: only the waiter can get
    # the block sealed in time. Closing the chain also ends a gathering at once.
    chain = EmbeddedChain.open(
        PermissionlessMode(), data_dir=None, chain_id=PERMISSIONLESS_CHAIN_ID, batch_window=300
    )
    try:
        tx_hash = transfer(chain, dev(chain), 0)
        assert chain.wait_until_mined(tx_hash, timeout=60)
        assert chain.find_transaction(tx_hash) is not None
        transfer(chain, dev(chain), 1)
    finally:
        chain.close()
    assert chain.closed


def test_transactions_beyond_the_block_gas_limit_wait_for_the_next_block(tmp_path):
    chain = EmbeddedChain.open(
        PermissionlessMode(),
        data_dir=None,
        chain_id=PERMISSIONLESS_CHAIN_ID,
        sealing="manual",
        gas_limit=50_000,
    )
    try:
        for nonce in range(3):
            transfer(chain, dev(chain), nonce)
        first = chain.seal_pending()
        second = chain.seal_pending()
        assert first is not None
        assert second is not None
        assert [len(first.transactions), len(second.transactions)] == [2, 1]
        assert [tx.nonce for tx in first.transactions + second.transactions] == [0, 1, 2]
        with pytest.raises(InvalidTransactionError, match="block gas limit"):
            transfer(chain, dev(chain), 3, gas=60_000)
    finally:
        chain.close()


def test_instant_sealing_seals_each_transaction_before_returning(instant_chain):
    start = instant_chain.block_number
    tx_hash = transfer(instant_chain, dev(instant_chain), 0)
    assert instant_chain.block_number == start + 1
    assert instant_chain.find_transaction(tx_hash).index == 0


def test_a_transaction_invalid_by_build_time_is_dropped_with_its_reason(manual_chain):
    poor = derived_keys("drop", 1)[0]
    fee = 21_000 * 5 * GWEI
    transfer(manual_chain, dev(manual_chain), 0, to=poor.address, value=2 * fee + 10)
    manual_chain.seal_pending()
    # Both pass the submission check (against the head), but the first leaves too little for the second.
    first = transfer(manual_chain, poor, 0, to=dev(manual_chain).address, value=fee)
    second = transfer(manual_chain, poor, 1, to=dev(manual_chain).address, value=fee)
    block = manual_chain.seal_pending()
    assert [tx.hash for tx in block.transactions] == [first]
    assert isinstance(manual_chain.failure(second), InsufficientFundsError)
    assert manual_chain.pending_transaction(second) is None


def test_submission_refusals_name_the_problem(manual_chain):
    sender = dev(manual_chain)
    transfer(manual_chain, sender, 0)
    manual_chain.seal_pending()
    with pytest.raises(NonceError, match="nonce too low"):
        transfer(manual_chain, sender, 0)
    with pytest.raises(FeeTooLowError, match="base fee"):
        transfer(manual_chain, sender, 1, max_fee=1, tip=1)
    with pytest.raises(InvalidTransactionError, match="chain id"):
        transfer(manual_chain, sender, 1, chain_id=1)
    with pytest.raises(InsufficientFundsError, match="insufficient funds"):
        transfer(manual_chain, derived_keys("poor", 1)[0], 0)
    with pytest.raises(InvalidTransactionError, match="cannot decode"):
        manual_chain.send_raw_transaction(b"\x02garbage")


def test_pending_nonce_counts_pooled_transactions(manual_chain):
    sender = dev(manual_chain)
    for nonce in range(3):
        transfer(manual_chain, sender, nonce)
    assert manual_chain.nonce(address(sender)) == 0
    assert manual_chain.nonce(address(sender), pending=True) == 3
    manual_chain.seal_pending()
    assert manual_chain.nonce(address(sender)) == 3


# -- blocks -------------------------------------------------------------------------------------------


def test_gas_limit_stays_constant_and_timestamps_increase(manual_chain):
    blocks = [manual_chain.mine() for _ in range(40)]
    headers = [manual_chain.get_header(0)] + [block.header for block in blocks]
    assert {header.gas_limit for header in headers} == {headers[0].gas_limit}
    for parent, child in itertools.pairwise(headers):
        assert child.timestamp > parent.timestamp
        assert child.parent_hash == parent.hash


def test_chain_clock_only_moves_forward(manual_chain):
    wall = manual_chain.head().timestamp + 1_000_000
    manual_chain.clock.wall = lambda: wall
    manual_chain.increase_time(10_000)
    block = manual_chain.mine()
    assert block.header.timestamp == wall + 10_000
    with pytest.raises(ValueError, match="backwards"):
        manual_chain.increase_time(-1)


def test_each_chain_keeps_its_own_chain_id_and_accounts(tmp_path):
    first = EmbeddedChain.open(PermissionlessMode(), data_dir=None, chain_id=1001, sealing="manual")
    second = EmbeddedChain.open(PermissionlessMode(), data_dir=None, chain_id=1002, sealing="manual")
    try:
        assert (first.chain_id, second.chain_id) == (1001, 1002)
        assert first.dev_accounts[0].address != second.dev_accounts[0].address
        with pytest.raises(InvalidTransactionError, match="chain id"):
            second.send_raw_transaction(sign(dev(first), nonce=0, to=dev(first).address, chain_id=1001))
    finally:
        first.close()
        second.close()


def test_dev_accounts_are_deterministic_funded_and_written_privately(tmp_path):
    folder = tmp_path / "permissionless"
    chain = EmbeddedChain.open(PermissionlessMode(), data_dir=folder, chain_id=4242, sealing="manual")
    try:
        expected = dev_accounts("permissionless", 4242, 10, chain.dev_accounts[0].balance)
        assert chain.dev_accounts == expected
        assert Account.from_key(expected[3].private_key).address == expected[3].address
        state = chain.state_at()
        assert all(state.get_balance(address(a.account)) == a.balance for a in chain.dev_accounts)
        mode = stat.S_IMODE(os.stat(folder / "dev-accounts.json").st_mode)
        assert mode == 0o600
        assert expected[0].address in (folder / "dev-accounts.json").read_text()
    finally:
        chain.close()


# -- persistence ----------------------------------------------------------------------------------------


def test_reopening_gives_the_same_head_state_and_receipts(tmp_path):
    folder = tmp_path / "permissionless"
    chain = EmbeddedChain.open(
        PermissionlessMode(), data_dir=folder, chain_id=PERMISSIONLESS_CHAIN_ID, sealing="instant"
    )
    hashes = [transfer(chain, dev(chain), nonce, value=nonce + 1) for nonce in range(4)]
    head = chain.head()
    balance = chain.state_at().get_balance(address(dev(chain, 9)))
    chain.close()
    with pytest.raises(ChainClosedError):
        chain.head()

    reopened = EmbeddedChain.open(
        PermissionlessMode(), data_dir=folder, chain_id=PERMISSIONLESS_CHAIN_ID, sealing="instant"
    )
    try:
        assert reopened.head() == head
        assert reopened.state_at().get_balance(address(dev(reopened, 9))) == balance
        for tx_hash in hashes:
            location = reopened.find_transaction(tx_hash)
            assert location is not None
            assert reopened.receipts_of(location.header)[location.index].gas_used == 21_000
        transfer(reopened, dev(reopened), 4)
        assert reopened.block_number == head.block_number + 1
    finally:
        reopened.close()


def test_a_folder_holding_another_chain_is_refused(tmp_path):
    folder = tmp_path / "chain"
    EmbeddedChain.open(PermissionlessMode(), data_dir=folder, chain_id=4242, sealing="manual").close()
    with pytest.raises(ChainDataError, match="chain id 4242"):
        EmbeddedChain.open(PermissionlessMode(), data_dir=folder, chain_id=4343, sealing="manual")


# -- rewind and import ------------------------------------------------------------------------------------


def test_rewind_leaves_no_ghosts_and_new_blocks_take_over(instant_chain):
    chain = instant_chain
    hashes = [transfer(chain, dev(chain), nonce) for nonce in range(5)]
    old_head = chain.head()
    dropped = chain.rewind(2)
    assert [block.number for block in dropped] == [3, 4, 5]
    assert chain.block_number == 2
    with pytest.raises(BlockNotFoundError):
        chain.get_header(3)
    assert chain.find_transaction(hashes[3]) is None
    assert chain.find_transaction(hashes[1]) is not None
    assert chain.get_header(old_head.hash) == old_head  # still stored by hash, just not canonical
    assert not chain.is_canonical(old_head)
    assert chain.nonce(address(dev(chain))) == 2
    replayed = transfer(chain, dev(chain), 2)
    assert chain.block_number == 3
    assert chain.find_transaction(replayed).header.block_number == 3
    with pytest.raises(BlockNotFoundError):
        chain.rewind(10)


def test_rewound_blocks_import_back_exactly(instant_chain):
    chain = instant_chain
    for nonce in range(3):
        transfer(chain, dev(chain), nonce)
    head = chain.head()
    dropped = chain.rewind(1)
    events: list[Any] = []
    chain.subscribe(events.append)
    for block in dropped:
        chain.import_block(block)
    assert chain.head() == head
    assert [event.number for event in events] == [2, 3]


def test_import_refuses_a_tampered_or_detached_block(instant_chain):
    chain = instant_chain
    transfer(chain, dev(chain), 0)
    transfer(chain, dev(chain), 1)
    (block,) = chain.rewind(1)
    forged = block.copy(header=block.header.copy(gas_used=block.header.gas_used + 1))
    with pytest.raises(InvalidBlockError, match="re-execution"):
        chain.import_block(forged)
    assert chain.block_number == 1
    chain.rewind(0)
    with pytest.raises(InvalidBlockError, match="does not extend the head"):
        chain.import_block(block)


# -- listeners --------------------------------------------------------------------------------------------


def test_subscribers_receive_each_new_block_until_they_unsubscribe(instant_chain):
    events: list[Any] = []
    unsubscribe = instant_chain.subscribe(events.append)
    tx_hash = transfer(instant_chain, dev(instant_chain), 0)
    unsubscribe()
    transfer(instant_chain, dev(instant_chain), 1)
    assert events == [
        NewBlock(number=1, hash=instant_chain.get_header(1).hash, transaction_hashes=(tx_hash,))
    ]


def test_a_failing_subscriber_does_not_stop_the_chain(instant_chain, caplog):
    def broken(event):
        raise RuntimeError("listener bug")

    seen: list[Any] = []
    instant_chain.subscribe(broken)
    instant_chain.subscribe(seen.append)
    transfer(instant_chain, dev(instant_chain), 0)
    assert len(seen) == 1
    assert "listener bug" in caplog.text


def test_empty_blocks_only_on_demand(permissionless_chain):
    assert permissionless_chain.seal_pending() is None
    assert permissionless_chain.block_number == 0
    block = permissionless_chain.build_block([], allow_empty=True).block
    assert block is not None
    assert block.transactions == ()
    assert permissionless_chain.block_number == 1


# -- system contracts ---------------------------------------------------------------------------------------


class HistoryMode(PermissionlessMode):
    """Permissionless, with EIP-2935's block-hash history contract deployed at genesis."""

    def genesis_alloc(self):
        from eth.vm.forks.prague.constants import HISTORY_STORAGE_ADDRESS, HISTORY_STORAGE_CONTRACT_CODE

        return {bytes(HISTORY_STORAGE_ADDRESS): {"code": HISTORY_STORAGE_CONTRACT_CODE}}


def test_system_contract_hooks_run_when_a_system_contract_exists():
    from eth.vm.forks.prague.constants import HISTORY_STORAGE_ADDRESS

    chain = EmbeddedChain.open(
        HistoryMode(), data_dir=None, chain_id=PERMISSIONLESS_CHAIN_ID, sealing="instant"
    )
    plain = EmbeddedChain.open(
        PermissionlessMode(), data_dir=None, chain_id=PERMISSIONLESS_CHAIN_ID + 1, sealing="instant"
    )
    try:
        with_contract = chain.py_evm.get_vm_class(chain.head())
        without = plain.py_evm.get_vm_class(plain.head())
        assert issubclass(with_contract, RegistryPragueVM)
        assert issubclass(without, RegistryPragueVM)
        assert not with_contract.system_contracts_absent
        assert without.system_contracts_absent
        transfer(chain, dev(chain), 0)
        transfer(chain, dev(chain), 1)
        stored = chain.state_at().get_storage(HISTORY_STORAGE_ADDRESS, 1)
        assert stored == int.from_bytes(chain.get_header(1).hash, "big")
        # A block built with the hooks re-executes identically on import.
        (block,) = chain.rewind(1)
        assert chain.import_block(block).hash == block.hash
    finally:
        chain.close()
        plain.close()


def test_reopened_chain_serves_the_same_logs(tmp_path):
    from registry.artifacts import load_artifact
    from registry.chain.rpc.dispatcher import RpcDispatcher

    folder = tmp_path / "permissionless"
    chain = EmbeddedChain.open(
        PermissionlessMode(), data_dir=folder, chain_id=PERMISSIONLESS_CHAIN_ID, sealing="instant"
    )
    artifact = load_artifact("PlainERC20")
    deploy = bytes.fromhex(artifact.bytecode[2:]) + (10**6).to_bytes(32, "big")
    chain.send_raw_transaction(sign(dev(chain), nonce=0, data=deploy, gas=2_000_000))
    query = {"fromBlock": "0x0", "toBlock": "latest"}
    before = RpcDispatcher(chain).call("eth_getLogs", [query])
    chain.close()
    reopened = EmbeddedChain.open(
        PermissionlessMode(), data_dir=folder, chain_id=PERMISSIONLESS_CHAIN_ID, sealing="instant"
    )
    try:
        after = RpcDispatcher(reopened).call("eth_getLogs", [query])
        assert after == before
        assert len(after) == 1
        assert int(after[0]["data"], 16) == 10**6
    finally:
        reopened.close()


# -- sender recovery -------------------------------------------------------------------------------


def test_a_tampered_signature_recovers_another_sender_or_is_refused(permissionless_chain):
    chain = permissionless_chain
    signer = dev(chain)
    raw = sign(signer, nonce=0, to=dev(chain, 1).address, value=1)
    items = rlp.decode(raw[1:])
    # A changed s still recovers a key, but not the signer's: that empty account cannot pay.
    changed = raw[:1] + rlp.encode([*items[:-1], (int.from_bytes(items[-1], "big") ^ 1).to_bytes(32, "big")])
    assert bytes(chain.decode_transaction(changed).sender) != address(signer)
    with pytest.raises(InsufficientFundsError):
        chain.send_raw_transaction(changed)
    # s = 0 (or y parity 2) is no signature at all.
    for bad in ([*items[:-1], b""], [*items[:-3], b"\x02", *items[-2:]]):
        with pytest.raises(InvalidTransactionError, match="invalid sender: the signature"):
            chain.send_raw_transaction(raw[:1] + rlp.encode(bad))
    assert chain.block_number == 0
