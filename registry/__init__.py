"""Tokenized-asset registry: bonds and stock tokens on a permissioned and a permissionless chain."""

import importlib.util
import os

__version__ = "0.1.0"

# py-evm, web3.py and eth-account hash through eth-hash, which takes pycryptodome when
# nothing is chosen. The C keccak of safe-pysha3 (a dependency) costs several times less
# per call, and a chain hashes thousands of times per block. A choice made in the
# environment is kept; eth-hash reads it at its first hash.
if importlib.util.find_spec("sha3") is not None:
    os.environ.setdefault("ETH_HASH_BACKEND", "pysha3")
