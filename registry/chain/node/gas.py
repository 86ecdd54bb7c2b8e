"""The gas a transaction must offer before it runs, as geth counts it at submission.

- *Intrinsic gas*: 21,000, plus 32,000 for a contract creation, 4 or 16 per byte of
  calldata, the access list (EIP-2930) and the authorizations (EIP-7702), which py-evm's
  ``intrinsic_gas`` counts, plus 2 per 32-byte word of creation code (EIP-3860), which
  py-evm charges during execution instead.
- *Calldata floor* (EIP-7623, Prague): a transaction pays at least 21,000 + 10 per
  calldata token (a zero byte is one token, any other byte four).

A transaction offering less than either can never succeed; the chain refuses it at
submission (py-evm would otherwise fail it later with "Message.gas cannot be negative").
"""

from __future__ import annotations

from typing import Any

TX_GAS = 21_000
INITCODE_WORD_GAS = 2
FLOOR_GAS_PER_TOKEN = 10
TOKENS_PER_NONZERO_BYTE = 4


def intrinsic_gas(tx: Any) -> int:
    """The intrinsic gas of ``tx`` (a signed or unsigned py-evm transaction), creation code included."""
    gas = int(tx.intrinsic_gas)
    if not tx.to:
        gas += INITCODE_WORD_GAS * ((len(tx.data) + 31) // 32)
    return gas


def data_floor_gas(tx: Any) -> int:
    """The least gas ``tx`` pays for its calldata under EIP-7623."""
    data = bytes(tx.data)
    zeros = data.count(0)
    tokens = zeros + TOKENS_PER_NONZERO_BYTE * (len(data) - zeros)
    return TX_GAS + FLOOR_GAS_PER_TOKEN * tokens
