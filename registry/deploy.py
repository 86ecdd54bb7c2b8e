"""Deploy compiled contracts and bind deployed ones, through any `Web3`.

Transactions are sent with ``transact``: the `Web3` given must be able to sign for
the sender (a node's unlocked account, or web3's signing middleware with local keys).
"""

from __future__ import annotations

from typing import Any

from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from registry.artifacts import load_artifact


def contract_at(w3: Web3, name: str, address: str) -> Contract:
    """Bind the contract ``name`` (by artifact) at ``address``."""
    artifact = load_artifact(name)
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=artifact.abi)


def deploy(w3: Web3, name: str, *args: Any, sender: ChecksumAddress | str) -> Contract:
    """Deploy contract ``name`` with constructor ``args`` from ``sender`` and wait for it.

    Raises:
        ArtifactError: no contract has that name.
        web3.exceptions.ContractLogicError: the constructor reverted.
    """
    return deploy_with_receipt(w3, name, *args, sender=sender)[0]


def deploy_with_receipt(
    w3: Web3, name: str, *args: Any, sender: ChecksumAddress | str
) -> tuple[Contract, TxReceipt]:
    """Like `deploy`, and also return the deployment's receipt (for its gas, block...)."""
    artifact = load_artifact(name)
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    tx_hash = factory.constructor(*args).transact({"from": Web3.to_checksum_address(sender)})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    if receipt["status"] != 1 or receipt["contractAddress"] is None:
        raise RuntimeError(f"deploying {name} failed in transaction {tx_hash.hex()}")
    return contract_at(w3, name, receipt["contractAddress"]), receipt
