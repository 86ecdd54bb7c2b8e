"""Who signs for a sender: keystore keys, the embedded chains' own accounts, keys given in memory.

`Signers.signer_for(address)` answers in this order:

1. keys held in memory (`Signers.add`; on an embedded chain, `Signers.for_chain` adds the chain's
   development accounts and, on the permissioned chain, the chain operator, which is the admin
   and KYC provider of the genesis identity registry);
2. the keystore, unlocked on first use.

A sender none of them holds is `NoSigningKeyError`: the client signs instead (the non-custodial
flow, ``TransactionSender.prepare_unsigned`` then ``submit_signed``). A signer's repr shows its
address and where it comes from, never its key.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from eth_account.datastructures import SignedTransaction
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress

from registry.custody.keystore import Keystore, check_address
from registry.errors import KeyNotFoundError, NoSigningKeyError

if TYPE_CHECKING:
    from registry.chain.backend import ChainHandle


class Signer(Protocol):
    """Something that signs transactions for one address."""

    @property
    def address(self) -> ChecksumAddress:
        """The address it signs for."""
        ...

    @property
    def source(self) -> str:
        """Where the key comes from, for people (``keystore``, ``development account 3``...)."""
        ...

    def sign_transaction(self, transaction: Mapping[str, Any]) -> SignedTransaction:
        """Sign a transaction dict (eth-account's format); return the raw bytes and the hash."""
        ...


class LocalSigner:
    """A key held in this process's memory."""

    def __init__(self, account: LocalAccount, source: str) -> None:
        self._account = account
        self._source = source

    @property
    def address(self) -> ChecksumAddress:
        """The address it signs for."""
        return self._account.address

    @property
    def source(self) -> str:
        """Where the key comes from."""
        return self._source

    def sign_transaction(self, transaction: Mapping[str, Any]) -> SignedTransaction:
        """Sign ``transaction`` with the key."""
        return self._account.sign_transaction(dict(transaction))

    def __repr__(self) -> str:
        return f"LocalSigner({self.address}, {self._source})"


class Signers:
    """The signing keys custody holds for one chain: in memory, then in the ``keystore``."""

    def __init__(self, keystore: Keystore | None = None, *, chain: str | None = None) -> None:
        self.keystore = keystore
        """The keystore consulted after the keys in memory (None: none)."""
        self.chain = chain
        """The chain these signers are for, named in error messages."""
        self._memory: dict[ChecksumAddress, LocalSigner] = {}
        self._lock = threading.Lock()

    @classmethod
    def for_chain(cls, handle: ChainHandle, keystore: Keystore | None) -> Signers:
        """The signers of ``handle``'s chain: the keystore, plus on an embedded chain its development
        accounts and (permissioned) its operator. An external node contributes no key."""
        signers = cls(keystore, chain=handle.name)
        embedded = handle.embedded
        if embedded is not None:
            for index, account in enumerate(embedded.dev_accounts):
                signers.add(account.account, f"development account {index} of the {handle.name} chain")
            from registry.chain.consensus.mode import PermissionedMode

            if isinstance(embedded.mode, PermissionedMode):
                signers.add(embedded.mode.keyring.operator, f"operator of the {handle.name} chain")
        return signers

    def __repr__(self) -> str:
        return f"Signers(chain={self.chain!r}, in memory={len(self._memory)}, keystore={self.keystore!r})"

    def add(self, account: LocalAccount, source: str = "key in memory") -> LocalSigner:
        """Hold ``account``'s key in memory (scripts, tests, keys from elsewhere); returns its signer."""
        signer = LocalSigner(account, source)
        with self._lock:
            self._memory[signer.address] = signer
        return signer

    def in_memory(self) -> list[LocalSigner]:
        """The signers held in memory, in the order added."""
        with self._lock:
            return list(self._memory.values())

    def can_sign(self, address: str) -> bool:
        """True if custody holds a key for ``address`` (decrypts nothing)."""
        checksum = check_address(address)
        with self._lock:
            if checksum in self._memory:
                return True
        return self.keystore is not None and checksum in self.keystore

    def signer_for(self, address: str) -> Signer:
        """The signer of ``address``; a keystore key is unlocked on first use.

        Raises:
            InvalidInputError: not an address.
            NoSigningKeyError: custody holds no key for it.
            PassphraseMissingError, WrongPassphraseError, KeyFileCorruptError: the keystore key
                cannot be unlocked.
        """
        checksum = check_address(address, "sender")
        with self._lock:
            signer = self._memory.get(checksum)
        if signer is not None:
            return signer
        if self.keystore is not None:
            try:
                # An unlocked key answers from memory: no file is read per transaction.
                return LocalSigner(self.keystore.unlock(checksum), "keystore")
            except KeyNotFoundError:
                pass
        where = f" on the {self.chain} chain" if self.chain else ""
        keystore = (
            f"the keystore {self.keystore.folder}" if self.keystore is not None else "a keystore (none)"
        )
        raise NoSigningKeyError(
            f"custody holds no key for {checksum}{where}: it is not in {keystore} nor held in memory. "
            "Let its owner sign: TransactionSender.prepare_unsigned(...) gives the transaction to sign, "
            "submit_signed(raw) sends it; or import the key into the keystore"
        )

    def each(self, addresses: Iterable[str]) -> list[Signer]:
        """`signer_for` each address (e.g. before a batch, so that nothing is sent if one is missing)."""
        return [self.signer_for(address) for address in addresses]
