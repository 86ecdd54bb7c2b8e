"""Helpers shared by the permissioned-chain tests: open a chain, sign transfers and contract calls."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eth.abc import BlockAPI, SignedTransactionAPI
from eth.constants import ZERO_ADDRESS
from eth_abi.abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import Address
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from registry.chain.consensus.kyc import IDENTITY_REGISTRY_ADDRESS
from registry.chain.consensus.mode import PermissionedMode
from registry.chain.consensus.seals import canonical_validator_list, quorum_size, seal_header
from registry.chain.node.builder import execute_block
from registry.chain.node.chain import EmbeddedChain, Sealing
from registry.chain.node.modes import PermissionlessMode

CHAIN_ID = 4_242
"""Chain id of every permissioned chain opened by these tests."""

GWEI = 10**9
FAR_FUTURE = 2**40 - 1


def open_permissioned(
    data_dir: Path | None = None, *, validators: int = 4, sealing: Sealing = "instant", **mode_options: Any
) -> tuple[EmbeddedChain, PermissionedMode]:
    """A permissioned chain (in memory unless ``data_dir``) and its mode, with 3 development accounts."""
    mode = PermissionedMode(
        data_dir, validators=validators, chain_id=CHAIN_ID, dev_account_count=3, **mode_options
    )
    chain = EmbeddedChain.open(
        mode,
        data_dir=data_dir,
        chain_id=CHAIN_ID,
        sealing=sealing,
        dev_account_count=3,
    )
    return chain, mode


def faucet(chain: EmbeddedChain) -> LocalAccount:
    """Development account 0, funded and KYC'd at genesis."""
    return chain.dev_accounts[0].account


def nonce_of(chain: EmbeddedChain, account: LocalAccount | str) -> int:
    """The next nonce of ``account`` at the head."""
    address = account if isinstance(account, str) else account.address
    return int(chain.state_at().get_nonce(Address(bytes.fromhex(address[2:]))))


def signed(
    chain: EmbeddedChain,
    sender: LocalAccount,
    *,
    to: str | bytes,
    data: bytes = b"",
    value: int = 0,
    nonce: int | None = None,
    gas: int = 200_000,
) -> bytes:
    """A signed EIP-1559 transaction from ``sender`` (raw bytes)."""
    target = to_checksum_address(to)
    tx: dict[str, Any] = {
        "type": 2,
        "chainId": chain.chain_id,
        "to": target,
        "value": value,
        "data": data,
        "gas": gas,
        "maxFeePerGas": 50 * GWEI,
        "maxPriorityFeePerGas": GWEI,
        "nonce": nonce_of(chain, sender) if nonce is None else nonce,
    }
    return bytes(sender.sign_transaction(tx).raw_transaction)


def decode(chain: EmbeddedChain, raw: bytes) -> SignedTransactionAPI:
    """``raw`` as a py-evm transaction of ``chain``'s VM."""
    return chain.py_evm.get_vm().get_transaction_builder().decode(raw)


def fund(chain: EmbeddedChain, address: str, ether: int = 10) -> None:
    """Send ``ether`` from the faucet to ``address`` (the faucet is KYC'd; receivers need not be)."""
    chain.send_raw_transaction(signed(chain, faucet(chain), to=address, value=ether * 10**18, gas=21_000))


def call_data(signature: str, types: list[str], values: list[Any]) -> bytes:
    """ABI call data for ``signature`` (e.g. ``"isVerified(address)"``)."""
    return keccak(text=signature)[:4] + encode(types, values)


def is_verified(chain: EmbeddedChain, address: str) -> bool:
    """The identity registry's ``isVerified(address)`` at the head."""
    output = chain.state_view().call(
        IDENTITY_REGISTRY_ADDRESS, call_data("isVerified(address)", ["address"], [address])
    )
    return output[-1] == 1


def register(chain: EmbeddedChain, mode: PermissionedMode, wallet: str, *, expiry: int = FAR_FUTURE) -> bytes:
    """Have the chain operator register ``wallet`` as a verified investor; returns the transaction hash."""
    data = call_data(
        "registerInvestor(address,uint16,uint8,uint40)",
        ["address", "uint16", "uint8", "uint40"],
        [wallet, 250, 1, expiry],
    )
    return chain.send_raw_transaction(
        signed(chain, mode.keyring.operator, to=IDENTITY_REGISTRY_ADDRESS, data=data)
    )


def stranger(chain: EmbeddedChain) -> LocalAccount:
    """A new funded account that is not KYC'd."""
    account: LocalAccount = Account.create()
    fund(chain, account.address)
    return account


def revoke(chain: EmbeddedChain, mode: PermissionedMode, wallet: str) -> bytes:
    """Have the chain operator revoke the investor of ``wallet``; returns the transaction hash."""
    investor_id = chain.state_view().call(
        IDENTITY_REGISTRY_ADDRESS, call_data("investorOf(address)", ["address"], [wallet])
    )
    data = call_data("revokeInvestor(uint32)", ["uint32"], [int.from_bytes(investor_id, "big")])
    return chain.send_raw_transaction(
        signed(chain, mode.keyring.operator, to=IDENTITY_REGISTRY_ADDRESS, data=data)
    )


def unchecked_block(
    chain: EmbeddedChain, mode: PermissionedMode, transactions: list[SignedTransactionAPI]
) -> BlockAPI:
    """A sealed block on the head holding ``transactions``, built WITHOUT the mode's checks, as a rogue
    node would build it (sealed by a quorum of validators' keys, which this node holds)."""
    parent = chain.head()
    outcome = execute_block(
        chain.py_evm,
        PermissionlessMode(),
        parent,
        transactions,
        header_params={"coinbase": ZERO_ADDRESS},
        strict=True,
    )
    return outcome.block.copy(header=mode.seal(outcome.block.header))


def block_naming_vote(
    chain: EmbeddedChain, mode: PermissionedMode, vote_id: bytes, validators: Sequence[bytes]
) -> BlockAPI:
    """A block on the head holding a transfer, listing ``validators``, naming ``vote_id`` in its vanity and
    sealed by a quorum of them: what a colluding quorum (or a replaying node) could produce."""
    parent = chain.head()
    tx = decode(chain, signed(chain, faucet(chain), to="0x" + "00" * 20, gas=21_000))
    outcome = execute_block(
        chain.py_evm, mode, parent, [tx], header_params={"coinbase": ZERO_ADDRESS}, strict=True
    )
    listed = canonical_validator_list(validators)
    keys = [key for key in (mode.held_key(v) for v in listed) if key is not None][: quorum_size(len(listed))]
    return outcome.block.copy(header=seal_header(outcome.block.header, listed, keys, vanity=bytes(vote_id)))
