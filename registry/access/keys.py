"""API keys: made at random, shown once, stored hashed, each with one role and its bindings.

A key reads ``rk_<key id>_<secret>``: the key id is public (it names the key in lists, logs and
revocations), the secret is 256 random bits. Only the SHA-256 of the whole key is stored. A slow
password hash (bcrypt, scrypt, Argon2) exists to make guessing a *human-chosen* password expensive; a
256-bit random secret cannot be guessed at any speed, so a fast hash loses nothing and lets every request
be checked in microseconds. Whoever reads the database learns the key ids and hashes, not a usable key.

Roles (`ROLES`): ``admin`` (everything, keys included), ``issuer`` (issues assets and runs its own),
``agent`` (enforcement on the assets assigned to it), ``kyc-provider`` (onboarding), ``validator`` (its
own votes and signatures), ``investor`` (its own wallets) and ``auditor`` (reads only). A key's
*bindings* tie it to on-chain identities: ``address`` bindings are the addresses it may act as (an
issuer's custodial signing addresses, an investor's wallets, a validator's address), ``asset`` bindings
the assets an agent is assigned.

The first start of a server makes one *bootstrap* admin key (`bootstrap_admin`), once: never again
while any admin key was ever made. `reset_admin` (``registry keys reset-admin``, which needs the data
directory) revokes every active admin key and makes a new bootstrap key, for an admin key that was lost
or may have leaked.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal, get_args

from eth_utils.address import is_address, to_checksum_address
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from registry.access.models import ApiKey, ApiKeyBinding
from registry.errors import InvalidInputError, LastAdminKeyError, UnknownApiKeyError

Role = Literal["admin", "issuer", "agent", "kyc-provider", "validator", "investor", "auditor"]
"""A key's role."""

ROLES: Final[tuple[Role, ...]] = get_args(Role)
"""Every role, most powerful first."""

BindingKind = Literal["address", "asset"]
"""What a binding names: an on-chain address, or a catalogued asset."""

TOKEN_PREFIX: Final = "rk"
"""Every key starts with ``rk_``, so that a leaked key is recognisable by secret scanners."""

_KEY_ID = re.compile(r"^[0-9a-f]{16}$")
_TOKEN = re.compile(r"^rk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")

BINDINGS_BY_ROLE: Final[dict[str, tuple[BindingKind, ...]]] = {
    "admin": (),
    "auditor": (),
    "issuer": ("address",),
    "kyc-provider": ("address",),
    "validator": ("address",),
    "investor": ("address",),
    "agent": ("address", "asset"),
}
"""Which bindings each role takes (an admin acts as anyone custody holds; an auditor acts as nobody)."""


@dataclass(frozen=True)
class ApiKeyRecord:
    """A stored key, without its secret."""

    key_id: str
    role: Role
    label: str
    created_at: int
    revoked_at: int | None
    bootstrap: bool
    addresses: tuple[str, ...] = ()
    """Checksummed addresses the key may act as."""
    assets: tuple[str, ...] = ()
    """Asset ids the key is assigned (agents)."""

    @property
    def active(self) -> bool:
        """False once revoked."""
        return self.revoked_at is None


@dataclass(frozen=True)
class NewKey:
    """A key just made: its record and the key itself, which is shown once and never stored."""

    record: ApiKeyRecord
    token: str = field(repr=False)


def hash_token(token: str) -> str:
    """The SHA-256 (hex) stored for ``token``."""
    return hashlib.sha256(token.encode()).hexdigest()


def check_role(value: object) -> Role:
    """``value`` if it is a role.

    Raises:
        InvalidInputError: it is not.
    """
    for role in ROLES:
        if value == role:
            return role
    raise InvalidInputError("role", f"the roles are {', '.join(ROLES)}; got {value!r}")


def check_key_id(value: object) -> str:
    """``value`` if it is shaped like a key id (16 hex digits).

    Raises:
        UnknownApiKeyError: it is not (no key can have it).
    """
    if not isinstance(value, str) or not _KEY_ID.match(value):
        raise UnknownApiKeyError(f"no API key has the id {value!r} (a key id is 16 hex digits)")
    return value


def _addresses(values: Iterable[str]) -> list[str]:
    checked: list[str] = []
    for value in values:
        if not isinstance(value, str) or not is_address(value):
            raise InvalidInputError("addresses", f"expected addresses (0x and 40 hex digits); got {value!r}")
        address = to_checksum_address(value)
        if address not in checked:
            checked.append(address)
    return checked


def _record(session: Session, row: ApiKey) -> ApiKeyRecord:
    bindings = session.execute(
        select(ApiKeyBinding.kind, ApiKeyBinding.value)
        .where(ApiKeyBinding.key_id == row.key_id)
        .order_by(ApiKeyBinding.id)
    ).all()
    return ApiKeyRecord(
        key_id=row.key_id,
        role=check_role(row.role),
        label=row.label,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        bootstrap=row.bootstrap,
        addresses=tuple(value for kind, value in bindings if kind == "address"),
        assets=tuple(value for kind, value in bindings if kind == "asset"),
    )


def check_bindings(
    role: Role, addresses: Sequence[str], assets: Sequence[str]
) -> tuple[list[str], list[str]]:
    """``addresses`` (checksummed, without repeats) and ``assets`` if ``role`` takes them.

    Raises:
        InvalidInputError: a malformed address, or a binding the role does not take.
    """
    takes = BINDINGS_BY_ROLE[role]
    bound_addresses = _addresses(addresses)
    if bound_addresses and "address" not in takes:
        raise InvalidInputError("addresses", f"an {role} key acts as nobody: it takes no addresses")
    bound_assets = list(dict.fromkeys(assets))
    if bound_assets and "asset" not in takes:
        raise InvalidInputError("assets", f"only agent keys are assigned assets; an {role} key takes none")
    return bound_addresses, bound_assets


def create_key(
    session: Session,
    *,
    role: str,
    label: str,
    now: int,
    addresses: Sequence[str] = (),
    assets: Sequence[str] = (),
    bootstrap: bool = False,
) -> NewKey:
    """Make a key with ``role`` and its bindings (each checked against what the role takes).

    Assets are not looked up here: the caller checks that they are catalogued.

    Raises:
        InvalidInputError: an unknown role, an empty label, a malformed address, or a binding the role
            does not take (``field`` names it).
    """
    checked_role = check_role(role)
    text = label.strip() if isinstance(label, str) else ""
    if not text or len(text) > 200 or any(ord(char) < 32 for char in text):
        raise InvalidInputError("label", "a label is 1 to 200 printable characters, e.g. 'ACME treasury'")
    bound_addresses, bound_assets = check_bindings(checked_role, addresses, assets)
    key_id = secrets.token_hex(8)
    token = f"{TOKEN_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    session.add(
        ApiKey(
            key_id=key_id,
            secret_hash=hash_token(token),
            role=checked_role,
            label=text,
            created_at=now,
            revoked_at=None,
            bootstrap=bootstrap,
        )
    )
    session.flush()
    for address in bound_addresses:
        session.add(ApiKeyBinding(key_id=key_id, kind="address", value=address))
    for asset in bound_assets:
        session.add(ApiKeyBinding(key_id=key_id, kind="asset", value=asset))
    session.flush()
    return NewKey(record=get_key(session, key_id), token=token)


def bind(session: Session, key_id: str, kind: BindingKind, value: str) -> ApiKeyRecord:
    """Add a binding to key ``key_id`` (nothing if it has it already).

    Raises:
        UnknownApiKeyError: no such key. InvalidInputError: its role takes no such binding.
    """
    record = get_key(session, key_id)
    if kind not in BINDINGS_BY_ROLE[record.role]:
        raise InvalidInputError(kind, f"key {key_id} is an {record.role} key, which takes no {kind} binding")
    stored = _addresses([value])[0] if kind == "address" else value
    if stored not in (record.addresses if kind == "address" else record.assets):
        session.add(ApiKeyBinding(key_id=key_id, kind=kind, value=stored))
        session.flush()
    return get_key(session, key_id)


def get_key(session: Session, key_id: str) -> ApiKeyRecord:
    """The key ``key_id``, revoked or not.

    Raises:
        UnknownApiKeyError: there is none.
    """
    row = session.get(ApiKey, check_key_id(key_id))
    if row is None:
        raise UnknownApiKeyError(f"no API key has the id {key_id!r}")
    return _record(session, row)


def authenticate(session: Session, token: str) -> ApiKeyRecord | None:
    """The active key ``token`` is, or None (malformed, unknown, wrong secret, revoked)."""
    match = _TOKEN.match(token) if isinstance(token, str) else None
    if match is None:
        return None
    row = session.get(ApiKey, match.group(1))
    # Compared in constant time, although the secret has 256 bits: it costs nothing.
    if row is None or not hmac.compare_digest(row.secret_hash, hash_token(token)):
        return None
    if row.revoked_at is not None:
        return None
    return _record(session, row)


def list_keys(session: Session, *, after: str | None = None, limit: int = 50) -> list[ApiKeyRecord]:
    """Keys in id order, from the first id after ``after``, at most ``limit``."""
    query = select(ApiKey).order_by(ApiKey.key_id).limit(limit)
    if after is not None:
        query = query.where(ApiKey.key_id > after)
    return [_record(session, row) for row in session.scalars(query)]


def revoke_key(session: Session, key_id: str, *, now: int) -> ApiKeyRecord:
    """Revoke key ``key_id`` (a revoked key stays revoked; revoking it again changes nothing).

    Raises:
        UnknownApiKeyError: no such key.
        LastAdminKeyError: it is the last active admin key.
    """
    row = session.get(ApiKey, check_key_id(key_id))
    if row is None:
        raise UnknownApiKeyError(f"no API key has the id {key_id!r}")
    if row.revoked_at is None:
        if row.role == "admin" and _active_admins(session) <= 1:
            raise LastAdminKeyError(
                f"key {key_id} is the last active admin key: make another admin key first (POST /keys), "
                "or replace it from the data directory with `registry keys reset-admin`"
            )
        row.revoked_at = now
        session.flush()
    return _record(session, row)


def _active_admins(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(ApiKey)
            .where(ApiKey.role == "admin", ApiKey.revoked_at.is_(None))
        )
        or 0
    )


def bootstrap_admin(session: Session, *, now: int) -> NewKey | None:
    """The bootstrap admin key, made now if no admin key was ever made; None otherwise (it was shown
    once already: `reset_admin` replaces a lost one)."""
    ever = session.scalar(select(func.count()).select_from(ApiKey).where(ApiKey.role == "admin")) or 0
    if ever:
        return None
    return create_key(session, role="admin", label="bootstrap admin", now=now, bootstrap=True)


def reset_admin(session: Session, *, now: int) -> tuple[NewKey, int]:
    """Revoke every active admin key and make a new bootstrap admin key; returns it and how many admin
    keys were revoked."""
    revoked = 0
    for row in session.scalars(select(ApiKey).where(ApiKey.role == "admin", ApiKey.revoked_at.is_(None))):
        row.revoked_at = now
        revoked += 1
    session.flush()
    return create_key(
        session, role="admin", label="bootstrap admin (reset)", now=now, bootstrap=True
    ), revoked
