"""Development accounts: funded at genesis, derived deterministically per chain.

The private key of development account ``i`` of chain ``name`` with chain id ``chain_id`` is

    keccak256(b"tokenized-asset-registry/dev-account/" + name + b"/" + str(chain_id) + b"/" + str(i))

so the same chain always gets the same accounts (handy in workshops and scripts), two
chains never share one, and anybody can recompute them: they are for local development
only and must never hold anything of value. Account 0 is the faucet a node prints on
start. The keys are also written to ``dev-accounts.json`` in the chain's folder of the
data directory, readable by the owner only.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

ETHER = 10**18
DEV_ACCOUNTS_FILE = "dev-accounts.json"


@dataclass(frozen=True)
class DevAccount:
    """A development account: its address, private key and genesis balance."""

    address: str
    private_key: str
    balance: int

    @property
    def account(self) -> LocalAccount:
        """The account as an eth-account signer."""
        signer: LocalAccount = Account.from_key(self.private_key)
        return signer


def dev_private_key(name: str, chain_id: int, index: int) -> bytes:
    """The private key of development account ``index`` of chain ``name`` (see the module docstring)."""
    seed = f"tokenized-asset-registry/dev-account/{name}/{chain_id}/{index}".encode()
    return keccak(seed)


def dev_accounts(name: str, chain_id: int, count: int, balance: int) -> list[DevAccount]:
    """The first ``count`` development accounts of a chain, each funded with ``balance`` wei."""
    accounts = []
    for index in range(count):
        key = dev_private_key(name, chain_id, index)
        signer = Account.from_key(key)
        accounts.append(DevAccount(address=signer.address, private_key="0x" + key.hex(), balance=balance))
    return accounts


def write_dev_accounts(folder: Path, name: str, chain_id: int, accounts: list[DevAccount]) -> Path:
    """Write the accounts to ``folder/dev-accounts.json`` (mode 0600) and return the path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / DEV_ACCOUNTS_FILE
    document = {
        "chain": name,
        "chain_id": chain_id,
        "warning": "development keys derived from public data: never send anything of value to them",
        "accounts": [
            {"address": a.address, "private_key": a.private_key, "balance_wei": str(a.balance)}
            for a in accounts
        ],
    }
    # Create with owner-only permissions from the start rather than chmod afterwards.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(document, handle, indent=2)
    return path
