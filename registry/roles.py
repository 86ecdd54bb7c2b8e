"""The roles of the registry's contracts, by name, and the check that a sender holds one.

Regulated tokens (bonds, stocks) have ``admin`` (grants and revokes roles), ``supply`` (mint, burn,
coupons, dividends, splits, redemptions; the paying agent), ``enforcement`` (pause, freezes, forced
transfers, recovery) and ``compliance`` (the rules). An identity registry has ``admin`` and
``kyc-provider``; a cash token ``admin`` and ``minter``. Whoever issues an asset holds every role of
it; the admin grants them to other keys.
"""

from __future__ import annotations

from typing import Final, Literal

from eth_utils.crypto import keccak
from web3.contract import Contract

from registry.errors import InvalidInputError, RoleMissingError

RoleName = Literal["admin", "supply", "enforcement", "compliance", "kyc-provider", "minter"]
"""A role, as services and the API name it."""

ROLE_IDS: Final[dict[str, bytes]] = {
    "admin": bytes(32),
    "supply": keccak(text="SUPPLY_ROLE"),
    "enforcement": keccak(text="ENFORCEMENT_ROLE"),
    "compliance": keccak(text="COMPLIANCE_ROLE"),
    "kyc-provider": keccak(text="KYC_PROVIDER_ROLE"),
    "minter": keccak(text="MINTER_ROLE"),
}
"""Each role's ``bytes32`` id in the contracts (OpenZeppelin's AccessControl)."""

ROLE_POWERS: Final[dict[str, str]] = {
    "admin": "grant and revoke roles",
    "supply": "mint, burn and run the issuer's payments, splits and redemptions",
    "enforcement": "pause, freeze, force transfers and recover wallets",
    "compliance": "set the compliance rules",
    "kyc-provider": "register, update and revoke investors",
    "minter": "create cash",
}
"""What each role allows, for error messages."""

TOKEN_ROLES: Final = ("admin", "supply", "enforcement", "compliance")
"""The roles of a regulated token."""


def role_id(name: str, *, allowed: tuple[str, ...] = tuple(ROLE_IDS)) -> bytes:
    """The id of role ``name``.

    Raises:
        InvalidInputError: not one of ``allowed``.
    """
    if name not in allowed:
        raise InvalidInputError("role", f"the roles here are {', '.join(allowed)}; got {name!r}")
    return ROLE_IDS[name]


def role_name(role: bytes) -> str:
    """The name of role id ``role`` (its hex when unknown)."""
    for name, known in ROLE_IDS.items():
        if known == role:
            return name
    return "0x" + role.hex()


def require_role(contract: Contract, role: str, account: str, *, what: str) -> None:
    """Raise unless ``account`` holds ``role`` on ``contract`` (``what`` names the contract for people).

    Raises:
        RoleMissingError: it does not; nothing was sent.
    """
    if bool(contract.functions.hasRole(ROLE_IDS[role], account).call()):
        return
    raise RoleMissingError(
        f"{account} does not hold the {role} role on {what} ({contract.address}), which it needs to "
        f"{ROLE_POWERS[role]}; the {what}'s admin can grant it. Nothing was sent",
        role=role,
        account=account,
        contract=contract.address,
    )
