"""Quorum seals of the permissioned chain's blocks.

A permissioned header carries, in ``extra_data``, the QBFT-style list
``RLP[vanity (32 bytes), validators (sorted 20-byte addresses), seals (65-byte signatures)]``.
Every seal signs the hash of the same header whose ``extra_data`` has an empty seal list
(`seal_hash`). A block is valid only with seals of at least ``ceil(2N/3)`` distinct
validators of the ``N`` listed in it (`quorum_size`); `registry.chain.consensus.quorum`
checks this on every import.

Errors raised here::

    registry.chain.errors.InvalidBlockError
    └── SealError                          (also eth_utils.ValidationError, which py-evm expects)
        ├── MalformedExtraDataError        extra_data is not RLP[vanity, validators, seals]
        ├── InvalidSealSignatureError      a seal is not a valid signature
        ├── SealMismatchError              no seal recovers to a validator: sealed over another header
        ├── UnknownSealerError             validators sealed, and a seal recovers to none of them
        ├── DuplicateSealError             one validator sealed twice
        ├── InsufficientSealsError         fewer than ceil(2N/3) distinct validator seals
        └── ValidatorSetChangeError        validator list or vanity not explained by a majority vote
            └── VoteAlreadyExecutedError   the vanity names a vote that already took effect

What a seal can tell: ECDSA recovery over this header's seal hash always yields *some* address.
A seal made by a validator over this very header yields that validator. A seal made over any
other header (the header was changed after sealing, or the seal was copied from another
block) yields an unrelated address that nobody holds a key for, and nothing can tell which
key made it or over what. A seal by a key outside the validator set over this header yields
that key's address. The last two cannot be told apart from one seal, so the errors say which
case is likely and why: when not one seal recovers to a validator, the header was almost
certainly changed after sealing (`SealMismatchError`, no address named); when the others
do, the odd seal is an outsider's or was copied from elsewhere (`UnknownSealerError`, which
names the address recovered over this header and says it means something only in the first
case).
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import rlp
from eth_keys.datatypes import PrivateKey, Signature
from eth_keys.exceptions import BadSignature
from eth_typing import Address, ChecksumAddress, Hash32
from eth_utils.address import to_checksum_address
from eth_utils.exceptions import ValidationError

from registry.chain.errors import InvalidBlockError

if TYPE_CHECKING:
    from eth.abc import BlockHeaderAPI


VANITY_LENGTH = 32
"""Bytes of the vanity field; the permissioned chain writes a validator vote's id there, or zeros."""

SEAL_LENGTH = 65
"""Bytes of one seal: ``r || s || v`` with ``v`` in {0, 1}."""

ADDRESS_LENGTH = 20

EMPTY_VANITY = b"\x00" * VANITY_LENGTH

MAX_VALIDATORS = 64
"""Upper bound on the validator set, so that ``extra_data`` has a fixed maximum size."""

EXTRA_DATA_MAX_BYTES = 3 + (VANITY_LENGTH + 1) + (3 + MAX_VALIDATORS * 21) + (3 + MAX_VALIDATORS * 66)
"""Largest ``extra_data`` of a permissioned header: RLP overhead, vanity, 64 addresses and 64 seals."""


def quorum_size(n: int) -> int:
    """Seals (or intervention signatures) needed among ``n`` validators: ``ceil(2n/3)``."""
    return -(-2 * n // 3)


def majority_size(n: int) -> int:
    """Votes needed to change a set of ``n`` validators: strictly more than ``n/2``."""
    return n // 2 + 1


def short(address: bytes) -> ChecksumAddress:
    """A 20-byte address in its checksummed text form, for messages and records."""
    return to_checksum_address(address)


# ---------------------------------------------------------------------------------------------- errors


class SealError(InvalidBlockError, ValidationError):
    """Raised when a header's seals or validator list break the quorum rule; the block is refused."""


class MalformedExtraDataError(SealError):
    """Raised when ``extra_data`` is not ``RLP[vanity(32), sorted distinct addresses, 65-byte seals]``."""


class InvalidSealSignatureError(SealError):
    """Raised when a seal is not a recoverable secp256k1 signature."""


class SealMismatchError(SealError):
    """Raised when not one seal of a header recovers to one of its validators over that header: the
    header was changed after it was sealed (or its seals come from another block, or from keys
    outside the set; a seal cannot say which)."""

    def __init__(self, message: str, seals: int) -> None:
        super().__init__(message)
        self.seals = seals
        """How many seals the header carries (none of which matches it)."""


class UnknownSealerError(SealError):
    """Raised when a header carries validator seals and also one that recovers to an address outside
    its validator list."""

    def __init__(self, message: str, sealer: bytes) -> None:
        super().__init__(message)
        self.sealer = sealer
        """The address the odd seal recovers to over this header: its signer if it signed this header, a
        meaningless address if it signed another one."""


class DuplicateSealError(SealError):
    """Raised when one validator's seal appears more than once in a header."""

    def __init__(self, message: str, sealer: bytes) -> None:
        super().__init__(message)
        self.sealer = sealer
        """The 20-byte address of the validator that sealed twice."""


class InsufficientSealsError(SealError):
    """Raised when a header has seals of fewer than ``ceil(2N/3)`` distinct validators."""

    def __init__(self, message: str, have: int, need: int) -> None:
        super().__init__(message)
        self.have = have
        """Distinct validator seals present."""
        self.need = need
        """Seals the quorum rule demands."""


class ValidatorSetChangeError(SealError):
    """Raised when a header's validators differ from its parent's without a majority vote to justify it,
    or its vanity names a vote it does not enact."""


class VoteAlreadyExecutedError(ValidatorSetChangeError):
    """Raised when a header names, in its vanity, a validator vote that already took effect on the
    canonical chain: a vote takes effect once."""

    def __init__(self, message: str, proposal_id: bytes, block_number: int) -> None:
        super().__init__(message)
        self.proposal_id = proposal_id
        """The vote named."""
        self.block_number = block_number
        """The canonical block where it took effect."""


# ---------------------------------------------------------------------------------------------- extra_data


@dataclass(frozen=True)
class ExtraData:
    """The decoded ``extra_data`` of a permissioned header."""

    vanity: bytes
    validators: tuple[Address, ...]
    seals: tuple[bytes, ...] = ()

    def encode(self) -> bytes:
        """The RLP bytes to store in a header."""
        return bytes(rlp.encode([self.vanity, list(self.validators), list(self.seals)]))

    def without_seals(self) -> ExtraData:
        """The same fields with an empty seal list: what every seal signs over."""
        return replace(self, seals=())

    @classmethod
    def decode(cls, raw: bytes) -> ExtraData:
        """Parse and check the shape of ``raw``.

        Raises:
            MalformedExtraDataError: not RLP, wrong arity, wrong lengths, an empty or unsorted validator
                list (the list must be sorted and without duplicates so that two nodes compare it bytewise).
        """
        try:
            items = rlp.decode(raw, strict=True)
        except rlp.exceptions.DecodingError as exc:
            raise MalformedExtraDataError(f"extra_data is not RLP: {exc}") from exc
        if not isinstance(items, list) or len(items) != 3:
            raise MalformedExtraDataError("extra_data must be RLP[vanity, validators, seals] (three items)")
        vanity, validators, seals = items
        if not isinstance(vanity, bytes) or len(vanity) != VANITY_LENGTH:
            raise MalformedExtraDataError(f"extra_data vanity must be {VANITY_LENGTH} bytes")
        if not isinstance(validators, list) or not isinstance(seals, list):
            raise MalformedExtraDataError("extra_data validators and seals must be lists")
        if not validators:
            raise MalformedExtraDataError("extra_data lists no validator")
        if len(validators) > MAX_VALIDATORS:
            raise MalformedExtraDataError(f"extra_data lists more than {MAX_VALIDATORS} validators")
        for item in validators:
            if not isinstance(item, bytes) or len(item) != ADDRESS_LENGTH:
                raise MalformedExtraDataError("every validator in extra_data must be a 20-byte address")
        if any(a >= b for a, b in itertools.pairwise(validators)):
            raise MalformedExtraDataError("extra_data validators must be sorted ascending without duplicates")
        for item in seals:
            if not isinstance(item, bytes) or len(item) != SEAL_LENGTH:
                raise MalformedExtraDataError(f"every seal in extra_data must be {SEAL_LENGTH} bytes")
        return cls(vanity, tuple(Address(v) for v in validators), tuple(seals))


def genesis_extra_data(validators: Iterable[bytes]) -> bytes:
    """The ``extra_data`` of a genesis header listing ``validators`` (sorted here), unsealed."""
    return ExtraData(EMPTY_VANITY, canonical_validator_list(validators)).encode()


def canonical_validator_list(validators: Iterable[bytes]) -> tuple[Address, ...]:
    """``validators`` as sorted distinct 20-byte addresses, the order used in headers."""
    unique = sorted({bytes(v) for v in validators})
    if not unique:
        raise ValueError("a validator set needs at least one validator")
    if any(len(v) != ADDRESS_LENGTH for v in unique):
        raise ValueError("validators must be 20-byte addresses")
    return tuple(Address(v) for v in unique)


def validators_of(header: BlockHeaderAPI) -> tuple[Address, ...]:
    """The validator list of ``header`` (the set that must seal it)."""
    return ExtraData.decode(header.extra_data).validators


# ---------------------------------------------------------------------------------------------- seals


def seal_hash(header: BlockHeaderAPI) -> Hash32:
    """What each validator signs: the hash of ``header`` with an empty seal list in ``extra_data``."""
    unsealed = ExtraData.decode(header.extra_data).without_seals().encode()
    return Hash32(header.copy(extra_data=unsealed).hash)


def sign_seal(digest: bytes, private_key: PrivateKey) -> bytes:
    """One validator's 65-byte seal over ``digest`` (a `seal_hash`)."""
    return bytes(private_key.sign_msg_hash(digest).to_bytes())


def recover_sealer(digest: bytes, seal: bytes) -> Address:
    """The address that produced ``seal`` over ``digest``.

    Raises:
        InvalidSealSignatureError: ``seal`` is not a valid recoverable signature (e.g. all zeros).
    """
    try:
        signature = Signature(signature_bytes=seal)
        return Address(signature.recover_public_key_from_msg_hash(digest).to_canonical_address())
    except (BadSignature, ValidationError, ValueError) as exc:
        # eth_keys raises BadSignature, which is not a ValueError, for unrecoverable bytes.
        raise InvalidSealSignatureError(f"a seal is not a valid signature ({exc})") from exc


def seal_header(
    header: BlockHeaderAPI,
    validators: Sequence[bytes],
    signers: Sequence[PrivateKey],
    vanity: bytes = EMPTY_VANITY,
) -> BlockHeaderAPI:
    """``header`` with ``extra_data`` listing ``validators`` and sealed by every key in ``signers``."""
    unsealed = ExtraData(vanity, canonical_validator_list(validators))
    digest = header.copy(extra_data=unsealed.encode()).hash
    seals = tuple(sign_seal(digest, key) for key in signers)
    return header.copy(extra_data=replace(unsealed, seals=seals).encode())


class SealerMemory:
    """Who sealed the blocks this process sealed or checked, by header hash, the newest `capacity` of them.

    A header's hash covers its ``extra_data``, seals included, so the validators that sealed a given
    hash never change: a rollback, a reorganisation or a reopened chain can make a block stale, never
    its sealers wrong. What is not remembered (a block read after a restart, or evicted) is recovered
    from the seals again (`sealers_of`). Thread-safe.
    """

    def __init__(self, capacity: int = 4_096) -> None:
        self._capacity = capacity
        self._known: OrderedDict[bytes, tuple[Address, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, header_hash: bytes, sealers: Sequence[bytes]) -> None:
        """Note that the validators ``sealers`` (in seal order) sealed the header ``header_hash``."""
        with self._lock:
            self._known[bytes(header_hash)] = tuple(Address(bytes(s)) for s in sealers)
            self._known.move_to_end(bytes(header_hash))
            while len(self._known) > self._capacity:
                self._known.popitem(last=False)

    def get(self, header_hash: bytes) -> tuple[Address, ...] | None:
        """The sealers of ``header_hash`` in seal order, or None when this memory does not know them."""
        with self._lock:
            return self._known.get(bytes(header_hash))

    def __len__(self) -> int:
        with self._lock:
            return len(self._known)


KNOWN_SEALERS: SealerMemory = SealerMemory()
"""The sealers of the headers sealed here (`remember_sealed`) or that passed `check_seals`."""


def remember_sealed(header: BlockHeaderAPI, sealers: Sequence[bytes]) -> None:
    """Note the validators that sealed ``header``, as a sealer that checked the quorum itself knows them
    (the permissioned mode, which seals with a quorum of distinct validators' keys, in this order):
    `sealers_of` then returns them without recovering a signature."""
    KNOWN_SEALERS.remember(header.hash, sealers)


def sealers_of(header: BlockHeaderAPI) -> tuple[Address, ...]:
    """The validators that sealed ``header``, in seal order: remembered when this process sealed or
    checked the header (no signature recovered), else `check_seals`.

    Raises:
        SealError: as `check_seals`, for a header not remembered.
    """
    known = KNOWN_SEALERS.get(header.hash)
    return known if known is not None else check_seals(header)


def check_seals(header: BlockHeaderAPI) -> tuple[Address, ...]:
    """Check the quorum rule on ``header`` alone and return the validators that sealed it (remembered in
    `KNOWN_SEALERS`).

    Raises:
        MalformedExtraDataError, InvalidSealSignatureError, SealMismatchError, UnknownSealerError,
        DuplicateSealError, InsufficientSealsError: the header breaks the rule; the message names the
        block and, where a seal can tell, the culprit (see the module docstring).
    """
    extra = ExtraData.decode(header.extra_data)
    digest = header.copy(extra_data=extra.without_seals().encode()).hash
    allowed = set(extra.validators)
    where = f"block #{header.block_number}"
    recovered = [recover_sealer(digest, seal) for seal in extra.seals]
    foreign = [sealer for sealer in recovered if sealer not in allowed]
    if foreign and len(foreign) == len(recovered):
        raise SealMismatchError(
            f"{where}: none of its {len(recovered)} seal(s) recovers to one of its {len(allowed)} "
            "validators over this header, so they were made over a different header: most likely the "
            "header was changed after it was sealed, or the seals were copied from another block (keys "
            "outside the validator set would look the same). No signer can be named: a seal over another "
            "header recovers to a meaningless address. Take the block as its validators sealed it",
            len(recovered),
        )
    if foreign:
        odd = foreign[0]
        raise UnknownSealerError(
            f"{where} carries {len(recovered) - len(foreign)} seal(s) of its validators and "
            f"{len(foreign)} that recover(s) to no validator: over this header one recovers to "
            f"{short(odd)}. Either that key, which is not one of the {len(allowed)} validators, sealed "
            "this header, or the seal was made over another header (copied from another block), and then "
            "the address means nothing",
            odd,
        )
    sealers: list[Address] = []
    for sealer in recovered:
        if sealer in sealers:
            raise DuplicateSealError(
                f"block #{header.block_number} carries the seal of validator {short(sealer)} twice; "
                "each validator counts once",
                sealer,
            )
        sealers.append(sealer)
    need = quorum_size(len(extra.validators))
    if len(sealers) < need:
        raise InsufficientSealsError(
            f"block #{header.block_number} has {len(sealers)} validator seal(s); it needs {need} of "
            f"{len(extra.validators)} (ceil(2N/3))",
            have=len(sealers),
            need=need,
        )
    KNOWN_SEALERS.remember(header.hash, sealers)
    return tuple(sealers)
