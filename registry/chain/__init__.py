"""Chain backends behind one seam, a web3.py `Web3` object.

    from registry.chain import connect
    handle = connect("permissionless", settings)     # embedded by default, or an external node
    handle.w3.eth.block_number

Public names are re-exported here and imported on first use, so that importing this
package (or its light modules: errors, modes, events) does not load py-evm.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from registry.chain.backend import ChainHandle, ChainSettings, EmbeddedBackend, connect, open_embedded
    from registry.chain.consensus.kyc import IDENTITY_REGISTRY_ADDRESS
    from registry.chain.consensus.validators import operator_account
    from registry.chain.events import ChainEvent, NewBlock, Rollback
    from registry.chain.external import ExternalBackend
    from registry.chain.names import ChainName
    from registry.chain.node.chain import EmbeddedChain, Sealing
    from registry.chain.node.host import BuiltBlock
    from registry.chain.node.lock import Holder, holder
    from registry.chain.node.modes import ChainMode, PermissionlessMode
    from registry.chain.rpc.dispatcher import RpcDispatcher
    from registry.chain.rpc.provider import EmbeddedProvider
    from registry.chain.rpc.server import RpcServerThread

_EXPORTS = {
    "IDENTITY_REGISTRY_ADDRESS": "registry.chain.consensus.kyc",
    "BuiltBlock": "registry.chain.node.host",
    "ChainEvent": "registry.chain.events",
    "ChainHandle": "registry.chain.backend",
    "ChainMode": "registry.chain.node.modes",
    "ChainName": "registry.chain.names",
    "ChainSettings": "registry.chain.backend",
    "EmbeddedBackend": "registry.chain.backend",
    "EmbeddedChain": "registry.chain.node.chain",
    "EmbeddedProvider": "registry.chain.rpc.provider",
    "ExternalBackend": "registry.chain.external",
    "Holder": "registry.chain.node.lock",
    "NewBlock": "registry.chain.events",
    "PermissionlessMode": "registry.chain.node.modes",
    "Rollback": "registry.chain.events",
    "RpcDispatcher": "registry.chain.rpc.dispatcher",
    "RpcServerThread": "registry.chain.rpc.server",
    "Sealing": "registry.chain.node.chain",
    "connect": "registry.chain.backend",
    "holder": "registry.chain.node.lock",
    "open_embedded": "registry.chain.backend",
    "operator_account": "registry.chain.consensus.validators",
}

__all__ = [
    "IDENTITY_REGISTRY_ADDRESS",
    "BuiltBlock",
    "ChainEvent",
    "ChainHandle",
    "ChainMode",
    "ChainName",
    "ChainSettings",
    "EmbeddedBackend",
    "EmbeddedChain",
    "EmbeddedProvider",
    "ExternalBackend",
    "Holder",
    "NewBlock",
    "PermissionlessMode",
    "Rollback",
    "RpcDispatcher",
    "RpcServerThread",
    "Sealing",
    "connect",
    "holder",
    "open_embedded",
    "operator_account",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'registry.chain' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
