"""Custody: who signs the registry's transactions, and how they are sent.

    keystore = Keystore.from_settings(settings)            # <data dir>/keystore, REGISTRY_KEYSTORE_PASSPHRASE
    signers = Signers.for_chain(handle, keystore)          # + the embedded chain's own accounts
    with TransactionSender.for_chain(handle, signers) as sender:
        outcome = sender.send(PreparedTransaction(chain=handle.name, sender=..., to=..., data=...,
                                                  description="mint 100 ACME to 0xabc…"))

- `keystore`: encrypted keystore v3 files, one per key;
- `signers`: keystore keys, the embedded chains' development accounts and operator, keys in memory;
- `nonces`: each sender's next nonce, safe across threads, resynchronised after a rollback;
- `transactions`: prepared, unsigned, pending and mined transactions;
- `sender`: `TransactionSender`, the custodial and non-custodial flows, revert decoding;
- `batches`: chunking to the block gas limit, pipelined sending, item-by-item outcomes.

This package imports ``registry.chain`` (the seam) and nothing above it.
"""

from registry.custody.batches import (
    BatchEntry,
    BatchOutcome,
    BatchResult,
    ItemStatus,
    Progress,
    plan_chunks,
    send_batch,
    send_chunked,
)
from registry.custody.keystore import KeyInfo, Keystore
from registry.custody.nonces import NonceBook, NonceSlot
from registry.custody.sender import Fees, OnSigned, TransactionSender, TxState
from registry.custody.signers import LocalSigner, Signer, Signers
from registry.custody.transactions import (
    PendingTransaction,
    PreparedTransaction,
    SignedFields,
    TxOutcome,
    UnsignedTransaction,
    decode_signed,
)

__all__ = [
    "BatchEntry",
    "BatchOutcome",
    "BatchResult",
    "Fees",
    "ItemStatus",
    "KeyInfo",
    "Keystore",
    "LocalSigner",
    "NonceBook",
    "NonceSlot",
    "OnSigned",
    "PendingTransaction",
    "PreparedTransaction",
    "Progress",
    "SignedFields",
    "Signer",
    "Signers",
    "TransactionSender",
    "TxOutcome",
    "TxState",
    "UnsignedTransaction",
    "decode_signed",
    "plan_chunks",
    "send_batch",
    "send_chunked",
]
