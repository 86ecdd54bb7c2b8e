"""Message signing for the development accounts: ``eth_sign``, ``personal_sign``, ``eth_signTypedData_v4``.

As on anvil or hardhat, the node holds the development accounts' keys (they are derived
from public data, see `registry.chain.accounts`), so tools that ask the node to sign
(a dapp's "sign in" message, an EIP-712 permit) work against it. Any other address is
refused: its owner signs in their own wallet.

- ``eth_sign(address, data)`` and ``personal_sign(data, address)`` sign the EIP-191
  message ``"\\x19Ethereum Signed Message:\\n" + len(data) + data``, as geth does;
- ``eth_signTypedData_v4(address, typedData)`` signs EIP-712 typed data, given as an
  object or as its JSON text.

Signatures are 65 bytes, ``r || s || v`` with ``v`` 27 or 28.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from registry.chain.rpc import serializers as ser
from registry.chain.rpc.params import MethodSpec, Params, method, shown
from registry.chain.rpc.serializers import RpcParamsError

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from registry.chain.node.chain import EmbeddedChain


class MessageSigning:
    """The signing methods of one chain's development accounts."""

    def __init__(self, chain: EmbeddedChain) -> None:
        self.chain = chain
        """The chain whose development accounts sign."""

    def methods(self) -> dict[str, MethodSpec]:
        """The JSON-RPC methods, by name."""
        return {
            "eth_sign": method(self._eth_sign, "address", "data"),
            "personal_sign": method(self._personal_sign, "data", "address", "password", required=2),
            "eth_signTypedData_v4": method(self._sign_typed_data, "address", "typedData"),
        }

    def _signer(self, params: Params, index: int) -> LocalAccount:
        address = params.address(index)
        account = self.chain.dev_account(address)
        if account is None:
            raise RpcParamsError(
                f"parameter {index + 1} ({params.spec.names[index]}) is {ser.address(address)}, not one of "
                "this node's development accounts (eth_accounts); the node signs only for those: sign with "
                "your own wallet instead"
            )
        return account.account

    def _sign_message(self, params: Params, address_index: int, data_index: int) -> str:
        from eth_account.messages import encode_defunct

        signer = self._signer(params, address_index)
        message = params.data(data_index)
        return ser.data(signer.sign_message(encode_defunct(primitive=message)).signature)

    def _eth_sign(self, params: Params) -> str:
        return self._sign_message(params, 0, 1)

    def _personal_sign(self, params: Params) -> str:
        return self._sign_message(params, 1, 0)

    def _sign_typed_data(self, params: Params) -> str:
        from eth_account.messages import encode_typed_data

        signer = self._signer(params, 0)
        raw: Any = params.raw(1)
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError:
                raise RpcParamsError(
                    "parameter 2 (typedData) must be EIP-712 typed data, as an object or its JSON text; "
                    "the text given is not JSON"
                ) from None
        if not isinstance(raw, dict):
            raise RpcParamsError(
                "parameter 2 (typedData) must be EIP-712 typed data (an object with types, primaryType, "
                f"domain and message), got {shown(raw)}"
            )
        try:
            message = encode_typed_data(full_message=raw)
        except Exception as exc:
            # eth-account reports malformed typed data with assorted exception types.
            detail = str(exc) if isinstance(exc, ValueError) and not isinstance(exc, KeyError) else ""
            raise RpcParamsError(
                "parameter 2 (typedData) is not valid EIP-712 typed data (it needs types with EIP712Domain, "
                "primaryType, domain and message, each value of its declared type)"
                + (f": {detail}" if detail else "")
            ) from exc
        return ser.data(signer.sign_message(message).signature)
