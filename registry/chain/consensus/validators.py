"""The keys of the permissioned chain's simulated institutions, and the validator votes.

`ValidatorKeyring` generates the validators' keys and the chain operator's key (the
identity registry's admin) on first use and keeps them in ``validator-keys.json`` in
the chain's folder of the data directory (owner-only permissions). They are hot keys of
a local simulation: every institution's key lives on this one machine so that the node
can seal blocks with a quorum of seals and sign proposals on behalf of any institution.

`ValidatorVotes` is the voting API: a validator proposes adding or removing a validator,
current validators sign the proposal, and once more than half of the current set has
signed, the change takes effect at the next block (one is sealed at once), where the
header's validator list changes and its vanity names the vote. Every change is recorded:
block, validator, action, voters.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_keys.datatypes import PrivateKey
from eth_typing import Address, ChecksumAddress
from eth_utils.crypto import keccak

from registry.chain.consensus.proposals import (
    GovernanceContext,
    GovernanceStore,
    InvalidProposalError,
    ProposalDesk,
    ProposalKind,
    ProposalRecord,
    ProposalStatus,
    ValidatorChange,
    apply_validator_change,
    collect_signers,
    parse_address,
)
from registry.chain.consensus.seals import majority_size, quorum_size, short
from registry.chain.errors import ChainDataError

KEYS_FILE = "validator-keys.json"
"""File of the chain's folder holding the validators' and the operator's keys."""


@dataclass(frozen=True)
class ValidatorKey:
    """One institution's key."""

    name: str
    private_key: PrivateKey

    @property
    def address(self) -> Address:
        """The 20-byte address of the key."""
        return Address(self.private_key.public_key.to_canonical_address())


class ValidatorKeyring:
    """Validator and operator keys of a permissioned chain, in memory or in ``folder/validator-keys.json``."""

    def __init__(self, folder: Path | None, validators: Iterable[ValidatorKey], operator: PrivateKey) -> None:
        self.folder = folder
        """The chain's folder, or None for keys that live only in memory."""
        self._validators = {key.address: key for key in validators}
        self._operator = operator

    @classmethod
    def seeded(cls, seed: bytes, count: int = 4) -> ValidatorKeyring:
        """An in-memory keyring whose keys derive from ``seed`` (``keccak(seed/role/i)``): the same seed
        makes the same validators and operator, so a demo's report repeats byte for byte. Never saved:
        anyone who knows the seed holds the keys, so it is only for throwaway chains.

        Raises:
            ValueError: ``count`` is below 1, or the seed is empty.
        """
        if count < 1:
            raise ValueError(f"a permissioned chain needs at least one validator; got {count}")
        if not seed:
            raise ValueError("a seeded keyring needs a non-empty seed")
        return cls(
            None,
            [
                ValidatorKey(f"institution-{i + 1}", PrivateKey(keccak(seed + f"/validator/{i}".encode())))
                for i in range(count)
            ],
            PrivateKey(keccak(seed + b"/operator")),
        )

    @classmethod
    def load_or_create(cls, folder: Path | None, count: int = 4) -> ValidatorKeyring:
        """The keyring of the chain in ``folder``: read it if it exists, else generate ``count`` validators.

        ``count`` matters only when the keys are generated; later the validator set changes by vote only.

        Raises:
            ChainDataError: the key file exists but cannot be read.
            ValueError: ``count`` is below 1.
        """
        if count < 1:
            raise ValueError(f"a permissioned chain needs at least one validator; got {count}")
        path = None if folder is None else folder / KEYS_FILE
        if path is not None and path.is_file():
            try:
                data = json.loads(path.read_text())
                validators = [
                    ValidatorKey(
                        item["name"], PrivateKey(bytes.fromhex(item["private_key"].removeprefix("0x")))
                    )
                    for item in data["validators"]
                ]
                operator = PrivateKey(bytes.fromhex(data["operator"]["private_key"].removeprefix("0x")))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise ChainDataError(
                    f"cannot read the validator keys in {path}: {exc}; restore the file, or delete the "
                    "chain's folder to start a fresh chain"
                ) from exc
            return cls(folder, validators, operator)
        keyring = cls(
            folder,
            [ValidatorKey(f"institution-{i + 1}", PrivateKey(os.urandom(32))) for i in range(count)],
            PrivateKey(os.urandom(32)),
        )
        keyring.save()
        return keyring

    def save(self) -> None:
        """Write the keys to the chain's folder (owner-only); nothing to do in memory."""
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        document = {
            "warning": "hot keys of a local simulation of validator institutions; never reuse them elsewhere",
            "operator": {
                "address": self.operator.address,
                "private_key": "0x" + self._operator.to_bytes().hex(),
            },
            "validators": [
                {
                    "name": key.name,
                    "address": short(key.address),
                    "private_key": "0x" + key.private_key.to_bytes().hex(),
                }
                for key in self._validators.values()
            ],
        }
        path = self.folder / KEYS_FILE
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(document, handle, indent=2)
        # Replace in one step so that a crash never leaves a half-written key file.
        tmp.replace(path)

    @property
    def operator(self) -> LocalAccount:
        """The chain operator: admin and KYC provider of the genesis identity registry."""
        account: LocalAccount = Account.from_key(self._operator.to_bytes())
        return account

    @property
    def keys(self) -> tuple[ValidatorKey, ...]:
        """Every validator key held, in creation order (current and former validators alike)."""
        return tuple(self._validators.values())

    def key_for(self, address: bytes) -> ValidatorKey | None:
        """The key of validator ``address`` if this keyring holds it."""
        return self._validators.get(Address(bytes(address)))

    def generate(self, name: str | None = None) -> ValidatorKey:
        """Create (and save) the key of a new institution, e.g. before voting to add it."""
        key = ValidatorKey(name or f"institution-{len(self._validators) + 1}", PrivateKey(os.urandom(32)))
        self._validators[key.address] = key
        self.save()
        return key


def operator_account(folder: Path) -> LocalAccount:
    """The chain operator (the identity registry's admin and KYC provider) of the chain in ``folder``.

    Raises:
        ChainDataError: the folder has no readable key file (the chain was never created there).
    """
    if not (folder / KEYS_FILE).is_file():
        raise ChainDataError(
            f"{folder / KEYS_FILE} does not exist: no permissioned chain was created in {folder}; "
            "start it once (registry node --chain permissioned) or check the data directory"
        )
    return ValidatorKeyring.load_or_create(folder).operator


def _key_from_hex(text: str) -> PrivateKey:
    return PrivateKey(bytes.fromhex(text.removeprefix("0x")))


class ValidatorVotes(ProposalDesk):
    """Votes that add or remove validators (more than half of the current set must sign).

    Typical use: ``record = votes.propose("add", address)``, then ``votes.sign(record.id, v)`` for
    validators ``v`` until the majority is reached; the change then takes effect at the next block.
    """

    kinds: ClassVar[frozenset[ProposalKind]] = frozenset({ProposalKind.VALIDATOR_VOTE})

    def __init__(
        self,
        context: GovernanceContext,
        store: GovernanceStore,
        *,
        can_seal: Callable[[Sequence[bytes]], bool],
        request_block: Callable[[], None],
    ) -> None:
        super().__init__(context)
        self._store = store
        self._can_seal = can_seal
        self._request_block = request_block

    def current(self) -> list[ChecksumAddress]:
        """The validators that must seal the next block."""
        return [short(v) for v in self._current()]

    def threshold(self, kind: ProposalKind = ProposalKind.VALIDATOR_VOTE) -> int:
        """Signatures a vote needs now: more than half of the current validators."""
        return majority_size(len(self._current()))

    def propose(self, action: str, validator: str | bytes, *, reason: str = "") -> ProposalRecord:
        """Open a vote to ``action`` ("add" or "remove") ``validator``; returns the open proposal.

        Raises:
            InvalidProposalError: the change cannot apply to the current set.
        """
        subject = parse_address(validator)
        apply_validator_change(self._current(), action, subject)
        return self._open(
            ProposalKind.VALIDATOR_VOTE, {"action": action, "validator": short(subject), "reason": reason}
        )

    def history(self, *, include_dropped: bool = False) -> list[ValidatorChange]:
        """Validator changes in the order they took effect: block, validator, action, voters.

        Changes in blocks that a rollback removed are left out unless ``include_dropped``.
        """
        changes = self._store.validator_changes()
        if include_dropped:
            return changes
        return [c for c in changes if self._ctx.is_canonical(c.block_number, c.block_hash)]

    def _carry_out(self, record: ProposalRecord) -> ProposalRecord:
        message = record.proposal.message
        action = str(message["action"])
        subject = parse_address(message["validator"])
        try:
            after = apply_validator_change(self._current(), action, subject)
        except InvalidProposalError as exc:
            record.status = ProposalStatus.FAILED
            record.outcome = {"error": str(exc)}
            self._store.save(record)
            return record
        if not self._can_seal(after):
            record.status = ProposalStatus.FAILED
            record.outcome = {
                "error": f"after this change this node would hold fewer than {quorum_size(len(after))} of "
                f"the {len(after)} validators' keys and could not seal blocks; generate the new validator's "
                "key here first (ValidatorKeyring.generate)"
            }
            self._store.save(record)
            return record
        record.status = ProposalStatus.APPROVED
        record.outcome = {
            "voters": [short(v) for v in collect_signers(record.proposal, record.signatures, self._current())]
        }
        self._store.save(record)
        self._request_block()
        # The block that enacts the change updated the record; return the fresh one.
        return self._store.get(record.id)
